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
