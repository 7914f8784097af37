from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and sessions"

    def ready(self) -> None:
        from accounts import checks, signals  # noqa: F401 - checks registers the rate-limit checks

        signals.connect()
