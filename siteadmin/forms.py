"""The admin's login form: Django's, under the login limit every other login path counts against."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts.conf import login_second_step
from accounts.forms import RateLimitedLoginMixin


class AdminLoginForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    """The admin's login form under the same login limit as every other login path."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        # This form has no second step: a user whom the site's login asks for
        # one (ACCOUNTS_LOGIN_SECOND_STEP) signs in there first (OWASP ASVS 5.0 V6.3.3).
        step = login_second_step()
        if step is not None and step.required(user):
            raise ValidationError(
                "This account has a second factor: log in on the site's login page first.",
                code="mfa_required",
            )
