"""Fixtures of the verifier tests: a verifier on a real port, its clock and its fetches under control."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from tests.livehttp import send
from verifier.__main__ import ThreadingWSGIServer
from verifier.app import VerifierApp, key_cache_create
from verifier.config import Config
from verifier.jwks import jwks_fetch


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        return None


@dataclass
class RunningVerifier:
    """A verifier on a real port; ``advance`` moves its clock, ``fetches`` lists the JWKS URLs it fetched."""

    url: str
    app: VerifierApp
    offset: float = 0.0
    fetches: list[str] = field(default_factory=list)

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def whoami(self, token: str | None = None, *, method: str = "GET", path: str = "/whoami", **headers):
        import urllib.request

        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        status, body, response_headers = send(
            urllib.request.Request(self.url + path, headers=headers, method=method)
        )
        return status, (json.loads(body) if body else None), response_headers


@pytest.fixture
def verifier_for():
    """verifier_for(jwks_url, **config) -> a RunningVerifier serving /whoami in a thread."""
    servers = []

    def start(jwks_url: str, **overrides) -> RunningVerifier:
        config = Config(jwks_url=jwks_url, **overrides)
        running = RunningVerifier(url="", app=None)  # type: ignore[arg-type]

        def counting_fetch(*, url: str, timeout: float):
            running.fetches.append(url)
            return jwks_fetch(url=url, timeout=timeout)

        keys = key_cache_create(config=config, fetch=counting_fetch, clock=running.now)
        running.app = VerifierApp(config=config, keys=keys, clock=running.now)
        server = make_server(
            "127.0.0.1", 0, running.app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
        )
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        servers.append(server)
        running.url = f"http://127.0.0.1:{server.server_port}"
        return running

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


Sign = Callable[..., str]
