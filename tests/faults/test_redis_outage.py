"""Redis outage: authenticated requests keep working from the database, logins fail closed, and no
credential revoked during the outage is accepted again, whether Redis comes back empty or after a
partition during which it kept its (stale "live") entries.

The app runs in process against an own redis-server behind a cuttable TCP proxy (tests/faults/conftest.py).
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches
from django.test import Client

from authcache.conf import setting as cache_setting
from authcache.live import cache_state_reset
from authcache.models import RevocationEpoch

pytestmark = pytest.mark.django_db

ME = "/api/me/"
JSON = "application/json"
REFUSED = {"session": 401, "bearer": 401, "cookie": 401}


class Credentials:
    """One user logged in three ways: a session, a bearer pair, the JWT cookies."""

    def __init__(self, user, password) -> None:
        self.session = Client()
        self.session.force_login(user)
        pair = Client().post(
            "/api/auth/token/", {"username": user.username, "password": password}, content_type=JSON
        )
        assert pair.status_code == 200, pair.content
        self.access = pair.json()["access"]
        self.cookie = Client()
        response = self.cookie.post(
            "/api/auth/cookie/login/", {"username": user.username, "password": password}, content_type=JSON
        )
        assert response.status_code == 200, response.content

    def me(self) -> dict[str, int]:
        return {
            "session": self.session.get(ME).status_code,
            "bearer": Client().get(ME, HTTP_AUTHORIZATION=f"Bearer {self.access}").status_code,
            "cookie": self.cookie.get(ME).status_code,
        }


def _heal(proxy) -> None:
    proxy.heal()
    time.sleep(cache_setting("CACHE_BREAKER_SECONDS") + 0.1)  # the breaker lets the next call through


def _live_entries() -> int:
    """Return how many cache entries are live data (the stale copies a partition keeps)."""
    client = caches["default"].client.get_client()
    return sum(1 for key in client.keys("faults:*") if b"live@" in (client.get(key) or b""))


@pytest.fixture
def creds(faulty_cache, user, password):
    c = Credentials(user, password)
    assert c.me() == {"session": 200, "bearer": 200, "cookie": 200}  # warm: live entries cached
    return c


def test_authenticated_requests_read_the_database_during_the_outage(faulty_cache, creds, user):
    faulty_cache.cut()
    started = time.monotonic()
    assert creds.me() == {"session": 200, "bearer": 200, "cookie": 200}
    for _ in range(10):
        assert creds.me() == {"session": 200, "bearer": 200, "cookie": 200}
    # The breaker skips Redis: 33 requests cost far less than one timeout each.
    assert time.monotonic() - started < 33 * 0.5
    assert creds.session.get(ME).json()["auth"] == "session"
    page = creds.session.get("/accounts/sessions/")
    assert page.status_code == 200
    assert b"Current" in page.content or b"current" in page.content


def test_logins_fail_closed_with_503_during_the_outage(faulty_cache, user, password):
    faulty_cache.cut()
    body = {"username": user.username, "password": password}
    for path in ("/api/auth/token/", "/api/auth/cookie/login/"):
        response = Client().post(path, body, content_type=JSON)
        assert response.status_code == 503, (path, response.content)
        assert response.json() == {"detail": response.json()["detail"], "code": "service_unavailable"}
        assert int(response["Retry-After"]) > 0
    page = Client().post("/accounts/login/", body)
    assert page.status_code == 503
    assert page["Content-Type"].startswith("text/html")
    assert int(page["Retry-After"]) > 0
    assert b"Traceback" not in page.content
    # Recovery without a restart: logins work again.
    _heal(faulty_cache)
    assert Client().post("/api/auth/token/", body, content_type=JSON).status_code == 200


def test_health_reports_the_cache_as_the_degraded_part(faulty_cache):
    assert Client().get("/api/health/").json() == {"status": "ok", "database": "ok", "cache": "ok"}
    faulty_cache.cut()
    response = Client().get("/api/health/")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["cache"]) == ("degraded", "ok", "error")
    assert body["code"] == "service_unavailable"
    _heal(faulty_cache)
    assert Client().get("/api/health/").status_code == 200


def _revoke_all_during_outage(proxy, creds) -> None:
    proxy.cut()
    before = RevocationEpoch.objects.filter(pk=1).values_list("value", flat=True).first() or 0
    response = Client().post(
        "/api/auth/logout-all/", {}, content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {creds.access}"
    )
    assert response.status_code == 204
    # The cache could not take the revocation: the database epoch says so.
    assert RevocationEpoch.objects.get(pk=1).value > before
    assert creds.me() == REFUSED  # refused at once


def test_revocation_during_a_partition_holds_after_it_heals_with_data_kept(faulty_cache, creds):
    _revoke_all_during_outage(faulty_cache, creds)
    _heal(faulty_cache)
    # Redis kept the "live" session data and verdicts cached before the outage ...
    assert _live_entries() >= 3
    # ... and none of them is trusted: every revoked credential stays refused.
    assert creds.me() == REFUSED
    # So does a process that starts afresh and never saw the outage.
    cache_state_reset()
    assert creds.me() == REFUSED


def test_revocation_during_the_outage_holds_after_redis_restarts_empty(faulty_cache, creds, redis_server):
    _revoke_all_during_outage(faulty_cache, creds)
    redis_server.stop()
    redis_server.start()  # same port, no data
    _heal(faulty_cache)
    assert creds.me() == REFUSED


def test_a_new_login_after_recovery_is_cached_and_works(faulty_cache, creds, user, password):
    _revoke_all_during_outage(faulty_cache, creds)
    _heal(faulty_cache)
    fresh = Credentials(user, password)
    assert fresh.me() == {"session": 200, "bearer": 200, "cookie": 200}
    assert fresh.me() == {"session": 200, "bearer": 200, "cookie": 200}
