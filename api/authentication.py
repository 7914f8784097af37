"""Authentication classes of the API: bearer JWT, cookie JWT (with CSRF), session.

Each extends one step of its base class (SimpleJWT's ``JWTAuthentication``:
``get_validated_token`` checks the signature and claims, or only the time
window of an access token already verified by this process (api/keyring.py),
``get_user`` the revocation and the user, both from one cache round trip) and
names the mechanism it stands for in ``auth_mechanism``, which ``/api/me/`` reports.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject
from rest_framework import authentication, exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.models import TokenUser

from api import logins
from api.tokens import AccessToken
from authcache.snapshots import user_cached


def token_error_to_auth_failed(exc: TokenError) -> AuthenticationFailed:
    """Return the 401 for a token error, with its stable code (token_not_valid by default).

    An expired token says ``token_expired``, so a client knows that a refresh helps.
    """
    code = "token_expired" if isinstance(exc, ExpiredTokenError) else getattr(exc, "code", "token_not_valid")
    detail = str(exc.args[0]) if exc.args else "Token is invalid"
    return AuthenticationFailed(detail, code=code)


# The methods Django's CSRF check accepts as they are (RFC 9110 safe methods).
_CSRF_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_enforce(request) -> None:
    """Raise PermissionDenied (code csrf_failed) unless the request passes Django's CSRF check."""
    if request.method in _CSRF_SAFE_METHODS:
        # Django's check accepts these methods without looking at a token
        # (CsrfViewMiddleware.process_view); skip building it on every GET.
        return

    def dummy_get_response(request):  # pragma: no cover - never called
        return None

    check = CSRFCheck(dummy_get_response)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise exceptions.PermissionDenied(f"CSRF Failed: {reason}", code="csrf_failed")


class JWTBearerAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access>``; no CSRF check (a browser never adds this header by itself)."""

    auth_mechanism = "jwt-bearer"

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        try:
            return AccessToken(raw_token)
        except TokenError as exc:
            raise token_error_to_auth_failed(exc) from exc

    def get_user(self, validated_token):
        if settings.JWT_STATELESS:
            # Benchmark mode: SimpleJWT's stateless user, no database, no revocation.
            return jwt_settings.api_settings.TOKEN_USER_CLASS(validated_token)
        # The revocation check and the user in one cache round trip
        # (api.logins.token_user); deleted and deactivated users answer
        # alike: user_inactive.
        try:
            return logins.token_user(token=validated_token)
        except TokenError as exc:
            raise token_error_to_auth_failed(exc) from exc


class JWTCookieAuthentication(JWTBearerAuthentication):
    """The ``access_token`` HttpOnly cookie; unsafe methods need Django's CSRF token.

    The check is the one DRF's SessionAuthentication makes.
    """

    auth_mechanism = "jwt-cookie"

    def authenticate(self, request):
        raw = request.COOKIES.get(settings.JWT_ACCESS_COOKIE)
        if not raw:
            return None
        validated = self.get_validated_token(raw.encode("utf-8", errors="replace"))
        user = self.get_user(validated)
        # A cookie is sent by the browser on its own: cross-site requests must
        # not ride on it (OWASP ASVS 5.0 V3.5.1, Django's CSRF protection).
        csrf_enforce(request)
        return user, validated


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication with a stable error code for CSRF failures."""

    auth_mechanism = "session"

    def authenticate(self, request):
        # DRF's, except that the user handed on is the model instance itself
        # (accounts.middleware's ``session_user``), not the SimpleLazyObject
        # of request.user, through which every attribute read would go.
        user = getattr(request._request, "user", None)
        session_user = getattr(request._request, "session_user", None)
        if session_user is not None and isinstance(user, SimpleLazyObject):
            user = session_user()  # still the middleware's lazy user: no login or logout since
        if not user or not user.is_active:
            return None
        self.enforce_csrf(request)
        return (user, None)

    def enforce_csrf(self, request):
        csrf_enforce(request)


def db_user(request):
    """Return the request's user model instance (stateless mode authenticates a TokenUser).

    Stateless mode checks no revocation, but ``/api/me/`` answers with the
    user's fields, which the token does not carry: they come from the user's
    cached snapshot (authcache.snapshots), as on the revocable path, so both
    modes pay the same one cache round trip for them and differ only by the
    revocation verdict read in it.
    """
    if isinstance(request.user, TokenUser):
        try:
            user = user_cached(request.user.pk)
        except (ValueError, TypeError):
            user = None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive or does not exist", code="user_inactive")
        return user
    return request.user
