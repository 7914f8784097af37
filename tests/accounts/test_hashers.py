"""The Argon2id hasher: its parameters, upgrading other hashes at login, the bound on concurrent hashes."""

from __future__ import annotations

import threading

import argon2
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.test import Client

from accounts import hashers
from accounts.hashers import BoundedArgon2idHasher, hash_gate

pytestmark = pytest.mark.django_db

BOUNDED = "accounts.hashers.BoundedArgon2idHasher"


def _params(encoded: str) -> argon2.Parameters:
    algorithm, rest = encoded.split("$", 1)
    assert algorithm == "argon2"
    return argon2.extract_parameters("$" + rest)


def test_hash_is_argon2id_at_owasp_row():
    hasher = BoundedArgon2idHasher()
    encoded = hasher.encode("a long enough password", hasher.salt())
    params = _params(encoded)
    assert params.type is argon2.Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)
    assert BoundedArgon2idHasher().verify("a long enough password", encoded)
    assert not BoundedArgon2idHasher().verify("another password", encoded)
    assert not BoundedArgon2idHasher().must_update(encoded)


def test_production_settings_list_the_bounded_hasher_first():
    from authdemo import settings as production

    assert production.PASSWORD_HASHERS[0] == BOUNDED
    # A second "argon2" hasher would take verification away from the bounded one.
    assert "django.contrib.auth.hashers.Argon2PasswordHasher" not in production.PASSWORD_HASHERS
    # The accounts app's default (accounts/conf.py) when the environment sets none.
    assert django_settings.PASSWORD_HASH_CONCURRENCY >= 1


@pytest.mark.parametrize("login", ["form", "token"])
def test_hash_with_other_params_is_upgraded_at_login(login, user, password, settings):
    settings.PASSWORD_HASHERS = [BOUNDED, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    # Django's own defaults (m=100 MiB, t=2, p=8), as a database made before would hold.
    user.password = Argon2PasswordHasher().encode(password, Argon2PasswordHasher().salt())
    user.save(update_fields=["password"])
    assert _params(user.password).memory_cost == 102400

    if login == "form":
        response = Client().post("/accounts/login/", {"username": user.username, "password": password})
        assert response.status_code == 302
    else:
        response = Client().post(
            "/api/auth/token/",
            {"username": user.username, "password": password},
            content_type="application/json",
        )
        assert response.status_code == 200

    user.refresh_from_db()
    params = _params(user.password)
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)
    assert check_password(password, user.password)


def test_wrong_password_upgrades_nothing(user, password, settings):
    settings.PASSWORD_HASHERS = [BOUNDED]
    old = Argon2PasswordHasher().encode(password, Argon2PasswordHasher().salt())
    user.password = old
    user.save(update_fields=["password"])
    response = Client().post("/accounts/login/", {"username": user.username, "password": "not it"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password == old


class WatchedGate:
    """The real hash gate, telling the test when it holds a thread back."""

    def __init__(self, gate, seen: threading.Condition, counts: dict) -> None:
        self.gate, self.seen, self.counts = gate, seen, counts

    def __enter__(self):
        if not self.gate.acquire(blocking=False):
            with self.seen:
                self.counts["held_back"] += 1
                self.seen.notify_all()
            self.gate.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.gate.release()


@pytest.mark.parametrize("operation", ["encode", "verify"])
def test_concurrent_hashes_never_exceed_the_bound(operation, settings, monkeypatch):
    settings.PASSWORD_HASH_CONCURRENCY = 3
    settings.PASSWORD_HASHERS = [BOUNDED]
    seen = threading.Condition()
    counts = {"now": 0, "max": 0, "held_back": 0}
    release = threading.Event()

    def held(self, *args):
        with seen:
            counts["now"] += 1
            counts["max"] = max(counts["max"], counts["now"])
            seen.notify_all()
        release.wait(10)
        with seen:
            counts["now"] -= 1
        return "argon2$fake" if operation == "encode" else True

    monkeypatch.setattr(Argon2PasswordHasher, operation, held)
    gate = hash_gate()
    monkeypatch.setattr(hashers, "hash_gate", lambda: WatchedGate(gate, seen, counts))
    hasher = BoundedArgon2idHasher()
    call = (
        (lambda: hasher.encode("pw", "saltsaltsaltsalt"))
        if operation == "encode"
        else (lambda: hasher.verify("pw", "argon2$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"))
    )
    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    try:
        # Every thread is either hashing or held back by the gate: no waiting on time.
        with seen:
            assert seen.wait_for(lambda: counts["now"] + counts["held_back"] == 12, timeout=10), counts
        assert counts["max"] == 3 and counts["held_back"] == 9
    finally:
        release.set()
        for t in threads:
            t.join(10)
    assert counts["max"] == 3
    assert counts["now"] == 0


def test_bound_covers_make_password_and_is_shared(settings):
    """Hashes made through Django's API hold the same process-wide semaphore."""
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASHERS = [BOUNDED]
    gate = hash_gate()
    assert hash_gate() is gate
    assert gate.acquire(timeout=1)
    try:
        result: list[str] = []
        worker = threading.Thread(target=lambda: result.append(make_password("a long enough password")))
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and not result  # waits for the held slot
    finally:
        gate.release()
    worker.join(10)
    assert result and result[0].startswith("argon2$argon2id$")
