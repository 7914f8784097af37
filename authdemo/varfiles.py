"""Secrets of the embedded default in the git-ignored var/ folder: created by `manage.py init_secrets`."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def var_file_create(path: Path, *, factory: Callable[[], bytes]) -> bool:
    """Write ``factory()`` to ``path`` unless it exists; return whether this call wrote it.

    The file is created with mode 0600 and O_EXCL, so an existing file is
    never replaced and two processes starting at once agree on one value.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(factory())
    return True


def var_file_read_or_create(path: Path, *, factory: Callable[[], bytes]) -> bytes:
    """Return the content of ``path``, writing ``factory()`` there first if it is absent."""
    var_file_create(path, factory=factory)
    return path.read_bytes()


def var_secret_read(path: Path) -> str:
    """Return the secret stored in ``path``, or a random one for this process only if it is absent.

    The stand-in is never stored: it lets `manage.py init_secrets` start
    (Django refuses an empty SECRET_KEY), and every other command stops on the
    system check api.E001, which names init_secrets.
    """
    try:
        return path.read_text()
    except FileNotFoundError:
        return secrets.token_urlsafe(50)
