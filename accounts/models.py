"""The one user model that session and JWT authentication share."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username):
        # Usernames are unique case-insensitively (see the constraint below), so
        # "Alice" logs in as "alice": one account, one rate-limit counter.
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractUser):
    email = models.EmailField("email address", blank=False)

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]


class Session(AbstractBaseSession):
    """A server-side session that knows its user, device and activity (docs/sessions.md).

    Written only by the session engine (accounts.sessions.SessionStore) and
    deleted only through accounts.services, which also drops the cache entry.
    """

    # The primary key is a digest of the session key, not the key itself, so
    # admin URLs, checkboxes and log lines never carry a credential
    # (OWASP ASVS 5.0 V7.2.3); the engine derives it on every save.
    public_id = models.CharField("id", max_length=32, primary_key=True, editable=False)
    session_key = models.CharField("session key", max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sessions",
    )
    created_at = models.DateTimeField("created")
    last_activity = models.DateTimeField("last activity")
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField("user agent", max_length=512, blank=True)
    remember_me = models.BooleanField(default=False)

    class Meta(AbstractBaseSession.Meta):
        indexes = [models.Index(fields=["user", "expire_date"], name="accounts_session_user_exp")]

    def __str__(self) -> str:
        return f"session {self.public_id[:8]}"

    @property
    def absolute_expiry(self):
        """Return the instant this session ends however active it is (absolute lifetime)."""
        from accounts.sessions import lifetimes

        return self.created_at + lifetimes(remember=self.remember_me)[1]

    @classmethod
    def get_session_store_class(cls):
        from accounts.sessions import SessionStore

        return SessionStore


class RevocationEpoch(models.Model):
    """One row: bumped by a revocation that could not be published to the cache (accounts.cachesafe)."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "revocation epoch"

    def __str__(self) -> str:
        return f"revocation epoch {self.value}"
