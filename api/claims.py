"""What the full verification of an access token establishes: its claims as a cache may hold them.

The verified-token cache of api/keyring.py keeps a ``VerifiedToken`` per
compact token; only immutable claim values may be shared with it. Time claims
are checked as NumericDates in range before any datetime conversion
(RFC 7519 §2; RFC 8725 §3.8).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.jwk import PublicKey

# Claim values a shallow copy cannot share with the cache: a token with any
# other value (a list ``aud``, a nested object) is simply never cached, except
# a list of such values (``amr``), kept as a tuple and given back as a new list.
_IMMUTABLE_CLAIM_TYPES = frozenset({str, int, float, bool, type(None)})


def claim_frozen(value: Any) -> Any:
    """Return ``value`` as the cache may hold it (a list of scalars as a tuple); raise TypeError otherwise.

    Strings are interned: the values every token carries (``token_type``,
    ``iss``, ``aud``, the methods of ``amr``) are then held once per process,
    not once per cached token; an interned string is freed with its last user.
    """
    if type(value) is str:
        return sys.intern(value)
    if type(value) in _IMMUTABLE_CLAIM_TYPES:
        return value
    if type(value) is list and all(type(item) in _IMMUTABLE_CLAIM_TYPES for item in value):
        return tuple(claim_frozen(item) for item in value)
    raise TypeError(value)


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """What the full verification of one access token established, and the instants it depends on."""

    kid: str
    key: PublicKey  # the ring's key that verified it: still trusted only while the ring holds this very key
    claims: Mapping[str, Any]  # read-only; every value immutable
    valid_from: int  # the later of ``iat`` and ``nbf``, as PyJWT reads them (int())
    exp: int
    list_claims: tuple[str, ...] = ()  # claims that were lists, held as tuples


# The claims that hold a NumericDate (RFC 7519 §2, §4.1.4-4.1.6).
TIME_CLAIMS = ("exp", "iat", "nbf")
# 9999-12-31T23:59:59Z: the last second a datetime can hold.
NUMERIC_DATE_MAX = 253_402_300_799


def numeric_date_valid(value: object) -> bool:
    """Return whether ``value`` is a NumericDate in range: a finite JSON number from 1970 to year 9999.

    PyJWT accepts anything int() takes ("9999999999", 1e300, true); a
    validly signed token with such a claim must be refused as invalid, not
    reach a datetime conversion that raises (RFC 8725 §3.8, validate all
    claims; OWASP ASVS 5.0 V9.2.1).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return 0 <= value <= NUMERIC_DATE_MAX  # False for NaN; infinities are out of range
