"""Fixtures of the session-side tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone


class Clock:
    """A controllable clock for the session engine (accounts.sessions._now)."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr("accounts.sessions._now", lambda: c.now)
    return c


@pytest.fixture
def login(client, password):
    """Log in through the HTML form: login(user, remember_me=False, **extra) -> response."""

    def do(user, *, remember_me: bool = False, c=None, **extra):
        data = {"username": user.get_username(), "password": password}
        if remember_me:
            data["remember_me"] = "on"
        return (c or client).post(reverse("accounts:login"), data, **extra)

    return do
