"""The step-up lab: each side's assurance, aged on request, and a copy of an access token from before step-up.

A session's assurance is data on the server, changed in place; a JWT's is
claims frozen at issue, so step-up means a new pair and any copy of the old
access token keeps its old ``amr``/``auth_time`` until ``exp``. The copy is
read from the request's cookie and kept server-side under a random lab id
(compare.labstore) for at most its remaining lifetime: it never reaches page
script.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from rest_framework_simplejwt.exceptions import TokenError

from accounts.assurance import Assurance, assurance_from_claims, session_assurance, session_assurance_set
from accounts.conf import reauth_seconds
from api import logins, rotation
from api.tokens import AccessToken
from compare.labstore import LabStore
from compare.replay import me_replay
from compare.state import browser_user, jwt_access_token, jwt_user, session_user
from compare.verifier_client import verifier_whoami

SESSION, JWT = "session", "jwt"
SIDES = (SESSION, JWT)

store = LabStore(kind="stepup", cookie_name="lab_stepup", cookie_path="/lab/stepup/")


def _now() -> int:
    return int(time.time())


def _describe(assurance: Assurance | None, *, now: int) -> dict:
    if assurance is None:
        return {"amr": None, "auth_time": None, "age": None, "fresh": False}
    return {
        "amr": list(assurance.amr),
        "auth_time": assurance.auth_time,
        "age": now - assurance.auth_time,
        "fresh": assurance.is_fresh(now=now),
    }


def stepup_state(*, request: HttpRequest, access: AccessToken | None = None, now: int | None = None) -> dict:
    """Return each side's user, ``amr``, ``auth_time``, age and freshness (None: not logged in that way).

    ``access`` stands for the JWT side's token when this response replaces the cookie's.
    """
    now = _now() if now is None else now
    state: dict = {"reauth_seconds": reauth_seconds(), "now": now, SESSION: None, JWT: None}
    user = session_user(request)
    if user is not None:
        proven = session_assurance(request.session)
        state[SESSION] = {"user": user.get_username(), **_describe(proven, now=now)}
    token = jwt_access_token(request) if jwt_user(request) is not None else None
    if token is not None and access is not None:
        token = access
    if token is not None:
        state[JWT] = {
            "user": jwt_user(request).get_username(),
            "jti": str(token.get("jti", ""))[:8],
            "expires_in": max(0, int(token["exp"]) - now),
            **_describe(assurance_from_claims(token.payload), now=now),
        }
    return state


def _aged(assurance: Assurance | None, *, now: int) -> Assurance | None:
    # Only ever backwards: an auth_time already older stays as it is.
    if assurance is None:
        return None
    stale = now - reauth_seconds() - 1
    return Assurance(amr=assurance.amr, auth_time=min(assurance.auth_time, stale))


def session_age(*, request: HttpRequest, now: int | None = None) -> None:
    """Move this session's ``auth_time`` back past REAUTH_SECONDS, in place; it never becomes more trusted."""
    aged = _aged(session_assurance(request.session), now=_now() if now is None else now)
    if aged is not None:
        session_assurance_set(request.session, aged)


def jwt_age(*, request: HttpRequest, now: int | None = None) -> logins.TokenPair | None:
    """Return a new pair of this browser's JWT login with its ``auth_time`` moved back (None: nothing to age).

    The pair replaces the cookie's (the refresh token rotates out); the
    access token sent with this request keeps its claims until ``exp``, as
    at every step-up. Raise TokenError when the login was revoked meanwhile.
    """
    token, user = jwt_access_token(request), jwt_user(request)
    if token is None or user is None:
        return None
    aged = _aged(assurance_from_claims(token.payload), now=_now() if now is None else now)
    if aged is None:
        return None
    return rotation.token_reauthenticate(access=token, user=user, assurance=aged)


def copy_take(*, request: HttpRequest, now: int | None = None) -> tuple[str, int] | None:
    """Keep this browser's access token under a new lab id; return (lab id, seconds kept), or None."""
    token, user = jwt_access_token(request), jwt_user(request)
    if token is None or user is None:
        return None
    now = _now() if now is None else now
    ttl = max(1, int(token["exp"]) - now + 1)
    proven = assurance_from_claims(token.payload)
    data = {
        "access": request.COOKIES[settings.JWT_ACCESS_COOKIE],
        "exp": int(token["exp"]),
        "jti": str(token.get("jti", ""))[:8],
        "amr": list(proven.amr) if proven else None,
        "auth_time": proven.auth_time if proven else None,
        "taken_at": now,
    }
    # Owned as every lab record: by the browser's user (its session's, else its JWT's).
    return store.create(user=browser_user(request), data=data, ttl=ttl), ttl


def copy_ask(*, request: HttpRequest, lab_id: str, record: dict, now: int | None = None) -> dict:
    """Return what the copy holds and what this instance and the verifier answer to it now."""
    now = _now() if now is None else now
    raw = record.get("access", "")
    try:
        proven = assurance_from_claims(AccessToken(raw).payload)
    except TokenError:
        proven = None  # expired (or no longer valid): the claims taken with the copy still say what it held
    instance = me_replay(request=request, cookies={settings.JWT_ACCESS_COOKIE: raw}).as_dict()
    instance["fresh"] = proven is not None and instance["accepted"] and proven.is_fresh(now=now)
    exp = record.get("exp")
    return {
        "lab_id": lab_id,
        "replay_url": reverse("lab-stepup-copy", args=[lab_id]),
        "asked_at": now,
        "taken_at": record.get("taken_at"),
        "jti": record.get("jti", ""),
        "amr": record.get("amr"),
        "auth_time": record.get("auth_time"),
        "expires_in": max(0, int(exp) - now) if isinstance(exp, int) else None,
        "instance": instance,
        "verifier": verifier_whoami(raw_access=raw).as_dict(),
    }
