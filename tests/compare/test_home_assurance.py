"""The comparison's assurance row: the session upgraded in place, the JWT frozen until replaced."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

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
