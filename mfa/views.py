"""Views of second factors and step-up on the session side: parse, call one service, render.

The login's second step runs before the session is logged in: the password
step leaves only a signed, single-use pending token in the page
(services.services, services.steps), never a half-logged-in session.
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import user_has_device

from accounts.assurance import OTP, PWD, session_assurance_set
from accounts.sessions import session_remember_set
from accounts.stepup import (
    ReauthenticationRequiredMixin,
    reauthenticate_redirect,
    session_is_fresh,
    session_step_up,
)
from accounts.views import login_ratelimited_response, safe_next
from limits.devicecookie import device_cookie_set
from mfa import services
from mfa.forms import MfaLoginForm, ReauthenticateForm, TotpConfirmForm
from mfa.steps import mfa_login_step_render


def qr_svg(uri: str) -> str:
    """Return the QR code of ``uri`` as inline SVG markup (no script, no style: fits the strict CSP)."""
    return mark_safe(segno.make(uri, error="m").svg_inline(scale=4, border=2, title="Scan with your app"))  # noqa: S308


@method_decorator(never_cache, name="dispatch")
class LoginMfaView(View):
    """POST the pending token and a code: the session is logged in only now, with amr pwd+otp."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return redirect("accounts:login")

    def post(self, request: HttpRequest) -> HttpResponse:
        form = MfaLoginForm(request.POST)
        if not form.is_valid():
            return mfa_login_step_render(request, form=form, status=400)
        try:
            step = services.mfa_login_complete(
                request=request, token=form.cleaned_data["mfa_token"], code=form.cleaned_data["code"]
            )
        except services.CodeThrottled as exc:
            return login_ratelimited_response(request, retry_after=exc.throttle.retry_after)
        except ValidationError as exc:
            form.add_error("code" if exc.code != "mfa_token_invalid" else None, exc)
            status = 400 if exc.code in ("mfa_token_invalid", "malformed_code") else 200
            return mfa_login_step_render(request, form=form, status=status)
        auth_login(request, step.user, backend=settings.AUTHENTICATION_BACKENDS[0])
        session_assurance_set(request.session, step.assurance)
        session_remember_set(request.session, remember=step.remember)
        response = HttpResponseRedirect(safe_next(request) or settings.LOGIN_REDIRECT_URL)
        device_cookie_set(response, user=step.user)
        return response


@method_decorator(never_cache, name="dispatch")
class ReauthenticateView(LoginRequiredMixin, View):
    """Prove it is you again (password, code or passkey): the session's assurance is upgraded in place."""

    template_name = "mfa/reauthenticate.html"

    def form(self, request, data=None) -> ReauthenticateForm:
        return ReauthenticateForm(data, with_code=user_has_device(request.user, confirmed=True))

    def render_form(self, request, form, status=200):
        user = request.user
        context = {
            "form": form,
            "next": safe_next(request),
            "has_code": "code" in form.fields,
            "has_passkey": user.passkeys.exists(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(request, self.form(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form(request, data=request.POST)
        if not form.is_valid():
            return self.render_form(request, form, status=400)
        password, code = form.cleaned_data["password"], form.cleaned_data["code"]
        try:
            if password:
                services.password_reverify(request=request, user=request.user, password=password)
                method = PWD
            else:
                services.mfa_reauthenticate_code(
                    request=request,
                    user=request.user,
                    code=code,
                    keep_session_key=request.session.session_key,
                )
                method = OTP
        except services.CodeThrottled as exc:
            return login_ratelimited_response(request, retry_after=exc.throttle.retry_after)
        except ValidationError as exc:
            form.add_error("code" if code else "password", exc)
            return self.render_form(request, form)
        session_step_up(request, method=method)
        return HttpResponseRedirect(safe_next(request) or reverse("mfa:mfa"))


@login_required
def mfa_home(request: HttpRequest) -> HttpResponse:
    """List the user's second factors (never a secret), with the links to add or remove them."""
    user = request.user
    context = {"factors": services.factors_list(user=user), "enabled": services.mfa_enabled(user=user)}
    return render(request, "mfa/mfa.html", context)


@method_decorator(never_cache, name="dispatch")
class TotpSetupView(LoginRequiredMixin, ReauthenticationRequiredMixin, View):
    """GET: a new unconfirmed device, its secret and QR code; POST a code: confirmed, recovery codes once."""

    def render_setup(self, request, enrolment, form, status=200):
        context = {"secret": enrolment.secret, "qr": qr_svg(enrolment.otpauth_uri), "form": form}
        return render(request, "mfa/mfa_totp.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            enrolment = services.totp_enrol_start(user=request.user)
        except ValidationError as exc:
            messages.info(request, exc.message)
            return redirect("mfa:mfa")
        return self.render_setup(request, enrolment, TotpConfirmForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        enrolment = services.totp_enrol_pending(user=request.user)
        if enrolment is None:
            return redirect("mfa:mfa_totp")
        form = TotpConfirmForm(request.POST)
        if not form.is_valid():
            return self.render_setup(request, enrolment, form, status=400)
        try:
            code = form.cleaned_data["code"]
            codes = services.totp_enrol_confirm(request=request, user=request.user, code=code)
        except services.CodeThrottled as exc:
            return login_ratelimited_response(request, retry_after=exc.throttle.retry_after)
        except ValidationError as exc:
            form.add_error("code", exc)
            return self.render_setup(request, enrolment, form)
        return render(request, "mfa/mfa_recovery_codes.html", {"codes": codes})


@require_POST
@login_required
def mfa_remove(request: HttpRequest) -> HttpResponse:
    """Remove the user's second factors (step-up first); every other session and JWT login ends."""
    if not session_is_fresh(request):
        return reauthenticate_redirect(request, next_url=reverse("mfa:mfa"))
    if services.mfa_remove(user=request.user, keep_session_key=request.session.session_key):
        messages.success(request, "Second factor removed. Every other session and JWT login has ended.")
    return redirect("mfa:mfa")
