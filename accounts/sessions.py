"""Session engine: Django's cached_db store over accounts.Session (SESSION_ENGINE = "accounts.sessions").

Every write goes to the database first, the source of truth; reads come
from the cache through authcache.live, so a flushed or unreachable cache
costs a query, and data cached before a revocation the cache missed is never
trusted. The row has user, created, last activity, IP and user agent
(``create_model_instance``). Lifetimes (OWASP ASVS 5.0 V7.3.1 idle, V7.3.2
absolute) are checked on every read from stamps inside the session data;
last activity is written at most once per SESSION_ACTIVITY_UPDATE_INTERVAL
(docs/sessions.md).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from django.utils import timezone

from authcache.live import CacheRead, cache_epoch_hint, cache_read_many, cache_write_live, revocation_publish
from authcache.snapshots import session_snapshot_key, user_from_snapshot, user_snapshot_fill

# Keys inside the session data (underscore-prefixed like Django's own).
CREATED_KEY = "_session_created"  # epoch seconds of the login (or of the first save)
ACTIVITY_KEY = "_session_activity"  # epoch seconds of the last recorded activity
REMEMBER_KEY = "_session_remember"  # True: "remember me" lifetimes and a persistent cookie
IP_KEY = "_session_ip"
USER_AGENT_KEY = "_session_ua"

USER_AGENT_MAX_LENGTH = 512

# What the cache holds for a deleted session for a while, so that a request
# that read the row just before the deletion cannot put it back in the cache.
REVOKED_KEY = "_session_revoked"
TOMBSTONE_SECONDS = 300

# A session key as this engine makes them (Django's get_new_session_key: 32
# of VALID_KEY_CHARS); Django's own check only wants 8 characters or more.
_SESSION_KEY_FORM = re.compile(f"[{re.escape(VALID_KEY_CHARS)}]{{8,40}}")


def public_id_for(session_key: str) -> str:
    """Return the non-secret identifier of a session shown in pages and URLs.

    The session key itself is a bearer credential and never leaves the cookie
    (ASVS V7.2.3); its SHA-256 prefix identifies the row without revealing it.
    """
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]


def lifetime_seconds(*, remember: bool) -> tuple[int, int]:
    """Return (idle timeout, absolute lifetime) in seconds for a plain or a remember-me session."""
    if remember:
        return settings.SESSION_REMEMBER_IDLE_TIMEOUT, settings.SESSION_REMEMBER_ABSOLUTE_LIFETIME
    return settings.SESSION_IDLE_TIMEOUT, settings.SESSION_ABSOLUTE_LIFETIME


def lifetimes(*, remember: bool) -> tuple[timedelta, timedelta]:
    """Return (idle timeout, absolute lifetime) for a plain or a remember-me session."""
    idle, absolute = lifetime_seconds(remember=remember)
    return timedelta(seconds=idle), timedelta(seconds=absolute)


# The stamps a datetime can represent; anything else is no stamp.
_MIN_STAMP = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_MAX_STAMP = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def _stamp(value: object) -> float | None:
    """Return a stored epoch-seconds stamp, or None when ``value`` is no usable one (NaN included)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and _MIN_STAMP <= value <= _MAX_STAMP:
        return float(value)
    return None


def _ts(value: object) -> datetime | None:
    stamp = _stamp(value)
    return None if stamp is None else datetime.fromtimestamp(stamp, tz=UTC)


def session_deadline_stamps(data) -> tuple[float, float] | None:
    """Return (idle deadline, absolute deadline) of session data in epoch seconds, or None without stamps.

    Seconds, not datetimes: load() checks them on every request.
    """
    created = _stamp(data.get(CREATED_KEY))
    if created is None:
        return None
    activity = _stamp(data.get(ACTIVITY_KEY))
    idle, absolute = lifetime_seconds(remember=bool(data.get(REMEMBER_KEY)))
    return (created if activity is None else activity) + idle, created + absolute


def session_deadlines(data: dict) -> tuple[datetime, datetime] | None:
    """Return (idle deadline, absolute deadline) of session data, or None when it carries no stamps."""
    if (stamps := session_deadline_stamps(data)) is None:
        return None
    return tuple(datetime.fromtimestamp(min(stamp, _MAX_STAMP), tz=UTC) for stamp in stamps)


def session_login_stamp(session, *, ip: str | None, user_agent: str, remember: bool = False) -> None:
    """Record login time, client IP and user agent in a freshly logged-in session."""
    now = timezone.now().timestamp()
    session[CREATED_KEY] = now
    session[ACTIVITY_KEY] = now
    session[IP_KEY] = ip
    session[USER_AGENT_KEY] = (user_agent or "")[:USER_AGENT_MAX_LENGTH]
    session_remember_set(session, remember=remember)


def session_remember_set(session, *, remember: bool) -> None:
    """Switch a session between the plain and the remember-me lifetime."""
    session[REMEMBER_KEY] = bool(remember)
    # Plain: the cookie ends with the browser (expiry 0). Remember me: a
    # persistent cookie whose age get_session_cookie_age() derives from the
    # absolute deadline.
    session.set_expiry(None if remember else 0)


def _is_tombstone(value: object) -> bool:
    return isinstance(value, dict) and bool(value.get(REVOKED_KEY))


def sessions_cache_tombstone(*, session_keys: list[str]) -> None:
    """Replace the cache entries of deleted sessions with short-lived tombstones."""
    # Call inside the deleting transaction: when the cache cannot take the
    # tombstones, the revocation epoch is raised in that transaction instead.
    revocation_publish(
        entries={SessionStore.cache_key_prefix + key: {REVOKED_KEY: True} for key in session_keys},
        timeout=TOMBSTONE_SECONDS,
        alias=settings.SESSION_CACHE_ALIAS,
    )


PRUNE_BATCH = 10_000


def sessions_expired_delete(*, batch_size: int = PRUNE_BATCH, progress=None) -> int:
    """Delete every session past its expiry in batches of ``batch_size`` rows; return how many went.

    One short transaction per batch (``DELETE ... WHERE pk IN (SELECT ... LIMIT n)``),
    so the site's own writes never wait behind a million-row delete. Cache
    entries expire with the session, and load() refuses an expired one.
    ``progress(done)`` is called after each batch.
    """
    model = SessionStore.get_model_class()
    now = timezone.now()
    done = 0
    while True:
        batch = model.objects.filter(expire_date__lt=now).order_by().values("pk")[:batch_size]
        with transaction.atomic():
            deleted, _ = model.objects.filter(pk__in=batch).delete()
        if not deleted:
            return done
        done += deleted
        if progress is not None:
            progress(done)


class SessionStore(CachedDBStore):
    cache_key_prefix = "accounts.sessions"

    @classmethod
    def clear_expired(cls) -> None:
        # clearsessions' hook: in batches, not one statement over every expired row.
        sessions_expired_delete()

    @classmethod
    def get_model_class(cls):
        # From the app registry: the model module names this store in turn.
        return apps.get_model("accounts", "Session")

    def _validate_session_key(self, key) -> bool:
        # Django only checks the length; a cookie with a NUL byte would then
        # reach PostgreSQL and fail as a 500. Keys are ours: 32 chars of
        # VALID_KEY_CHARS, so anything else is simply no session.
        return isinstance(key, str) and _SESSION_KEY_FORM.fullmatch(key) is not None

    def get_session_cookie_age(self) -> int:
        # The cookie (and the cache entry) last until the absolute deadline;
        # the idle deadline is enforced in load() and by expire_date.
        deadlines = session_deadline_stamps(self)
        if deadlines is None:
            return super().get_session_cookie_age()
        return max(0, int(deadlines[1] - timezone.now().timestamp()))

    def load(self) -> dict:
        # cached_db's load(), except: the cache is read through authcache.live
        # (unreachable or an older revocation epoch: the database); it is
        # filled with add(), so a revocation's tombstone written meanwhile
        # wins; the lifetimes are checked; and the user's snapshot comes in
        # the same round trip (authcache.snapshots), so a warm request reads
        # no database at all.
        reads = cache_read_many(
            keys=[self.cache_key, self.user_snapshot_key], alias=settings.SESSION_CACHE_ALIAS
        )
        read = reads[self.cache_key]
        self._user_snapshot_read = reads[self.user_snapshot_key]
        self._epoch = read.epoch  # read before the database: a safe stamp for save()
        # Only what this engine wrote counts: live data valid under the
        # current epoch, or a tombstone.
        data = read.value if read.live or _is_tombstone(read.value) else None
        if data is None:
            row = self.row_read()
            if row is None:
                self._session_key = None  # as Django's load(): a missing row ends the key
                return {}
            data = self.decode(row.session_data)
            cache_write_live(
                key=self.cache_key,
                payload=data,
                epoch=read.epoch,
                stale=read.stale,
                timeout=self.get_expiry_age(expiry=row.expire_date),
                alias=settings.SESSION_CACHE_ALIAS,
            )
        if not isinstance(data, dict) or _is_tombstone(data):
            self._session_key = None
            return {}
        data = dict(data)  # never mutate an object the cache backend may hand out again
        now = timezone.now().timestamp()
        deadlines = session_deadline_stamps(data)
        if deadlines is not None and now >= min(deadlines):
            # Expired server-side: the row and the cache entry go now, not at
            # the next clearsessions (ASVS V7.3.1, V7.3.2).
            self.delete()
            self._session_key = None
            return {}
        activity = _stamp(data.get(ACTIVITY_KEY))
        if deadlines is not None and (
            activity is None or now - activity >= settings.SESSION_ACTIVITY_UPDATE_INTERVAL
        ):
            data[ACTIVITY_KEY] = now
            self.modified = True
            self._activity_only = dict(data)  # what save() writes when nothing else changes
        return data

    def row_read(self):
        """Return this session's unexpired row, or None (Django's own query and security log)."""
        try:
            return self.model.objects.get(session_key=self.session_key, expire_date__gt=timezone.now())
        except (self.model.DoesNotExist, SuspiciousOperation) as error:
            if isinstance(error, SuspiciousOperation):
                logging.getLogger(f"django.security.{type(error).__name__}").warning(str(error))
            return None

    @property
    def user_snapshot_key(self) -> str:
        return session_snapshot_key(self.session_key or "")

    def user_get(self, user_id):
        """Return the session's user ``user_id``: from the snapshot read with the data, else the database.

        The authentication backend's get_user() (accounts.backends) asks here.
        """
        self.get(SESSION_KEY)  # loads the data, and the snapshot read with it
        read = getattr(self, "_user_snapshot_read", None) or CacheRead(value=None, epoch=None)
        if read.live:
            user = user_from_snapshot(read.value, user_id=user_id)
            if user is not None:
                return user
        return user_snapshot_fill(
            key=self.user_snapshot_key, user_id=user_id, read=read, alias=settings.SESSION_CACHE_ALIAS
        )

    def exists(self, session_key) -> bool:
        # The database decides (cached_db asks the cache first, which may be down).
        return DBStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        # The epoch read before this session's data was read (load), or, for
        # a new session, one taken before its row is written.
        alias = settings.SESSION_CACHE_ALIAS
        epoch = self._epoch if hasattr(self, "_epoch") else cache_epoch_hint(alias=alias)
        activity_only = getattr(self, "_activity_only", None)
        if not must_create and activity_only is not None and activity_only == dict(self.items()):
            self.activity_save(activity_only)
        else:
            DBStore.save(self, must_create=must_create)
        payload, key, timeout = dict(self.items()), self.cache_key, self.get_expiry_age()
        cache_write_live(key=key, payload=payload, epoch=epoch, timeout=timeout, add=False, alias=alias)

    def activity_save(self, data: dict) -> None:
        """Write the new activity stamp: one UPDATE of the columns it moves (the rest is unchanged).

        No transaction: SQLite's write lock is held for the statement, not across Python code.
        """
        updated = self.model.objects.filter(session_key=self.session_key).update(
            session_data=self.encode(data),
            expire_date=min(session_deadlines(data)),
            last_activity=_ts(data[ACTIVITY_KEY]),
        )
        if not updated:
            raise UpdateError  # the row went away meanwhile: as Django's save()

    def delete(self, session_key=None) -> None:
        session_key = session_key or self.session_key
        if not session_key:
            return
        with transaction.atomic():
            DBStore.delete(self, session_key)
            sessions_cache_tombstone(session_keys=[session_key])

    def create_model_instance(self, data: dict):
        now = timezone.now()
        if CREATED_KEY not in data:
            # An anonymous session (e.g. a password reset in progress) gets
            # the plain lifetimes too; login() replaces these stamps.
            data[CREATED_KEY] = data[ACTIVITY_KEY] = now.timestamp()
        deadlines = session_deadlines(data)
        instance = super().create_model_instance(data)
        instance.expire_date = min(deadlines) if deadlines else instance.expire_date
        instance.public_id = public_id_for(instance.session_key)
        instance.user_id = self._user_pk(data)
        instance.created_at = _ts(data.get(CREATED_KEY)) or now
        instance.last_activity = _ts(data.get(ACTIVITY_KEY)) or now
        instance.ip = data.get(IP_KEY) or None
        instance.user_agent = str(data.get(USER_AGENT_KEY) or "")[:USER_AGENT_MAX_LENGTH]
        instance.remember_me = bool(data.get(REMEMBER_KEY))
        return instance

    @staticmethod
    def _user_pk(data: dict):
        raw = data.get(SESSION_KEY)
        if raw is None:
            return None
        try:
            return get_user_model()._meta.pk.to_python(raw)
        except ValidationError:
            return None

    # The async twins run the methods above in a thread: cached_db's own
    # would read the cache entry without its epoch and write no tombstone.
    aload = sync_to_async(load)
    aexists = sync_to_async(exists)
    asave = sync_to_async(save)
    adelete = sync_to_async(delete)
    acreate_model_instance = sync_to_async(create_model_instance)
