"""How and when a user authenticated, one rule for both strategies.

An assurance is the RFC 8176 ``amr`` list (``pwd`` password, ``otp``
one-time code, ``hwk``/``swk`` proof of a hardware/software key, ``mfa``
when more than one of them was proven) and the OpenID Connect ``auth_time``
(epoch seconds of the last authentication). A session stores it in its
data and can be upgraded in place; a JWT carries it as claims, frozen at
issue, so step-up there means a new token. A sensitive action needs an
``auth_time`` younger than REAUTH_SECONDS (OWASP ASVS 5.0 V7.5.1).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from accounts.conf import reauth_seconds

PWD, OTP, HWK, SWK, MFA = "pwd", "otp", "hwk", "swk", "mfa"
METHODS = (PWD, OTP, HWK, SWK)  # what a user proves; MFA is derived from them
SESSION_KEY = "_auth_assurance"
# A clock running this far behind the one that issued auth_time is tolerated.
FUTURE_LEEWAY = 30


def _now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Assurance:
    amr: tuple[str, ...]
    auth_time: int

    def is_fresh(self, *, now: int | None = None) -> bool:
        """Return whether the authentication is recent enough for a sensitive action."""
        now = _now() if now is None else now
        return self.auth_time - FUTURE_LEEWAY <= now and now - self.auth_time <= reauth_seconds()

    @property
    def is_multi_factor(self) -> bool:
        return MFA in self.amr

    def claims(self) -> dict:
        """Return the JWT claims / session value of this assurance."""
        return {"amr": list(self.amr), "auth_time": self.auth_time}


def assurance_new(*, methods: Iterable[str], now: int | None = None) -> Assurance:
    """Return the assurance of an authentication that has just proven ``methods``."""
    proven = tuple(dict.fromkeys(m for m in methods if m in METHODS))
    if not proven:
        raise ValueError("An authentication proves at least one method.")
    amr = (*proven, MFA) if len(proven) > 1 else proven
    return Assurance(amr=amr, auth_time=_now() if now is None else now)


def assurance_stepped_up(previous: Assurance | None, *, method: str, now: int | None = None) -> Assurance:
    """Return the assurance after re-authenticating with ``method``: every method proven, auth_time now."""
    earlier = [m for m in (previous.amr if previous else ()) if m != MFA]
    return assurance_new(methods=[*earlier, method], now=now)


def assurance_from_claims(claims: Mapping) -> Assurance | None:
    """Return the assurance a token's claims (or a session's value) hold, or None if absent or malformed."""
    amr, auth_time = claims.get("amr"), claims.get("auth_time")
    if not isinstance(amr, list) or not amr or not all(isinstance(m, str) for m in amr):
        return None
    if isinstance(auth_time, bool) or not isinstance(auth_time, int):
        return None
    return Assurance(amr=tuple(amr), auth_time=auth_time)


def session_assurance(session) -> Assurance | None:
    """Return the assurance recorded in ``session``, or None."""
    value = session.get(SESSION_KEY)
    return assurance_from_claims(value) if isinstance(value, Mapping) else None


def session_assurance_set(session, assurance: Assurance) -> None:
    """Record ``assurance`` in ``session`` (at login, and in place at step-up)."""
    session[SESSION_KEY] = assurance.claims()
