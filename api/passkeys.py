"""JSON endpoints of passkeys: register, list, rename and remove under /api/auth/passkeys/, and log in.

The ceremonies are passkeys.services'; these views parse, call one service
and answer (OpenAPI descriptions in api/passkeys_schema.py). Logging in with a
passkey gives what a password login gives, by the same transports
(api.views.LoginViewBase): a token pair in the body, or the token cookies.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api import passkeys_schema as schema
from api import stepup
from api.authentication import db_user
from api.passkeys_serializers import (
    PasskeyLoginSerializer,
    PasskeyMfaOptionsSerializer,
    PasskeyMfaSerializer,
    PasskeyRegisterSerializer,
    PasskeyRenameSerializer,
    PasskeySerializer,
)
from api.tokens import AccessToken
from api.views import (
    BearerTransport,
    CookieLoginView,
    LoginThrottled,
    LoginViewBase,
    NoStoreMixin,
    PublicAuthMixin,
    Refused,
)
from limits.ratelimit import action_attempt_register, client_ip_key
from mfa import passkeyfactor
from mfa import services as mfa_services
from passkeys import conf, services

_STATUS = {
    "passkey_not_found": 404,
    "passkey_exists": 409,
    "passkey_state_invalid": 400,
    "passkey_name_invalid": 400,
    "passkey_malformed": 400,
}


class PasskeyRefused(exceptions.APIException):
    """A refused passkey request: 400, 404 or 409 with the service's code."""

    def __init__(self, error: services.PasskeyError, *, status_code: int = 400) -> None:
        super().__init__(detail=error.message, code=error.code)
        self.status_code = _STATUS.get(error.code, status_code)


def passkey_call(func, *, refused_status: int = 400, **kwargs):
    """Call a passkey service; turn its PasskeyError into the 4xx with the error's code."""
    try:
        return func(**kwargs)
    except services.PasskeyError as exc:
        raise PasskeyRefused(exc, status_code=refused_status) from exc


def _valid(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


class PasskeyListView(NoStoreMixin, APIView):
    """GET: the user's passkeys."""

    @extend_schema(**schema.PASSKEY_LIST)
    def get(self, request):
        passkeys = services.passkeys_list(user=db_user(request))
        return Response(PasskeySerializer(passkeys, many=True).data)


class PasskeyRegisterOptionsView(NoStoreMixin, APIView):
    """POST: start registering a passkey for the user."""

    @extend_schema(**schema.PASSKEY_REGISTER_OPTIONS)
    def post(self, request):
        stepup.stepup_require(request)  # adding a factor needs a recent authentication
        ceremony = services.passkey_registration_begin(user=db_user(request))
        return Response({"state": ceremony.state, "options": ceremony.options})


class PasskeyRegisterView(NoStoreMixin, APIView):
    """POST: verify the authenticator's attestation and store the passkey."""

    @extend_schema(**schema.PASSKEY_REGISTER)
    def post(self, request):
        data = _valid(PasskeyRegisterSerializer, request)
        passkey = passkey_call(services.passkey_register, user=db_user(request), **data)
        return Response(PasskeySerializer(passkey).data, status=status.HTTP_201_CREATED)


class PasskeyDetailView(NoStoreMixin, APIView):
    """PATCH renames one of the user's passkeys; DELETE removes it."""

    @extend_schema(**schema.PASSKEY_RENAME)
    def patch(self, request, passkey_id: int):
        data = _valid(PasskeyRenameSerializer, request)
        passkey = passkey_call(services.passkey_rename, user=db_user(request), passkey_id=passkey_id, **data)
        return Response(PasskeySerializer(passkey).data)

    @extend_schema(**schema.PASSKEY_REMOVE)
    def delete(self, request, passkey_id: int):
        stepup.stepup_require(request)  # removing a factor needs a recent authentication
        by_session = getattr(request.successful_authenticator, "auth_mechanism", "") == "session"
        passkey_call(
            passkeyfactor.passkey_remove,
            user=db_user(request),
            passkey_id=passkey_id,
            keep_session_key=request._request.session.session_key if by_session else None,
            keep_family_id=str(request.auth.family_id) if isinstance(request.auth, AccessToken) else None,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasskeyLoginOptionsView(PublicAuthMixin, NoStoreMixin, APIView):
    """POST: start a passwordless login (any discoverable passkey of this site)."""

    @extend_schema(**schema.PASSKEY_LOGIN_OPTIONS)
    def post(self, request):
        # Each ceremony stores a challenge: limited per client address (OWASP ASVS 5.0 V2.4.1).
        throttle = action_attempt_register(
            group="passkey-ip",
            rate=conf.setting("WEBAUTHN_RATELIMIT_IP"),
            key=client_ip_key(request._request),
        )
        if throttle.limited:
            raise Refused(
                "Too many passkey logins started. Try again later.", retry_after=throttle.retry_after
            )
        ceremony = services.passkey_login_begin()
        return Response({"state": ceremony.state, "options": ceremony.options})


class ReauthenticatePasskeyOptionsView(NoStoreMixin, APIView):
    """POST: start re-authenticating the user with a passkey (the user's own passkeys only)."""

    @extend_schema(**schema.REAUTHENTICATE_PASSKEY_OPTIONS)
    def post(self, request):
        ceremony = passkey_call(passkeyfactor.passkey_reauthenticate_begin, user=db_user(request))
        return Response({"state": ceremony.state, "options": ceremony.options})


class PasskeyLogin:
    """The login views' proof: a passkey assertion instead of a username and a password."""

    def post(self, request):
        data = _valid(PasskeyLoginSerializer, request)
        login = passkey_call(services.passkey_authenticate, refused_status=401, **data)
        return self.login_response(request, login.user, passkeyfactor.passkey_login_assurance(login))


@extend_schema(**schema.PASSKEY_LOGIN)
class PasskeyTokenLoginView(PasskeyLogin, BearerTransport, LoginViewBase):
    """Log in with a passkey for an access and a refresh token."""


@extend_schema(**schema.PASSKEY_COOKIE_LOGIN)
class PasskeyCookieLoginView(PasskeyLogin, CookieLoginView):
    """Log in with a passkey for the token cookies."""


def _pending_call(func, **kwargs):
    """Call a second-step service: a bad pending token is mfa's 401, a refused passkey ours."""
    try:
        return passkey_call(func, refused_status=401, **kwargs)
    except mfa_services.CodeThrottled as exc:
        raise LoginThrottled(exc.throttle) from exc
    except ValidationError as exc:
        raise stepup.MfaRefused(exc) from exc


class PasskeyMfaOptionsView(PublicAuthMixin, NoStoreMixin, APIView):
    """POST ``{"mfa_token"}``: start the passkey ceremony of a login awaiting its second factor."""

    @extend_schema(**schema.PASSKEY_MFA_OPTIONS)
    def post(self, request):
        data = _valid(PasskeyMfaOptionsSerializer, request)
        ceremony = _pending_call(passkeyfactor.passkey_second_step_begin, token=data["mfa_token"])
        return Response({"state": ceremony.state, "options": ceremony.options})


class PasskeyMfaStep:
    """The second step of a login with a passkey instead of a code."""

    def post(self, request):
        data = _valid(PasskeyMfaSerializer, request)
        step = _pending_call(
            passkeyfactor.passkey_second_step_complete,
            request=request._request,
            token=data["mfa_token"],
            state=data["state"],
            credential=data["credential"],
        )
        return self.login_response(request, step.user, step.assurance)


@extend_schema(**schema.PASSKEY_MFA_LOGIN)
class PasskeyTokenMfaView(PasskeyMfaStep, BearerTransport, LoginViewBase):
    """Complete a login with a passkey: an access and a refresh token."""


@extend_schema(**schema.PASSKEY_MFA_COOKIE_LOGIN)
class PasskeyCookieMfaView(PasskeyMfaStep, CookieLoginView):
    """Complete a login with a passkey: the token cookies."""
