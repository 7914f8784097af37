"""OpenAPI: the schema and Swagger UI views, each endpoint's description, the security schemes.

Views use the descriptions as ``@extend_schema(**schema.TOKEN_OBTAIN)``: the
examples, error responses and summaries live here, not in the views.

The Swagger UI is served from drf-spectacular-sidecar's static files
(``SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] = "SIDECAR"``): no CDN, so the docs
page loads no third-party script (OWASP ASVS 5.0 V3.6.1, subresource control).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import patch_vary_headers
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers as drf_serializers

from api import serializers
from authdemo.cookienames import cookie_name


class SchemaView(SpectacularAPIView):
    """GET /api/schema/: the OpenAPI 3 document (YAML; JSON with ?format=json)."""

    @extend_schema(
        operation_id="schema",
        summary="OpenAPI 3 document of this API",
        auth=[],
        tags=["docs"],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="OpenAPI 3 document")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        """Show the YAML in a browser (as text) instead of downloading it; tools get the OpenAPI type."""
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(response, "accepted_renderer", None)
        if renderer is not None and renderer.format == "yaml" and _browser_navigation(request):
            response.content_type = "text/plain; charset=utf-8"
        patch_vary_headers(response, ("Accept",))
        return response


def _browser_navigation(request) -> bool:
    """Return whether the request is a browser opening a page (it asks for HTML first)."""
    return request.META.get("HTTP_ACCEPT", "").split(",")[0].strip().startswith("text/html")


class DocsView(SpectacularSwaggerSplitView):
    """GET /api/docs/: Swagger UI over /api/schema/, from the project's own static files.

    The split view serves the init script as a file of its own
    (/api/docs/?script), so the page runs under the site's Content Security
    Policy without 'unsafe-inline'; the template adds a link back to the site.
    """

    url_name = "api:schema"
    template_name = "api/swagger_ui.html"
    # OPTIONS would render DRF's metadata through the HTML template (a 500): 405 instead.
    metadata_class = None

    @extend_schema(
        exclude=False,
        operation_id="docs",
        summary="Swagger UI (HTML) for this API",
        auth=[],
        tags=["docs"],
        responses={200: OpenApiResponse(OpenApiTypes.STR, description="HTML page")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- Shared pieces of the endpoint descriptions --------------------------------

ERROR = serializers.ErrorSerializer
_TOKEN_EXAMPLE = "eyJhbGciOi...<header>.<payload>.<signature>"


def error_response(detail: str, code: str, description: str = "") -> OpenApiResponse:
    return OpenApiResponse(
        ERROR,
        description=description or detail,
        examples=[OpenApiExample(code, value={"detail": detail, "code": code})],
    )


BAD_INPUT = error_response("Invalid input.", "invalid", "Malformed JSON (code parse_error) or missing fields")
BAD_TOKEN = error_response(
    "Token is invalid or expired", "token_not_valid", "Invalid, expired or revoked token"
)
UNAUTHENTICATED = error_response("Authentication credentials were not provided.", "not_authenticated")
CSRF_FAILED = error_response("CSRF Failed: CSRF token missing.", "csrf_failed")
BAD_CREDENTIALS = error_response("No active account found with the given credentials", "invalid_credentials")
LOGIN_REFUSED = OpenApiResponse(
    serializers.MfaRequiredSerializer,
    description=(
        "Bad credentials (`invalid_credentials`, the same for an unknown user), or the right password of "
        "a user with a second factor: `mfa_required` with a single-use `mfa_token` and no credential; "
        "POST it with a code to the login's `mfa/` path"
    ),
    examples=[
        OpenApiExample(
            "invalid_credentials",
            value={
                "detail": "No active account found with the given credentials",
                "code": "invalid_credentials",
            },
            response_only=True,
            status_codes=["401"],
        ),
        OpenApiExample(
            "mfa_required",
            value={
                "detail": "A second factor is required.",
                "code": "mfa_required",
                "mfa_token": "eyJ1Ijo...",
            },
            response_only=True,
            status_codes=["401"],
        ),
    ],
)
THROTTLED = error_response(
    "Too many login attempts. Try again in about 12 minutes.", "throttled", "Rate limited; see Retry-After"
)


def _cookie_forms(name: str, *, host_only: bool = True) -> str:
    """Return both names of a cookie for a description: prefixed when Secure (HTTPS), plain on plain HTTP."""
    return f"`{cookie_name(name, secure=True, host_only=host_only)}` (HTTPS) or `{name}` (plain HTTP)"


CSRF_HEADER = OpenApiParameter(
    "X-CSRFToken",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=f"Value of the CSRF cookie, {_cookie_forms('csrftoken')} "
    "(Django CSRF protection of cookie-borne credentials)",
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
TOKEN_PAIR_EXAMPLE = OpenApiExample(
    "token pair", value={"access": _TOKEN_EXAMPLE, "refresh": _TOKEN_EXAMPLE}, response_only=True
)
REFRESH_EXAMPLE = OpenApiExample("refresh", value={"refresh": _TOKEN_EXAMPLE}, request_only=True)
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

# --- Endpoint descriptions (keyword arguments of extend_schema) ------------------

# The device cookie both logins set (accounts.devicecookie; docs/contract.md).
DEVICE_COOKIE = (
    f"A successful login also sets the device cookie, {_cookie_forms('device')} (HttpOnly, "
    "SameSite=Lax, one year). A client that sends it back at a later login of the same username "
    "is limited per device, so failures by others that lock the username (429) do not lock it out."
)

TOKEN_OBTAIN = {
    "tags": ["tokens"],
    "summary": "Log in: username and password for an access and a refresh token",
    "description": DEVICE_COOKIE,
    "request": serializers.CredentialsSerializer,
    "responses": {
        200: serializers.TokenPairSerializer,
        400: BAD_INPUT,
        401: LOGIN_REFUSED,
        429: THROTTLED,
    },
    "examples": [CREDENTIALS_EXAMPLE, TOKEN_PAIR_EXAMPLE],
}

TOKEN_REFRESH = {
    "tags": ["tokens"],
    "summary": "Rotate a refresh token: a new pair; the presented token is dead from now on",
    "description": (
        "Presenting a refresh token again within `JWT_REFRESH_REUSE_GRACE` seconds of its rotation, "
        "while it is the one the login's current refresh token replaced, answers 200 with that current "
        "refresh token and a new access token (parallel refreshes converge). Later, or for an older "
        "token of the login, it answers 401 `token_reused` and revokes every token of that login "
        "(its family)."
    ),
    "request": serializers.RefreshSerializer,
    "responses": {
        200: serializers.TokenPairSerializer,
        400: BAD_INPUT,
        401: error_response(
            "Token was already used; every token of this login is revoked",
            "token_reused",
            "Invalid (token_not_valid), revoked (token_revoked), reused (token_reused) "
            "or user inactive (user_inactive)",
        ),
    },
    "examples": [REFRESH_EXAMPLE, TOKEN_PAIR_EXAMPLE],
}

TOKEN_VERIFY = {
    "tags": ["tokens"],
    "summary": "Check a token (access or refresh): valid, not revoked, user active",
    "request": serializers.VerifySerializer,
    "responses": {200: serializers.EmptySerializer, 400: BAD_INPUT, 401: BAD_TOKEN},
    "examples": [
        OpenApiExample("token", value={"token": _TOKEN_EXAMPLE}, request_only=True),
        OpenApiExample("valid", value={}, response_only=True),
    ],
}

TOKEN_REVOKE = {
    "tags": ["tokens"],
    "summary": "Revoke a login: the refresh token given and the bearer access token",
    "request": serializers.RefreshSerializer,
    "responses": {204: None, 400: BAD_INPUT, 401: BAD_TOKEN},
    "examples": [REFRESH_EXAMPLE],
}

COOKIE_LOGIN = {
    "tags": ["cookies"],
    "summary": "Log in with the token cookies (HttpOnly); the body holds the user and expiry times only",
    "description": DEVICE_COOKIE,
    "request": serializers.CredentialsSerializer,
    "responses": {
        200: serializers.CookieSessionSerializer,
        400: BAD_INPUT,
        401: LOGIN_REFUSED,
        429: THROTTLED,
    },
    "examples": [CREDENTIALS_EXAMPLE, COOKIE_SESSION_EXAMPLE],
}

COOKIE_REFRESH = {
    "tags": ["cookies"],
    "summary": "Rotate the token cookies (needs X-CSRFToken)",
    "description": f"Reads the refresh cookie, {_cookie_forms('refresh_token', host_only=False)} "
    "(path /api/auth/cookie/); sets both cookies anew. "
    "The refresh cookie the current one replaced, presented again within `JWT_REFRESH_REUSE_GRACE` "
    "seconds, gets the login's current cookies; later, or an older one, answers 401 `token_reused` "
    "and revokes that login.",
    "parameters": [CSRF_HEADER],
    "examples": [COOKIE_SESSION_EXAMPLE],
    "request": None,
    "responses": {
        200: serializers.CookieSessionSerializer,
        401: BAD_TOKEN,
        403: CSRF_FAILED,
    },
}

COOKIE_LOGOUT = {
    "tags": ["cookies"],
    "summary": "Log out the cookie login (needs X-CSRFToken): both tokens revoked, cookies cleared",
    "parameters": [CSRF_HEADER],
    "request": None,
    "responses": {204: None, 403: CSRF_FAILED},
}

LOGOUT_ALL = {
    "tags": ["tokens"],
    "summary": "End every session and revoke every token of the user (any authentication)",
    "request": None,
    "responses": {204: None, 401: UNAUTHENTICATED, 403: CSRF_FAILED},
}

ME_GET = {
    "tags": ["me"],
    "summary": "The authenticated user and the mechanism that authenticated this request",
    "responses": {200: serializers.MeSerializer, 401: UNAUTHENTICATED},
    "examples": [ME_EXAMPLE],
}

ME_PATCH = {
    "tags": ["me"],
    "summary": "Edit first and last name; ask for a new email (cookie-authenticated: needs X-CSRFToken)",
    "description": (
        "The names are saved at once. A new `email` is not: the answer is 202 "
        "`email_confirmation_sent`, a confirmation link (signed, single-use, valid "
        "`EMAIL_CONFIRMATION_TIMEOUT` seconds) goes to that address, and `email` changes once the "
        "link is followed. The answer is the same whether or not another account holds the address "
        "(that account's owner is told instead): it never reveals who has an address. The user's own "
        "address answers 200."
    ),
    "request": serializers.MeSerializer,
    "responses": {
        200: serializers.MeSerializer,
        202: OpenApiResponse(
            serializers.EmailConfirmationSentSerializer,
            description="Names saved; a confirmation link was sent for the new email, still unchanged",
            examples=[
                OpenApiExample(
                    "email_confirmation_sent",
                    value={
                        "detail": "A confirmation link was sent to the new address; the email changes "
                        "once the link is followed.",
                        "code": "email_confirmation_sent",
                        "user": {**ME_EXAMPLE.value, "first_name": "Ada"},
                    },
                    response_only=True,
                    status_codes=["202"],
                )
            ],
        ),
        400: BAD_INPUT,
        401: error_response(
            "Authentication credentials were not provided.",
            "not_authenticated",
            "Not authenticated, or a new `email` with an authentication older than `REAUTH_SECONDS` "
            "(`reauthentication_required`)",
        ),
        403: CSRF_FAILED,
    },
    "examples": [
        OpenApiExample("edit", value={"first_name": "Ada", "email": "ada@example.com"}, request_only=True),
        ME_EXAMPLE,
    ],
}

JWKS = {
    "operation_id": "jwks",
    "summary": "Public keys that verify tokens (JWK Set)",
    "auth": [],
    "tags": ["keys"],
    "responses": {
        200: OpenApiResponse(
            response=inline_serializer(
                "JwkSet",
                {
                    "keys": drf_serializers.ListField(
                        child=drf_serializers.DictField(child=drf_serializers.CharField())
                    )
                },
            ),
            description="RFC 7517 JWK Set; select the key by the token header's kid.",
            examples=[
                OpenApiExample(
                    "Ed25519",
                    value={
                        "keys": [
                            {
                                "kty": "OKP",
                                "crv": "Ed25519",
                                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                                "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
                                "alg": "EdDSA",
                                "use": "sig",
                            }
                        ]
                    },
                )
            ],
        )
    },
}


# --- Security schemes of the project's authentication classes ----------------
# Exact-class matches (match_subclasses False): the cookie class subclasses the
# bearer class and must not be described as a bearer header.


class JWTBearerScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.JWTBearerAuthentication"
    name = "jwtBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/auth/token/ in `Authorization: Bearer <token>`. "
            "No CSRF token needed.",
        }


class JWTCookieScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.JWTCookieAuthentication"
    name = "jwtCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            # This deployment's name; the description gives both forms (docs/contract.md).
            "name": settings.JWT_ACCESS_COOKIE,
            "description": f"HttpOnly access-token cookie, {_cookie_forms('access_token')}, set by "
            "POST /api/auth/cookie/login/. Unsafe methods also need the `X-CSRFToken` header (value "
            f"of the CSRF cookie, {_cookie_forms('csrftoken')}).",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": f"Django session cookie, {_cookie_forms('sessionid')}, from /accounts/login/. "
            "Unsafe methods also need the `X-CSRFToken` header.",
        }
