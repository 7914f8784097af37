"""What one authenticated request costs on this instance: this browser's credentials replayed, metered."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import TokenError

from api.tokens import AccessToken
from compare.metering import meter
from compare.replay import me_replay
from compare.state import jwt_access_token


def _replay_metered(request: HttpRequest, **credential) -> dict:
    # The first call may fill the cache (a cold verdict or session); the second is the steady state.
    me_replay(request=request, **credential)
    with meter() as cost:
        answer = me_replay(request=request, **credential)
    return {"status": answer.status, "auth": answer.auth, **cost.as_dict()}


def _stateless(raw: str) -> dict:
    # What JWT_STATELESS=1 and the separate verifier do per request: check the
    # signature and claims, build the user from the claims; no store is asked.
    with meter() as cost:
        try:
            token = AccessToken(raw)
            jwt_settings.api_settings.TOKEN_USER_CLASS(token).pk  # noqa: B018 - the claims-only user, as SimpleJWT builds it
            status = 200
        except TokenError:
            status = 401
    return {"status": status, "auth": "jwt-stateless", **cost.as_dict()}


def request_costs(request: HttpRequest) -> dict[str, dict | None]:
    """Return the metered cost of ``/api/me/`` with each credential this browser holds (None: not held)."""
    costs: dict[str, dict | None] = {
        "session": None,
        "jwt_cookie": None,
        "jwt_bearer": None,
        "jwt_stateless": None,
    }
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key and request.user.is_authenticated:
        costs["session"] = _replay_metered(request, cookies={settings.SESSION_COOKIE_NAME: session_key})
    if jwt_access_token(request) is not None:
        raw = request.COOKIES[settings.JWT_ACCESS_COOKIE]
        costs["jwt_cookie"] = _replay_metered(request, cookies={settings.JWT_ACCESS_COOKIE: raw})
        costs["jwt_bearer"] = _replay_metered(request, authorization=f"Bearer {raw}")
        costs["jwt_stateless"] = _stateless(raw)
    return costs
