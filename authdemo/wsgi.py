"""WSGI entry point (gunicorn authdemo.wsgi): Django's application, with unread request bodies drained."""

import os
from collections.abc import Iterable, Iterator

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authdemo.settings")

# A body up to this size that the view never read (a 401 before parsing) is
# read and discarded after the response. Without it the server closes the
# connection with data still arriving, the kernel answers with a reset, and
# a client still uploading (or a TLS proxy) loses the response it was sent.
# Larger bodies are not read: closing on them is the cheaper answer.
DRAIN_MAX_BYTES = 4 * 1024 * 1024
DRAIN_CHUNK = 64 * 1024


class DrainedResponse:
    """The response iterable of a request whose unread body is drained once the response is done."""

    def __init__(self, result: Iterable[bytes], environ: dict) -> None:
        self.result = result
        self.environ = environ

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            body_drain(self.environ)


def body_drain(environ: dict) -> int:
    """Read and discard what is left of the request body; return the bytes read (0 when unsafe or too big)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
    # Only a server that ends wsgi.input at the body's end (gunicorn says so
    # with wsgi.input_terminated) can be read to EOF without blocking on the
    # next request's bytes.
    if length <= 0 or length > DRAIN_MAX_BYTES or not environ.get("wsgi.input_terminated"):
        return 0
    stream, drained = environ["wsgi.input"], 0
    try:
        while drained <= length and (chunk := stream.read(DRAIN_CHUNK)):
            drained += len(chunk)
    except OSError:  # the client went away: nothing left to protect
        pass
    return drained


def draining(app):
    """Wrap a WSGI application so each request's unread body is drained after its response."""

    def application(environ: dict, start_response):
        return DrainedResponse(app(environ, start_response), environ)

    return application


application = draining(get_wsgi_application())
