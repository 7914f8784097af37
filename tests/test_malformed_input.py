"""No request, however malformed, gets a 5xx: one case per kind of malformation per endpoint family.

`make fuzz` (schemathesis, fuzz/) sweeps every operation of the API schema
with generated input; this keeps, inside `make test`, the hand-picked hostile
cases it would find only by chance: a NUL byte (PostgreSQL raises on one in a
query, so this also checks that every path validates before it queries),
oversize and invalid-Unicode strings, wrong JSON types, broken bodies,
hostile cookies, paths and Authorization headers. Runs in both modes.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from api.models import TokenFamily

pytestmark = pytest.mark.django_db

# One endpoint per family of JSON input: credentials, a token in the body, the profile, a code.
JSON_FAMILIES = {
    "credentials": "/api/auth/token/",
    "token": "/api/auth/token/refresh/",
    "profile": "/api/me/",
    "second-factor": "/api/auth/token/mfa/",
}

# One value per kind of malformation.
HOSTILE_VALUES = {
    "nul": "a\x00b",
    "oversize": "x" * 20_000,
    "lone-surrogate": "\ud800",  # a valid JSON escape, invalid Unicode
    "null": None,
    "huge-number": 1.5e308,
    "list": ["alice"],
    "operator-object": {"$ne": ""},
    "blank": " ",
    "alg-none-token": "eyJhbGciOiJub25lIn0.e30.",
}

HOSTILE_BODIES = {
    "empty": b"",
    "truncated": b"{",
    "not-an-object": b"[]",
    "invalid-utf8": b"\xff\xfe\x00garbage",
    "duplicate-keys": b'{"username": "a", "username": "b", "password": "c"}',
    "deep-nesting": b"{" + b'"a":' * 500 + b"1" + b"}" * 500,
}


def _no_5xx(response) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])


def _send(client, user, family: str, body: bytes, content_type: str = "application/json"):
    """Send ``body`` to the family's endpoint; logged in for the profile, which is parsed only then."""
    if family == "profile":
        client.force_login(user)
        return client.patch(JSON_FAMILIES[family], data=body, content_type=content_type)
    return client.post(JSON_FAMILIES[family], data=body, content_type=content_type)


def _nothing_changed(user) -> None:
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("alice@example.com", "Alice")
    assert not TokenFamily.objects.exists()


@pytest.mark.parametrize("family", JSON_FAMILIES)
@pytest.mark.parametrize("value", HOSTILE_VALUES.values(), ids=HOSTILE_VALUES.keys())
def test_hostile_json_values(client, user, family, value):
    fields = ("username", "password", "refresh", "email", "first_name", "mfa_token", "code")
    response = _send(client, user, family, json.dumps(dict.fromkeys(fields, value)).encode())
    _no_5xx(response)
    assert response.status_code in (400, 401), response.content[:300]
    payload = response.json()
    assert payload["detail"] and payload["code"]
    _nothing_changed(user)


@pytest.mark.parametrize("family", JSON_FAMILIES)
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_raw_bodies(client, user, family, body):
    response = _send(client, user, family, body)
    _no_5xx(response)
    if response.status_code >= 400:
        assert response.json()["code"]
    else:  # an empty PATCH, or one with no profile field, is a valid no-op
        assert family == "profile" and response.status_code == 200
    _nothing_changed(user)


@pytest.mark.parametrize("family", JSON_FAMILIES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json(client, user, family, content_type):
    response = _send(client, user, family, b'{"username": "alice"}', content_type)
    _no_5xx(response)
    assert 400 <= response.status_code < 500 and response.json()["code"]
    _nothing_changed(user)


@pytest.mark.parametrize(
    "cookie",
    ["a\x00b", "x" * 5000, "\u00e9t\u00e9", "' OR 1=1 --", ""],
    ids=["nul", "oversize", "non-ascii", "injection", "empty"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/"), ("get", "/accounts/profile/"), ("get", "/api/me/"), ("post", "/api/auth/cookie/refresh/")],
)
def test_hostile_cookies(method, path, cookie):
    client = Client()
    names = (
        settings.SESSION_COOKIE_NAME,
        settings.JWT_ACCESS_COOKIE,
        settings.JWT_REFRESH_COOKIE,
        settings.CSRF_COOKIE_NAME,
    )
    for name in names:
        client.cookies[name] = cookie
    response = getattr(client, method)(path)
    _no_5xx(response)
    assert response.status_code != 200 or path == "/"  # never authenticated by a hostile cookie


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"])
@pytest.mark.parametrize("value", ["a\x00b", "x" * 20_000, "  "], ids=["nul", "oversize", "blank"])
def test_hostile_anonymous_forms(client, user, path, value):
    fields = ("username", "password", "email", "password1", "password2", "remember_me")
    _no_5xx(client.post(path, dict.fromkeys(fields, value)))
    # Nothing was created from hostile input, and nobody is logged in.
    assert get_user_model().objects.count() == 1
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)
    assert session is None or not session.value


@pytest.mark.parametrize(
    "path",
    ["/accounts/profile/", "/accounts/password_change/", "/accounts/sessions/revoke-others/"],
)
@pytest.mark.parametrize("value", ["a\x00b", "x" * 20_000, "not-an-email"], ids=["nul", "oversize", "type"])
def test_hostile_logged_in_forms(client, user, password, path, value):
    client.force_login(user)
    fields = ("first_name", "last_name", "email", "old_password", "new_password1", "new_password2")
    _no_5xx(client.post(path, dict.fromkeys(fields, value)))
    user.refresh_from_db()
    assert user.email == "alice@example.com" and user.check_password(password)


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
    ids=["nul", "oversize", "non-ascii", "other-scheme", "no-token", "too-many-parts"],
)
def test_hostile_authorization_headers(client, header):
    response = client.get("/api/me/", HTTP_AUTHORIZATION=header)
    _no_5xx(response)
    assert response.status_code == 401
