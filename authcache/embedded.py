"""Embedded mode's live entries: the host's revocation log, which every process appends to."""

from __future__ import annotations

import functools
import os
import threading

from django.db import transaction

from authcache.conf import stamp_file
from authcache.entries import CacheRead, entry_read
from authcache.guard import CacheUnavailable, cache_call

# The revocation log's line for "every key".
ALL = b"*"


def _log_stat() -> tuple[int, int]:
    try:
        st = os.stat(stamp_file())
    except FileNotFoundError:
        return 0, 0
    return st.st_ino, st.st_size


class EmbeddedStrategy:
    """Live entries in a per-process cache, kept honest by the host's revocation log (module docstring)."""

    shared = False
    # Keys remembered as named by recent lines, for writers that read before
    # those lines; past this the oldest are forgotten (see ``_apply``).
    MAX_REMEMBERED = 100_000

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.lock = threading.Lock()
        self.inode: int | None = None
        self.applied = 0  # offset of the first log byte not applied yet
        self.floor = 0  # entries stamped below this offset are distrusted
        self.forgotten = 0  # names of lines below this offset are forgotten: older stamps are not written
        self.dropped: dict[str, int] = {}  # key -> end offset of the last remembered line naming it

    def position(self) -> tuple[int, int]:
        """Return the log's (inode, size) after applying every complete line this process has not seen."""
        # Read before the stat: another thread may apply lines appended after
        # this stat, and the log only grows, so only a new log is shorter.
        applied = self.applied
        inode, size = _log_stat()
        if inode != self.inode or size < applied:
            with self.lock:  # looked at again with no thread applying meanwhile
                inode, size = _log_stat()
                if inode != self.inode or size < self.applied:
                    # A new log (first look, deleted, replaced): nothing older is trusted.
                    self.inode, self.applied, self.floor, self.forgotten = inode, size, size, size
                    self.dropped.clear()
        if size > self.applied:
            self._apply(size)
        return inode, size

    def _apply(self, size: int) -> None:
        # A line's keys leave this process's cache as it is applied, so an
        # entry there was never named after its stamp; the names are
        # remembered only to refuse the write of an entry read before the
        # line (write_live). Past MAX_REMEMBERED the oldest are forgotten and
        # such late writes refused instead: a bound, never a cold cache.
        with self.lock:
            if size <= self.applied:
                return
            try:
                with open(stamp_file(), "rb") as log:
                    log.seek(self.applied)
                    chunk = log.read(size - self.applied)
            except FileNotFoundError:
                return
            offset = self.applied
            *lines, _still_written = chunk.split(b"\n")  # the unfinished rest: applied with a later read
            for line in lines:
                start, offset = offset, offset + len(line) + 1
                names = line.split()
                if ALL in names:
                    self.floor = self.forgotten = offset
                    self.dropped.clear()
                    continue
                keys = [name.decode(errors="replace") for name in names]
                if len(self.dropped) + len(keys) > self.MAX_REMEMBERED:
                    self.forgotten = start
                    self.dropped.clear()
                try:
                    if keys:
                        cache_call("delete_many", keys, alias=self.alias)
                except CacheUnavailable:
                    self.floor = offset  # the keys may stay: distrust everything older instead
                for key in keys:
                    self.dropped[key] = offset
            # Last: a reader that finds nothing left to apply finds the keys gone.
            self.applied = offset

    def _trusted(self, key: str, stamp: object) -> bool:
        if not (isinstance(stamp, tuple) and len(stamp) == 2 and stamp[0] == self.inode):
            return False
        return stamp[1] >= max(self.floor, self.dropped.get(key, 0))

    def read_many(self, keys: list[str]) -> dict[str, CacheRead]:
        epoch = self.position()
        values = cache_call("get_many", keys, alias=self.alias)
        return {
            key: entry_read(values.get(key), epoch, functools.partial(self._trusted, key)) for key in keys
        }

    def epoch_hint(self) -> object:
        return self.position()

    def write_live(self, *, key: str, entry: tuple, timeout: int, add: bool, stale: bool) -> None:
        stamp = entry[1]
        self.position()
        with self.lock:  # no line is applied between the check and the write
            if not self._writable(key, stamp):
                return  # read before a line naming it, or before forgotten names: the next read reads again
            if add and stale:
                # The stale entry blocks add() for good otherwise. A marker deleted
                # by this race belongs to a revocation whose log line already
                # makes this entry untrusted.
                cache_call("delete", key, alias=self.alias)
            cache_call("add" if add else "set", key, entry, timeout, alias=self.alias)

    def _writable(self, key: str, stamp: object) -> bool:
        return self._trusted(key, stamp) and stamp[1] >= self.forgotten

    def _log(self, names: list[bytes]) -> None:
        path = stamp_file()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # One write() on an O_APPEND file: lines of parallel writers never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b" ".join(names) + b"\n")
        finally:
            os.close(fd)

    def _log_after_commit(self, keys: list[str]) -> None:
        # After the commit: a process that reacts at once reads the committed change.
        names = [key.encode() for key in keys]
        transaction.on_commit(lambda: self._log(names))

    def publish(self, entries: dict[str, object], timeout: int) -> None:
        cache_call("set_many", entries, timeout, alias=self.alias)
        self._log_after_commit(list(entries))

    def invalidate(self, keys: list[str], *, counter: str | None = None) -> None:
        cache_call("delete_many", keys, alias=self.alias)
        self._log_after_commit(keys)

    def epoch_bump(self) -> None:
        transaction.on_commit(lambda: self._log([ALL]))
