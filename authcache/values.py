"""Cached values handed out as fresh copies, and the bounded map the per-process caches are built on.

No two readers of a per-process cache may share a mutable object (as with
Django's local-memory cache, which pickles): a view that changes a dict it
read must not change what the next request reads. Plain data (immutable
values, a dict of them, a tuple of those) is kept as a private copy and
handed out as a fresh one; anything else is kept pickled and unpickled on
every read.
"""

from __future__ import annotations

import datetime
import decimal
import pickle
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable

# Exact types only: a subclass may carry mutable state.
_IMMUTABLE = frozenset({
    str, bytes, int, float, bool, type(None), complex,
    datetime.datetime, datetime.date, datetime.time, datetime.timedelta, decimal.Decimal, uuid.UUID,
})  # fmt: skip

Copier = Callable[[object], object]


def _immutable(value: object) -> bool:
    kind = type(value)
    if kind in _IMMUTABLE:
        return True
    return kind is tuple and all(_immutable(item) for item in value)


def _flat_dict(value: object) -> bool:
    return type(value) is dict and all(_immutable(key) and _immutable(item) for key, item in value.items())


def _same(value: object) -> object:
    return value


def _tuple_copy(value: tuple) -> tuple:
    # Items are immutable or flat dicts: a new dict for each of the latter.
    return tuple([dict(item) if type(item) is dict else item for item in value])


def copier_of(value: object) -> Copier | None:
    """Return a function making a copy of ``value`` that shares no mutable object with it, or None.

    None: ``value`` is not plain data (immutables, a dict of them, a tuple of
    immutables and such dicts); unpickle it instead.
    """
    if _immutable(value):
        return _same
    if _flat_dict(value):
        return dict
    if type(value) is tuple and all(_immutable(item) or _flat_dict(item) for item in value):
        return _tuple_copy
    return None


def kept(value: object, raw: bytes | None = None) -> tuple[Copier | None, object]:
    """Return (copier, what to keep) for ``value``: a private copy of plain data, else its pickled bytes.

    ``raw``: the bytes ``value`` was unpickled from, kept as they are.
    """
    copier = copier_of(value)
    if copier is None:
        return None, pickle.dumps(value, pickle.HIGHEST_PROTOCOL) if raw is None else raw
    return copier, copier(value)


def handed_out(copier: Copier | None, stored: object) -> object:
    """Return what a reader gets of a value ``kept()`` stored: a fresh copy, or a fresh unpickling."""
    return pickle.loads(stored) if copier is None else copier(stored)  # noqa: S301 - bytes this process pickled


class LruMap:
    """A bounded, thread-safe map whose least recently used entry goes first."""

    def __init__(self, *, maxsize: int) -> None:
        self.maxsize = maxsize
        self.lock = threading.Lock()
        self.entries: OrderedDict[object, object] = OrderedDict()

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: object) -> object | None:
        """Return the value of ``key`` (now the most recently used), or None."""
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: object, value: object) -> None:
        """Remember ``value`` for ``key``, dropping the least recently used beyond ``maxsize``."""
        if self.maxsize <= 0:
            return
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.maxsize:
                self.entries.popitem(last=False)

    def discard(self, key: object) -> None:
        """Forget ``key``."""
        with self.lock:
            self.entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self.lock:
            self.entries.clear()

    def values(self) -> list[object]:
        """Return every value, least recently used first."""
        with self.lock:
            return list(self.entries.values())
