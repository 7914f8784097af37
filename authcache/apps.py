"""App config of the cache layer: its models and its system check."""

from django.apps import AppConfig


class AuthcacheConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "authcache"
    verbose_name = "Cache layer"

    def ready(self) -> None:
        from authcache import checks  # noqa: F401 (registers the system check)
