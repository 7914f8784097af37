"""Fixtures of the JWT-side tests."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

TOKEN_URL = "/api/auth/token/"
REFRESH_URL = "/api/auth/token/refresh/"
VERIFY_URL = "/api/auth/token/verify/"
REVOKE_URL = "/api/auth/token/revoke/"
COOKIE_LOGIN_URL = "/api/auth/cookie/login/"
COOKIE_REFRESH_URL = "/api/auth/cookie/refresh/"
COOKIE_LOGOUT_URL = "/api/auth/cookie/logout/"
LOGOUT_ALL_URL = "/api/auth/logout-all/"
ME_URL = "/api/me/"


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Assert a JSON error body with detail and code (and the given status and code)."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert isinstance(body.get("code"), str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def obtain(password):
    """obtain(user) -> {"access", "refresh"} through POST /api/auth/token/."""

    def do(user, client=None) -> dict:
        response = (client or APIClient()).post(
            TOKEN_URL, {"username": user.username, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return do


@pytest.fixture
def bearer():
    """bearer(access) -> an APIClient sending that access token."""

    def make(access: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return make


@pytest.fixture
def cookie_login(password):
    """cookie_login(user) -> an APIClient (CSRF enforced) holding the token cookies and csrftoken."""

    def do(user) -> APIClient:
        client = APIClient(enforce_csrf_checks=True)
        response = client.post(
            COOKIE_LOGIN_URL, {"username": user.username, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        return client

    return do


def csrf_header(client) -> dict:
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}
