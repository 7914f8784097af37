"""JWT key material without Django: JWK members, ``kid`` thumbprints, key generation, PEM, the key files.

Used by the api app's key loading and checks (api/conf.py, api/checks.py),
the key ring (api/keyring.py) and the init_secrets and jwt_rotate_key
commands. Each key is named by its RFC 7638 thumbprint. Only asymmetric
algorithms exist here (RFC 8725 §3.1, §3.2). Errors are ``JwkError`` (a
ValueError): a system check reports them, the key ring raises ImproperlyConfigured.

The embedded default keeps its keys in one folder (``var/jwt/``):
``signing_key.pem`` (the key that signs), ``next_signing_key.pem`` (staged:
published before it signs) and ``previous/<stamp>-<kid>.pem`` (retired public
keys, kept until every token they signed has expired). See docs/jwt-keys.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

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


class JwkError(ValueError):
    """A key is unreadable, of the wrong type or too weak, or an algorithm is not allowed."""


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
    raise JwkError(f"Unsupported JWT key type {type(public_key).__name__}.")


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
        raise JwkError(f"JWT algorithm must be one of {sorted(KEY_TYPES)}, not {algorithm!r}.")
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


def private_key_load(pem: str | bytes) -> PrivateKey:
    """Return the private key of ``pem`` (unencrypted PKCS#8 or traditional PEM)."""
    if isinstance(pem, str):
        pem = pem.encode("ascii")
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise JwkError(f"Unreadable JWT signing key (need unencrypted PEM): {exc}") from exc


def key_check(key: Any, *, algorithm: str, private: bool) -> None:
    """Refuse ``key`` unless it is a signing (``private``) or verifying key fit for ``algorithm``."""
    if algorithm not in KEY_TYPES:
        # Symmetric or unknown algorithms are refused outright: a verifier must
        # never accept HS* or "none" (RFC 8725 §3.1, §3.2).
        raise JwkError(f"SIMPLE_JWT['ALGORITHM'] must be one of {sorted(KEY_TYPES)}, not {algorithm!r}.")
    expected = KEY_TYPES[algorithm][0 if private else 1]
    if not isinstance(key, expected):
        kind = "signing" if private else "verifying"
        raise JwkError(f"A JWT {kind} key is a {type(key).__name__}, {algorithm} needs {expected.__name__}.")
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and key.key_size < RSA_MIN_BITS:
        raise JwkError(f"RSA JWT keys need at least {RSA_MIN_BITS} bits.")


def public_keys_load(*, pem_bundle: str) -> list[PublicKey]:
    """Return the public keys of ``pem_bundle``: zero or more concatenated PEM public keys."""
    keys = []
    for block in _PEM_PUBLIC_BLOCK.findall(pem_bundle or ""):
        try:
            keys.append(serialization.load_pem_public_key(block.encode("ascii")))
        except ValueError as exc:
            raise JwkError(f"Unreadable JWT public key: {exc}") from exc
    return keys


# --- The key files of the embedded default (var/jwt/) -------------------------


class KeyFiles(NamedTuple):
    signing: Path
    next: Path
    previous: Path


def key_files(keys_dir: Path) -> KeyFiles:
    """Return the paths of the signing key, the staged next key and the retired keys' folder."""
    return KeyFiles(keys_dir / "signing_key.pem", keys_dir / "next_signing_key.pem", keys_dir / "previous")


def key_files_extra_public_pem(keys_dir: Path) -> str:
    """Return the public keys of ``keys_dir`` besides the signing key: the staged one, then the retired."""
    files = key_files(keys_dir)
    staged = (
        [public_key_pem(private_key_load(files.next.read_bytes()).public_key())]
        if files.next.exists()
        else []
    )
    return "".join(staged + [path.read_text() for path in sorted(files.previous.glob("*.pem"))])


# --- Rotation of the key files (jwt_rotate_key) ---------------------------------


@dataclass(frozen=True)
class RotationResult:
    old_kid: str | None
    new_kid: str
    from_staged: bool
    retired_kids: list[str]


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
    return public_key_kid(private_key_load(pem).public_key())


def signing_key_stage(*, keys_dir: Path, algorithm: str) -> tuple[str, bool]:
    """Return the kid of the staged next key in ``keys_dir`` (generated if absent) and whether it is new."""
    _, next_path, _ = key_files(keys_dir)
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
    signing_path, next_path, previous_dir = key_files(keys_dir)
    previous_dir.mkdir(parents=True, exist_ok=True)
    old_kid = None
    if signing_path.exists():
        old_key = private_key_load(signing_path.read_bytes())
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
