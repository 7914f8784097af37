"""Token families: one per login, kept across refresh rotations (the unit of revocation).

SimpleJWT's ``token_blacklist`` tables stay the record of every refresh token
(``OutstandingToken``) and of every rotated-out or revoked one
(``BlacklistedToken``); ``FamilyToken`` ties each outstanding refresh token to
the family of the login it came from. The family row is the database source
of truth for "is this login revoked"; the cache only mirrors it (see
``api.revocation.family_is_revoked``), so flushing Redis loses no revocation.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken


class TokenFamily(models.Model):
    class Reason(models.TextChoices):
        LOGOUT = "logout", "logout"
        REUSE = "reuse", "refresh token reuse detected"
        REVOKE_ALL = "revoke_all", "every token of the user revoked"
        ADMIN = "admin", "revoked by an administrator"

    class Transport(models.TextChoices):
        BEARER = "bearer", "bearer (Authorization header)"
        COOKIE = "cookie", "cookie (HttpOnly)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Expiry of the newest refresh token of the family: after it nothing of the
    # family can be valid, so the row (and its cache entry) may go.
    expires_at = models.DateTimeField(db_index=True)
    # The jti of the one refresh token of this login that may still be
    # rotated; any other of its refresh tokens presented is reuse, whatever
    # the blacklist says (api.rotation.token_refresh). Empty: none may.
    current_jti = models.CharField(max_length=255, blank=True, editable=False)
    # The jti of the refresh token that ``current_jti`` replaced: the only one
    # the reuse grace may answer (RFC 9700 section 4.14.2; docs/jwt.md).
    previous_jti = models.CharField(max_length=255, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=Reason.choices, blank=True)
    # Where the login came from, so the user can recognise it in "Your JWT
    # logins" (OWASP ASVS 5.0 V7.5.2: see and end one's active logins).
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField("user agent", max_length=512, blank=True)
    transport = models.CharField(max_length=8, choices=Transport.choices, blank=True)

    class Meta:
        verbose_name = "token family"
        verbose_name_plural = "token families"
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="api_family_user_revoked"),
            # The admin's change list (newest first, one page at a time) and the device list.
            models.Index(fields=["-created_at"], name="api_family_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.pk}"


class FamilyToken(models.Model):
    """The family of one outstanding refresh token.

    Both keys are declared without a database constraint (``db_constraint=False``):
    a PostgreSQL foreign key costs a check per deleted referenced row, and
    these two made three of the five checks a pruned login cost, some 40%
    of ``jwt_prune``'s database time (docs/bench/size.md). Integrity holds without them (docs/operations.md,
    "Family links without database constraints"): a link row is written
    with its new token, in the transaction that holds its family (created
    or locked); every ORM deletion of a token or family still cascades
    here (``on_delete`` is Django's, not the database's); and the prune's
    raw statements delete the links with their tokens and families, in the
    same statement. SimpleJWT's own keys (blacklist to token, token to user)
    keep their constraints.
    """

    token = models.OneToOneField(
        OutstandingToken,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="family_link",
        db_constraint=False,
    )
    # Still indexed: the prune and revocation find a family's links by it.
    family = models.ForeignKey(
        TokenFamily, on_delete=models.CASCADE, related_name="tokens", db_constraint=False
    )

    class Meta:
        verbose_name = "family token"

    def __str__(self) -> str:
        return f"{self.token.jti} in {self.family_id}"
