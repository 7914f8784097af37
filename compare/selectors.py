"""Read-only selectors of the comparison pages: what this browser and the server hold, per strategy."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Length
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Session
from accounts.sessions import public_id_for
from api.cookies import cookie_attributes
from api.models import TokenFamily
from api.tokens import FAMILY_CLAIM, AccessToken, stored_token_amr

BEARER_PREFIX = "Authorization: Bearer "

# What each registered claim means, for the decoded token (RFC 7519 section 4.1).
CLAIM_NOTES = {
    "iss": "issuer: who signed it",
    "aud": "audience: who may accept it",
    "exp": "expires",
    "iat": "issued at",
    "nbf": "not before",
    "jti": "token id: unique per token",
    "token_type": "access, never refresh (explicit typing, RFC 8725 section 3.11)",
    FAMILY_CLAIM: "the login (token family) it belongs to: the unit of revocation",
}
HEADER_NOTES = {
    "alg": "signature algorithm",
    "kid": "which key signed it (see the JWKS)",
    "typ": "media type",
}
TIME_CLAIMS = ("exp", "iat", "nbf")


@dataclass(frozen=True)
class CookieHeld:
    """One cookie of this browser: its flags (from the settings) and its size as sent here."""

    name: str
    role: str
    sent: bool
    size: int  # bytes of name=value in the Cookie header; for unsent cookies, as it would be
    httponly: bool
    samesite: str
    secure: bool
    path: str
    expires: str


def _cookie_size(name: str, value: str) -> int:
    return len(f"{name}={value}".encode())


def cookie_header_size(request: HttpRequest) -> int:
    """Return the bytes of this request's whole Cookie header."""
    return len(request.META.get("HTTP_COOKIE", "").encode("latin-1", errors="replace"))


def session_cookies(request: HttpRequest) -> list[CookieHeld]:
    """Return the session side's cookies as this browser holds them."""
    value = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    at_close = request.session.get_expire_at_browser_close() if value else True
    cookies = [
        CookieHeld(
            name=settings.SESSION_COOKIE_NAME,
            role="the session id: a random key, all data stays on the server",
            sent=bool(value),
            size=_cookie_size(settings.SESSION_COOKIE_NAME, value) if value else 0,
            httponly=settings.SESSION_COOKIE_HTTPONLY,
            samesite=str(settings.SESSION_COOKIE_SAMESITE),
            secure=settings.SESSION_COOKIE_SECURE,
            path=settings.SESSION_COOKIE_PATH,
            expires="when the browser closes" if at_close else "at the session's absolute deadline",
        )
    ]
    return [*cookies, _csrf_cookie(request)]


def _csrf_cookie(request: HttpRequest) -> CookieHeld:
    value = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    return CookieHeld(
        name=settings.CSRF_COOKIE_NAME,
        role="the CSRF secret: both sides need it for unsafe requests carried by cookies",
        sent=bool(value),
        size=_cookie_size(settings.CSRF_COOKIE_NAME, value) if value else 0,
        httponly=settings.CSRF_COOKIE_HTTPONLY,
        samesite=str(settings.CSRF_COOKIE_SAMESITE),
        secure=settings.CSRF_COOKIE_SECURE,
        path=settings.CSRF_COOKIE_PATH,
        expires=f"after {settings.CSRF_COOKIE_AGE // 86400} days"
        if settings.CSRF_COOKIE_AGE
        else "browser close",
    )


def jwt_cookies(
    request: HttpRequest, *, token: AccessToken | None, family: FamilyState | None
) -> list[CookieHeld]:
    """Return the JWT side's cookies: the access cookie as sent here, the path-scoped refresh cookie."""
    attributes = cookie_attributes()
    access = request.COOKIES.get(settings.JWT_ACCESS_COOKIE, "")
    access_exp = (
        f"{_iso(datetime.fromtimestamp(token['exp'], tz=UTC))} (with the token)"
        if token
        else "with the token"
    )
    refresh_exp = (
        f"{_iso(family.expires_at)} (with the refresh token)" if family else "with the refresh token"
    )
    return [
        CookieHeld(
            name=settings.JWT_ACCESS_COOKIE,
            role="the access token itself: signed claims, sent on every request",
            sent=bool(access),
            size=_cookie_size(settings.JWT_ACCESS_COOKIE, access) if access else 0,
            httponly=attributes["httponly"],
            samesite=attributes["samesite"],
            secure=attributes["secure"],
            path="/",
            expires=access_exp,
        ),
        CookieHeld(
            name=settings.JWT_REFRESH_COOKIE,
            role="the refresh token: sent only to the cookie refresh and logout endpoints, not to this page",
            sent=False,
            size=family.refresh_cookie_size if family else 0,
            httponly=attributes["httponly"],
            samesite=attributes["samesite"],
            secure=attributes["secure"],
            path=settings.JWT_REFRESH_COOKIE_PATH,
            expires=refresh_exp,
        ),
    ]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class DecodedToken:
    """An access token taken apart on the server; the raw token itself is not kept."""

    header: list[tuple[str, str, str]]
    claims: list[tuple[str, str, str]]
    exp: int
    sizes: dict[str, int]  # base64url characters of header, payload, signature
    bearer_size: int

    @property
    def remaining(self) -> int:
        """Return the seconds until the token expires (0 when it has)."""
        return max(0, self.exp - int(time.time()))


def token_decode(*, raw: str, token: AccessToken) -> DecodedToken:
    """Return the header and claims of a validated access token, with readable times."""
    header = jwt.get_unverified_header(raw)  # already verified: ``token`` is validated
    parts = raw.split(".")
    claims = []
    for name, value in token.payload.items():
        shown = json.dumps(value) if not isinstance(value, str) else value
        note = CLAIM_NOTES.get(name, "")
        if name in TIME_CLAIMS and isinstance(value, int | float):
            note = f"{note}: {_iso(datetime.fromtimestamp(value, tz=UTC))}"
        if name == jwt_settings.api_settings.USER_ID_CLAIM:
            note = "the user's id: the only link to the account"
        claims.append((name, shown, note))
    return DecodedToken(
        header=[(k, str(v), HEADER_NOTES.get(k, "")) for k, v in header.items()],
        claims=claims,
        exp=int(token["exp"]),
        sizes={"header": len(parts[0]), "payload": len(parts[1]), "signature": len(parts[2])},
        bearer_size=len((BEARER_PREFIX + raw).encode()),
    )


@dataclass(frozen=True)
class SessionState:
    """The session row of this browser's session, as the server holds it."""

    row: Session
    data_size: int
    idle_expiry: datetime
    absolute_expiry: datetime
    public_id: str


def session_state(request: HttpRequest) -> SessionState | None:
    """Return the session row of this browser's session (scoped to its user), or None."""
    key = request.session.session_key
    if not key or not request.user.is_authenticated:
        return None
    row = (
        request.user.sessions.filter(session_key=key)
        .annotate(data_size=Length("session_data"))
        .defer("session_data")
        .first()
    )
    if row is None:
        return None
    return SessionState(
        row=row,
        data_size=row.data_size,
        idle_expiry=row.expire_date,
        absolute_expiry=row.absolute_expiry,
        public_id=public_id_for(key),
    )


@dataclass(frozen=True)
class FamilyState:
    """The token family row of a JWT login and the rows the login has written so far."""

    family: TokenFamily
    issued: int  # refresh tokens issued in the family: 1 at login, +1 per rotation
    last_issued: datetime | None
    blacklisted: int
    refresh_cookie_size: int

    @property
    def expires_at(self) -> datetime:
        return self.family.expires_at

    @property
    def rotations(self) -> int:
        return max(0, self.issued - 1)

    @property
    def last_rotation(self) -> datetime | None:
        return self.last_issued if self.rotations else None

    @property
    def rows(self) -> dict[str, int]:
        """Rows this login wrote, counted in the database: family, outstanding tokens, links, blacklist."""
        return {
            "token family": 1,
            "outstanding refresh tokens": self.issued,
            "family links": self.issued,
            "blacklisted (rotated out or revoked)": self.blacklisted,
        }

    @property
    def rows_total(self) -> int:
        return sum(self.rows.values())


def family_state(*, user, family_id: uuid.UUID) -> FamilyState | None:
    """Return the family row of ``family_id`` if it is ``user``'s, with its counted rows (three queries)."""
    family = (
        TokenFamily.objects.filter(user=user, pk=family_id)
        .annotate(issued=Count("tokens"), last_issued=Max("tokens__token__created_at"))
        .first()
    )
    if family is None:
        return None
    blacklisted = BlacklistedToken.objects.filter(token__family_link__family=family).count()
    newest = (
        OutstandingToken.objects.filter(family_link__family=family)
        .order_by("-created_at")
        .annotate(size=Length("token"))
        .values_list("size", flat=True)
        .first()
    )
    return FamilyState(
        family=family,
        issued=family.issued,
        last_issued=family.last_issued,
        blacklisted=blacklisted,
        refresh_cookie_size=_cookie_size(settings.JWT_REFRESH_COOKIE, "") + (newest or 0) if newest else 0,
    )


@dataclass(frozen=True)
class Lifetimes:
    """The configured lifetimes that decide revocation delays, in seconds."""

    access: int
    refresh: int
    leeway: int
    session_idle: int
    session_absolute: int

    @property
    def stateless_window(self) -> int:
        return self.access + self.leeway


def lifetimes() -> Lifetimes:
    """Return the lifetimes of this instance's settings."""
    return Lifetimes(
        access=int(jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        refresh=int(jwt_settings.api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
        leeway=int(
            jwt_settings.api_settings.LEEWAY.total_seconds()
            if isinstance(jwt_settings.api_settings.LEEWAY, timedelta)
            else jwt_settings.api_settings.LEEWAY
        ),
        session_idle=settings.SESSION_IDLE_TIMEOUT,
        session_absolute=settings.SESSION_ABSOLUTE_LIFETIME,
    )


# --- The device list ------------------------------------------------------------


def families_live(*, user) -> QuerySet[TokenFamily]:
    """Return the user's JWT logins that are neither revoked nor expired, newest first (lazy: page it).

    Each carries ``issued`` (refresh tokens so far), ``last_issued`` (the newest
    one's time) and ``current_token``; families_amr_mark() adds ``amr`` to a page.
    """
    current_token = OutstandingToken.objects.filter(jti=OuterRef("current_jti")).values("token")[:1]
    return (
        user.token_families.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
        .annotate(
            issued=Count("tokens"),
            last_issued=Max("tokens__token__created_at"),
            current_token=Subquery(current_token),
        )
        .order_by("-created_at")
    )


def families_amr_mark(families) -> None:
    """Set ``amr`` on each of ``families`` (one page of families_live()): how each login authenticated."""
    for family in families:
        # The amr its current refresh token carries (our own, stored row).
        family.amr = stored_token_amr(raw=family.current_token)
