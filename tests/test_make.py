"""The Makefile: what `make run`, `make test` and `make serve` run, and that they install only when needed.

Most tests run the real Makefile in a scratch folder where `python3` is a fake
that logs its arguments (and creates a fake virtualenv of the same kind), so
they check the wiring without network or a real install. One test starts the
real `make serve` (gunicorn, production settings) and talks to it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, gunicorn_config

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")

# Logs "<program> <args>" plus the DJANGO_DEBUG it saw (and, on a line of its
# own, the verifier's JWKS_URL when set); `-m venv DIR` builds a fake venv
# whose programs are this same script. It ignores SIGTERM, and a fake
# runserver waits until the background verifier has logged, so `make run`'s
# stop of the verifier cannot cut the log short however loaded the machine.
# FAKE_FAIL_ON=<word> makes any call whose arguments contain <word> exit with
# FAKE_FAIL_CODE.
FAKE_PROGRAM = """#!/bin/sh
trap '' TERM
echo "$(basename "$0") $* | DJANGO_DEBUG=${DJANGO_DEBUG-unset}" >> "$FAKE_LOG"
if [ -n "${JWKS_URL-}" ]; then
    echo "env JWKS_URL=$JWKS_URL VERIFIER_ALLOWED_ORIGINS=${VERIFIER_ALLOWED_ORIGINS-unset}" >> "$FAKE_LOG"
fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    for p in python ruff gunicorn; do cp "$FAKE_SELF" "$3/bin/$p"; done
fi
case "$*" in *runserver*)
    echo "env SITE_URL=${SITE_URL-unset} DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS-unset}" >> "$FAKE_LOG"
    n=0
    while [ $n -lt 200 ] && ! grep -q "^gunicorn " "$FAKE_LOG"; do sleep 0.05; n=$((n + 1)); done;;
esac
if [ -n "${FAKE_FAIL_ON-}" ]; then
    case "$*" in *"$FAKE_FAIL_ON"*) exit "${FAKE_FAIL_CODE:-1}";; esac
fi
exit 0
"""


class Sandbox:
    def __init__(self, path: Path):
        self.path = path
        self.log = path / "calls.log"
        fake = path / "fake-python3"
        fake.write_text(FAKE_PROGRAM)
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        self.fake = fake
        shutil.copy(ROOT / "Makefile", path / "Makefile")
        for name in ("requirements.txt", "requirements-dev.txt"):
            (path / name).write_text("# pins\n")

    def make(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        self.log.write_text("")
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "MAKE", "PORT", "HOST", "VERIFIER_"))
            and k not in {"MFLAGS", "PORT", "HOST", "JWKS_URL", "SITE_URL"}
        }
        base.update(FAKE_LOG=str(self.log), FAKE_SELF=str(self.fake), PYTHON=str(self.fake))
        base.update(env)
        return subprocess.run(
            [MAKE, "--no-print-directory", *args],
            cwd=self.path,
            env=base,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def touch_later(self, name: str) -> None:
        """Make ``name`` newer than every stamp (as an edit after the install would)."""
        later = time.time() + 5
        os.utime(self.path / name, (later, later))


@pytest.fixture
def sandbox(tmp_path) -> Sandbox:
    return Sandbox(tmp_path)


def _matching(calls: list[str], *words: str) -> list[str]:
    return [c for c in calls if all(w in c for w in words)]


def test_run_on_a_fresh_machine(sandbox):
    result = sandbox.make("run", PORT="8123")
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    assert _matching(calls, "-m venv .venv")
    assert _matching(calls, "pip", "install", "-r requirements.txt")
    assert not _matching(calls, "requirements-dev.txt")
    secrets = _matching(calls, "manage.py init_secrets")
    migrate = _matching(calls, "manage.py migrate")
    demo = _matching(calls, "manage.py demo_user")
    serve = _matching(calls, "manage.py runserver 127.0.0.1:8123")
    assert secrets and migrate and demo and serve
    # DEBUG defaults to on under `make run` only.
    assert all(c.endswith("DJANGO_DEBUG=1") for c in secrets + migrate + demo + serve)
    # The embedded default's secrets are made (once) before anything reads them.
    assert calls.index(secrets[0]) < calls.index(migrate[0]) < calls.index(demo[0]) < calls.index(serve[0])


def test_run_is_opened_at_localhost_for_passkeys(sandbox):
    # WebAuthn refuses an IP address as the relying party ID: bound to 127.0.0.1, opened at localhost.
    result = sandbox.make("run", PORT="8123")
    assert result.returncode == 0, result.stderr
    assert "open http://localhost:8123/" in result.stdout
    assert _matching(sandbox.calls(), "runserver 127.0.0.1:8123")
    assert _matching(sandbox.calls(), "env SITE_URL=http://localhost:8123 DJANGO_ALLOWED_HOSTS=unset")
    # An explicit host list gains localhost; an explicit SITE_URL or another HOST is kept as it is.
    assert sandbox.make("run", DJANGO_ALLOWED_HOSTS="127.0.0.1").returncode == 0
    assert _matching(sandbox.calls(), "DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost")
    assert sandbox.make("run", DJANGO_ALLOWED_HOSTS="localhost,x").returncode == 0
    assert _matching(sandbox.calls(), "DJANGO_ALLOWED_HOSTS=localhost,x")
    assert sandbox.make("run", SITE_URL="http://demo.test:8000").returncode == 0
    assert _matching(sandbox.calls(), "env SITE_URL=http://demo.test:8000 DJANGO_ALLOWED_HOSTS=unset")
    assert sandbox.make("run", HOST="0.0.0.0").returncode == 0
    assert _matching(sandbox.calls(), "env SITE_URL=http://0.0.0.0:8000")


def test_run_starts_the_stateless_verifier_beside_the_site(sandbox):
    result = sandbox.make("run", PORT="8123", VERIFIER_PORT="8124")
    assert result.returncode == 0, result.stderr
    assert "Stateless verifier on http://127.0.0.1:8124/whoami" in result.stdout
    calls = sandbox.calls()
    (verifier,) = _matching(calls, "gunicorn ")
    assert "--config verifier/gunicorn.conf.py" in verifier
    assert "--bind 127.0.0.1:8124" in verifier
    # It trusts the keys of the site it starts beside, and that site's pages.
    assert _matching(calls, "env JWKS_URL=http://127.0.0.1:8123/.well-known/jwks.json")
    assert _matching(calls, "VERIFIER_ALLOWED_ORIGINS=http://127.0.0.1:8123,http://localhost:8123")
    (demo,) = _matching(calls, "demo_user")
    (serve,) = _matching(calls, "runserver 127.0.0.1:8123")
    assert calls.index(demo) < calls.index(verifier) and calls.index(demo) < calls.index(serve)
    # The site's exit status is make's, whatever became of the verifier.
    assert sandbox.make("run", FAKE_FAIL_ON="runserver", FAKE_FAIL_CODE="3").returncode != 0


def test_verifier_target_follows_host_and_ports(sandbox):
    result = sandbox.make("verifier", HOST="0.0.0.0", VERIFIER_PORT="9001", PORT="9000")
    assert result.returncode == 0, result.stderr
    assert "Stateless verifier on http://0.0.0.0:9001/whoami" in result.stdout
    calls = sandbox.calls()
    (verifier,) = _matching(calls, "gunicorn ")
    assert "--bind 0.0.0.0:9001" in verifier
    assert _matching(calls, "env JWKS_URL=http://127.0.0.1:9000/.well-known/jwks.json")
    # It touches no database: no manage.py at all.
    assert not _matching(calls, "manage.py")

    assert sandbox.make("verifier", JWKS_URL="https://auth.example/.well-known/jwks.json").returncode == 0
    assert _matching(sandbox.calls(), "env JWKS_URL=https://auth.example/.well-known/jwks.json")


def test_run_default_port_and_explicit_debug(sandbox):
    assert sandbox.make("run", DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50).returncode == 0
    calls = sandbox.calls()
    serve = _matching(calls, "manage.py runserver")
    assert serve == ["python manage.py runserver 127.0.0.1:8000 | DJANGO_DEBUG=0"]
    # Production settings render pages from the collected manifest: collected first.
    # The embedded default's JWT key is made too (the secret key is the environment's).
    (secrets,) = _matching(calls, "manage.py init_secrets")
    (static,) = _matching(calls, "manage.py collectstatic")
    assert calls.index(static) < calls.index(serve[0])
    assert calls.index(secrets) < calls.index(serve[0])


def test_run_in_production_mode_without_secret_key_explains_and_starts_nothing(sandbox):
    result = sandbox.make("run", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "needs DJANGO_SECRET_KEY" in result.stderr
    assert not _matching(sandbox.calls(), "manage.py")


def test_run_debug_collects_nothing(sandbox):
    assert sandbox.make("run").returncode == 0
    assert not _matching(sandbox.calls(), "collectstatic")


def test_second_run_installs_nothing_until_requirements_change(sandbox):
    assert sandbox.make("run").returncode == 0
    assert sandbox.make("run").returncode == 0
    calls = sandbox.calls()
    assert not _matching(calls, "venv")
    assert not _matching(calls, "pip")
    assert _matching(calls, "runserver")

    sandbox.touch_later("requirements.txt")
    assert sandbox.make("run").returncode == 0
    assert _matching(sandbox.calls(), "pip", "install", "-r requirements.txt")
    assert not _matching(sandbox.calls(), "-m venv")


def test_run_with_database_url_creates_no_demo_user(sandbox):
    result = sandbox.make("run", DATABASE_URL="postgres://postgres@127.0.0.1:5432/x")
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    assert _matching(calls, "manage.py migrate")
    assert not _matching(calls, "demo_user")
    assert _matching(calls, "runserver")


def test_run_stops_when_init_secrets_fails(sandbox):
    result = sandbox.make("run", FAKE_FAIL_ON="init_secrets")
    assert result.returncode != 0
    assert not _matching(sandbox.calls(), "migrate")
    assert not _matching(sandbox.calls(), "runserver")
    assert not _matching(sandbox.calls(), "gunicorn")


def test_run_stops_when_migrate_fails(sandbox):
    result = sandbox.make("run", FAKE_FAIL_ON="migrate")
    assert result.returncode != 0
    assert not _matching(sandbox.calls(), "runserver")
    assert not _matching(sandbox.calls(), "gunicorn")


def test_test_installs_dev_requirements_and_runs_pytest(sandbox):
    result = sandbox.make("test")
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    assert _matching(calls, "pip", "install", "-r requirements-dev.txt")
    (secrets,) = _matching(calls, "manage.py init_secrets")
    (pytest_call,) = _matching(calls, "-m pytest")
    assert calls.index(secrets) < calls.index(pytest_call)

    # Dev pins include the runtime pins: a later `make run` installs nothing.
    assert sandbox.make("run").returncode == 0
    assert not _matching(sandbox.calls(), "pip")

    sandbox.touch_later("requirements-dev.txt")
    assert sandbox.make("test").returncode == 0
    assert _matching(sandbox.calls(), "pip", "install", "-r requirements-dev.txt")


@pytest.mark.parametrize("code", ["1", "5"])
def test_test_fails_when_pytest_fails_or_collects_nothing(sandbox, code):
    result = sandbox.make("test", FAKE_FAIL_ON="pytest", FAKE_FAIL_CODE=code)
    assert result.returncode != 0


def test_test_stops_when_init_secrets_fails(sandbox):
    assert sandbox.make("test", FAKE_FAIL_ON="init_secrets").returncode != 0
    assert not _matching(sandbox.calls(), "-m pytest")


def test_serve_without_secret_key_explains_and_starts_nothing(sandbox):
    result = sandbox.make("serve")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    calls = sandbox.calls()
    assert not _matching(calls, "manage.py")
    assert not _matching(calls, "gunicorn")


def test_serve_without_redis_runs_several_workers(sandbox):
    result = sandbox.make("serve", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    (secrets,) = _matching(calls, "manage.py init_secrets")
    migrate = _matching(calls, "manage.py migrate")
    static = _matching(calls, "manage.py collectstatic")
    (gunicorn,) = _matching(calls, "gunicorn ")
    assert migrate and static
    assert all(c.endswith("DJANGO_DEBUG=0") for c in [secrets, *migrate, *static, gunicorn])
    # The embedded JWT key is made before anything starts (the secret key comes from the environment).
    assert calls.index(secrets) < calls.index(migrate[0])
    assert "--config authdemo/gunicorn.conf.py" in gunicorn
    assert "--bind 127.0.0.1:8000" in gunicorn
    # Several processes: they share login limits and revocations through the
    # database and the var folder (tests/test_one_host.py).
    assert int(gunicorn.split("--workers ")[1].split()[0]) >= 2
    assert "--threads 4 " in gunicorn + " "
    # It creates no demo user; it only warns if one from `make run` could log in.
    demo_calls = [c.split(" | ")[0] for c in _matching(calls, "demo_user")]
    assert demo_calls == ["python manage.py demo_user --check"]
    assert not _matching(calls, "runserver")


def test_serve_with_redis_runs_several_workers_on_host_and_port(sandbox):
    result = sandbox.make(
        "serve", DJANGO_SECRET_KEY="x" * 50, REDIS_URL="redis://127.0.0.1:6379/0", HOST="0.0.0.0", PORT="9000"
    )
    assert result.returncode == 0, result.stderr
    (gunicorn,) = _matching(sandbox.calls(), "gunicorn ")
    assert "--bind 0.0.0.0:9000" in gunicorn
    workers = int(gunicorn.split("--workers ")[1].split()[0])
    assert workers >= 2
    assert "--threads 2 " in gunicorn + " "
    assert all("--check" in c for c in _matching(sandbox.calls(), "demo_user"))


@pytest.mark.parametrize("redis", ["", "redis://127.0.0.1:6379/0"])
def test_serve_takes_workers_and_threads_from_the_make_variables(sandbox, redis):
    result = sandbox.make(
        "serve", DJANGO_SECRET_KEY="x" * 50, REDIS_URL=redis, SERVE_WORKERS="3", SERVE_THREADS="6"
    )
    assert result.returncode == 0, result.stderr
    (gunicorn,) = _matching(sandbox.calls(), "gunicorn ")
    assert "--workers 3 --threads 6 " in gunicorn + " "


def test_serve_even_with_debug_in_the_environment_is_production(sandbox):
    assert sandbox.make("serve", DJANGO_SECRET_KEY="x" * 50, DJANGO_DEBUG="1").returncode == 0
    (gunicorn,) = _matching(sandbox.calls(), "gunicorn ")
    assert gunicorn.endswith("DJANGO_DEBUG=0")


def test_lint_runs_ruff(sandbox):
    assert sandbox.make("lint").returncode == 0
    assert _matching(sandbox.calls(), "ruff check .")
    assert sandbox.make("lint", FAKE_FAIL_ON="check").returncode != 0


# --- the real thing -------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _runtime_installed() -> bool:
    """Whether `make serve` would start without installing anything (`make -q` on the stamp)."""
    return (
        subprocess.run(
            [MAKE, "-q", ".venv/.runtime-installed"], cwd=ROOT, capture_output=True, check=False
        ).returncode
        == 0
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "JWT_", "MAKE", "AUTHDEMO_", "VERIFIER_"))
        and k not in {"MFLAGS", "HOST", "PORT", "JWKS_URL"}
    }
    env.update(extra)
    return env


def _wait_until_served(url: str, proc: subprocess.Popen, log: Path, **headers: str):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return _get(url, **headers)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing served at {url}:\n{log.read_text()}")


def _make_start(target: str, env: dict, log: Path) -> subprocess.Popen:
    """Start ``make <target>`` in its own process group, its output in ``log``; stop it with _stop()."""
    with log.open("w") as out:
        return subprocess.Popen(
            [MAKE, "--no-print-directory", target],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.mark.live
def test_make_run_really_serves_and_the_printed_demo_user_logs_in(tmp_path):
    if not _runtime_installed():
        pytest.skip("the .venv is not installed by make; `make test` installs it")
    port, verifier_port = free_port(), free_port()
    log = tmp_path / "run.log"
    env = _clean_env(AUTHDEMO_VAR_DIR=str(tmp_path / "var"), PORT=str(port), VERIFIER_PORT=str(verifier_port))
    proc = _make_start("run", env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        status, _, body = _wait_until_served(base + "/", proc, log)
        assert status == 200
        assert b"Session" in body and b"JWT" in body
        password = (tmp_path / "var" / "demo_password").read_text()
        assert f"Demo user: demo  password: {password}" in log.read_text()
        # The printed credentials obtain a JWT pair.
        request = urllib.request.Request(
            base + "/api/auth/token/",
            data=json.dumps({"username": "demo", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            pair = json.load(response)
            assert {"access", "refresh"} <= set(pair)
        # The stateless verifier started beside the site accepts that token.
        whoami = f"http://127.0.0.1:{verifier_port}/whoami"
        status, _, body = _wait_until_served(whoami, proc, log, Authorization=f"Bearer {pair['access']}")
        assert status == 200, body
        assert json.loads(body)["claims"]["token_type"] == "access"
        assert f"Stateless verifier on http://127.0.0.1:{verifier_port}/whoami" in log.read_text()
    finally:
        _stop(proc)


@pytest.mark.live
def test_make_run_with_debug_off_serves_every_page_with_its_static_files(tmp_path):
    if not _runtime_installed():
        pytest.skip("the .venv is not installed by make; `make test` installs it")
    port = free_port()
    log = tmp_path / "run.log"
    env = _clean_env(
        AUTHDEMO_VAR_DIR=str(tmp_path / "var"),
        PORT=str(port),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="s" * 60,
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    proc = _make_start("run", env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        status, _, body = _wait_until_served(base + "/", proc, log)
        assert status == 200, log.read_text()
        for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password_reset/", "/api/docs/"):
            status, _, body = _get(base + path)
            assert status == 200, (path, status, log.read_text()[-2000:])
        # The page links its stylesheet by its hashed name, and that file is served.
        status, _, body = _get(base + "/accounts/login/")
        css = re.search(rb'href="(/static/css/site\.[0-9a-f]+\.css)"', body)
        assert css, body[:500]
        assert _get(base + css.group(1).decode())[0] == 200
    finally:
        _stop(proc)


@pytest.mark.live
def test_make_serve_really_serves_in_production_mode(tmp_path):
    if not _runtime_installed():
        pytest.skip("the .venv is not installed by make; `make test` installs it")
    port = free_port()
    env = _clean_env(
        DJANGO_SECRET_KEY="s" * 60,
        AUTHDEMO_VAR_DIR=str(tmp_path / "var"),
        DJANGO_BEHIND_TLS_PROXY="1",
        PORT=str(port),
    )
    log = tmp_path / "serve.log"
    proc = _make_start("serve", env, log)
    try:
        base = f"http://127.0.0.1:{port}"
        status, headers, _ = _wait_until_served(base + "/", proc, log, **{"X-Forwarded-Proto": "https"})
        assert status == 200, log.read_text()
        assert "max-age=" in headers.get("Strict-Transport-Security", "")
        # Several worker processes without REDIS_URL too.
        workers = re.search(r"with (\d+) worker process\(es\) x 4 threads", log.read_text())
        assert workers and int(workers.group(1)) >= 2, log.read_text()
        # Static files come from whitenoise, collected by `make serve`.
        assert (tmp_path / "var" / "staticfiles" / "staticfiles.json").exists()
        # The JWT key of the embedded default was made; the secret key came from the environment.
        assert (tmp_path / "var" / "jwt" / "signing_key.pem").exists()
        assert not (tmp_path / "var" / "secret_key").exists()
        # Plain HTTP (no proxy header) is sent to HTTPS.
        status, headers, _ = _get(base + "/accounts/login/")
        assert status == 301
        assert headers["Location"].startswith("https://")
        # A host not in DJANGO_ALLOWED_HOSTS is refused, not served.
        status, _, body = _get(base + "/", Host="evil.example", **{"X-Forwarded-Proto": "https"})
        assert status == 400
        assert b"Traceback" not in body
        # No demo user in production mode, and no warning about one.
        assert "Demo user" not in log.read_text()
        assert "demo user" not in log.read_text()
    finally:
        _stop(proc)


def test_gunicorn_config():
    cfg = gunicorn_config(ROOT / "authdemo" / "gunicorn.conf.py")
    assert cfg.wsgi_app == "authdemo.wsgi:application"
    assert cfg.worker_class_str == "gthread"
    assert cfg.threads >= 2
    # Django alone decides HTTPS (DJANGO_BEHIND_TLS_PROXY); gunicorn trusts no header.
    assert cfg.secure_scheme_headers == {}
    # Nothing can add workers at runtime; no recycling of a worker's warm cache.
    assert cfg.control_socket_disable is True
    assert cfg.max_requests == 0
    # A 16 KB bearer token reaches the app.
    assert cfg.limit_request_field_size >= 16 * 1024 + 100
