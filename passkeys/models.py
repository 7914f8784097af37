"""A user's passkeys, and the single-use challenges of the ceremonies in progress."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Passkey(models.Model):
    """A WebAuthn credential: its id and public key (the private key never leaves the authenticator)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    # base64url, as the browser sends it; WebAuthn caps credential ids at 1023 bytes.
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE_Key, as attested
    sign_count = models.PositiveBigIntegerField(default=0)
    # Comma-separated transport hints ("internal,hybrid"): a plain column, checked without a database.
    transports = models.CharField(max_length=128, blank=True)
    # The WebAuthn user handle of the account (random, no personal data; WebAuthn 14.6.1).
    user_handle = models.CharField(max_length=128)
    # "single_device" (hardware-bound) or "multi_device" (synced): amr "hwk" or "swk".
    device_type = models.CharField(max_length=16)
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return self.name


class PasskeyChallenge(models.Model):
    """A ceremony's challenge, kept server-side and deleted by its one use (WebAuthn 13.4.3)."""

    class Purpose(models.TextChoices):
        REGISTER = "register"
        LOGIN = "login"
        SECOND_FACTOR = "second_factor"
        REAUTHENTICATE = "reauthenticate"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    challenge = models.CharField(max_length=128)  # base64url
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    # The user of a registration, a second-factor step or a re-authentication; none for a passwordless login.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    # A registration's user handle, as sent in its options (the account's first passkey makes it).
    user_handle = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.purpose} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
