"""Admin of the users: revoke everything of a user; their second factors listed (never a secret), reset."""

import logging

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import User
from mfa import services as mfa_services
from passkeys.models import Passkey
from siteadmin.lists import SizedListMixin

security_log = logging.getLogger("authdemo.security")


@admin.register(User)
class UserAdmin(SizedListMixin, DjangoUserAdmin):
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    actions = ["revoke_all_sessions_and_tokens", "reset_second_factors"]
    user_path = ""
    list_display = (*DjangoUserAdmin.list_display, "second_factor")
    readonly_fields = ("second_factors",)
    # The change page adds "Revoke all sessions and tokens" and "Reset second
    # factors" buttons (templates/admin/accounts/user/change_form.html)
    # posting to revoke_all_view and mfa_reset_view.

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, ("Second factors", {"fields": ("second_factors",)}))

    def get_queryset(self, request):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        passkeys = Passkey.objects.filter(user=OuterRef("pk"))
        return super().get_queryset(request).annotate(has_totp=Exists(confirmed) | Exists(passkeys))

    @admin.display(description="2FA", boolean=True, ordering="has_totp")
    def second_factor(self, obj) -> bool:
        return obj.has_totp

    @admin.display(description="Second factors")
    def second_factors(self, obj) -> str:
        # What the user has, never a secret or a code.
        factors = mfa_services.factors_list(user=obj)
        if not factors:
            return "None"
        shown = []
        for factor in factors:
            if factor.kind == "recovery":
                state = f"{factor.remaining} left"
            else:
                state = "confirmed" if factor.confirmed else "not confirmed"
            shown.append(f"{factor.name} ({state})")
        return "; ".join(shown)

    def get_urls(self):
        # admin_view(): staff only, CSRF-protected, never cached.
        revoke = path(
            "<path:object_id>/revoke-all/",
            self.admin_site.admin_view(self.revoke_all_view),
            name="accounts_user_revoke_all",
        )
        reset = path(
            "<path:object_id>/mfa-reset/",
            self.admin_site.admin_view(self.mfa_reset_view),
            name="accounts_user_mfa_reset",
        )
        return [revoke, reset, *super().get_urls()]

    def _mfa_reset(self, request: HttpRequest, user) -> bool:
        # The one removal path (every other login of the user ends), logged with who did it.
        keep = self._keep_key(request, user)
        removed = mfa_services.mfa_remove(user=user, keep_session_key=keep, passkeys=True)
        security_log.warning(
            "second factors reset by admin user_id=%s admin_id=%s removed=%s",
            user.pk,
            request.user.pk,
            removed,
        )
        return removed

    @method_decorator(require_POST)
    def mfa_reset_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        """Remove every second factor of one user, from the user's change page."""
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404("No such user.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        self._mfa_reset(request, user)
        self.message_user(request, f"Reset the second factors of {user.get_username()}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    @admin.action(description="Reset the second factors of the selected users", permissions=["change"])
    def reset_second_factors(self, request, queryset):
        users = list(queryset)
        # Asked per user, as the change page's button (OWASP ASVS 5.0 V8.2.1).
        if not all(self.has_change_permission(request, user) for user in users):
            raise PermissionDenied
        count = sum(self._mfa_reset(request, user) for user in users)
        self.message_user(request, f"Reset the second factors of {count} user(s).", messages.SUCCESS)

    @staticmethod
    def _keep_key(request: HttpRequest, user) -> str | None:
        # The admin's own session survives when the admin revokes themself.
        return request.session.session_key if user.pk == request.user.pk else None

    @method_decorator(require_POST)
    def revoke_all_view(self, request: HttpRequest, object_id: str) -> HttpResponseRedirect:
        """End every session and every JWT of one user, from the user's change page."""
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404("No such user.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        services.user_revoke_all(user=user, keep_session_key=self._keep_key(request, user))
        self.message_user(
            request, f"Revoked every session and token of {user.get_username()}.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    # The same permission as the change page's button (revoke_all_view), asked
    # the same way per user: offering or running it needs change, not view
    # (OWASP ASVS 5.0 V8.2.1). Django leaves an action without permissions=
    # open to anyone who can see the changelist.
    @admin.action(description="Revoke all sessions and tokens of the selected users", permissions=["change"])
    def revoke_all_sessions_and_tokens(self, request, queryset):
        users = list(queryset)
        if not all(self.has_change_permission(request, user) for user in users):
            raise PermissionDenied
        # Keep the admin's own session when the admin selects themself.
        for user in users:
            services.user_revoke_all(user=user, keep_session_key=self._keep_key(request, user))
        self.message_user(request, f"Revoked the sessions and tokens of {len(users)} user(s).")
