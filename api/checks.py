"""System checks of the cookie names: a prefix the browser would refuse is an error at start-up.

A browser drops a ``__Host-`` cookie that lacks Secure, has a Domain or a Path
other than ``/``, and a ``__Secure-`` cookie that lacks Secure (OWASP ASVS
5.0 V3.3.1; RFC 6265bis section 4.1.3): the login would silently fail. The
settings derive each name from its cookie's Secure switch
(authdemo/cookienames.py); these checks catch an override that breaks the pairing.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from authdemo.cookienames import HOST_PREFIX, SECURE_PREFIX


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
