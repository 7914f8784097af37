"""Fixtures shared by the whole suite."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import keyring
from authcache.live import cache_state_reset
from authcache.shared import SharedDatabaseCache
from tests.api.helpers import TOKEN_URL
from tests.helpers import PASSWORD


def pytest_sessionstart(session) -> None:
    """Stop at once, naming the command, when the embedded default's secrets were never made."""
    from api.checks import secrets_check

    missing = secrets_check(None)
    if missing:
        pytest.exit(f"{missing[0].msg} (`make test` runs it first)", returncode=2)


def _caches_clear() -> None:
    for alias in settings.CACHES:
        # The shared cache without Redis is a table of the test database:
        # pytest-django empties it with the rest (the test's transaction is
        # rolled back, or the tables are flushed after a transactional test).
        if not isinstance(caches[alias], SharedDatabaseCache):
            caches[alias].clear()
    cache_state_reset()
    keyring.token_backend().verified.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Start every test with empty rate-limit counters and caches (Redis included), breaker closed.

    The per-process cache of verified access tokens (api/keyring.py) too.
    """
    _caches_clear()
    yield
    _caches_clear()


@pytest.fixture(autouse=True)
def _ratelimit_clock(monkeypatch):
    """Hold the rate limiter's clock at the test's start, so no window ends in the middle of a test.

    A limit window may end at any second; a test that counts up to a limit
    across that second would see its count restart. Tests of windows move
    the clock themselves (``limits.ratelimit._now``). Servers started as
    other processes keep the real clock.
    """
    start = int(time.time())
    monkeypatch.setattr("limits.ratelimit._now", lambda: start)


@pytest.fixture
def cache_round_trips(monkeypatch):
    """Return a context manager listing the cache calls made inside it, one entry per round trip.

    Only outermost calls count: a backend method that calls another (locmem's
    get_many calls get) is one round trip, as one MGET is for Redis.
    """
    import contextlib

    from compare.metering import CACHE_METHODS

    @contextlib.contextmanager
    def counting():
        calls: list[str] = []
        depth = [0]
        backend = caches["default"]
        with monkeypatch.context() as patch:
            for name in CACHE_METHODS:
                original = getattr(backend, name)

                def counted(*args, _original=original, _name=name, **kwargs):
                    if depth[0] == 0:
                        calls.append(_name)
                    depth[0] += 1
                    try:
                        return _original(*args, **kwargs)
                    finally:
                        depth[0] -= 1

                patch.setattr(backend, name, counted)
            # Raw client calls (the epoch sync, the invalidation pipeline) bypass the methods above.
            if hasattr(backend, "client"):
                client = backend.client.get_client(write=True)
                for name in ("eval", "pipeline", "get", "mget", "set", "incr", "delete"):
                    original = getattr(client, name)

                    def raw(*args, _original=original, _name=name, **kwargs):
                        if depth[0] == 0:
                            calls.append(f"redis.{_name}")
                        return _original(*args, **kwargs)

                    patch.setattr(client, name, raw)
            yield calls

    return counting


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


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def obtain(password):
    """obtain(user) -> {"access", "refresh"} through POST /api/auth/token/."""

    def do(user, client=None) -> dict:
        response = (client or APIClient()).post(
            TOKEN_URL, {"username": user.username, "password": password}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return do


@pytest.fixture
def bearer():
    """bearer(access) -> an APIClient sending that access token."""

    def make(access: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return make


@pytest.fixture
def clock(time_machine):
    """Freeze the time at a whole second for everything that reads it: the suite's one clock (time-machine).

    ``clock.move_to(instant)`` and ``clock.shift(timedelta)`` move it; ``timezone.now()`` reads it.
    """
    time_machine.move_to(timezone.now().replace(microsecond=0), tick=False)
    return time_machine
