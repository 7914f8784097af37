"""Passkeys as a factor of a known user: a login's second step, re-authentication, and removal.

A pending login (mfa.services: the password was right, a second factor is
due) is completed by a passkey of that user as by a code; the pending token
stays usable after a refused assertion and is spent by the one that
succeeds. Wherever the user is known, a refused assertion counts as a wrong
code does, under the same login limit (mfa.services.factor_attempt_register;
OWASP ASVS 5.0 V6.3.1). Removing a passkey may mean a lost or stolen one: the logins it
protected end through the one revocation path, accounts.services.user_revoke_all
(OWASP ASVS 5.0 V7.4.3), keeping only the caller's own.
"""

from __future__ import annotations

import contextlib
import time

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from accounts import services
from accounts.assurance import Assurance
from mfa.services import (
    CodeThrottled,
    SecondStep,
    factor_attempt_refund,
    factor_attempt_register,
    mfa_pending_consume,
    mfa_pending_read,
)
from passkeys import services as passkey_services


def passkey_login_assurance(login: passkey_services.PasskeyLogin) -> Assurance:
    """Return the assurance of a login a passkey has just completed (its amr, authenticated now)."""
    return Assurance(amr=login.amr, auth_time=int(time.time()))


def passkey_factor_verify(
    *, request: HttpRequest, user, state: object, credential: object, reauthenticate: bool = False
) -> passkey_services.PasskeyLogin:
    """Verify ``user``'s passkey assertion under the login limits, as a code is checked.

    Raise CodeThrottled past the limit (before the assertion is looked
    at), and passkeys.services.PasskeyError if refused: a refused assertion
    stays counted as a failure; a malformed one or an unknown ceremony is
    not an attempt, as a malformed code is not.
    """
    factor_attempt_register(request=request, user=user)
    try:
        login = passkey_services.passkey_authenticate(
            state=state, credential=credential, user=user, reauthenticate=reauthenticate
        )
    except passkey_services.PasskeyError as exc:
        if exc.code != "passkey_invalid":
            factor_attempt_refund(request=request, user=user)
        raise
    factor_attempt_refund(request=request, user=user)
    return login


def passkey_second_step_begin(*, token: object) -> passkey_services.Ceremony:
    """Start the passkey ceremony of the pending login ``token`` (its user's passkeys only)."""
    pending = mfa_pending_read(token=token)
    return passkey_services.passkey_login_begin(user=pending.user)


def passkey_second_step_complete(
    *, request: HttpRequest, token: object, state: object, credential: object
) -> SecondStep:
    """Complete the pending login ``token`` with a passkey assertion of its user; spend the token.

    Raise ValidationError ``mfa_token_invalid`` for a bad, expired or used
    token, passkeys.services.PasskeyError for a refused assertion (the
    token stays usable) and CodeThrottled past the login limit (the
    token is spent: the password step starts again).
    """
    pending = mfa_pending_read(token=token)
    try:
        login = passkey_factor_verify(request=request, user=pending.user, state=state, credential=credential)
    except CodeThrottled:
        with contextlib.suppress(ValidationError):
            mfa_pending_consume(pending)
        raise
    mfa_pending_consume(pending)
    return SecondStep(user=pending.user, assurance=passkey_login_assurance(login), remember=pending.remember)


def passkey_reauthenticate_begin(*, user) -> passkey_services.Ceremony:
    """Start re-authenticating the logged-in ``user`` with a passkey (that user's passkeys only).

    Raise passkeys.services.PasskeyError ``passkey_not_found`` if the user has none.
    """
    if not user.passkeys.exists():
        raise passkey_services.PasskeyError("You have no passkey.", code="passkey_not_found")
    return passkey_services.passkey_login_begin(user=user, reauthenticate=True)


def passkey_reauthenticate(
    *, request: HttpRequest, user, state: object, credential: object
) -> passkey_services.PasskeyLogin:
    """Verify the logged-in ``user``'s re-authentication with a passkey, under the login limits."""
    return passkey_factor_verify(
        request=request, user=user, state=state, credential=credential, reauthenticate=True
    )


def passkey_remove(
    *, user, passkey_id: int, keep_session_key: str | None = None, keep_family_id: str | None = None
) -> None:
    """Remove one of ``user``'s passkeys and end every login of the user but the caller's own.

    Raise passkeys.services.PasskeyError (``passkey_not_found``) for anyone else's, ending nothing.
    """
    passkey_services.passkey_remove(user=user, passkey_id=passkey_id)
    services.user_revoke_all(user=user, keep_session_key=keep_session_key, keep_family_id=keep_family_id)
