"""The cache layer's tunables: each read from settings when set there, else its default here."""

from __future__ import annotations

import os

from django.conf import settings

DEFAULTS: dict[str, object] = {
    # After a cache failure, each process skips the cache this long (the circuit breaker).
    "CACHE_BREAKER_SECONDS": 1.5,
    # Services mode: a process re-reads the revocation epoch from the database at least this often.
    "CACHE_EPOCH_SYNC_SECONDS": 2.0,
    # Services mode: the near cache's entry lifetime (0: off), trust bound and size. Changes
    # reach the copy by Redis's messages, not by expiry: the lifetime only decides how
    # often a key is read again anyway; five minutes keeps a client that asks every
    # minute or two (many clients, each seldom) in the copy.
    "NEAR_CACHE_SECONDS": 300.0,
    "NEAR_CACHE_STALE_SECONDS": 1.0,
    "NEAR_CACHE_MAX_ENTRIES": 10_000,
    # How long a cached user snapshot lives at most, each between half of it and all of it
    # (every change drops it at once anyway).
    "USER_SNAPSHOT_SECONDS": 600,
    # Verified access tokens each process remembers (0: off).
    "JWT_VERIFIED_CACHE_SIZE": 4096,
}


def setting(name: str):
    """Return the tunable ``name``: the project's setting when it defines one, else the default."""
    return getattr(settings, name, DEFAULTS[name])


def stamp_file() -> str:
    """Return the embedded mode's revocation log, shared by every process of the host.

    A string, not a Path: every authenticated request stats it.
    """
    path = getattr(settings, "REVOCATION_STAMP_FILE", None)
    return os.fspath(path) if path else os.path.join(settings.VAR_DIR, "revocation_stamp")
