from django.apps import AppConfig


class AuthcacheConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "authcache"
    verbose_name = "Cache layer"
