"""The cache every process of the site shares: Redis with REDIS_URL, else a table of the database.

Without Redis it is this module's backend over authcache.SharedCacheEntry;
its rules are in docs/operations.md ("The shared cache without Redis").
limits.ratelimit counts with ``add``, then ``incr``: both are atomic across
processes and threads, so no parallel burst gets more attempts than the
limit (OWASP ASVS 5.0 V6.3.1).
"""

from __future__ import annotations

import base64
import pickle
from datetime import timedelta

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import IntegrityError, transaction
from django.utils import timezone

from authcache.models import SharedCacheEntry

# Django's database cache's "never expires": the largest datetime it stores.
_NEVER = timezone.make_aware(timezone.datetime(9999, 12, 31, 23, 59, 59))


def shared_cache() -> BaseCache:
    """Return the cache every process of the site shares (settings.SHARED_CACHE_ALIAS)."""
    return caches[settings.SHARED_CACHE_ALIAS]


def _encode(value: object) -> str:
    return base64.b64encode(pickle.dumps(value, pickle.HIGHEST_PROTOCOL)).decode("latin1")


def _decode(text: str) -> object:
    return pickle.loads(base64.b64decode(text.encode()))  # noqa: S301 - rows only this backend writes


class SharedDatabaseCache(BaseCache):
    """A Django cache backend over SharedCacheEntry with atomic ``add`` and ``incr`` (module docstring)."""

    def __init__(self, location, params):
        super().__init__(params)
        self.max_entries = int(params.get("OPTIONS", {}).get("MAX_ENTRIES", 300))

    def _expiry(self, timeout):
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        if timeout is None:
            return _NEVER
        return timezone.now() + timedelta(seconds=timeout or -1)  # 0: expired at once, as Django's

    def _rows(self):
        return SharedCacheEntry.objects.all()

    def get(self, key, default=None, version=None):
        return self.get_many([key], version=version).get(key, default)

    def get_many(self, keys, version=None):
        full = {self.make_and_validate_key(key, version=version): key for key in keys}
        rows = self._rows().filter(cache_key__in=list(full), expires__gt=timezone.now())
        return {full[key]: _decode(value) for key, value in rows.values_list("cache_key", "value")}

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._rows().filter(cache_key=key, expires__gt=timezone.now()).exists()

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        row = {"value": _encode(value), "expires": self._expiry(timeout)}
        with transaction.atomic():
            if not self._rows().filter(cache_key=key).update(**row):
                self.expired_rows_cull()
                try:
                    with transaction.atomic():
                        SharedCacheEntry.objects.create(cache_key=key, **row)
                except IntegrityError:  # a parallel writer created it first: the later write wins
                    self._rows().filter(cache_key=key).update(**row)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        with transaction.atomic():
            now = timezone.now()
            expires = self._rows().filter(cache_key=key).values_list("expires", flat=True).first()
            if expires is not None:
                if expires > now:
                    return False  # the common case of a counter: one statement, no failed INSERT
                self._rows().filter(cache_key=key, expires__lte=now).delete()
            self.expired_rows_cull()
            try:
                with transaction.atomic():
                    row = {"value": _encode(value), "expires": self._expiry(timeout)}
                    SharedCacheEntry.objects.create(cache_key=key, **row)
            except IntegrityError:
                return False  # of parallel callers, the primary key lets one succeed
            return True

    def incr(self, key, delta=1, version=None):
        full = self.make_and_validate_key(key, version=version)
        with transaction.atomic():
            row = self._rows().select_for_update().filter(cache_key=full, expires__gt=timezone.now()).first()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = _decode(row.value) + delta
            self._rows().filter(cache_key=full).update(value=_encode(value))
        return value

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        rows = self._rows().filter(cache_key=key, expires__gt=timezone.now())
        return bool(rows.update(expires=self._expiry(timeout)))

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return bool(self._rows().filter(cache_key=key).delete()[0])

    def delete_many(self, keys, version=None):
        keys = [self.make_and_validate_key(key, version=version) for key in keys]
        self._rows().filter(cache_key__in=keys).delete()

    def clear(self):
        self._rows().delete()

    def expired_rows_cull(self) -> None:
        # Past the bound, expired rows go; a live counter never does.
        if self._rows().count() >= self.max_entries:
            self._rows().filter(expires__lte=timezone.now()).delete()
