"""Tokens this process has verified, so a repeat skips the signature check (the verifier's one cache).

Invariant: an entry holds the header and claims that the full check returned
for exactly these token bytes, with the key object that verified them. It is
used only while the key cache still returns that same object for the
token's ``kid`` (a retired or rotated key, or a refetched JWKS, means the
full check again), and the time claims are checked again on every use, so a
hit answers as the full check would at that moment. Bounded: past
``maxsize`` the least recently used entry leaves. Keyed by the token's
SHA-256 digest, as the site's own cache is (docs/jwt.md): as exact a key as
the token, and no credential kept in memory.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, NamedTuple


class Verified(NamedTuple):
    header: dict[str, Any]
    claims: dict[str, Any]
    key: object  # the VerifyingKey that verified the signature


def token_digest(token: str) -> bytes:
    """Return the cache's key for ``token``: the SHA-256 of its bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class VerifiedTokens:
    """A bounded, thread-safe map of token digest -> Verified (module docstring)."""

    def __init__(self, *, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[bytes, Verified] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[bytes]:
        """Return the digests held, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, token: str) -> Verified | None:
        digest = token_digest(token)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is not None:
                self._entries.move_to_end(digest)
            return entry

    def put(self, token: str, entry: Verified) -> None:
        if self.maxsize <= 0:
            return
        digest = token_digest(token)
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        digest = token_digest(token)
        with self._lock:
            self._entries.pop(digest, None)
