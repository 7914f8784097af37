"""The near cache (authcache/near.py): a per-process copy of the hot path's Redis entries.

It must never serve what Redis no longer holds: a change made by another
process (a raw Redis client here, on its own connection, as another worker
or host would) is seen by the very next read; so is this process's own
write; a fill that raced a change is not kept; and when the tracking
connection is cut, or stalls without an error, the copy is dropped or
distrusted within NEAR_CACHE_STALE_SECONDS. The cross-process case over
real HTTP is tests/test_instances.py (revocation on one instance, refused on
the other at once).

The app runs in process against an own redis-server, directly or behind a
TCP proxy that can cut or stall its connections (tests/faults/conftest.py).
"""

from __future__ import annotations

import pickle
import time

import pytest
import redis
from django.core.cache import caches

from authcache.conf import setting as cache_setting
from authcache.live import EPOCH_KEY, cache_read_many
from authcache.near import near_cache
from compare.metering import meter

pytestmark = pytest.mark.django_db

KEY = "near:test"


@pytest.fixture
def other(redis_server):
    """Another process's connection to the same Redis, not through the proxy."""
    client = redis.Redis(port=redis_server.port)
    yield client
    client.close()


def _full(key: str = KEY) -> str:
    return caches["default"].make_key(key)


def _read(key: str = KEY):
    """Return (value, round trips, near reads) of one hot-path read of ``key``."""
    with meter() as cost:
        value = cache_read_many(keys=[key])[key].value
    return value, cost.cache_total, cost.near_reads


def _warm(key: str = KEY) -> object:
    """Read until the near cache answers (a fill may be refused once after a write); return the value."""
    for _ in range(20):
        value, trips, near = _read(key)
        if near == 1:
            assert trips == 0
            return value
    raise AssertionError("the near cache never answered")


def test_a_warm_read_makes_no_round_trip_and_shares_no_object(faulty_cache):
    caches["default"].set(KEY, {"user": 1}, 60)
    value, trips, near = _read()
    assert (value, trips, near) == ({"user": 1}, 1, 0)  # cold: one MGET, then kept
    first = _warm()
    second, trips, near = _read()
    assert (second, trips, near) == ({"user": 1}, 0, 1)
    assert first is not second  # a fresh copy per read: a caller may mutate its copy


@pytest.mark.parametrize(
    "value",
    [
        {"user": 1, "name": "a"},  # plain data: handed out as fresh copies
        ("tuple", 3, {"user": 1}),
        {"cart": [1, 2], "nested": {"a": 1}},  # anything else: unpickled per read
    ],
)
def test_a_caller_that_changes_what_it_read_changes_nothing_for_the_next(faulty_cache, value):
    import copy

    caches["default"].set(KEY, value, 60)
    expected = copy.deepcopy(value)
    for _ in range(3):
        got = _warm()
        assert got == expected
        target = got[2] if isinstance(got, tuple) else got
        target["user"] = "changed"
        for item in target.values():
            if isinstance(item, list | dict):
                item.clear()
    assert _warm() == expected


def test_a_change_by_another_process_is_seen_by_the_next_read(direct_cache, other):
    # Redis writes the invalidation to the tracking connection before it
    # answers the writer: the read that follows the write finds it. (Through
    # the proxy, whose threads forward each direction on their own, it could
    # still be on its way.)
    for i in range(200):
        caches["default"].set(KEY, f"old {i}", 60)
        assert _warm() == f"old {i}"
        other.set(_full(), pickle.dumps(f"new {i}"))
        assert _read()[0] == f"new {i}"
    _warm()
    other.delete(_full())
    assert _read()[0] is None


def test_an_expiry_in_redis_is_seen(direct_cache, other):
    caches["default"].set(KEY, "short", 60)
    assert _warm() == "short"
    other.pexpire(_full(), 20)
    time.sleep(0.2)  # Redis expires it (lazily on access or by its active cycle) and says so
    other.exists(_full())
    assert _read()[0] is None


def test_a_flush_by_another_process_drops_everything(direct_cache, other):
    caches["default"].set(KEY, "kept", 60)
    assert _warm() == "kept"
    other.flushdb()
    # A flush's invalidation can reach the tracking connection just after the
    # flush's own answer reached its writer: read until it has (each read
    # applies what arrived), well within the copy's own lifetime.
    deadline = time.monotonic() + 5
    value, trips, near = _read()
    while value is not None and time.monotonic() < deadline:
        value, trips, near = _read()
    assert (value, trips, near) == (None, 1, 0)


def test_this_process_sees_its_own_write_at_once(faulty_cache):
    for i in range(50):
        caches["default"].set(KEY, i, 60)
        assert _warm() == i
        caches["default"].set(KEY, i + 1000, 60)
        assert _read()[0] == i + 1000
    caches["default"].delete(KEY)
    assert _read()[0] is None


def test_own_writes_named_by_keyword_are_seen_at_once(faulty_cache):
    # Through the proxy, Redis's own message may come late: only the backend's
    # local drop makes these immediate, whatever the call names its keys.
    cache = caches["default"]
    cache.set(key=KEY, value=1, timeout=60)
    assert _warm() == 1
    cache.set(value=2, timeout=60, key=KEY)
    assert _read()[0] == 2
    assert _warm() == 2
    cache.set_many(data={KEY: 3}, timeout=60)
    assert _read()[0] == 3
    assert _warm() == 3
    cache.incr(key=KEY)
    assert _read()[0] == 4
    assert _warm() == 4
    cache.delete_many(keys=[KEY])
    assert _read()[0] is None


def test_a_fill_that_raced_a_change_is_not_kept(faulty_cache, other):
    caches["default"].set(KEY, "before", 60)
    near = near_cache("default")
    keys = [KEY, EPOCH_KEY]
    ticket = near.fill_ticket()
    # What a reader got from Redis just before another process changed the key ...
    values = {KEY: "before"}
    other.set(_full(), pickle.dumps("after"))
    time.sleep(0.05)  # ... whose invalidation reaches this process before the reader stores it
    near.fill(ticket, keys, values)
    assert near.get_many(keys) is None
    assert _read()[0] == "after"
    # A change of another key does not stop the fill.
    ticket = near.fill_ticket()
    other.set(_full("near:unrelated"), pickle.dumps(1))
    time.sleep(0.05)
    near.fill(ticket, keys, {KEY: "after"})
    assert near.get_many(keys) == {KEY: "after"}


def test_a_fill_is_refused_when_the_changes_since_its_read_outgrew_the_log(direct_cache, other):
    caches["default"].set(KEY, "before", 60)
    near = near_cache("default")
    keys = [KEY, EPOCH_KEY]
    ticket = near.fill_ticket()
    # More changes of other keys than the log keeps: it cannot tell whether KEY was among them.
    pipe = other.pipeline(transaction=False)
    for i in range(near.recent.maxlen + 10):
        pipe.set(_full(f"near:other:{i}"), b"x")
    pipe.execute()
    # Wait until every one of their invalidations has arrived and been applied.
    last = _full(f"near:other:{near.recent.maxlen + 9}")
    deadline = time.monotonic() + 10
    while near.fill_ticket() is None or all(key != last for _, key in near.recent):
        assert time.monotonic() < deadline, "the invalidations never arrived"
        time.sleep(0.01)
    near.fill(ticket, keys, {KEY: "before"})
    assert near.get_many(keys) is None
    # A fresh ticket after them fills as usual.
    ticket = near.fill_ticket()
    near.fill(ticket, keys, {KEY: "before"})
    assert near.get_many(keys) == {KEY: "before"}


def test_a_cut_connection_drops_the_copy_and_the_cache_comes_back(faulty_cache, settings, other):
    settings.NEAR_CACHE_STALE_SECONDS = 0.3
    caches["default"].set(KEY, "before", 60)
    assert _warm() == "before"
    faulty_cache.cut()
    other.set(_full(), pickle.dumps("changed during the cut"))
    # The cut closes the tracking connection: the copy is dropped, Redis is
    # unreachable, so the read misses (the caller then reads the database).
    assert _read()[0] is None
    faulty_cache.heal()
    time.sleep(max(cache_setting("CACHE_BREAKER_SECONDS"), cache_setting("NEAR_CACHE_STALE_SECONDS")) + 0.1)
    assert _warm() == "changed during the cut"  # re-subscribed, and nothing old was kept


def test_a_killed_tracking_connection_is_not_trusted_while_redis_still_answers(direct_cache, settings, other):
    # A long stale bound: the copy must be distrusted from the moment the
    # connection is lost, not once a reconnect is due.
    settings.NEAR_CACHE_STALE_SECONDS = 30
    caches["default"].set(KEY, "before", 60)
    assert _warm() == "before"
    # Only the tracking connection (a RESP2 subscriber) goes; reads still work.
    assert other.client_kill_filter(_type="pubsub") == 1
    assert _read()[0] == "before"
    other.set(_full(), pickle.dumps("changed by another process"))  # no invalidation can reach us now
    for _ in range(3):
        value, _trips, near = _read()
        assert (value, near) == ("changed by another process", 0)


def test_a_stalled_connection_is_distrusted_within_the_stale_bound(faulty_cache, settings, other):
    settings.NEAR_CACHE_STALE_SECONDS = 0.3
    caches["default"].set(KEY, "before", 60)
    assert _warm() == "before"
    faulty_cache.stall()  # no error anywhere: the invalidation is held on the way
    other.set(_full(), pickle.dumps("changed during the stall"))
    time.sleep(cache_setting("NEAR_CACHE_STALE_SECONDS") + 0.1)
    # No PONG since: the copy is not trusted; Redis cannot be read either (a
    # timeout), so the read misses and the caller reads the database.
    value, _trips, near = _read()
    assert (value, near) == (None, 0)
    faulty_cache.heal()
    time.sleep(max(cache_setting("CACHE_BREAKER_SECONDS"), cache_setting("NEAR_CACHE_STALE_SECONDS")) + 0.1)
    assert _warm() == "changed during the stall"


def test_entries_live_at_most_near_cache_seconds_and_their_number_is_bounded(faulty_cache, settings):
    settings.NEAR_CACHE_SECONDS = 0.2
    settings.NEAR_CACHE_MAX_ENTRIES = 6
    for i in range(10):
        caches["default"].set(f"near:{i}", i, 60)
        _warm(f"near:{i}")
        assert len(near_cache("default").entries) <= 6
    time.sleep(0.25)
    assert _read("near:9")[1:] == (1, 0)  # expired in the process: read from Redis


def test_a_full_copy_refilling_keys_it_holds_keeps_the_rest(faulty_cache, settings):
    # At the bound, only new keys count: the epoch, read with every key, is
    # always held, and a changed key read again takes its own place back.
    settings.NEAR_CACHE_MAX_ENTRIES = 6
    for i in range(5):
        caches["default"].set(f"near:{i}", i, 60)
        _warm(f"near:{i}")
    assert len(near_cache("default").entries) == 6  # five keys and the epoch
    caches["default"].set("near:0", "changed", 60)
    assert _warm("near:0") == "changed"
    assert _read("near:1") == (1, 0, 1)  # still in the copy


def test_off_when_near_cache_seconds_is_zero(faulty_cache, settings):
    settings.NEAR_CACHE_SECONDS = 0
    caches["default"].set(KEY, "v", 60)
    for _ in range(3):
        assert _read() == ("v", 1, 0)
    assert near_cache("default") is None


def test_a_forked_process_does_not_use_its_parents_connection(faulty_cache, monkeypatch):
    caches["default"].set(KEY, "v", 60)
    assert _warm() == "v"
    near = near_cache("default")
    parent_conn = near.conn
    monkeypatch.setattr("authcache.near.os.getpid", lambda: near.pid + 1)
    assert _read() == ("v", 1, 0)  # the copy went with the parent's pid; a new subscription is made
    assert near.conn is not parent_conn


def test_a_redis_that_refuses_to_track_is_logged_once_and_read_directly(direct_cache, caplog):
    # A Redis (or a proxy in front of it) without CLIENT TRACKING: the process
    # says so once and reads Redis on every request, as without a near cache.
    near = near_cache("default")
    real = near._connect

    def refused(now: float) -> None:
        raise redis.ResponseError("ERR unknown subcommand 'TRACKING'")

    near._connect = refused
    caches["default"].set(KEY, "v", 60)
    with caplog.at_level("WARNING", logger="authdemo.cache"):
        for _ in range(5):
            assert _read() == ("v", 1, 0)
            near.retry_at = 0.0  # ask again at once: still refused, not logged again
    assert sum("cannot subscribe" in r.getMessage() for r in caplog.records) == 1
    near._connect = real
    near.retry_at = 0.0
    assert _warm() == "v"


def test_threads_reading_while_another_process_writes_never_go_back(direct_cache, other):
    # Readers share the process's copy (and its fills race each other); every
    # read that starts after a write was acknowledged must see that write or
    # a later one, never an older value kept by a raced fill.
    import threading

    caches["default"].set(KEY, 0, 60)
    written = [0]
    stop = threading.Event()
    failures: list[tuple[int, object]] = []
    hits = []

    def reader() -> None:
        from django.db import connection

        try:
            seen = 0
            while not stop.is_set():
                floor = written[0]
                value, _trips, near = _read()
                seen += near
                if not isinstance(value, int) or value < floor:
                    failures.append((floor, value))
            hits.append(seen)
        finally:
            connection.close()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for version in range(1, 301):
            other.set(_full(), pickle.dumps(version))
            written[0] = version
            time.sleep(0.001)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert sum(hits) > 0  # the copy was used, not bypassed
