"""Live entries: a cached "valid" verdict stored with the stamp it was written under."""

from __future__ import annotations

from typing import NamedTuple

LIVE = "live@"


class CacheRead(NamedTuple):
    """An entry as read: ``value`` is None on a miss, a stale live entry or an unavailable cache."""

    value: object
    epoch: object  # stamp for writing the entry back; None: do not write (cache unavailable)
    live: bool = False  # value is the payload of a live entry still trusted
    stale: bool = False  # a live entry no longer trusted was found (value is None)


def is_live(entry: object) -> bool:
    return isinstance(entry, tuple) and len(entry) == 3 and entry[0] == LIVE


def entry_read(entry: object, epoch: object, trusted) -> CacheRead:
    if is_live(entry):
        if trusted(entry[1]):
            return CacheRead(value=entry[2], epoch=epoch, live=True)
        return CacheRead(value=None, epoch=epoch, stale=True)
    return CacheRead(value=entry, epoch=epoch)
