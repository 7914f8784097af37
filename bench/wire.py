"""What the HTTP bench is made of: server processes, one-request HTTP client, loads, logins, bursts."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MECHANISMS = {
    "anon": "anonymous",
    "session": "session cookie",
    "jwt-bearer": "JWT bearer",
    "jwt-cookie": "JWT cookie",
    "jwt-bearer-stateless": "JWT bearer, stateless",
    "session-mixed": "session cookie, logins going on",
    "jwt-bearer-mixed": "JWT bearer, logins going on",
    "jwt-cookie-mixed": "JWT cookie, logins going on",
    "session-clients": "session cookie, many clients",
    "jwt-bearer-clients": "JWT bearer, many clients",
    "jwt-cookie-clients": "JWT cookie, many clients",
}


class BenchError(Exception):
    """A server could not be started or answered wrongly: its part of the run is skipped."""


# --- processes ----------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_pids(root: int) -> list[int]:
    """Return ``root`` and the ids of all its descendant processes."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def _rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def worker_rss_mib(server: Server) -> list[float]:
    """Return the RSS of each worker process of ``server`` (the leaves of its process tree), largest first."""
    pids = tree_pids(server.proc.pid)
    parents = set()
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        parents.add(int(stat.rsplit(")", 1)[1].split()[1]))
    leaves = [pid for pid in pids if pid not in parents]
    return sorted((round(_rss_kib([pid]) / 1024, 1) for pid in leaves), reverse=True)


# A script that ends its run by itself (bench/clients.py: a number of passes
# over its credentials) prints this line once per wrk thread when it is done.
WRK_PASS_DONE = "WRKPASSDONE"


def wrk_exec(cmd: list[str], *, threads: int) -> subprocess.CompletedProcess:
    """Run wrk and return its output; once each of its ``threads`` printed WRK_PASS_DONE, stop it.

    wrk sleeps for its whole -d even when every thread has stopped; SIGINT ends
    the sleep, and wrk still prints its summary (duration: the time it ran).
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, finished = [], 0
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(WRK_PASS_DONE):
            finished += 1
            if finished == threads:
                proc.send_signal(signal.SIGINT)
    stderr = proc.stderr.read() if proc.stderr else ""
    proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(lines), stderr)


def without_settings_module(env) -> dict:
    """Return ``env`` without DJANGO_SETTINGS_MODULE: each server chooses its own settings."""
    return {k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"}


@dataclass
class Server:
    name: str  # "authdemo embedded", "django-naive", ...
    kind: str  # "authdemo", "django-naive", "express-seed"
    port: int
    proc: subprocess.Popen
    log: Path
    note: str = ""
    rss_peak_kib: int = 0
    env: dict = field(default_factory=dict, repr=False)

    def rss_kib(self) -> int:
        # The launcher (make, a shell) is tiny; the tree's sum is the server's memory.
        return _rss_kib(tree_pids(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def spawn(name: str, kind: str, cmd: list[str], *, cwd: Path, env: dict, port: int, log_dir: Path) -> Server:
    """Start ``cmd`` as a server in its own process group, its output in a log file under ``log_dir``."""
    # The in-process part set DJANGO_SETTINGS_MODULE for itself; servers choose their own.
    env = without_settings_module(env)
    log = log_dir / f"{name.replace(' ', '-')}.log"
    with log.open("wb") as out:
        # Own session: stop() ends the whole tree (make -> gunicorn -> workers) by its group id.
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name=name, kind=kind, port=port, proc=proc, log=log, env=env)


def wait_ready(server: Server, path: str, timeout: float = 180) -> None:
    """Return once ``server`` answers 200 on ``path``; raise BenchError (the server stopped) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            tail = server.log.read_text(errors="replace")[-1500:]
            raise BenchError(f"{server.name} exited ({server.proc.returncode}):\n{tail}")
        try:
            if request(server.port, "GET", path).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise BenchError(f"{server.name} did not answer {path} within {timeout:.0f} s (log: {server.log})")


# --- HTTP helpers -------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    cookies: dict[str, str]
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


def request(
    port: int, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
) -> Answer:
    """Send one request on a new connection and return the answer (time includes the connect)."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    seconds = time.perf_counter() - start
    cookies: dict[str, str] = {}
    for header in response.msg.get_all("Set-Cookie") or []:
        jar = SimpleCookie()
        jar.load(header)
        cookies.update({k: m.value for k, m in jar.items()})
    return Answer(response.status, data, cookies, seconds)


def post_json(port: int, path: str, data: dict, headers: dict | None = None) -> Answer:
    """POST ``data`` as JSON on a new connection and return the answer."""
    return request(
        port,
        "POST",
        path,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def cookie_header(cookies: dict[str, str]) -> str:
    """Return a Cookie header carrying ``cookies``."""
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# --- loads --------------------------------------------------------------------


@dataclass
class Load:
    server: Server
    mechanism: str
    path: str
    headers: dict[str, str]
    check: Callable[[Answer], bool]  # the answer proves the mechanism authenticated
    runs: list[dict] = field(default_factory=list)
    rss_peak_kib: int = 0
    # Fresh credential headers, fetched before each run, outside its timing:
    # for a credential that could expire during the bench (a peer's tokens).
    renew: Callable[[], dict[str, str]] | None = None
    # Logins to run in turn, one per LOGIN_EVERY seconds (measure.py), while wrk runs (a mixed load).
    background: list[Callable[[], Answer]] = field(default_factory=list)
    # Its own wrk script (bench/clients.py: a credential per request from a file), else the run's.
    script: Path | None = None
    # The first run of a rotating load, before any warm-up: each credential's first request.
    cold: dict | None = None
    # A rotating load's one-credential twin, run beside it in each round of its block (bench/clients.py).
    pair_runs: list[dict] = field(default_factory=list)
    # A rotating load's seconds between two requests with the same credential during its block.
    revisit_seconds: float | None = None

    def renewed(self) -> Load:
        if self.renew is not None:
            self.headers = self.renew()
        return self

    @property
    def label(self) -> str:
        return f"{self.server.name} / {MECHANISMS[self.mechanism]}"

    def verify(self) -> None:
        answer = request(self.server.port, "GET", self.path, headers=self.renewed().headers)
        if not self.check(answer):
            raise BenchError(f"{self.label}: GET {self.path} answered {answer.status}: {answer.body[:200]!r}")


def ok(answer: Answer) -> bool:
    """Return whether the answer is a 200."""
    return answer.status == 200


def auth_is(name: str) -> Callable[[Answer], bool]:
    """Return a check that the answer is a 200 authenticated by mechanism ``name``."""
    return lambda a: a.status == 200 and a.json().get("auth") == name


@dataclass
class Login:
    server: Server
    name: str  # "form login", "token obtain"
    run: Callable[[], Answer]  # one login on a new connection, its answer
    expected: int
    seconds: list[float] = field(default_factory=list)


@dataclass
class Burst:
    server: Server
    size: int
    statuses: dict[int, int]
    seconds: list[float]
    rss_before_kib: int
    rss_peak_kib: int
    bound_kib: int
    concurrency: int
    workers: int
