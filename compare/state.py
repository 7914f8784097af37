"""Who is this browser by JWT cookie: the state the comparison pages and the navigation show."""

from __future__ import annotations

import logging

from django.http import HttpRequest

from api import services as api_services

logger = logging.getLogger(__name__)


def jwt_user(request: HttpRequest) -> object | None:
    """Return the user of this browser's JWT access cookie, or None (once per request)."""
    if hasattr(request, "_authdemo_jwt_user"):
        return request._authdemo_jwt_user
    try:
        user = api_services.jwt_cookie_user(request)
    except Exception:
        # A broken JWT lookup must not take the HTML pages down with it.
        logger.exception("jwt_cookie_user failed")
        user = None
    request._authdemo_jwt_user = user
    return user


def session_user(request: HttpRequest) -> object | None:
    """Return the user of this browser's session, or None."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def browser_user(request: HttpRequest) -> object | None:
    """Return the user this browser is logged in as: by session, else by JWT cookie, else None."""
    return session_user(request) or jwt_user(request)
