"""Views of the step-up lab: the page renders both sides' assurance, one JSON endpoint acts on one side."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import TokenError

from accounts.assurance import PWD
from accounts.stepup import reauthenticate_redirect, session_is_fresh, session_step_up
from api.cookies import cookies_set
from api.stepup import ReauthenticationRequired
from api.views import LoginThrottled
from compare import stepup_lab
from compare.lab_views import LabApiView, LabConflict, _lab_run
from compare.state import browser_user, jwt_user, session_user
from compare.verifier_client import verifier_url
from mfa import services as mfa_services

STATE, AGE, SENSITIVE, REAUTHENTICATE, COPY = "state", "age", "sensitive", "reauthenticate", "copy"
ACTIONS = (STATE, AGE, SENSITIVE, REAUTHENTICATE, COPY)


def lab_stepup(request: HttpRequest) -> HttpResponse:
    """Render the step-up lab (login by session or JWT cookie required)."""
    if browser_user(request) is None:
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "compare/lab_stepup.html",
        {
            "session_user": session_user(request),
            "jwt_user": jwt_user(request),
            "stepup": stepup_lab.stepup_state(request=request),
            "verifier_url": verifier_url(),
        },
    )


class StepupActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    side = serializers.ChoiceField(choices=stepup_lab.SIDES, required=False)
    password = serializers.CharField(required=False, trim_whitespace=False, max_length=4096)

    def validate(self, attrs):
        if attrs["action"] != STATE and "side" not in attrs:
            raise serializers.ValidationError({"side": ["This action needs a side: session or jwt."]})
        if attrs["action"] == COPY and attrs.get("side") != stepup_lab.JWT:
            raise serializers.ValidationError({"side": ["Only a JWT can be copied."]})
        if attrs["action"] == REAUTHENTICATE and attrs.get("side") == stepup_lab.JWT:
            # The JWT side steps up through the API itself, which sets the new cookies.
            raise serializers.ValidationError({"side": ["A JWT steps up at POST /api/auth/reauthenticate/."]})
        if attrs["action"] == REAUTHENTICATE and "password" not in attrs:
            raise serializers.ValidationError({"password": ["Enter your password."]})
        return attrs


def _sensitive(request: HttpRequest, side: str) -> Response:
    # Harmless: it changes nothing, it only applies the guard every sensitive
    # action applies (OWASP ASVS 5.0 V7.5.1), the way each side applies it.
    if side == stepup_lab.SESSION:
        if not session_is_fresh(request):
            location = reauthenticate_redirect(request, next_url=reverse("lab-stepup"))["Location"]
            body = {
                "detail": "This session authenticated too long ago: a sensitive page asks for the password.",
                "code": "reauthentication_required",
                "location": location,
            }
            return Response(body, status=status.HTTP_401_UNAUTHORIZED)
    else:
        state = stepup_lab.stepup_state(request=request)[stepup_lab.JWT]
        if not state["fresh"]:
            raise ReauthenticationRequired()
    return Response({"side": side, "allowed": True, "detail": "Allowed: the authentication is recent."})


def _session_reauthenticate(request: HttpRequest, password: str) -> None:
    # As the re-authentication page: the password under the login limits, then
    # the session upgraded in place (accounts.stepup).
    try:
        mfa_services.password_reverify(request=request, user=request.user, password=password)
    except mfa_services.CodeThrottled as exc:
        raise LoginThrottled(exc.throttle) from exc
    except ValidationError as exc:
        raise exceptions.ValidationError({"password": [exc.message]}, code=exc.code) from exc
    session_step_up(request, method=PWD)


class StepupRunView(LabApiView):
    """Act on one side of this browser's login: show, age, try a sensitive action, re-authenticate, copy."""

    def post(self, request):
        data = StepupActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action, side = data.validated_data["action"], data.validated_data.get("side")
        django_request = request._request
        if browser_user(django_request) is None:
            raise exceptions.NotAuthenticated("Log in with a session or a JWT cookie first.")
        logged_in = {stepup_lab.SESSION: session_user, stepup_lab.JWT: jwt_user}
        if side is not None and logged_in[side](django_request) is None:
            way = "session" if side == stepup_lab.SESSION else "JWT cookie"
            raise LabConflict(f"This browser is not logged in by {way}.")
        if action == SENSITIVE:
            return _sensitive(django_request, side)
        if action == COPY:
            return self.copy(django_request)
        pair = None
        if action == AGE and side == stepup_lab.SESSION:
            stepup_lab.session_age(request=django_request)
        elif action == AGE:
            try:
                pair = stepup_lab.jwt_age(request=django_request)
            except TokenError as exc:
                raise LabConflict("This JWT login was revoked meanwhile.", code="not_logged_in") from exc
        elif action == REAUTHENTICATE:
            _session_reauthenticate(django_request, data.validated_data["password"])
        # After aging, the new pair is what this browser holds: the state shows it.
        body = stepup_lab.stepup_state(request=django_request, access=pair.access if pair else None)
        response = Response(body)
        if pair is not None:
            cookies_set(response, pair)
        return response

    def copy(self, request: HttpRequest) -> Response:
        taken = stepup_lab.copy_take(request=request)
        if taken is None:
            raise LabConflict("This browser has no JWT cookie login to copy.", code="no_jwt_login")
        lab_id, ttl = taken
        record = stepup_lab.store.get(request=request, lab_id=lab_id, user=browser_user(request))
        body = stepup_lab.copy_ask(request=request, lab_id=lab_id, record=record)
        body["ttl"] = ttl
        response = Response(body, status=status.HTTP_201_CREATED)
        stepup_lab.store.bind(response, lab_id=lab_id, ttl=ttl)
        return response


class StepupCopyView(LabApiView):
    """Ask this instance and the verifier again about the access token copied before step-up."""

    def post(self, request, lab_id: str):
        _, record = _lab_run(request, store=stepup_lab.store, lab_id=lab_id)
        return Response(stepup_lab.copy_ask(request=request._request, lab_id=lab_id, record=record))
