"""Replay this browser's credentials through the real ``/api/me/`` in-process and meter each request.

Each replay is a fresh GET through the project's whole middleware stack and
view (Django's ``BaseHandler``, as the WSGI handler runs it), carrying one
credential only, so the counts are those of a request authenticated by that
mechanism alone on this instance, with its cache and database.
"""

from __future__ import annotations

import json
import threading

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest
from django.test import RequestFactory
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError

from api.tokens import AccessToken
from compare.metering import meter
from compare.state import jwt_access_token

ME_PATH = "/api/me/"
COPIED_HEADERS = ("REMOTE_ADDR", "HTTP_USER_AGENT", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO")

_handler: BaseHandler | None = None
_handler_lock = threading.Lock()


def _handler_get() -> BaseHandler:
    global _handler
    with _handler_lock:
        if _handler is None:
            handler = BaseHandler()
            handler.load_middleware()
            _handler = handler
        return _handler


def _replay(request: HttpRequest, **extra) -> dict:
    meta = {key: request.META[key] for key in COPIED_HEADERS if key in request.META}
    replayed = RequestFactory().get(
        ME_PATH, secure=request.is_secure(), HTTP_HOST=request.get_host(), **meta, **extra
    )
    handler = _handler_get()
    # The first call may fill the cache (a cold verdict or session); the second is the steady state.
    # No response.close(): it would send request_finished, which closes this
    # request's database connection; a body-less GET holds nothing to release.
    handler.get_response(replayed)
    replayed = RequestFactory().get(
        ME_PATH, secure=request.is_secure(), HTTP_HOST=request.get_host(), **meta, **extra
    )
    with meter() as cost:
        response = handler.get_response(replayed)
    auth = ""
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
        try:
            auth = str(json.loads(response.content).get("auth", ""))
        except (ValueError, AttributeError):
            auth = ""
    return {"status": response.status_code, "auth": auth, **cost.as_dict()}


def _stateless(raw: str) -> dict:
    # What JWT_STATELESS=1 and the separate verifier do per request: check the
    # signature and claims, build the user from the claims; no store is asked.
    with meter() as cost:
        try:
            token = AccessToken(raw)
            jwt_settings.api_settings.TOKEN_USER_CLASS(token).pk  # noqa: B018 - the claims-only user, as SimpleJWT builds it
            status = 200
        except TokenError:
            status = 401
    return {"status": status, "auth": "jwt-stateless", **cost.as_dict()}


def request_costs(request: HttpRequest) -> dict[str, dict | None]:
    """Return the metered cost of ``/api/me/`` with each credential this browser holds (None: not held)."""
    costs: dict[str, dict | None] = {
        "session": None,
        "jwt_cookie": None,
        "jwt_bearer": None,
        "jwt_stateless": None,
    }
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key and request.user.is_authenticated:
        costs["session"] = _replay(request, HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={session_key}")
    if jwt_access_token(request) is not None:
        raw = request.COOKIES[settings.JWT_ACCESS_COOKIE]
        costs["jwt_cookie"] = _replay(request, HTTP_COOKIE=f"{settings.JWT_ACCESS_COOKIE}={raw}")
        costs["jwt_bearer"] = _replay(request, HTTP_AUTHORIZATION=f"Bearer {raw}")
        costs["jwt_stateless"] = _stateless(raw)
    return costs
