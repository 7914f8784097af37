"""The embedded default's per-process cache: Django's local-memory cache, with cheaper reads.

Three changes, all on reads; writes, expiry and culling stay Django's:

- A read hands out a fresh copy of the value decoded at its previous read
  (accounts.decoded) instead of unpickling the same bytes again; values
  that are not plain data are still unpickled every time. Either way no two
  readers share a mutable object, as with Django's backend.
- ``get_many`` reads every key under one acquisition of the lock, instead
  of one ``get`` (and one lock) per key.
- Keys are not checked for memcached's limits (Django's check only warns).
"""

from __future__ import annotations

from django.core.cache.backends.locmem import LocMemCache

from accounts.decoded import DecodedEntries

# One per cache name, like the stores themselves (Django's locmem keeps them
# per name in its module, shared by every thread's instance).
_decoded: dict[str, DecodedEntries] = {}


class ProcessMemoryCache(LocMemCache):
    """``django.core.cache.backends.locmem.LocMemCache`` whose reads reuse decoded values."""

    def __init__(self, name, params):
        super().__init__(name, params)
        self._decoded = _decoded.setdefault(name, DecodedEntries(self._max_entries))

    def validate_key(self, key):
        # Django's check only warns about keys memcached would refuse; this
        # cache never hands its keys to memcached, and the check (a regex
        # and a generator) costs as much as the read itself.
        return None

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            raw = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return self._decoded.loads(key, raw)

    def get_many(self, keys, version=None):
        found = {}
        with self._lock:
            for key in keys:
                full = self.make_and_validate_key(key, version=version)
                if full not in self._cache:
                    continue
                if self._has_expired(full):
                    self._delete(full)
                    continue
                found[key] = (full, self._cache[full])
                self._cache.move_to_end(full, last=False)
        return {key: self._decoded.loads(full, raw) for key, (full, raw) in found.items()}

    def clear(self):
        super().clear()
        self._decoded.clear()
