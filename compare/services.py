"""Write services of the device list: end a user's own JWT logins through api.revocation.family_revoke."""

from __future__ import annotations

import uuid

from django.utils import timezone

from api.revocation import family_revoke


def jwt_login_revoke(*, user, family_id: uuid.UUID) -> bool:
    """Revoke one live JWT login of ``user``; return False when ``user`` has no such live login."""
    # Scoped to the owner: another user's family id is simply not found.
    if not user.token_families.filter(pk=family_id, revoked_at__isnull=True).exists():
        return False
    family_revoke(family_id=family_id)
    return True


def jwt_logins_revoke_others(*, user, keep_family_id: uuid.UUID | None = None) -> int:
    """Revoke every live JWT login of ``user`` but ``keep_family_id``; return how many were revoked."""
    live = user.token_families.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    if keep_family_id is not None:
        live = live.exclude(pk=keep_family_id)
    return sum(family_revoke(family_id=family_id) for family_id in live.values_list("pk", flat=True))
