"""Passkeys (WebAuthn credentials): a second factor and a passwordless login for both strategies."""

from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    name = "passkeys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from passkeys import checks  # noqa: F401  (registers the system check)
