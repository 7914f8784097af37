"""Views of the labs (revocation, bearer playground, XSS and CSRF): pages render, JSON endpoints act."""

from __future__ import annotations

from csp.constants import HEADER as CSP_HEADER
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError

from accounts import services as account_services
from accounts.assurance import assurance_from_claims
from accounts.forms import RateLimitedPasswordChangeForm
from accounts.stepup import session_is_fresh
from api.authentication import csrf_enforce
from api.cookies import cookies_clear
from api.stepup import ReauthenticationRequired
from api.tokens import AccessToken
from api.views import LoginThrottled, Refused
from compare import csrf_lab, revocation
from compare.state import browser_user, jwt_user, session_user
from compare.verifier_client import verifier_url
from limits.ratelimit import LoginThrottle, duration_human, lab_action_register


class LabApiView(APIView):
    """A lab's JSON endpoint: the browser's session or JWT cookie decides who, unsafe methods need CSRF.

    The user is found without raising (a revoked JWT cookie is "not logged in
    that way", not an error), so a lab keeps answering while it revokes.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # The labs' endpoints serve their own pages, not API clients: not in the OpenAPI document.
    schema = None

    def get_authenticate_header(self, request) -> str:
        return 'Session realm="authdemo"'

    def perform_authentication(self, request) -> None:
        # DRF's authentication would set the Django request's user to anonymous
        # (no classes here); the session user stays as the middleware found it.
        return None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            # Cookie-authenticated and state-changing: Django's CSRF check (ASVS 5.0 V3.5.1).
            csrf_enforce(request)
            # Each action replays credentials and may ask the verifier: limited per client IP.
            throttle = lab_action_register(request._request)
            if throttle.limited:
                raise Refused(
                    f"Too many lab actions. Try again in {duration_human(throttle.retry_after)}.",
                    retry_after=throttle.retry_after,
                )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


def _browser_is_fresh(request: HttpRequest, captured: revocation.Captured) -> bool:
    """Return whether this browser's login (its session, else its JWT cookie) authenticated recently."""
    if captured.session_key:
        return session_is_fresh(request)
    try:
        proven = assurance_from_claims(AccessToken(captured.raw_access).payload)
    except TokenError:
        return False
    return proven is not None and proven.is_fresh()


def _user_or_401(request) -> object:
    user = browser_user(request._request)
    if user is None:
        raise exceptions.NotAuthenticated("Log in with a session or a JWT cookie first.")
    return user


# --- Revocation lab ------------------------------------------------------------


def lab_revocation(request: HttpRequest) -> HttpResponse:
    """Render the revocation lab (login by session or JWT cookie required)."""
    if browser_user(request) is None:
        return redirect_to_login(request.get_full_path())
    return render(
        request,
        "compare/lab_revocation.html",
        {
            "session_user": session_user(request),
            "jwt_user": jwt_user(request),
            "verifier_url": verifier_url(),
            "access_lifetime": revocation._access_lifetime(),
        },
    )


class RevocationActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=revocation.ACTIONS)
    old_password = serializers.CharField(required=False, trim_whitespace=False, max_length=4096)
    new_password1 = serializers.CharField(required=False, trim_whitespace=False, max_length=4096)
    new_password2 = serializers.CharField(required=False, trim_whitespace=False, max_length=4096)


class LabConflict(exceptions.APIException):
    """The lab cannot run in this browser's state (409: nothing was changed)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This browser is not logged in that way."
    default_code = "not_logged_in"


class RevocationRunView(LabApiView):
    """Capture this browser's credentials, revoke them one way, replay them at the site and the verifier."""

    def post(self, request):
        user = _user_or_401(request)
        data = RevocationActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = data.validated_data["action"]
        captured = revocation.credentials_capture(request=request._request, user=user)
        if action == revocation.SESSION_END and not captured.session_key:
            raise LabConflict("This browser has no session login to end.", code="no_session")
        if action == revocation.JWT_REVOKE and not captured.raw_access:
            raise LabConflict("This browser has no JWT cookie login to revoke.", code="no_jwt_login")
        if action == revocation.SESSION_END:
            account_services.session_revoke(user=user, session_key=captured.session_key)
            auth_logout(request._request)
        elif action == revocation.JWT_REVOKE:
            revocation.jwt_login_revoke(raw_access=captured.raw_access)
        elif action == revocation.LOGOUT_ALL:
            account_services.user_revoke_all(user=user)
            if captured.session_key:
                auth_logout(request._request)
        else:
            # The password change view's form and steps: a wrong current
            # password counts as a failed login of the user, under the same
            # limit as every login path (OWASP ASVS 5.0 V6.3.1); saving the
            # password ends every session and JWT of the user
            # (accounts.signals.user_on_save); this session moves to a new key.
            # Only after a recent authentication, as the password change page (step-up).
            if not _browser_is_fresh(request._request, captured):
                raise ReauthenticationRequired()
            form = RateLimitedPasswordChangeForm(user, data=request.data, request=request._request)
            if not form.is_valid():
                if form.rate_limited:
                    raise LoginThrottled(LoginThrottle(limited=True, retry_after=form.retry_after))
                raise exceptions.ValidationError(form.errors.get_json_data())
            form.save()
            if captured.session_key:
                update_session_auth_hash(request._request, form.user)
        lab_id, ttl = revocation.revocation_lab_store(user=user, action=action, captured=captured)
        record = revocation.store.get(request=request._request, lab_id=lab_id, user=user)
        body = revocation.revocation_lab_ask(request=request._request, lab_id=lab_id, record=record)
        jwt_revoked = bool(captured.raw_access) and "jwt" in revocation.REVOKES[action]
        body["ttl"] = ttl
        body["now"] = {
            "session": bool(captured.session_key)
            and action in (revocation.JWT_REVOKE, revocation.PASSWORD_CHANGE),
            "jwt": bool(captured.raw_access) and not jwt_revoked,
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        if jwt_revoked:
            cookies_clear(response)
        revocation.store.bind(response, lab_id=lab_id, ttl=ttl)
        return response


def _lab_run(request, *, store, lab_id: str) -> tuple[object | None, dict]:
    """Return (this browser's user, the lab run ``lab_id``); 401 for a stranger, 404 for no such run.

    A browser that logged itself out everywhere still reaches its own run
    through the signed cookie that binds it (compare.labstore).
    """
    user = browser_user(request._request)
    if user is None and store.bound_id(request._request) is None:
        raise exceptions.NotAuthenticated("Log in with a session or a JWT cookie first.")
    record = store.get(request=request._request, lab_id=lab_id, user=user)
    if record is None:
        raise exceptions.NotFound("No such lab run (or it has expired).")
    return user, record


class RevocationReplayView(LabApiView):
    """Ask the site and the verifier again about the credentials a revocation lab run revoked."""

    def post(self, request, lab_id: str):
        _, record = _lab_run(request, store=revocation.store, lab_id=lab_id)
        return Response(revocation.revocation_lab_ask(request=request._request, lab_id=lab_id, record=record))


# --- Bearer playground ----------------------------------------------------------


def lab_bearer(request: HttpRequest) -> HttpResponse:
    """Render the bearer playground: the page's script holds a token pair in memory only."""
    return render(
        request,
        "compare/lab_bearer.html",
        {"reuse_grace": int(getattr(settings, "JWT_REFRESH_REUSE_GRACE", 0) or 0)},
    )


# --- XSS and CSRF lab -----------------------------------------------------------

# The localStorage key of static/js/jwt-keepalive.js (EXPIRY_KEY): expiry times, no token.
KEEPALIVE_KEY = "authdemo.keepalive.expiry"


def lab_xss_csrf(request: HttpRequest) -> HttpResponse:
    """Render the XSS and CSRF lab: what an injected script reads; a cross-site attack, observed."""
    watched = [
        settings.SESSION_COOKIE_NAME,
        settings.JWT_ACCESS_COOKIE,
        settings.JWT_REFRESH_COOKIE,
        settings.CSRF_COOKIE_NAME,
    ]
    return render(
        request,
        "compare/lab_xss_csrf.html",
        {
            "session_user": session_user(request),
            "jwt_user": jwt_user(request),
            "sent_cookies": [name for name in watched if name in request.COOKIES],
            "keepalive_key": KEEPALIVE_KEY,
            "other_origin": csrf_lab.other_origin(request),
            "attacker_path": reverse("lab-attacker"),
        },
    )


def lab_localstorage(request: HttpRequest) -> HttpResponse:
    """Render the anti-pattern page: a token in localStorage, where any script of the origin reads it."""
    return render(request, "compare/lab_localstorage.html")


def lab_attacker(request: HttpRequest) -> HttpResponse:
    """Render the attacker page, meant to be opened under the instance's other name (another site)."""
    run_id = request.GET.get("run", "")
    target = csrf_lab.other_origin(request)
    valid = bool(target) and csrf_lab.store.read(run_id) is not None
    response = render(
        request,
        "compare/lab_attacker.html",
        {
            "target": target,
            "run_id": run_id if valid else "",
            "attacks": csrf_lab.attack_urls(target=target, run_id=run_id) if valid else [],
        },
    )
    if valid:
        # This page stands in for the attacker's own site, whose policy lets it
        # post and fetch anywhere: only this page's CSP names the victim site,
        # so what stops the attack is the victim's defence, not our CSP. The
        # site's policy widened by that one origin (the middleware keeps a
        # header a view has set).
        response[CSP_HEADER] = build_policy(
            update={"form-action": [target], "connect-src": [target], "frame-src": [target]}
        )
    return response


class CsrfRunsView(LabApiView):
    """Start a CSRF lab run for this browser's login."""

    def post(self, request):
        user = _user_or_401(request)
        target = csrf_lab.other_origin(request._request)
        if target is None:
            raise LabConflict(
                "Open the lab on 127.0.0.1 or localhost: the attack page needs the other name.",
                code="no_other_origin",
            )
        session = session_user(request._request) is not None
        jwt = jwt_user(request._request) is not None
        run_id = csrf_lab.csrf_run_create(user=user, session=session, jwt=jwt)
        body = {
            "run_id": run_id,
            "attacker_url": f"{target}{reverse('lab-attacker')}?run={run_id}",
            "report_url": reverse("lab-csrf-run", args=[run_id]),
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        csrf_lab.store.bind(response, lab_id=run_id, ttl=csrf_lab.RUN_TTL)
        return response


class CsrfRunView(LabApiView):
    """What each attack of a run carried and got, and whether the victim is still logged in."""

    def get(self, request, run_id: str):
        user, record = _lab_run(request, store=csrf_lab.store, lab_id=run_id)
        if user is not None:
            user.refresh_from_db(fields=["first_name", "email"])
        return Response(
            csrf_lab.csrf_run_report(
                run_id=run_id,
                record=record,
                user=user,
                session_now=session_user(request._request) is not None,
                jwt_now=jwt_user(request._request) is not None,
            )
        )
