"""Admin of the session side: users (with "revoke all sessions and tokens"), sessions; the site's branding."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from accounts import services
from accounts.devices import device_summary
from accounts.models import Session, User

admin.site.site_header = "authdemo administration"
admin.site.site_title = "authdemo admin"
admin.site.index_title = "Users, sessions and tokens"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    actions = ["revoke_all_sessions_and_tokens"]
    # The change page adds a "Revoke all sessions and tokens" button
    # (templates/admin/accounts/user/change_form.html) posting to revoke_all_view.

    def get_urls(self):
        # admin_view(): staff only, CSRF-protected, never cached.
        revoke = path(
            "<path:object_id>/revoke-all/",
            self.admin_site.admin_view(self.revoke_all_view),
            name="accounts_user_revoke_all",
        )
        return [revoke, *super().get_urls()]

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


class SessionStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("expired", "Expired"))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(expire_date__gt=timezone.now())
        if self.value() == "expired":
            return queryset.filter(expire_date__lte=timezone.now())
        return queryset


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """Read-only view of sessions; ending one goes through accounts.services (row and cache)."""

    list_display = ("user", "ip", "device", "created_at", "last_activity", "expire_date", "remember_me")
    list_filter = (SessionStateFilter, "remember_me")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    ordering = ("-last_activity",)
    # Never the session key or its data: both are credentials (OWASP ASVS 5.0 V7.2.3).
    fields = (
        "public_id",
        "user",
        "ip",
        "user_agent",
        "created_at",
        "last_activity",
        "expire_date",
        "remember_me",
    )
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(description="device")
    def device(self, obj):
        return device_summary(obj.user_agent)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Django's bulk delete would leave the cache entries alive.
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        services.session_revoke(user=obj.user, session_key=obj.session_key)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.session_revoke(user=obj.user, session_key=obj.session_key)

    # The same permission as the delete view, which ends a session the same way.
    @admin.action(description="Revoke the selected sessions", permissions=["delete"])
    def revoke_selected(self, request, queryset):
        count = sum(
            services.session_revoke(user=obj.user, session_key=obj.session_key)
            for obj in queryset.select_related("user")
        )
        self.message_user(request, f"Revoked {count} session(s).", messages.SUCCESS)
