"""Replay credentials against the site's own /api/me/, in process, through the full middleware stack.

Used by the revocation lab (what does the instance answer to a revoked
credential) and by the comparison page (what does one authenticated request
cost: each credential alone, metered).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from io import BytesIO

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest
from django.urls import reverse

# The environ keys copied from the outer request, so the replay reaches the
# same host, scheme and client address (ALLOWED_HOSTS, the client IP rule).
_ENVIRON_KEYS = ("SERVER_NAME", "SERVER_PORT", "HTTP_HOST", "REMOTE_ADDR", "wsgi.url_scheme")


@dataclass(frozen=True)
class InstanceAnswer:
    """What /api/me/ answered: the status, the error code or the mechanism that authenticated."""

    status: int
    code: str = ""
    auth: str = ""

    @property
    def accepted(self) -> bool:
        return self.status == 200

    def as_dict(self) -> dict:
        return {**asdict(self), "accepted": self.accepted}


class _InProcessHandler(BaseHandler):
    """Django's request handler without the WSGI server: no request_started/finished signals.

    Their receivers close database connections; sent inside the outer request
    they would close its connection (and a test's transaction) under its feet.
    """

    def __init__(self) -> None:
        super().__init__()
        self.load_middleware()


_handlers: dict[tuple[str, ...], _InProcessHandler] = {}
_handlers_lock = threading.Lock()


def _handler() -> _InProcessHandler:
    # One handler per middleware list (tests override MIDDLEWARE); building one
    # instantiates every middleware, so it is done once.
    key = tuple(settings.MIDDLEWARE)
    with _handlers_lock:
        handler = _handlers.get(key)
        if handler is None:
            handler = _handlers[key] = _InProcessHandler()
    return handler


def me_replay(
    *, request: HttpRequest, cookies: dict[str, str] | None = None, authorization: str = ""
) -> InstanceAnswer:
    """Return what GET /api/me/ answers to ``cookies`` or ``authorization`` alone, as ``request``'s client."""
    environ = {key: request.META[key] for key in _ENVIRON_KEYS if key in request.META}
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    environ.update(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": reverse("api:me"),
            "QUERY_STRING": "",
            "HTTP_ACCEPT": "application/json",
            "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in (cookies or {}).items()),
            "wsgi.input": BytesIO(b""),
            "wsgi.errors": BytesIO(),
        }
    )
    environ.setdefault("SERVER_NAME", "localhost")
    environ.setdefault("SERVER_PORT", "80")
    environ.setdefault("wsgi.url_scheme", "http")
    # Not response.close(): it sends request_finished, whose receiver closes the
    # database connection the outer request is still using. A body-less GET
    # holds no file to close.
    response = _handler().get_response(WSGIRequest(environ))
    try:
        is_json = response.get("Content-Type", "").startswith("application/json")
        body = json.loads(response.content) if is_json else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return InstanceAnswer(
        status=response.status_code,
        code=str(body.get("code", "")) if response.status_code != 200 else "",
        auth=str(body.get("auth", "")) if response.status_code == 200 else "",
    )
