"""Token services of the JWT side."""

from __future__ import annotations

from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken


def tokens_revoke_all(*, user) -> int:
    """Revoke every refresh token of ``user``; return how many were newly blacklisted."""
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(created)


def jwt_cookie_user(request) -> object | None:
    """Return the active user of the request's ``access_token`` cookie, or None (never raises)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.settings import api_settings
    from rest_framework_simplejwt.tokens import AccessToken

    raw = request.COOKIES.get(getattr(settings, "JWT_ACCESS_COOKIE", "access_token"))
    if not raw:
        return None
    try:
        token = AccessToken(raw)
    except (TokenError, ValueError):
        return None
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    if user is None or not user.is_active:
        return None
    return user
