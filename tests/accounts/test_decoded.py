"""Decoded cache values handed out as fresh copies (accounts/decoded.py).

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

from accounts.decoded import DecodedEntries, copier_of, handed_out, kept

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


def test_a_read_changed_by_its_caller_does_not_change_the_next_read():
    entries = DecodedEntries(max_entries=10)
    raw = _raw(LIVE_ENTRY)
    first = entries.loads("k", raw)
    first[2]["id"] = 999  # the caller changes what it got
    second = entries.loads("k", raw)
    second[2]["extra"] = True
    third = entries.loads("k", raw)
    assert first is not second is not third
    assert third == LIVE_ENTRY


def test_a_value_that_is_not_plain_data_is_unpickled_on_every_read():
    entries = DecodedEntries(max_entries=10)
    raw = _raw({"cart": [1, 2]})
    first = entries.loads("k", raw)
    first["cart"].append(3)
    assert entries.loads("k", raw) == {"cart": [1, 2]}
    assert entries.entries["k"][1] is None  # known to need unpickling; nothing decoded kept


def test_new_bytes_are_decoded_again_even_when_equal():
    # A write stores a new bytes object: the entry is only reused for the same object.
    entries = DecodedEntries(max_entries=10)
    old = _raw({"v": 1})
    assert entries.loads("k", old) == {"v": 1}
    assert entries.loads("k", _raw({"v": 2})) == {"v": 2}
    equal = _raw({"v": 2})
    assert entries.loads("k", equal) == {"v": 2}
    assert entries.entries["k"][0] is equal


def test_the_number_of_entries_is_bounded():
    entries = DecodedEntries(max_entries=3)
    for i in range(10):
        assert entries.loads(f"k{i}", _raw(i)) == i
        assert len(entries.entries) <= 3


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
