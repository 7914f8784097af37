"""`python -m verifier`: serve the verifier with the standard library's threaded WSGI server (development)."""

from __future__ import annotations

import logging
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, make_server

from verifier.app import application_create
from verifier.config import config_from_env


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    config = config_from_env()
    server = make_server(
        config.host, config.port, application_create(config=config), server_class=ThreadingWSGIServer
    )
    print(f"Stateless verifier on http://{config.host}:{server.server_port}/whoami (keys: {config.jwks_url})")
    server.serve_forever()


if __name__ == "__main__":
    main()
