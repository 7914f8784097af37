"""Device cookies: a signed token that a client which logged in before presents at its next login.

OWASP "Slow down online guessing attacks with device cookies": a successful
login gives the client a token ``{"u": <canonical username>, "d": <random
device id>}``, signed with the site's key (Django's signing, own salt, with a
timestamp). At the next login for that username the limiter counts the
attempt against the device instead of against the username
(limits.ratelimit), so failures by anyone else cannot lock the owner out
from the device they used before. A token for another username, a tampered
or an expired one makes the client untrusted; it is never an error.

Settings, with their defaults here: DEVICE_COOKIE_NAME (``__Host-device``
when the cookie is Secure, else ``device``), DEVICE_COOKIE_SECURE
(SESSION_COOKIE_SECURE), DEVICE_COOKIE_AGE (365 days).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase

from authdemo.cookienames import cookie_name
from usernames import username_canonical

# The signing salt stays as issued: another salt would untrust every device cookie in the wild.
SALT = "accounts.devicecookie"
DEFAULT_AGE = int(timedelta(days=365).total_seconds())


def device_cookie_secure() -> bool:
    """Return whether the device cookie is Secure (by default as the session cookie is)."""
    return bool(getattr(settings, "DEVICE_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE))


def device_cookie_name() -> str:
    """Return the device cookie's name: ``__Host-device`` when Secure, ``device`` without HTTPS."""
    # The __Host- prefix (Secure, Path=/, no Domain) keeps a sibling subdomain
    # from planting its own device cookie (OWASP ASVS 5.0 V3.3.1).
    return getattr(settings, "DEVICE_COOKIE_NAME", cookie_name("device", secure=device_cookie_secure()))


def device_cookie_age() -> int:
    """Return how long, in seconds, a device token is accepted after its login."""
    return int(getattr(settings, "DEVICE_COOKIE_AGE", DEFAULT_AGE))


def device_token_issue(*, username: str) -> str:
    """Return a new signed device token bound to ``username`` (its canonical form), with a new device id."""
    payload = {"u": username_canonical(username), "d": secrets.token_urlsafe(16)}
    return signing.dumps(payload, salt=SALT, compress=False)


def device_token_read(request: HttpRequest, *, identity: str) -> str | None:
    """Return the device id of the request's device token if it is valid and for ``identity``, else None.

    ``identity`` is the canonical username of the login attempt.
    """
    raw = request.COOKIES.get(device_cookie_name())
    if not raw or not identity:
        return None
    try:
        payload = signing.loads(raw, salt=SALT, max_age=device_cookie_age())
    except signing.BadSignature:  # tampered, malformed or expired (SignatureExpired)
        return None
    if not isinstance(payload, dict):
        return None
    device = payload.get("d")
    if payload.get("u") != identity or not isinstance(device, str) or not device:
        return None
    return device


def device_cookie_set(response: HttpResponseBase, *, user) -> None:
    """Give the client of a successful login a fresh device token for ``user`` on ``response``."""
    # HttpOnly: no script can read or exfiltrate it (ASVS 5.0 V3.3.4);
    # SameSite=Lax: a cross-site POST does not carry it into a login (V3.3.2).
    response.set_cookie(
        device_cookie_name(),
        device_token_issue(username=user.get_username()),
        max_age=device_cookie_age(),
        path="/",
        secure=device_cookie_secure(),
        httponly=True,
        samesite="Lax",
    )
