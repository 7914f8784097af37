"""The login's second step, as accounts' login asks for it (ACCOUNTS_LOGIN_SECOND_STEP).

A right password of a user with a confirmed second factor or a passkey is
not a login yet: the page carries a signed, single-use pending token
(mfa.services) to the second step, and the session stays anonymous until a
code (mfa.views.LoginMfaView) or a passkey (mfa.passkeyviews) completes it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.views import safe_next
from mfa import services
from mfa.forms import MfaLoginForm


def mfa_login_step_render(request: HttpRequest, *, form: MfaLoginForm, status: int = 200) -> HttpResponse:
    """Render the login's second step: the pending token (hidden) and a field for the code."""
    context = {"form": form, "next": safe_next(request)}
    return render(request, "mfa/login_mfa.html", context, status=status)


class SecondFactorStep:
    """The login's second step of accounts.conf's interface: a code or a passkey of the user."""

    def required(self, user) -> bool:
        """Return whether ``user`` has a confirmed second factor or a passkey."""
        return services.mfa_enabled(user=user)

    def begin(self, request: HttpRequest, *, user, remember: bool) -> HttpResponse:
        """Issue the pending login of ``user`` and render the page that asks for the second factor."""
        token = services.mfa_pending_issue(user=user, remember=remember)
        return mfa_login_step_render(request, form=MfaLoginForm(initial={"mfa_token": token}))
