"""A SQLite DATABASE_URL gets the embedded default's concurrency settings: parallel writers never see a 5xx.

The settings module reads the environment once at import, so the server runs
in a subprocess (gunicorn, as `make serve` starts it) with exactly that
environment and a temporary AUTHDEMO_VAR_DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.livehttp import json_request, parallel, send
from tests.servers import gunicorn_running

ROOT = Path(__file__).resolve().parent.parent
_CONFIG_PREFIXES = ("DJANGO_", "DATABASE_", "REDIS_", "JWT_", "SESSION_", "LOGIN_RATELIMIT_", "AUTHDEMO_")
PASSWORD = "correct horse battery staple"
PARALLEL = 8


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG_PREFIXES)}
    env.update(
        DJANGO_SETTINGS_MODULE="authdemo.settings",
        DJANGO_DEBUG="1",
        AUTHDEMO_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'some' / 'file.sqlite3'}",
    )
    (tmp_path / "some").mkdir()
    return env


def _manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_sqlite_database_url_gets_the_embedded_concurrency_options(tmp_path):
    printed = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; import json; "
        "print(json.dumps(settings.DATABASES['default']['OPTIONS']))",
        env=_env(tmp_path),
    )
    options = json.loads(printed)
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 20
    assert "journal_mode=WAL" in options["init_command"]


@pytest.mark.live
def test_parallel_refreshes_on_a_sqlite_database_url_never_answer_5xx(tmp_path):
    env = _env(tmp_path)
    _manage("init_secrets", env=env)
    _manage("migrate", "--noinput", env=env)
    _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user(username='alice', password={PASSWORD!r})",
        env=env,
    )
    # Worker processes with their threads, as `make serve` runs without REDIS_URL.
    with gunicorn_running(env=env, output=tmp_path / "server.log", workers=2, threads=None) as base:
        status, raw, _ = send(
            json_request(f"{base}/api/auth/token/", body={"username": "alice", "password": PASSWORD})
        )
        assert status == 200, raw
        refresh = json.loads(raw)["refresh"]
        results = parallel(
            [lambda: send(json_request(f"{base}/api/auth/token/refresh/", body={"refresh": refresh}))]
            * PARALLEL
        )
        statuses = [status for status, _, _ in results]
        assert len(statuses) == PARALLEL
        assert all(status < 500 for status in statuses), statuses
        assert 200 in statuses
        assert "database is locked" not in (tmp_path / "server.log").read_text()
