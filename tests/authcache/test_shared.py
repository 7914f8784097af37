"""The shared cache without Redis (authcache.shared): add and incr atomic across connections.

Every test runs on the suite's own database (SQLite embedded, PostgreSQL in
services mode) through an alias of the database cache, so both databases'
locking is exercised. Each thread has its own database connection, as each
worker process has its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connections
from django.utils import timezone

from authcache.models import SharedCacheEntry

ALIAS = "atomic-db"
THREADS = 8


@pytest.fixture
def db_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        ALIAS: {
            "BACKEND": "authcache.shared.SharedDatabaseCache",
            "LOCATION": SharedCacheEntry._meta.db_table,
            "OPTIONS": {"MAX_ENTRIES": 5},
        },
    }
    return caches[ALIAS]


def _in_threads(call: Callable[[], object]) -> list:
    """Run ``call`` in THREADS threads released together; return their results."""
    results, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run():
        try:
            barrier.wait(timeout=30)
            outcome = call()
            with lock:
                results.append(outcome)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def _expire(key: str, cache) -> None:
    SharedCacheEntry.objects.filter(cache_key=cache.make_key(key)).update(
        expires=timezone.now() - timedelta(seconds=10)
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_increments_are_never_lost(db_cache):
    per_thread = 25
    assert db_cache.add("counter", 0, 60)

    def increments():
        return [db_cache.incr("counter") for _ in range(per_thread)]

    seen = [value for values in _in_threads(increments) for value in values]
    assert db_cache.get("counter") == THREADS * per_thread
    # Every increment saw its own count: no two wrote the same value.
    assert sorted(seen) == list(range(1, THREADS * per_thread + 1))


@pytest.mark.django_db(transaction=True)
def test_parallel_add_succeeds_for_exactly_one_caller(db_cache):
    assert _in_threads(lambda: db_cache.add("fresh", 1, 60)).count(True) == 1
    # Over an expired row as well: one caller replaces it, the others see it taken.
    db_cache.set("old", 41, 60)
    _expire("old", db_cache)
    assert _in_threads(lambda: db_cache.add("old", 1, 60)).count(True) == 1
    assert db_cache.get("old") == 1


@pytest.mark.django_db
def test_incr_and_decr_of_a_missing_or_expired_key_fail(db_cache):
    with pytest.raises(ValueError):
        db_cache.incr("absent")
    db_cache.set("gone", 5, 60)
    _expire("gone", db_cache)
    with pytest.raises(ValueError):
        db_cache.decr("gone")
    db_cache.set("kept", 5, 60)
    assert (db_cache.incr("kept", 3), db_cache.decr("kept"), db_cache.get("kept")) == (8, 7, 7)


@pytest.mark.django_db
def test_culling_deletes_expired_rows_only(db_cache):
    # MAX_ENTRIES is 5: a live counter is never dropped to make room.
    for n in range(12):
        assert db_cache.add(f"live{n}", n, 60)
    db_cache.set("stale", 1, 60)
    _expire("stale", db_cache)
    db_cache.set("one-more", 1, 60)
    assert db_cache.get_many([f"live{n}" for n in range(12)]) == {f"live{n}": n for n in range(12)}
    assert not SharedCacheEntry.objects.filter(cache_key=db_cache.make_key("stale")).exists()


@pytest.mark.django_db
def test_a_read_of_an_expired_row_misses_and_deletes_nothing(db_cache):
    # Deleting on read could remove a row another process re-added meanwhile.
    db_cache.set("key", "old", 60)
    _expire("key", db_cache)
    assert db_cache.get("key") is None
    assert db_cache.get_many(["key"]) == {}
    assert db_cache.has_key("key") is False
    assert SharedCacheEntry.objects.filter(cache_key=db_cache.make_key("key")).exists()
    assert db_cache.add("key", "new", 60) is True  # the expired row is replaced
    assert db_cache.get("key") == "new"
    assert db_cache.touch("key", 60) is True
    # An explicit delete deletes a live row.
    assert db_cache.delete("key") is True
    assert db_cache.get("key") is None
    assert db_cache.delete("key") is False
    db_cache.set_many({"a": 1, "b": 2}, 60)
    assert db_cache.get_many(["a", "b"]) == {"a": 1, "b": 2}
    db_cache.delete_many(["a", "b"])
    assert db_cache.get_many(["a", "b"]) == {}


@pytest.mark.django_db
def test_it_is_the_shared_cache_without_redis(settings):
    from authcache.shared import SharedDatabaseCache, shared_cache

    if settings.SHARED_CACHE_ALIAS == "default":
        pytest.skip("services mode: Redis is the shared cache")
    assert isinstance(shared_cache(), SharedDatabaseCache)
