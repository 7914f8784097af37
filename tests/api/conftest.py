"""Fixtures of the JWT-side tests."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import COOKIE_LOGIN_URL


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
