"""Views of second factors and step-up on the JWT side: parse, call one service, respond.

Paths and bodies: docs/contract.md; OpenAPI descriptions: api/mfaschema.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.assurance import OTP, PWD, assurance_stepped_up
from api import mfaschema as schema
from api import rotation, serializers, stepup
from api.authentication import db_user
from api.passkeys import passkey_call
from api.tokens import AccessToken
from api.views import (
    BearerTransport,
    CookieLoginView,
    CookieTransport,
    LoginThrottled,
    LoginViewBase,
    NoStoreMixin,
    credentials_user,
    token_call,
)
from mfa import passkeyfactor
from mfa import services as mfa_services


def _mfa_call(func, **kwargs):
    """Call a second-factor service; turn its refusals into the API's 4xx (never a 5xx)."""
    try:
        return func(**kwargs)
    except mfa_services.CodeThrottled as exc:
        raise LoginThrottled(exc.throttle) from exc
    except ValidationError as exc:
        raise stepup.MfaRefused(exc) from exc


class MfaLoginStepMixin:
    """A login's second step: ``{"mfa_token", "code"}`` → what a login without a factor gives."""

    def post(self, request):
        data = serializers.MfaLoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = _mfa_call(
            mfa_services.mfa_login_complete,
            request=request._request,
            token=data.validated_data["mfa_token"],
            code=data.validated_data["code"],
        )
        return self.login_response(request, step.user, step.assurance)


@extend_schema(**schema.TOKEN_MFA)
class TokenMfaView(MfaLoginStepMixin, BearerTransport, LoginViewBase):
    """Complete a bearer login with a TOTP or recovery code."""


@extend_schema(**schema.COOKIE_LOGIN_MFA)
class CookieLoginMfaView(MfaLoginStepMixin, CookieLoginView):
    """Complete a cookie login with a TOTP or recovery code."""


def _keep_family(request) -> str | None:
    return str(request.auth.family_id) if isinstance(request.auth, AccessToken) else None


def _keep_session(request) -> str | None:
    if getattr(request.successful_authenticator, "auth_mechanism", "") == "session":
        return request._request.session.session_key
    return None


class TotpView(NoStoreMixin, APIView):
    """POST: start a TOTP enrolment; DELETE: remove the TOTP device and recovery codes. Both need step-up."""

    permission_classes = [IsAuthenticated]

    @extend_schema(**schema.MFA_TOTP_CREATE)
    def post(self, request):
        serializers.EmptySerializer(data=request.data).is_valid(raise_exception=True)
        stepup.stepup_require(request)
        enrolment = _mfa_call(mfa_services.totp_enrol_start, user=db_user(request))
        body = {"secret": enrolment.secret, "otpauth_uri": enrolment.otpauth_uri}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(**schema.MFA_TOTP_DELETE)
    def delete(self, request):
        stepup.stepup_require(request)
        user = db_user(request)
        removed = mfa_services.mfa_remove(
            user=user, keep_session_key=_keep_session(request), keep_family_id=_keep_family(request)
        )
        if not removed:
            raise exceptions.NotFound("No second factor is set up.", code="no_factor")
        return Response(status=status.HTTP_204_NO_CONTENT)


class TotpConfirmView(NoStoreMixin, APIView):
    """Confirm the enrolment with one code of the app; answer the recovery codes (shown once)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(**schema.MFA_TOTP_CONFIRM)
    def post(self, request):
        data = serializers.CodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        codes = _mfa_call(
            mfa_services.totp_enrol_confirm,
            request=request._request,
            user=db_user(request),
            code=data.validated_data["code"],
        )
        return Response({"recovery_codes": codes})


class ReauthenticateView(NoStoreMixin, APIView):
    """Prove it is you again (password, code or passkey): a new pair of the same login, new ``auth_time``."""

    permission_classes = [IsAuthenticated]

    @extend_schema(**schema.REAUTHENTICATE)
    def post(self, request):
        data = serializers.ReauthenticateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not isinstance(request.auth, AccessToken):
            raise exceptions.AuthenticationFailed("A JWT access token is required", code="not_authenticated")
        user = db_user(request)
        password, code = data.validated_data.get("password"), data.validated_data.get("code")
        if password is not None:
            credentials_user(request, {"username": user.get_username(), "password": password})
            method = PWD
        elif code is None:
            try:
                login = passkey_call(
                    passkeyfactor.passkey_reauthenticate,
                    refused_status=401,
                    request=request._request,
                    user=user,
                    state=data.validated_data["state"],
                    credential=data.validated_data["credential"],
                )
            except mfa_services.CodeThrottled as exc:
                raise LoginThrottled(exc.throttle) from exc
            method = login.method
        else:
            _mfa_call(
                mfa_services.mfa_reauthenticate_code,
                request=request._request,
                user=user,
                code=code,
                keep_family_id=_keep_family(request),
            )
            method = OTP
        proven = assurance_stepped_up(stepup.request_assurance(request), method=method)
        pair = token_call(rotation.token_reauthenticate, access=request.auth, user=user, assurance=proven)
        transport = getattr(request.successful_authenticator, "auth_mechanism", "")
        if transport == "jwt-cookie":
            return CookieTransport().pair_response(request, pair, user=user)
        return BearerTransport().pair_response(request, pair, user=user)
