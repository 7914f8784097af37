"""User snapshots: the user of an authenticated request from the cache, so a warm request reads no database.

A snapshot holds what the authenticated path needs of a user (never the
password hash), as a live entry (authcache.live) read in the same round trip
as the credential's own entry: ``user:snap:<id>`` beside a JWT's family
verdict, ``<session key>:user`` beside a session's data. The user built from
it is ``from_db()``'s instance with the other fields deferred. Invalidation
and the reader's discipline are in docs/operations.md ("User snapshots").
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS

from authcache.conf import setting
from authcache.guard import DEFAULT, CacheUnavailable, cache_call
from authcache.live import CacheRead, cache_invalidate, cache_read_many, cache_shared, cache_write_live

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
def _snapshot_fields(model: type) -> list[str]:
    # from_db() takes the values in the model's field order; the rest is deferred.
    return [f.attname for f in model._meta.concrete_fields if f.attname in SNAPSHOT_FIELDS]


def snapshot_seconds() -> int:
    """Return a new snapshot's lifetime: at most USER_SNAPSHOT_SECONDS, at least half of it.

    Snapshots filled together (after a deploy or a flushed cache, or for
    clients that arrived together) then expire spread over that second
    half, not in the same second.
    """
    seconds = int(setting("USER_SNAPSHOT_SECONDS"))
    return seconds - random.randrange(seconds // 2 + 1)  # noqa: S311 - spreading load, not a secret


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
    model = get_user_model()
    names = _snapshot_fields(model)
    user = model.from_db(DEFAULT_DB_ALIAS, names, [snapshot[name] for name in names])
    user.session_auth_hash_cached = snapshot[_HASH]
    return user


def user_snapshot_fill(
    *,
    key: str,
    user_id: object,
    read: CacheRead,
    version: object = None,
    version_known: bool = False,
    alias: str = DEFAULT,
):
    """Return the user ``user_id`` from the database (None if absent) and cache its snapshot at ``key``.

    ``read`` is the cache read of ``key`` made before this call (its epoch
    stamps the entry); ``version`` the user's version key as read before the
    database read (read here when not ``version_known``).
    """
    shared = cache_shared(alias=alias)
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
    # set, not add: a snapshot key never holds a revocation marker.
    cache_write_live(
        key=key, payload=user_snapshot_make(user), epoch=read.epoch,
        timeout=snapshot_seconds(), add=False, alias=alias,
    )  # fmt: skip
    if shared:
        # The version moved since it was read: a change committed around the
        # database read, so what was just written may be stale. Take it back.
        with contextlib.suppress(CacheUnavailable):
            if cache_call("get", user_version_key(user_id), alias=alias) != version:
                cache_call("delete", key, alias=alias)
    return user


def user_snapshot_keys(user_id: object, *, alias: str = DEFAULT) -> list[str]:
    """Return the keys ``user_from_reads`` needs, read in one round trip (with Redis, the version too)."""
    key = user_snapshot_key(user_id)
    return [key, user_version_key(user_id)] if cache_shared(alias=alias) else [key]


def user_from_reads(*, user_id: object, reads: dict[str, CacheRead], alias: str = DEFAULT):
    """Return the user ``user_id`` from ``reads`` of ``user_snapshot_keys``, else from the database."""
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


def user_snapshot_invalidate(*, user_id: object, session_keys: list[str], alias: str = DEFAULT) -> None:
    """Drop every cached snapshot of ``user_id`` (its own, those beside ``session_keys``) in every process."""
    keys = [user_snapshot_key(user_id), *(session_snapshot_key(key) for key in session_keys)]
    cache_invalidate(keys=keys, counter=user_version_key(user_id), alias=alias)
