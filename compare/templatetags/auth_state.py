"""Who is this browser, by which mechanism: for the navigation and the home page."""

from __future__ import annotations

from django import template
from django.conf import settings

from compare.state import jwt_user

register = template.Library()


@register.simple_tag(takes_context=True)
def auth_state(context) -> dict:
    """Return {"session": user|None, "jwt": user|None} for the template."""
    request = context.get("request")
    if request is None:
        return {"session": None, "jwt": None}
    user = getattr(request, "user", None)
    return {
        "session": user if user is not None and user.is_authenticated else None,
        "jwt": jwt_user(request),
    }


# The cookies a page may name, by role; their names follow the settings (the
# __Host-/__Secure- prefixes over HTTPS, docs/contract.md).
_COOKIE_SETTINGS = {
    "session": "SESSION_COOKIE_NAME",
    "csrf": "CSRF_COOKIE_NAME",
    "access": "JWT_ACCESS_COOKIE",
    "refresh": "JWT_REFRESH_COOKIE",
}


@register.simple_tag
def cookie_name(role: str) -> str:
    """Return the name of the ``role`` cookie (session, csrf, access, refresh) in this deployment."""
    return getattr(settings, _COOKIE_SETTINGS[role])
