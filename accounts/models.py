"""The one user model that session and JWT authentication share."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from usernames import username_canonical, username_lookalike_validate, username_skeleton


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username):
        # An exact match on the canonical form, the same key the login limiter
        # counts under (limits.ratelimit): "Alice" and its fullwidth form reach "alice"
        # under one counter; no spelling reaches an account under another.
        return self.get(username_key=username_canonical(username))

    def username_lookalike_check(self, username: str, *, exclude_pk=None) -> None:
        """Raise ValidationError if ``username`` mixes scripts or looks like another user's name."""
        others = self.all() if exclude_pk is None else self.exclude(pk=exclude_pk)
        username_lookalike_validate(username, users=others)

    # Every way of creating a user in code (the shell, createsuperuser, which
    # reports a ValidationError as a CommandError) applies the look-alike rule.
    def create_user(self, username, email=None, password=None, **extra_fields):
        self.username_lookalike_check(self.model.normalize_username(username))
        return super().create_user(username, email, password, **extra_fields)

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        self.username_lookalike_check(self.model.normalize_username(username))
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    # A confirmed address, or blank: an address a user gives is attached only
    # once its owner follows the signed link sent to it (accounts.emails).
    email = models.EmailField("email address", blank=True)
    # username_canonical(username), kept by save(); unique, so two usernames
    # that differ only by case or compatibility form cannot both exist.
    # QuerySet.update(username=...) bypasses save(): set all three there.
    username_key = models.TextField("canonical username", unique=True, editable=False)
    # username_skeleton(username), kept by save() with username_key. Unique
    # with username_lookalike_rank, which is 0 for every user but those that
    # already looked like an earlier user when the rule came (1, 2, ...: they
    # keep their names): so the database refuses a look-alike that two
    # concurrent signups both saw as free, and the pair's index serves the
    # look-alike lookup (usernames.username_lookalike_validate).
    username_skeleton = models.TextField("username skeleton", editable=False)
    username_lookalike_rank = models.PositiveSmallIntegerField("look-alike rank", default=0, editable=False)

    objects = UserManager()

    # The password hash as last read from or written to the database, so the
    # post_save receiver (accounts.signals) can tell that it changed, however
    # it changed: set_password(), set_unusable_password(), a hash assigned in
    # the shell. None: not known (deferred, or never saved).
    _password_hash_saved: str | None = None
    # True while check_password() runs: a hash upgrade it saves is not a change.
    _password_checking = False

    USERNAME_TAKEN = "A user with that username already exists."

    def clean(self):
        super().clean()
        key = username_canonical(self.get_username())
        users = type(self)._default_manager
        if key and users.filter(username_key=key).exclude(pk=self.pk).exists():
            raise ValidationError({"username": self.USERNAME_TAKEN}, code="unique")
        # Only a new or changed name: an existing user keeps the name it has.
        if self._state.adding or not users.filter(pk=self.pk, username=self.get_username()).exists():
            try:
                users.username_lookalike_check(self.get_username(), exclude_pk=self.pk)
            except ValidationError as exc:
                raise ValidationError({"username": exc.error_list}) from None

    def save(self, *args, **kwargs):
        self.username_key = username_canonical(self.get_username())
        self.username_skeleton = username_skeleton(self.get_username())
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_key", "username_skeleton"}
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.password_hash_track()
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self.password_hash_track()

    def password_hash_track(self) -> None:
        """Record the current password hash as the one the database holds."""
        self._password_hash_saved = self.__dict__.get("password")

    def password_hash_changed(self) -> bool:
        """Return whether the hash differs from the saved one, other than by a hash upgrade at login."""
        if self._password_checking:
            return False
        if self._password is not None:  # set_password() since the last save
            return True
        saved = self._password_hash_saved
        return saved is not None and self.__dict__.get("password", saved) != saved

    def get_session_auth_hash(self):
        # A user built from its cached snapshot (authcache.snapshots) carries
        # the hash instead of the password hash, which stays deferred.
        cached = self.__dict__.get("session_auth_hash_cached")
        if cached is not None and "password" not in self.__dict__:
            return cached
        return super().get_session_auth_hash()

    def check_password(self, raw_password):
        self._password_checking = True
        try:
            return super().check_password(raw_password)
        finally:
            self._password_checking = False

    async def acheck_password(self, raw_password):
        self._password_checking = True
        try:
            return await super().acheck_password(raw_password)
        finally:
            self._password_checking = False

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        # The admin's search by username prefix (siteadmin.lists) on PostgreSQL:
        # LIKE 'prefix%' uses a btree only under text_pattern_ops (ignored elsewhere).
        indexes = [
            models.Index(
                fields=["username_key"], opclasses=["text_pattern_ops"], name="accounts_user_key_prefix"
            ),
        ]
        constraints = [
            # Unique case-insensitively among set addresses; any number of users have none.
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="accounts_user_email_ci_unique",
                violation_error_code="email_taken",
                violation_error_message="A user with that email address already exists.",
            ),
            models.UniqueConstraint(
                fields=["username_skeleton", "username_lookalike_rank"], name="accounts_user_skeleton_unique"
            ),
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
        indexes = [
            models.Index(fields=["user", "expire_date"], name="accounts_session_user_exp"),
            # The admin's change list, newest activity first, one page at a time.
            models.Index(fields=["-last_activity"], name="accounts_session_activity"),
        ]

    def __str__(self) -> str:
        return f"session {self.public_id[:8]}"

    @property
    def absolute_expiry(self):
        """Return the instant this session ends however active it is (absolute lifetime)."""
        from accounts.sessions import lifetimes

        return self.created_at + lifetimes(remember=self.remember_me)[1]

    @property
    def amr(self) -> tuple[str, ...]:
        """Return how the session's user authenticated (RFC 8176 amr; empty if not recorded)."""
        from accounts.assurance import session_assurance

        proven = session_assurance(self.get_decoded())
        return proven.amr if proven else ()

    @classmethod
    def get_session_store_class(cls):
        from accounts.sessions import SessionStore

        return SessionStore

