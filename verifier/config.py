"""The verifier's settings, read from the environment here and nowhere else in the package.

The verifier is a separate service that imports nothing from the Django
project, so it cannot use authdemo/settings.py, the project's one settings
reader; this module is that reader for the verifier. Its defaults match the
site's (``JWT_ISSUER``, ``JWT_AUDIENCE``, ``JWT_LEEWAY``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Config:
    jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    issuer: str = "authdemo"
    audience: str = "authdemo-api"
    leeway: int = 5
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8000", "http://localhost:8000")
    # An unknown kid triggers at most one JWKS fetch per this many seconds, so
    # a flood of tokens with made-up kids cannot hammer the site.
    refetch_interval: float = 10.0
    # Bounds on the JWKS Cache-Control max-age the verifier honours.
    jwks_min_ttl: int = 30
    jwks_max_ttl: int = 3600
    fetch_timeout: float = 3.0
    # Tokens each process remembers as verified (verifier/verified.py; 0: off).
    verified_cache_size: int = 4096
    host: str = "127.0.0.1"
    port: int = 8001


def _number(environ: Mapping[str, str], name: str, default, kind, low, high):
    raw = environ.get(name, "").strip()
    try:
        value = kind(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, not {value}")
    return value


def config_from_env(environ: Mapping[str, str] = os.environ) -> Config:
    """Return the verifier's configuration from ``environ`` (every variable optional)."""
    base = Config()
    jwks_url = environ.get("JWKS_URL", "").strip() or base.jwks_url
    if urlsplit(jwks_url).scheme not in ("http", "https"):
        raise SystemExit(f"JWKS_URL must be an http(s) URL, not {jwks_url!r}")
    origins = environ.get("VERIFIER_ALLOWED_ORIGINS")
    min_ttl = _number(environ, "VERIFIER_JWKS_MIN_TTL", base.jwks_min_ttl, int, 0, 86400)
    return Config(
        jwks_url=jwks_url,
        issuer=environ.get("VERIFIER_ISSUER", "").strip() or base.issuer,
        audience=environ.get("VERIFIER_AUDIENCE", "").strip() or base.audience,
        # A small leeway for clock skew only (RFC 7519 §4.1.4).
        leeway=_number(environ, "VERIFIER_LEEWAY", base.leeway, int, 0, 60),
        allowed_origins=(
            tuple(o.strip() for o in origins.split(",") if o.strip())
            if origins is not None
            else base.allowed_origins
        ),
        refetch_interval=_number(environ, "VERIFIER_REFETCH_INTERVAL", base.refetch_interval, float, 0, 3600),
        jwks_min_ttl=min_ttl,
        jwks_max_ttl=_number(environ, "VERIFIER_JWKS_MAX_TTL", base.jwks_max_ttl, int, min_ttl, 86400),
        verified_cache_size=_number(
            environ, "VERIFIER_VERIFIED_CACHE_SIZE", base.verified_cache_size, int, 0, 1_000_000
        ),
        host=environ.get("HOST", "").strip() or base.host,
        port=_number(environ, "VERIFIER_PORT", base.port, int, 0, 65535),
    )
