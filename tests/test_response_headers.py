"""Site-wide response headers: private answers not stored, a strict CSP, reset links from SITE_URL."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _directives(response, header: str = "Cache-Control") -> set[str]:
    return {part.strip().lower() for part in response.get(header, "").split(",") if part.strip()}


def _vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}


def _assert_private(response) -> None:
    assert {"private", "no-store"} <= _directives(response), response.get("Cache-Control")
    assert "public" not in _directives(response)
    assert "cookie" in _vary(response), response.get("Vary")


@pytest.mark.parametrize(
    "path", ["/", "/accounts/profile/", "/accounts/sessions/", "/accounts/password_change/"]
)
def test_authenticated_pages_are_private_and_not_stored(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    _assert_private(response)


def _pair(user, password) -> dict:
    response = APIClient().post(
        "/api/auth/token/", {"username": user.username, "password": password}, format="json"
    )
    assert response.status_code == 200
    return response.json()


def test_me_by_bearer_is_private_and_varies_on_authorization_and_cookie(user, password):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_pair(user, password)['access']}")
    response = client.get("/api/me/")
    assert response.status_code == 200
    _assert_private(response)
    assert "authorization" in _vary(response)


def test_me_by_session_is_private(client, user):
    client.force_login(user)
    response = client.get("/api/me/")
    assert response.json()["auth"] == "session"
    _assert_private(response)
    assert "authorization" in _vary(response)


def test_me_by_access_cookie_is_private(user, password):
    client = APIClient()
    login = client.post(
        "/api/auth/cookie/login/", {"username": user.username, "password": password}, format="json"
    )
    assert login.status_code == 200
    response = client.get("/api/me/")
    assert response.json()["auth"] == "jwt-cookie"
    _assert_private(response)


def test_anonymous_me_still_varies_on_credentials(db):
    """A cache must not answer the next request, which may carry a cookie, with this 401."""
    response = APIClient().get("/api/me/")
    assert response.status_code == 401
    assert {"cookie", "authorization"} <= _vary(response)
    assert "no-store" in _directives(response)


def test_form_login_response_is_private(client, user, password):
    response = client.post("/accounts/login/", {"username": "alice", "password": password})
    assert response.status_code == 302
    _assert_private(response)


def test_anonymous_public_page_is_not_marked_private(client, db):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert "private" not in _directives(response)


# --- Content Security Policy -----------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/api/docs/", "/api/docs/?script", "/api/me/", "/admin/login/"]
)
def test_every_answer_has_a_strict_content_security_policy(client, db, path):
    response = client.get(path)
    assert response.status_code in (200, 401), (path, response.status_code)
    policy = {
        name: value
        for name, _, value in (
            part.strip().partition(" ") for part in response["Content-Security-Policy"].split(";")
        )
    }
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]


def test_the_policy_is_django_csps_and_follows_the_settings(client, settings):
    from csp.utils import build_policy

    assert client.get("/api/me/")["Content-Security-Policy"] == build_policy()
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]}}
    response = client.get("/api/me/")
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["Content-Security-Policy-Report-Only"] == build_policy(report_only=True)
    assert "img-src 'self'" in response["Content-Security-Policy-Report-Only"]
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "EXCLUDE_URL_PREFIXES": ["/api/"], "DIRECTIVES": {"img-src": ["'self'"]}
    }  # fmt: skip
    assert "Content-Security-Policy-Report-Only" not in client.get("/api/me/")


def test_only_djangos_debug_pages_go_without_the_policy(client, db, settings):
    assert "Content-Security-Policy" in client.get("/no-such-page/")
    settings.DEBUG = True  # the technical 404 page has inline styles
    assert "Content-Security-Policy" not in client.get("/no-such-page/")
    assert "Content-Security-Policy" in client.get("/api/me/")


def test_docs_page_has_no_inline_script_or_style_and_links_back_to_the_site(client, db):
    response = client.get("/api/docs/")
    html = response.content.decode()
    # Every <script> has a src; no <style> element, no style attribute.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html and "style=" not in html
    assert 'src="/api/docs/?script=' in html
    assert 'href="/"' in html
    script = client.get("/api/docs/?script")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


# --- Password-reset link from SITE_URL --------------------------------------------


def test_reset_link_comes_from_site_url_not_from_the_host_header(client, user, settings):
    settings.SITE_URL = "https://auth.example.com"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "auth.example.com"]
    response = client.post(
        "/accounts/password_reset/", {"email": "alice@example.com"}, HTTP_HOST="127.0.0.1:6666"
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert re.search(r"^https://auth\.example\.com/accounts/reset/\S+/$", message.body, re.M), message.body
    assert "6666" not in message.body and "6666" not in message.subject
