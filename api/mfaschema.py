"""OpenAPI descriptions of the second-factor and step-up endpoints (api.mfaviews; docs/contract.md)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from api import serializers
from api.schema_common import BAD_INPUT, CSRF_FAILED, THROTTLED, UNAUTHENTICATED, error_response

CODE_REFUSED = error_response(
    "That code is not valid.",
    "invalid_code",
    "Wrong or reused code (`invalid_code`), or an expired, used or forged `mfa_token` (`mfa_token_invalid`)",
)
MALFORMED = error_response(
    "Enter the 6-digit code of your app or one of your recovery codes.",
    "malformed_code",
    "Missing fields (`invalid`) or a code of neither form (`malformed_code`); nothing is counted or spent",
)
REAUTH_REQUIRED = error_response(
    "Prove it is you again: POST /api/auth/reauthenticate/ (or sign in again) first.",
    "reauthentication_required",
    "Not authenticated (`not_authenticated`), or authenticated longer ago than `REAUTH_SECONDS` "
    "(`reauthentication_required`)",
)
STEP_DESCRIPTION = (
    "The second step of a login whose first step answered 401 `mfa_required`. The `mfa_token` is "
    "single-use and valid `MFA_PENDING_SECONDS` (default 300); a wrong code counts against the login "
    "limits and leaves it usable until they refuse (429), which spends it. A recovery code is spent and "
    "ends every other session and JWT login of the user. The tokens carry `amr` "
    '(`["pwd", "otp", "mfa"]`) and `auth_time`.'
)
MFA_LOGIN_EXAMPLE = OpenApiExample(
    "second step", value={"mfa_token": "eyJ1Ijo...", "code": "123456"}, request_only=True
)

TOKEN_MFA = {
    "tags": ["tokens"],
    "summary": "Log in, second step: the mfa_token and a TOTP or recovery code for a token pair",
    "description": STEP_DESCRIPTION,
    "request": serializers.MfaLoginSerializer,
    "responses": {200: serializers.TokenPairSerializer, 400: MALFORMED, 401: CODE_REFUSED, 429: THROTTLED},
    "examples": [MFA_LOGIN_EXAMPLE],
}

COOKIE_LOGIN_MFA = {
    "tags": ["cookies"],
    "summary": "Log in with the token cookies, second step: the mfa_token and a code",
    "description": STEP_DESCRIPTION,
    "request": serializers.MfaLoginSerializer,
    "responses": {
        200: serializers.CookieSessionSerializer,
        400: MALFORMED,
        401: CODE_REFUSED,
        429: THROTTLED,
    },
    "examples": [MFA_LOGIN_EXAMPLE],
}

MFA_TOTP_CREATE = {
    "tags": ["mfa"],
    "summary": "Start a TOTP enrolment: an unconfirmed device; its secret is shown this once",
    "description": "Needs an authentication younger than `REAUTH_SECONDS`. Replaces an unconfirmed device.",
    "request": None,
    "responses": {
        201: serializers.TotpEnrolmentSerializer,
        401: REAUTH_REQUIRED,
        403: CSRF_FAILED,
        409: error_response("An authenticator app is already set up; remove it first.", "totp_exists"),
    },
}

MFA_TOTP_DELETE = {
    "tags": ["mfa"],
    "summary": "Remove the TOTP device and the recovery codes; every other login of the user ends",
    "description": "Needs an authentication younger than `REAUTH_SECONDS`.",
    "responses": {
        204: None,
        401: REAUTH_REQUIRED,
        403: CSRF_FAILED,
        404: error_response("No second factor is set up.", "no_factor"),
    },
}

MFA_TOTP_CONFIRM = {
    "tags": ["mfa"],
    "summary": "Confirm the TOTP enrolment with one code; answers 10 single-use recovery codes, shown once",
    "request": serializers.CodeSerializer,
    "responses": {
        200: OpenApiResponse(serializers.RecoveryCodesSerializer, description="The device is confirmed"),
        400: MALFORMED,
        401: CODE_REFUSED,
        403: CSRF_FAILED,
        409: error_response("No authenticator app is waiting for confirmation.", "no_pending_device"),
        429: THROTTLED,
    },
}

REAUTHENTICATE = {
    "tags": ["tokens"],
    "summary": "Re-authenticate a JWT login (password, code or passkey): a new pair, new auth_time",
    "description": (
        "Step-up: the new tokens carry a new `auth_time` and every method proven in `amr`; the "
        "login's previous refresh token is rotated out, and the old access token keeps its old claims "
        "until it expires. A cookie login gets the new pair in its cookies. Wrong passwords and codes "
        "and refused passkey assertions count against the login limits; a recovery code ends every "
        "other login of the user. A passkey: `state` of POST /api/auth/reauthenticate/passkey/options/ "
        "and the assertion as `credential`; a used, expired, other user's or other purpose's state is "
        "400 `passkey_state_invalid`, a malformed credential 400 `passkey_malformed`, another user's "
        "passkey, origin or RP ID 401 `passkey_invalid`."
    ),
    "request": serializers.ReauthenticateSerializer,
    "responses": {
        200: serializers.TokenPairSerializer,
        400: BAD_INPUT,
        401: UNAUTHENTICATED,
        429: THROTTLED,
    },
    "examples": [
        OpenApiExample("password", value={"password": "..."}, request_only=True),
        OpenApiExample("code", value={"code": "123456"}, request_only=True),
        OpenApiExample("passkey", value={"state": "...", "credential": {"id": "..."}}, request_only=True),
    ],
}
