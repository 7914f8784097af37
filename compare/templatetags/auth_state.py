"""Who is this browser, by which mechanism: for the navigation and the home page."""

from __future__ import annotations

import logging
from typing import NamedTuple

from django import template
from django.http import HttpRequest

register = template.Library()
logger = logging.getLogger(__name__)


class JwtState(NamedTuple):
    available: bool  # False while api.services.jwt_cookie_user does not exist
    user: object | None


def jwt_user(request: HttpRequest) -> JwtState:
    """Return the user of this browser's JWT access cookie, via api.services.jwt_cookie_user."""
    cached = getattr(request, "_authdemo_jwt_state", None)
    if cached is not None:
        return cached
    try:
        from api.services import jwt_cookie_user
    except ImportError:
        state = JwtState(available=False, user=None)
    else:
        try:
            user = jwt_cookie_user(request)
        except Exception:
            # A broken JWT helper must not take the HTML pages down with it.
            logger.exception("jwt_cookie_user failed")
            user = None
        state = JwtState(available=True, user=user)
    request._authdemo_jwt_state = state
    return state


@register.simple_tag(takes_context=True)
def auth_state(context) -> dict:
    """Return {"session": user|None, "jwt": user|None, "jwt_available": bool} for the template."""
    request = context.get("request")
    if request is None:
        return {"session": None, "jwt": None, "jwt_available": False}
    user = getattr(request, "user", None)
    jwt = jwt_user(request)
    return {
        "session": user if user is not None and user.is_authenticated else None,
        "jwt": jwt.user,
        "jwt_available": jwt.available,
    }
