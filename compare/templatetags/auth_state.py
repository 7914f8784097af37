"""Who is this browser, by which mechanism: for the navigation and the home page."""

from __future__ import annotations

from django import template

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
