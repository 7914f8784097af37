"""The reference peers the HTTP bench starts (django-naive, express-seed), their loads and logins."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.wire import (
    ROOT,
    BenchError,
    Load,
    Login,
    Server,
    cookie_header,
    free_port,
    ok,
    post_json,
    spawn,
    wait_ready,
    without_settings_module,
)


def _copy_peer(source: Path, tmp: Path) -> Path:
    target = tmp / source.name
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns(".venv", "node_modules", "db.sqlite3", "__pycache__")
    )
    return target


def start_django_naive(peers: Path, tmp: Path) -> Server:
    folder = _copy_peer(peers / "django-naive", tmp)
    # The peer's virtualenv is cached inside authdemo's own .venv (git-ignored,
    # removed by `make clean`), rebuilt when the peer's requirements change.
    venv = ROOT / ".venv" / "bench-peers" / "django-naive"
    stamp = venv / "requirements.txt"
    requirements = (folder / "requirements.txt").read_text()
    if venv.exists() and (not stamp.exists() or stamp.read_text() != requirements):
        shutil.rmtree(venv)
    env = {**without_settings_module(os.environ), "PEER_VENV": str(venv)}
    done = subprocess.run(["./setup.sh"], cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise BenchError(f"django-naive: ./setup.sh failed:\n{(done.stdout + done.stderr)[-1500:]}")
    stamp.write_text(requirements)
    port = free_port()
    server = spawn(
        "django-naive", "django-naive", ["./run.sh", str(port)], cwd=folder, env=env, port=port, log_dir=tmp
    )
    server.note = "gunicorn 2 sync workers, SQLite, PBKDF2"
    wait_ready(server, "/anon")
    return server


def start_express(peers: Path, tmp: Path) -> Server:
    if not (shutil.which("node") and shutil.which("npm")):
        raise BenchError("express-seed skipped: needs node and npm (apt-get install nodejs npm)")
    folder = _copy_peer(peers / "express-seed", tmp)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"express-seed: npm ci failed:\n{(done.stdout + done.stderr)[-1500:]}")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    server = spawn(
        "express-seed", "express-seed", ["node", "server.js"], cwd=folder, env=env, port=port, log_dir=tmp
    )
    server.note = "express-session MemoryStore, jsonwebtoken HS256; login checks no password"
    wait_ready(server, "/anon")
    return server


NAIVE_CREDENTIALS = {"username": "john_doe", "password": "s3cret-pass"}


def peer_loads(server: Server) -> list[Load]:
    port = server.port
    if server.kind == "django-naive":
        session = post_json(port, "/session/login", NAIVE_CREDENTIALS)

        def bearer() -> dict[str, str]:
            # SimpleJWT's default access lifetime (5 minutes) is shorter than
            # a bench run: a new token before each run.
            token = post_json(port, "/jwt/token", NAIVE_CREDENTIALS)
            if token.status != 200:
                raise BenchError(f"django-naive: token obtain answered {token.status}")
            return {"Authorization": f"Bearer {token.json()['access']}"}

        if session.status != 200:
            raise BenchError(f"django-naive: session login answered {session.status}")
        return [
            Load(server, "anon", "/anon", {}, ok),
            Load(server, "session", "/session/me", {"Cookie": cookie_header(session.cookies)}, ok),
            Load(server, "jwt-bearer", "/jwt/me", bearer(), ok, renew=bearer),
        ]
    session = post_json(port, "/session/login", {})
    token = post_json(port, "/jwt/login", {})
    if session.status != 200 or "connect.sid" not in session.cookies or "jwt" not in token.cookies:
        raise BenchError(f"express-seed: logins answered {session.status}, {token.status}")
    return [
        Load(server, "anon", "/anon", {}, ok),
        Load(
            server, "session", "/session/me", {"Cookie": f"connect.sid={session.cookies['connect.sid']}"}, ok
        ),
        Load(server, "jwt-cookie", "/jwt/me", {"Cookie": f"jwt={token.cookies['jwt']}"}, ok),
    ]


def peer_logins(server: Server) -> list[Login]:
    port = server.port
    if server.kind == "django-naive":
        return [
            Login(server, "form login", lambda: post_json(port, "/session/login", NAIVE_CREDENTIALS), 200),
            Login(server, "token obtain", lambda: post_json(port, "/jwt/token", NAIVE_CREDENTIALS), 200),
        ]
    return [
        Login(server, "form login", lambda: post_json(port, "/session/login", {}), 200),
        Login(server, "token obtain", lambda: post_json(port, "/jwt/login", {}), 200),
    ]
