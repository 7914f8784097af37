"""The API's content negotiation answers exactly as DRF's, whatever the Accept header and query."""

from __future__ import annotations

import itertools

import pytest
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.negotiation import JSONContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "*/*;q=0.8",
    "text/html",
    "",
    "application/json, text/html",
    "APPLICATION/JSON",
    "application/vnd.oai.openapi",
]
QUERIES = ["", "format=json", "format=api", "format=yaml", "x=1"]
RENDERERS = [
    [JSONRenderer()],
    [JSONRenderer(), BrowsableAPIRenderer()],
    [OpenApiYamlRenderer(), OpenApiJsonRenderer()],
    [],
]


def _answer(negotiation, accept, query, renderers, suffix):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/api/me/?{query}" if query else "/api/me/", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except Exception as exc:  # the same refusal, or the parity fails
        return type(exc)
    return renderer, media_type


def test_every_answer_is_drfs():
    cases = list(itertools.product(ACCEPTS, QUERIES, RENDERERS, [None, "json"]))
    differ = [
        case
        for case in cases
        if _answer(JSONContentNegotiation(), *case) != _answer(DefaultContentNegotiation(), *case)
    ]
    assert differ == [], f"{len(differ)} of {len(cases)} answers differ from DRF's"


def test_json_clients_get_json_without_drfs_parsing(monkeypatch):
    def parsed(*args):
        raise AssertionError("parsed")

    monkeypatch.setattr(DefaultContentNegotiation, "select_renderer", parsed)
    renderer = JSONRenderer()
    for accept in (None, "*/*", "application/json"):
        assert _answer(JSONContentNegotiation(), accept, "", [renderer], None) == (
            renderer,
            "application/json",
        )
    assert _answer(JSONContentNegotiation(), "text/html", "", [renderer], None) is AssertionError


@pytest.mark.django_db
def test_the_api_refuses_what_it_cannot_send_and_answers_json_otherwise(user, obtain, bearer):
    client = bearer(obtain(user)["access"])
    answer = client.get("/api/me/")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    refused = client.get("/api/me/", HTTP_ACCEPT="text/html")
    assert refused.status_code == 406 and refused.json()["code"] == "not_acceptable"
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 200
