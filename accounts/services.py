"""Session services: the one place that ends sessions, and announces "end everything" to other apps.

Every path that must end a user's sessions calls these: logout-all, password
change (keeps the current session), password reset completion, deactivation,
user deletion and the admin actions. Rows are deleted, not just invalidated
by the password hash (OWASP ASVS 5.0 V7.4.3, V7.4.5), and their cache
entries go with them, so a revoked session is dead on the very next request
in every process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import Session
from accounts.sessions import sessions_cache_tombstone

security_log = logging.getLogger("authdemo.security")

# Sent by user_revoke_all with ``user`` (and ``keep_family_id``): every credential of that user other
# than sessions (the JWT side's tokens) must die now. Apps that issue such
# credentials connect to it in their AppConfig.ready(), so this app needs to
# know none of them (api connects api.revocation.tokens_on_credentials_revoked).
credentials_revoked = Signal()


def _sessions_delete(*, session_keys: Iterable[str]) -> int:
    keys = list(session_keys)
    if not keys:
        return 0
    with transaction.atomic():
        deleted, _ = Session.objects.filter(session_key__in=keys).delete()
        # After the rows, tombstones (not plain deletes): a request that read
        # a row just before finds its cache add() refused
        # (accounts.sessions.load). Inside the transaction: if the cache is
        # down, the revocation epoch is raised with the deletion itself.
        sessions_cache_tombstone(session_keys=keys)
    return deleted


def session_revoke(*, user, session_key: str) -> bool:
    """Revoke one session of ``user`` (None: an anonymous session); return whether it existed."""
    owned = Session.objects.filter(session_key=session_key)
    owned = owned.filter(user__isnull=True) if user is None else owned.filter(user=user)
    revoked = _sessions_delete(session_keys=owned.values_list("session_key", flat=True)) > 0
    if revoked:
        security_log.info("session revoked user=%s", getattr(user, "pk", None))
    return revoked


def sessions_revoke_all(*, user, keep_session_key: str | None = None) -> int:
    """Revoke every session of ``user`` except ``keep_session_key``; return how many ended."""
    keys = Session.objects.filter(user=user).values_list("session_key", flat=True)
    if keep_session_key:
        keys = keys.exclude(session_key=keep_session_key)
    count = _sessions_delete(session_keys=keys)
    security_log.info("sessions revoked user=%s count=%s kept=%s", user.pk, count, bool(keep_session_key))
    return count


def user_revoke_all(*, user, keep_session_key: str | None = None, keep_family_id: str | None = None) -> None:
    """Revoke every session and JWT of ``user``, except ``keep_session_key`` and login ``keep_family_id``.

    The one entry point to "end everything of this user". Sessions end here;
    then ``credentials_revoked`` is sent with ``user``, and its receiver
    ``api.revocation.tokens_on_credentials_revoked`` (connected in
    ``ApiConfig.ready()``) revokes every token through
    ``api.revocation.tokens_revoke_all``. Receivers' errors propagate: a
    revocation that failed is never reported as done. ``keep_family_id``
    (a JWT login's id, opaque here) is passed on, for a JWT client that
    ends every login but its own.
    """
    sessions_revoke_all(user=user, keep_session_key=keep_session_key)
    credentials_revoked.send(sender=type(user), user=user, keep_family_id=keep_family_id)


def sessions_active_list(*, user) -> QuerySet[Session]:
    """Return the user's sessions that have not expired, most recently active first (lazy: page it)."""
    return Session.objects.filter(user=user, expire_date__gt=timezone.now()).order_by("-last_activity")
