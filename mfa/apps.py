"""Second factors on the session side: TOTP and recovery codes (django-otp's), passkeys, step-up pages.

The app has no models of its own. It builds on accounts (users, sessions,
login limits, assurance) and passkeys (the WebAuthn ceremonies); accounts
imports nothing of it and reaches it only through the login's second-step
hook, ACCOUNTS_LOGIN_SECOND_STEP (mfa.steps).
"""

from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "mfa"
    verbose_name = "Second factors"

    def ready(self) -> None:
        from mfa import checks, conf  # noqa: F401 (conf sets the defaults, checks registers)
