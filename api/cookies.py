"""The cookie transport of the JWT side: set and clear the token cookies, the body beside them.

Cookie names and paths are settings (``JWT_ACCESS_COOKIE``, ``JWT_REFRESH_COOKIE``,
``JWT_REFRESH_COOKIE_PATH``; docs/contract.md); the tokens never appear in a body.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.response import Response

from api import logins, serializers


def cookie_attributes() -> dict:
    """Return the attributes both token cookies get (besides expiry and path)."""
    return {"httponly": True, "secure": settings.JWT_COOKIE_SECURE, "samesite": "Lax"}


def cookies_set(response: Response, pair: logins.TokenPair) -> None:
    """Put the access and refresh tokens of ``pair`` into their cookies on ``response``."""
    # HttpOnly: no script reads the tokens (ASVS 5.0 V3.3.4); SameSite=Lax and
    # the CSRF check keep cross-site requests from using them (V3.3.2);
    # Secure outside DEBUG (V3.3.1); the refresh token only travels to the
    # cookie endpoints (path-scoped).
    common = cookie_attributes()
    response.set_cookie(
        settings.JWT_ACCESS_COOKIE, str(pair.access), expires=pair.access_expires, path="/", **common
    )
    response.set_cookie(
        settings.JWT_REFRESH_COOKIE,
        str(pair.refresh),
        expires=pair.refresh_expires,
        path=settings.JWT_REFRESH_COOKIE_PATH,
        **common,
    )


def cookies_clear(response: Response) -> None:
    """Expire both token cookies on ``response``."""
    response.delete_cookie(settings.JWT_ACCESS_COOKIE, path="/", samesite="Lax")
    response.delete_cookie(settings.JWT_REFRESH_COOKIE, path=settings.JWT_REFRESH_COOKIE_PATH, samesite="Lax")


def cookie_session_body(user, pair: logins.TokenPair) -> dict:
    """Return the body beside the cookies: the user and the expiry times, no token."""
    return serializers.CookieSessionSerializer(
        {"user": user, "access_expires": pair.access_expires, "refresh_expires": pair.refresh_expires}
    ).data
