"""Settings of the JWT side: their defaults, and the key material read from what settings.py declares.

Imported once by ApiConfig.ready(). As django-axes' conf.py does, a setting
the project does not declare gets its default on ``settings`` here, so
``settings.NAME`` reads the same everywhere and ``override_settings`` still
works in tests. settings.py only declares where the keys come from; api/checks.py
refuses a wrong configuration.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from api import jwk

# Stateless mode: SimpleJWT's stateless user authentication, no user query and
# no revocation check per request. Only for the benchmark's comparison: a
# revoked, deactivated or deleted user's access token then works until it expires.
settings.JWT_STATELESS = getattr(settings, "JWT_STATELESS", False)
# Refresh reuse grace (seconds): the refresh token the current one replaced,
# presented again this soon after its rotation, gets the login's current pair
# instead of counting as reuse, so two tabs or threads refreshing at once do
# not log the user out; an older token is always reuse.
# 0: strict, every second presentation is reuse (docs/jwt.md, the trade-off).
settings.JWT_REFRESH_REUSE_GRACE = getattr(settings, "JWT_REFRESH_REUSE_GRACE", 5)


def _file_text(path: str) -> str:
    return Path(path).read_text() if path else ""


def signing_keys_read() -> tuple[str, str]:
    """Return the signing key (PEM) and the other verifying keys (a PEM bundle) the settings point to.

    From the environment's values (JWT_PRIVATE_KEY or its _FILE, and
    JWT_EXTRA_PUBLIC_KEYS or its _FILE), else from the embedded default's key
    files in JWT_KEYS_DIR ("" for a signing key init_secrets has not made).
    Raises OSError for an unreadable file, JwkError for an unreadable staged key.
    """
    if settings.JWT_KEYS_SOURCE == "environment":
        private = settings.JWT_PRIVATE_KEY or _file_text(settings.JWT_PRIVATE_KEY_FILE)
        extra = settings.JWT_EXTRA_PUBLIC_KEYS or _file_text(settings.JWT_EXTRA_PUBLIC_KEYS_FILE)
        return private, extra
    keys_dir = Path(settings.JWT_KEYS_DIR)
    signing = jwk.key_files(keys_dir).signing
    private = signing.read_text() if signing.exists() else ""
    return private, jwk.key_files_extra_public_pem(keys_dir)


def signing_keys_install() -> None:
    """Set SIMPLE_JWT's SIGNING_KEY and VERIFYING_KEY, and JWT_EXTRA_PUBLIC_KEYS, to the configured keys.

    Keys the settings already hold (a settings module of its own) are kept.
    A missing or unreadable key installs an empty one: api/checks.py reports
    it, and the key ring refuses to sign or verify rather than use another key.
    """
    try:
        private, extra = signing_keys_read()
        public = jwk.public_key_pem(jwk.private_key_load(private).public_key()) if private else ""
    except (OSError, jwk.JwkError):
        private, public, extra = "", "", ""
    # SimpleJWT reads this very dict (its api_settings keep a reference to it).
    # Never left unset: SimpleJWT's default would be SECRET_KEY.
    simple_jwt = settings.SIMPLE_JWT
    if not simple_jwt.get("SIGNING_KEY"):
        simple_jwt["SIGNING_KEY"], simple_jwt["VERIFYING_KEY"] = private, public
    settings.JWT_EXTRA_PUBLIC_KEYS = extra


signing_keys_install()
