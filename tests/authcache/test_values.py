"""Cached values handed out as fresh copies, and the bounded map (authcache/values.py).

The guarantee is the one pickling gives Django's local-memory cache: no two
readers share a mutable object. These tests change what one read returned
and check that the next read does not see it, for every shape of value.
"""

from __future__ import annotations

import datetime
import pickle
import uuid
from decimal import Decimal

import pytest

from authcache.values import LruMap, copier_of, handed_out, kept

LIVE_ENTRY = ("live@", (12, 34), {"id": 1, "when": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)})


@pytest.mark.parametrize(
    "value",
    [
        "s", b"b", 1, 1.5, True, None, 2j, Decimal("1.5"), uuid.UUID(int=1),
        datetime.datetime(2026, 1, 2), datetime.date(2026, 1, 2), datetime.time(1, 2), datetime.timedelta(3),
        ("a", (1, 2)),
    ],
)  # fmt: skip
def test_an_immutable_value_is_shared_as_it_is(value):
    copier = copier_of(value)
    assert copier is not None
    assert copier(value) is value


@pytest.mark.parametrize("value", [{"a": 1, "b": (1, 2)}, {}, LIVE_ENTRY, ("x", {}), ({"a": 1}, {"b": 2})])
def test_a_dict_is_copied_and_so_is_every_dict_in_a_tuple(value):
    copy = copier_of(value)(value)
    assert copy == value
    assert copy is not value
    dicts = [item for item in (value if isinstance(value, tuple) else (value,)) if isinstance(item, dict)]
    copies = [item for item in (copy if isinstance(copy, tuple) else (copy,)) if isinstance(item, dict)]
    assert all(a is not b for a, b in zip(dicts, copies, strict=True))


class Mutable:
    pass


class MyDict(dict):
    pass


class MyStr(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        [1, 2], {"a": [1]}, {"a": {"b": 1}}, ("x", [1]), ("x", {"a": {"b": 1}}), {1, 2}, bytearray(b"x"),
        Mutable(), MyDict(a=1), MyStr("s"), {"a": MyStr("s")}, ((1, [2]),),
    ],
)  # fmt: skip
def test_anything_else_is_not_plain_data(value):
    assert copier_of(value) is None


def _raw(value) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


@pytest.mark.parametrize("value", [LIVE_ENTRY, {"a": 1}, "s", {"cart": [1, 2]}, [1, {"b": [2]}], Mutable])
def test_what_is_kept_is_handed_out_fresh_and_never_changed_by_a_reader(value):
    copier, stored = kept(value)
    assert (copier is None) == (copier_of(value) is None)
    if copier is None:
        assert isinstance(stored, bytes)  # pickled, unpickled per read
    first = handed_out(copier, stored)
    assert first == value
    if isinstance(first, dict | list):
        first.clear()  # a reader changes what it got
    elif isinstance(first, tuple):
        first[2].clear()
    assert handed_out(copier, stored) == value


def test_kept_reuses_the_bytes_a_value_was_read_from():
    raw = _raw({"cart": [1]})
    assert kept({"cart": [1]}, raw) == (None, raw)
    assert kept({"cart": [1]}, raw)[1] is raw


def test_the_lru_map_is_bounded_and_drops_the_least_recently_used():
    lru = LruMap(maxsize=2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "a" is now the most recently used
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c"), len(lru)) == (1, None, 3, 2)
    lru.discard("a")
    assert lru.values() == [3]
    lru.clear()
    assert len(lru) == 0
    off = LruMap(maxsize=0)
    off.put("a", 1)
    assert off.get("a") is None
