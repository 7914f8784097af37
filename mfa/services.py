"""Second factors on django-otp: TOTP enrolment, recovery codes, code checks, the pending login state.

One code check for every path (the second login step of the form and of
the API, re-authentication, enrolment): it counts against the login limits
of limits.ratelimit, so wrong codes lock the username exactly as wrong
passwords do (OWASP ASVS 5.0 V6.3.1), and it verifies through django-otp's
``verify_token`` with the device row locked, so a TOTP code is accepted once
per time step (its ``last_t``; ASVS 5.0 V6.5.1) and a recovery code once,
even by parallel requests.

A login whose password was right but whose user has a confirmed factor is
not a login yet: it gets a pending state, a signed token naming the user
with a random nonce held in the shared cache, valid MFA_PENDING_SECONDS and
consumed by the step that completes it (single-use; ASVS 5.0 V6.6.3).
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from base64 import b32encode
from dataclasses import dataclass

from django.contrib.auth import authenticate, get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import assurance, services
from authcache.guard import cache_guarded
from authcache.shared import shared_cache
from limits.ratelimit import LoginThrottle, login_attempt_register, login_success_register
from mfa.conf import RECOVERY_CODE_COUNT, mfa_pending_seconds

security_log = logging.getLogger("authdemo.security")

TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
_PENDING_SALT = "mfa.pending"
_TOTP_FORM = re.compile(r"\d{6}")
_RECOVERY_FORM = re.compile(r"[a-z2-7]{8}")


class CodeThrottled(Exception):
    """Too many wrong codes (or passwords) for this user: the login limit's verdict."""

    def __init__(self, throttle: LoginThrottle) -> None:
        super().__init__(throttle.message)
        self.throttle = throttle


# --- Devices ---------------------------------------------------------------------


def mfa_enabled(*, user) -> bool:
    """Return whether ``user`` has a confirmed second factor or a passkey (a login then needs it)."""
    return user_has_device(user, confirmed=True) or user.passkeys.exists()


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str  # base32, as authenticator apps take it
    otpauth_uri: str


def totp_enrol_start(*, user) -> TotpEnrolment:
    """Create an unconfirmed TOTP device of ``user`` (replacing an unconfirmed one); return its secret."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(
                "An authenticator app is already set up; remove it first.", code="totp_exists"
            )
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    security_log.info("totp enrolment started user_id=%s", user.pk)
    return _enrolment(device)


def _enrolment(device: TOTPDevice) -> TotpEnrolment:
    # The key in base32, as the otpauth URI (Google Authenticator's Key URI Format) carries it.
    return TotpEnrolment(secret=b32encode(device.bin_key).decode(), otpauth_uri=device.config_url)


def totp_enrol_pending(*, user) -> TotpEnrolment | None:
    """Return the enrolment ``user`` has started and not confirmed, or None."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return None if device is None else _enrolment(device)


def recovery_codes_issue(*, user) -> list[str]:
    """Replace the recovery codes of ``user`` with new single-use ones; return them (shown once)."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def totp_enrol_confirm(*, request: HttpRequest, user, code: str) -> list[str]:
    """Confirm the unconfirmed TOTP device of ``user`` with one valid code; return new recovery codes."""
    normal = code_normalize(code)
    if not _TOTP_FORM.fullmatch(normal):
        raise ValidationError("Enter the 6-digit code your app shows.", code="malformed_code")
    throttle = factor_attempt_register(request=request, user=user)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None:
            raise ValidationError(
                "No authenticator app is waiting for confirmation.", code="no_pending_device"
            )
        if not device.verify_token(normal):
            _refused(throttle)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_issue(user=user)
    factor_attempt_refund(request=request, user=user)
    security_log.info("totp enrolled user_id=%s", user.pk)
    return codes


def mfa_remove(
    *,
    user,
    keep_session_key: str | None = None,
    keep_family_id: str | None = None,
    passkeys: bool = False,
) -> bool:
    """Remove ``user``'s TOTP device and recovery codes (``passkeys``: and passkeys); return if any existed.

    Losing a factor ends the logins that factor protected (ASVS 5.0 V7.4.3),
    through the one revocation path, keeping only the caller's own login.
    """
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        if passkeys:
            removed += user.passkeys.all().delete()[0]
    if removed:
        services.user_revoke_all(user=user, keep_session_key=keep_session_key, keep_family_id=keep_family_id)
        security_log.info("second factors removed user_id=%s", user.pk)
    return bool(removed)


@dataclass(frozen=True)
class FactorSummary:
    name: str
    kind: str  # "totp", "recovery" or "passkey"
    confirmed: bool
    remaining: int | None  # recovery codes left


def factors_list(*, user) -> list[FactorSummary]:
    """Return what second factors ``user`` has (never a secret)."""
    found = [
        FactorSummary(name=d.name, kind="totp", confirmed=d.confirmed, remaining=None)
        for d in TOTPDevice.objects.filter(user=user)
    ]
    found += [
        FactorSummary(name=d.name, kind="recovery", confirmed=d.confirmed, remaining=d.token_set.count())
        for d in StaticDevice.objects.filter(user=user)
    ]
    found += [
        FactorSummary(name=f"Passkey: {name}", kind="passkey", confirmed=True, remaining=None)
        for name in user.passkeys.values_list("name", flat=True)
    ]
    return found


# --- Codes -----------------------------------------------------------------------


def code_normalize(code: object) -> str:
    """Return a code as typed, without spaces or dashes and in lower case ("" for a non-string)."""
    if not isinstance(code, str) or len(code) > 64:
        return ""
    return re.sub(r"[\s-]", "", code).lower()


@dataclass(frozen=True)
class CodeVerified:
    method: str  # the RFC 8176 amr value proven
    recovery: bool  # a recovery code was used (and is now spent)


def factor_attempt_register(*, request: HttpRequest, user) -> LoginThrottle:
    """Count an attempt at a factor of ``user`` (code, password, passkey) as a login; raise past the limit."""
    throttle = login_attempt_register(request, username=user.get_username())
    if throttle.limited:
        raise CodeThrottled(throttle)
    return throttle


def factor_attempt_refund(*, request: HttpRequest, user) -> None:
    """Take back the count of an attempt that succeeded, as for a right password (it holds failures)."""
    login_success_register(request, username=user.get_username())


def _refused(throttle: LoginThrottle) -> None:
    message = "That code is not valid."
    if throttle.warning:
        message = f"{message} {throttle.warning}"
    raise ValidationError(message, code="invalid_code")


def mfa_code_verify(*, request: HttpRequest, user, code: object) -> CodeVerified:
    """Check a TOTP or recovery code of ``user`` under the login limits; raise if refused.

    A malformed code is refused before it is counted; a wrong one counts as
    a failed login of the user; a right one is refunded, as a right password.
    """
    normal = code_normalize(code)
    is_totp, is_recovery = bool(_TOTP_FORM.fullmatch(normal)), bool(_RECOVERY_FORM.fullmatch(normal))
    if not (is_totp or is_recovery):
        raise ValidationError(
            "Enter the 6-digit code of your app or one of your recovery codes.", code="malformed_code"
        )
    throttle = factor_attempt_register(request=request, user=user)
    model = TOTPDevice if is_totp else StaticDevice
    with transaction.atomic():
        # The row lock serialises parallel checks of one device: the second
        # sees the first's last_t (or its spent recovery code).
        devices = model.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        verified = any(device.verify_token(normal) for device in devices)
    if not verified:
        _refused(throttle)
    factor_attempt_refund(request=request, user=user)
    if is_recovery:
        security_log.warning("recovery code used user_id=%s", user.pk)
    return CodeVerified(method=assurance.OTP, recovery=is_recovery)


def mfa_reauthenticate_code(
    *, request: HttpRequest, user, code: object, keep_session_key: str | None = None, keep_family_id=None
) -> CodeVerified:
    """Check a code to re-authenticate a login; a recovery code ends every other login of the user."""
    verified = mfa_code_verify(request=request, user=user, code=code)
    if verified.recovery:
        # A recovery code signals a lost device (ASVS 5.0 V6.5.2): only this login survives.
        services.user_revoke_all(user=user, keep_session_key=keep_session_key, keep_family_id=keep_family_id)
    return verified


def password_reverify(*, request: HttpRequest, user, password: object) -> None:
    """Check the password of the logged-in ``user`` under the login limits; raise if refused."""
    throttle = factor_attempt_register(request=request, user=user)
    # authenticate(), never check_password by hand: the backends decide (inactive users fail).
    found = authenticate(request, username=user.get_username(), password=password)
    if found is None or found.pk != user.pk:
        message = "That password is not right."
        raise ValidationError(f"{message} {throttle.warning}".strip(), code="invalid_password")
    factor_attempt_refund(request=request, user=user)


# --- Pending logins --------------------------------------------------------------


def _pending_key(nonce: str) -> str:
    return f"mfa:pending:{nonce}"


@dataclass(frozen=True)
class PendingLogin:
    user: object
    nonce: str
    remember: bool


@cache_guarded()
def mfa_pending_issue(*, user, remember: bool = False) -> str:
    """Return a signed, single-use token standing for ``user``'s login awaiting its second factor."""
    nonce = secrets.token_urlsafe(18)
    shared_cache().add(_pending_key(nonce), user.pk, mfa_pending_seconds())
    # The session auth hash binds it to the password it was issued for: a
    # password change or reset meanwhile voids it, as it ends every session.
    payload = {"u": user.pk, "n": nonce, "r": bool(remember), "h": user.get_session_auth_hash()}
    return signing.dumps(payload, salt=_PENDING_SALT, compress=True)


def _pending_invalid() -> ValidationError:
    return ValidationError(
        "This sign-in has expired or was already used; sign in again.", code="mfa_token_invalid"
    )


@cache_guarded()
def mfa_pending_read(*, token: object) -> PendingLogin:
    """Return the pending login ``token`` stands for; raise ValidationError if bad, expired or used."""
    if not isinstance(token, str) or not token or len(token) > 1024:
        raise _pending_invalid()
    try:
        data = signing.loads(token, salt=_PENDING_SALT, max_age=mfa_pending_seconds())
    except signing.BadSignature as exc:  # also SignatureExpired
        raise _pending_invalid() from exc
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        raise _pending_invalid()
    if shared_cache().get(_pending_key(data["n"])) != data.get("u"):
        raise _pending_invalid()
    user = get_user_model()._default_manager.filter(pk=data["u"], is_active=True).first()
    if user is None or not constant_time_compare(str(data.get("h")), user.get_session_auth_hash()):
        raise _pending_invalid()
    return PendingLogin(user=user, nonce=data["n"], remember=bool(data.get("r")))


@cache_guarded()
def mfa_pending_consume(pending: PendingLogin) -> None:
    """Spend ``pending``: only one caller succeeds (the cache's delete is atomic); raise for the others."""
    if not shared_cache().delete(_pending_key(pending.nonce)):
        raise _pending_invalid()


@dataclass(frozen=True)
class SecondStep:
    user: object
    assurance: assurance.Assurance
    remember: bool


def mfa_login_complete(*, request: HttpRequest, token: object, code: object) -> SecondStep:
    """Complete a pending login with a code: return the user and the login's assurance.

    A wrong code leaves the pending login usable until the login limit
    refuses, which spends it. A recovery code ends every other login of the
    user before this one begins (it signals a lost device).
    """
    pending = mfa_pending_read(token=token)
    try:
        verified = mfa_code_verify(request=request, user=pending.user, code=code)
    except CodeThrottled:
        # At the limit the pending login is spent: the password step starts again.
        with contextlib.suppress(ValidationError):
            mfa_pending_consume(pending)
        raise
    mfa_pending_consume(pending)
    if verified.recovery:
        services.user_revoke_all(user=pending.user)
    proven = assurance.assurance_new(methods=[assurance.PWD, verified.method])
    return SecondStep(user=pending.user, assurance=proven, remember=pending.remember)
