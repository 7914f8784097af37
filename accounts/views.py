"""Views of the session side: parse, call one service or Django's auth view, render."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import FormView, UpdateView

from accounts import emails, services
from accounts.conf import login_second_step
from accounts.forms import LoginForm, ProfileForm, RateLimitedPasswordChangeForm, SignupForm
from accounts.paging import login_page
from accounts.sessions import public_id_for, session_remember_set
from accounts.stepup import ReauthenticationRequiredMixin, reauthenticate_redirect, session_is_fresh
from limits.devicecookie import device_cookie_set
from limits.ratelimit import (
    LoginThrottle,
    password_reset_email_register,
    password_reset_ip_register,
    signup_attempt_register,
)


def safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def login_ratelimited_response(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """Return the 429 page of a refused login or password check, with Retry-After."""
    message = LoginThrottle(limited=True, retry_after=retry_after).message
    context = {"retry_after": retry_after, "message": message}
    response = render(request, "accounts/login_ratelimited.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def ratelimited_response(request: HttpRequest, *, retry_after: int, title: str) -> HttpResponse:
    """Return the 429 page of a refused signup or reset request, with Retry-After."""
    context = {"retry_after": retry_after, "title": title}
    response = render(request, "accounts/ratelimited.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class SignupView(FormView):
    template_name = "accounts/signup.html"
    form_class = SignupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("accounts:profile")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        throttle = signup_attempt_register(request)
        if throttle.limited:
            return ratelimited_response(request, retry_after=throttle.retry_after, title="Too many signups")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:
            # A concurrent signup took this name, or a look-alike of it, after
            # this form's checks: validated again, the form now says which.
            form.full_clean()
            if form.is_valid():
                raise
            return self.form_invalid(form)
        # The same page whoever holds the address (accounts.emails).
        email = form.cleaned_data["email"]
        emails.email_change_request(user=user, email=email)
        auth_login(self.request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(
            self.request,
            f"Welcome, {user.get_username()}. Your account is ready. We sent a link to {email}: "
            "the address is attached to your account once you follow it.",
        )
        response = HttpResponseRedirect(safe_next(self.request) or reverse("accounts:profile"))
        device_cookie_set(response, user=user)
        return response

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=safe_next(self.request), **kwargs)


class LoginView(auth_views.LoginView):
    """Django's LoginView: authenticate() + login(), fixation-safe key cycling, CSRF rotation.

    ``next`` is honoured only for this host (LoginView's url_has_allowed_host_and_scheme).
    """

    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = False

    def form_valid(self, form):
        remember = form.cleaned_data.get("remember_me", False)
        step = login_second_step()
        if step is not None and step.required(form.get_user()):
            # Not logged in yet: the second step (ACCOUNTS_LOGIN_SECOND_STEP)
            # logs the session in once it succeeds; until then it stays anonymous.
            return step.begin(self.request, user=form.get_user(), remember=remember)
        response = super().form_valid(form)
        session_remember_set(self.request.session, remember=remember)
        # This browser is now a trusted device of the user (limits.ratelimit).
        device_cookie_set(response, user=form.get_user())
        return response

    def form_invalid(self, form):
        if form.rate_limited:
            return login_ratelimited_response(self.request, retry_after=form.retry_after)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): ends the session server-side; GET answers 405."""

    next_page = reverse_lazy("home")


class ProfileView(LoginRequiredMixin, UpdateView):
    """The names at once; a new email only after a recent authentication (step-up), then by link."""

    template_name = "accounts/profile.html"
    form_class = ProfileForm
    success_url = reverse_lazy("accounts:profile")

    def get_object(self, queryset=None):
        return self.request.user

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if email and email != self.request.user.email and not session_is_fresh(self.request):
            return reauthenticate_redirect(self.request)
        response = super().form_valid(form)
        # The same message whoever holds the address (accounts.emails).
        if email and emails.email_change_request(user=self.request.user, email=email):
            messages.success(
                self.request,
                f"Profile saved. We sent a link to {email}: your address changes once you follow it.",
            )
        else:
            messages.success(self.request, "Profile saved.")
        return response


@method_decorator(never_cache, name="dispatch")
class EmailConfirmView(View):
    """GET shows the address and a button; only the POST attaches it (link scanners only GET)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            change = emails.email_confirmation_check(token=token)
        except ValidationError as exc:
            return self.refused(request, exc)
        return render(request, "accounts/email_confirm.html", {"email": change.email, "token": token})

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            change = emails.email_confirm(token=token)
        except ValidationError as exc:
            return self.refused(request, exc)
        return render(request, "accounts/email_confirm_done.html", {"email": change.email})

    @staticmethod
    def refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        status = 409 if exc.code == "email_taken" else 400
        return render(request, "accounts/email_confirm_failed.html", {"message": exc.message}, status=status)


class PasswordChangeView(ReauthenticationRequiredMixin, auth_views.PasswordChangeView):
    """Keep this session (its key cycled), end every other session and every JWT (ASVS V7.4.3).

    Only after a recent authentication (step-up, accounts.stepup).
    """

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")
    form_class = RateLimitedPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        if form.rate_limited:
            return login_ratelimited_response(self.request, retry_after=form.retry_after)
        return super().form_invalid(form)

    # Saving the new password ends every session and JWT of the user
    # (accounts.signals.user_on_save); super() then runs
    # update_session_auth_hash(), which carries this session to a new key.


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    @property
    def extra_email_context(self) -> dict[str, str]:
        # The link's scheme, host and port come from SITE_URL, never from the
        # request's Host header, which the client chooses (reset link poisoning).
        site = urlsplit(settings.SITE_URL)
        return {"protocol": site.scheme, "domain": site.netloc, "site_name": site.netloc}

    def post(self, request, *args, **kwargs):
        throttle = password_reset_ip_register(request)
        if throttle.limited:
            return ratelimited_response(
                request, retry_after=throttle.retry_after, title="Too many password reset requests"
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # Past the per-address limit no mail goes out, and the answer is the
        # usual "check your inbox" page: the same whether or not an account
        # has that address (no enumeration, no mail flooding of one inbox).
        if password_reset_email_register(self.request, email=form.cleaned_data["email"]).limited:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Completing a reset ends every session and every JWT of the user (ASVS V7.4.3)."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    # Saving the new password ends every session and JWT of the user
    # (accounts.signals.user_on_save).


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
def sessions_list(request: HttpRequest) -> HttpResponse:
    """Render the user's active sessions, the current one marked."""
    current = request.session.session_key
    return render(
        request,
        "accounts/sessions.html",
        {
            "sessions": login_page(request, services.sessions_active_list(user=request.user)),
            "current_id": public_id_for(current) if current else None,
        },
    )


def session_end(request: HttpRequest, *, user, public_id: str) -> bool:
    """End ``user``'s session ``public_id`` (404 if it is not theirs); return whether it was this browser's.

    This browser's own session ends with a logout, so no response re-creates its row.
    """
    session = user.sessions.filter(public_id=public_id).only("session_key").first()
    if session is None:
        raise Http404("No such session.")
    is_current = request.user.is_authenticated and session.session_key == request.session.session_key
    services.session_revoke(user=user, session_key=session.session_key)
    if is_current:
        auth_logout(request)
    return is_current


@require_POST
@login_required
def session_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    """End one of the user's own sessions; another user's (or no) session is 404."""
    if session_end(request, user=request.user, public_id=public_id):
        return redirect("home")
    messages.success(request, "The session has been ended.")
    return redirect("accounts:sessions")


@require_POST
@login_required
def sessions_revoke_others(request: HttpRequest) -> HttpResponse:
    """End every session of the user but the current one."""
    count = services.sessions_revoke_all(user=request.user, keep_session_key=request.session.session_key)
    messages.success(request, f"Ended {count} other session{'s' if count != 1 else ''}.")
    return redirect("accounts:sessions")
