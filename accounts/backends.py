"""Authentication backend: Django's ModelBackend, whose get_user() takes a session's user from its snapshot.

Django's ``auth.get_user(request)`` keeps doing everything security-related
(the backend path check, the session auth hash compared in constant time,
the fallback secret keys, the flush on mismatch); only where the user comes
from changes. AuthenticationMiddleware (accounts.middleware) names the
request's session while it calls ``auth.get_user``; get_user() then asks that
session (accounts.sessions.SessionStore.user_get), which read the user's
snapshot in the same round trip as the session data (authcache.snapshots).
Without a session in scope it is ModelBackend's get_user().
"""

from __future__ import annotations

import contextvars

from django.contrib.auth.backends import ModelBackend

_session: contextvars.ContextVar = contextvars.ContextVar("authdemo_auth_session", default=None)


class session_in_scope:
    """Let get_user() take the user from ``session`` inside the block.

    A class, not @contextmanager: it runs on every request that reads its user.
    """

    __slots__ = ("session", "token")

    def __init__(self, session) -> None:
        self.session = session

    def __enter__(self) -> None:
        self.token = _session.set(self.session)

    def __exit__(self, *exc_info) -> None:
        _session.reset(self.token)


class SnapshotModelBackend(ModelBackend):
    def get_user(self, user_id):
        session = _session.get()
        if session is None or not hasattr(session, "user_get"):
            return super().get_user(user_id)
        user = session.user_get(user_id)
        # ModelBackend's rule: an inactive user is no user (OWASP ASVS 5.0 V7.4.2).
        return user if user is not None and self.user_can_authenticate(user) else None
