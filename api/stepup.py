"""The API's side of second factors and step-up: what a request proved, and the errors it answers.

The rule itself (amr, auth_time, REAUTH_SECONDS) is accounts.assurance; here
only where a request's assurance comes from (the access token's claims, or
the session) and how a refusal looks in JSON (docs/contract.md).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response

from accounts.assurance import Assurance, assurance_from_claims, session_assurance
from api.tokens import AccessToken
from mfa import services as mfa_services


class ReauthenticationRequired(exceptions.APIException):
    """401: the request's authentication is older than REAUTH_SECONDS for this action."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Prove it is you again: POST /api/auth/reauthenticate/ (or sign in again) first."
    default_code = "reauthentication_required"


class MfaRefused(exceptions.APIException):
    """A refused code or pending login, with the service's code and a fitting status."""

    def __init__(self, exc: ValidationError) -> None:
        code = exc.code or "invalid"
        self.status_code = {
            "malformed_code": status.HTTP_400_BAD_REQUEST,
            "totp_exists": status.HTTP_409_CONFLICT,
            "no_pending_device": status.HTTP_409_CONFLICT,
        }.get(code, status.HTTP_401_UNAUTHORIZED)
        super().__init__(detail=exc.message, code=code)


def request_assurance(request) -> Assurance | None:
    """Return how and when the request's credential was authenticated (None: not recorded)."""
    if isinstance(request.auth, AccessToken):
        return assurance_from_claims(request.auth.payload)
    if getattr(request.successful_authenticator, "auth_mechanism", "") == "session":
        return session_assurance(request._request.session)
    return None


def stepup_require(request) -> Assurance:
    """Return the request's assurance if fresh enough for a sensitive action; else raise 401."""
    proven = request_assurance(request)
    if proven is None or not proven.is_fresh():
        raise ReauthenticationRequired()
    return proven


def mfa_required_response(user) -> Response:
    """Return the 401 of a right password whose user has a second factor: a pending login, no credential."""
    body = {
        "detail": "A second factor is required: POST the code with this mfa_token.",
        "code": "mfa_required",
        "mfa_token": mfa_services.mfa_pending_issue(user=user),
    }
    response = Response(body, status=status.HTTP_401_UNAUTHORIZED)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
