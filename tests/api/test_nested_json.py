"""A deeply nested JSON body is a 400 parse_error on every endpoint that parses JSON, never a 500."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from api.parsers import MAX_DEPTH
from tests.api.helpers import (
    COOKIE_LOGIN_URL,
    COOKIE_LOGOUT_URL,
    COOKIE_REFRESH_URL,
    LOGOUT_ALL_URL,
    ME_URL,
    REFRESH_URL,
    REVOKE_URL,
    TOKEN_URL,
    VERIFY_URL,
    assert_error,
    csrf_header,
)

pytestmark = pytest.mark.django_db

BODIES = {
    "list-2000": b"[" * 2000 + b"]" * 2000,
    "object-2000": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "list-over-limit": b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
    "member-over-limit": b'{"username":' + b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5) + b"}",
}


@pytest.fixture
def clients(user, obtain, bearer, cookie_login):
    """Return a client per endpoint, authenticated the way the endpoint needs."""
    anonymous = APIClient()
    authed = bearer(obtain(user)["access"])
    cookies = cookie_login(user)
    return {
        TOKEN_URL: (anonymous, {}),
        REFRESH_URL: (anonymous, {}),
        VERIFY_URL: (anonymous, {}),
        COOKIE_LOGIN_URL: (anonymous, {}),
        REVOKE_URL: (authed, {}),
        LOGOUT_ALL_URL: (authed, {}),
        ME_URL: (authed, {}),
        COOKIE_REFRESH_URL: (cookies, csrf_header(cookies)),
        COOKIE_LOGOUT_URL: (cookies, csrf_header(cookies)),
    }


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize(
    "path",
    [
        TOKEN_URL,
        REFRESH_URL,
        VERIFY_URL,
        REVOKE_URL,
        COOKIE_LOGIN_URL,
        COOKIE_REFRESH_URL,
        COOKIE_LOGOUT_URL,
        LOGOUT_ALL_URL,
        ME_URL,
    ],
)
def test_deep_nesting_is_a_parse_error(clients, path, body, caplog):
    client, headers = clients[path]
    method = client.patch if path == ME_URL else client.post
    with caplog.at_level(logging.WARNING):
        response = method(path, body, content_type="application/json", **headers)
    assert_error(response, 400, "parse_error")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_nesting_at_the_limit_still_parses(user, password, api_client):
    # Depth is counted from the top-level object: an extra member nested to the
    # limit is accepted (and ignored), so the limit refuses only the abusive.
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    body = f'{{"username": "{user.username}", "password": "{password}", "x": {inner}}}'
    response = api_client.post(TOKEN_URL, body, content_type="application/json")
    assert response.status_code == 200, response.content
