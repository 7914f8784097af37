"""The site's public keys, fetched from its JWKS URL, cached, and refetched when a kid is unknown."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

logger = logging.getLogger("verifier")

# The only algorithms accepted, whatever a JWKS or a token header says: the
# site's asymmetric ones, never HS* or "none" (RFC 8725 §3.1, §3.2), each
# with the one key type it needs.
KEY_TYPES = {"EdDSA": ed25519.Ed25519PublicKey, "RS256": rsa.RSAPublicKey}
RSA_MIN_BITS = 2048  # RFC 7518 §3.3
MAX_JWKS_BYTES = 256 * 1024
DEFAULT_TTL = 300  # when the JWKS response names no max-age

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True)
class VerifyingKey:
    algorithm: str
    key: object


@dataclass(frozen=True)
class JwksDocument:
    keys: dict[str, VerifyingKey]
    max_age: int | None


def jwks_parse(*, body: bytes, cache_control: str = "") -> JwksDocument:
    """Return the usable signature keys of a JWK Set (RFC 7517 §5), each by kid; skip the rest."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: dict[str, VerifyingKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("use", "sig") != "sig":
            continue
        algorithm = jwk.get("alg")
        if "d" in jwk or algorithm not in KEY_TYPES:
            continue
        try:
            key = jwt.PyJWK(jwk).key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError):
            continue
        if not isinstance(key, KEY_TYPES[algorithm]):
            continue
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < RSA_MIN_BITS:
            continue
        keys.setdefault(jwk["kid"], VerifyingKey(algorithm=algorithm, key=key))
    if not keys:
        raise ValueError("no usable key in the JWK Set")
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        max_age: int | None = 0
    else:
        match = _MAX_AGE.search(cache_control)
        max_age = int(match.group(1)) if match else None
    return JwksDocument(keys=keys, max_age=max_age)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # The keys come from the configured URL only: a redirect (an open redirect
    # on the site, a hijacked path) would let another host choose the keys
    # that verify every token (RFC 8725 §3.10; OWASP ASVS 5.0 V9.1.3). The
    # 3xx then fails the fetch as an HTTPError, an OSError.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def jwks_fetch(*, url: str, timeout: float) -> JwksDocument:
    """Return the JWK Set at ``url``, following no redirect; raise OSError or ValueError on failure."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"JWKS URL must be http(s): {url!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (checked above)
    with _opener.open(request, timeout=timeout) as response:
        body = response.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError("JWK Set too large")
        return jwks_parse(body=body, cache_control=response.headers.get("Cache-Control", ""))


class KeyCache:
    """The keys of the last good JWKS fetch; thread-safe.

    Refetches when the cached set is older than its (bounded) max-age or when
    a token names an unknown kid (the site rotated its key), but at most once
    per ``refetch_interval`` seconds whatever the cause. A failed fetch keeps
    the keys already held, so the verifier keeps serving while the site is down.
    """

    def __init__(
        self,
        *,
        url: str,
        refetch_interval: float,
        min_ttl: int,
        max_ttl: int,
        timeout: float = 3.0,
        fetch: Callable[..., JwksDocument] = jwks_fetch,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = url
        self.refetch_interval = refetch_interval
        self.min_ttl, self.max_ttl = min_ttl, max_ttl
        self.timeout = timeout
        self.fetch = fetch
        self.clock = clock
        self.keys: dict[str, VerifyingKey] = {}
        self.fresh_until = float("-inf")
        self.last_attempt = float("-inf")
        self.fetches = 0
        self._lock = threading.Lock()

    def key_get(self, *, kid: str) -> VerifyingKey | None:
        """Return the key named ``kid``, refetching the JWKS if it is unknown or stale (rate-limited)."""
        with self._lock:
            now = self.clock()
            stale = now >= self.fresh_until
            if (stale or kid not in self.keys) and now - self.last_attempt >= self.refetch_interval:
                self._refresh(now)
            return self.keys.get(kid)

    def _refresh(self, now: float) -> None:
        self.last_attempt = now
        self.fetches += 1
        try:
            document = self.fetch(url=self.url, timeout=self.timeout)
        except (OSError, ValueError) as exc:
            logger.warning("JWKS fetch from %s failed (%s); keeping %d key(s)", self.url, exc, len(self.keys))
            return
        self.keys = document.keys
        ttl = DEFAULT_TTL if document.max_age is None else document.max_age
        self.fresh_until = now + min(max(ttl, self.min_ttl), self.max_ttl)
