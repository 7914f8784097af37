"""Constants and assertions shared by the whole suite (fixtures are in conftest.py)."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command

PASSWORD = "correct horse battery staple"


def durations_masked(text: str) -> str:
    """Return ``text`` with every "about N unit(s)" of a lock message as "about N".

    Each rate-limit counter has its own staggered window, so two locks differ
    in the duration and even in its unit ("about 40 seconds", "about 12 minutes").
    """
    return re.sub(r"about \d+ (second|minute|hour)s?", "about N", text)


# The cookie names of plain HTTP (`make run`, DEBUG): no Secure flag, so no
# __Host-/__Secure- prefix (docs/contract.md, authdemo/cookienames.py).
PLAIN_COOKIE_NAMES = {
    "SESSION_COOKIE_NAME": "sessionid",
    "CSRF_COOKIE_NAME": "csrftoken",
    "JWT_ACCESS_COOKIE": "access_token",
    "JWT_REFRESH_COOKIE": "refresh_token",
}


def cookies_plain_http(settings) -> None:
    """Set ``settings`` (pytest-django's fixture) as plain HTTP has them: no Secure cookie, plain names."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.JWT_COOKIE_SECURE = False
    for setting, name in PLAIN_COOKIE_NAMES.items():
        setattr(settings, setting, name)


# The cookie names over HTTPS (production: Secure cookies, so the prefixes).
SECURE_COOKIE_NAMES = {
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "CSRF_COOKIE_NAME": "__Host-csrftoken",
    "JWT_ACCESS_COOKIE": "__Host-access_token",
    "JWT_REFRESH_COOKIE": "__Secure-refresh_token",
}


def cookies_https(settings) -> None:
    """Set ``settings`` (pytest-django's fixture) as production has them: Secure cookies, prefixed names."""
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.JWT_COOKIE_SECURE = True
    for setting, name in SECURE_COOKIE_NAMES.items():
        setattr(settings, setting, name)


def seed_logins(*, users: int, logins: int, expired: float) -> None:
    """Seed ``logins`` sessions and JWT logins over ``users`` users, a fraction ``expired`` expired."""
    call_command(
        "seed_load", "--users", str(users), "--logins", str(logins), "--expired", str(expired), "--force",
        "--no-progress", stdout=StringIO(),
    )  # fmt: skip
