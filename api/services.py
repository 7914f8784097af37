"""Token services of the JWT side: issue, rotate, verify, revoke.

Revocation design (OWASP ASVS 5.0 V7.4.1 / V9.2, RFC 8725 section 3):
every token carries the id of its login's family. Revoking a login, a user's
every login, or a reused refresh token's login sets ``revoked_at`` on family
rows in the database (the source of truth) and then mirrors the verdict into
the cache. Authenticating a request costs one cache read of the family's
verdict; a miss (cold or flushed cache) reads the family row once and caches
it. Every cache call goes through authcache.live: an unreachable cache
means the database is read, a revocation it cannot take raises the
revocation epoch, and a "live" verdict is trusted only under the epoch it was
written under (docs/operations.md). The user of a request comes from its
cached snapshot, read in the same round trip as the verdict
(``token_user``, authcache.snapshots): deactivated and deleted users fail
there, since every change of a user drops its snapshot at once.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

# Read through the module: SimpleJWT rebinds api_settings when SIMPLE_JWT changes.
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.assurance import Assurance, assurance_from_claims
from api.models import TokenFamily
from api.tokens import AccessToken, RefreshToken, ReusedTokenError, RevokedTokenError, UntypedToken
from authcache.guard import CacheUnavailable, cache_call
from authcache.live import (
    CacheRead,
    cache_epoch_hint,
    cache_read,
    cache_read_many,
    cache_write_live,
    revocation_publish,
)
from authcache.snapshots import user_from_reads, user_snapshot_keys

security_log = logging.getLogger("authdemo.security")

_REVOKED, _LIVE = "1", "0"


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


def _family_cache_key(family_id: uuid.UUID | str) -> str:
    return f"jwt:family:{family_id}"


def _cache_timeout(expires_at: datetime | None) -> int:
    """Return how long a family verdict may stay cached: until nothing of the family can be valid."""
    margin = 60  # covers the verification leeway and clock skew between workers
    if expires_at is None:
        return int(jwt_settings.api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()) + margin
    return max(1, int((expires_at - timezone.now()).total_seconds()) + margin)


def family_is_revoked(*, family_id: uuid.UUID, read: CacheRead | None = None) -> bool:
    """Return whether the family is revoked: one cache read (or ``read``), the database on a miss."""
    key = _family_cache_key(family_id)
    read = read or cache_read(key=key)
    if read.value == _REVOKED:
        return True
    if read.live:
        return False
    row = TokenFamily.objects.filter(pk=family_id).values_list("revoked_at", "expires_at").first()
    revoked = row is None or row[0] is not None
    timeout = _cache_timeout(row[1] if row else None)
    if revoked:
        with contextlib.suppress(CacheUnavailable):
            cache_call("add", key, _REVOKED, timeout)
    else:
        # add, not set: a revocation that committed meanwhile has already
        # written its verdict and must not be overwritten by this older read;
        # and the epoch was read before the row, so if the revocation could
        # not reach the cache, this entry is already stale.
        cache_write_live(key=key, payload=_LIVE, epoch=read.epoch, timeout=timeout, stale=read.stale)
    return revoked


def _families_mark_revoked(families: list[tuple[uuid.UUID, datetime]]) -> None:
    # Published right after the database update, inside its transaction: a
    # rollback leaves the family looking revoked until the entry expires
    # (fail safe); a concurrent reader's older verdict is written with add()
    # and never overwrites this one. A cache that cannot take it raises the
    # revocation epoch in this transaction instead.
    revocation_publish(
        entries={_family_cache_key(fid): _REVOKED for fid, _ in families},
        timeout=max(_cache_timeout(expires_at) for _, expires_at in families),
    )


def _families_revoke(queryset, *, reason: str) -> int:
    """Revoke the families of ``queryset`` in the database, blacklist their refresh tokens, then the cache."""
    with transaction.atomic():
        families = list(queryset.filter(revoked_at__isnull=True).values_list("pk", "expires_at"))
        if not families:
            return 0
        ids = [pk for pk, _ in families]
        TokenFamily.objects.filter(pk__in=ids).update(revoked_at=timezone.now(), revoked_reason=reason)
        outstanding = OutstandingToken.objects.filter(
            family_link__family_id__in=ids, blacklistedtoken__isnull=True
        )
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
        )
        _families_mark_revoked(families)
    return len(families)


def family_revoke(*, family_id: uuid.UUID, reason: str = TokenFamily.Reason.LOGOUT) -> bool:
    """Revoke every token (refresh and access) of one login; return whether it was live."""
    revoked = _families_revoke(TokenFamily.objects.filter(pk=family_id), reason=reason) > 0
    if revoked:
        security_log.info("token family revoked family=%s reason=%s", family_id, reason)
    return revoked


def tokens_revoke_all(*, user, keep_family_id: uuid.UUID | str | None = None) -> int:
    """Revoke every token of ``user`` (but those of login ``keep_family_id``); return how many logins."""
    families = TokenFamily.objects.filter(user=user)
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    if keep_family_id:
        families = families.exclude(pk=keep_family_id)
        outstanding = outstanding.exclude(family_link__family_id=keep_family_id)
    revoked = _families_revoke(families, reason=TokenFamily.Reason.REVOKE_ALL)
    # Refresh tokens outside any family (issued by plain SimpleJWT code) die too.
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    if revoked:
        security_log.info("all tokens revoked user_id=%s logins=%s", user.pk, revoked)
    return revoked


def tokens_on_credentials_revoked(sender, *, user, keep_family_id=None, **kwargs) -> None:
    """Receive ``accounts.services.credentials_revoked``: revoke the tokens of ``user`` as it says."""
    tokens_revoke_all(user=user, keep_family_id=keep_family_id)


def _user_active(token) -> object:
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
    family_key = _family_cache_key(family_id)
    reads = cache_read_many(keys=[family_key, *user_snapshot_keys(user_id)])
    if family_is_revoked(family_id=family_id, read=reads[family_key]):
        raise RevokedTokenError("Token has been revoked")
    user = user_from_reads(user_id=user_id, reads=reads)
    if user is None or not user.is_active:
        raise UserInactiveError("User is inactive or does not exist")
    return user


def token_revocation_check(*, token) -> None:
    """Raise RevokedTokenError when the token's login was revoked."""
    if family_is_revoked(family_id=token.family_id):
        raise RevokedTokenError("Token has been revoked")


def _family_cache_warm(token: RefreshToken, *, epoch: object) -> None:
    # add: never overwrite a revocation published meanwhile. ``epoch`` was
    # taken before the family's row was written (authcache.live).
    cache_write_live(
        key=_family_cache_key(token.family_id),
        payload=_LIVE,
        epoch=epoch,
        timeout=_cache_timeout(datetime_from_epoch(token["exp"])),
    )


USER_AGENT_MAX_LENGTH = 512


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
    _family_cache_warm(refresh, epoch=epoch)
    return TokenPair(access=refresh.access_token, refresh=refresh, user=user)


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
    user = _user_active(refresh)
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
            _family_cache_warm(new_refresh, epoch=epoch)
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
        _family_cache_warm(new_refresh, epoch=epoch)
    security_log.info("login re-authenticated user_id=%s family=%s amr=%s", user.pk, family.pk, assurance.amr)
    return TokenPair(access=new_refresh.access_token, refresh=new_refresh, user=user)


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
    _user_active(token)


def token_revoke(*, access: AccessToken | None, raw_refresh: str) -> None:
    """Revoke the login of ``raw_refresh`` and of the presenting access token (both die at once)."""
    refresh = RefreshToken(raw_refresh)
    families = {refresh.family_id}
    if access is not None:
        claim = jwt_settings.api_settings.USER_ID_CLAIM
        if str(access.get(claim)) != str(refresh.get(claim)):
            raise TokenError("Refresh token belongs to another user")
        families.add(access.family_id)
    for family_id in families:
        family_revoke(family_id=family_id, reason=TokenFamily.Reason.LOGOUT)


def jwt_cookie_user(request) -> object | None:
    """Return the active user of the request's ``access_token`` cookie, or None (never raises)."""
    raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
    if not raw:
        return None
    try:
        return token_user(token=AccessToken(raw))
    except TokenError:
        return None


def cookie_tokens_revoke(*, raw_access: str, raw_refresh: str) -> int:
    """Revoke the logins of a cookie pair (either may be missing or already invalid); return how many."""
    families = set()
    for token_class, raw in ((AccessToken, raw_access), (RefreshToken, raw_refresh)):
        if not raw:
            continue
        try:
            families.add(token_class(raw).family_id)
        except TokenError:
            continue  # expired or forged: nothing we issued can be revoked through it
    return sum(family_revoke(family_id=family_id) for family_id in families)
