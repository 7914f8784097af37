"""Pieces the OpenAPI endpoint descriptions share: error responses, examples, headers, cookie names.

Used by the descriptions of every view module (api.schema, api.mfaschema,
api.passkeys_schema) and by the security schemes (api.openapi).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from api import serializers
from authdemo.cookienames import cookie_name

ERROR = serializers.ErrorSerializer
TOKEN_EXAMPLE = "eyJhbGciOi...<header>.<payload>.<signature>"


def error_response(detail: str, code: str, description: str = "") -> OpenApiResponse:
    """Return an error response of ``code`` with ``detail`` as its example."""
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


def cookie_forms(name: str, *, host_only: bool = True) -> str:
    """Return both names of a cookie for a description: prefixed when Secure (HTTPS), plain on plain HTTP."""
    return f"`{cookie_name(name, secure=True, host_only=host_only)}` (HTTPS) or `{name}` (plain HTTP)"


CSRF_HEADER = OpenApiParameter(
    "X-CSRFToken",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=f"Value of the CSRF cookie, {cookie_forms('csrftoken')} "
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
    "token pair", value={"access": TOKEN_EXAMPLE, "refresh": TOKEN_EXAMPLE}, response_only=True
)
REFRESH_EXAMPLE = OpenApiExample("refresh", value={"refresh": TOKEN_EXAMPLE}, request_only=True)
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


# The device cookie both logins set (limits.devicecookie; docs/contract.md).
DEVICE_COOKIE = (
    f"A successful login also sets the device cookie, {cookie_forms('device')} (HttpOnly, "
    "SameSite=Lax, one year). A client that sends it back at a later login of the same username "
    "is limited per device, so failures by others that lock the username (429) do not lock it out."
)
