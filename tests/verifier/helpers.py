"""Helpers of the verifier tests: hand-built and signed tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict, claims: dict, signature: bytes = b"") -> str:
    """Return a compact JWS built by hand (for algorithms no library will sign with)."""
    return ".".join(
        [b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(signature)]
    )


def access_claims(**overrides) -> dict:
    """Return the claims of a good access token of the site (its default issuer and audience)."""
    now = int(time.time())
    claims = {
        "token_type": "access",
        "user_id": "1",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 300,
        "iss": "authdemo",
        "aud": "authdemo-api",
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


def sign(key, claims: dict, *, kid: str, algorithm: str = "EdDSA", **headers) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid, **headers})
