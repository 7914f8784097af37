"""Who is this browser by JWT cookie: the state the comparison pages and the navigation show."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from rest_framework_simplejwt.exceptions import TokenError

from api import logins as api_logins
from api.tokens import AccessToken

logger = logging.getLogger(__name__)


def jwt_user(request: HttpRequest) -> object | None:
    """Return the user of this browser's JWT access cookie, or None (once per request)."""
    if hasattr(request, "_authdemo_jwt_user"):
        return request._authdemo_jwt_user
    try:
        user = api_logins.jwt_cookie_user(request)
    except Exception:
        # A broken JWT lookup must not take the HTML pages down with it.
        logger.exception("jwt_cookie_user failed")
        user = None
    request._authdemo_jwt_user = user
    return user


def jwt_access_token(request: HttpRequest) -> AccessToken | None:
    """Return this browser's access cookie as a validated token (signature, expiry, type), or None."""
    if hasattr(request, "_authdemo_jwt_token"):
        return request._authdemo_jwt_token
    raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
    token = None
    if raw:
        try:
            token = AccessToken(raw)
        except TokenError:
            token = None
    request._authdemo_jwt_token = token
    return token


def session_user(request: HttpRequest) -> object | None:
    """Return the user of this browser's session, or None."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def browser_user(request: HttpRequest) -> object | None:
    """Return the user this browser is logged in as: by session, else by JWT cookie, else None."""
    return session_user(request) or jwt_user(request)
