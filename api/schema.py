"""OpenAPI descriptions of the token, cookie, me and key endpoints (api/views.py).

Views use them as ``@extend_schema(**schema.TOKEN_OBTAIN)``: the examples,
error responses and summaries live here, not in the views; the pieces they
share with the other descriptions are in api.schema_common.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers as drf_serializers

from api import serializers
from api.schema_common import (
    BAD_INPUT,
    BAD_TOKEN,
    COOKIE_SESSION_EXAMPLE,
    CREDENTIALS_EXAMPLE,
    CSRF_FAILED,
    CSRF_HEADER,
    DEVICE_COOKIE,
    LOGIN_REFUSED,
    ME_EXAMPLE,
    REFRESH_EXAMPLE,
    THROTTLED,
    TOKEN_EXAMPLE,
    TOKEN_PAIR_EXAMPLE,
    UNAUTHENTICATED,
    cookie_forms,
    error_response,
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
        OpenApiExample("token", value={"token": TOKEN_EXAMPLE}, request_only=True),
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
    "description": f"Reads the refresh cookie, {cookie_forms('refresh_token', host_only=False)} "
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
