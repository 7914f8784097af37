"""Every error under /api/ is JSON with detail and code (404, 405, 500)."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/", "/api/nope/", "/api/auth/", "/api/auth/token/extra/", "/api/me/../x"]
)
def test_unknown_api_paths_are_404_json(api_client, path):
    assert_error(api_client.get(path), 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_api_path_is_json_under_debug_too(api_client, settings, debug):
    # DEBUG=1 (make run) bypasses handler404; the /api/ catch-all does not.
    settings.DEBUG = debug
    assert_error(api_client.get("/api/nope/"), 404, "not_found")


@pytest.mark.parametrize("debug", [True, False])
def test_post_without_trailing_slash_is_404_json_not_500(api_client, settings, debug):
    # Under DEBUG, APPEND_SLASH raises RuntimeError for a POST it cannot redirect.
    settings.DEBUG = debug
    response = api_client.post("/api/auth/token", {"username": "a", "password": "b"}, format="json")
    assert_error(response, 404, "not_found")


def test_non_api_404_stays_html(client):
    response = client.get("/definitely-not-here/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/auth/token/refresh/"), ("put", "/api/auth/cookie/login/"), ("delete", "/api/health/")],
)
def test_wrong_method_is_405_json(api_client, method, path):
    assert_error(getattr(api_client, method)(path), 405, "method_not_allowed")


def test_unexpected_error_in_a_view_is_500_json(api_client, monkeypatch, caplog):
    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("api.logins.token_verify", boom)
    response = api_client.post("/api/auth/token/verify/", {"token": "x"}, format="json")
    body = assert_error(response, 500, "server_error")
    assert "boom" not in body["detail"]
    assert any("Unhandled" in r.getMessage() for r in caplog.records)


def test_root_handler500_answers_json_under_api(rf):
    from api.exceptions import handler500

    response = handler500(rf.get("/api/whatever/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert handler500(rf.get("/accounts/x/"))["Content-Type"].startswith("text/html")


def test_oversized_body_is_413_json(api_client):
    body = '{"username": "' + "a" * 3_000_000 + '", "password": "x"}'
    response = api_client.post("/api/auth/token/", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")


def test_disallowed_host_is_400_json_under_api(client):
    assert_error(client.get("/api/me/", HTTP_HOST="evil.example"), 400, "bad_request")
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_root_handler403_answers_json_under_api(rf):
    from api.exceptions import handler403

    response = handler403(rf.get("/api/x/"))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_an_unsafe_request_with_cookies_to_an_unknown_api_path_is_a_json_404_not_a_csrf_page():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "x" * 32
    for method in ("patch", "delete", "post"):
        response = getattr(client, method)("/api/auth/passkeys/%C2%84/", content_type="application/json")
        assert response.status_code == 404, method
        assert response.json()["code"] == "not_found"
