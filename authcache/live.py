"""Live entries: cached "valid" verdicts trusted only while no revocation since their write says otherwise.

The rules are stated in docs/operations.md ("Recovery: the revocation epoch"
and "The embedded revocation log") and enforced behind this interface, whose
strategy is chosen once per cache alias from its backend (``strategy()``):
authcache.redis_epoch for Redis, authcache.embedded for a per-process cache.
Callers read with ``cache_read_many`` and write with ``cache_write_live``,
``revocation_publish`` and ``cache_invalidate``; none writes a key raw.
"""

from __future__ import annotations

import contextlib
import functools

from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis.cache import RedisCache

from authcache.embedded import EmbeddedStrategy
from authcache.entries import LIVE, CacheRead
from authcache.guard import DEFAULT, CacheUnavailable, breaker
from authcache.near import near_cache_reset
from authcache.redis_epoch import EPOCH_KEY, SharedStrategy

__all__ = ["EPOCH_KEY", "LIVE", "CacheRead"]


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
