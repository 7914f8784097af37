"""The `manage.py` commands the README and the project print work as printed in a fresh checkout.

Each test copies the tracked files into an empty folder (a clone without
var/) and runs the commands there with no DJANGO_* variable set, as a
newcomer's shell has none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_CONFIG_PREFIXES = (
    "DJANGO_",
    "DATABASE_",
    "REDIS_",
    "JWT_",
    "SESSION_",
    "LOGIN_RATELIMIT_",
    "AUTHDEMO_",
    "SITE_",
)
NEW_PASSWORD = "Another-long-passw0rd"


@pytest.fixture
def clone(tmp_path) -> Path:
    """A fresh checkout: the tracked files only (no var/, no .venv)."""
    listed = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    target = tmp_path / "authdemo"
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def _manage(clone: Path, *args: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG_PREFIXES)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=clone,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no terminal: getpass() reads the new password from stdin
        check=False,
    )


def test_a_fresh_checkout_names_init_secrets_and_writes_nothing(clone):
    for command in (["migrate", "--noinput"], ["check"], ["createsuperuser", "--noinput"]):
        refused = _manage(clone, *command)
        assert refused.returncode != 0
        # One clear line naming the step, not a traceback.
        assert "run python manage.py init_secrets" in refused.stderr
        assert "Traceback" not in refused.stderr
    # Importing the settings wrote nothing: no var/ folder at all.
    assert not (clone / "var").exists()


def test_printed_commands_work_in_a_fresh_checkout_without_any_setting(clone):
    steps = [
        _manage(clone, "init_secrets"),
        _manage(clone, "migrate", "--noinput"),
        _manage(
            clone,
            "createsuperuser",
            "--noinput",
            "--username",
            "admin",
            "--email",
            "admin@example.com",
            DJANGO_SUPERUSER_PASSWORD="A-long-passw0rd-for-admin",
        ),
        _manage(clone, "changepassword", "admin", stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"),
        _manage(clone, "jwt_rotate_key"),
    ]
    for result in steps:
        assert result.returncode == 0, result.args[2:] and (result.stdout + result.stderr)[-2000:]
    assert "Wrote a new secret key" in steps[0].stdout
    assert "Wrote a new JWT signing key" in steps[0].stdout
    assert "Password changed successfully" in steps[3].stdout
    assert "Now signing with" in steps[4].stdout
    # The embedded default: its state in the checkout's var/, the secret key made there by init_secrets.
    assert (clone / "var" / "db.sqlite3").exists()
    assert (clone / "var" / "secret_key").stat().st_mode & 0o077 == 0
    check = _manage(
        clone,
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"print(get_user_model().objects.get(username='admin').check_password({NEW_PASSWORD!r}))",
    )
    assert check.stdout.strip() == "True", check.stderr


def test_production_settings_stay_strict_in_a_fresh_checkout(clone):
    # An explicit DJANGO_DEBUG=0 without a key refuses, and invents no key.
    refused = _manage(clone, "check", DJANGO_DEBUG="0")
    assert refused.returncode != 0
    assert "SECRET_KEY" in refused.stderr
    assert not (clone / "var" / "secret_key").exists()
    # The deployment check never passes on the development default.
    deploy = _manage(clone, "check", "--deploy", "--fail-level", "WARNING")
    assert deploy.returncode != 0
    assert "DEBUG" in deploy.stdout + deploy.stderr
    # A production key without DJANGO_DEBUG stays production (DEBUG off).
    prod = _manage(
        clone,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        DJANGO_SECRET_KEY="k" * 60,
    )
    assert prod.stdout.strip() == "False", prod.stderr
