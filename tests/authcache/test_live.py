"""Services mode: live entries of an older revocation epoch are replaced once, never over a revocation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache

from authcache import live as cachesafe
from tests.api.helpers import ME_URL

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        "redis" not in settings.CACHES["default"]["BACKEND"].lower(),
        reason="services mode: the Redis epoch (the embedded default has its own test)",
    ),
]


def test_entries_left_by_an_older_database_epoch_are_replaced_once(
    user, client, obtain, bearer, django_assert_num_queries
):
    token_client = bearer(obtain(user)["access"])
    client.force_login(user)
    for each in (token_client, client):
        assert each.get(ME_URL).status_code == 200
    cachesafe.cache_epoch_bump()  # a revocation that could not reach Redis
    for each in (token_client, client):
        assert each.get(ME_URL).status_code == 200  # re-read from the database once...
    for each in (token_client, client):
        with django_assert_num_queries(0):  # ...and cached again, not a miss until expiry
            assert each.get(ME_URL).status_code == 200


def test_a_revocation_marker_written_during_the_replacement_stays(monkeypatch):
    cache.set("t:entry", (cachesafe.LIVE, 1, "valid"), 60)
    real_decode = cache.client.decode

    def revoked_meanwhile(raw):
        # A revocation writes its marker between the read and the compare-and-set.
        cache.set("t:entry", "revoked", 60)
        return real_decode(raw)

    monkeypatch.setattr(cache.client, "decode", revoked_meanwhile)
    cachesafe.cache_write_live(key="t:entry", payload="valid", epoch=2, timeout=60, stale=True)
    monkeypatch.undo()
    assert cache.get("t:entry") == "revoked"


def test_only_a_stale_live_entry_is_replaced():
    cache.set("t:stale", (cachesafe.LIVE, 1, "old"), 60)
    cache.set("t:marker", "revoked", 60)
    for key in ("t:stale", "t:marker", "t:empty"):
        cachesafe.cache_write_live(key=key, payload="new", epoch=2, timeout=60, stale=True)
    assert cache.get("t:stale") == (cachesafe.LIVE, 2, "new")
    assert 0 < cache.ttl("t:stale") <= 60
    assert cache.get("t:marker") == "revoked"
    assert cache.get("t:empty") == (cachesafe.LIVE, 2, "new")
