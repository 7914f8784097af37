"""Rotation within a JWT login: refresh with reuse detection, and step-up re-authentication.

Only a login's current refresh token rotates (RFC 9700 section 4.14.2); any
other presented refresh token is reuse and revokes the login
(api.revocation), but for the short grace of the token the current one
replaced (docs/jwt.md, "Reuse grace period").
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

# Read through the module: SimpleJWT rebinds api_settings when SIMPLE_JWT changes.
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.assurance import Assurance, assurance_from_claims
from api.logins import USER_AGENT_MAX_LENGTH, TokenPair, active_user
from api.models import TokenFamily
from api.revocation import family_cache_warm, family_revoke, token_revocation_check
from api.tokens import AccessToken, RefreshToken, ReusedTokenError, RevokedTokenError
from authcache.live import cache_epoch_hint

security_log = logging.getLogger("authdemo.security")


def _family_current_is(*, family: TokenFamily, jti: str) -> bool:
    # Only the family's current refresh token may rotate: a token rotated out
    # stays rotated out even if its BlacklistedToken row is deleted (by the
    # admin, a script or a restore), so reuse detection (RFC 9700 section
    # 4.14.2) never depends on that row alone.
    return bool(family.current_jti) and family.current_jti == jti


def _grace_applies(*, family: TokenFamily, jti: str, outstanding: OutstandingToken) -> bool:
    # Only the token the current one replaced, and only this soon after that
    # rotation (RFC 9700 section 4.14.2): two callers of one token converge
    # on its successor, while an older token (a thief's copy, replayed after
    # the victim rotated on) stays reuse. As Auth0's reuse interval (the
    # previous token only) and Supabase Auth (the active token only for its
    # immediate parent); docs/jwt.md, "Reuse grace period".
    if not family.current_jti or not family.previous_jti or family.previous_jti != jti:
        return False
    rotated_at = (
        BlacklistedToken.objects.filter(token=outstanding).values_list("blacklisted_at", flat=True).first()
    )
    grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE)
    return rotated_at is not None and timezone.now() - rotated_at <= grace


def token_refresh(*, raw: str, ip: str = "", user_agent: str = "") -> TokenPair:
    """Rotate a refresh token: return a new pair in its family; refuse and revoke the family on reuse.

    Race-free: the family row is locked (PostgreSQL; SQLite transactions are
    IMMEDIATE, so writers queue) and only the family's current token rotates.
    The token the current one replaced, presented again at most
    JWT_REFRESH_REUSE_GRACE seconds after that rotation, gets the family's
    current refresh token with a fresh access token: parallel callers
    converge on one refresh token instead of forking the family; every such
    answer is logged. Any other rotated-out token is reuse (RFC 9700 4.14.2).
    """
    refresh = RefreshToken(raw)
    family_id, jti = refresh.family_id, refresh[jwt_settings.api_settings.JTI_CLAIM]
    token_revocation_check(token=refresh)
    user = active_user(refresh)
    epoch = cache_epoch_hint()
    with transaction.atomic():
        family = TokenFamily.objects.select_for_update().filter(pk=family_id, revoked_at__isnull=True).first()
        if family is None:
            raise RevokedTokenError("Token has been revoked")
        outstanding = OutstandingToken.objects.filter(jti=jti).first()
        if outstanding is None:
            raise TokenError("Token is not known")
        if _family_current_is(family=family, jti=jti):
            BlacklistedToken.objects.get_or_create(token=outstanding)
            # A refresh proves nothing new: the login's amr and auth_time carry over.
            kept = assurance_from_claims(refresh.payload)
            new_refresh = RefreshToken.for_user(user, family=family, assurance=kept)
            family_cache_warm(new_refresh, epoch=epoch)
            return TokenPair(access=new_refresh.access_token, refresh=new_refresh, user=user)
        if _grace_applies(family=family, jti=jti, outstanding=outstanding):
            current = RefreshToken(OutstandingToken.objects.get(jti=family.current_jti).token)
            # The client's own values, quoted (%r): no line breaks forged into the log.
            security_log.info(
                "refresh token grace: current pair returned for the previous token "
                "user_id=%s family=%s jti=%s ip=%s user_agent=%r",
                user.pk,
                family_id,
                jti,
                ip,
                user_agent[:USER_AGENT_MAX_LENGTH],
                extra={
                    "family": str(family_id),
                    "client_ip": ip,
                    "user_agent": user_agent[:USER_AGENT_MAX_LENGTH],
                },
            )
            return TokenPair(access=current.access_token, refresh=current, user=user)
    family_revoke(family_id=family_id, reason=TokenFamily.Reason.REUSE)
    security_log.warning(
        "refresh token reuse: family revoked user_id=%s family=%s jti=%s ip=%s user_agent=%r",
        user.pk,
        family_id,
        jti,
        ip,
        user_agent[:USER_AGENT_MAX_LENGTH],
    )
    raise ReusedTokenError("Token was already used; every token of this login is revoked")


def token_reauthenticate(*, access: AccessToken, user, assurance: Assurance) -> TokenPair:
    """Return a new pair of the login of ``access`` carrying ``assurance``; its refresh token rotates out.

    Step-up of a JWT login: the old tokens keep their old claims until they
    expire (claims are frozen at issue); the login (family) stays the same.
    """
    token_revocation_check(token=access)
    epoch = cache_epoch_hint()
    with transaction.atomic():
        family = (
            TokenFamily.objects.select_for_update()
            .filter(pk=access.family_id, user=user, revoked_at__isnull=True)
            .first()
        )
        if family is None:
            raise RevokedTokenError("Token has been revoked")
        current = OutstandingToken.objects.filter(jti=family.current_jti or None).first()
        if current is not None:
            BlacklistedToken.objects.get_or_create(token=current)
        new_refresh = RefreshToken.for_user(user, family=family, assurance=assurance)
        family_cache_warm(new_refresh, epoch=epoch)
    security_log.info("login re-authenticated user_id=%s family=%s amr=%s", user.pk, family.pk, assurance.amr)
    return TokenPair(access=new_refresh.access_token, refresh=new_refresh, user=user)
