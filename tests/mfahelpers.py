"""Codes of an authenticator app, computed from the secret an enrolment shows (django-otp's TOTP)."""

from __future__ import annotations

from base64 import b32decode

from django.test import RequestFactory
from django_otp.oath import totp

from mfa import services as mfa_services


def totp_code(secret: str) -> str:
    """Return the 6-digit TOTP code of base32 ``secret`` at the current time."""
    return f"{totp(b32decode(secret)):06d}"


def enrol(user) -> tuple[str, list[str]]:
    """Give ``user`` a confirmed TOTP device and recovery codes directly; return (secret, codes)."""
    enrolment = mfa_services.totp_enrol_start(user=user)
    request = RequestFactory().post("/", REMOTE_ADDR="127.0.0.9")
    codes = mfa_services.totp_enrol_confirm(request=request, user=user, code=totp_code(enrolment.secret))
    return enrolment.secret, codes
