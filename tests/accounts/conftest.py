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


@pytest.fixture
def obtain_pair():
    """obtain_pair(user) -> the id of a new JWT login (token family) of ``user``."""
    from api.logins import token_pair_issue

    def do(user):
        return token_pair_issue(user=user).refresh.family_id

    return do
