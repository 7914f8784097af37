"""Fixtures of the lab tests: a stateless verifier on a real port that trusts this site's keys."""

from __future__ import annotations

import json
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from verifier.__main__ import ThreadingWSGIServer
from verifier.app import VerifierApp, key_cache_create
from verifier.config import Config
from verifier.jwks import jwks_parse


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        return None


@pytest.fixture
def verifier(settings):
    """A verifier serving /whoami in a thread with the site's current JWKS; VERIFIER_URL points at it."""
    from api.keyring import jwks_document

    def fetch(*, url: str, timeout: float):
        return jwks_parse(body=json.dumps(jwks_document()).encode())

    config = Config(jwks_url="http://site.invalid/.well-known/jwks.json")
    keys = key_cache_create(config=config, fetch=fetch)
    server = make_server(
        "127.0.0.1",
        0,
        VerifierApp(config=config, keys=keys),
        server_class=ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    settings.VERIFIER_URL = f"http://127.0.0.1:{server.server_port}"
    yield settings.VERIFIER_URL
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_verifier(settings):
    """VERIFIER_URL points at a port where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.VERIFIER_URL = f"http://127.0.0.1:{port}"
    return settings.VERIFIER_URL
