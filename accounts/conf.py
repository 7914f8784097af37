"""Tunables of the accounts app with their defaults (imported once by AccountsConfig.ready()).

As django-axes' conf.py does, a setting the project does not declare gets its
default on ``settings`` here, so ``settings.NAME`` reads the same everywhere
and ``override_settings`` still works in tests. A deployment sets them through
the environment (authdemo/settings.py, "App tunables").
"""

from __future__ import annotations

import os

from django.conf import settings
from django.utils.module_loading import import_string

# Argon2 hashes running at once per process; each holds memory_cost (19 MiB),
# so a burst of logins takes at most this many times 19 MiB of hashing memory.
# Hashing is CPU-bound: more at once than there are cores adds memory and
# latency, no throughput. Default: the CPU count, at most 8.
settings.PASSWORD_HASH_CONCURRENCY = getattr(
    settings, "PASSWORD_HASH_CONCURRENCY", min(os.cpu_count() or 1, 8)
)

# Server-side session lifetimes in seconds (OWASP ASVS 5.0 V7.3.1 idle, V7.3.2
# absolute), enforced on every read of the session, not only by the cookie
# (docs/sessions.md). Plain login: the cookie ends with the browser; the
# session ends after 1 h without activity and at the latest 12 h after login.
settings.SESSION_IDLE_TIMEOUT = getattr(settings, "SESSION_IDLE_TIMEOUT", 60 * 60)
settings.SESSION_ABSOLUTE_LIFETIME = getattr(settings, "SESSION_ABSOLUTE_LIFETIME", 12 * 60 * 60)
# "Remember me": a persistent cookie; 7 days idle, 14 days at the latest.
settings.SESSION_REMEMBER_IDLE_TIMEOUT = getattr(settings, "SESSION_REMEMBER_IDLE_TIMEOUT", 7 * 24 * 60 * 60)
settings.SESSION_REMEMBER_ABSOLUTE_LIFETIME = getattr(
    settings, "SESSION_REMEMBER_ABSOLUTE_LIFETIME", 14 * 24 * 60 * 60
)
# Last activity is written at most once per this many seconds per session, so
# an authenticated request normally writes nothing to the database. The idle
# timeout counts from the last write: a session ends 55 to 60 min after its
# last request (never later than the timeout), and a site with many active
# clients writes once per client per 5 minutes (docs/bench/analysis.md).
settings.SESSION_ACTIVITY_UPDATE_INTERVAL = getattr(settings, "SESSION_ACTIVITY_UPDATE_INTERVAL", 5 * 60)
# Logins per page on "Your sessions" and "Your devices" (a user may have thousands).
settings.LOGIN_LIST_PAGE_SIZE = getattr(settings, "LOGIN_LIST_PAGE_SIZE", 50)
# Seconds an email confirmation link stays valid (accounts/emails.py).
settings.EMAIL_CONFIRMATION_TIMEOUT = getattr(settings, "EMAIL_CONFIRMATION_TIMEOUT", 3 * 24 * 60 * 60)

# Step-up (accounts/assurance.py): how old an authentication may be for a
# sensitive action (OWASP ASVS 5.0 V7.5.1: re-authentication before changing
# credentials or factors). Checked in accounts/checks.py.
settings.REAUTH_SECONDS = getattr(settings, "REAUTH_SECONDS", 300)
# Where a sensitive page sends a session whose authentication is too old
# (accounts.stepup): a URL name or a path, as LOGIN_URL; the mfa app serves it.
settings.REAUTH_URL = getattr(settings, "REAUTH_URL", "/accounts/reauthenticate/")
# The login's second step: the dotted path of a class, as AUTHENTICATION_BACKENDS
# name theirs (accounts knows the interface, not the app), whose instances answer
# required(user) -> bool and begin(request, *, user, remember) -> HttpResponse,
# the session anonymous until the step ends. None: a password suffices (checks.py).
settings.ACCOUNTS_LOGIN_SECOND_STEP = getattr(settings, "ACCOUNTS_LOGIN_SECOND_STEP", None)


def login_second_step():
    """Return the login's second step (ACCOUNTS_LOGIN_SECOND_STEP), or None if a password suffices."""
    path = settings.ACCOUNTS_LOGIN_SECOND_STEP
    return import_string(path)() if path else None


def reauth_seconds() -> int:
    """Return how old an authentication may be for a sensitive action (REAUTH_SECONDS)."""
    return settings.REAUTH_SECONDS
