"""Production settings: check --deploy, the required secret key, the embedded secret, HTTPS.

The settings module reads the environment once at import, so each
configuration runs `manage.py` in a subprocess with exactly that environment
(and a temporary AUTHDEMO_VAR_DIR, so nothing touches the real var/ folder).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
# Everything the settings module reads, so the caller's shell cannot leak into a case.
_CONFIG_PREFIXES = ("DJANGO_", "DATABASE_", "REDIS_", "JWT_", "SESSION_", "LOGIN_RATELIMIT_", "AUTHDEMO_")
_CONFIG_NAMES = {"TRUSTED_PROXY_COUNT", "CACHE_KEY_PREFIX"}


def _base_env(var_dir: Path, *, services: bool = False, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(_CONFIG_PREFIXES) and k not in _CONFIG_NAMES
    }
    env["DJANGO_SETTINGS_MODULE"] = "authdemo.settings"
    env["AUTHDEMO_VAR_DIR"] = str(var_dir)
    if services:
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    env.update(extra)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _production_env(var_dir: Path, *, services: bool = False, **extra: str) -> dict[str, str]:
    return _base_env(
        var_dir,
        services=services,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        **extra,
    )


services_mode = pytest.mark.skipif(
    not (settings.REDIS_URL and os.environ.get("DATABASE_URL")),
    reason="services mode: needs DATABASE_URL and REDIS_URL",
)


def test_check_deploy_passes_embedded(tmp_path):
    env = _production_env(tmp_path)
    # `make serve` makes the embedded default's JWT key first (the secret key is the environment's).
    made = _manage("init_secrets", env=env)
    assert made.returncode == 0, made.stderr
    assert not (tmp_path / "secret_key").exists()
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_without_the_jwt_key_names_init_secrets(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(tmp_path))
    assert result.returncode != 0
    assert "(api.E002)" in result.stderr and "run python manage.py init_secrets" in result.stderr
    assert "Traceback" not in result.stderr
    # The check only reports: nothing was written.
    assert list(tmp_path.iterdir()) == []


@services_mode
def test_check_deploy_passes_in_services_mode(tmp_path):
    env = _production_env(tmp_path, services=True)
    assert _manage("init_secrets", env=env).returncode == 0
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_weakened_setting(tmp_path):
    """The check really runs with --fail-level WARNING: turning HSTS off fails it."""
    env = _production_env(tmp_path, DJANGO_SECURE_HSTS_SECONDS="0")
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


@pytest.mark.parametrize("secret", [None, ""])
def test_production_without_secret_key_refuses_to_start(tmp_path, secret):
    extra = {"DJANGO_DEBUG": "0"}
    if secret is not None:
        extra["DJANGO_SECRET_KEY"] = secret
    result = _manage("check", env=_base_env(tmp_path, **extra))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    # Production never invents a key of its own.
    assert not (tmp_path / "secret_key").exists()


def test_wsgi_application_without_secret_key_refuses_to_load(tmp_path):
    """What gunicorn imports fails at once, not at the first request."""
    result = subprocess.run(
        [sys.executable, "-c", "import authdemo.wsgi"],
        cwd=ROOT,
        env=_base_env(tmp_path, DJANGO_DEBUG="0"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY setting must not be empty" in result.stderr


def _print_secret_key(var_dir: Path) -> str:
    made = _manage("init_secrets", env=_base_env(var_dir, DJANGO_DEBUG="1"))
    assert made.returncode == 0, made.stderr
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env=_base_env(var_dir, DJANGO_DEBUG="1"),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_embedded_secret_key_is_made_once_by_init_secrets_and_stable(tmp_path):
    key_file = tmp_path / "secret_key"
    assert not key_file.exists()

    first = _print_secret_key(tmp_path)
    second = _print_secret_key(tmp_path)

    assert key_file.exists()
    assert first == second == key_file.read_text()
    assert len(first) >= 50
    # Readable by the owner only.
    assert key_file.stat().st_mode & 0o077 == 0
    # Another var/ folder gets another key: nothing is baked into the code.
    assert _print_secret_key(tmp_path / "other") != first


def test_environment_secret_key_wins_over_the_embedded_one(tmp_path):
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env=_base_env(tmp_path, DJANGO_DEBUG="1", DJANGO_SECRET_KEY="k" * 60),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "k" * 60
    assert not (tmp_path / "secret_key").exists()


_TRANSPORT = (
    "from django.conf import settings as s; import json; print(json.dumps({n: getattr(s, n, None) for n in ["
    "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
    "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER']}))"
)


def _transport(env: dict[str, str]) -> dict:
    import json

    result = _manage("shell", "--no-imports", "-c", _TRANSPORT, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_transport_settings(tmp_path):
    prod = _transport(_production_env(tmp_path))
    assert prod["DEBUG"] is False
    assert prod["SESSION_COOKIE_SECURE"] is True
    assert prod["CSRF_COOKIE_SECURE"] is True
    assert prod["SESSION_COOKIE_HTTPONLY"] is True
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["SECURE_HSTS_SECONDS"] >= 31536000
    # X-Forwarded-Proto is client-controlled unless a proxy is declared.
    assert prod["SECURE_PROXY_SSL_HEADER"] is None

    proxied = _transport(_production_env(tmp_path, DJANGO_BEHIND_TLS_PROXY="1"))
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_embedded_debug_transport_settings(tmp_path):
    dev = _transport(_base_env(tmp_path, DJANGO_DEBUG="1"))
    assert dev["DEBUG"] is True
    # http://127.0.0.1:8000 must work under `make run`.
    assert dev["SESSION_COOKIE_SECURE"] is False
    assert dev["SECURE_SSL_REDIRECT"] is False
    assert dev["SECURE_HSTS_SECONDS"] == 0


class TestHttpsBehindProxy:
    """Production redirect and HSTS, through the real middleware (in-process)."""

    @pytest.fixture(autouse=True)
    def _production_transport(self, settings):
        settings.SECURE_SSL_REDIRECT = True
        settings.SECURE_HSTS_SECONDS = 31536000
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def test_plain_http_is_redirected_to_https(self, client):
        response = client.get("/accounts/login/?next=/x/")
        assert response.status_code == 301
        assert response["Location"] == "https://testserver/accounts/login/?next=/x/"

    def test_request_forwarded_as_https_is_served_with_hsts(self, client):
        response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 200
        assert "max-age=31536000" in response["Strict-Transport-Security"]

    def test_spoofed_header_without_declared_proxy_is_ignored(self, client, settings):
        settings.SECURE_PROXY_SSL_HEADER = None
        response = client.get("/", HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 301

    def test_health_check_is_not_redirected(self, client):
        response = client.get("/api/health/")
        assert response.status_code != 301
