"""The WSGI entry point drains a body the view never read, so a client still uploading gets its answer."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from authdemo import wsgi
from tests.servers import gunicorn_running

ROOT = Path(__file__).resolve().parent.parent
_CONFIG_PREFIXES = ("DJANGO_", "DATABASE_", "REDIS_", "JWT_", "SESSION_", "LOGIN_RATELIMIT_", "AUTHDEMO_")


class _Result(list):
    closed = False

    def close(self):
        self.closed = True


def _environ(body: bytes, *, terminated: bool = True, length: str | None = None) -> dict:
    return {
        "CONTENT_LENGTH": str(len(body)) if length is None else length,
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": terminated,
    }


def test_an_unread_body_is_drained_after_the_response_is_closed():
    environ, result = _environ(b"x" * 800_000), _Result([b"401"])
    response = wsgi.draining(lambda env, start: result)(environ, None)
    assert list(response) == [b"401"] and environ["wsgi.input"].tell() == 0
    response.close()
    assert result.closed and environ["wsgi.input"].read() == b""


def test_a_partly_read_body_is_drained_from_where_the_view_stopped():
    environ = _environ(b"y" * 10_000)
    environ["wsgi.input"].read(100)
    assert wsgi.body_drain(environ) == 9_900


@pytest.mark.parametrize(
    "environ",
    [
        _environ(b"z" * 100, terminated=False),  # a server that may block past the body (runserver)
        _environ(b"z" * 100, length="not a number"),
        _environ(b"", length="0"),
        _environ(b"z" * 10, length=str(wsgi.DRAIN_MAX_BYTES + 1)),  # too big: closing is cheaper
    ],
)
def test_nothing_is_read_when_it_is_unsafe_or_too_big(environ):
    assert wsgi.body_drain(environ) == 0


def test_a_client_that_goes_away_mid_body_is_no_error():
    class Gone(io.RawIOBase):
        def read(self, size=-1):
            raise ConnectionResetError

    environ = {"CONTENT_LENGTH": "100", "wsgi.input": Gone(), "wsgi.input_terminated": True}
    assert wsgi.body_drain(environ) == 0


@pytest.mark.live
def test_a_slow_uploader_refused_before_its_body_is_read_gets_the_401(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG_PREFIXES)}
    env.update(
        DJANGO_SETTINGS_MODULE="authdemo.settings",
        DJANGO_DEBUG="1",
        AUTHDEMO_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    for step in (["init_secrets", "-v0"], ["migrate", "--noinput", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *step], cwd=ROOT, env=env, check=True)
    body = b"x" * 800_000
    with gunicorn_running(env=env, output=tmp_path / "server.log") as base:
        host, port = base.removeprefix("http://").split(":")
        answers = []
        for _ in range(3):
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
                sock.sendall(
                    b"PATCH /api/me/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body)
                )
                # An upload paced like a real network: the 401 is written long before the last byte.
                for offset in range(0, len(body), 16384):
                    sock.sendall(body[offset : offset + 16384])
                    time.sleep(0.002)
                answers.append(sock.recv(65536))
    assert all(answer.startswith(b"HTTP/1.1 401") for answer in answers), answers
