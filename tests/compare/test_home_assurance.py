"""The comparison's assurance row: the session upgraded in place, the JWT frozen until replaced."""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta

import pytest
from django.conf import settings

from api.tokens import AccessToken
from compare.verifier_client import PAGE_TIMEOUT

pytestmark = pytest.mark.django_db


def _cell(content: bytes, testid: str) -> str:
    return re.search(rf'data-testid="{testid}">(.*?)</td>'.encode(), content, re.S)[1].decode()


def test_assurance_row_shows_both_sides_and_step_up_changes_only_the_session(clock, client, user, password):
    anonymous = client.get("/")
    assert "log in by session" in _cell(anonymous.content, "assurance-session")
    client.post("/accounts/login/", {"username": "alice", "password": password})
    client.post(
        "/api/auth/cookie/login/",
        {"username": "alice", "password": password},
        content_type="application/json",
    )
    page = client.get("/")
    assert "password" in _cell(page.content, "assurance-session")
    jwt_cell = _cell(page.content, "assurance-jwt")
    login_time = int(re.search(r"auth_time</code> (\d+)", jwt_cell)[1])
    clock.shift(timedelta(seconds=301))
    stale = client.get("/")
    assert "older than" in _cell(stale.content, "assurance-session")
    assert client.post("/accounts/reauthenticate/", {"password": password, "next": "/"}).status_code == 302
    after = client.get("/")
    session_cell = _cell(after.content, "assurance-session")
    assert "older than" not in session_cell
    assert f'data-auth-time="{login_time + 301}"' in session_cell
    # The JWT cookie still holds the token issued at login: its claims are frozen.
    assert f"auth_time</code> {login_time}," in _cell(after.content, "assurance-jwt")


def _jwt_cookie_login(client, password) -> int:
    response = client.post(
        "/api/auth/cookie/login/",
        {"username": "alice", "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200
    return AccessToken(client.cookies[settings.JWT_ACCESS_COOKIE].value)["auth_time"]


def _answers(content: bytes) -> dict[str, str]:
    cell = _cell(content, "assurance-jwt")
    return dict(re.findall(r'data-answer="(\w+)"[^>]*>(.*?)</span></li>', cell, re.S))


def test_assurance_row_shows_the_verifiers_reading_of_this_token(clock, client, user, password, verifier):
    auth_time = _jwt_cookie_login(client, password)
    page = client.get("/")
    answers = _answers(page.content)
    assert f"<code>auth_time</code> {auth_time}" in answers["instance"]
    assert answers["verifier"].startswith("accepted, <code>amr</code> password,")
    assert f"<code>auth_time</code> {auth_time}" in answers["verifier"]
    assert 'data-answer="verifier" data-accepted="true"' in page.content.decode()


def test_assurance_row_says_when_the_verifier_is_not_reachable(client, user, password, no_verifier):
    _jwt_cookie_login(client, password)
    page = client.get("/")
    assert page.status_code == 200
    assert _answers(page.content)["verifier"].startswith("not reachable")
    assert 'data-accepted="unknown"' in page.content.decode()


def test_a_verifier_that_hangs_costs_the_page_at_most_the_page_timeout(client, user, password, settings):
    _jwt_cookie_login(client, password)
    with socket.socket() as silent:
        # Accepts connections (the backlog) and never answers.
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        settings.VERIFIER_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.VERIFIER_TIMEOUT = 10.0
        started = time.monotonic()
        page = client.get("/")
        elapsed = time.monotonic() - started
    assert _answers(page.content)["verifier"].startswith(f"not reachable (no answer within {PAGE_TIMEOUT} s)")
    assert elapsed < PAGE_TIMEOUT + 2.0


def test_no_jwt_login_asks_no_verifier(client, user, settings):
    client.force_login(user)
    settings.VERIFIER_URL = "http://127.0.0.1:9"
    assert 'data-answer="verifier"' not in client.get("/").content.decode()
