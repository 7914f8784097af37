"""Passkeys as a factor of the session side's logins: the second step with a passkey, and removal.

A pending login (accounts.mfa: the password was right, a second factor is
due) is completed by a passkey of that user as by a code; the pending token
stays usable after a refused assertion and is spent by the one that
succeeds. Removing a passkey may mean a lost or stolen one: the logins it
protected end through the one revocation path, accounts.services.user_revoke_all
(OWASP ASVS 5.0 V7.4.3), keeping only the caller's own.
"""

from __future__ import annotations

import time

from accounts import mfa, services
from accounts.assurance import Assurance
from passkeys import services as passkey_services


def passkey_login_assurance(login: passkey_services.PasskeyLogin) -> Assurance:
    """Return the assurance of a login a passkey has just completed (its amr, authenticated now)."""
    return Assurance(amr=login.amr, auth_time=int(time.time()))


def passkey_second_step_begin(*, token: object) -> passkey_services.Ceremony:
    """Start the passkey ceremony of the pending login ``token`` (its user's passkeys only)."""
    pending = mfa.mfa_pending_read(token=token)
    return passkey_services.passkey_login_begin(user=pending.user)


def passkey_second_step_complete(*, token: object, state: object, credential: object) -> mfa.SecondStep:
    """Complete the pending login ``token`` with a passkey assertion of its user; spend the token.

    Raise ValidationError ``mfa_token_invalid`` for a bad, expired or used
    token, and passkeys.services.PasskeyError for a refused assertion (the
    token stays usable).
    """
    pending = mfa.mfa_pending_read(token=token)
    login = passkey_services.passkey_authenticate(state=state, credential=credential, user=pending.user)
    mfa.mfa_pending_consume(pending)
    return mfa.SecondStep(
        user=pending.user, assurance=passkey_login_assurance(login), remember=pending.remember
    )


def passkey_remove(
    *, user, passkey_id: int, keep_session_key: str | None = None, keep_family_id: str | None = None
) -> None:
    """Remove one of ``user``'s passkeys and end every login of the user but the caller's own.

    Raise passkeys.services.PasskeyError (``passkey_not_found``) for anyone else's, ending nothing.
    """
    passkey_services.passkey_remove(user=user, passkey_id=passkey_id)
    services.user_revoke_all(user=user, keep_session_key=keep_session_key, keep_family_id=keep_family_id)
