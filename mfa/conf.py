"""Tunables of the mfa app with their defaults (imported once by MfaConfig.ready()), as accounts/conf.py."""

from __future__ import annotations

from django.conf import settings

# How long a login waits for its second factor (OWASP ASVS 5.0 V6.6.3:
# short-lived, single-use). Checked in mfa/checks.py.
settings.MFA_PENDING_SECONDS = getattr(settings, "MFA_PENDING_SECONDS", 300)
# django-otp (mfa/services.py): wrong codes count under the login limits of
# accounts, so its own per-device delay is off: one limiter, one lock (V6.3.1).
settings.OTP_TOTP_ISSUER = getattr(settings, "OTP_TOTP_ISSUER", "authdemo")
settings.OTP_TOTP_THROTTLE_FACTOR = getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 0)
settings.OTP_STATIC_THROTTLE_FACTOR = getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 0)
# How many single-use recovery codes an enrolment gives.
RECOVERY_CODE_COUNT = 10


def mfa_pending_seconds() -> int:
    """Return how long a login may wait for its second factor (MFA_PENDING_SECONDS)."""
    return settings.MFA_PENDING_SECONDS
