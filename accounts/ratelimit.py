"""Login rate limits shared by every login path (HTML form, JSON token, JSON cookie).

Two counters, both in the default cache (Redis in services mode, so every
process shares them; django-ratelimit increments atomically with cache.add
and cache.incr):

- per client IP: every attempt counts (LOGIN_RATELIMIT_IP, default 30/m);
- per username: every attempt is counted *before* the password check, and a
  successful login refunds its count, so the counter holds failed attempts
  (LOGIN_RATELIMIT_USERNAME, default 5/15m). Counting first is what keeps the
  limit under concurrency: 30 parallel wrong attempts against a limit of 5
  let at most 5 reach the password hasher (OWASP ASVS 5.0 V6.3.1).

A locked-out username answers the same 429 whether or not the account exists.

Fail closed: when the cache cannot be reached the limiter cannot count, so
``login_attempt_register`` raises accounts.cachesafe.CacheUnavailable and
every login path answers 503 with Retry-After (authdemo.outage) rather than
allowing unlimited guessing (OWASP ASVS 5.0 V6.3.1). A refund lost to an
outage only makes the limit stricter.
"""

from __future__ import annotations

import contextlib
import ipaddress
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate, get_usage

from accounts.cachesafe import cache_guarded

GROUP_IP = "login-ip"
GROUP_USERNAME = "login-username"


def client_ip(request: HttpRequest) -> str:
    """Return the client IP: REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost trusted proxy.

    With TRUSTED_PROXY_COUNT = n, the last n addresses of X-Forwarded-For were
    appended by our proxies; the one they received the request from is the
    n-th from the right. Anything left of it is client-controlled. A missing,
    short or malformed header falls back to REMOTE_ADDR.
    """
    # An empty REMOTE_ADDR (unix-socket proxy without headers) shares one bucket.
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < trusted:
        return remote
    candidate = hops[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def username_normalize(raw: object) -> str:
    """Return the rate-limit identity of a username: NFKC, case-folded, stripped."""
    if not isinstance(raw, str):
        return ""
    return unicodedata.normalize("NFKC", raw).casefold().strip()


def _key_ip(group: str, request: HttpRequest) -> str:
    return client_ip(request)


@dataclass(frozen=True)
class LoginThrottle:
    limited: bool
    retry_after: int  # seconds until the counter that limits resets; 0 when not limited


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
    if not limiting:
        return LoginThrottle(limited=False, retry_after=0)
    return LoginThrottle(limited=True, retry_after=max(1, max(u["time_left"] for u in limiting)))


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
        caches[settings.RATELIMIT_USE_CACHE].decr(cache_key)
