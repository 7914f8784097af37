"""A user changed by ANOTHER process is seen by the server at once, though warm requests use its cache.

A gunicorn server of two worker processes (embedded: SQLite and a cache in
each process; services mode: PostgreSQL and Redis) answers ``/api/me/`` by session, bearer and JWT cookie
from cached user snapshots (authcache.snapshots). A second process
(``manage.py shell``, as an operator or a cron job would) then changes the
user; the very next request of each credential sees the change: refused
after a password change, a deactivation, a deletion or a revocation, the new
name after a profile edit.
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

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
SERVICES = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))


@pytest.fixture
def server_env():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "authdemo.test_settings",
        "DATABASE_URL": database_url(),
        "AUTHDEMO_VAR_DIR": str(settings.VAR_DIR),
    }
    if not SERVICES:
        env.pop("REDIS_URL", None)
    return env


@pytest.fixture
def server(server_env, tmp_path):
    with gunicorn_running(env=server_env, output=tmp_path / "server.log", workers=2) as url:
        yield url


def _me(url: str, headers: dict) -> tuple[int, dict]:
    status, body, _ = send(json_request(f"{url}/api/me/", headers=headers))
    return status, json.loads(body)


def _credentials(url: str, user, password: str, client) -> dict[str, dict]:
    login = {"username": "alice", "password": password}
    status, body, _ = send(json_request(f"{url}/api/auth/token/", body=login))
    assert status == 200
    status, _, headers = send(json_request(f"{url}/api/auth/cookie/login/", body=login))
    assert status == 200
    cookies = headers.get_all("Set-Cookie")
    access = next(c.split(";")[0] for c in cookies if c.startswith(f"{settings.JWT_ACCESS_COOKIE}="))
    client.force_login(user)  # committed: the test is transactional
    name = settings.SESSION_COOKIE_NAME
    return {
        "session": {"Cookie": f"{name}={client.cookies[name].value}"},
        "jwt-bearer": {"Authorization": f"Bearer {json.loads(body)['access']}"},
        "jwt-cookie": {"Cookie": access},
    }


def _shell(server_env: dict, script: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=server_env, check=True, timeout=60
    )


USER = "from django.contrib.auth import get_user_model; u = get_user_model().objects.get(username='alice'); "
CHANGES = {
    "password": USER + "u.set_password('another pass 123'); u.save()",
    "deactivation": USER + "u.is_active = False; u.save()",
    "deletion": USER + "u.delete()",
    "revocation": USER + "from accounts.services import user_revoke_all; user_revoke_all(user=u)",
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_change_in_another_process_refuses_every_credential_at_once(
    change, server, server_env, user, password, client
):
    credentials = _credentials(server, user, password, client)
    for _ in range(4):  # warm every worker's cache: verdicts, sessions and user snapshots
        for mechanism, headers in credentials.items():
            status, body = _me(server, headers)
            assert (status, body["auth"]) == (200, mechanism)

    _shell(server_env, CHANGES[change])

    for _ in range(4):  # at once, on every worker
        for mechanism, headers in credentials.items():
            assert _me(server, headers)[0] == 401, (change, mechanism)


def test_profile_edit_in_another_process_shows_at_once(server, server_env, user, password, client):
    credentials = _credentials(server, user, password, client)
    for _ in range(4):
        for headers in credentials.values():
            assert _me(server, headers)[1]["first_name"] == "Alice"

    _shell(server_env, USER + "u.first_name = 'Alicia'; u.email = 'alicia@example.com'; u.save()")

    for _ in range(4):
        for mechanism, headers in credentials.items():
            status, body = _me(server, headers)
            assert status == 200, mechanism
            assert (body["first_name"], body["email"]) == ("Alicia", "alicia@example.com"), mechanism
