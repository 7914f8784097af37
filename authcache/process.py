"""The embedded default's per-process cache: a Django cache backend over one dict and one lock.

It answers as Django's local-memory cache does (the same operations give
the same results, culling included: least recently read first), but keeps
plain data as private copies instead of pickles (authcache.values), reads
``get_many`` under one acquisition of the lock, and does not check keys for
memcached's limits (keys never reach memcached).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from authcache.values import Copier, handed_out, kept

_MISSING = object()


class Store:
    """What every instance of one cache name shares (Django builds one instance per thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # full key -> (expires at or None, copier, kept value); most recently used first.
        self.entries: OrderedDict[str, tuple[float | None, Copier | None, object]] = OrderedDict()


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


class ProcessMemoryCache(BaseCache):
    """A per-process cache handing out fresh copies; see the module docstring."""

    def __init__(self, name, params):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self.max_entries = int(options.get("MAX_ENTRIES", 300))
        self.cull_frequency = int(options.get("CULL_FREQUENCY", 3))
        with _stores_lock:
            self.store = _stores.setdefault(name, Store())

    def validate_key(self, key):
        return None

    def _live(self, key: str, now: float, *, drop: bool = True, use: bool = True) -> tuple | None:
        """Return the entry of ``key`` unless expired (lock held).

        ``drop``: delete it when expired; ``use``: it becomes the most recently used (a read).
        """
        entry = self.store.entries.get(key)
        if entry is None:
            return None
        if entry[0] is not None and entry[0] <= now:
            if drop:
                del self.store.entries[key]
            return None
        if use:
            self.store.entries.move_to_end(key, last=False)
        return entry

    def _put(self, key: str, value, timeout, expires: float | None = _MISSING) -> None:
        entries = self.store.entries
        if len(entries) >= self.max_entries:
            if self.cull_frequency == 0:
                entries.clear()
            else:
                for _ in range(len(entries) // self.cull_frequency):
                    entries.popitem()  # the least recently used
        if expires is _MISSING:
            expires = self.get_backend_timeout(timeout)
        entries[key] = (expires, *kept(value))
        entries.move_to_end(key, last=False)

    def get(self, key, default=None, version=None):
        key = self.make_key(key, version=version)
        with self.store.lock:
            entry = self._live(key, time.time())
        return default if entry is None else handed_out(entry[1], entry[2])

    def get_many(self, keys, version=None):
        now = time.time()
        with self.store.lock:
            found = {key: self._live(self.make_key(key, version=version), now) for key in keys}
        return {key: handed_out(entry[1], entry[2]) for key, entry in found.items() if entry is not None}

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self.store.lock:
            self._put(key, value, timeout)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self.store.lock:
            # An expired entry still counts towards culling, as in Django's.
            if self._live(key, time.time(), drop=False, use=False) is not None:
                return False
            self._put(key, value, timeout)
            return True

    def incr(self, key, delta=1, version=None):
        full = self.make_key(key, version=version)
        with self.store.lock:
            entry = self._live(full, time.time(), use=False)
            if entry is None:
                raise ValueError(f"Key '{key}' not found")
            value = handed_out(entry[1], entry[2]) + delta
            self.store.entries[full] = (entry[0], *kept(value))
            self.store.entries.move_to_end(full, last=False)
        return value

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self.store.lock:
            entry = self._live(key, time.time(), drop=False, use=False)
            if entry is None:
                return False
            self.store.entries[key] = (self.get_backend_timeout(timeout), *entry[1:])
            return True

    def has_key(self, key, version=None):
        key = self.make_key(key, version=version)
        with self.store.lock:
            return self._live(key, time.time(), use=False) is not None

    def delete(self, key, version=None):
        key = self.make_key(key, version=version)
        with self.store.lock:
            return self.store.entries.pop(key, None) is not None

    def clear(self):
        with self.store.lock:
            self.store.entries.clear()
