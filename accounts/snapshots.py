"""User snapshots: the user of an authenticated request from the cache, so a warm request reads no database.

What the authenticated path, ``/api/me/`` and the account pages need of the
user (id, names, email, ``is_active``, the staff flags, last login, date
joined and the session auth hash, never the password hash) is cached as a
live entry under the revocation epoch (accounts.cachesafe) and read in the
SAME round trip as the credential's own entry: a JWT's family verdict and
``user:snap:<id>`` (the token names both), a session's data and
``<session key>:user`` (the session key names both). The user built from it
(``user_from_snapshot``) is a model instance whose other fields (the
password hash, the canonical username, its skeleton and rank) are deferred: reading one loads it
from the database, and ``save()`` writes only the loaded fields.

Invalidation: every save of a user that touches a snapshot field or the
password, and every deletion (accounts.signals), calls
``user_snapshot_invalidate``, in the writer's process, at once and again
after the commit:

- Services mode (Redis): INCR the user's version key ``user:v:<id>``, then
  DEL the user's snapshot keys (JWT and every session of the user), in one
  pipeline. A reader that read the row before the change must not re-add a
  stale snapshot: it reads the version BEFORE its database read and again
  AFTER its add(); when the version moved it deletes what it added. Either
  its add() came before the writer's DEL (which removes it) or its second
  read sees the writer's INCR (it removes it itself). Snapshot keys are never
  revocation markers, so that DEL can never remove one.
- Redis unreachable for the writer: ``cache_epoch_bump`` raises the
  database epoch, so every live entry (snapshots included) is refused by
  every process, as for a revocation the cache missed.
- Embedded default (per-process cache): the stamp file is the epoch; it is
  bumped after the commit, so every process, other processes included
  (``manage.py shell``, cron), stops trusting every live entry at once.

Revocations do not rely on the snapshot alone: a password change,
deactivation or deletion also ends every session and token family
(accounts.services.user_revoke_all), whose markers are read in the same
round trip. The remaining window is a writer process that dies between its
commit and the invalidation after it: a reader that read the old row before
the commit may then keep a stale snapshot for USER_SNAPSHOT_SECONDS.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from accounts.cachesafe import (
    DEFAULT,
    CacheRead,
    CacheUnavailable,
    _shared,
    cache_call,
    cache_epoch_bump,
    cache_guard,
    cache_read_many,
    cache_write_live,
)
from accounts.nearcache import near_forget

# What a snapshot holds, besides the session auth hash.
SNAPSHOT_FIELDS = (
    "id", "username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser",
    "last_login", "date_joined",
)  # fmt: skip
# A save that touches any of these (or does not say which fields) changes the snapshot.
_WATCHED = frozenset({*SNAPSHOT_FIELDS, "password"})
_HASH = "session_hash"
_KEY_ID = "key_id"
SESSION_SNAPSHOT_PREFIX = "accounts.sessions.user:"


def user_snapshot_key(user_id: object) -> str:
    return f"user:snap:{user_id}"


def user_version_key(user_id: object) -> str:
    return f"user:v:{user_id}"


def session_snapshot_key(session_key: str) -> str:
    return SESSION_SNAPSHOT_PREFIX + session_key


@cache
def _secret_key_id(secret_key: str) -> str:
    # The session auth hash is an HMAC under SECRET_KEY: a snapshot made under
    # another key (a rotation) is not used; Django's own check then runs.
    return hashlib.sha256(secret_key.encode()).hexdigest()[:16]


@cache
def _user_build_plan() -> tuple[type, list[str], bool]:
    """Return the user model, the snapshot's fields in its field order, and whether to build directly.

    Directly: what ``from_db()`` leaves behind, without ``Model.__init__``'s
    walk over every field (most of the cost of a warm request's user). Only
    for a model whose construction does nothing more: Django's __init__,
    this project's from_db(), and plain (non-data) descriptors on the
    loaded fields; the pre_init/post_init signals are checked on each build.
    """
    from accounts.models import USER_FROM_DB

    model = get_user_model()
    names = [f.attname for f in model._meta.concrete_fields if f.attname in SNAPSHOT_FIELDS]
    direct = (
        model.__init__ is Model.__init__
        and inspect.getattr_static(model, "from_db", None) is USER_FROM_DB
        and all(not hasattr(type(inspect.getattr_static(model, name, None)), "__set__") for name in names)
    )
    return model, names, direct


def _user_build(snapshot: dict):
    model, names, direct = _user_build_plan()
    if not direct or pre_init.has_listeners(model) or post_init.has_listeners(model):
        # from_db() takes the values in the model's field order; the rest is deferred.
        return model.from_db(DEFAULT_DB_ALIAS, names, [snapshot[name] for name in names])
    user = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = DEFAULT_DB_ALIAS
    attrs = user.__dict__
    attrs["_state"] = state
    for name in names:
        attrs[name] = snapshot[name]
    user.password_hash_track()  # as the project's from_db() does
    return user


def user_snapshot_make(user) -> dict:
    """Return the snapshot of ``user`` (a model instance with its password loaded)."""
    snapshot = {name: getattr(user, name) for name in SNAPSHOT_FIELDS}
    snapshot[_HASH] = user.get_session_auth_hash()
    snapshot[_KEY_ID] = _secret_key_id(settings.SECRET_KEY)
    return snapshot


def user_from_snapshot(snapshot: object, *, user_id: object):
    """Return the user of a snapshot of ``user_id``, or None when it is no usable snapshot."""
    if not isinstance(snapshot, dict) or snapshot.get(_KEY_ID) != _secret_key_id(settings.SECRET_KEY):
        return None
    if str(snapshot.get("id")) != str(user_id):
        return None
    user = _user_build(snapshot)
    user._session_auth_hash_cached = snapshot[_HASH]
    return user


def user_snapshot_fill(*, key: str, user_id: object, read: CacheRead, version: object = None,
                       version_known: bool = False, alias: str = DEFAULT):
    """Return the user ``user_id`` from the database (None if absent) and cache its snapshot at ``key``.

    ``read`` is the cache read of ``key`` made before this call (its epoch
    stamps the entry); ``version`` the user's version key as read before the
    database read (read here when not ``version_known``).
    """
    shared = _shared(alias)
    if shared and read.epoch is not None and not version_known:
        try:
            version = cache_call("get", user_version_key(user_id), alias=alias)
        except CacheUnavailable:
            read = CacheRead(value=None, epoch=None)  # do not write back
    try:
        user = get_user_model()._default_manager.filter(pk=user_id).first()
    except (ValueError, TypeError):
        return None
    if user is None or read.epoch is None:
        return user
    # set, not add: a snapshot key never holds a revocation marker, and a
    # stale entry left by an older epoch must be replaced, not kept as a
    # permanent miss. An older reader's set is harmless: its entry carries
    # the older epoch (embedded) or is taken back below (services).
    cache_write_live(
        key=key, payload=user_snapshot_make(user), epoch=read.epoch,
        timeout=settings.USER_SNAPSHOT_SECONDS, add=False, alias=alias,
    )  # fmt: skip
    if shared:
        # The version moved since it was read: a change committed around the
        # database read, so what was just added may be stale. Take it back.
        with contextlib.suppress(CacheUnavailable):
            if cache_call("get", user_version_key(user_id), alias=alias) != version:
                cache_call("delete", key, alias=alias)
    return user


def user_snapshot_keys(user_id: object, *, alias: str = DEFAULT) -> list[str]:
    """Return the keys ``user_from_reads`` needs, read in one round trip.

    The user's snapshot, and with a shared cache its version (the embedded
    default invalidates by epoch and has no version key).
    """
    key = user_snapshot_key(user_id)
    return [key, user_version_key(user_id)] if _shared(alias) else [key]


def user_from_reads(*, user_id: object, reads: dict[str, CacheRead], alias: str = DEFAULT):
    """Return the user ``user_id`` from ``reads`` of ``user_snapshot_keys``, or from the database.

    None if there is no such user. A miss is read from the database and
    cached again (``user_snapshot_fill``).
    """
    key = user_snapshot_key(user_id)
    user = user_from_snapshot(reads[key].value, user_id=user_id) if reads[key].live else None
    if user is None:
        version = reads.get(user_version_key(user_id))
        user = user_snapshot_fill(
            key=key, user_id=user_id, read=reads[key], version=None if version is None else version.value,
            version_known=True, alias=alias,
        )  # fmt: skip
    return user


def user_cached(user_id: object, *, alias: str = DEFAULT):
    """Return the user ``user_id`` (None if absent): warm, one cache round trip and no query."""
    reads = cache_read_many(keys=user_snapshot_keys(user_id, alias=alias), alias=alias)
    return user_from_reads(user_id=user_id, reads=reads, alias=alias)


def user_snapshot_changed(*, update_fields) -> bool:
    """Return whether a save with ``update_fields`` (None: every field) may change the snapshot."""
    return update_fields is None or bool(_WATCHED.intersection(update_fields))


def user_snapshot_invalidate(*, user_id: object, alias: str = DEFAULT) -> None:
    """Drop every cached snapshot of ``user_id`` in every process, now and again after the commit."""
    _invalidate(user_id, alias)
    transaction.on_commit(lambda: _invalidate(user_id, alias, after_commit=True))


def _invalidate(user_id: object, alias: str, *, after_commit: bool = False) -> None:
    if not _shared(alias):
        # Embedded: the epoch is the stamp file (bumped after the commit), and
        # this process's own entries go now.
        if not after_commit:
            with contextlib.suppress(CacheUnavailable):
                cache_call("delete_many", _snapshot_keys(user_id), alias=alias)
            cache_epoch_bump(alias=alias)
        return
    cache = caches[alias]
    keys = _snapshot_keys(user_id)
    try:
        with cache_guard():
            pipe = cache.client.get_client(write=True).pipeline(transaction=True)
            version = cache.make_key(user_version_key(user_id))
            pipe.incr(version)
            pipe.expire(version, settings.USER_SNAPSHOT_SECONDS * 2)
            pipe.delete(*[cache.make_key(key) for key in keys])
            try:
                pipe.execute()
            finally:
                near_forget(alias=alias, keys=[user_version_key(user_id), *keys])
    except CacheUnavailable:
        if after_commit:
            with transaction.atomic():
                cache_epoch_bump(alias=alias)
        else:
            cache_epoch_bump(alias=alias)


def _snapshot_keys(user_id: object) -> list[str]:
    from accounts.models import Session

    session_keys = Session.objects.filter(user_id=user_id).values_list("session_key", flat=True)
    return [user_snapshot_key(user_id), *(session_snapshot_key(key) for key in session_keys)]
