"""The metered cost of a login (compare.metering), as the home page shows it; nothing else is metered."""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import resolve, reverse

import accounts.urls
from authcache.shared import shared_cache
from compare import metering
from compare.metering import LOGIN_CACHE_KEY, login_costs
from tests.api.helpers import COOKIE_LOGIN_URL, ME_URL, TOKEN_URL

pytestmark = pytest.mark.django_db


def test_each_kind_of_login_is_metered_into_the_shared_cache(client, api_client, user, password):
    login = {"username": "alice", "password": password}
    assert client.post(reverse("accounts:login"), login).status_code == 302
    assert api_client.post(TOKEN_URL, login, format="json").status_code == 200
    assert api_client.post(COOKIE_LOGIN_URL, login, format="json").status_code == 200

    costs = login_costs()
    assert set(costs) == {"session", "jwt-bearer", "jwt-cookie"}
    # Where every worker process reads it, not in this process's own cache.
    assert shared_cache().get(LOGIN_CACHE_KEY.format(kind="session")) == costs["session"]
    assert "accounts_session" in costs["session"]["written"]
    assert "api_tokenfamily" in costs["jwt-bearer"]["written"]
    for cost in costs.values():
        # The login limits' counters are cache calls in both modes (Redis, or
        # the shared cache's table), never counted as the login's own writes.
        assert cost["cache"]["add"] >= 2, cost
        assert not {table for table in cost["written"] if "cache" in table}, cost
        assert cost["writes"] == sum(cost["written"].values())


def test_a_failed_login_is_not_metered(client, user):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert login_costs() == {}


def _instrumentation_off() -> None:
    assert connection.execute_wrappers == []
    assert not [alias for alias in settings.CACHES if type(caches[alias]) is metering.CountedCache]


def test_a_plain_request_runs_no_metering_code(client, user, monkeypatch):
    def refuse():
        raise AssertionError("metered")

    monkeypatch.setattr(metering, "meter", refuse)
    assert not [name for name in settings.MIDDLEWARE if name.startswith("compare.")]
    client.force_login(user)
    assert client.get(ME_URL).status_code == 200
    assert client.get(reverse("accounts:profile")).status_code == 200
    data = {"first_name": "A", "last_name": "B", "email": "a@example.com"}
    assert client.post(reverse("accounts:profile"), data).status_code == 302
    # The profile view is served as its app wrote it: no wrapper of the comparison at all.
    profile = next(p.callback for p in accounts.urls.urlpatterns if p.name == "profile")
    assert resolve(reverse("accounts:profile")).func is profile
    # A login is what the meter is for: the spy above sees it.
    with pytest.raises(AssertionError, match="metered"):
        Client().post(reverse("accounts:login"), {"username": "alice", "password": "x"})


def test_a_login_leaves_nothing_installed(client, api_client, user, password):
    assert (
        client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"}).status_code == 200
    )
    _instrumentation_off()
    assert (
        client.post(reverse("accounts:login"), {"username": "alice", "password": password}).status_code == 302
    )
    _instrumentation_off()
    response = api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    _instrumentation_off()
    assert set(login_costs()) == {"session", "jwt-bearer"}


@pytest.fixture
def connections_kept():
    """Keep the test's database connection open when request_finished is sent, as the test client does."""
    request_finished.disconnect(close_old_connections)
    yield
    request_finished.connect(close_old_connections)


def test_a_login_is_metered_until_its_own_response_ends(user, connections_kept):
    # request_finished reaches every thread's receivers: another thread's
    # request ending leaves this login's meter running and records nothing.
    login = metering._LoginMetering("session")
    login.wait_for_response_end()
    assert type(caches["default"]) is metering.CountedCache
    other = threading.Thread(target=request_finished.send, kwargs={"sender": None})
    other.start()
    other.join()
    assert type(caches["default"]) is metering.CountedCache and login_costs() == {}
    request_finished.send(sender=None)
    _instrumentation_off()
    assert set(login_costs()) == {"session"}


def test_a_counted_backend_is_seen_as_the_backend_it_counts():
    backend = caches["default"]
    with metering.meter() as cost:
        counted = caches["default"]
        assert counted is not backend and isinstance(counted, type(backend))
        counted.set("metering:k", 1, 10)
        assert "metering:k" in counted and counted.get_many(["metering:k"]) == {"metering:k": 1}
    assert caches["default"] is backend
    assert cost.cache_calls == {"set": 1, "has_key": 1, "get_many": 1}


def test_a_login_whose_response_no_server_closed_is_dropped_by_the_next(rf, client, user, password):
    credentials = {"username": "alice", "password": password}
    token_view = resolve(TOKEN_URL).func
    request = rf.post(TOKEN_URL, credentials, content_type="application/json")
    assert token_view(request).status_code == 200  # called directly: no request_finished follows
    assert type(caches["default"]) is metering.CountedCache
    assert client.post(reverse("accounts:login"), credentials).status_code == 302
    _instrumentation_off()
    # The unfinished login's figures are incomplete: never shown.
    assert set(login_costs()) == {"session"}
