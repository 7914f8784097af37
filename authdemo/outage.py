"""A database or cache outage answered as 503 (JSON under /api/, a plain page elsewhere) with one log line.

A dependency that is down is not a bug of the request: the client gets 503
with ``Retry-After`` and no traceback, and the log gets one WARNING line per
failed request naming the part and the error class, instead of a traceback
at ERROR (a flood during an outage). Django marks a connection that failed
unusable and, with ``CONN_HEALTH_CHECKS``, replaces it on the next request,
so the site recovers without a restart (docs/operations.md).
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from authcache.guard import CacheUnavailable

logger = logging.getLogger("authdemo.outage")

SERVICE_ERRORS = (OperationalError, InterfaceError, CacheUnavailable)
RETRY_AFTER_SECONDS = 5

_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Service unavailable</title>"
    "<h1>Service unavailable</h1><p>The site cannot reach one of its services. "
    "Please try again in a moment.</p></html>"
)


def outage_part(exc: BaseException) -> str:
    """Return which dependency ``exc`` says is down: "cache" (login limits) or "database"."""
    return "cache" if isinstance(exc, CacheUnavailable) else "database"


def outage_response(request, exc: BaseException) -> HttpResponse:
    """Return the 503 for ``exc`` (JSON under /api/, a plain page elsewhere) and log it in one line."""
    part = outage_part(exc)
    logger.warning(
        "service unavailable: %s (%s) %s %s", part, type(exc).__name__, request.method, request.path
    )
    if request.path.startswith("/api/"):
        detail = (
            "Login is unavailable: the login limits cannot be checked. Try again later."
            if part == "cache"
            else "The service is temporarily unavailable. Try again later."
        )
        response: HttpResponse = JsonResponse({"detail": detail, "code": "service_unavailable"}, status=503)
    else:
        response = HttpResponse(_PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # Logged above in one line: keep django.request from logging it again.
    response._has_been_logged = True
    return response


class OutageMiddleware:
    """Turn a database or cache outage raised by a view into a 503 (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, SERVICE_ERRORS):
            return outage_response(request, exception)
        return None
