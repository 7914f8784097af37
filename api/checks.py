"""System checks of the api app: the embedded default's secrets, the JWT settings and keys, the cookie names.

The settings only declare; these checks refuse at start-up what the token
side must not run with (registered by ApiConfig.ready()).

Cookie names: a browser drops a ``__Host-`` cookie that lacks Secure, has a
Domain or a Path other than ``/``, and a ``__Secure-`` cookie that lacks Secure
(OWASP ASVS 5.0 V3.3.1; RFC 6265bis section 4.1.3): the login would silently
fail. The settings derive each name from its cookie's Secure switch
(authdemo/cookienames.py); the checks catch an override that breaks the pairing.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import checks

from api import jwk
from api.conf import signing_keys_read
from authdemo.cookienames import HOST_PREFIX, SECURE_PREFIX

INIT_SECRETS_HINT = "make run, make serve and make test run it."


@checks.register()
def secrets_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Report the embedded default's secrets that `manage.py init_secrets` has not written yet."""
    errors: list[checks.CheckMessage] = []
    if settings.SECRET_KEY_FILE and not settings.SECRET_KEY_FILE.exists():
        errors.append(
            checks.Error(
                f"No secret key: {settings.SECRET_KEY_FILE} is missing; run python manage.py init_secrets.",
                hint=INIT_SECRETS_HINT,
                id="api.E001",
            )
        )
    signing = jwk.key_files(Path(settings.JWT_KEYS_DIR)).signing
    if settings.JWT_KEYS_SOURCE == "var" and not signing.exists():
        errors.append(
            checks.Error(
                f"No JWT signing key: {signing} is missing "
                "and JWT_PRIVATE_KEY(_FILE) is unset; run python manage.py init_secrets.",
                hint=INIT_SECRETS_HINT,
                id="api.E002",
            )
        )
    return errors


@checks.register()
def jwt_settings_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Report a JWT algorithm, key or reuse grace that the token side must not run with."""
    errors: list[checks.CheckMessage] = []
    algorithm = settings.SIMPLE_JWT.get("ALGORITHM")
    if algorithm not in jwk.KEY_TYPES:
        # Asymmetric only: a verifier must never accept HS* or "none" (RFC 8725 §3.1, §3.2).
        errors.append(
            checks.Error(
                f"JWT_ALGORITHM must be one of {sorted(jwk.KEY_TYPES)}, not {algorithm!r}.", id="api.E003"
            )
        )
    for name in ("JWT_PRIVATE_KEY", "JWT_EXTRA_PUBLIC_KEYS"):
        if getattr(settings, name) and getattr(settings, f"{name}_FILE"):
            errors.append(checks.Error(f"Set {name} or {name}_FILE, not both.", id="api.E004"))
    grace = settings.JWT_REFRESH_REUSE_GRACE
    if not isinstance(grace, int) or grace < 0:
        errors.append(
            checks.Error("JWT_REFRESH_REUSE_GRACE must be 0 (strict) or a number of seconds.", id="api.E005")
        )
    if algorithm in jwk.KEY_TYPES:
        errors.extend(_keys_check(algorithm))
    return errors


def _keys_check(algorithm: str) -> list[checks.CheckMessage]:
    try:
        private, extra = signing_keys_read()
        if not private:
            return []  # the embedded default before init_secrets: api.E002
        jwk.key_check(jwk.private_key_load(private), algorithm=algorithm, private=True)
        for key in jwk.public_keys_load(pem_bundle=extra):
            jwk.key_check(key, algorithm=algorithm, private=False)
    except (OSError, jwk.JwkError) as exc:
        return [checks.Error(f"JWT keys: {exc}", id="api.E006")]
    return []


def _cookies() -> list[tuple[str, str, bool, str, str | None]]:
    """Return (setting, name, secure, path, domain) of every cookie the site sets."""
    return [
        (
            "SESSION_COOKIE_NAME",
            settings.SESSION_COOKIE_NAME,
            settings.SESSION_COOKIE_SECURE,
            settings.SESSION_COOKIE_PATH,
            settings.SESSION_COOKIE_DOMAIN,
        ),
        (
            "CSRF_COOKIE_NAME",
            settings.CSRF_COOKIE_NAME,
            settings.CSRF_COOKIE_SECURE,
            settings.CSRF_COOKIE_PATH,
            settings.CSRF_COOKIE_DOMAIN,
        ),
        ("JWT_ACCESS_COOKIE", settings.JWT_ACCESS_COOKIE, settings.JWT_COOKIE_SECURE, "/", None),
        (
            "JWT_REFRESH_COOKIE",
            settings.JWT_REFRESH_COOKIE,
            settings.JWT_COOKIE_SECURE,
            settings.JWT_REFRESH_COOKIE_PATH,
            None,
        ),
    ]


@checks.register(checks.Tags.security)
def cookie_prefixes_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Return an error per cookie whose attributes break its prefix, a warning per unprefixed Secure one."""
    messages: list[checks.CheckMessage] = []
    for setting, name, secure, path, domain in _cookies():
        if name.startswith(HOST_PREFIX) and not (secure and path == "/" and not domain):
            messages.append(
                checks.Error(
                    f"{setting} is {name!r}: a __Host- cookie must be Secure, with Path=/ and no Domain.",
                    hint="Leave the names to the settings: they follow each cookie's Secure switch.",
                    id="api.E010",
                )
            )
        elif name.startswith(SECURE_PREFIX) and not secure:
            messages.append(
                checks.Error(
                    f"{setting} is {name!r}: a __Secure- cookie must be Secure.",
                    hint="Leave the names to the settings: they follow each cookie's Secure switch.",
                    id="api.E011",
                )
            )
        elif secure and not name.startswith((HOST_PREFIX, SECURE_PREFIX)):
            messages.append(
                checks.Warning(
                    f"{setting} is {name!r}: a Secure cookie without the __Host-/__Secure- prefix "
                    "can be set by a sibling subdomain (OWASP ASVS 5.0 V3.3.1).",
                    id="api.W010",
                )
            )
    return messages
