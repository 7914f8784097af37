"""Near cache: a per-process copy of the hot path's Redis entries, dropped the moment Redis says they changed.

Its invariant, its bounds and its cost are stated once, in docs/operations.md
("The near cache (services mode)"). Every write goes through NearRedisCache
or ``redis_write``, both of which drop the written keys from this process's
copy: no caller can write a key and forget the copy.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis.cache import RedisCache
from redis.exceptions import ResponseError

from authcache.conf import setting
from authcache.guard import failure_listeners
from authcache.values import Copier, handed_out, kept

logger = logging.getLogger("authdemo.cache")

R = TypeVar("R")
INVALIDATE_CHANNEL = b"__redis__:invalidate"
# How many recent invalidated keys a fill can check against; an older fill is refused.
_RECENT = 1024
# A Redis that refused to track (a command error, not an outage) is asked again after this long.
NEAR_CACHE_REFUSED_RETRY_SECONDS = 60.0


class NearCache:
    """The per-process copy for one Redis-backed Django cache alias."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.conn = None  # the tracking connection, subscribed to its own invalidations
        # full key -> (expires at, copier, value): the value as a private copy
        # when a copier can hand out fresh ones, else pickled; None: no such key.
        self.entries: dict[str, tuple[float, Copier | None, object]] = {}
        self.seq = 0  # invalidations applied so far (a flush counts as one)
        self.recent: deque[tuple[int, str | None]] = deque(maxlen=_RECENT)  # (seq, key; None: all)
        self.ping_sent = 0.0  # monotonic time the outstanding PING was sent (0: none)
        # When Redis last had sent us everything it had: the PING its last PONG answered was sent then.
        self.alive_at = float("-inf")
        self.retry_at = 0.0  # no reconnect before this monotonic time
        self.failing = False  # the last attempt to subscribe failed (logged once)
        cache = caches[alias]
        self.make_key = cache.make_key
        self.key_prefix = cache.key_prefix
        # django-redis keys are "<KEY_PREFIX>:<version>:<key>": track everything under the prefix.
        self.prefix = f"{cache.key_prefix}:" if cache.key_prefix else ""

    # --- the connection --------------------------------------------------------

    def _connect(self, now: float) -> None:
        cache = caches[self.alias]
        pool = cache.client.get_client(write=True).connection_pool
        # RESP2, whatever the pool negotiates: invalidations then arrive as
        # plain Pub/Sub messages on the connection they are redirected to.
        conn = pool.connection_class(**{**pool.connection_kwargs, "protocol": 2})
        try:
            conn.connect()
            conn.send_command("CLIENT", "ID")
            client_id = conn.read_response()
            tracking = ["CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST"]
            if self.prefix:
                tracking += ["PREFIX", self.prefix]
            conn.send_command(*tracking)
            conn.read_response()
            conn.send_command("SUBSCRIBE", INVALIDATE_CHANNEL)
            conn.read_response()
        except Exception:
            conn.disconnect()
            raise
        self.conn = conn
        self.failing = False
        self._flush()
        # Subscribed: every change from here on is announced to this connection.
        self.alive_at = now
        self.ping_sent = 0.0

    def _drop(self, now: float, exc: BaseException | None) -> None:
        if self.conn is not None:
            if exc is not None:
                logger.warning(
                    "near cache: tracking connection lost (%s: %s); reading Redis", type(exc).__name__, exc
                )
            with contextlib.suppress(Exception):  # already broken
                self.conn.disconnect()
        self.conn = None
        self._flush()
        self.retry_at = now + setting("NEAR_CACHE_STALE_SECONDS")

    def _connect_failed(self, now: float, exc: BaseException) -> None:
        # Redis refused a command (older than 6.0, or a proxy without CLIENT
        # TRACKING): say so once, and ask again only after a while. Unreachable:
        # the circuit breaker already says so; try again soon.
        refused = isinstance(exc, ResponseError)
        if not self.failing:
            logger.warning(
                "near cache: cannot subscribe to invalidations (%s: %s); every read goes to Redis",
                type(exc).__name__,
                exc,
            )
        self.failing = True
        self._flush()
        wait = NEAR_CACHE_REFUSED_RETRY_SECONDS if refused else setting("NEAR_CACHE_STALE_SECONDS")
        self.retry_at = now + wait

    def _flush(self) -> None:
        self.entries.clear()
        self.seq += 1
        self.recent.append((self.seq, None))

    def _invalidate(self, keys) -> None:
        self.seq += 1
        if keys is None:
            self.entries.clear()
            self.recent.append((self.seq, None))
            return
        for raw in keys:
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            self.entries.pop(key, None)
            self.recent.append((self.seq, key))

    def _drain(self, now: float) -> bool:
        """Apply every message received; keep the heartbeat going; return whether the copy is trusted."""
        if self.pid != os.getpid():  # a forked child: the parent's connection is not ours
            self.pid = os.getpid()
            self.conn = None
            self._flush()
        if self.conn is None:
            if now < self.retry_at:
                return False
            try:
                self._connect(now)
            except Exception as exc:  # any failure: read Redis, as without this cache
                self._connect_failed(now, exc)
                return False
        conn = self.conn
        try:
            while conn.can_read(timeout=0):
                message = conn.read_response()
                kind = message[0] if isinstance(message, list) and message else None
                if kind == b"message" and message[1] == INVALIDATE_CHANNEL:
                    self._invalidate(message[2])
                elif kind == b"pong" and self.ping_sent:
                    # Everything Redis sent before it handled the PING has been applied.
                    self.alive_at = self.ping_sent
                    self.ping_sent = 0.0
            stale = setting("NEAR_CACHE_STALE_SECONDS")
            if not self.ping_sent and now - self.alive_at >= stale / 4:
                conn.send_command("PING")
                self.ping_sent = now
        except Exception as exc:
            self._drop(now, exc)
            return False
        if now - self.alive_at > stale:
            # Not heard from recently enough: the connection may be cut without an error.
            if self.ping_sent and now - self.ping_sent > stale:
                self._drop(now, TimeoutError("no answer to PING"))
            return False
        return True

    # --- reads ------------------------------------------------------------------

    def get_many(self, keys: list[str]) -> dict[str, object] | None:
        """Return ``keys`` as Django's get_many() would (missing keys left out), or None: read Redis."""
        now = time.monotonic()
        with self.lock:
            if not self._drain(now):
                return None
            found = {}
            for key in keys:
                entry = self.entries.get(self.make_key(key))
                if entry is None or entry[0] <= now:
                    return None
                if entry[2] is not None:
                    found[key] = entry
        _thread.hits = getattr(_thread, "hits", 0) + 1
        # A fresh copy, or an unpickling of what this process pickled itself (authcache.values).
        return {key: handed_out(copier, value) for key, (_, copier, value) in found.items()}

    def fill_ticket(self) -> int | None:
        """Return the invalidation count to pass to fill() after the Redis read (None: do not fill)."""
        now = time.monotonic()
        with self.lock:
            if not self._drain(now):
                return None
            return self.seq

    def fill(self, ticket: int | None, keys: list[str], values: dict[str, object]) -> None:
        """Store what a Redis read returned for ``keys``, unless one of them changed since ``ticket``."""
        if ticket is None:
            return
        now = time.monotonic()
        full = {key: self.make_key(key) for key in keys}
        encoded = {key: kept(values[key]) if key in values else (None, None) for key in keys}
        with self.lock:
            if not self._drain(now):
                return
            if self.seq != ticket:
                if len(self.recent) == self.recent.maxlen and self.recent[0][0] > ticket:
                    return  # keys invalidated since the ticket may have left the log: refuse
                wanted = set(full.values())
                for seq, key in self.recent:
                    if seq > ticket and (key is None or key in wanted):
                        return
            new = sum(key not in self.entries for key in full.values())  # held ones take their own place
            if len(self.entries) + new > setting("NEAR_CACHE_MAX_ENTRIES"):
                self.entries.clear()
            expires = now + setting("NEAR_CACHE_SECONDS")
            for key in keys:
                self.entries[full[key]] = (expires, *encoded[key])

    def forget(self, keys: list[str] | None = None) -> None:
        """Drop ``keys`` (None: the whole copy) now: this process wrote them, or a cache failure was seen."""
        # Redis's message about our own write may trail the write's reply.
        with self.lock:
            if keys is None:
                self._flush()
            else:
                self._invalidate([self.make_key(key) for key in keys])


_near: dict[str, NearCache] = {}
_near_lock = threading.Lock()
_thread = threading.local()


def near_hits() -> int:
    """Return how many reads this thread has served from a near cache so far (the comparison page's meter)."""
    return getattr(_thread, "hits", 0)


def near_cache(alias: str) -> NearCache | None:
    """Return the near cache of ``alias`` when its backend keeps one (NearRedisCache), else None."""
    near = _near.get(alias)
    if near is None:
        if not setting("NEAR_CACHE_SECONDS") or not isinstance(caches[alias], NearRedisCache):
            return None
        with _near_lock:
            near = _near.get(alias) or _near.setdefault(alias, NearCache(alias))
    return near


def near_forget(*, alias: str | None, keys: list[str] | None = None) -> None:
    """Drop ``keys`` (None: everything) from this process's near cache of ``alias`` (None: of every alias)."""
    for name, near in list(_near.items()):
        if alias is None or name == alias:
            near.forget(keys)


def redis_write(
    *,
    alias: str,
    keys: list[str] | None,
    write: Callable[[object, Callable], R],
    changed: Callable[[R], bool] | None = None,
) -> R:
    """Return ``write(client, make_key)`` run on the Redis of ``alias``; ``keys`` (None: all) leave the copy.

    The only way to send Redis a raw command that writes: the keys it names
    are dropped from this process's near cache, unless ``changed(result)``
    says the command wrote nothing.
    """
    cache = caches[alias]
    result = None
    try:
        result = write(cache.client.get_client(write=True), cache.make_key)
        return result
    finally:
        if result is None or changed is None or changed(result):
            near_forget(alias=alias, keys=keys)


def near_cache_reset() -> None:
    """Forget every near cache (tests; a new process starts like this)."""
    with _near_lock:
        for near in _near.values():
            with near.lock:
                if near.conn is not None:
                    near.conn.disconnect()
        _near.clear()


# A cache failure: this process's copies may have missed invalidations.
failure_listeners.append(lambda: near_forget(alias=None))


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    # A test that points the cache elsewhere (or changes these settings) gets new near caches.
    if setting == "CACHES" or setting.startswith("NEAR_CACHE_"):
        near_cache_reset()


def _written(name: str, keys_of: Callable[[tuple, dict], list[str] | None]):
    """Wrap RedisCache.<name> so that the keys it writes leave this process's near cache at once."""
    base = getattr(RedisCache, name)

    @functools.wraps(base)
    def method(self, *args, **kwargs):
        try:
            return base(self, *args, **kwargs)
        finally:
            keys = keys_of(args, kwargs)
            for near in list(_near.values()):
                if near.key_prefix == self.key_prefix:
                    near.forget(keys)

    return method


def _first(args: tuple, kwargs: dict) -> list[str] | None:
    # Django's signature names it ``key``; a call that names none: drop the whole copy.
    key = args[0] if args else kwargs.get("key")
    return None if key is None else [key]


def _many(args: tuple, kwargs: dict) -> list[str] | None:
    # ``keys`` (delete_many) or ``data`` (set_many, a mapping: its keys).
    keys = args[0] if args else kwargs.get("keys", kwargs.get("data"))
    return None if keys is None else list(keys)


class NearRedisCache(RedisCache):
    """django-redis's cache whose writes also drop the written keys from this process's near cache at once."""

    set = _written("set", _first)
    add = _written("add", _first)
    delete = _written("delete", _first)
    touch = _written("touch", _first)
    incr = _written("incr", _first)
    decr = _written("decr", _first)
    set_many = _written("set_many", _many)
    delete_many = _written("delete_many", _many)
    clear = _written("clear", lambda args, kwargs: None)
