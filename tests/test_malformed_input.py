"""No request, however malformed, gets a 5xx: a sweep over every endpoint with hostile input.

Runs in both modes; on PostgreSQL a NUL byte reaching a query would raise
(ValueError: "A string literal cannot contain NUL"), so this also checks
that every path validates before it queries.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

JSON_ENDPOINTS = [
    "/api/auth/token/",
    "/api/auth/token/refresh/",
    "/api/auth/token/verify/",
    "/api/auth/token/revoke/",
    "/api/auth/cookie/login/",
    "/api/auth/cookie/refresh/",
    "/api/auth/cookie/logout/",
    "/api/auth/logout-all/",
    "/api/me/",
]

HOSTILE_VALUES = [
    "a\x00b",
    "x" * 20_000,
    "\u202eevil",
    "\ud800",  # lone surrogate: valid JSON escape, invalid Unicode
    None,
    12,
    1.5e308,
    True,
    [],
    ["alice"],
    {"$ne": ""},
    "",
    " ",
    "eyJhbGciOiJub25lIn0.e30.",
]

HOSTILE_BODIES = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"string"',
    b"123",
    b"\xff\xfe\x00garbage",
    b'{"username": "a", "username": "b", "password": "c"}',
    b"{" + b'"a":' * 500 + b"1" + b"}" * 500,
    json.dumps({"username": "alice", "password": "x", "extra": {"deep": [1, 2, {"x": None}]}}).encode(),
]


def _no_5xx(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_hostile_json_values(client, user, path, value):
    body = {"username": value, "password": value, "refresh": value, "token": value, "email": value}
    method = client.patch if path == "/api/me/" else client.post
    response = method(path, data=json.dumps(body), content_type="application/json")
    _no_5xx(response)
    if response.status_code >= 400:
        payload = response.json()
        assert payload["detail"] and payload["code"]


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=lambda b: repr(b[:20]))
@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded"]
)
def test_hostile_raw_bodies(client, path, body, content_type):
    _no_5xx(client.post(path, data=body, content_type=content_type))


@pytest.mark.parametrize(
    "cookie",
    ["a\x00b", "x" * 5000, "../../etc/passwd", "\u00e9t\u00e9", "' OR 1=1 --", "%00", ""],
    ids=repr,
)
@pytest.mark.parametrize("path", ["/", "/accounts/profile/", "/accounts/sessions/", "/api/me/"])
def test_hostile_cookies(path, cookie):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    client.cookies[settings.JWT_ACCESS_COOKIE] = cookie
    client.cookies[settings.CSRF_COOKIE_NAME] = cookie
    _no_5xx(client.get(path))


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password_reset/",
    ],
)
@pytest.mark.parametrize("value", ["a\x00b", "x" * 20_000, "\u202e", "", "  "], ids=repr)
def test_hostile_anonymous_forms(client, user, path, value):
    data = {
        "username": value,
        "password": value,
        "email": value,
        "password1": value,
        "password2": value,
        "remember_me": value,
    }
    response = client.post(path, data)
    _no_5xx(response)
    # Nothing was created from hostile input.
    assert get_user_model().objects.count() == 1


@pytest.mark.parametrize(
    "path",
    ["/accounts/profile/", "/accounts/password_change/", "/accounts/sessions/revoke-others/"],
)
@pytest.mark.parametrize("value", ["a\x00b", "x" * 20_000, "", "not-an-email"], ids=repr)
def test_hostile_logged_in_forms(client, user, path, value):
    client.force_login(user)
    data = {
        "first_name": value,
        "last_name": value,
        "email": value,
        "old_password": value,
        "new_password1": value,
        "new_password2": value,
    }
    _no_5xx(client.post(path, data))
    user.refresh_from_db()
    assert user.email == "alice@example.com"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/sessions/%00/revoke/",
        "/accounts/sessions/" + "f" * 32 + "/revoke/",
        "/accounts/sessions/" + "F" * 32 + "/revoke/",
        "/accounts/reset/%00/%00/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/" + "A" * 500 + "/x/",
        "/accounts/login/?next=%00",
        "/accounts/login/?next=//evil.example/",
        "/api/%00/",
        "/.well-known/jwks.json?x=%00",
    ],
)
def test_hostile_paths(client, user, path):
    client.force_login(user)
    _no_5xx(client.get(path))
    _no_5xx(client.post(path))


@pytest.mark.parametrize(
    "header",
    ["Bearer a\x00b", "Bearer " + "a" * 20_000, "Bearer \u00e9", "Basic YTpi", "Bearer", "Bearer a b c"],
    ids=lambda h: repr(h[:20]),
)
def test_hostile_authorization_headers(client, header):
    response = client.get("/api/me/", HTTP_AUTHORIZATION=header)
    _no_5xx(response)
    assert response.status_code == 401
