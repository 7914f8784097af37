"""Revocation of JWT logins (token families): the revoked-or-live verdict, and revoking.

Design (OWASP ASVS 5.0 V7.4.1 / V9.2, RFC 8725 section 3): every token
carries the id of its login's family. Revoking a login, a user's every login,
or a reused refresh token's login sets ``revoked_at`` on family rows in the
database (the source of truth) and then mirrors the verdict into the cache.
Authenticating a request costs one cache read of the family's verdict; a miss
(cold or flushed cache) reads the family row once and caches it. Every cache
call goes through authcache.live: an unreachable cache means the database is
read, a revocation it cannot take raises the revocation epoch, and a "live"
verdict is trusted only under the epoch it was written under
(docs/operations.md). Issuing and rotating tokens: api.logins, api.rotation.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

# Read through the module: SimpleJWT rebinds api_settings when SIMPLE_JWT changes.
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from api.models import TokenFamily
from api.tokens import AccessToken, RefreshToken, RevokedTokenError
from authcache.guard import CacheUnavailable, cache_call
from authcache.live import CacheRead, cache_read, cache_write_live, revocation_publish

security_log = logging.getLogger("authdemo.security")

_REVOKED, _LIVE = "1", "0"


def family_cache_key(family_id: uuid.UUID | str) -> str:
    """Return the cache key of the family's revoked-or-live verdict."""
    return f"jwt:family:{family_id}"


def _cache_timeout(expires_at: datetime | None) -> int:
    """Return how long a family verdict may stay cached: until nothing of the family can be valid."""
    margin = 60  # covers the verification leeway and clock skew between workers
    if expires_at is None:
        return int(jwt_settings.api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()) + margin
    return max(1, int((expires_at - timezone.now()).total_seconds()) + margin)


def family_is_revoked(*, family_id: uuid.UUID, read: CacheRead | None = None) -> bool:
    """Return whether the family is revoked: one cache read (or ``read``), the database on a miss."""
    key = family_cache_key(family_id)
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
        entries={family_cache_key(fid): _REVOKED for fid, _ in families},
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
    # Live tokens only: an expired one is refused anyway, and jwt_prune may be deleting it.
    outstanding = OutstandingToken.objects.filter(
        user=user, blacklistedtoken__isnull=True, expires_at__gt=timezone.now()
    )
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


def token_revocation_check(*, token) -> None:
    """Raise RevokedTokenError when the token's login was revoked."""
    if family_is_revoked(family_id=token.family_id):
        raise RevokedTokenError("Token has been revoked")


def family_cache_warm(token: RefreshToken, *, epoch: object) -> None:
    """Cache the new refresh token's family as live, unless a revocation got there first."""
    # add: never overwrite a revocation published meanwhile. ``epoch`` was
    # taken before the family's row was written (authcache.live).
    cache_write_live(
        key=family_cache_key(token.family_id),
        payload=_LIVE,
        epoch=epoch,
        timeout=_cache_timeout(datetime_from_epoch(token["exp"])),
    )


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
