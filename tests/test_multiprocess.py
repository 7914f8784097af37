"""Two gunicorn worker processes share rate limits, revocations and sessions, in both modes.

`make serve` runs several worker processes behind one socket, with Redis
(services mode) or without (the embedded default: SQLite, the shared cache's
table and the revocation log). The test starts gunicorn with two
worker processes on the test database (and the test Redis, if any), and
checks over real HTTP that

- 30 parallel wrong logins against a username limit of 5 reach the password
  check at most 5 times in total (every 401 is one password check), though
  they land on both workers;
- a token revoked through one worker is refused by every worker at once;
- a session revoked by another process (this test's) is anonymous on every worker.

tests/test_one_host.py pins each request to a known process instead.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.livehttp import json_request, parallel, send
from tests.servers import database_url, gunicorn_start, stop, wait_healthy

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 5
PARALLEL = 30


def _request(url: str, **kwargs):
    return send(json_request(url, **kwargs))


@pytest.fixture
def gunicorn(tmp_path, user):
    """Start gunicorn with two worker processes on the test database (and Redis); yield (url, pids)."""
    access_log = tmp_path / "access.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "authdemo.test_settings",
        "DATABASE_URL": database_url(),
        "LOGIN_RATELIMIT_USERNAME": f"{LIMIT}/15m",
        "LOGIN_RATELIMIT_IP": "1000/m",
        "AUTHDEMO_VAR_DIR": str(settings.VAR_DIR),
    }
    process, url = gunicorn_start(
        env=env,
        output=tmp_path / "server.log",
        workers=2,
        threads=4,
        args=(
            "--keep-alive",
            "0",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %(m)s %(U)s %(s)s",
        ),
    )
    try:
        wait_healthy(url, process, output=tmp_path / "server.log")

        def pids(path_prefix: str) -> set[str]:
            lines = access_log.read_text().splitlines() if access_log.exists() else []
            return {
                m.group(1)
                for line in lines
                if (m := re.match(r"<(\d+)> \w+ (\S+)", line)) and m.group(2).startswith(path_prefix)
            }

        yield url, pids
    finally:
        stop(process)


def _on_both_workers(call, pids, path: str, *, at_least: int = 10) -> list:
    """Call ``call`` at least ``at_least`` times and until both workers have served ``path`` (200 at most)."""
    results = []
    while len(results) < at_least or len(pids(path)) < 2:
        assert len(results) < 200, "the second worker process never answered"
        results.append(call())
    return results


def test_rate_limit_holds_across_worker_processes(gunicorn, user):
    url, pids = gunicorn
    statuses = parallel(
        [
            (lambda: _request(f"{url}/api/auth/token/", body={"username": "Alice", "password": "nope"})[0])
            for _ in range(PARALLEL)
        ]
    )
    assert len(statuses) == PARALLEL
    assert set(statuses) <= {401, 429}, statuses
    # Each 401 is one attempt that reached the password check.
    assert statuses.count(401) <= LIMIT, statuses
    assert statuses.count(429) >= PARALLEL - LIMIT
    # Past the limit, every worker process refuses: the counter is shared.
    later = _on_both_workers(
        lambda: _request(f"{url}/api/auth/token/", body={"username": "alice", "password": "nope"})[0],
        pids,
        "/api/auth/token/",
    )
    assert set(later) == {429}, later


def test_revocation_through_one_worker_holds_in_every_worker(gunicorn, user, password):
    url, pids = gunicorn
    status, body, _ = _request(f"{url}/api/auth/token/", body={"username": "alice", "password": password})
    assert status == 200
    access = json.loads(body)["access"]
    bearer = {"Authorization": f"Bearer {access}"}
    # Warm every worker's view of the token (and its cached verdict).
    warm = _on_both_workers(lambda: _request(f"{url}/api/me/", headers=bearer)[0], pids, "/api/me/")
    assert set(warm) == {200}
    assert _request(f"{url}/api/auth/logout-all/", headers=bearer, method="POST")[0] == 204
    after = [_request(f"{url}/api/me/", headers=bearer) for _ in range(20)]
    assert {status for status, _, _ in after} == {401}
    assert {json.loads(body)["code"] for _, body, _ in after} == {"token_revoked"}


def test_session_revoked_through_one_worker_is_anonymous_on_every_worker(gunicorn, user, client):
    url, pids = gunicorn
    client.force_login(user)  # committed: the test is transactional
    name = settings.SESSION_COOKIE_NAME
    cookie = {"Cookie": f"{name}={client.cookies[name].value}"}
    warm = _on_both_workers(lambda: _request(f"{url}/api/me/", headers=cookie), pids, "/api/me/")
    assert {status for status, _, _ in warm} == {200}
    assert {json.loads(body)["auth"] for _, body, _ in warm} == {"session"}
    from accounts.services import sessions_revoke_all

    assert sessions_revoke_all(user=user) == 1
    after = [_request(f"{url}/api/me/", headers=cookie)[0] for _ in range(20)]
    # Anonymous now: 401 with the bearer challenge, on every worker.
    assert set(after) == {401}, after
