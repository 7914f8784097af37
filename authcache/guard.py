"""Cache calls that may fail: a cache that cannot be reached is skipped, never fatal (docs/operations.md).

Every cache call of the project goes through ``cache_call`` or ``cache_guard``.
A failure raises ``CacheUnavailable`` and opens a per-process circuit breaker:
for CACHE_BREAKER_SECONDS every call fails at once instead of waiting for a
timeout. Readers then read the database; the login limiter fails closed.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from django.core.cache import caches

from authcache.conf import setting

logger = logging.getLogger("authdemo.cache")

DEFAULT = "default"

P = ParamSpec("P")
R = TypeVar("R")

# The errors a cache client raises when its server is unreachable or slow.
FAILURES: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)
with contextlib.suppress(ImportError):
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import RedisError

    FAILURES = (*FAILURES, ConnectionInterrupted, RedisError)


class CacheUnavailable(Exception):
    """The cache could not be reached (or the circuit breaker is open)."""


class BreakerState:
    """Per-process state of the breaker (threads share it; plain assignments suffice)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Close the breaker and forget past failures."""
        self.open_until = 0.0  # monotonic time until which the cache is skipped
        self.failed_at = float("-inf")  # monotonic time of the last cache failure


breaker = BreakerState()
# Called with no argument after every failure (the near cache drops its copy).
failure_listeners: list[Callable[[], None]] = []


def breaker_open() -> bool:
    """Return whether the breaker is open now (cache calls fail at once)."""
    return time.monotonic() < breaker.open_until


def _failed(exc: BaseException) -> CacheUnavailable:
    now = time.monotonic()
    seconds = setting("CACHE_BREAKER_SECONDS")
    with breaker.lock:
        was_open = now < breaker.open_until
        breaker.failed_at = now
        breaker.open_until = now + seconds
    for listener in failure_listeners:
        listener()
    if not was_open:
        logger.warning("cache unavailable (%s: %s): skipping it for %.1f s", type(exc).__name__, exc, seconds)
    return CacheUnavailable(str(exc))


@contextlib.contextmanager
def cache_guard() -> Iterator[None]:
    """Run the block's cache calls; raise CacheUnavailable on failure (at once while the breaker is open)."""
    if breaker_open():
        raise CacheUnavailable("cache skipped: circuit breaker open")
    try:
        yield
    except FAILURES as exc:
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
    if breaker_open():
        raise CacheUnavailable("cache skipped: circuit breaker open")
    try:
        return getattr(caches[alias], method)(*args, **kwargs)
    except FAILURES as exc:
        raise _failed(exc) from exc


def cache_available(*, alias: str = DEFAULT) -> bool:
    """Return whether the cache answers a write and a read now (the health check's probe)."""
    try:
        cache_call("set", "health:probe", "1", 10, alias=alias)
        return cache_call("get", "health:probe", alias=alias) == "1"
    except CacheUnavailable:
        return False
