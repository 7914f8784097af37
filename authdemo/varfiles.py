"""Secrets of the embedded default, generated once into the git-ignored var/ folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def var_file_read_or_create(path: Path, *, factory: Callable[[], bytes]) -> bytes:
    """Return the content of ``path``, writing ``factory()`` there first if it is absent.

    The file is created with mode 0600 and O_EXCL, so two processes starting at
    once agree on one value: the loser of the race reads the winner's file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(factory())
    return path.read_bytes()
