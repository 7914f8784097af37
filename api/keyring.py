"""The key ring of the JWT side and SimpleJWT's token backend that signs and verifies with it.

One private key signs; its public key and the other configured public keys
(the next key, staged before it signs, and the previous ones, kept until every
token they signed has expired) verify. Every token carries its key's RFC 7638
thumbprint as ``kid`` in its header; verification picks the key by ``kid``
and accepts only the configured algorithm (RFC 8725 §2.1, §3.1, §3.2): never
``none``, never HMAC, never a key named by the token itself (``jwk``, ``jku``,
``x5u`` and ``x5c`` headers are ignored).

An access token that passed every check is remembered per process (an
``authcache.values.LruMap``, keyed by the token's SHA-256): the same compact token seen
again skips the parsing and the signature check, never the time checks (docs/jwt.md,
"Verified-token cache").

Settings (authdemo/settings.py, "JWT signing keys"): ``SIMPLE_JWT["ALGORITHM"]``
and ``["SIGNING_KEY"]``, ``JWT_EXTRA_PUBLIC_KEYS``; the cache's bound is
``JWT_VERIFIED_CACHE_SIZE`` (authcache.conf). The key maths is in api/jwk.py. See docs/jwt-keys.md.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import dataclass, field
from datetime import UTC
from types import MappingProxyType
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from jwt import api_jwt
from jwt.exceptions import ExpiredSignatureError, InvalidAlgorithmError, InvalidTokenError
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken

from api.claims import TIME_CLAIMS, VerifiedToken, claim_frozen, numeric_date_valid
from api.jwk import (
    JwkError,
    PrivateKey,
    PublicKey,
    key_check,
    private_key_load,
    public_key_jwk,
    public_key_kid,
    public_keys_load,
)
from authcache.conf import setting
from authcache.values import LruMap


@dataclass(frozen=True)
class KeyRing:
    """One signing key and every verifying key, each by ``kid``."""

    algorithm: str
    signing_key: PrivateKey
    signing_kid: str
    verifying_keys: dict[str, PublicKey] = field(default_factory=dict)

    @classmethod
    def from_pem(cls, *, algorithm: str, private_pem: str | bytes, extra_public_pem: str = "") -> KeyRing:
        """Return the ring of ``private_pem`` plus the public keys in ``extra_public_pem``."""
        try:
            signing_key = private_key_load(private_pem)
            key_check(signing_key, algorithm=algorithm, private=True)
            own = signing_key.public_key()
            verifying = {public_key_kid(own): own}
            for key in public_keys_load(pem_bundle=extra_public_pem):
                key_check(key, algorithm=algorithm, private=False)
                verifying.setdefault(public_key_kid(key), key)
        except JwkError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
        return cls(
            algorithm=algorithm,
            signing_key=signing_key,
            signing_kid=public_key_kid(own),
            verifying_keys=verifying,
        )

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Return the JWK Set (RFC 7517 §5) of every verifying key, the signing key's first."""
        return {
            "keys": [
                {**public_key_jwk(key), "kid": kid, "alg": self.algorithm, "use": "sig"}
                for kid, key in self.verifying_keys.items()
            ]
        }


# --- Verified access tokens, per process -------------------------------------


class KeyRingTokenBackend(TokenBackend):
    """SimpleJWT's TokenBackend signing with the ring's key and verifying by ``kid``.

    Claim validation stays SimpleJWT's and PyJWT's (``aud``, ``iss``, ``exp``,
    ``nbf``, ``iat``, leeway); ``exp``, ``iat`` and ``jti`` are also required,
    and ``exp``, ``iat`` and ``nbf`` must be NumericDates in range.
    An access token that passed all of it is kept in ``verified`` (this
    backend's own, so it belongs to this one key ring): seen again, only its
    time window is checked again, with PyJWT's clock and the same leeway;
    outside it, or with its key gone from the ring, it is forgotten and
    verified in full, which gives today's verdict and error.
    """

    required_claims = ("exp", "iat", "jti")
    # Only access tokens are remembered: they are presented on every request,
    # a refresh token once (single use, rotated under a row lock; caching it
    # would save nothing and keep a long-lived credential in memory).
    cached_token_type = "access"

    def __init__(
        self,
        *,
        key_ring: KeyRing,
        audience=None,
        issuer=None,
        leeway=None,
        json_encoder=None,
        verified_cache_size: int = 0,
    ):
        super().__init__(
            key_ring.algorithm,
            signing_key=None,
            verifying_key="",
            audience=audience,
            issuer=issuer,
            jwk_url=None,  # never fetch keys named elsewhere (RFC 8725 §3.10)
            leeway=leeway,
            json_encoder=json_encoder,
        )
        self.key_ring = key_ring
        self.verified = LruMap(maxsize=verified_cache_size)

    def encode(self, payload: dict[str, Any]) -> str:
        """Return ``payload`` signed with the current key, its ``kid`` in the header."""
        jwt_payload = payload.copy()
        if self.audience is not None:
            jwt_payload["aud"] = self.audience
        if self.issuer is not None:
            jwt_payload["iss"] = self.issuer
        return jwt.encode(
            jwt_payload,
            self.key_ring.signing_key,
            algorithm=self.algorithm,
            headers={"kid": self.key_ring.signing_kid, "typ": "JWT"},
            json_encoder=self.json_encoder,
        )

    def get_verifying_key(self, token) -> PublicKey:
        """Return the ring's key named by the token's ``kid``; refuse any other algorithm."""
        return self._ring_key(token)[1]

    def _ring_key(self, token) -> tuple[str, PublicKey]:
        try:
            header = _unverified_header(token)
        except InvalidTokenError as exc:
            raise TokenBackendError(_("Token is invalid")) from exc
        # The header's alg is compared, never used: the one configured algorithm
        # is the only one accepted (RFC 8725 §3.1).
        if header.get("alg") != self.algorithm:
            raise TokenBackendError(_("Invalid algorithm specified"))
        kid = header.get("kid")
        key = self.key_ring.verifying_keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenBackendError(_("Token is invalid"))
        return kid, key

    def decode(self, token, verify: bool = True) -> dict[str, Any]:
        """Return the payload of ``token`` after checking signature and claims.

        An access token this backend verified before: its key and time window only.
        """
        claims = self._verified_claims(token) if verify else None
        if claims is not None:
            return claims
        try:
            if not verify:
                return jwt.decode(token, options={"verify_signature": False})
            kid, key = self._ring_key(token)
            payload = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.get_leeway(),
                options={"verify_aud": self.audience is not None, "require": list(self.required_claims)},
            )
        except InvalidAlgorithmError as exc:
            raise TokenBackendError(_("Invalid algorithm specified")) from exc
        except ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken(_("Token is expired")) from exc
        except InvalidTokenError as exc:
            raise TokenBackendError(_("Token is invalid")) from exc
        except (ValueError, TypeError, UnicodeError, OverflowError) as exc:
            # Malformed input is a bad token, never a server error.
            raise TokenBackendError(_("Token is invalid")) from exc
        if not all(numeric_date_valid(payload[name]) for name in TIME_CLAIMS if name in payload):
            raise TokenBackendError(_("Token is invalid"))
        self._verified_remember(token, kid=kid, key=key, payload=payload)
        return payload

    def _verified_claims(self, token) -> dict[str, Any] | None:
        """Return a fresh copy of the claims of a remembered token still inside its time window, else None."""
        if not isinstance(token, str | bytes):
            return None
        digest = token_digest(token)
        entry = self.verified.get(digest)
        if entry is None:
            return None
        # PyJWT's own clock (api_jwt.datetime, read at call time) and its
        # comparisons: iat and nbf not after now + leeway, exp after now - leeway.
        now = api_jwt.datetime.now(tz=UTC).timestamp()
        leeway = self.get_leeway().total_seconds()
        if (
            self.key_ring.verifying_keys.get(entry.kid) is entry.key
            and entry.valid_from <= now + leeway
            and now - leeway < entry.exp
        ):
            claims = dict(entry.claims)
            for name in entry.list_claims:
                claims[name] = list(claims[name])
            return claims
        # Expired, not yet valid (a clock set back) or its key retired: the
        # full verification decides, with exactly today's error.
        self.verified.discard(digest)
        return None

    def _verified_remember(self, token, *, kid: str, key: PublicKey, payload: dict[str, Any]) -> None:
        if not isinstance(token, str | bytes) or self.verified.maxsize <= 0:
            return
        if payload.get(jwt_settings.api_settings.TOKEN_TYPE_CLAIM) != self.cached_token_type:
            return
        try:
            # Names interned: every entry shares one copy of each (claim_frozen does the same for strings).
            frozen = {sys.intern(name): claim_frozen(value) for name, value in payload.items()}
        except TypeError:
            return
        try:
            # As PyJWT reads them; it has just accepted them, so this never fails for a genuine token.
            iat, exp = int(payload["iat"]), int(payload["exp"])
            valid_from = max(iat, int(payload["nbf"])) if "nbf" in payload else iat
        except (KeyError, ValueError, TypeError, OverflowError):
            return
        claims = MappingProxyType(frozen)  # a copy: the caller's dict may change
        lists = tuple(name for name, value in payload.items() if type(value) is list)
        entry = VerifiedToken(
            kid=kid, key=key, claims=claims, valid_from=valid_from, exp=exp, list_claims=lists
        )
        self.verified.put(token_digest(token), entry)


def token_digest(token: str | bytes) -> bytes:
    """Return the verified-token cache's key for ``token``: its SHA-256 digest.

    A collision-resistant digest is as exact a key as the token itself (a
    token that differs by one byte is another key), and the cache then holds
    no credential a memory dump could replay, in 32 bytes instead of about 450.
    """
    raw = token.encode("utf-8", "surrogatepass") if isinstance(token, str) else token
    return hashlib.sha256(raw).digest()


@functools.cache
def key_ring() -> KeyRing:
    """Return the configured key ring (built once; rebuilt when settings change)."""
    from rest_framework_simplejwt.settings import api_settings

    return KeyRing.from_pem(
        algorithm=api_settings.ALGORITHM,
        private_pem=api_settings.SIGNING_KEY,
        extra_public_pem=getattr(settings, "JWT_EXTRA_PUBLIC_KEYS", ""),
    )


@functools.cache
def token_backend() -> KeyRingTokenBackend:
    """Return the token backend of every token class of the project.

    Built once per key ring: a new ring (settings changed) gets a new backend
    and so an empty verified-token cache.
    """
    from rest_framework_simplejwt.settings import api_settings

    return KeyRingTokenBackend(
        key_ring=key_ring(),
        audience=api_settings.AUDIENCE,
        issuer=api_settings.ISSUER,
        leeway=api_settings.LEEWAY,
        json_encoder=api_settings.JSON_ENCODER,
        verified_cache_size=setting("JWT_VERIFIED_CACHE_SIZE"),
    )


@receiver(setting_changed)
def _key_caches_clear(*, setting: str, **kwargs) -> None:
    if setting in {"SIMPLE_JWT", "JWT_EXTRA_PUBLIC_KEYS", "JWT_VERIFIED_CACHE_SIZE"}:
        key_ring.cache_clear()
        token_backend.cache_clear()


def jwks_document() -> dict[str, list[dict[str, str]]]:
    """Return the JWK Set of every key that verifies this project's tokens."""
    return key_ring().jwks()


_HEADERS_MAX = 64
_headers: dict[str, dict[str, Any]] = {}


def _unverified_header(token: str | bytes) -> dict[str, Any]:
    """Return the token's header, parsed once per distinct header segment (one per signing key in practice).

    PyJWT's get_unverified_header() checks and decodes all three segments,
    and decode() then does it again. The header segment alone decides the
    header, and decode() still checks every segment of every token, so the
    parse is kept per segment. Bounded: forged headers can only evict
    entries (a token whose first parse fails is never kept).
    """
    if isinstance(token, bytes):
        token = token.decode("utf-8")
    segment = token.partition(".")[0]
    header = _headers.get(segment)
    if header is None:
        header = jwt.get_unverified_header(token)
        if len(_headers) >= _HEADERS_MAX:
            _headers.clear()
        _headers[segment] = header
    return header
