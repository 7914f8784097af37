"""Removing a passkey: the passkey goes, and with it every other login of the user.

A factor removed may be a factor lost or stolen: the logins it protected end
through the one revocation path, accounts.services.user_revoke_all (OWASP
ASVS 5.0 V7.4.3), keeping only the caller's own session when it is one.
"""

from __future__ import annotations

from accounts import services
from passkeys import services as passkey_services


def passkey_remove(*, user, passkey_id: int, keep_session_key: str | None = None) -> None:
    """Remove one of ``user``'s passkeys and end every login of the user but ``keep_session_key``.

    Raise passkeys.services.PasskeyError (``passkey_not_found``) for anyone else's, ending nothing.
    """
    passkey_services.passkey_remove(user=user, passkey_id=passkey_id)
    services.user_revoke_all(user=user, keep_session_key=keep_session_key)
