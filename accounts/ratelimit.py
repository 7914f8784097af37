"""Login rate limits shared by every login path (HTML form, JSON token, JSON cookie).

Two counters, both in the shared cache (accounts.sharedcache: Redis in
services mode, else the database), so every worker process counts every
attempt; django-ratelimit increments atomically with cache.add and
cache.incr:

- per client IP: every attempt counts (LOGIN_RATELIMIT_IP, default 30/m);
- per username: every attempt is counted *before* the password check, and a
  successful login refunds its count, so the counter holds failed attempts
  (LOGIN_RATELIMIT_USERNAME, default 5/15m). Counting first is what keeps the
  limit under concurrency: 30 parallel wrong attempts against a limit of 5
  let at most 5 reach the password hasher (OWASP ASVS 5.0 V6.3.1).

A locked-out username answers the same 429 whether or not the account exists.

Fail closed: when the cache cannot be reached the limiter cannot count, so
``login_attempt_register`` raises accounts.cachesafe.CacheUnavailable (Redis)
or the database's own error (the shared cache's table), and every login path
answers 503 with Retry-After (authdemo.outage) rather than allowing
unlimited guessing (OWASP ASVS 5.0 V6.3.1). A refund lost to an outage only
makes the limit stricter.
"""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate, get_usage

from accounts.cachesafe import cache_guarded
from accounts.sharedcache import shared_cache
from accounts.usernames import username_canonical
from authdemo.http import client_ip

GROUP_IP = "login-ip"
GROUP_USERNAME = "login-username"


def username_normalize(raw: object) -> str:
    """Return the rate-limit identity of a username: the key its account is looked up by."""
    # One function for both, so no spelling reaches an account under another counter.
    return username_canonical(raw)


def _key_ip(group: str, request: HttpRequest) -> str:
    return client_ip(request)


@dataclass(frozen=True)
class LoginThrottle:
    limited: bool
    retry_after: int  # seconds until the counter that limits resets; 0 when not limited
    # Attempts the username has left in its window after this one fails, and
    # how long a lock would then last (None: no username counted).
    remaining: int | None = None
    lock_seconds: int = 0

    @property
    def message(self) -> str:
        """Return the one wording of a refused login, on every path (form, admin, API)."""
        return f"Too many login attempts. Try again in {duration_human(self.retry_after)}."

    @property
    def warning(self) -> str:
        """Return the warning to show after a failed attempt when one attempt is left, else ""."""
        if self.limited or self.remaining != 1:
            return ""
        return f"1 attempt left before this username is locked for {duration_human(self.lock_seconds)}."


def duration_human(seconds: int) -> str:
    """Return a rough duration for people: "about 40 seconds", "about 12 minutes", "about 2 hours"."""
    seconds = max(1, int(seconds))
    if seconds < 60:
        value, unit = seconds, "second"
    elif seconds < 90 * 60:
        value, unit = max(1, round(seconds / 60)), "minute"
    else:
        value, unit = round(seconds / 3600), "hour"
    return f"about {value} {unit}{'' if value == 1 else 's'}"


@cache_guarded()
def login_attempt_register(request: HttpRequest, *, username: object) -> LoginThrottle:
    """Count one login attempt against the IP and username limits; return whether to refuse it.

    Call before checking the password, with the username as the client sent
    it (form field or JSON member: every transport counts alike). The
    username counter is only touched when a username was given.
    """
    identity = username_normalize(username)
    usages = [
        get_usage(
            request,
            group=GROUP_IP,
            key=_key_ip,
            rate=settings.LOGIN_RATELIMIT_IP,
            increment=True,
        )
    ]
    if identity:
        usages.append(
            get_usage(
                request,
                group=GROUP_USERNAME,
                key=lambda group, request: identity,
                rate=settings.LOGIN_RATELIMIT_USERNAME,
                increment=True,
            )
        )
    limiting = [u for u in usages if u and u["should_limit"]]
    named = usages[1] if identity and len(usages) > 1 and usages[1] else None
    extra = {}
    if named is not None:
        extra = {"remaining": max(0, named["limit"] - named["count"]), "lock_seconds": named["time_left"]}
    if not limiting:
        return LoginThrottle(limited=False, retry_after=0, **extra)
    return LoginThrottle(limited=True, retry_after=max(1, max(u["time_left"] for u in limiting)), **extra)


@cache_guarded(suppress=True)
def login_success_register(request: HttpRequest, *, username: object) -> None:
    """Refund the username count of a successful login, so the counter holds failures only."""
    value = username_normalize(username)
    if not value:
        return
    usage = get_usage(
        request,
        group=GROUP_USERNAME,
        key=lambda group, request: value,
        rate=settings.LOGIN_RATELIMIT_USERNAME,
        increment=False,
    )
    if not usage or usage["count"] <= 0:
        return
    # django-ratelimit has no public decrement; its key function is private
    # but pinned (requirements.txt) and covered by a test of this refund.
    rate = settings.LOGIN_RATELIMIT_USERNAME
    _, period = _split_rate(rate)
    window = _get_window(value, period)
    cache_key = _make_cache_key(GROUP_USERNAME, window, rate, value, ALL)
    # A ValueError means the window rolled over meanwhile: nothing to refund.
    with contextlib.suppress(ValueError):
        shared_cache().decr(cache_key)


def action_attempt_register(request: HttpRequest, *, group: str, rate: str, key: str) -> LoginThrottle:
    """Count one attempt of a limited action (signup, reset mail) under ``key``; return whether to refuse."""
    usage = get_usage(request, group=group, key=lambda group, request: key, rate=rate, increment=True)
    if not usage or not usage["should_limit"]:
        return LoginThrottle(limited=False, retry_after=0)
    return LoginThrottle(limited=True, retry_after=max(1, usage["time_left"]))


def signup_attempt_register(request: HttpRequest) -> LoginThrottle:
    """Count one signup from the client's IP (each costs a password hash and may create an account)."""
    return action_attempt_register(
        request, group="signup-ip", rate=settings.SIGNUP_RATELIMIT_IP, key=client_ip(request)
    )


def lab_action_register(request: HttpRequest) -> LoginThrottle:
    """Count one lab action (a revocation run or replay, a CSRF-lab run) from the client's IP."""
    return action_attempt_register(
        request, group="lab-ip", rate=settings.LAB_RATELIMIT_IP, key=client_ip(request)
    )


def password_reset_ip_register(request: HttpRequest) -> LoginThrottle:
    """Count one password-reset request from the client's IP."""
    return action_attempt_register(
        request, group="reset-ip", rate=settings.PASSWORD_RESET_RATELIMIT_IP, key=client_ip(request)
    )


def password_reset_email_register(request: HttpRequest, *, email: str) -> LoginThrottle:
    """Count one reset mail to ``email``, whether or not an account has it (no enumeration)."""
    return action_attempt_register(
        request,
        group="reset-email",
        rate=settings.PASSWORD_RESET_RATELIMIT_EMAIL,
        key=unicodedata.normalize("NFKC", email).casefold().strip(),
    )
