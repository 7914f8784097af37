"""Admin of the JWT side: outstanding and blacklisted refresh tokens and their families.

Replaces SimpleJWT's token admins: searchable by username and email, the
family of each token shown, every page read-only and without token strings
(a refresh token is a live credential: OWASP ASVS 5.0 V7.2.3). The only
write is the "revoke family" action, which kills every refresh and access
token of that login at once (api.revocation.family_revoke).
"""

from __future__ import annotations

from django.contrib import admin, messages
from rest_framework_simplejwt.token_blacklist import admin as blacklist_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api import revocation
from api.models import TokenFamily
from siteadmin.lists import SizedListMixin, datetime_column

USER_SEARCH = ("username", "email")


def _revoke(modeladmin, request, family_ids) -> None:
    ids = {fid for fid in family_ids if fid is not None}
    count = sum(revocation.family_revoke(family_id=fid, reason=TokenFamily.Reason.ADMIN) for fid in ids)
    modeladmin.message_user(request, f"Revoked {count} token families.", messages.SUCCESS)


class RevokeFamilyPermission:
    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("api.change_tokenfamily")


class ReadOnlyAdmin(SizedListMixin, RevokeFamilyPermission, admin.ModelAdmin):
    """View only: no add, change or delete; rows change only through the services."""

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


for model in (OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(ReadOnlyAdmin):
    list_display = ("jti", "user", "family", "created", "expires", "is_blacklisted")
    # Never the "token" column: it holds the whole signed refresh token.
    fields = ("jti", "user", "family", "created_at", "expires_at", "is_blacklisted")
    created = datetime_column("created_at", "created at")
    expires = datetime_column("expires_at", "expires at")
    # Creation order is id order, and the primary key's index serves it.
    ordering = ("-id",)
    search_fields = (*(f"user__{f}" for f in USER_SEARCH), "jti", "family_link__family__id")
    exact_fields = ("jti",)
    uuid_fields = ("family_link__family_id",)
    list_filter = ("family_link__family__revoked_reason",)
    actions = ["revoke_family"]

    def get_queryset(self, *args, **kwargs):
        # What the columns show, in the one query of the page; never the token string.
        return (
            super()
            .get_queryset(*args, **kwargs)
            .select_related("user", "family_link", "blacklistedtoken")
            .only(
                "jti",
                "created_at",
                "expires_at",
                "user__username",
                "family_link__family_id",
                "blacklistedtoken__id",
            )
        )

    @admin.display(description="family")
    def family(self, obj) -> str:
        link = getattr(obj, "family_link", None)
        return str(link.family_id) if link else "-"

    @admin.display(description="blacklisted", boolean=True)
    def is_blacklisted(self, obj) -> bool:
        return hasattr(obj, "blacklistedtoken")

    @admin.action(description="Revoke the family (every token of that login)", permissions=["revoke"])
    def revoke_family(self, request, queryset):
        _revoke(self, request, queryset.values_list("family_link__family_id", flat=True))


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(ReadOnlyAdmin, blacklist_admin.BlacklistedTokenAdmin):
    list_display = ("token_jti", "token_user", "family", "token_created", "token_expires", "blacklisted")
    fields = (
        "token_jti",
        "token_user",
        "family",
        "token_created_at",
        "token_expires_at",
        "blacklisted_at",
    )
    token_created = datetime_column("token__created_at", "created at")
    token_expires = datetime_column("token__expires_at", "expires at")
    blacklisted = datetime_column("blacklisted_at", "blacklisted at")
    search_fields = (
        *(f"token__user__{f}" for f in USER_SEARCH),
        "token__jti",
        "token__family_link__family__id",
    )
    user_path = "token__user__"
    exact_fields = ("token__jti",)
    uuid_fields = ("token__family_link__family_id",)
    # Newest first by the primary key's index (SimpleJWT's admin sorts by user: a full sort).
    ordering = ("-id",)
    actions = ["revoke_family"]

    def get_queryset(self, *args, **kwargs):
        # What the columns show, in the one query of the page; never the token string.
        return (
            super()
            .get_queryset(*args, **kwargs)
            .select_related("token__user", "token__family_link")
            .only(
                "blacklisted_at",
                "token__jti",
                "token__created_at",
                "token__expires_at",
                "token__user__username",
                "token__family_link__family_id",
            )
        )

    @admin.display(description="family")
    def family(self, obj) -> str:
        link = getattr(obj.token, "family_link", None)
        return str(link.family_id) if link else "-"

    @admin.action(description="Revoke the family (every token of that login)", permissions=["revoke"])
    def revoke_family(self, request, queryset):
        _revoke(self, request, queryset.values_list("token__family_link__family_id", flat=True))


@admin.register(TokenFamily)
class TokenFamilyAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "transport", "ip", "created", "expires", "revoked", "revoked_reason")
    fields = (
        "id", "user", "transport", "ip", "created_at", "expires_at", "revoked_at", "revoked_reason",
        "user_agent",
    )
    created = datetime_column("created_at", "created at")
    expires = datetime_column("expires_at", "expires at")
    revoked = datetime_column("revoked_at", "revoked at")
    list_filter = ("revoked_reason", "transport")
    search_fields = (*(f"user__{f}" for f in USER_SEARCH), "id")
    uuid_fields = ("id",)
    list_select_related = ("user",)
    actions = ["revoke_family"]

    @admin.action(description="Revoke the family (every token of that login)", permissions=["revoke"])
    def revoke_family(self, request, queryset):
        _revoke(self, request, queryset.values_list("id", flat=True))
