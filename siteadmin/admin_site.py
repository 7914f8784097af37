"""The project's admin site: Django's, with its login under the shared login limit.

INSTALLED_APPS names ``siteadmin.admin_site.AdminConfig`` instead of
``django.contrib.admin``, so ``admin.site`` is this site (Django's
``default_site`` hook); the pages are registered by siteadmin/admin.py.
This module is imported before the models are ready: it imports the login
form only when the site is built.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig

from limits.devicecookie import device_cookie_set

# Apps whose models the admin never shows (their rows hold second-factor secrets).
HIDDEN_APP_LABELS = frozenset({"otp_totp", "otp_static"})


class AdminSite(admin.AdminSite):
    """Django's AdminSite; a login refused by the rate limit answers 429 with Retry-After.

    It never registers django-otp's device admins (second-factor secrets).

    A successful login (a POST answered by a redirect, the admin's LoginView)
    gives the browser its device cookie, as every other login path does.
    """

    site_header = "authdemo administration"
    site_title = "authdemo admin"
    index_title = "Users, sessions and tokens"
    # The change lists of logins and tokens need the width the navigation sidebar takes.
    enable_nav_sidebar = False

    def __init__(self, *args, **kwargs):
        from siteadmin.forms import AdminLoginForm

        super().__init__(*args, **kwargs)
        self.login_form = AdminLoginForm

    def register(self, model_or_iterable, admin_class=None, **options):
        # django-otp's device admins show TOTP keys and recovery codes: the
        # users' factors are listed on the user pages instead, never a secret
        # (OWASP ASVS 5.0 V6.4.1 / V14.2.1).
        models = model_or_iterable if isinstance(model_or_iterable, list | tuple) else [model_or_iterable]
        models = [m for m in models if m._meta.app_label not in HIDDEN_APP_LABELS]
        if models:
            super().register(models, admin_class, **options)

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302 and request.user.is_authenticated:
            device_cookie_set(response, user=request.user)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if getattr(form, "rate_limited", False):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with the project's site."""

    default_site = "siteadmin.admin_site.AdminSite"
