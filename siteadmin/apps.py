"""The project's admin: pages of users, sessions and tokens over the other apps' models (it has none)."""

from django.apps import AppConfig


class SiteAdminConfig(AppConfig):
    name = "siteadmin"
    verbose_name = "Administration"

    def ready(self) -> None:
        from siteadmin import conf  # noqa: F401 (sets the defaults)
