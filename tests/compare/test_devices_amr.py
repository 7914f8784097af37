"""The device list shows how each login authenticated (its amr), sessions and JWT logins alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.mfahelpers import enrol, totp_code

pytestmark = pytest.mark.django_db


def _amr_cells(content: bytes) -> list[str]:
    return [m.decode() for m in re.findall(rb'data-amr="([^"]*)"', content)]


def test_each_login_shows_its_amr(clock, client, user, password):
    # A password-only session and JWT login, then a second factor and a two-step JWT login.
    assert (
        client.post(reverse("accounts:login"), {"username": "alice", "password": password}).status_code == 302
    )
    APIClient().post("/api/auth/token/", {"username": "alice", "password": password}, format="json")
    secret, _ = enrol(user)
    clock.shift(timedelta(seconds=30))
    first = APIClient().post("/api/auth/token/", {"username": "alice", "password": password}, format="json")
    second = APIClient().post(
        "/api/auth/token/mfa/",
        {"mfa_token": first.json()["mfa_token"], "code": totp_code(secret)},
        format="json",
    )
    assert second.status_code == 200
    page = client.get(reverse("devices"))
    assert page.status_code == 200
    cells = _amr_cells(page.content)
    assert cells.count("pwd") == 2  # this session and the first JWT login
    assert cells.count("pwd otp mfa") == 1
    assert b"password + one-time code (multi-factor)" in page.content


def test_sessions_page_shows_each_sessions_amr(client, user):
    client.force_login(user)
    other = Client()
    other.force_login(user)
    page = client.get(reverse("accounts:sessions"))
    assert _amr_cells(page.content) == ["pwd", "pwd"]
    assert b">password<" in page.content
