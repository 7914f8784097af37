"""Several worker processes on one host without Redis behave as one site (the embedded default).

`make serve` without REDIS_URL starts several gunicorn worker processes over
one SQLite file: each keeps the hot path in its own cache, and they share
the database, whose shared-cache table holds the login limits and the lab
records (authcache.shared), and the var folder, whose revocation log
file makes every process drop what it cached before a revocation
(authcache.live). Here two gunicorn servers of one worker process each
stand for two workers of one `make serve`, so the test knows which process
serves each request. Services mode has the same checks across hosts in
tests/test_instances.py.
"""

from __future__ import annotations

import os

import pytest

from tests.instances import Browser, instances_running
from tests.livehttp import parallel

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        bool(os.environ.get("REDIS_URL")), reason="without REDIS_URL only (services mode: test_instances.py)"
    ),
]

LIMIT = 5
NEW_PASSWORD = "another pass 123"


@pytest.fixture(scope="module")
def processes(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two processes on one host for the whole module (the tables are flushed after each test)."""
    env = {
        "LOGIN_RATELIMIT_USERNAME": f"{LIMIT}/15m",
        "LOGIN_RATELIMIT_IP": "1000/m",
        # No verifier: the revocation lab reports it unreachable at once.
        "VERIFIER_URL": "http://127.0.0.1:9",
        "VERIFIER_TIMEOUT": "0.5",
    }
    with (
        django_db_blocker.unblock(),
        instances_running(
            2, tmp_path=tmp_path_factory.mktemp("one-host"), env=env, workers=1, one_host=True
        ) as urls,
    ):
        yield urls


def _token_login(url: str, password: str) -> tuple[int, dict]:
    body = {"username": "alice", "password": password}
    return Browser().request(f"{url}/api/auth/token/", "POST", json_body=body)


def _bearer(access: str) -> dict:
    return {"Authorization": f"Bearer {access}"}


def test_login_limit_is_counted_once_for_both_processes(processes, user, password):
    a, b = processes
    statuses = [_token_login(url, "nope")[0] for url in (a, b) * LIMIT]
    # The attempt after the limit is refused, whichever process counted the others.
    assert statuses == [401] * LIMIT + [429] * LIMIT
    for url in (a, b):
        assert _token_login(url, password)[0] == 429
        assert Browser().form_login(url, "alice", password) == 429


def test_parallel_attempts_on_both_processes_reach_the_password_check_limit_times(processes, user):
    a, b = processes
    statuses = parallel([lambda url=url: _token_login(url, "nope")[0] for url in (a, b) * 15])
    # Counted before the password check, atomically across processes and threads:
    # exactly LIMIT attempts get a 401 (a wrong password), every other one a 429.
    assert sorted(statuses) == [401] * LIMIT + [429] * (30 - LIMIT)


def test_a_lab_run_made_on_one_process_is_found_on_the_other(processes, user, password):
    a, b = processes
    victim = Browser()
    assert victim.form_login(a, "alice", password) == 302
    status, run = victim.request(f"{a}/lab/xss-csrf/runs/", "POST", headers=victim.csrf())
    assert status == 201, run
    # The attack lands on the other process: its observer finds the run and records what it saw.
    attack = f"{b}/api/auth/logout-all/?lab_run={run['run_id']}&lab_attack=fetch-logout-all"
    assert victim.request(attack, "POST")[0] == 403
    for url in (a, b):
        status, report = victim.request(f"{url}{run['report_url']}")
        assert status == 200, report
        (seen,) = [x for x in report["attacks"] if x["name"] == "fetch-logout-all"]
        assert (seen["request"]["status"], seen["stopped_by"]) == (403, "csrf"), seen

    # The revocation lab: a session ended through one process, replayed by the other.
    warm = [victim.request(f"{b}/api/me/")[1]["auth"] for _ in range(3)]
    assert warm == ["session"] * 3
    status, lab = victim.request(
        f"{a}/lab/revocation/run/", "POST", json_body={"action": "session_end"}, headers=victim.csrf()
    )
    assert (status, lab["session"]["status"]) == (201, 401), lab
    status, replay = victim.request(f"{b}{lab['replay_url']}", "POST", headers=victim.csrf())
    assert (status, replay["lab_id"], replay["session"]["status"]) == (200, lab["lab_id"], 401), replay


def test_a_revocation_through_one_process_is_refused_by_the_other_at_once(processes, user, password):
    a, b = processes
    changer, other = Browser(), Browser()
    assert changer.form_login(a, "alice", password) == 302
    assert other.form_login(a, "alice", password) == 302
    status, pair = _token_login(a, password)
    assert status == 200
    cookies = Browser()
    assert cookies.request(
        f"{b}/api/auth/cookie/login/", "POST", json_body={"username": "alice", "password": password}
    )[0] == 200
    credentials = {
        "changer": lambda url: changer.request(f"{url}/api/me/"),
        "other session": lambda url: other.request(f"{url}/api/me/"),
        "bearer": lambda url: Browser().request(f"{url}/api/me/", headers=_bearer(pair["access"])),
        "cookie": lambda url: cookies.request(f"{url}/api/me/"),
    }
    for _ in range(3):  # warm both processes' own caches: sessions, verdicts, user snapshots
        for name, me in credentials.items():
            for url in (a, b):
                assert me(url)[0] == 200, (name, url)

    status, _ = changer.form_post(
        f"{a}/accounts/password_change/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert status == 302
    # At once on the other process: every other credential is dead, the changer's session lives on.
    for name in ("other session", "bearer", "cookie"):
        status, body = credentials[name](b)
        assert status == 401, (name, body)
    assert credentials["bearer"](b)[1]["code"] == "token_revoked"
    assert credentials["changer"](b)[0] == 200

    # Logging out everywhere through b ends the changer's session on a, warm there, at once.
    assert credentials["changer"](a)[0] == 200
    assert changer.request(f"{b}/api/auth/logout-all/", "POST", headers=changer.csrf())[0] == 204
    status, body = credentials["changer"](a)
    assert (status, body["code"]) == (401, "not_authenticated")
