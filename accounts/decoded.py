"""Decoded cache values handed out as fresh copies, instead of unpickled again on every read.

Django's local-memory cache (and the near cache, accounts.nearcache) store
values pickled and unpickle them on every read, so no two readers share a
mutable object: a view that changes a dict it read must not change what the
next request reads. Unpickling costs more than anything else in a warm
cache read. For plain data (what the hot path stores: a session's data, a
user snapshot, a family verdict, each wrapped as a live entry) a fresh copy
gives the same guarantee for less: immutable values are shared as they are,
and every dict and tuple holding them is built anew.

``copier_of`` says whether a value is such plain data; anything else (a
list, an object, a nested container deeper than one dict) keeps being
unpickled on every read.
"""

from __future__ import annotations

import datetime
import decimal
import pickle
import uuid
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


class DecodedEntries:
    """The decoded value of each key's pickled bytes, valid while the key holds those same bytes.

    A cache that stores pickled bytes asks ``loads(key, raw)`` instead of
    ``pickle.loads(raw)``. The bytes object itself is the version: any write
    stores a new one, and the entry kept here holds a reference to the old
    one, so its identity cannot be reused while the entry exists. Threads
    may share one instance (single dict operations; a race only costs an
    extra unpickle).
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.entries: dict[str, tuple[bytes, Copier | None, object]] = {}  # key -> (raw, *kept())

    def loads(self, key: str, raw: bytes) -> object:
        entry = self.entries.get(key)
        if entry is not None and entry[0] is raw:
            return handed_out(entry[1], entry[2])
        value = pickle.loads(raw)  # noqa: S301 - bytes this process's cache pickled itself
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        # What is kept is private: the caller gets ``value`` and may change it.
        self.entries[key] = (raw, *kept(value, raw))
        return value

    def clear(self) -> None:
        self.entries.clear()
