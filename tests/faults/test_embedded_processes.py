"""Embedded default (SQLite, per-process cache): a change made by ANOTHER process is seen at once.

A gunicorn server runs on the test database without REDIS_URL; a second
process (``manage.py shell``, as an operator or a cron job would) changes the
user's password. The server refuses the old access token and session on the
very next request (the revocation log, authcache.live), and the
browser holding the dead session cookie gets no 400 anywhere, logging in again
included (accounts.middleware).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.livehttp import json_request, send
from tests.servers import database_url, gunicorn_running

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
        "DATABASE_URL": database_url(),
        "AUTHDEMO_VAR_DIR": str(settings.VAR_DIR),
    }


@pytest.fixture
def server(server_env, tmp_path):
    with gunicorn_running(env=server_env, output=tmp_path / "server.log") as url:
        yield url


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
