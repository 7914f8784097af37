"""One wording of a refused login on every path, with a human duration, and a warning before the last try."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from limits.ratelimit import LoginThrottle, duration_human

pytestmark = pytest.mark.django_db

MESSAGE = re.compile(r"Too many login attempts\. Try again in about \d+ (seconds?|minutes?)\.")
WARNING = re.compile(r"1 attempt left before this username is locked for about \d+ (seconds?|minutes?)\.")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "about 1 second"),
        (40, "about 40 seconds"),
        (60, "about 1 minute"),
        (12 * 60 + 10, "about 12 minutes"),
        (15 * 60, "about 15 minutes"),
        (3 * 3600, "about 3 hours"),
        (0, "about 1 second"),
    ],
)
def test_duration_human(seconds, text):
    assert duration_human(seconds) == text


def test_one_message_function():
    assert (
        LoginThrottle(limited=True, retry_after=40).message
        == "Too many login attempts. Try again in about 40 seconds."
    )
    assert LoginThrottle(limited=False, retry_after=0, remaining=1, lock_seconds=900).warning == (
        "1 attempt left before this username is locked for about 15 minutes."
    )
    assert LoginThrottle(limited=False, retry_after=0, remaining=2, lock_seconds=900).warning == ""


@pytest.fixture
def locked(settings, user_factory):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    settings.LOGIN_RATELIMIT_IP = "100/m"
    return user_factory(username="root", email="root@example.com", is_staff=True)


def _fail(n):
    for _ in range(n):
        APIClient().post("/api/auth/token/", {"username": "root", "password": "wrong"}, format="json")


def test_every_path_words_the_refusal_alike(client, locked, password):
    _fail(3)
    pages = [
        client.post("/accounts/login/", {"username": "root", "password": password}),
        client.post("/admin/login/?next=/admin/", {"username": "root", "password": password}),
    ]
    for page in pages:
        assert page.status_code == 429
        assert MESSAGE.search(page.content.decode()), page.content.decode()
    for url in ("/api/auth/token/", "/api/auth/cookie/login/"):
        response = APIClient().post(url, {"username": "root", "password": password}, format="json")
        assert response.status_code == 429
        assert MESSAGE.fullmatch(response.json()["detail"]), response.json()
        assert int(response["Retry-After"]) >= 1


def test_html_login_warns_before_the_last_attempt(client, locked):
    first = client.post("/accounts/login/", {"username": "root", "password": "wrong"})
    assert not WARNING.search(first.content.decode())
    second = client.post("/accounts/login/", {"username": "root", "password": "wrong"})
    assert second.status_code == 200
    assert WARNING.search(second.content.decode()), second.content.decode()
    # The same for a username without an account: the warning reveals nothing.
    client.post("/accounts/login/", {"username": "ghost", "password": "wrong"})
    ghost = client.post("/accounts/login/", {"username": "ghost", "password": "wrong"})
    assert WARNING.search(ghost.content.decode())


def test_api_warns_before_the_last_attempt_keeping_detail_and_code(locked):
    _fail(1)
    response = APIClient().post("/api/auth/token/", {"username": "root", "password": "wrong"}, format="json")
    body = response.json()
    assert response.status_code == 401
    assert body["code"] == "invalid_credentials"
    assert body["detail"] == "No active account found with the given credentials"
    assert WARNING.fullmatch(body["warning"])


def test_admin_login_warns_before_the_last_attempt(client, locked):
    _fail(1)
    page = client.post("/admin/login/?next=/admin/", {"username": "root", "password": "wrong"})
    assert page.status_code == 200
    assert WARNING.search(page.content.decode())
