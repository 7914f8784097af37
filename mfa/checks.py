"""System checks of the mfa app: the pending login's lifetime."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register()
def pending_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: MFA_PENDING_SECONDS is a positive whole number of seconds."""
    value = getattr(settings, "MFA_PENDING_SECONDS", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        message = f"MFA_PENDING_SECONDS must be a positive int of seconds, not {value!r}."
        return [checks.Error(message, id="mfa.E001")]
    return []
