"""Cache calls that may fail: a circuit breaker around the cache, and the revocation epoch of "live" entries.

The database is the source of truth; the cache (Redis in services mode)
only mirrors it. So a cache that cannot be reached is skipped, not fatal:

- Every cache call of the session engine, the JWT family verdicts, the login
  limiter and the health check goes through ``cache_call``/``cache_guard``.
  A failure (connection refused, timeout) raises ``CacheUnavailable`` and
  opens a per-process circuit breaker: for CACHE_BREAKER_SECONDS every call
  fails at once instead of waiting for a timeout, so an outage does not add
  a timeout to every request. Readers then read the database; the login
  limiter cannot count and fails closed (authdemo.outage answers 503).

- Revocation epoch. An entry that says "valid" (a live family verdict,
  session data) is stored together with the epoch it was written under, and
  is accepted only while that is still the current epoch. "Revoked" entries
  (tombstones) need no epoch: trusting them is always safe.

  Services mode (a shared cache): the epoch is a Redis key, read in the same
  round trip as the entry (one MGET). A revocation that cannot be published
  to Redis (write failed, breaker open) bumps a counter row in the database
  (accounts.RevocationEpoch) inside its own transaction. A process re-syncs
  the Redis epoch to max(Redis, database) before trusting any entry when it
  saw a cache failure since its last sync, and at least every
  CACHE_EPOCH_SYNC_SECONDS anyway (one query per process per interval).
  Whether Redis comes back empty or after a partition during which it kept
  its data, every "live" entry written before an unpublished revocation then
  carries an older epoch and is refused: no credential revoked during an
  outage is accepted again. The epoch a writer stamps is always one it
  obtained *before* reading the database, so a reader that raced a
  revocation writes an entry that is already stale.

  Embedded default (a per-process cache): the epoch is the size and inode of
  REVOCATION_STAMP_FILE; every revocation appends one byte after it commits,
  so a password change, deactivation or revocation made by another process
  (``manage.py changepassword``, the shell, cron) is seen by the next request
  of every process at the cost of one ``stat()``.

The remaining edge is in docs/operations.md: a partition between ONE process
and Redis while the others still reach it. Revocations made by the cut-off
process bump the database epoch; the others adopt it at their next periodic
sync, so a revoked credential may be accepted by them for at most
CACHE_EPOCH_SYNC_SECONDS.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple, ParamSpec, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from accounts.nearcache import near_cache, near_cache_reset, near_forget

logger = logging.getLogger("authdemo.cache")

DEFAULT = "default"
EPOCH_KEY = "authz:revocation-epoch"
_LIVE = "live@"

P = ParamSpec("P")
R = TypeVar("R")

# The errors a cache client raises when its server is unreachable or slow.
_FAILURES: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)
with contextlib.suppress(ImportError):
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import RedisError

    _FAILURES = (*_FAILURES, ConnectionInterrupted, RedisError)

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


class CacheUnavailable(Exception):
    """The cache could not be reached (or the circuit breaker is open)."""


class _State:
    """Per-process state of the breaker and of the epoch (threads share it; plain assignments suffice)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_until = 0.0  # monotonic time until which the cache is skipped
        self.failed_at = float("-inf")  # monotonic time of the last cache failure
        self.synced_at = float("-inf")  # monotonic time the last epoch sync started
        self.epoch_seen: object = None  # the last epoch read; a safe stamp for fresh writes


_state = _State()


def cache_state_reset() -> None:
    """Forget breaker, epoch and near-cache state (tests; a new process starts like this)."""
    global _state
    _state = _State()
    near_cache_reset()


def _shared(alias: str) -> bool:
    return "redis" in settings.CACHES[alias]["BACKEND"].lower()


def _trip(exc: BaseException) -> None:
    now = time.monotonic()
    with _state.lock:
        was_open = now < _state.open_until
        _state.failed_at = now
        _state.open_until = now + settings.CACHE_BREAKER_SECONDS
    near_forget(alias=None)
    if not was_open:
        logger.warning(
            "cache unavailable (%s: %s): skipping it for %.1f s",
            type(exc).__name__,
            exc,
            settings.CACHE_BREAKER_SECONDS,
        )


def _breaker_check() -> None:
    if time.monotonic() < _state.open_until:
        raise CacheUnavailable("cache skipped: circuit breaker open")


def _failed(exc: BaseException) -> CacheUnavailable:
    _trip(exc)
    return CacheUnavailable(str(exc))


@contextlib.contextmanager
def cache_guard() -> Iterator[None]:
    """Run the block's cache calls; raise CacheUnavailable on failure (at once while the breaker is open)."""
    _breaker_check()
    try:
        yield
    except _FAILURES as exc:
        raise _failed(exc) from exc


def cache_guarded(*, suppress: bool = False) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorate a function whose cache calls may fail: CacheUnavailable instead (None with ``suppress``)."""

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(func)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
            try:
                with cache_guard():
                    return func(*args, **kwargs)
            except CacheUnavailable:
                if suppress:
                    return None
                raise

        return guarded

    return decorate


def cache_call(method: str, *args, alias: str = DEFAULT, **kwargs):
    """Return ``caches[alias].<method>(*args, **kwargs)``; raise CacheUnavailable, not a client error."""
    # cache_guard() written out: every cache read of the hot path comes here.
    _breaker_check()
    try:
        return getattr(caches[alias], method)(*args, **kwargs)
    except _FAILURES as exc:
        raise _failed(exc) from exc


def cache_available(*, alias: str = DEFAULT) -> bool:
    """Return whether the cache answers a write and a read now (the health check's probe)."""
    try:
        cache_call("set", "health:probe", "1", 10, alias=alias)
        return cache_call("get", "health:probe", alias=alias) == "1"
    except CacheUnavailable:
        return False


# --- The revocation epoch ------------------------------------------------------


def _stamp_file_epoch() -> tuple[int, int]:
    try:
        st = os.stat(settings.REVOCATION_STAMP_FILE)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_ino, st.st_size)


def _stamp_file_bump() -> None:
    path = settings.REVOCATION_STAMP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # Append-only: the size grows with every revocation, so an equal (inode,
    # size) pair means "nothing was revoked since".
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)


def _database_epoch() -> int:
    from accounts.models import RevocationEpoch

    return RevocationEpoch.objects.filter(pk=1).values_list("value", flat=True).first() or 0


def _database_epoch_bump() -> None:
    """Raise the database epoch above every epoch any cache entry can carry (in the caller's transaction)."""
    from accounts.models import RevocationEpoch

    seen = _state.epoch_seen if isinstance(_state.epoch_seen, int) else 0
    with transaction.atomic():
        if not RevocationEpoch.objects.filter(pk=1).update(value=Greatest(F("value"), seen) + 1):
            RevocationEpoch.objects.create(pk=1, value=seen + 1)


def _epoch_sync(alias: str) -> None:
    """Raise the Redis epoch to the database's when this process has reason to doubt it."""
    now = time.monotonic()
    if now < _state.open_until:
        raise CacheUnavailable("cache skipped: circuit breaker open")
    if _state.failed_at < _state.synced_at and now - _state.synced_at < settings.CACHE_EPOCH_SYNC_SECONDS:
        return
    database_epoch = _database_epoch()
    cache = caches[alias]
    with cache_guard():
        client = cache.client.get_client(write=True)
        epoch = int(client.eval(_EPOCH_MAX_LUA, 1, cache.make_key(EPOCH_KEY), database_epoch))
    if epoch != _state.epoch_seen:
        near_forget(alias=alias, keys=[EPOCH_KEY])
    # The start time: a failure seen by another thread meanwhile forces a new sync.
    _state.synced_at = now
    _state.epoch_seen = epoch


class CacheRead(NamedTuple):
    """An entry as read: ``value`` is None on a miss, a stale live entry or an unavailable cache.

    A named tuple: immutable, and built on every read of the hot path at a
    fraction of a frozen dataclass's cost.
    """

    value: object
    epoch: object  # stamp for writing the entry back; None: do not write (cache unavailable)
    live: bool = False  # value is the payload of a live entry valid under the current epoch
    stale: bool = False  # a live entry of an older epoch was found (value is None)


def cache_read(*, key: str, alias: str = DEFAULT) -> CacheRead:
    """Return the entry at ``key``: a revocation marker as stored, a live entry's payload if still valid."""
    return cache_read_many(keys=[key], alias=alias)[key]


def cache_read_many(*, keys: list[str], alias: str = DEFAULT) -> dict[str, CacheRead]:
    """Return ``cache_read`` of every key, read together with the epoch in ONE round trip (one MGET).

    An authenticated request reads everything it needs this way (a family
    verdict and a user snapshot, or session data and its user snapshot).
    """
    try:
        if _shared(alias):
            _epoch_sync(alias)
            wanted = [*keys, EPOCH_KEY]
            near = near_cache(alias)
            values = near.get_many(wanted) if near is not None else None
            if values is None:
                ticket = near.fill_ticket() if near is not None else None
                values = cache_call("get_many", wanted, alias=alias)
                if near is not None:
                    near.fill(ticket, wanted, values)
            epoch: object = int(values.get(EPOCH_KEY) or 0)
        else:
            epoch = _stamp_file_epoch()
            values = cache_call("get_many", keys, alias=alias)
    except CacheUnavailable:
        return {key: CacheRead(value=None, epoch=None) for key in keys}
    _state.epoch_seen = epoch
    return {key: _entry_read(values.get(key), epoch) for key in keys}


def _entry_read(entry: object, epoch: object) -> CacheRead:
    if isinstance(entry, tuple) and len(entry) == 3 and entry[0] == _LIVE:
        if entry[1] == epoch:
            return CacheRead(value=entry[2], epoch=epoch, live=True)
        return CacheRead(value=None, epoch=epoch, stale=True)
    return CacheRead(value=entry, epoch=epoch)


def cache_epoch_bump(*, alias: str = DEFAULT) -> None:
    """Make every live entry stale in every process (the fallback when a targeted invalidation failed).

    Services mode: the database epoch, in the caller's transaction (every
    process adopts it before trusting an entry again, see the module
    docstring). Embedded: the stamp file, after the commit.
    """
    if _shared(alias):
        _database_epoch_bump()
        # This process adopts it at once; the others at their next sync.
        _state.failed_at = time.monotonic()
    else:
        transaction.on_commit(_stamp_file_bump)


def cache_epoch_hint(*, alias: str = DEFAULT) -> object:
    """Return an epoch to stamp a live entry about to be created; call it before the database write.

    An epoch obtained before the write can only be older than the current
    one, which makes the entry a harmless miss, never a stale hit.
    """
    if not _shared(alias):
        return _stamp_file_epoch()
    if _state.epoch_seen is None:  # a fresh process: learn the epoch (one round trip, once)
        with contextlib.suppress(CacheUnavailable):
            _epoch_sync(alias)
    return _state.epoch_seen


def cache_write_live(
    *, key: str, payload: object, epoch: object, timeout: int, add: bool = True, stale: bool = False,
    alias: str = DEFAULT,
) -> None:
    """Cache ``payload`` as valid under ``epoch`` (add: never over a revocation marker); skip on failure.

    ``stale``: the read found a live entry of an older epoch there, which
    add() alone would never replace (a miss on every request until it
    expires). The embedded default deletes it first: every revocation also
    moves the stamp after its commit, so a marker deleted by this race
    belongs to a revocation whose epoch already makes this entry stale.
    Services mode (revocations there move no epoch) replaces it only if the
    key still holds that stale entry, in one atomic compare-and-set
    (``_live_replace_stale``): a revocation marker written meanwhile is never
    overwritten.
    """
    if epoch is None:
        return
    with contextlib.suppress(CacheUnavailable):
        if add and stale:
            if _shared(alias):
                _live_replace_stale(key=key, entry=(_LIVE, epoch, payload), timeout=timeout, alias=alias)
                return
            cache_call("delete", key, alias=alias)
        cache_call("add" if add else "set", key, (_LIVE, epoch, payload), timeout, alias=alias)


# Replace the value at KEYS[1] only if it is still exactly ARGV[1] (the raw
# bytes that were read); compare and write in one atomic step.
_REPLACE_IF_SAME_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


def _live_replace_stale(*, key: str, entry: tuple, timeout: int, alias: str) -> None:
    """Replace the live entry of an older epoch at ``key`` by ``entry``; leave anything else there alone.

    Two round trips, once per entry after an epoch bump: read the raw bytes,
    then a compare-and-set on them. A revocation that wrote its marker (or
    deleted the entry) between the two makes the compare fail, so the marker
    stays; a revocation after the set overwrites this entry as usual. An
    empty key gets add(), as on any miss.
    """
    try:
        _live_replace_stale_in(key=key, entry=entry, timeout=timeout, alias=alias)
    finally:
        near_forget(alias=alias, keys=[key])


def _live_replace_stale_in(*, key: str, entry: tuple, timeout: int, alias: str) -> None:
    cache = caches[alias]
    full_key = cache.make_key(key)
    with cache_guard():
        client = cache.client.get_client(write=True)
        raw = client.get(full_key)
        if raw is None:
            cache.add(key, entry, timeout)
            return
        found = cache.client.decode(raw)
        is_stale_live = (
            isinstance(found, tuple) and len(found) == 3 and found[0] == _LIVE and found[1] != entry[1]
        )
        if is_stale_live and timeout and timeout > 0:
            encoded = cache.client.encode(entry)
            client.eval(_REPLACE_IF_SAME_LUA, 1, full_key, raw, encoded, int(timeout * 1000))


def revocation_publish(*, entries: dict[str, object], timeout: int, alias: str = DEFAULT) -> None:
    """Write revocation markers; if the cache cannot take them, bump the database epoch instead.

    Call inside the revocation's transaction, after its database writes: the
    epoch bump then commits or rolls back with the revocation itself.
    """
    if not entries:
        return
    try:
        cache_call("set_many", entries, timeout, alias=alias)
    except CacheUnavailable:
        if _shared(alias):
            _database_epoch_bump()
            logger.warning("revocation not published to the cache: revocation epoch raised in the database")
    if not _shared(alias):
        # Other processes' caches: tell them after the commit, so a process
        # that reacts at once reads the committed revocation.
        transaction.on_commit(_stamp_file_bump)
