"""App config of the JWT side: its settings and checks, and its link to the accounts app's revocation hook."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API and tokens"

    def ready(self) -> None:
        from accounts.services import credentials_revoked
        from api import checks, conf, revocation  # noqa: F401 (conf sets the defaults, checks registers)

        # "End everything of this user" (accounts.services.user_revoke_all)
        # reaches the tokens through this hook: accounts imports nothing of api.
        credentials_revoked.connect(
            revocation.tokens_on_credentials_revoked, dispatch_uid="api.tokens_on_credentials_revoked"
        )
