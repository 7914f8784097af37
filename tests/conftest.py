"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.cachesafe import cache_state_reset
from tests.helpers import PASSWORD


@pytest.fixture(autouse=True)
def _clear_cache():
    """Start every test with empty rate-limit counters and caches (Redis included), breaker closed."""
    for alias in settings.CACHES:
        caches[alias].clear()
    cache_state_reset()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()
    cache_state_reset()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user_factory(django_user_model):
    """Create users with a known password: user_factory(username="bob")."""
    counter = {"n": 0}

    def make(**kwargs):
        counter["n"] += 1
        n = counter["n"]
        kwargs.setdefault("username", f"user{n}")
        kwargs.setdefault("email", f"{kwargs['username']}@example.com")
        pw = kwargs.pop("password", PASSWORD)
        return django_user_model.objects.create_user(password=pw, **kwargs)

    return make


@pytest.fixture
def user(user_factory):
    return user_factory(username="alice", email="alice@example.com", first_name="Alice")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
