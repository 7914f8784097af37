"""Passkey services: the WebAuthn ceremonies (register, log in) and the user's own list (rename, remove).

Every ceremony starts with a challenge stored server-side, handed to the
client as an opaque ``state`` and deleted by its one use, whatever the
outcome (WebAuthn Level 3 section 13.4.3; OWASP ASVS 5.0 V6.5): a replayed
response finds no challenge. The relying party ID and the accepted origins
come from settings (passkeys.conf). This module imports nothing of the
project's other apps, so the session side (accounts) and the token side
(api) both build on it.

Authentication method references (RFC 8176 section 2) of a passkey:
``hwk`` for a device-bound credential (the key cannot leave its hardware),
``swk`` for a synced one (backup eligible: the key lives in software that
copies it between devices). A passwordless login needs the authenticator to
verify the user (PIN or biometric: something known or something one is,
besides the key one has) and so proves key + ``mfa``; a passkey as the second
step of a password login proves ``pwd`` + key + ``mfa``, with or without
user verification.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from passkeys import conf
from passkeys.models import Passkey, PasskeyChallenge

security_log = logging.getLogger("authdemo.security")

NAME_MAX_LENGTH = 64
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class PasskeyError(ValidationError):
    """A refused ceremony or request; ``code`` says why (the views map it to a 4xx)."""


def _state_invalid() -> PasskeyError:
    return PasskeyError("Unknown or expired passkey ceremony; start again.", code="passkey_state_invalid")


@dataclass(frozen=True)
class Ceremony:
    """A started ceremony: ``state`` to send back with the response, ``options`` for the browser."""

    state: str
    options: dict


@dataclass(frozen=True)
class PasskeyLogin:
    """A verified assertion: whose, by which passkey, and the RFC 8176 methods it proves."""

    user: object
    passkey: Passkey
    amr: tuple[str, ...]
    user_verified: bool

    @property
    def method(self) -> str:
        """Return the RFC 8176 method the passkey itself proves: ``hwk`` or ``swk``."""
        return "hwk" if self.passkey.device_type == "single_device" else "swk"


def _ceremony_start(*, purpose: str, user, options, user_handle: str = "") -> Ceremony:
    now = timezone.now()
    # Expired challenges of abandoned ceremonies go as new ones start.
    PasskeyChallenge.objects.filter(expires_at__lte=now).delete()
    row = PasskeyChallenge.objects.create(
        challenge=bytes_to_base64url(options.challenge),
        purpose=purpose,
        user=user,
        user_handle=user_handle,
        expires_at=now + timedelta(seconds=conf.setting("WEBAUTHN_CHALLENGE_SECONDS")),
    )
    return Ceremony(state=str(row.pk), options=json.loads(options_to_json(options)))


def _challenge_consume(*, state: object, purpose: str, user) -> tuple[bytes, str]:
    """Delete the ceremony's challenge; return it and its user handle.

    Raise ``passkey_state_invalid`` if it is unknown, used, expired, of another purpose or not ``user``'s.
    """
    try:
        pk = uuid.UUID(str(state))
    except ValueError as exc:
        raise _state_invalid() from exc
    rows = PasskeyChallenge.objects.filter(pk=pk, purpose=purpose, expires_at__gt=timezone.now())
    rows = rows.filter(user__isnull=True) if user is None else rows.filter(user=user)
    row = rows.values_list("challenge", "user_handle").first()
    # Whoever deletes the row uses the challenge: of two concurrent requests with one state, one wins.
    if row is None or PasskeyChallenge.objects.filter(pk=pk).delete()[0] == 0:
        raise _state_invalid()
    return base64url_to_bytes(row[0]), row[1]


def _user_handle(user) -> str:
    """Return the account's WebAuthn user handle: the one of its passkeys, else a new random one."""
    existing = user.passkeys.values_list("user_handle", flat=True).first()
    return existing or bytes_to_base64url(secrets.token_bytes(32))


def _descriptors(user) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(cid),
            transports=[AuthenticatorTransport(t) for t in transports.split(",") if t in _TRANSPORTS],
        )
        for cid, transports in user.passkeys.values_list("credential_id", "transports")
    ]


def passkey_registration_begin(*, user) -> Ceremony:
    """Start registering a passkey for ``user``: a discoverable credential, none of the user's own again."""
    handle = _user_handle(user)
    options = generate_registration_options(
        rp_id=conf.rp_id(),
        rp_name=conf.setting("WEBAUTHN_RP_NAME"),
        user_id=base64url_to_bytes(handle),
        user_name=user.get_username(),
        user_display_name=user.get_full_name() or user.get_username(),
        timeout=conf.setting("WEBAUTHN_CHALLENGE_SECONDS") * 1000,
        # Discoverable: the same passkey serves a usernameless login.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    return _ceremony_start(
        purpose=PasskeyChallenge.Purpose.REGISTER, user=user, options=options, user_handle=handle
    )


def _name_clean(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise PasskeyError("Give the passkey a name.", code="passkey_name_invalid")
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH:
        raise PasskeyError(
            f"A passkey name has at most {NAME_MAX_LENGTH} characters.", code="passkey_name_invalid"
        )
    return name


def _credential_check(credential: object) -> dict:
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        raise PasskeyError("The passkey response is malformed.", code="passkey_malformed")
    return credential


def passkey_register(*, user, state: object, credential: object, name: object) -> Passkey:
    """Verify the browser's attestation for ``user``'s ceremony ``state`` and store the passkey."""
    name = _name_clean(name)
    credential = _credential_check(credential)
    challenge, handle = _challenge_consume(state=state, purpose=PasskeyChallenge.Purpose.REGISTER, user=user)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=conf.rp_id(),
            expected_origin=conf.origins(),
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        security_log.info("passkey registration refused user=%s reason=%s", user.pk, exc)
        raise PasskeyError("The passkey could not be verified.", code="passkey_invalid") from exc
    transports = (credential.get("response") or {}).get("transports") or []
    try:
        # A savepoint: a credential id registered meanwhile (unique) is a 409, not a broken transaction.
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=user,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=",".join(t for t in transports if t in _TRANSPORTS)
                if isinstance(transports, list)
                else "",
                user_handle=handle,
                device_type=verified.credential_device_type.value,
                name=name,
            )
    except IntegrityError as exc:
        raise PasskeyError("This passkey is already registered.", code="passkey_exists") from exc
    security_log.info("passkey registered user=%s passkey=%s", user.pk, passkey.pk)
    return passkey


def _purpose(user, reauthenticate: bool) -> str:
    if user is None:
        return PasskeyChallenge.Purpose.LOGIN
    if reauthenticate:
        return PasskeyChallenge.Purpose.REAUTHENTICATE
    return PasskeyChallenge.Purpose.SECOND_FACTOR


def passkey_login_begin(*, user=None, reauthenticate: bool = False) -> Ceremony:
    """Start a login: passwordless (``user`` None, any discoverable passkey) or ``user``'s second step.

    ``reauthenticate``: the logged-in ``user`` proves it is them again; the
    challenge serves only that purpose and only that user's passkeys.
    """
    options = generate_authentication_options(
        rp_id=conf.rp_id(),
        timeout=conf.setting("WEBAUTHN_CHALLENGE_SECONDS") * 1000,
        allow_credentials=_descriptors(user) if user is not None else [],
        # Alone, a passkey must be two factors (the key and the PIN or biometric that unlocks it),
        # or it would replace a password and a second factor with one; beside a password, one suffices.
        user_verification=UserVerificationRequirement.REQUIRED
        if user is None
        else UserVerificationRequirement.PREFERRED,
    )
    return _ceremony_start(purpose=_purpose(user, reauthenticate), user=user, options=options)


def _refused(reason: str, **log) -> PasskeyError:
    security_log.info(
        "passkey login refused reason=%s %s", reason, " ".join(f"{k}={v}" for k, v in log.items())
    )
    return PasskeyError("The passkey could not be verified.", code="passkey_invalid")


def passkey_authenticate(
    *, state: object, credential: object, user=None, reauthenticate: bool = False
) -> PasskeyLogin:
    """Verify an assertion: passwordless (``user`` None), ``user``'s second factor or re-authentication.

    The signature counter is stored (the passkey's use).

    Refused, with nothing changed but the challenge used up: an unknown
    passkey or another user's, another origin or RP ID, a used or expired
    challenge, a bad signature, a user handle that is not the passkey's, and a
    signature counter that did not grow (a cloned authenticator, WebAuthn 6.1.1).
    """
    credential = _credential_check(credential)
    challenge, _ = _challenge_consume(state=state, purpose=_purpose(user, reauthenticate), user=user)
    passkeys = Passkey.objects.select_related("user")
    if user is not None:
        passkeys = passkeys.filter(user=user)  # another user's passkey is as unknown as none
    passkey = passkeys.filter(credential_id=credential["id"]).first()
    if passkey is None:
        raise _refused("unknown_passkey", user=getattr(user, "pk", None))
    if not passkey.user.is_active:
        raise _refused("inactive_user", user=passkey.user_id)
    handle = (credential.get("response") or {}).get("userHandle")
    if handle and handle != passkey.user_handle:
        raise _refused("user_handle_mismatch", user=passkey.user_id, passkey=passkey.pk)
    try:
        # The counter is compared below, after the signature, so a regression is logged as such.
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=conf.rp_id(),
            expected_origin=conf.origins(),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=0,
            require_user_verification=user is None,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise _refused("invalid_assertion", user=passkey.user_id, passkey=passkey.pk, detail=exc) from exc
    new_count, old_count = verified.new_sign_count, passkey.sign_count
    if (new_count or old_count) and new_count <= old_count:
        security_log.warning(
            "passkey sign counter regression user=%s passkey=%s stored=%s received=%s",
            passkey.user_id,
            passkey.pk,
            old_count,
            new_count,
        )
        raise PasskeyError("The passkey could not be verified.", code="passkey_invalid")
    # Conditional on the counter read: of two assertions racing with one counter, one is refused.
    updated = Passkey.objects.filter(pk=passkey.pk, sign_count=old_count).update(
        sign_count=new_count, last_used_at=timezone.now()
    )
    if not updated:
        raise _refused("counter_race", user=passkey.user_id, passkey=passkey.pk)
    passkey.refresh_from_db()
    key = "hwk" if passkey.device_type == "single_device" else "swk"
    # The password was the first step of a second factor; alone, the user was verified (required above).
    amr = ("pwd", key, "mfa") if user is not None else (key, "mfa")
    if reauthenticate:
        amr = (key,)  # added to what the login proved (accounts.assurance)
    return PasskeyLogin(user=passkey.user, passkey=passkey, amr=amr, user_verified=verified.user_verified)


def passkeys_list(*, user) -> list[Passkey]:
    """Return ``user``'s passkeys, oldest first, without their public keys."""
    return list(user.passkeys.defer("public_key"))


def passkey_rename(*, user, passkey_id: int, name: object) -> Passkey:
    """Rename one of ``user``'s passkeys; raise ``passkey_not_found`` for anyone else's."""
    name = _name_clean(name)
    updated = user.passkeys.filter(pk=passkey_id).update(name=name)
    if not updated:
        raise PasskeyError("No such passkey.", code="passkey_not_found")
    return user.passkeys.defer("public_key").get(pk=passkey_id)


def passkey_remove(*, user, passkey_id: int) -> None:
    """Delete one of ``user``'s passkeys; raise ``passkey_not_found`` for anyone else's."""
    deleted, _ = user.passkeys.filter(pk=passkey_id).delete()
    if not deleted:
        raise PasskeyError("No such passkey.", code="passkey_not_found")
    security_log.info("passkey removed user=%s passkey=%s", user.pk, passkey_id)
