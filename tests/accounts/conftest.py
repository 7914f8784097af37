"""Fixtures of the session-side tests."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.fixture
def login(client, password):
    """Log in through the HTML form: login(user, remember_me=False, **extra) -> response."""

    def do(user, *, remember_me: bool = False, c=None, **extra):
        data = {"username": user.get_username(), "password": password}
        if remember_me:
            data["remember_me"] = "on"
        return (c or client).post(reverse("accounts:login"), data, **extra)

    return do
