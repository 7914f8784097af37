"""Lab records kept for a short time, bound to their user and to the browser that made them.

They live in the shared cache (authcache.shared): the request that reads
a record back may be served by another worker process than the one that
created it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from authcache.shared import shared_cache

LAB_ID_RE = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class LabStore:
    """One kind of lab record: ``lab:<kind>:<id>`` in the cache and a signed cookie naming the latest id."""

    kind: str
    cookie_name: str
    cookie_path: str

    def _key(self, lab_id: str) -> str:
        return f"lab:{self.kind}:{lab_id}"

    def create(self, *, user, data: dict, ttl: int) -> str:
        """Store ``data`` for ``user`` for ``ttl`` seconds; return the new random lab id."""
        lab_id = secrets.token_hex(16)
        shared_cache().set(self._key(lab_id), {**data, "user_id": user.pk}, ttl)
        return lab_id

    def bind(self, response: HttpResponse, *, lab_id: str, ttl: int) -> None:
        """Name ``lab_id`` in a signed cookie of this browser, so it can ask again once logged out."""
        response.set_signed_cookie(
            self.cookie_name,
            lab_id,
            salt=f"compare.lab.{self.kind}",
            max_age=ttl,
            path=self.cookie_path,
            httponly=True,
            samesite="Strict",
            secure=settings.SESSION_COOKIE_SECURE,
        )

    def bound_id(self, request: HttpRequest) -> str | None:
        """Return the lab id this browser's signed cookie names, or None."""
        return request.get_signed_cookie(self.cookie_name, default=None, salt=f"compare.lab.{self.kind}")

    def get(self, *, request: HttpRequest, lab_id: str, user) -> dict | None:
        """Return the record of ``lab_id`` when it belongs to ``user`` (or, logged out, to this browser)."""
        if not LAB_ID_RE.fullmatch(lab_id):
            return None
        record = shared_cache().get(self._key(lab_id))
        if not isinstance(record, dict):
            return None
        owned = record.get("user_id") == user.pk if user is not None else self.bound_id(request) == lab_id
        return record if owned else None

    def read(self, lab_id: str) -> dict | None:
        """Return the record of ``lab_id`` without an owner check (for the CSRF lab's observer)."""
        if not LAB_ID_RE.fullmatch(lab_id):
            return None
        record = shared_cache().get(self._key(lab_id))
        return record if isinstance(record, dict) else None
