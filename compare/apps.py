from django.apps import AppConfig


class CompareConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "compare"
    verbose_name = "Session and JWT compared"

    def ready(self) -> None:
        from compare import conf  # noqa: F401 (sets the defaults of the app's tunables)
