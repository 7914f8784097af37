"""The admin's login form: Django's, under the login limit every other login path counts against."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts.forms import RateLimitedLoginMixin
from accounts.mfa import mfa_enabled


class AdminLoginForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    """The admin's login form under the same login limit as every other login path."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        # This form has no second step: a user with a second factor signs in
        # through the site's login, which asks for it (OWASP ASVS 5.0 V6.3.3).
        if mfa_enabled(user=user):
            raise ValidationError(
                "This account has a second factor: log in on the site's login page first.",
                code="mfa_required",
            )
