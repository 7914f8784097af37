from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from accounts import services
from accounts.devices import device_summary
from accounts.models import Session, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "password1", "password2")}),
    )
    actions = ["revoke_all_sessions_and_tokens"]

    @admin.action(description="Revoke all sessions and tokens of the selected users")
    def revoke_all_sessions_and_tokens(self, request, queryset):
        # Keep the admin's own session when the admin selects themself.
        for user in queryset:
            keep = request.session.session_key if user.pk == request.user.pk else None
            services.user_revoke_all(user=user, keep_session_key=keep)
        self.message_user(request, f"Revoked the sessions and tokens of {queryset.count()} user(s).")


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
        "public_id", "user", "ip", "user_agent", "created_at", "last_activity", "expire_date", "remember_me",
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

    @admin.action(description="Revoke the selected sessions", permissions=["delete"])
    def revoke_selected(self, request, queryset):
        count = sum(
            services.session_revoke(user=obj.user, session_key=obj.session_key)
            for obj in queryset.select_related("user")
        )
        self.message_user(request, f"Revoked {count} session(s).", messages.SUCCESS)
