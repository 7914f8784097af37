"""The authdemo servers the HTTP bench starts (site, stateless twin, verifier), their loads and logins."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.parse
from pathlib import Path

from authdemo.cookienames import cookie_name_forms
from bench.querycount import QUERY_DIR_ENV
from bench.wire import (
    MECHANISMS,
    ROOT,
    Answer,
    BenchError,
    Load,
    Login,
    Server,
    auth_is,
    free_port,
    ok,
    post_json,
    request,
    spawn,
    wait_ready,
    without_settings_module,
)

BENCH_USER = "bench-load"


def _authdemo_env(*, mode_env: dict, var_dir: Path, port: int, secret: str, stateless: bool) -> dict:
    # MAKEFLAGS carries `make bench VAR=...` overrides into the nested `make serve`: the mode is mode_env's.
    dropped = ("DATABASE_URL", "REDIS_URL", "JWT_STATELESS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(mode_env)
    env.update(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DJANGO_SECRET_KEY": secret,
            "AUTHDEMO_VAR_DIR": str(var_dir),
            # Plain HTTP on loopback: no redirect to HTTPS (the bench has no TLS proxy).
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            # Tokens outlive the run (300 s by default).
            "JWT_ACCESS_LIFETIME": "3600",
            # Hundreds of logins from one IP and user: measured, not limited.
            "LOGIN_RATELIMIT_USERNAME": "1000000/m",
            "LOGIN_RATELIMIT_IP": "1000000/m",
            "JWT_STATELESS": "1" if stateless else "0",
            # Each worker counts the requests that reached the database (bench/querycount.py).
            QUERY_DIR_ENV: str(var_dir / f"queries-{port}"),
        }
    )
    return env


_USER_SCRIPT = """
import json
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher
User = get_user_model()
# An address under .invalid (RFC 2606), new each run: it never clashes with an account's.
user, _ = User.objects.get_or_create(username={name!r}, defaults={{"email": {email!r}}})
user.is_active = True
user.set_password({password!r})
user.save()
hasher = get_hasher()
print("BENCHJSON " + json.dumps({{
    "hasher": type(hasher).__name__, "memory_kib": getattr(hasher, "memory_cost", 0),
    "time_cost": getattr(hasher, "time_cost", 0), "parallelism": getattr(hasher, "parallelism", 0),
    "concurrency": getattr(settings, "PASSWORD_HASH_CONCURRENCY", 0),
}}))
"""


def manage(env: dict, *args: str) -> str:
    env = without_settings_module(env)
    done = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py {args[0]} failed:\n{done.stderr[-1500:]}")
    return done.stdout


def start_authdemo(*, mode: str, mode_env: dict, tmp: Path) -> tuple[Server, Server, dict, dict]:
    """Start authdemo and its stateless twin in one mode; return both, the bench credentials, the hasher."""
    var_dir = tmp / f"var-{mode}"
    var_dir.mkdir()
    secret = secrets.token_urlsafe(50)
    workers = f"several workers, {2 if mode_env.get('REDIS_URL') else 4} threads each"
    servers: list[Server] = []
    try:
        for stateless in (False, True):
            port = free_port()
            env = _authdemo_env(
                mode_env=mode_env, var_dir=var_dir, port=port, secret=secret, stateless=stateless
            )
            name = f"authdemo {mode}" + (" stateless" if stateless else "")
            server = spawn(
                name,
                "authdemo",
                ["make", "--no-print-directory", "serve"],
                cwd=ROOT,
                env=env,
                port=port,
                log_dir=tmp,
            )
            server.note = workers
            servers.append(server)
            # One after the other: the second shares the first's database, keys and migrations.
            wait_ready(server, "/api/health/")
            if not stateless:
                password = secrets.token_urlsafe(24)
                email = f"{BENCH_USER}-{secrets.token_hex(4)}@bench.invalid"
                script = _USER_SCRIPT.format(name=BENCH_USER, password=password, email=email)
                out = manage(env, "shell", "-c", script)
                report = next(line for line in out.splitlines() if line.startswith("BENCHJSON "))
                hasher = json.loads(report[len("BENCHJSON ") :])
                credentials = {"username": BENCH_USER, "password": password}
    except BaseException:
        # A later step failed: the servers already started must not outlive the run.
        for server in servers:
            server.stop()
        raise
    return servers[0], servers[1], credentials, hasher


def bench_user_delete(server: Server) -> None:
    """Delete the bench user from ``server``'s database (the services database outlives the run)."""
    manage(
        server.env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.filter(username={BENCH_USER!r}).delete()",
    )


def _cookie(answer: Answer, name: str) -> str:
    """Return ``name=value`` of the cookie ``name`` in ``answer``, under the name form the server uses.

    Over HTTPS settings the server prefixes it (__Host-, __Secure-; docs/contract.md); "" when unset.
    """
    for form in cookie_name_forms(name):
        if form in answer.cookies:
            return f"{form}={answer.cookies[form]}"
    return ""


def _authdemo_form_login(port: int, credentials: dict) -> Answer:
    page = request(port, "GET", "/accounts/login/")
    csrf_cookie = _cookie(page, "csrftoken")
    csrf = csrf_cookie.partition("=")[2]
    form = urllib.parse.urlencode({**credentials, "csrfmiddlewaretoken": csrf}).encode()
    return request(
        port,
        "POST",
        "/accounts/login/",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf_cookie},
    )


def authdemo_loads(server: Server, stateless: Server, credentials: dict) -> list[Load]:
    port = server.port
    form = _authdemo_form_login(port, credentials)
    session_cookie = _cookie(form, "sessionid")
    if form.status != 302 or not session_cookie:
        raise BenchError(f"{server.name}: form login answered {form.status}")
    token = post_json(port, "/api/auth/token/", credentials)
    if token.status != 200:
        raise BenchError(f"{server.name}: token obtain answered {token.status}: {token.body[:200]!r}")
    bearer = {"Authorization": f"Bearer {token.json()['access']}"}
    cookie = post_json(port, "/api/auth/cookie/login/", credentials)
    access_cookie = _cookie(cookie, "access_token")
    if cookie.status != 200 or not access_cookie:
        raise BenchError(f"{server.name}: cookie login answered {cookie.status}")
    return [
        # The JWKS document: anonymous, served by a DRF view like /api/me/, no database or
        # cache call; /api/health/ would add a query and a cache round trip to the baseline.
        Load(server, "anon", "/.well-known/jwks.json", {}, ok),
        Load(
            server,
            "session",
            "/api/me/",
            {"Cookie": session_cookie},
            auth_is("session"),
        ),
        Load(server, "jwt-bearer", "/api/me/", bearer, auth_is("jwt-bearer")),
        Load(
            server,
            "jwt-cookie",
            "/api/me/",
            {"Cookie": access_cookie},
            auth_is("jwt-cookie"),
        ),
        Load(stateless, "jwt-bearer-stateless", "/api/me/", bearer, auth_is("jwt-bearer")),
    ]


def start_verifier(site: Server, tmp: Path) -> Server:
    """Start the stateless verifier (verifier/, `make verifier`) trusting ``site``'s JWKS."""
    port = free_port()
    env = {
        **os.environ,
        "VERIFIER_PORT": str(port),
        "PORT": str(site.port),
        "JWKS_URL": f"http://127.0.0.1:{site.port}/.well-known/jwks.json",
    }
    server = spawn(
        "verifier", "verifier", ["make", "--no-print-directory", "verifier", f"VERIFIER_PORT={port}",
                                 f"JWKS_URL=http://127.0.0.1:{site.port}/.well-known/jwks.json"],
        cwd=ROOT, env=env, port=port, log_dir=tmp,
    )  # fmt: skip
    server.note = "make verifier: several worker processes, no access log; no database, no cache server"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # /whoami answers 401 JSON without a token once it is up
        try:
            if request(port, "GET", "/whoami").status in (200, 401):
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise BenchError(f"verifier did not answer within 60 s (log: {server.log})")


def verifier_loads(server: Server, site: Server, credentials: dict) -> list[Load]:
    token = post_json(site.port, "/api/auth/token/", credentials)
    if token.status != 200:
        raise BenchError(f"{site.name}: token obtain for the verifier answered {token.status}")
    bearer = {"Authorization": f"Bearer {token.json()['access']}"}
    return [Load(server, "jwt-bearer-stateless", "/whoami", bearer, ok)]


def mixed_loads(loads: list[Load], credentials: dict) -> list[Load]:
    """Return a twin of each authenticated load of authdemo that runs while logins go on."""
    twins = []
    for load in loads:
        if f"{load.mechanism}-mixed" in MECHANISMS:
            port = load.server.port
            logins = [
                lambda port=port: _authdemo_form_login(port, credentials),
                lambda port=port: post_json(port, "/api/auth/token/", credentials),
            ]
            mechanism = f"{load.mechanism}-mixed"
            twins.append(Load(load.server, mechanism, load.path, load.headers, load.check, background=logins))
    return twins


def authdemo_logins(server: Server, credentials: dict) -> list[Login]:
    port = server.port
    return [
        Login(server, "form login", lambda: _authdemo_form_login(port, credentials), 302),
        Login(server, "token obtain", lambda: post_json(port, "/api/auth/token/", credentials), 200),
    ]
