"""Live entries: cached "valid" verdicts trusted only while no revocation since their write says otherwise.

The rules (docs/operations.md, "Recovery: the revocation epoch" and "The
embedded revocation log") are enforced here, behind one interface whose
strategy is chosen once per cache alias (``strategy()``):

- ``SharedStrategy`` (Redis): one epoch for every entry, a Redis key read
  in the same round trip as the entries, raised from the database after a
  revocation Redis could not take.
- ``EmbeddedStrategy`` (a per-process cache): a revocation log that every
  process of the host appends the invalidated keys to after the commit; an
  entry is trusted while no line written after its stamp names its key.

Callers read with ``cache_read_many`` and write with ``cache_write_live``,
``revocation_publish`` and ``cache_invalidate``; none writes a key raw.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from typing import NamedTuple

from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.dispatch import receiver
from django_redis.cache import RedisCache

from authcache.conf import setting, stamp_file
from authcache.guard import (
    DEFAULT,
    CacheUnavailable,
    breaker,
    breaker_open,
    cache_call,
    cache_guard,
    failure_listeners,
)
from authcache.models import RevocationEpoch
from authcache.near import near_cache, near_cache_reset, near_forget, redis_write

logger = logging.getLogger("authdemo.cache")

EPOCH_KEY = "authz:revocation-epoch"
LIVE = "live@"
# The revocation log's line for "every key".
_ALL = b"*"


class CacheRead(NamedTuple):
    """An entry as read: ``value`` is None on a miss, a stale live entry or an unavailable cache."""

    value: object
    epoch: object  # stamp for writing the entry back; None: do not write (cache unavailable)
    live: bool = False  # value is the payload of a live entry still trusted
    stale: bool = False  # a live entry no longer trusted was found (value is None)


def _is_live(entry: object) -> bool:
    return isinstance(entry, tuple) and len(entry) == 3 and entry[0] == LIVE


def _entry_read(entry: object, epoch: object, trusted) -> CacheRead:
    if _is_live(entry):
        if trusted(entry[1]):
            return CacheRead(value=entry[2], epoch=epoch, live=True)
        return CacheRead(value=None, epoch=epoch, stale=True)
    return CacheRead(value=entry, epoch=epoch)


# --- Services mode: one epoch in Redis, raised from the database --------------

# Keep the greater of the stored and the given epoch, atomically.
_EPOCH_MAX_LUA = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return wanted
end
return current
"""

# Replace the value at KEYS[1] only if it is still exactly ARGV[1] (the raw
# bytes that were read); compare and write in one atomic step.
_REPLACE_IF_SAME_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


class SharedStrategy:
    """Live entries in Redis, shared by every process (module docstring)."""

    shared = True

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.synced_at = float("-inf")  # monotonic time the last epoch sync started
        self.epoch_seen: int | None = None  # the last epoch read; a safe stamp for fresh writes

    def _database_epoch_bump(self) -> None:
        seen = self.epoch_seen or 0
        with transaction.atomic():
            if not RevocationEpoch.objects.filter(pk=1).update(value=Greatest(F("value"), seen) + 1):
                RevocationEpoch.objects.create(pk=1, value=seen + 1)
        # This process adopts it at once (a failure forces a sync); the others at their next sync.
        breaker.failed_at = time.monotonic()

    def _sync(self) -> None:
        """Raise the Redis epoch to the database's when this process has reason to doubt it."""
        now = time.monotonic()
        if breaker_open():
            raise CacheUnavailable("cache skipped: circuit breaker open")
        if breaker.failed_at < self.synced_at and now - self.synced_at < setting("CACHE_EPOCH_SYNC_SECONDS"):
            return
        database_epoch = RevocationEpoch.objects.filter(pk=1).values_list("value", flat=True).first() or 0
        with cache_guard():
            epoch = int(
                redis_write(
                    alias=self.alias,
                    keys=[EPOCH_KEY],
                    write=lambda client, key: client.eval(_EPOCH_MAX_LUA, 1, key(EPOCH_KEY), database_epoch),
                    changed=lambda found: int(found) != self.epoch_seen,
                )
            )
        # The start time: a failure seen by another thread meanwhile forces a new sync.
        self.synced_at = now
        self.epoch_seen = epoch

    def read_many(self, keys: list[str]) -> dict[str, CacheRead]:
        self._sync()
        wanted = [*keys, EPOCH_KEY]
        near = near_cache(self.alias)
        values = near.get_many(wanted) if near is not None else None
        if values is None:
            ticket = near.fill_ticket() if near is not None else None
            values = cache_call("get_many", wanted, alias=self.alias)
            if near is not None:
                near.fill(ticket, wanted, values)
        epoch = int(values.get(EPOCH_KEY) or 0)
        self.epoch_seen = epoch
        return {key: _entry_read(values.get(key), epoch, epoch.__eq__) for key in keys}

    def epoch_hint(self) -> object:
        if self.epoch_seen is None:  # a fresh process: learn the epoch (one round trip, once)
            with contextlib.suppress(CacheUnavailable):
                self._sync()
        return self.epoch_seen

    def write_live(self, *, key: str, entry: tuple, timeout: int, add: bool, stale: bool) -> None:
        if add and stale:
            # Only if the key still holds that stale entry: a revocation
            # marker written meanwhile is never overwritten.
            self._replace_stale(key=key, entry=entry, timeout=timeout)
            return
        cache_call("add" if add else "set", key, entry, timeout, alias=self.alias)

    def _replace_stale(self, *, key: str, entry: tuple, timeout: int) -> None:
        cache = caches[self.alias]

        def write(client, make_key) -> None:
            raw = client.get(make_key(key))
            if raw is None:
                cache.add(key, entry, timeout)
                return
            found = cache.client.decode(raw)
            if _is_live(found) and found[1] != entry[1] and timeout and timeout > 0:
                encoded = cache.client.encode(entry)
                client.eval(_REPLACE_IF_SAME_LUA, 1, make_key(key), raw, encoded, int(timeout * 1000))

        with cache_guard():
            redis_write(alias=self.alias, keys=[key], write=write)

    def publish(self, entries: dict[str, object], timeout: int) -> None:
        try:
            cache_call("set_many", entries, timeout, alias=self.alias)
        except CacheUnavailable:
            self._database_epoch_bump()
            logger.warning("revocation not published to the cache: revocation epoch raised in the database")

    def invalidate(self, keys: list[str], *, counter: str | None = None) -> None:
        self._invalidate(keys, counter)
        transaction.on_commit(lambda: self._invalidate(keys, counter))

    def _invalidate(self, keys: list[str], counter: str | None) -> None:
        # DEL the keys and INCR ``counter`` (kept 2 x USER_SNAPSHOT_SECONDS) in one pipeline.
        seconds = setting("USER_SNAPSHOT_SECONDS") * 2

        def write(client, make_key) -> None:
            pipe = client.pipeline(transaction=True)
            if counter is not None:
                pipe.incr(make_key(counter))
                pipe.expire(make_key(counter), seconds)
            pipe.delete(*[make_key(key) for key in keys])
            pipe.execute()

        try:
            with cache_guard():
                redis_write(alias=self.alias, keys=[*keys, *([counter] if counter else [])], write=write)
        except CacheUnavailable:
            self.epoch_bump()

    def epoch_bump(self) -> None:
        self._database_epoch_bump()


# --- Embedded mode: the revocation log -----------------------------------------


class EmbeddedStrategy:
    """Live entries in a per-process cache, kept honest by the host's revocation log (module docstring)."""

    shared = False
    # Keys remembered as invalidated; past this, everything older is distrusted at once.
    MAX_REMEMBERED = 100_000

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.lock = threading.Lock()
        self.inode: int | None = None
        self.applied = 0  # offset of the first log byte not applied yet
        self.floor = 0  # entries stamped below this offset are distrusted
        self.dropped: dict[str, int] = {}  # key -> end offset of the last line naming it

    def position(self) -> tuple[int, int]:
        """Return the log's (inode, size) after applying every complete line this process has not seen."""
        try:
            st = os.stat(stamp_file())
            inode, size = st.st_ino, st.st_size
        except FileNotFoundError:
            inode, size = 0, 0
        if inode != self.inode or size < self.applied:
            with self.lock:  # a new log (first look, deleted, replaced): nothing older is trusted
                self.inode, self.applied, self.floor = inode, size, size
                self.dropped.clear()
        elif size > self.applied:
            self._apply(size)
        return inode, size

    def _apply(self, size: int) -> None:
        with self.lock:
            if size <= self.applied:
                return
            try:
                with open(stamp_file(), "rb") as log:
                    log.seek(self.applied)
                    chunk = log.read(size - self.applied)
            except FileNotFoundError:
                return
            offset = self.applied
            for line in chunk.splitlines(keepends=True):
                if not line.endswith(b"\n"):
                    break  # a line still being written: applied with the next read
                offset += len(line)
                names = line.split()
                if _ALL in names or len(self.dropped) + len(names) > self.MAX_REMEMBERED:
                    self.floor = offset
                    self.dropped.clear()
                    continue
                for name in names:
                    self.dropped[name.decode()] = offset
            self.applied = offset

    def _trusted(self, key: str, stamp: object) -> bool:
        if not (isinstance(stamp, tuple) and len(stamp) == 2 and stamp[0] == self.inode):
            return False
        return stamp[1] >= max(self.floor, self.dropped.get(key, 0))

    def read_many(self, keys: list[str]) -> dict[str, CacheRead]:
        epoch = self.position()
        values = cache_call("get_many", keys, alias=self.alias)
        return {
            key: _entry_read(values.get(key), epoch, functools.partial(self._trusted, key)) for key in keys
        }

    def epoch_hint(self) -> object:
        return self.position()

    def write_live(self, *, key: str, entry: tuple, timeout: int, add: bool, stale: bool) -> None:
        if add and stale:
            # The stale entry blocks add() for good otherwise. A marker deleted
            # by this race belongs to a revocation whose log line already
            # makes this entry untrusted.
            cache_call("delete", key, alias=self.alias)
        cache_call("add" if add else "set", key, entry, timeout, alias=self.alias)

    def _log(self, names: list[bytes]) -> None:
        path = stamp_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write() on an O_APPEND file: lines of parallel writers never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b" ".join(names) + b"\n")
        finally:
            os.close(fd)

    def _log_after_commit(self, keys: list[str]) -> None:
        # After the commit: a process that reacts at once reads the committed change.
        names = [key.encode() for key in keys]
        transaction.on_commit(lambda: self._log(names))

    def publish(self, entries: dict[str, object], timeout: int) -> None:
        cache_call("set_many", entries, timeout, alias=self.alias)
        self._log_after_commit(list(entries))

    def invalidate(self, keys: list[str], *, counter: str | None = None) -> None:
        cache_call("delete_many", keys, alias=self.alias)
        self._log_after_commit(keys)

    def epoch_bump(self) -> None:
        transaction.on_commit(lambda: self._log([_ALL]))


@functools.cache
def strategy(alias: str = DEFAULT) -> SharedStrategy | EmbeddedStrategy:
    """Return the strategy of ``alias``, chosen once from its backend: Redis is shared, else per process."""
    return SharedStrategy(alias) if isinstance(caches[alias], RedisCache) else EmbeddedStrategy(alias)


def cache_state_reset() -> None:
    """Forget breaker, epoch and near-cache state (tests; a new process starts like this)."""
    breaker.reset()
    strategy.cache_clear()
    near_cache_reset()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting == "CACHES":
        strategy.cache_clear()


# A cache failure: this process's near copies may have missed invalidations.
failure_listeners.append(lambda: near_forget(alias=None))


# --- The interface --------------------------------------------------------------


def cache_read(*, key: str, alias: str = DEFAULT) -> CacheRead:
    """Return the entry at ``key``: a revocation marker as stored, a live entry's payload if still trusted."""
    return cache_read_many(keys=[key], alias=alias)[key]


def cache_read_many(*, keys: list[str], alias: str = DEFAULT) -> dict[str, CacheRead]:
    """Return ``cache_read`` of every key, in one round trip."""
    try:
        return strategy(alias).read_many(keys)
    except CacheUnavailable:
        return {key: CacheRead(value=None, epoch=None) for key in keys}


def cache_epoch_hint(*, alias: str = DEFAULT) -> object:
    """Return a stamp for a live entry about to be created; call it before the database write."""
    return strategy(alias).epoch_hint()


def cache_write_live(
    *,
    key: str,
    payload: object,
    epoch: object,
    timeout: int,
    add: bool = True,
    stale: bool = False,
    alias: str = DEFAULT,
) -> None:
    """Cache ``payload`` as valid under ``epoch`` (add: never over a revocation marker); skip on failure.

    ``stale``: the read found an untrusted live entry there, which add()
    alone would never replace.
    """
    if epoch is None:
        return
    with contextlib.suppress(CacheUnavailable):
        entry = (LIVE, epoch, payload)
        strategy(alias).write_live(key=key, entry=entry, timeout=timeout, add=add, stale=stale)


def revocation_publish(*, entries: dict[str, object], timeout: int, alias: str = DEFAULT) -> None:
    """Write revocation markers in every process's view; call inside the revocation's transaction."""
    if entries:
        strategy(alias).publish(entries, timeout)


def cache_invalidate(*, keys: list[str], counter: str | None = None, alias: str = DEFAULT) -> None:
    """Drop ``keys`` in every process, now and again after the commit; the epoch moves if that fails.

    ``counter``: a Redis key INCRemented with the deletion (services mode),
    which a reader compares before and after its database read.
    """
    strategy(alias).invalidate(keys, counter=counter)


def cache_epoch_bump(*, alias: str = DEFAULT) -> None:
    """Make every live entry untrusted in every process (the fallback when a targeted invalidation failed)."""
    strategy(alias).epoch_bump()


def cache_shared(*, alias: str = DEFAULT) -> bool:
    """Return whether ``alias`` is shared by every process (Redis) rather than per process."""
    return strategy(alias).shared
