"""Embedded default (SQLite, per-process cache): a change made by ANOTHER process is seen at once.

A gunicorn server runs on the test database without REDIS_URL; a second
process (``manage.py shell``, as an operator or a cron job would) changes the
user's password. The server refuses the old access token and session on the
very next request (the revocation stamp file, accounts.cachesafe), and the
browser holding the dead session cookie gets no 400 anywhere, logging in again
included (accounts.middleware).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.faults.conftest import free_port
from tests.livehttp import json_request, send

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL")),
        reason="embedded default only (SQLite file, per-process cache)",
    ),
]

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def server_env():
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "authdemo.test_settings",
        "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
        "AUTHDEMO_VAR_DIR": str(settings.VAR_DIR),
    }


@pytest.fixture
def server(server_env):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "authdemo" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"],
        cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/health/", timeout=5) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(process.stderr.read().decode(errors="replace")[-3000:])
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


def _status(url: str, headers: dict) -> int:
    return send(json_request(url, headers=headers))[0]


def test_password_changed_by_another_process_ends_token_and_session_at_once(
    server, server_env, user, password, client
):
    status, body, _ = send(
        json_request(f"{server}/api/auth/token/", body={"username": "alice", "password": password})
    )
    assert status == 200
    bearer = {"Authorization": f"Bearer {json.loads(body)['access']}"}
    client.force_login(user)  # committed: the test is transactional
    name = settings.SESSION_COOKIE_NAME
    cookie = {"Cookie": f"{name}={client.cookies[name].value}"}
    for _ in range(3):  # warm the server's per-process cache
        assert _status(f"{server}/api/me/", bearer) == 200
        assert _status(f"{server}/api/me/", cookie) == 200

    script = (
        "from django.contrib.auth import get_user_model; "
        "u = get_user_model().objects.get(username='alice'); u.set_password('another pass 123'); u.save()"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=server_env, check=True, timeout=60
    )

    # At once, not after the access token's expiry or a cache timeout.
    assert _status(f"{server}/api/me/", bearer) == 401
    assert _status(f"{server}/api/me/", cookie) == 401
    # The browser with the dead session cookie is simply logged out: no 400 anywhere.
    assert _status(f"{server}/accounts/login/", cookie) == 200
    assert _status(f"{server}/", cookie) == 200
    status, _, _ = send(
        json_request(
            f"{server}/api/auth/token/",
            body={"username": "alice", "password": "another pass 123"},
            headers=cookie,
        )
    )
    assert status == 200
