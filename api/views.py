"""Views of the JWT side: parse the request, call one service, respond.

Token responses carry ``Cache-Control: no-store`` (RFC 6749 section 5.1,
OWASP ASVS 5.0 V14.3). Login endpoints share the one login rate limiter
(accounts.ratelimit) with the HTML login.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import logout as session_logout
from django.db import connections
from django.middleware.csrf import rotate_token
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.models import TokenUser

from accounts.cachesafe import cache_available
from accounts.ratelimit import client_ip, login_attempt_register, login_success_register
from api import serializers, services
from api.authentication import csrf_enforce, token_error_to_auth_failed
from api.tokens import AccessToken

ERROR = serializers.ErrorSerializer
_TOKEN_EXAMPLE = "eyJhbGciOi...<header>.<payload>.<signature>"


def _error(detail: str, code: str, description: str = "") -> OpenApiResponse:
    return OpenApiResponse(
        ERROR,
        description=description or detail,
        examples=[OpenApiExample(code, value={"detail": detail, "code": code})],
    )


BAD_INPUT = _error("Invalid input.", "invalid", "Malformed JSON (code parse_error) or missing fields")
BAD_TOKEN = _error("Token is invalid or expired", "token_not_valid", "Invalid, expired or revoked token")
UNAUTHENTICATED = _error("Authentication credentials were not provided.", "not_authenticated")
CSRF_FAILED = _error("CSRF Failed: CSRF token missing.", "csrf_failed")
BAD_CREDENTIALS = _error("No active account found with the given credentials", "invalid_credentials")
THROTTLED = _error("Too many login attempts. Try again later.", "throttled", "Rate limited; see Retry-After")
CSRF_HEADER = OpenApiParameter(
    "X-CSRFToken",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Value of the csrftoken cookie (Django CSRF protection of cookie-borne credentials)",
)
COOKIE_SESSION_EXAMPLE = OpenApiExample(
    "cookie login",
    value={
        "user": {
            "id": 1,
            "username": "demo",
            "email": "demo@example.com",
            "first_name": "",
            "last_name": "",
        },
        "access_expires": "2026-01-01T12:05:00Z",
        "refresh_expires": "2026-01-02T12:00:00Z",
    },
    response_only=True,
)
CREDENTIALS_EXAMPLE = OpenApiExample(
    "credentials", value={"username": "demo", "password": "correct horse battery staple"}, request_only=True
)


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


def _credentials_user(request, data) -> object:
    """Return the user of valid credentials after the rate limit; raise 429 or 401."""
    username, password = data["username"], data["password"]
    throttle = login_attempt_register(request._request, username=username)
    if throttle.limited:
        raise exceptions.Throttled(
            wait=throttle.retry_after, detail="Too many login attempts. Try again later."
        )
    # authenticate(): the dummy hash for unknown users keeps both failures
    # equally slow; inactive users fail like a wrong password (ASVS 5.0 V6.3.8).
    user = authenticate(request._request, username=username, password=password)
    if user is None:
        raise exceptions.AuthenticationFailed(
            "No active account found with the given credentials", code="invalid_credentials"
        )
    login_success_register(request._request, username=username)
    return user


def _token_call(func, **kwargs):
    """Call a token service; turn its TokenError into the 401 with the error's stable code."""
    try:
        return func(**kwargs)
    except TokenError as exc:
        raise token_error_to_auth_failed(exc) from exc


def _no_body(request) -> None:
    """Parse the body of a body-less endpoint, so malformed JSON or another media type is a 4xx."""
    request.data  # noqa: B018 - parsing raises ParseError / UnsupportedMediaType


def _cookies_set(response: Response, pair: services.TokenPair) -> None:
    # HttpOnly: no script reads the tokens (ASVS 5.0 V3.3.4); SameSite=Lax and
    # the CSRF check keep cross-site requests from using them (V3.3.2);
    # Secure outside DEBUG (V3.3.1); the refresh token only travels to the
    # cookie endpoints (path-scoped).
    common = {"httponly": True, "secure": settings.JWT_COOKIE_SECURE, "samesite": "Lax"}
    response.set_cookie(
        settings.JWT_ACCESS_COOKIE, str(pair.access), expires=pair.access_expires, path="/", **common
    )
    response.set_cookie(
        settings.JWT_REFRESH_COOKIE,
        str(pair.refresh),
        expires=pair.refresh_expires,
        path=settings.JWT_REFRESH_COOKIE_PATH,
        **common,
    )


def _cookies_clear(response: Response) -> None:
    response.delete_cookie(settings.JWT_ACCESS_COOKIE, path="/", samesite="Lax")
    response.delete_cookie(settings.JWT_REFRESH_COOKIE, path=settings.JWT_REFRESH_COOKIE_PATH, samesite="Lax")


def _cookie_session_body(user, pair: services.TokenPair) -> dict:
    return serializers.CookieSessionSerializer(
        {"user": user, "access_expires": pair.access_expires, "refresh_expires": pair.refresh_expires}
    ).data


class TokenObtainView(PublicAuthMixin, NoStoreMixin, APIView):
    """Exchange username and password for an access and a refresh token (a new login)."""

    @extend_schema(
        tags=["tokens"],
        summary="Log in: username and password for an access and a refresh token",
        request=serializers.CredentialsSerializer,
        responses={
            200: serializers.TokenPairSerializer,
            400: BAD_INPUT,
            401: BAD_CREDENTIALS,
            429: THROTTLED,
        },
        examples=[
            CREDENTIALS_EXAMPLE,
            OpenApiExample(
                "token pair", value={"access": _TOKEN_EXAMPLE, "refresh": _TOKEN_EXAMPLE}, response_only=True
            ),
        ],
    )
    def post(self, request):
        data = serializers.CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _credentials_user(request, data.validated_data)
        pair = services.token_pair_issue(user=user)
        return Response({"access": str(pair.access), "refresh": str(pair.refresh)})


class TokenRefreshView(PublicAuthMixin, NoStoreMixin, APIView):
    """Rotate a refresh token within its family; a rotated-out token presented again is reuse."""

    @extend_schema(
        tags=["tokens"],
        summary="Rotate a refresh token: a new pair; the presented token is dead from now on",
        description=(
            "Presenting a refresh token that was already rotated out answers 401 `token_reused` "
            "and revokes every token of that login (its family)."
        ),
        request=serializers.RefreshSerializer,
        responses={
            200: serializers.TokenPairSerializer,
            400: BAD_INPUT,
            401: _error(
                "Token was already used; every token of this login is revoked",
                "token_reused",
                "Invalid (token_not_valid), revoked (token_revoked), reused (token_reused) "
                "or user inactive (user_inactive)",
            ),
        },
        examples=[
            OpenApiExample("refresh", value={"refresh": _TOKEN_EXAMPLE}, request_only=True),
            OpenApiExample(
                "token pair", value={"access": _TOKEN_EXAMPLE, "refresh": _TOKEN_EXAMPLE}, response_only=True
            ),
        ],
    )
    def post(self, request):
        data = serializers.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = _token_call(
            services.token_refresh, raw=data.validated_data["refresh"], ip=client_ip(request._request)
        )
        return Response({"access": str(pair.access), "refresh": str(pair.refresh)})


class TokenVerifyView(PublicAuthMixin, NoStoreMixin, APIView):
    """Say whether a token is valid, unrevoked and of an active user."""

    @extend_schema(
        tags=["tokens"],
        summary="Check a token (access or refresh): valid, not revoked, user active",
        request=serializers.VerifySerializer,
        responses={200: serializers.EmptySerializer, 400: BAD_INPUT, 401: BAD_TOKEN},
        examples=[
            OpenApiExample("token", value={"token": _TOKEN_EXAMPLE}, request_only=True),
            OpenApiExample("valid", value={}, response_only=True),
        ],
    )
    def post(self, request):
        data = serializers.VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _token_call(services.token_verify, raw=data.validated_data["token"])
        return Response({})


class TokenRevokeView(NoStoreMixin, APIView):
    """Log out a bearer client: its refresh token and the presenting access token die at once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tokens"],
        summary="Revoke a login: the refresh token given and the bearer access token",
        request=serializers.RefreshSerializer,
        responses={204: None, 400: BAD_INPUT, 401: BAD_TOKEN},
        examples=[OpenApiExample("refresh", value={"refresh": _TOKEN_EXAMPLE}, request_only=True)],
    )
    def post(self, request):
        data = serializers.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        access = request.auth if isinstance(request.auth, AccessToken) else None
        if access is None:
            # Sessions have no token to revoke; the refresh token must still be the user's.
            raise exceptions.AuthenticationFailed(
                "A bearer access token is required", code="not_authenticated"
            )
        _token_call(services.token_revoke, access=access, raw_refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class CookieLoginView(PublicAuthMixin, NoStoreMixin, APIView):
    """Log in with the token cookies: tokens travel only in HttpOnly cookies, never in the body."""

    @extend_schema(
        tags=["cookies"],
        summary="Log in with the token cookies (HttpOnly); the body holds the user and expiry times only",
        request=serializers.CredentialsSerializer,
        responses={
            200: serializers.CookieSessionSerializer,
            400: BAD_INPUT,
            401: BAD_CREDENTIALS,
            429: THROTTLED,
        },
        examples=[
            CREDENTIALS_EXAMPLE,
            COOKIE_SESSION_EXAMPLE,
        ],
    )
    def post(self, request):
        data = serializers.CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _credentials_user(request, data.validated_data)
        pair = services.token_pair_issue(user=user)
        # A new login gets a new CSRF token, as Django's login() does (fixation).
        rotate_token(request._request)
        response = Response(_cookie_session_body(user, pair))
        _cookies_set(response, pair)
        return response


class CookieRefreshView(PublicAuthMixin, NoStoreMixin, APIView):
    """Rotate both token cookies from the refresh cookie; needs the CSRF header."""

    @extend_schema(
        tags=["cookies"],
        summary="Rotate the token cookies (needs X-CSRFToken)",
        description="Reads the `refresh_token` cookie (path /api/auth/cookie/); sets both cookies anew. "
        "A rotated-out refresh cookie presented again answers 401 `token_reused` and revokes that login.",
        parameters=[CSRF_HEADER],
        examples=[COOKIE_SESSION_EXAMPLE],
        request=None,
        responses={
            200: serializers.CookieSessionSerializer,
            401: BAD_TOKEN,
            403: CSRF_FAILED,
        },
    )
    def post(self, request):
        csrf_enforce(request)
        _no_body(request)
        raw = request.COOKIES.get(settings.JWT_REFRESH_COOKIE)
        if not raw:
            raise exceptions.AuthenticationFailed("No refresh token cookie", code="not_authenticated")
        try:
            pair = services.token_refresh(raw=raw, ip=client_ip(request._request))
        except TokenError as exc:
            response = Response(
                {"detail": str(exc.args[0]), "code": getattr(exc, "code", "token_not_valid")},
                status=status.HTTP_401_UNAUTHORIZED,
            )
            _cookies_clear(response)  # a dead refresh cookie is of no further use
            return response
        response = Response(_cookie_session_body(pair.user, pair))
        _cookies_set(response, pair)
        return response


class CookieLogoutView(PublicAuthMixin, APIView):
    """Revoke the cookie login's tokens and clear the cookies; needs the CSRF header."""

    @extend_schema(
        tags=["cookies"],
        summary="Log out the cookie login (needs X-CSRFToken): both tokens revoked, cookies cleared",
        parameters=[CSRF_HEADER],
        request=None,
        responses={204: None, 403: CSRF_FAILED},
    )
    def post(self, request):
        csrf_enforce(request)
        _no_body(request)
        services.cookie_tokens_revoke(
            raw_access=request.COOKIES.get(settings.JWT_ACCESS_COOKIE, ""),
            raw_refresh=request.COOKIES.get(settings.JWT_REFRESH_COOKIE, ""),
        )
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _cookies_clear(response)
        return response


class LogoutAllView(APIView):
    """End every session and revoke every token of the user (accounts.services.user_revoke_all)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["tokens"],
        summary="End every session and revoke every token of the user (any authentication)",
        request=None,
        responses={204: None, 401: UNAUTHENTICATED, 403: CSRF_FAILED},
    )
    def post(self, request):
        from accounts.services import user_revoke_all

        _no_body(request)
        user = _db_user(request)
        user_revoke_all(user=user)
        if getattr(request.successful_authenticator, "auth_mechanism", "") == "session":
            session_logout(request._request)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _cookies_clear(response)
        return response


def _db_user(request):
    """Return the request's user model instance (stateless mode authenticates a TokenUser)."""
    if isinstance(request.user, TokenUser):
        user = get_user_model().objects.filter(pk=request.user.pk, is_active=True).first()
        if user is None:
            raise exceptions.AuthenticationFailed("User is inactive or does not exist", code="user_inactive")
        return user
    return request.user


ME_EXAMPLE = OpenApiExample(
    "me",
    value={
        "id": 1,
        "username": "demo",
        "email": "demo@example.com",
        "first_name": "Demo",
        "last_name": "User",
        "auth": "jwt-bearer",
    },
    response_only=True,
)


class MeView(APIView):
    """The authenticated user; PATCH edits the name and email fields."""

    permission_classes = [IsAuthenticated]

    def _body(self, request, user) -> dict:
        auth = getattr(request.successful_authenticator, "auth_mechanism", "")
        return serializers.MeSerializer(user, context={"auth": auth}).data

    @extend_schema(
        tags=["me"],
        summary="The authenticated user and the mechanism that authenticated this request",
        responses={200: serializers.MeSerializer, 401: UNAUTHENTICATED},
        examples=[ME_EXAMPLE],
    )
    def get(self, request):
        return Response(self._body(request, _db_user(request)))

    @extend_schema(
        tags=["me"],
        summary="Edit first name, last name and email (cookie-authenticated: needs X-CSRFToken)",
        request=serializers.MeSerializer,
        responses={200: serializers.MeSerializer, 400: BAD_INPUT, 401: UNAUTHENTICATED, 403: CSRF_FAILED},
        examples=[
            OpenApiExample(
                "edit", value={"first_name": "Ada", "email": "ada@example.com"}, request_only=True
            ),
            ME_EXAMPLE,
        ],
    )
    def patch(self, request):
        user = _db_user(request)
        data = serializers.MeSerializer(user, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        return Response(self._body(request, user))


class HealthView(APIView):
    """Database and cache health for load balancers (anonymous)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["health"],
        summary="Health for load balancers: database and cache",
        responses={
            200: serializers.HealthSerializer,
            503: OpenApiResponse(
                serializers.HealthErrorSerializer,
                description="A dependency is down; the failing part says error",
                examples=[
                    OpenApiExample(
                        "cache down",
                        value={
                            "status": "degraded",
                            "database": "ok",
                            "cache": "error",
                            "detail": "Unavailable: cache",
                            "code": "service_unavailable",
                        },
                    )
                ],
            ),
        },
        examples=[
            OpenApiExample("ok", value={"status": "ok", "database": "ok", "cache": "ok"}, response_only=True)
        ],
    )
    def get(self, request):
        parts = {"database": _database_ok(), "cache": _cache_ok()}
        body = {"status": "ok", **{name: "ok" if ok else "error" for name, ok in parts.items()}}
        failing = [name for name, ok in parts.items() if not ok]
        if not failing:
            return Response(body, headers={"Cache-Control": "no-store"})
        # With only the cache down the site still serves (authenticated
        # requests read the database; logins answer 503): "degraded". Still a
        # 503, so a load balancer can tell; docs/operations.md says whether
        # to keep such an instance in rotation.
        degraded = failing == ["cache"]
        body.update(
            status="degraded" if degraded else "error",
            detail=f"Unavailable: {', '.join(failing)}",
            code="service_unavailable",
        )
        return Response(
            body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Cache-Control": "no-store"}
        )


def _database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "down" to a load balancer
        return False


def _cache_ok() -> bool:
    return cache_available()
