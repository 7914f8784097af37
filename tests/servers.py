"""Real app servers for tests: gunicorn as `make serve` runs it, on a free port, until healthy.

One place for what several tests need from a server in another process: a
spare port, the URL of the test database as such a process must be told it,
and a gunicorn started with the project's configuration, waited for on
/api/health/, and stopped afterwards.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_config(path: Path):
    """Return gunicorn's settings as it reads them from the config file ``path``; nothing is started."""
    from gunicorn.app.base import Application

    class Probe(Application):
        def init(self, parser, opts, args):
            return None

        def load(self):  # pragma: no cover - never serves
            return None

        def load_config(self):
            self.load_config_from_file(str(path))

    return Probe().cfg


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(*, port: int | None = None) -> str:
    """Return the URL of the test database (pytest-django's copy); ``port`` replaces PostgreSQL's port."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = "127.0.0.1" if port else (db.get("HOST") or "127.0.0.1")
    user, port = db.get("USER") or "postgres", port or db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def wait_healthy(url: str, process: subprocess.Popen, *, output: Path, timeout: float = 90) -> None:
    """Wait until ``url`` answers 200 on /api/health/; fail with the server's output if it dies or hangs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/health/", timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"server {url} did not start:\n{output.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    """Stop a server process, killing it if it does not end within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def gunicorn_start(*, env: dict, output: Path, workers: int = 1, threads: int | None = 2, args: tuple = ()):
    """Start gunicorn as `make serve` ends (authdemo/gunicorn.conf.py); return (process, url).

    ``threads=None`` keeps the configuration's own thread count.
    """
    port = free_port()
    if threads is not None:
        args = ("--threads", str(threads), *args)
    with output.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "authdemo" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *args],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def gunicorn_running(
    *, env: dict, output: Path, workers: int = 1, threads: int | None = 2, args: tuple = ()
) -> Iterator[str]:
    """Run one gunicorn server until the block ends; yield its URL once it is healthy."""
    process, url = gunicorn_start(env=env, output=output, workers=workers, threads=threads, args=args)
    try:
        wait_healthy(url, process, output=output)
        yield url
    finally:
        stop(process)
