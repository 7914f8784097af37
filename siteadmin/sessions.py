"""Admin of the sessions: read-only, never a key or the data; revoking goes through accounts.services."""

from django.contrib import admin, messages
from django.utils import timezone

from accounts import services
from accounts.devices import device_summary
from accounts.models import Session
from siteadmin.lists import SizedListMixin, datetime_column


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
class SessionAdmin(SizedListMixin, admin.ModelAdmin):
    """Read-only view of sessions; ending one goes through accounts.services (row and cache)."""

    list_display = ("user", "ip", "device", "created", "last_active", "expires", "remember_me")
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

    created = datetime_column("created_at", "created")
    last_active = datetime_column("last_activity", "last activity")
    expires = datetime_column("expire_date", "expire date")

    @admin.display(description="device")
    def device(self, obj):
        return device_summary(obj.user_agent)

    def get_queryset(self, request):
        # The signed session data is read by no admin page.
        return super().get_queryset(request).defer("session_data")

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
