"""Every path that checks a password (admin login, password change) shares the one login limit."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/?next=/admin/"
TOKEN_URL = "/api/auth/token/"


@pytest.fixture
def staff(user_factory):
    return user_factory(username="root", email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def limit(settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    settings.LOGIN_RATELIMIT_IP = "100/m"
    return 3


def test_locked_out_by_the_api_the_admin_login_refuses_the_right_password(client, staff, password, limit):
    api = APIClient()
    for _ in range(limit):
        response = api.post(TOKEN_URL, {"username": "root", "password": "wrong"}, format="json")
        assert response.status_code == 401
    assert api.post(TOKEN_URL, {"username": "root", "password": password}, format="json").status_code == 429

    response = client.post(ADMIN_LOGIN, {"username": "root", "password": password})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many login attempts" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_admin_login_failures_count_and_lock_every_login_path(client, staff, password, limit):
    for _ in range(limit):
        assert client.post(ADMIN_LOGIN, {"username": "root", "password": "wrong"}).status_code == 200
    assert client.post(ADMIN_LOGIN, {"username": "root", "password": password}).status_code == 429
    response = APIClient().post(TOKEN_URL, {"username": "root", "password": password}, format="json")
    assert response.status_code == 429
    assert client.post("/accounts/login/", {"username": "root", "password": password}).status_code == 429


def test_admin_login_success_refunds_its_count(staff, password, limit):
    from django.test import Client

    for _ in range(limit + 2):
        c = Client()
        assert c.post(ADMIN_LOGIN, {"username": "root", "password": password}).status_code == 302


def test_non_staff_right_password_at_admin_counts_as_a_failure(client, user, password, limit):
    for _ in range(limit):
        assert client.post(ADMIN_LOGIN, {"username": "alice", "password": password}).status_code == 200
    assert client.post("/accounts/login/", {"username": "alice", "password": password}).status_code == 429


def test_wrong_current_passwords_at_password_change_lock_the_user(client, user, password, limit):
    client.force_login(user)
    data = {"new_password1": "An0ther-passphrase!", "new_password2": "An0ther-passphrase!"}
    for _ in range(limit):
        response = client.post("/accounts/password_change/", {"old_password": "guess", **data})
        assert response.status_code == 200
    response = client.post("/accounts/password_change/", {"old_password": password, **data})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    user.refresh_from_db()
    assert user.check_password(password)  # nothing changed
    # The same per-user counter: logins of that user are refused too.
    response = APIClient().post(TOKEN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 429


def test_right_current_password_refunds(client, user, password, limit):
    client.force_login(user)
    for _ in range(limit - 1):
        client.post(
            "/accounts/password_change/",
            {"old_password": "guess", "new_password1": "x", "new_password2": "x"},
        )
    new = "An0ther-passphrase!"
    response = client.post(
        "/accounts/password_change/", {"old_password": password, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    # Refunded: the failures so far stay below the limit for a login with the new password.
    assert (
        APIClient().post(TOKEN_URL, {"username": "alice", "password": new}, format="json").status_code == 200
    )
