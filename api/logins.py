"""JWT logins: issue a new login's token pair, verify a presented token, find a token's user.

The user of a request comes from its cached snapshot, read in the same round
trip as its login's revocation verdict (``token_user``, authcache.snapshots):
deactivated and deleted users fail there, since every change of a user drops
its snapshot at once. Revocation: api.revocation; rotation: api.rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model

# Read through the module: SimpleJWT rebinds api_settings when SIMPLE_JWT changes.
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.assurance import Assurance
from api.models import TokenFamily
from api.revocation import family_cache_key, family_cache_warm, family_is_revoked, token_revocation_check
from api.tokens import AccessToken, RefreshToken, RevokedTokenError, UntypedToken
from authcache.live import cache_epoch_hint, cache_read_many
from authcache.snapshots import user_from_reads, user_snapshot_keys

USER_AGENT_MAX_LENGTH = 512


class UserInactiveError(TokenError):
    """The token's user is deactivated or no longer exists."""

    code = "user_inactive"


@dataclass(frozen=True)
class TokenPair:
    access: AccessToken
    refresh: RefreshToken
    user: object = None

    @property
    def access_expires(self) -> datetime:
        return datetime_from_epoch(self.access["exp"])

    @property
    def refresh_expires(self) -> datetime:
        return datetime_from_epoch(self.refresh["exp"])


def active_user(token) -> object:
    """Return the active user of ``token``; raise UserInactiveError for an inactive or deleted one."""
    user_id = token.get(jwt_settings.api_settings.USER_ID_CLAIM)
    if user_id is None:
        raise TokenError("Token contained no recognizable user identification")
    try:
        user = get_user_model().objects.filter(**{jwt_settings.api_settings.USER_ID_FIELD: user_id}).first()
    except (ValueError, TypeError) as exc:
        raise TokenError("Token contained no recognizable user identification") from exc
    if user is None or not user.is_active:
        raise UserInactiveError("User is inactive or does not exist")
    return user


def token_user(*, token) -> object:
    """Return the active user of an access token whose login is not revoked; raise a TokenError otherwise.

    The hot path of every JWT request: the family verdict, the user's
    snapshot and version, and the revocation epoch in ONE cache round trip
    (authcache.live.cache_read_many); warm, no database query at all.
    Either missing piece is read from the database and cached again
    (authcache.snapshots for the discipline that keeps a stale snapshot out).
    """
    user_id = token.get(jwt_settings.api_settings.USER_ID_CLAIM)
    if user_id is None or isinstance(user_id, bool | dict | list):
        raise TokenError("Token contained no recognizable user identification")
    family_id = token.family_id
    family_key = family_cache_key(family_id)
    reads = cache_read_many(keys=[family_key, *user_snapshot_keys(user_id)])
    if family_is_revoked(family_id=family_id, read=reads[family_key]):
        raise RevokedTokenError("Token has been revoked")
    user = user_from_reads(user_id=user_id, reads=reads)
    if user is None or not user.is_active:
        raise UserInactiveError("User is inactive or does not exist")
    return user


def token_pair_issue(
    *,
    user,
    ip: str | None = None,
    user_agent: str = "",
    transport: str = "",
    assurance: Assurance | None = None,
) -> TokenPair:
    """Return a new access and refresh token of ``user``: a new login, so a new family.

    ``ip``, ``user_agent`` and ``transport`` (``TokenFamily.Transport``) are
    recorded on the family, so the user can recognise the login later;
    ``assurance`` (how and when the user authenticated) goes into both tokens.
    """
    client = {
        "ip": ip or None,
        "user_agent": (user_agent or "")[:USER_AGENT_MAX_LENGTH],
        "transport": transport,
    }
    epoch = cache_epoch_hint()
    refresh = RefreshToken.for_user(user, client=client, assurance=assurance)
    family_cache_warm(refresh, epoch=epoch)
    return TokenPair(access=refresh.access_token, refresh=refresh, user=user)


def token_verify(*, raw: str) -> None:
    """Raise a TokenError unless ``raw`` is a valid, unrevoked token of an active user."""
    untyped = UntypedToken(raw)
    token_type = untyped.get(jwt_settings.api_settings.TOKEN_TYPE_CLAIM)
    token_class = {"access": AccessToken, "refresh": RefreshToken}.get(token_type)
    if token_class is None:
        raise TokenError("Token has wrong type")
    token = token_class(raw)
    token_revocation_check(token=token)
    if (
        token_class is RefreshToken
        and not TokenFamily.objects.filter(
            pk=token.family_id, current_jti=token[jwt_settings.api_settings.JTI_CLAIM]
        ).exists()
    ):
        raise RevokedTokenError("Token has been rotated out or revoked")
    active_user(token)


def jwt_cookie_user(request) -> object | None:
    """Return the active user of the request's ``access_token`` cookie, or None (never raises)."""
    raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
    if not raw:
        return None
    try:
        return token_user(token=AccessToken(raw))
    except TokenError:
        return None
