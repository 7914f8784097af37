"""Email addresses: one is attached to an account only once its owner follows the signed link sent to it.

Asking for an address (signup, profile page, ``PATCH /api/me/``) answers the
same whether or not another account holds it, as django-allauth's "prevent
enumeration" (OWASP ASVS 5.0 V6.3.8): a free address is sent a confirmation
link, a taken one a notice to its owner; the caller learns nothing either
way. ``User.email`` holds only a confirmed address (or one an administrator
set), so a password reset mails confirmed addresses only.

The link carries a signed, timestamped token (django.core.signing): the user
id, the new address and a digest of the user's state when it was asked for
(address and password). Following it changes that state, so a link works
once; a password change voids every pending link; after
``EMAIL_CONFIRMATION_TIMEOUT`` seconds it has expired. Two accounts
confirming one address race on the database's unique constraint, never on a
prior read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from limits.ratelimit import address_mail_register

security_log = logging.getLogger("authdemo.security")

TOKEN_SALT = "accounts.emails.confirmation"

LINK_INVALID = "This confirmation link is invalid, has expired or has already been used."
ADDRESS_TAKEN = (
    "This address has meanwhile been confirmed by another account, so it cannot be attached to this one."
)


_PAYLOAD_TYPES = (("u", int), ("e", str), ("s", str))


@dataclass(frozen=True)
class EmailChange:
    """A confirmed (or confirmable) change of ``user``'s address to ``email``."""

    user: object
    email: str


def _state_digest(user) -> str:
    # The session auth hash is an HMAC of the password hash: a new password
    # voids the links, and the digest reveals neither the address nor the hash.
    state = f"{user.email}\x00{user.get_session_auth_hash()}"
    return salted_hmac(TOKEN_SALT, state, algorithm="sha256").hexdigest()


def email_confirmation_token_make(*, user, email: str) -> str:
    """Return a signed token that attaches ``email`` to ``user`` while the user's state is unchanged."""
    payload = {"u": user.pk, "e": email, "s": _state_digest(user)}
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def _site() -> dict[str, str]:
    # Links use SITE_URL, never the request's Host header (link poisoning).
    site = urlsplit(settings.SITE_URL)
    return {"site_url": settings.SITE_URL, "site_name": site.netloc}


def _mail(*, template: str, to: str, context: dict) -> None:
    # Past the per-inbox limit nothing is sent, and the caller answers as
    # usual: the same whether the address is free or taken (no enumeration).
    if address_mail_register(email=to).limited:
        security_log.info("mail to one address over its limit: not sent (%s)", template)
        return
    context = {**_site(), **context}
    subject = render_to_string(f"accounts/{template}_subject.txt", context).strip()
    body = render_to_string(f"accounts/{template}_email.txt", context)
    send_mail(subject, body, None, [to])


def email_change_request(*, user, email: str) -> bool:
    """Send ``email`` a confirmation link for ``user``, or its owner a notice if another account holds it.

    Return False, sending nothing, when ``email`` is the user's address
    already; True otherwise, whoever holds the address (no enumeration).
    """
    email = get_user_model().objects.normalize_email(email)
    if not email:
        raise ValueError("an address is required")
    if email == user.email:
        return False
    holder = get_user_model()._default_manager.filter(email__iexact=email).exclude(pk=user.pk).first()
    if holder is not None:
        # One mail either way, so the answer takes about as long for both.
        _mail(template="email_taken", to=holder.email, context={"email": holder.email})
        security_log.info("email change to an address another account holds user=%s", user.pk)
        return True
    token = email_confirmation_token_make(user=user, email=email)
    url = settings.SITE_URL + reverse("accounts:email_confirm", args=[token])
    days = max(1, round(settings.EMAIL_CONFIRMATION_TIMEOUT / 86400))
    _mail(
        template="email_confirm",
        to=email,
        context={"email": email, "url": url, "user": user, "days": days},
    )
    security_log.info("email confirmation sent user=%s", user.pk)
    return True


def email_confirmation_check(*, token: str, for_update: bool = False) -> EmailChange:
    """Return the change ``token`` stands for; raise ValidationError ``invalid`` if bad, expired or used."""
    invalid = ValidationError(LINK_INVALID, code="invalid")
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=settings.EMAIL_CONFIRMATION_TIMEOUT)
    except signing.BadSignature as exc:  # SignatureExpired included
        raise invalid from exc
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), t) for k, t in _PAYLOAD_TYPES):
        raise invalid
    users = get_user_model()._default_manager.filter(pk=payload["u"], is_active=True)
    if for_update:
        users = users.select_for_update()
    user = users.first()
    if user is None or not constant_time_compare(_state_digest(user), payload["s"]):
        raise invalid
    return EmailChange(user=user, email=payload["e"])


def email_confirm(*, token: str) -> EmailChange:
    """Attach the token's address to its user, or raise ValidationError (``invalid``, ``email_taken``).

    A refused link changes nothing. The user's previous address is told of
    the change (OWASP ASVS 5.0 V6.3.7).
    """
    with transaction.atomic():
        # The row stays locked until commit: the same link followed twice at
        # once confirms once; the second sees the new state and is refused.
        change = email_confirmation_check(token=token, for_update=True)
        user = change.user
        previous = user.email
        user.email = change.email
        try:
            with transaction.atomic():
                user.save(update_fields=["email"])
        except IntegrityError as exc:
            # Another account confirmed the address since the link was sent:
            # the unique constraint, not a prior read, decides the race.
            security_log.info("email confirmation refused, address taken user=%s", user.pk)
            raise ValidationError(ADDRESS_TAKEN, code="email_taken") from exc
    security_log.info("email confirmed user=%s", user.pk)
    if previous:
        _mail(template="email_changed", to=previous, context={"email": change.email, "user": user})
    return change
