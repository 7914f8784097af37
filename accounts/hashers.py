"""Argon2id password hashing with parameters measured on this machine, and a bound on concurrent hashes."""

from __future__ import annotations

import threading
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


@cache
def _gate(size: int) -> threading.BoundedSemaphore:
    # One semaphore per configured size, shared by every thread of the process.
    return threading.BoundedSemaphore(size)


def hash_gate() -> threading.BoundedSemaphore:
    """Return the process-wide semaphore that every Argon2 hash and verification holds."""
    return _gate(max(1, settings.PASSWORD_HASH_CONCURRENCY))


class BoundedArgon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's first recommended row: m=19 MiB, t=2, p=1 (docs/passwords.md).

    Django's defaults (m=100 MiB, t=2, p=8) take about 120 ms of CPU per hash
    on a 2-core machine and 100 MiB each; this row is at OWASP's minimum
    (ASVS 5.0 V11.4.2) at about 19 ms. The algorithm name stays "argon2", so this
    class verifies every Argon2 hash, whatever its parameters, and Django's
    must_update re-hashes one made with other parameters at the next login.

    Every hash holds hash_gate(): at most PASSWORD_HASH_CONCURRENCY hashes run
    at once in a process, so a burst of logins takes at most
    PASSWORD_HASH_CONCURRENCY x memory_cost of Argon2 memory (ASVS 5.0 V2.4.1,
    anti-automation: a login burst must not exhaust the worker's memory).
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password, salt):
        with hash_gate():
            return super().encode(password, salt)

    def verify(self, password, encoded):
        with hash_gate():
            return super().verify(password, encoded)
