"""OpenAPI descriptions of the passkey endpoints (api/passkeys.py), beside api/schema.py's."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from api import schema_common as common
from api.passkeys_serializers import (
    CeremonySerializer,
    PasskeyLoginSerializer,
    PasskeyMfaOptionsSerializer,
    PasskeyMfaSerializer,
    PasskeyRegisterSerializer,
    PasskeyRenameSerializer,
    PasskeySerializer,
)
from api.serializers import CookieSessionSerializer, ErrorSerializer, TokenPairSerializer

TAGS = ["passkeys"]


def error(detail: str, code: str, description: str = "") -> OpenApiResponse:
    """Return an error response description with its one example."""
    return OpenApiResponse(
        ErrorSerializer,
        description=description or detail,
        examples=[OpenApiExample(code, value={"detail": detail, "code": code})],
    )


CEREMONY_INVALID = error(
    "Unknown or expired passkey ceremony; start again.",
    "passkey_state_invalid",
    "The state is unknown, expired, already used, or another user's",
)
PASSKEY_INVALID = error(
    "The passkey could not be verified.",
    "passkey_invalid",
    "Another origin or RP ID, a bad signature, a malformed response, or a sign counter that did not grow",
)
NOT_FOUND = error("No such passkey.", "passkey_not_found", "Not one of the user's passkeys")
REAUTH = error(
    "Prove it is you again: POST /api/auth/reauthenticate/ (or sign in again) first.",
    "reauthentication_required",
    "Not authenticated (not_authenticated), or authenticated too long ago (reauthentication_required)",
)
MFA_TOKEN_INVALID = error(
    "This sign-in has expired or was already used; sign in again.",
    "mfa_token_invalid",
    "A bad, expired or used mfa_token (mfa_token_invalid), or a refused passkey (passkey_invalid); "
    "a refused passkey leaves the mfa_token usable",
)
PASSKEY_EXAMPLE = OpenApiExample(
    "passkey",
    value={
        "id": 3,
        "name": "Laptop",
        "device_type": "single_device",
        "transports": ["internal"],
        "created_at": "2026-01-01T12:00:00Z",
        "last_used_at": None,
    },
    response_only=True,
)
AMR = (
    " The tokens' `amr` (RFC 8176): `hwk` for a device-bound passkey or `swk` for a synced one, and "
    "`mfa` (the authenticator must verify the user: PIN or biometric)."
)
MFA_AMR = " The tokens' `amr` (RFC 8176): `pwd`, `hwk` or `swk`, and `mfa`."

PASSKEY_LIST = {
    "tags": TAGS,
    "summary": "The user's passkeys (never their public keys)",
    "responses": {200: PasskeySerializer(many=True), 401: common.UNAUTHENTICATED},
}
PASSKEY_REGISTER_OPTIONS = {
    "tags": TAGS,
    "summary": "Start registering a passkey: options for navigator.credentials.create()",
    "description": (
        "Needs step-up (an authentication younger than `REAUTH_SECONDS`). The state is single-use and "
        "expires after `WEBAUTHN_CHALLENGE_SECONDS` (300)."
    ),
    "request": None,
    "responses": {200: CeremonySerializer, 401: REAUTH, 403: common.CSRF_FAILED},
}
PASSKEY_REGISTER = {
    "tags": TAGS,
    "summary": "Finish registering a passkey: the authenticator's attestation",
    "request": PasskeyRegisterSerializer,
    "responses": {
        201: PasskeySerializer,
        400: OpenApiResponse(
            ErrorSerializer,
            description="invalid, passkey_state_invalid, passkey_invalid or passkey_name_invalid",
        ),
        401: common.UNAUTHENTICATED,
        403: common.CSRF_FAILED,
        409: error("This passkey is already registered.", "passkey_exists"),
    },
    "examples": [PASSKEY_EXAMPLE],
}
PASSKEY_RENAME = {
    "tags": TAGS,
    "summary": "Rename one of the user's passkeys",
    "request": PasskeyRenameSerializer,
    "responses": {200: PasskeySerializer, 400: common.BAD_INPUT, 401: common.UNAUTHENTICATED, 404: NOT_FOUND},
}
PASSKEY_REMOVE = {
    "tags": TAGS,
    "summary": "Remove one of the user's passkeys; every other login of the user ends",
    "description": (
        "Needs step-up (an authentication younger than `REAUTH_SECONDS`). Every other session and "
        "token login of the user ends (a lost or stolen factor); the login making the request stays."
    ),
    "request": None,
    "responses": {204: None, 401: REAUTH, 404: NOT_FOUND},
}
PASSKEY_LOGIN_OPTIONS = {
    "tags": TAGS,
    "summary": "Start a passwordless login: options for navigator.credentials.get()",
    "description": "No username: the browser offers the user's discoverable passkeys for this site.",
    "auth": [],
    "request": None,
    "responses": {200: CeremonySerializer, 429: common.THROTTLED},
}
PASSKEY_LOGIN = {
    "tags": TAGS,
    "summary": "Log in with a passkey: an access and a refresh token",
    "description": common.DEVICE_COOKIE + AMR,
    "auth": [],
    "request": PasskeyLoginSerializer,
    "responses": {200: TokenPairSerializer, 400: CEREMONY_INVALID, 401: PASSKEY_INVALID},
    "examples": [common.TOKEN_PAIR_EXAMPLE],
}
PASSKEY_COOKIE_LOGIN = {
    "tags": TAGS,
    "summary": "Log in with a passkey: the token cookies",
    "description": common.DEVICE_COOKIE + AMR,
    "auth": [],
    "request": PasskeyLoginSerializer,
    "responses": {200: CookieSessionSerializer, 400: CEREMONY_INVALID, 401: PASSKEY_INVALID},
    "examples": [common.COOKIE_SESSION_EXAMPLE],
}
PASSKEY_MFA_OPTIONS = {
    "tags": TAGS,
    "summary": "Second step with a passkey: options for navigator.credentials.get()",
    "description": "`mfa_token` from the first step's 401 `mfa_required`; only the user's passkeys count.",
    "auth": [],
    "request": PasskeyMfaOptionsSerializer,
    "responses": {200: CeremonySerializer, 400: common.BAD_INPUT, 401: MFA_TOKEN_INVALID},
}
PASSKEY_MFA_LOGIN = {
    "tags": TAGS,
    "summary": "Second step with a passkey: an access and a refresh token",
    "description": "Spends the `mfa_token`." + MFA_AMR,
    "auth": [],
    "request": PasskeyMfaSerializer,
    "responses": {
        200: TokenPairSerializer,
        400: CEREMONY_INVALID,
        401: MFA_TOKEN_INVALID,
        429: common.THROTTLED,
    },
    "examples": [common.TOKEN_PAIR_EXAMPLE],
}
PASSKEY_MFA_COOKIE_LOGIN = {
    "tags": TAGS,
    "summary": "Second step with a passkey: the token cookies",
    "description": "Spends the `mfa_token`." + MFA_AMR,
    "auth": [],
    "request": PasskeyMfaSerializer,
    "responses": {
        200: CookieSessionSerializer,
        400: CEREMONY_INVALID,
        401: MFA_TOKEN_INVALID,
        429: common.THROTTLED,
    },
    "examples": [common.COOKIE_SESSION_EXAMPLE],
}
REAUTHENTICATE_PASSKEY_OPTIONS = {
    "tags": TAGS,
    "summary": "Re-authenticate with a passkey: options for navigator.credentials.get()",
    "description": (
        "Only the user's own passkeys are allowed; send the state and the assertion to "
        "POST /api/auth/reauthenticate/ (a JWT login) or /accounts/reauthenticate/passkey/ (a session). "
        "The state serves only this purpose and this user, once, for `WEBAUTHN_CHALLENGE_SECONDS` (300)."
    ),
    "request": None,
    "responses": {
        200: CeremonySerializer,
        401: common.UNAUTHENTICATED,
        403: common.CSRF_FAILED,
        404: error("You have no passkey.", "passkey_not_found", "The user has no passkey"),
    },
}
