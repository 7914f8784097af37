"""What the project needs to know about an HTTP request beyond Django: which client sent it."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
