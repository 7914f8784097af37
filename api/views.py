"""Views of the JWT side: parse the request, call one service, respond.

Token responses carry ``Cache-Control: no-store`` (RFC 6749 section 5.1,
OWASP ASVS 5.0 V14.3). Login endpoints share the one login rate limiter
(limits.ratelimit) with the HTML login. The OpenAPI descriptions are in
api/schema.py, the cookie transport's helpers in api/cookies.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import logout as session_logout
from django.middleware.csrf import rotate_token
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from accounts import emails
from accounts import services as account_services
from accounts.assurance import PWD, Assurance, assurance_new
from api import cookies, jwk, keyring, logins, revocation, rotation, schema, serializers, stepup
from api.authentication import csrf_enforce, db_user, token_error_to_auth_failed
from api.models import TokenFamily
from api.tokens import AccessToken
from authdemo.http import client_ip
from limits.devicecookie import device_cookie_set
from limits.ratelimit import login_attempt_register, login_success_register
from mfa import services as mfa_services


class PublicAuthMixin:
    """For views that authenticate by themselves: their credential errors stay 401, not 403."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class NoStoreMixin:
    """Mark every response of the view as not storable: it may carry tokens."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


class Refused(exceptions.Throttled):
    """429 with our own wording and Retry-After (code ``throttled``)."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        # wait=None: DRF would append its own "Expected available in ..." sentence.
        super().__init__(detail=detail)
        self.wait = retry_after


class LoginThrottled(Refused):
    """429 with the one wording of a refused login (limits.ratelimit) and Retry-After."""

    def __init__(self, throttle) -> None:
        super().__init__(throttle.message, retry_after=throttle.retry_after)


def credentials_user(request, data) -> object:
    """Return the user of valid credentials after the rate limit; raise 429 or 401."""
    username, password = data["username"], data["password"]
    throttle = login_attempt_register(request._request, username=username)
    if throttle.limited:
        raise LoginThrottled(throttle)
    # authenticate(): the dummy hash for unknown users keeps both failures
    # equally slow; inactive users fail like a wrong password (ASVS 5.0 V6.3.8).
    user = authenticate(request._request, username=username, password=password)
    if user is None:
        detail = "No active account found with the given credentials"
        if throttle.warning:
            # {detail, code} as always, plus the warning before the last attempt.
            raise exceptions.AuthenticationFailed(
                {"detail": detail, "code": "invalid_credentials", "warning": throttle.warning}
            )
        raise exceptions.AuthenticationFailed(detail, code="invalid_credentials")
    login_success_register(request._request, username=username)
    return user


def token_call(func, **kwargs):
    """Call a token service; turn its TokenError into the 401 with the error's stable code."""
    try:
        return func(**kwargs)
    except TokenError as exc:
        raise token_error_to_auth_failed(exc) from exc


def _no_body(request) -> None:
    """Parse the body of a body-less endpoint, so malformed JSON or another media type is a 4xx."""
    request.data  # noqa: B018 - parsing raises ParseError / UnsupportedMediaType


# --- Login and refresh: one implementation, two transports -------------------
# As SimpleJWT's TokenViewBase: the base views parse and call the service; the
# transport mixin reads the refresh token and renders the new pair.


class BearerTransport:
    """Tokens in the JSON bodies: ``{"refresh"}`` in, ``{"access", "refresh"}`` out."""

    transport = TokenFamily.Transport.BEARER

    def refresh_raw(self, request) -> str:
        data = serializers.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data["refresh"]

    def pair_response(self, request, pair: logins.TokenPair, *, user) -> Response:
        return Response({"access": str(pair.access), "refresh": str(pair.refresh)})


class CookieTransport:
    """Tokens only in HttpOnly cookies; unsafe requests carrying them need the CSRF header."""

    transport = TokenFamily.Transport.COOKIE

    def refresh_raw(self, request) -> str:
        csrf_enforce(request)
        _no_body(request)
        raw = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        if not raw:
            raise exceptions.AuthenticationFailed("No refresh token cookie", code="not_authenticated")
        return raw

    def pair_response(self, request, pair: logins.TokenPair, *, user) -> Response:
        response = Response(cookies.cookie_session_body(user, pair))
        cookies.cookies_set(response, pair)
        return response


class LoginViewBase(PublicAuthMixin, NoStoreMixin, APIView):
    """Exchange username and password for a new token pair (a new login)."""

    def post(self, request):
        data = serializers.CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = credentials_user(request, data.validated_data)
        if mfa_services.mfa_enabled(user=user):
            # No credential yet: the second step (api.mfaviews) completes the login.
            return stepup.mfa_required_response(user)
        return self.login_response(request, user, assurance_new(methods=[PWD]))

    def login_response(self, request, user, proven: Assurance) -> Response:
        """Return the response of a completed login of ``user`` that proved ``proven``."""
        pair = logins.token_pair_issue(
            user=user,
            ip=client_ip(request._request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            transport=self.transport,
            assurance=proven,
        )
        response = self.pair_response(request, pair, user=user)
        # Either transport: this client is now a trusted device of the user (limits.ratelimit).
        device_cookie_set(response, user=user)
        return response


class RefreshViewBase(PublicAuthMixin, NoStoreMixin, APIView):
    """Rotate a refresh token within its family; a rotated-out token presented again is reuse."""

    def post(self, request):
        raw = self.refresh_raw(request)
        pair = token_call(
            rotation.token_refresh,
            raw=raw,
            ip=client_ip(request._request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return self.pair_response(request, pair, user=pair.user)


@extend_schema(**schema.TOKEN_OBTAIN)
class TokenObtainView(BearerTransport, LoginViewBase):
    """Exchange username and password for an access and a refresh token (a new login)."""


@extend_schema(**schema.TOKEN_REFRESH)
class TokenRefreshView(BearerTransport, RefreshViewBase):
    """Rotate a refresh token within its family; a rotated-out token presented again is reuse."""


@extend_schema(**schema.COOKIE_LOGIN)
class CookieLoginView(CookieTransport, LoginViewBase):
    """Log in with the token cookies: tokens travel only in HttpOnly cookies, never in the body."""

    def pair_response(self, request, pair: logins.TokenPair, *, user) -> Response:
        # A new login gets a new CSRF token, as Django's login() does (fixation).
        rotate_token(request._request)
        return super().pair_response(request, pair, user=user)


@extend_schema(**schema.COOKIE_REFRESH)
class CookieRefreshView(CookieTransport, RefreshViewBase):
    """Rotate both token cookies from the refresh cookie; needs the CSRF header."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc.__cause__, TokenError):
            cookies.cookies_clear(response)  # a dead refresh cookie is of no further use
        return response


# --- Other token endpoints ----------------------------------------------------


class TokenVerifyView(PublicAuthMixin, NoStoreMixin, APIView):
    """Say whether a token is valid, unrevoked and of an active user."""

    @extend_schema(**schema.TOKEN_VERIFY)
    def post(self, request):
        data = serializers.VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token_call(logins.token_verify, raw=data.validated_data["token"])
        return Response({})


class TokenRevokeView(NoStoreMixin, APIView):
    """Log out a bearer client: its refresh token and the presenting access token die at once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(**schema.TOKEN_REVOKE)
    def post(self, request):
        data = serializers.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        access = request.auth if isinstance(request.auth, AccessToken) else None
        if access is None:
            # Sessions have no token to revoke; the refresh token must still be the user's.
            raise exceptions.AuthenticationFailed(
                "A bearer access token is required", code="not_authenticated"
            )
        token_call(revocation.token_revoke, access=access, raw_refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class CookieLogoutView(PublicAuthMixin, APIView):
    """Revoke the cookie login's tokens and clear the cookies; needs the CSRF header."""

    @extend_schema(**schema.COOKIE_LOGOUT)
    def post(self, request):
        csrf_enforce(request)
        _no_body(request)
        revocation.cookie_tokens_revoke(
            raw_access=request.COOKIES.get(settings.JWT_ACCESS_COOKIE, ""),
            raw_refresh=request.COOKIES.get(settings.JWT_REFRESH_COOKIE, ""),
        )
        response = Response(status=status.HTTP_204_NO_CONTENT)
        cookies.cookies_clear(response)
        return response


class LogoutAllView(APIView):
    """End every session and revoke every token of the user (accounts.services.user_revoke_all)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(**schema.LOGOUT_ALL)
    def post(self, request):
        _no_body(request)
        user = db_user(request)
        account_services.user_revoke_all(user=user)
        if getattr(request.successful_authenticator, "auth_mechanism", "") == "session":
            session_logout(request._request)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        cookies.cookies_clear(response)
        return response


EMAIL_CONFIRMATION_SENT = (
    "A confirmation link was sent to the new address; the email changes once the link is followed."
)


class MeView(APIView):
    """The authenticated user; PATCH edits the names, and asks for a new email by a confirmation link."""

    permission_classes = [IsAuthenticated]

    def _body(self, request, user) -> dict:
        # The MeSerializer's fields, built directly: a ModelSerializer builds
        # its fields on every instantiation, the largest cost of a warm GET.
        body = {name: getattr(user, name) for name in serializers.ME_FIELDS}
        body["auth"] = getattr(request.successful_authenticator, "auth_mechanism", "")
        return body

    @extend_schema(**schema.ME_GET)
    def get(self, request):
        return Response(self._body(request, db_user(request)))

    @extend_schema(**schema.ME_PATCH)
    def patch(self, request):
        if isinstance(request.data, dict) and "email" in request.data:
            stepup.stepup_require(request)  # changing the email is sensitive (ASVS 5.0 V7.5.1)
        # The row as it is now, not the cached snapshot the request authenticated with.
        user = get_user_model()._default_manager.filter(pk=db_user(request).pk, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed("User is inactive or does not exist", code="user_inactive")
        data = serializers.MeSerializer(user, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        email = data.validated_data.get("email")
        # 202 whoever holds the address: a taken one answers as a free one (accounts.emails).
        if email is not None and emails.email_change_request(user=user, email=email):
            body = {"detail": EMAIL_CONFIRMATION_SENT, "code": "email_confirmation_sent"}
            return Response({**body, "user": self._body(request, user)}, status=status.HTTP_202_ACCEPTED)
        return Response(self._body(request, user))


class JwksView(APIView):
    """GET /.well-known/jwks.json: the public keys that verify access tokens."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(**schema.JWKS)
    def get(self, request) -> Response:
        response = Response(keyring.jwks_document())
        # Public and cacheable: verifiers poll it (docs/jwt-keys.md, rotation).
        patch_cache_control(response, public=True, max_age=jwk.JWKS_MAX_AGE)
        return response
