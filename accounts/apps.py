from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and sessions"

    def ready(self) -> None:
        from django.core import checks

        from accounts import signals
        from accounts.ratelimit import limits_check

        signals.connect()
        checks.register(limits_check)
