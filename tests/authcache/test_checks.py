"""The cache layer's system check (authcache/checks.py): a tunable it cannot use stops start-up."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from authcache.checks import tunables_check
from authcache.conf import DEFAULTS


def test_the_defaults_pass():
    assert tunables_check() == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("USER_SNAPSHOT_SECONDS", -600),  # a negative lifetime would fail every snapshot fill
        ("USER_SNAPSHOT_SECONDS", 1.5),
        ("JWT_VERIFIED_CACHE_SIZE", "4096"),
        ("NEAR_CACHE_MAX_ENTRIES", True),
        ("CACHE_EPOCH_SYNC_SECONDS", -0.5),
        ("NEAR_CACHE_SECONDS", None),
    ],
)
def test_a_value_it_cannot_use_is_named(settings, name, value):
    setattr(settings, name, value)
    [error] = tunables_check()
    assert error.id == "authcache.E001" and name in error.msg and repr(value) in error.msg
    with pytest.raises(SystemCheckError, match=name):
        call_command("check")


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_zero_and_whole_numbers_pass(settings, name):
    setattr(settings, name, 0)
    assert tunables_check() == []
    setattr(settings, name, 7)
    assert tunables_check() == []


def test_seconds_may_be_fractions(settings):
    settings.CACHE_BREAKER_SECONDS = 0.25
    settings.NEAR_CACHE_STALE_SECONDS = 2.5
    assert tunables_check() == []
