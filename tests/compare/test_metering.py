"""The metered cost of a login (compare.metering), as the comparison page shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.sharedcache import shared_cache
from compare.metering import LOGIN_CACHE_KEY, login_costs
from tests.api.helpers import COOKIE_LOGIN_URL, TOKEN_URL

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
