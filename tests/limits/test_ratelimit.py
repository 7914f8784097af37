"""The shared login rate limiter (limits.ratelimit), below the views that use it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.urls import reverse

from authcache.shared import shared_cache
from limits.checks import limits_check
from limits.ratelimit import (
    login_attempt_register,
    login_success_register,
    rate_parse,
    username_normalize,
)
from tests.livehttp import parallel

# The counters live in the shared cache: a table of the database without Redis.
pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    settings.LOGIN_RATELIMIT_IP = "100/m"
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


def _attempts(rf, n, *, username, ip="203.0.113.7"):
    results = []
    for _ in range(n):
        request = rf.post(reverse("accounts:login"), REMOTE_ADDR=ip)
        results.append(login_attempt_register(request, username=username))
    return results


class TestUsernameNormalize:
    @pytest.mark.parametrize(
        "raw",
        [
            "alice",
            "Alice",
            " ALICE ",
            "\talice\n",
            "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth letters (NFKC)
            "ALICE\u00a0",  # no-break space (NFKC, then stripped)
        ],
    )
    def test_variants_share_one_identity(self, raw):
        assert username_normalize(raw) == "alice"

    def test_ligature_and_sharp_s_fold(self):
        # NFKC turns the "ﬁ" ligature into "fi"; casefold turns "ß" into "ss".
        assert username_normalize("ﬁnn") == "finn"
        assert username_normalize("Straße") == username_normalize("STRASSE")

    @pytest.mark.parametrize("raw", [None, 42, ["alice"], {"u": 1}, b"alice"])
    def test_non_strings_have_no_identity(self, raw):
        assert username_normalize(raw) == ""


class TestUsernameCounter:
    def test_limits_after_the_rate(self, rf, limits):
        results = _attempts(rf, 4, username="alice")
        assert [r.limited for r in results] == [False, False, False, True]
        assert 0 < results[-1].retry_after <= 15 * 60 + 5

    def test_variants_share_the_counter(self, rf, limits):
        for name in ["alice", "Alice ", "\uff21\uff2c\uff29\uff23\uff25"]:
            assert not login_attempt_register(rf.post("/"), username=name).limited
        assert login_attempt_register(rf.post("/"), username=" aLiCe").limited

    def test_counter_is_per_username_not_per_ip(self, rf, limits):
        # Rotating IPs does not reset the username counter.
        for i in range(3):
            request = rf.post("/", REMOTE_ADDR=f"198.51.100.{i}")
            assert not login_attempt_register(request, username="alice").limited
        request = rf.post("/", REMOTE_ADDR="198.51.100.99")
        assert login_attempt_register(request, username="alice").limited

    def test_other_usernames_unaffected(self, rf, limits):
        _attempts(rf, 4, username="alice")
        assert not login_attempt_register(rf.post("/"), username="bob").limited

    def test_success_refunds_so_only_failures_count(self, rf, limits):
        for _ in range(10):
            request = rf.post("/")
            assert not login_attempt_register(request, username="alice").limited
            login_success_register(request, username="alice")
        # Ten successful logins left the counter at zero: three failures still allowed.
        assert [r.limited for r in _attempts(rf, 4, username="alice")] == [
            False,
            False,
            False,
            True,
        ]

    def test_refund_without_attempt_does_not_go_negative(self, rf, limits):
        login_success_register(rf.post("/"), username="alice")
        login_success_register(rf.post("/"), username="alice")
        assert [r.limited for r in _attempts(rf, 4, username="alice")][-1] is True

    def test_missing_username_only_counts_ip(self, rf, limits):
        for _ in range(10):
            assert not login_attempt_register(rf.post("/"), username="").limited
            assert not login_attempt_register(rf.post("/"), username=None).limited


class TestIpCounter:
    def test_ip_limit_across_usernames(self, rf, settings):
        settings.LOGIN_RATELIMIT_USERNAME = "100/15m"
        settings.LOGIN_RATELIMIT_IP = "5/m"
        results = [
            login_attempt_register(rf.post("/", REMOTE_ADDR="203.0.113.5"), username=f"u{i}")
            for i in range(6)
        ]
        assert [r.limited for r in results] == [False] * 5 + [True]
        other = login_attempt_register(rf.post("/", REMOTE_ADDR="203.0.113.6"), username="x")
        assert not other.limited

    def test_spoofed_forwarded_for_does_not_escape_ip_limit(self, rf, settings):
        settings.LOGIN_RATELIMIT_USERNAME = "100/15m"
        settings.LOGIN_RATELIMIT_IP = "3/m"
        settings.TRUSTED_PROXY_COUNT = 0
        results = [
            login_attempt_register(
                rf.post("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}"),
                username=f"u{i}",
            )
            for i in range(4)
        ]
        assert results[-1].limited


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_exceed_the_limit(rf, limits):
    """Counting is atomic (cache.add + cache.incr): no check-then-write window.

    Each thread has its own database connection, as each process has its own.
    """
    def attempt() -> bool:
        request = rf.post("/")
        try:
            return not login_attempt_register(request, username="alice").limited
        finally:
            connections.close_all()

    allowed = parallel([attempt] * 20)
    assert len(allowed) == 20
    assert sum(allowed) == 3


def test_counters_live_in_the_configured_cache(rf, limits):
    _attempts(rf, 4, username="alice")
    shared_cache().clear()
    # Clearing the cache (the rate-limit store) resets the counter: proves where it lives.
    assert not login_attempt_register(rf.post("/"), username="alice").limited


@pytest.mark.parametrize("method", ["add", "incr"])
def test_logins_fail_closed_when_the_shared_cache_table_fails(client, user, password, monkeypatch, method):
    """Without Redis the counters are a database table: its error is a 503, never an uncounted attempt."""
    from django.db import OperationalError

    from authcache.shared import SharedDatabaseCache, shared_cache

    if not isinstance(shared_cache(), SharedDatabaseCache):
        pytest.skip("the shared cache is Redis here (its outage: tests/faults/test_redis_outage.py)")
    login = {"username": "alice", "password": password}
    # The second attempt of a window increments (incr) what the first added.
    assert client.post(reverse("api:token"), login, content_type="application/json").status_code == 200

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(type(shared_cache()), method, locked)
    response = client.post(reverse("api:token"), login, content_type="application/json")
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    response = client.post(reverse("accounts:login"), login)
    assert (response.status_code, response["Retry-After"]) == (503, "5")


def test_signup_and_reset_fail_closed_when_the_counters_cannot_be_reached(client, password, monkeypatch):
    """An action limit that cannot count answers 503 and does nothing (no account, no mail)."""
    from django.contrib.auth import get_user_model
    from django.core import mail

    from authcache.shared import shared_cache

    def unreachable(*args, **kwargs):
        raise ConnectionError("connection refused")

    monkeypatch.setattr(type(shared_cache()), "add", unreachable)
    data = {"username": "newbie", "email": "n@example.com", "password1": password, "password2": password}
    response = client.post("/accounts/signup/", data)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert not get_user_model().objects.filter(username="newbie").exists()
    response = client.post("/accounts/password_reset/", {"email": "n@example.com"})
    assert response.status_code == 503
    assert mail.outbox == []


class TestRateParse:
    @pytest.mark.parametrize(
        ("rate", "parsed"),
        [
            ("5/15m", (5, 900)),
            ("30/m", (30, 60)),
            ("10/h", (10, 3600)),
            ("3/2d", (3, 172800)),
            ("0/s", (0, 1)),
        ],
    )
    def test_rates(self, rate, parsed):
        assert rate_parse(rate) == parsed

    @pytest.mark.parametrize(
        "rate", ["", "5", "5/", "5/0m", "5/15x", "-1/m", "five/m", "5/m ", None, 5, (5, 60)]
    )
    def test_bad_rates_are_configuration_errors(self, rate):
        if rate == "5/m ":
            assert rate_parse(rate) == (5, 60)  # surrounding blanks of an environment value are fine
            return
        with pytest.raises(ImproperlyConfigured):
            rate_parse(rate)


class TestCounter:
    def test_retry_after_is_the_rest_of_the_window(self, rf, settings):
        settings.LOGIN_RATELIMIT_USERNAME = "1/15m"
        settings.LOGIN_RATELIMIT_IP = "100/m"
        first = login_attempt_register(rf.post("/"), username="alice")
        refused = login_attempt_register(rf.post("/"), username="alice")
        assert (first.limited, refused.limited) == (False, True)
        assert 1 <= refused.retry_after <= 15 * 60
        assert refused.retry_after == refused.lock_seconds

    def test_a_new_window_starts_a_new_count(self, rf, settings, monkeypatch):
        settings.LOGIN_RATELIMIT_USERNAME = "1/m"
        settings.LOGIN_RATELIMIT_IP = "100/m"
        now = [1_800_000_000]
        monkeypatch.setattr("limits.ratelimit._now", lambda: now[0])
        assert not login_attempt_register(rf.post("/"), username="alice").limited
        refused = login_attempt_register(rf.post("/"), username="alice")
        assert refused.limited
        now[0] += refused.retry_after
        assert not login_attempt_register(rf.post("/"), username="alice").limited

    def test_a_changed_rate_starts_fresh(self, rf, settings):
        settings.LOGIN_RATELIMIT_IP = "100/m"
        settings.LOGIN_RATELIMIT_USERNAME = "1/15m"
        _attempts(rf, 2, username="alice")
        settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
        assert not login_attempt_register(rf.post("/"), username="alice").limited


class TestLimitsCheck:
    def test_the_project_passes(self):
        assert limits_check() == []

    def test_bad_rates_and_prefix_are_reported(self, settings):
        settings.LOGIN_RATELIMIT_IP = "lots"
        settings.LOGIN_RATELIMIT_DEVICE = "5/0h"
        settings.RATELIMIT_IPV6_PREFIX = 200
        ids = sorted(message.id for message in limits_check())
        assert ids == ["limits.E001", "limits.E001", "limits.E002"]

    def test_a_prefixed_device_cookie_that_is_not_secure_is_an_error(self, settings):
        settings.DEVICE_COOKIE_SECURE = False
        settings.DEVICE_COOKIE_NAME = "__Host-device"
        assert [message.id for message in limits_check()] == ["limits.E004"]
        settings.DEVICE_COOKIE_NAME = "device"
        assert limits_check() == []

    def test_a_per_process_shared_cache_is_an_error(self, settings):
        settings.CACHES = {
            **settings.CACHES,
            "perprocess": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "ownperprocess": {"BACKEND": "authcache.process.ProcessMemoryCache"},
            "plaindb": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"},
        }
        for alias in ("perprocess", "ownperprocess", "plaindb"):
            settings.SHARED_CACHE_ALIAS = alias
            assert [message.id for message in limits_check()] == ["limits.E003"]
