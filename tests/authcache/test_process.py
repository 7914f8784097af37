"""The embedded default's per-process cache (authcache/process.py).

It must answer exactly as Django's local-memory cache does (the same
operations on both give the same results), while handing out kept values
as fresh copies: a caller that changes what it read never
changes what the next caller reads, across threads too.
"""

from __future__ import annotations

import random
import threading

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from authcache.live import cache_shared
from authcache.process import ProcessMemoryCache

VALUES = [
    None, 0, 7, "text", ("live@", (1, 2), {"id": 1, "name": "a"}), {"a": 1}, {"cart": [1, 2]}, [1, {"b": 2}],
]  # fmt: skip


@pytest.fixture
def pair(request):
    """Django's cache and ours, each with a store of its own, both empty.

    Small, so culling (least recently read first) is exercised too.
    """
    name = request.node.name
    ours = ProcessMemoryCache(f"ours-{name}", {"OPTIONS": {"MAX_ENTRIES": 6}})
    django = LocMemCache(f"django-{name}", {"OPTIONS": {"MAX_ENTRIES": 6}})
    ours.clear()
    django.clear()
    yield ours, django
    ours.clear()
    django.clear()


def test_the_embedded_default_uses_it():
    if cache_shared():
        pytest.skip("services mode: the default cache is Redis")
    assert isinstance(caches["default"], ProcessMemoryCache)
    assert settings.CACHES["default"]["BACKEND"] == "authcache.process.ProcessMemoryCache"


def test_it_answers_as_djangos_local_memory_cache(pair):
    ours, django = pair
    rng = random.Random(20261128)
    keys = [f"k{i}" for i in range(8)]
    for step in range(3000):
        op = rng.choice(["get", "get_many", "set", "add", "delete", "incr", "expire", "get_default", "clear"])
        key = rng.choice(keys)
        value = rng.choice(VALUES)
        version = rng.choice([None, 2])
        sample = rng.sample(keys, 4)
        results = []
        for cache in (ours, django):
            if op == "get":
                results.append(cache.get(key))
            elif op == "get_default":
                results.append(cache.get(key, "absent", version=version))
            elif op == "get_many":
                results.append(cache.get_many(sample))
            elif op == "set":
                results.append(cache.set(key, value, 60))
            elif op == "add":
                results.append(cache.add(key, value, 60))
            elif op == "delete":
                results.append(cache.delete(key))
            elif op == "incr":
                try:
                    results.append(cache.incr(key))
                except (ValueError, TypeError) as exc:
                    results.append(type(exc))
            elif op == "expire":
                results.append(cache.set(key, value, 0))  # timeout 0: expired at once
            elif op == "clear" and step % 500 == 0:
                results.append(cache.clear())
        if results:
            assert results[0] == results[1], (step, op, key, results)
    assert ours.get_many(keys) == django.get_many(keys)


def test_a_caller_that_changes_what_it_read_changes_nothing_for_the_next(pair):
    ours, _ = pair
    entry = ("live@", (1, 2), {"id": 1, "name": "a"})
    ours.set("plain", entry, 60)
    ours.set("nested", {"cart": [1, 2]}, 60)
    for _ in range(3):
        got = ours.get_many(["plain", "nested"])
        assert got == {"plain": entry, "nested": {"cart": [1, 2]}}
        got["plain"][2]["name"] = "changed"
        got["nested"]["cart"].append(3)
        single = ours.get("plain")
        assert single == entry
        single[2].clear()
    assert ours.get("plain") == entry
    assert ours.get("nested") == {"cart": [1, 2]}


def test_a_write_is_seen_by_the_next_read(pair):
    ours, _ = pair
    for i in range(50):
        ours.set("k", {"n": i}, 60)
        assert ours.get("k") == {"n": i}
        assert ours.get_many(["k"]) == {"k": {"n": i}}
    ours.delete("k")
    assert ours.get("k") is None
    assert ours.get_many(["k"]) == {}


def test_instances_of_one_name_share_one_store(request):
    # Django builds one instance per thread: every thread must see every write.
    name = f"shared-{request.node.name}"
    first, second = ProcessMemoryCache(name, {}), ProcessMemoryCache(name, {})
    other = ProcessMemoryCache(f"{name}-other", {})
    first.set("k", {"n": 1}, 60)
    assert second.get("k") == {"n": 1}
    assert other.get("k") is None
    second.clear()
    assert first.get("k") is None


def test_threads_never_read_a_torn_or_shared_value(pair):
    # Writers store {"n": i, "check": i}; readers change every dict they get.
    # A reader must always find n == check and never a key another reader added.
    ours, _ = pair
    ours.set("k", {"n": 0, "check": 0}, 60)
    errors: list[object] = []
    stop = threading.Event()

    def writer(offset: int) -> None:
        for i in range(offset, offset + 2000):
            ours.set("k", {"n": i, "check": i}, 60)
        stop.set()

    def reader() -> None:
        while not stop.is_set():
            for value in (ours.get("k"), ours.get_many(["k"]).get("k")):
                if value is None or value.get("n") != value.get("check") or "mine" in value:
                    errors.append(value)
                    return
                value["mine"] = True
                value["n"] = -1

    readers = [threading.Thread(target=reader) for _ in range(3)]
    threads = [threading.Thread(target=writer, args=(0,)), *readers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    final = ours.get("k")
    assert final == {"n": 1999, "check": 1999}


def test_keys_are_not_checked_for_memcached(pair):
    # Django's backend warns about a key memcached would refuse; this one, whose
    # keys never reach memcached, does not spend the check on every read.
    import warnings

    from django.core.cache.backends.base import CacheKeyWarning

    ours, django = pair
    key = "a key with spaces " + "x" * 300
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        django.set(key, 1, 60)
    assert any(issubclass(w.category, CacheKeyWarning) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        ours.set(key, 1, 60)
        assert ours.get(key) == 1
        assert ours.get_many([key]) == {key: 1}
