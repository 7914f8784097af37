"""Services mode's live entries: one epoch in Redis for every entry, raised from the database."""

from __future__ import annotations

import contextlib
import logging
import time

from django.core.cache import caches
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from authcache.conf import setting
from authcache.entries import CacheRead, entry_read, is_live
from authcache.guard import CacheUnavailable, breaker, breaker_open, cache_call, cache_guard
from authcache.models import RevocationEpoch
from authcache.near import near_cache, redis_write

logger = logging.getLogger("authdemo.cache")

EPOCH_KEY = "authz:revocation-epoch"

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
        return {key: entry_read(values.get(key), epoch, epoch.__eq__) for key in keys}

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
            if is_live(found) and found[1] != entry[1] and timeout and timeout > 0:
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
