"""Signing keys of the JWT side: a key ring, the token backend that uses it, the JWKS.

One private key signs; its public key and the other configured public keys
(the next key, staged before it signs, and the previous ones, kept until every
token they signed has expired) verify. Each key is named by its RFC 7638
thumbprint, which every token carries as ``kid`` in its header; verification
picks the key by ``kid`` and accepts only the configured algorithm (RFC 8725
§2.1, §3.1, §3.2): never ``none``, never HMAC, never a key named by the token
itself (``jwk``, ``jku``, ``x5u`` and ``x5c`` headers are ignored).

Settings (authdemo/settings.py, "JWT signing keys"): ``SIMPLE_JWT["ALGORITHM"]``
and ``["SIGNING_KEY"]``, ``JWT_EXTRA_PUBLIC_KEYS``, ``JWT_KEYS_SOURCE``,
``JWT_KEYS_DIR``. See docs/jwt-keys.md.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from jwt.exceptions import ExpiredSignatureError, InvalidAlgorithmError, InvalidTokenError
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken

PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey
PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

# The asymmetric algorithms this project signs with, and the key type each
# needs. HS* and "none" are absent on purpose (RFC 8725 §3.1, §3.2).
KEY_TYPES: dict[str, tuple[type, type]] = {
    "EdDSA": (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
    "RS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
}
RSA_MIN_BITS = 2048  # RFC 7518 §3.3
RSA_GENERATE_BITS = 3072

# How long verifiers may cache /.well-known/jwks.json. A staged key must be
# published at least this long before it signs (docs/jwt-keys.md).
JWKS_MAX_AGE = 300

_PEM_PUBLIC_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def public_key_jwk(public_key: PublicKey) -> dict[str, str]:
    """Return the required JWK members of ``public_key`` (RFC 8037 §2, RFC 7518 §6.3.1)."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
    raise ImproperlyConfigured(f"Unsupported JWT key type {type(public_key).__name__}.")


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of ``jwk`` (base64url, no padding)."""
    required = {"OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def public_key_kid(public_key: PublicKey) -> str:
    """Return the ``kid`` of ``public_key``: its RFC 7638 thumbprint."""
    return jwk_thumbprint(public_key_jwk(public_key))


def private_key_generate(*, algorithm: str) -> bytes:
    """Return a new private key for ``algorithm`` as unencrypted PKCS#8 PEM."""
    if algorithm not in KEY_TYPES:
        raise ImproperlyConfigured(f"JWT algorithm must be one of {sorted(KEY_TYPES)}, not {algorithm!r}.")
    key: PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=RSA_GENERATE_BITS)
        if algorithm == "RS256"
        else ed25519.Ed25519PrivateKey.generate()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(public_key: PublicKey) -> str:
    """Return ``public_key`` as SubjectPublicKeyInfo PEM."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def _key_check(key: Any, *, algorithm: str, private: bool) -> None:
    if algorithm not in KEY_TYPES:
        # Symmetric or unknown algorithms are refused outright: a verifier must
        # never accept HS* or "none" (RFC 8725 §3.1, §3.2).
        raise ImproperlyConfigured(
            f"SIMPLE_JWT['ALGORITHM'] must be one of {sorted(KEY_TYPES)}, not {algorithm!r}."
        )
    expected = KEY_TYPES[algorithm][0 if private else 1]
    if not isinstance(key, expected):
        kind = "signing" if private else "verifying"
        raise ImproperlyConfigured(
            f"A JWT {kind} key is a {type(key).__name__}, {algorithm} needs {expected.__name__}."
        )
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and key.key_size < RSA_MIN_BITS:
        raise ImproperlyConfigured(f"RSA JWT keys need at least {RSA_MIN_BITS} bits.")


def public_keys_load(*, pem_bundle: str) -> list[PublicKey]:
    """Return the public keys of ``pem_bundle``: zero or more concatenated PEM public keys."""
    keys = []
    for block in _PEM_PUBLIC_BLOCK.findall(pem_bundle or ""):
        try:
            keys.append(serialization.load_pem_public_key(block.encode("ascii")))
        except ValueError as exc:
            raise ImproperlyConfigured(f"Unreadable JWT public key: {exc}") from exc
    return keys


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
        if isinstance(private_pem, str):
            private_pem = private_pem.encode("ascii")
        try:
            signing_key = serialization.load_pem_private_key(private_pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"Unreadable JWT signing key (need unencrypted PEM): {exc}") from exc
        _key_check(signing_key, algorithm=algorithm, private=True)
        own = signing_key.public_key()
        verifying = {public_key_kid(own): own}
        for key in public_keys_load(pem_bundle=extra_public_pem):
            _key_check(key, algorithm=algorithm, private=False)
            verifying.setdefault(public_key_kid(key), key)
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


class KeyRingTokenBackend(TokenBackend):
    """SimpleJWT's TokenBackend signing with the ring's key and verifying by ``kid``.

    Claim validation stays SimpleJWT's and PyJWT's (``aud``, ``iss``, ``exp``,
    ``nbf``, ``iat``, leeway); ``exp``, ``iat`` and ``jti`` are also required.
    """

    required_claims = ("exp", "iat", "jti")

    def __init__(self, *, key_ring: KeyRing, audience=None, issuer=None, leeway=None, json_encoder=None):
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
        try:
            header = jwt.get_unverified_header(token)
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
        return key

    def decode(self, token, verify: bool = True) -> dict[str, Any]:
        """Return the payload of ``token`` after checking signature and claims."""
        try:
            if not verify:
                return jwt.decode(token, options={"verify_signature": False})
            return jwt.decode(
                token,
                self.get_verifying_key(token),
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
        except (ValueError, TypeError, UnicodeError) as exc:
            # Malformed input is a bad token, never a server error.
            raise TokenBackendError(_("Token is invalid")) from exc


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
    """Return the token backend of every token class of the project."""
    from rest_framework_simplejwt.settings import api_settings

    return KeyRingTokenBackend(
        key_ring=key_ring(),
        audience=api_settings.AUDIENCE,
        issuer=api_settings.ISSUER,
        leeway=api_settings.LEEWAY,
        json_encoder=api_settings.JSON_ENCODER,
    )


@receiver(setting_changed)
def _key_caches_clear(*, setting: str, **kwargs) -> None:
    if setting in {"SIMPLE_JWT", "JWT_EXTRA_PUBLIC_KEYS"}:
        key_ring.cache_clear()
        token_backend.cache_clear()


def jwks_document() -> dict[str, list[dict[str, str]]]:
    """Return the JWK Set of every key that verifies this project's tokens."""
    return key_ring().jwks()


class JwksView(APIView):
    """GET /.well-known/jwks.json: the public keys that verify access tokens."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="jwks",
        summary="Public keys that verify tokens (JWK Set)",
        auth=[],
        tags=["keys"],
        responses={
            200: OpenApiResponse(
                response=inline_serializer(
                    "JwkSet",
                    {
                        "keys": serializers.ListField(
                            child=serializers.DictField(child=serializers.CharField())
                        )
                    },
                ),
                description="RFC 7517 JWK Set; select the key by the token header's kid.",
                examples=[
                    OpenApiExample(
                        "Ed25519",
                        value={
                            "keys": [
                                {
                                    "kty": "OKP",
                                    "crv": "Ed25519",
                                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                                    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
                                    "alg": "EdDSA",
                                    "use": "sig",
                                }
                            ]
                        },
                    )
                ],
            )
        },
    )
    def get(self, request: Request) -> Response:
        response = Response(jwks_document())
        # Public and cacheable: verifiers poll it (docs/jwt-keys.md, rotation).
        patch_cache_control(response, public=True, max_age=JWKS_MAX_AGE)
        return response


# --- Rotation of the embedded default's key files (jwt_rotate_key) ----------


@dataclass(frozen=True)
class RotationResult:
    old_kid: str | None
    new_kid: str
    from_staged: bool
    retired_kids: list[str]


def _keys_dir_paths(keys_dir: Path) -> tuple[Path, Path, Path]:
    return keys_dir / "signing_key.pem", keys_dir / "next_signing_key.pem", keys_dir / "previous"


def _file_write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600, atomically replacing any old file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _kid_of_private_pem(pem: bytes) -> str:
    return public_key_kid(serialization.load_pem_private_key(pem, password=None).public_key())


def signing_key_stage(*, keys_dir: Path, algorithm: str) -> tuple[str, bool]:
    """Return the kid of the staged next key in ``keys_dir`` (generated if absent) and whether it is new."""
    _, next_path, _ = _keys_dir_paths(keys_dir)
    if next_path.exists():
        return _kid_of_private_pem(next_path.read_bytes()), False
    keys_dir.mkdir(parents=True, exist_ok=True)
    _file_write_private(next_path, private_key_generate(algorithm=algorithm))
    return _kid_of_private_pem(next_path.read_bytes()), True


def signing_key_rotate(
    *, keys_dir: Path, algorithm: str, retire_after: timedelta, now: datetime | None = None
) -> RotationResult:
    """Rotate the key files in ``keys_dir``: the staged (or a new) key signs, the old one only verifies.

    The old public key is written to ``previous/`` before the signing key is
    replaced, so no moment exists where a valid token has no verifying key.
    Previous keys retired longer than ``retire_after`` ago are deleted.
    """
    now = now or datetime.now(tz=UTC)
    signing_path, next_path, previous_dir = _keys_dir_paths(keys_dir)
    previous_dir.mkdir(parents=True, exist_ok=True)
    old_kid = None
    if signing_path.exists():
        old_key = serialization.load_pem_private_key(signing_path.read_bytes(), password=None)
        old_kid = public_key_kid(old_key.public_key())
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        (previous_dir / f"{stamp}-{old_kid}.pem").write_text(public_key_pem(old_key.public_key()))
    from_staged = next_path.exists()
    new_pem = next_path.read_bytes() if from_staged else private_key_generate(algorithm=algorithm)
    _file_write_private(signing_path, new_pem)
    next_path.unlink(missing_ok=True)
    new_kid = _kid_of_private_pem(new_pem)

    retired = []
    for path in sorted(previous_dir.glob("*.pem")):
        stamp, _, kid = path.stem.partition("-")
        try:
            retired_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            continue  # not ours: leave it alone
        if kid == new_kid or now - retired_at > retire_after:
            path.unlink()
            if kid != new_kid:
                retired.append(kid)
    return RotationResult(old_kid=old_kid, new_kid=new_kid, from_staged=from_staged, retired_kids=retired)
