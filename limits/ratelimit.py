"""Rate limits: the login limits every login path shares (form, admin, JSON token, cookie) and action limits.

Fixed-window counters in the shared cache (authcache.shared: Redis in
services mode, else the database), so every worker process counts every
attempt; a count is one atomic ``add`` or ``incr``. Each key's windows start
at its own offset, so not every counter resets at once.

Login (OWASP ASVS 5.0 V6.3.1; OWASP "Slow down online guessing attacks with
device cookies"):

- per client address, for every client: every attempt counts
  (LOGIN_RATELIMIT_IP, default 30/m);
- per username, for untrusted clients: counted *before* the password check,
  refunded by a successful login, so the counter holds failed attempts
  (LOGIN_RATELIMIT_USERNAME, default 5/15m). Counting first keeps the limit
  under concurrency: 30 parallel wrong attempts against a limit of 5 let at
  most 5 reach the password hasher;
- per device, for a client whose device cookie (limits.devicecookie) was
  issued by a successful login of this username: that device's own counter,
  counted and refunded the same way (LOGIN_RATELIMIT_DEVICE, default 10/15m),
  instead of the username's. Whoever guesses from elsewhere locks out only
  the untrusted clients; a stolen device cookie still guesses slowly.

A locked-out username answers the same 429 whether or not the account exists.

Per-client-address limits count an IPv4 address, or the IPv6 network of
RATELIMIT_IPV6_PREFIX bits (default 64: one customer's allocation, RFC 6177),
since one client holds a whole /64; an IPv4-mapped IPv6 address counts as
its IPv4 address.

Fail closed: when the cache cannot be reached nothing can be counted, so a
limit raises authcache.guard.CacheUnavailable (Redis) or the database's
own error (the shared cache's table), and the request answers 503 with
Retry-After (authdemo.outage) rather than allowing unlimited guessing. A
refund lost to an outage only makes the limit stricter.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import re
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from authcache.guard import cache_guarded
from authcache.shared import shared_cache
from authdemo.http import client_ip
from limits.devicecookie import device_token_read
from usernames import username_canonical

GROUP_IP = "login-ip"
GROUP_USERNAME = "login-username"
GROUP_DEVICE = "login-device"

# Defaults of the settings a deployment rarely changes.
DEFAULT_DEVICE_RATE = "10/15m"
DEFAULT_IPV6_PREFIX = 64

# A counter outlives its window by this much, so it cannot expire between add and incr.
EXPIRY_MARGIN = 5
_RATE = re.compile(r"(\d+)/(\d*)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _now() -> int:
    return int(time.time())


def username_normalize(raw: object) -> str:
    """Return the rate-limit identity of a username: the key its account is looked up by."""
    # One function for both, so no spelling reaches an account under another counter.
    return username_canonical(raw)


# --- Counters -------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    time_left: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def rate_parse(rate: str) -> tuple[int, int]:
    """Return (limit, period in seconds) of a rate such as "5/15m", "30/m" or "10/h"."""
    match = _RATE.fullmatch(rate.strip()) if isinstance(rate, str) else None
    if match is None or (match[2] and int(match[2]) == 0):
        raise ImproperlyConfigured(f"Rate {rate!r} is not like '5/15m' (count/[n]s|m|h|d).")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNIT_SECONDS[unit]


def _window(*, group: str, value: str, rate: str) -> tuple[str, int, int, int]:
    """Return (cache key, limit, seconds left, cache timeout) of the current window of ``value``."""
    limit, period = rate_parse(rate)
    digest = hashlib.sha256(f"{group}\0{value}".encode()).hexdigest()
    now = _now()
    offset = int(digest[:8], 16) % period
    end = now - (now - offset) % period + period
    # The rate is in the key: a changed setting starts fresh counts.
    key = f"rl:{group}:{limit}/{period}:{digest}:{end}"
    return key, limit, end - now, end - now + EXPIRY_MARGIN


def counter_hit(*, group: str, value: str, rate: str) -> Usage:
    """Count one event of ``value`` in ``group`` within ``rate``; return the window's count with it."""
    cache = shared_cache()
    key, limit, left, timeout = _window(group=group, value=value, rate=rate)
    # add() creates the counter for exactly one of several parallel callers;
    # the others incr() it: no check-then-write window.
    if cache.add(key, 1, timeout):
        return Usage(count=1, limit=limit, time_left=left)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: start again
        count = 1 if cache.add(key, 1, timeout) else cache.incr(key)
    return Usage(count=count, limit=limit, time_left=left)


def counter_refund(*, group: str, value: str, rate: str) -> None:
    """Take back one counted event of ``value`` in the current window, never below zero."""
    cache = shared_cache()
    key, *_ = _window(group=group, value=value, rate=rate)
    if (cache.get(key) or 0) <= 0:
        return
    # A ValueError means the window rolled over meanwhile: nothing to refund.
    with contextlib.suppress(ValueError):
        cache.decr(key)


def ipv6_prefix() -> int:
    """Return how many leading bits of an IPv6 address one client is counted by (RATELIMIT_IPV6_PREFIX)."""
    prefix = getattr(settings, "RATELIMIT_IPV6_PREFIX", DEFAULT_IPV6_PREFIX)
    if isinstance(prefix, bool) or not isinstance(prefix, int) or not 0 <= prefix <= 128:
        raise ImproperlyConfigured(f"RATELIMIT_IPV6_PREFIX must be an int from 0 to 128, not {prefix!r}.")
    return prefix


def client_ip_key(request: HttpRequest) -> str:
    """Return what per-client-address limits count: an IPv4 address or an IPv6 network (module docstring)."""
    raw = client_ip(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw  # no address (REMOTE_ADDR of a unix socket): counted as it is
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    bits = ipv6_prefix()
    network = int(address) >> (128 - bits) << (128 - bits)
    return str(ipaddress.IPv6Network((network, bits)))


# --- Login ----------------------------------------------------------------------


@dataclass(frozen=True)
class LoginThrottle:
    limited: bool
    retry_after: int  # seconds until the counter that limits resets; 0 when not limited
    # Attempts the username (or the trusted device) has left in its window
    # after this one fails, and how long a lock would then last (None: no
    # username counted).
    remaining: int | None = None
    lock_seconds: int = 0
    scope: str = "username"  # what a lock applies to: "username" or, for a trusted device, "device"

    @property
    def message(self) -> str:
        """Return the one wording of a refused login, on every path (form, admin, API)."""
        return f"Too many login attempts. Try again in {duration_human(self.retry_after)}."

    @property
    def warning(self) -> str:
        """Return the warning to show after a failed attempt when one attempt is left, else ""."""
        if self.limited or self.remaining != 1:
            return ""
        return f"1 attempt left before this {self.scope} is locked for {duration_human(self.lock_seconds)}."


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


def device_rate() -> str:
    """Return the rate of failed logins from one trusted device (LOGIN_RATELIMIT_DEVICE)."""
    return getattr(settings, "LOGIN_RATELIMIT_DEVICE", DEFAULT_DEVICE_RATE)


def _named_counter(request: HttpRequest, identity: str) -> tuple[str, str, str, str]:
    """Return (group, value, rate, scope) of the counter a login of ``identity`` from this client uses."""
    device = device_token_read(request, identity=identity)
    if device is not None:
        # Trusted: its own limit, so failures from elsewhere never lock the owner out here.
        return GROUP_DEVICE, device, device_rate(), "device"
    return GROUP_USERNAME, identity, settings.LOGIN_RATELIMIT_USERNAME, "username"


def _throttle(usages: list[Usage], named: Usage | None, scope: str) -> LoginThrottle:
    extra = {}
    if named is not None:
        extra = {
            "remaining": max(0, named.limit - named.count),
            "lock_seconds": named.time_left,
            "scope": scope,
        }
    limiting = [u for u in usages if u.exceeded]
    if not limiting:
        return LoginThrottle(limited=False, retry_after=0, **extra)
    return LoginThrottle(limited=True, retry_after=max(1, *(u.time_left for u in limiting)), **extra)


@cache_guarded()
def login_attempt_register(request: HttpRequest, *, username: object) -> LoginThrottle:
    """Count one login attempt against the client address and the username (or device); return the verdict.

    Call before checking the password, with the username as the client sent
    it (form field or JSON member: every transport counts alike). The
    username (or device) counter is only touched when a username was given.
    """
    identity = username_normalize(username)
    usages = [counter_hit(group=GROUP_IP, value=client_ip_key(request), rate=settings.LOGIN_RATELIMIT_IP)]
    if not identity:
        return _throttle(usages, None, "username")
    group, value, rate, scope = _named_counter(request, identity)
    named = counter_hit(group=group, value=value, rate=rate)
    return _throttle([*usages, named], named, scope)


@cache_guarded(suppress=True)
def login_success_register(request: HttpRequest, *, username: object) -> None:
    """Refund the username's (or trusted device's) count of a successful login: it holds failures only."""
    identity = username_normalize(username)
    if not identity:
        return
    group, value, rate, _ = _named_counter(request, identity)
    counter_refund(group=group, value=value, rate=rate)


# --- Actions --------------------------------------------------------------------


@cache_guarded()
def action_attempt_register(*, group: str, rate: str, key: str) -> LoginThrottle:
    """Count one attempt of a limited action (signup, reset mail) under ``key``; return whether to refuse."""
    usage = counter_hit(group=group, value=key, rate=rate)
    if not usage.exceeded:
        return LoginThrottle(limited=False, retry_after=0)
    return LoginThrottle(limited=True, retry_after=max(1, usage.time_left))


def signup_attempt_register(request: HttpRequest) -> LoginThrottle:
    """Count one signup from the client's address (each costs a password hash and may create an account)."""
    return action_attempt_register(
        group="signup-ip", rate=settings.SIGNUP_RATELIMIT_IP, key=client_ip_key(request)
    )


def lab_action_register(request: HttpRequest) -> LoginThrottle:
    """Count one lab action (a revocation run or replay, a CSRF-lab run) from the client's address."""
    return action_attempt_register(group="lab-ip", rate=settings.LAB_RATELIMIT_IP, key=client_ip_key(request))


def password_reset_ip_register(request: HttpRequest) -> LoginThrottle:
    """Count one password-reset request from the client's address."""
    return action_attempt_register(
        group="reset-ip", rate=settings.PASSWORD_RESET_RATELIMIT_IP, key=client_ip_key(request)
    )


def password_reset_email_register(request: HttpRequest, *, email: str) -> LoginThrottle:
    """Count one reset mail to ``email``, whether or not an account has it (no enumeration)."""
    return address_mail_register(email=email)


def address_mail_register(*, email: str) -> LoginThrottle:
    """Count one mail to ``email`` (a reset link, an address confirmation, an "address taken" notice).

    One budget per inbox (PASSWORD_RESET_RATELIMIT_EMAIL), whatever sends
    the mail, so no form of the site can be used to flood an address.
    """
    return action_attempt_register(
        group="reset-email",
        rate=settings.PASSWORD_RESET_RATELIMIT_EMAIL,
        key=unicodedata.normalize("NFKC", email).casefold().strip(),
    )
