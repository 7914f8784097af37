"""The revocation lab: capture this browser's credentials, revoke them, replay them at site and verifier.

The raw credentials never reach page script: they are read from the
request's cookies, replayed server-side, and the revoked access token is kept
in the cache under a random lab id for at most its remaining lifetime, so
the page can ask again during the countdown without holding it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from api import revocation as api_revocation
from api.tokens import AccessToken
from compare.labstore import LabStore
from compare.replay import me_replay
from compare.state import jwt_user, session_user
from compare.verifier_client import verifier_whoami

SESSION_END = "session_end"
JWT_REVOKE = "jwt_revoke"
LOGOUT_ALL = "logout_all"
PASSWORD_CHANGE = "password_change"
ACTIONS = (SESSION_END, JWT_REVOKE, LOGOUT_ALL, PASSWORD_CHANGE)
# The credentials each action revokes, which the lab then replays.
REVOKES = {
    SESSION_END: {"session"},
    JWT_REVOKE: {"jwt"},
    LOGOUT_ALL: {"session", "jwt"},
    PASSWORD_CHANGE: {"session", "jwt"},
}
# Without any JWT to replay, the record lives this long (the session replay only).
SESSION_ONLY_TTL = 120

store = LabStore(kind="revocation", cookie_name="lab_revocation", cookie_path="/lab/revocation/")


@dataclass(frozen=True)
class Captured:
    """This browser's credentials of ``user`` before the revocation ("" when not logged in that way)."""

    session_key: str
    raw_access: str
    access_exp: int | None


def credentials_capture(*, request: HttpRequest, user) -> Captured:
    """Return the session key and access token of ``user`` that came with ``request``."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "") if session_user(request) else ""
    raw_access, exp = "", None
    jwt = jwt_user(request)
    if jwt is not None and jwt.pk == user.pk:
        raw_access = request.COOKIES.get(settings.JWT_ACCESS_COOKIE, "")
        try:
            exp = int(AccessToken(raw_access)["exp"])
        except (TokenError, KeyError, TypeError, ValueError):
            raw_access = ""
    return Captured(session_key=session_key, raw_access=raw_access, access_exp=exp)


def jwt_login_revoke(*, raw_access: str) -> bool:
    """Revoke the login (token family) of ``raw_access``; return whether it was live."""
    return api_revocation.family_revoke(family_id=AccessToken(raw_access).family_id)


def _access_lifetime() -> int:
    return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds())


def revocation_lab_store(
    *, user, action: str, captured: Captured, now: float | None = None
) -> tuple[str, int]:
    """Keep the credentials ``action`` revoked under a new lab id; return (lab id, seconds kept).

    Kept no longer than the access token can be valid, and never longer than
    the access lifetime: past ``exp`` every verifier refuses it anyway.
    """
    now = time.time() if now is None else now
    revoked = REVOKES[action]
    data = {
        "action": action,
        "session_key": captured.session_key if "session" in revoked else "",
        "access": captured.raw_access if "jwt" in revoked else "",
        "exp": captured.access_exp if "jwt" in revoked else None,
    }
    if data["access"] and data["exp"] is not None:
        ttl = min(_access_lifetime(), int(data["exp"] - now) + 1)
    else:
        ttl = min(_access_lifetime(), SESSION_ONLY_TTL)
    ttl = max(1, ttl)
    return store.create(user=user, data=data, ttl=ttl), ttl


def revocation_lab_ask(
    *, request: HttpRequest, lab_id: str, record: dict, now: float | None = None
) -> dict:
    """Replay the record's credentials at /api/me/ and its access token at the verifier; return answers."""
    now = time.time() if now is None else now
    session = jwt = verifier = None
    if record.get("session_key"):
        session = me_replay(
            request=request, cookies={settings.SESSION_COOKIE_NAME: record["session_key"]}
        ).as_dict()
    if record.get("access"):
        jwt = me_replay(request=request, cookies={settings.JWT_ACCESS_COOKIE: record["access"]}).as_dict()
        verifier = verifier_whoami(raw_access=record["access"]).as_dict()
    exp = record.get("exp")
    return {
        "lab_id": lab_id,
        "action": record.get("action"),
        "replay_url": reverse("lab-revocation-replay", args=[lab_id]),
        "asked_at": int(now),
        "expires_in": max(0, int(exp - now)) if exp is not None else None,
        "session": session,
        "jwt": jwt,
        "verifier": verifier,
    }
