"""`make bench` over HTTP: authdemo under `make serve` and the peers, loaded by wrk in interleaved rounds.

Each server runs as its own process tree on a free loopback port: authdemo in
production mode (embedded; services too when DATABASE_URL and REDIS_URL are
set), a second authdemo with JWT_STATELESS=1 beside each, and the reference
peers from BENCH_PEERS_DIR copied into a temporary folder. Credentials come
from each server's real login endpoints; every load is checked once by hand
(status and mechanism) before wrk runs it. Rounds visit every load once in a
rotating order, so drift of the shared machine hits all alike.

wrk (Debian's package) is the load generator: a C event loop whose two threads
use little CPU next to the servers, where a Python generator would compete for
the same two cores and measure itself.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from authdemo.cookienames import cookie_name_forms

ROOT = Path(__file__).resolve().parent.parent
BENCH_USER = "bench-load"
MECHANISMS = {
    "anon": "anonymous",
    "session": "session cookie",
    "jwt-bearer": "JWT bearer",
    "jwt-cookie": "JWT cookie",
    "jwt-bearer-stateless": "JWT bearer, stateless",
    "session-mixed": "session cookie, logins going on",
    "jwt-bearer-mixed": "JWT bearer, logins going on",
    "jwt-cookie-mixed": "JWT cookie, logins going on",
}
# The mixed loads: the warm reads of a mechanism while logins go on (one per
# LOGIN_EVERY seconds, a form login and a token obtain in turn), so a login
# that throws away other users' cached entries shows as a drop against the warm load.
LOGIN_EVERY = 1.0

# Every WRK_RECONNECT_EVERY-th request of a wrk thread asks the server to close
# its connection, and wrk opens a new one. gunicorn's worker processes share
# one listening socket and keep what they accept: without this, the 32
# keep-alive connections a run opens at once were split 32/0, 30/2 or 16/16
# between two workers, and a lopsided split halved a load's req/s by chance.
# Reconnecting lets the less busy worker take the new connection, as a client
# pool behind a proxy would. Applied to every server alike; the connect costs
# about one request in WRK_RECONNECT_EVERY.
WRK_RECONNECT_EVERY = 32

# Prints one JSON line at the end of a wrk run: counts, errors, latency percentiles (microseconds).
WRK_SCRIPT = r"""
local sent = 0
local closing = nil
request = function()
  sent = sent + 1
  if sent % RECONNECT_EVERY == 0 then
    if closing == nil then
      closing = {}
      for name, value in pairs(wrk.headers) do closing[name] = value end
      closing["Connection"] = "close"
    end
    return wrk.format(nil, nil, closing)
  end
  return wrk.format()
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
""".replace("RECONNECT_EVERY", str(WRK_RECONNECT_EVERY))


class BenchError(Exception):
    """A server could not be started or answered wrongly: its part of the run is skipped."""


# --- processes ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree_pids(root: int) -> list[int]:
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


def _without_settings_module(env) -> dict:
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
        return _rss_kib(_tree_pids(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def _spawn(name: str, kind: str, cmd: list[str], *, cwd: Path, env: dict, port: int, log_dir: Path) -> Server:
    # The in-process part set DJANGO_SETTINGS_MODULE for itself; servers choose their own.
    env = _without_settings_module(env)
    log = log_dir / f"{name.replace(' ', '-')}.log"
    with log.open("wb") as out:
        # Own session: stop() ends the whole tree (make -> gunicorn -> workers) by its group id.
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name=name, kind=kind, port=port, proc=proc, log=log, env=env)


def _wait_ready(server: Server, path: str, timeout: float = 180) -> None:
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


def _post_json(port: int, path: str, data: dict, headers: dict | None = None) -> Answer:
    return request(
        port,
        "POST",
        path,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _cookie_header(cookies: dict[str, str]) -> str:
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
    # Logins to run in turn, one per LOGIN_EVERY seconds, while wrk runs (a mixed load).
    background: list[Callable[[], Answer]] = field(default_factory=list)

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


def _ok(answer: Answer) -> bool:
    return answer.status == 200


def _auth_is(name: str) -> Callable[[Answer], bool]:
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


# --- authdemo -----------------------------------------------------------------


def _authdemo_env(*, mode_env: dict, var_dir: Path, port: int, secret: str, stateless: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "JWT_STATELESS")}
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


def _manage(env: dict, *args: str) -> str:
    env = _without_settings_module(env)
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
            port = _free_port()
            env = _authdemo_env(
                mode_env=mode_env, var_dir=var_dir, port=port, secret=secret, stateless=stateless
            )
            name = f"authdemo {mode}" + (" stateless" if stateless else "")
            server = _spawn(
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
            _wait_ready(server, "/api/health/")
            if not stateless:
                password = secrets.token_urlsafe(24)
                email = f"{BENCH_USER}-{secrets.token_hex(4)}@bench.invalid"
                script = _USER_SCRIPT.format(name=BENCH_USER, password=password, email=email)
                out = _manage(env, "shell", "-c", script)
                report = next(line for line in out.splitlines() if line.startswith("BENCHJSON "))
                hasher = json.loads(report[len("BENCHJSON ") :])
                credentials = {"username": BENCH_USER, "password": password}
    except BaseException:
        # A later step failed: the servers already started must not outlive the run.
        for server in servers:
            server.stop()
        raise
    return servers[0], servers[1], credentials, hasher


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
    token = _post_json(port, "/api/auth/token/", credentials)
    if token.status != 200:
        raise BenchError(f"{server.name}: token obtain answered {token.status}: {token.body[:200]!r}")
    bearer = {"Authorization": f"Bearer {token.json()['access']}"}
    cookie = _post_json(port, "/api/auth/cookie/login/", credentials)
    access_cookie = _cookie(cookie, "access_token")
    if cookie.status != 200 or not access_cookie:
        raise BenchError(f"{server.name}: cookie login answered {cookie.status}")
    return [
        # The JWKS document: anonymous, served by a DRF view like /api/me/, no database or
        # cache call; /api/health/ would add a query and a cache round trip to the baseline.
        Load(server, "anon", "/.well-known/jwks.json", {}, _ok),
        Load(
            server,
            "session",
            "/api/me/",
            {"Cookie": session_cookie},
            _auth_is("session"),
        ),
        Load(server, "jwt-bearer", "/api/me/", bearer, _auth_is("jwt-bearer")),
        Load(
            server,
            "jwt-cookie",
            "/api/me/",
            {"Cookie": access_cookie},
            _auth_is("jwt-cookie"),
        ),
        Load(stateless, "jwt-bearer-stateless", "/api/me/", bearer, _auth_is("jwt-bearer")),
    ]


def start_verifier(site: Server, tmp: Path) -> Server:
    """Start the stateless verifier (verifier/, `make verifier`) trusting ``site``'s JWKS."""
    port = _free_port()
    env = {
        **os.environ,
        "VERIFIER_PORT": str(port),
        "PORT": str(site.port),
        "JWKS_URL": f"http://127.0.0.1:{site.port}/.well-known/jwks.json",
    }
    server = _spawn(
        "verifier", "verifier", ["make", "--no-print-directory", "verifier", f"VERIFIER_PORT={port}",
                                 f"JWKS_URL=http://127.0.0.1:{site.port}/.well-known/jwks.json"],
        cwd=ROOT, env=env, port=port, log_dir=tmp,
    )  # fmt: skip
    server.note = "verifier/: offline signature check, no database, no cache"
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
    token = _post_json(site.port, "/api/auth/token/", credentials)
    if token.status != 200:
        raise BenchError(f"{site.name}: token obtain for the verifier answered {token.status}")
    bearer = {"Authorization": f"Bearer {token.json()['access']}"}
    return [Load(server, "jwt-bearer-stateless", "/whoami", bearer, _ok)]


def mixed_loads(loads: list[Load], credentials: dict) -> list[Load]:
    """Return a twin of each authenticated load of authdemo that runs while logins go on."""
    twins = []
    for load in loads:
        if f"{load.mechanism}-mixed" in MECHANISMS:
            port = load.server.port
            logins = [
                lambda port=port: _authdemo_form_login(port, credentials),
                lambda port=port: _post_json(port, "/api/auth/token/", credentials),
            ]
            mechanism = f"{load.mechanism}-mixed"
            twins.append(Load(load.server, mechanism, load.path, load.headers, load.check, background=logins))
    return twins


class LoginTicker:
    """Run a load's background logins in turn, one per LOGIN_EVERY seconds, until stopped; count answers."""

    def __init__(self, logins: list[Callable[[], Answer]]):
        self.logins, self.statuses = logins, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(LOGIN_EVERY if n else 0):
            try:
                status = self.logins[n % len(self.logins)]().status
            except OSError:
                status = 0
            self.statuses[status] = self.statuses.get(status, 0) + 1
            n += 1

    def __enter__(self) -> LoginTicker:
        if self.logins:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.logins:
            self._thread.join()


def authdemo_logins(server: Server, credentials: dict) -> list[Login]:
    port = server.port
    return [
        Login(server, "form login", lambda: _authdemo_form_login(port, credentials), 302),
        Login(server, "token obtain", lambda: _post_json(port, "/api/auth/token/", credentials), 200),
    ]


# --- peers --------------------------------------------------------------------


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
    env = {**_without_settings_module(os.environ), "PEER_VENV": str(venv)}
    done = subprocess.run(["./setup.sh"], cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        raise BenchError(f"django-naive: ./setup.sh failed:\n{(done.stdout + done.stderr)[-1500:]}")
    stamp.write_text(requirements)
    port = _free_port()
    server = _spawn(
        "django-naive", "django-naive", ["./run.sh", str(port)], cwd=folder, env=env, port=port, log_dir=tmp
    )
    server.note = "gunicorn 2 sync workers, SQLite, PBKDF2"
    _wait_ready(server, "/anon")
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
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1"}
    server = _spawn(
        "express-seed", "express-seed", ["node", "server.js"], cwd=folder, env=env, port=port, log_dir=tmp
    )
    server.note = "express-session MemoryStore, jsonwebtoken HS256; login checks no password"
    _wait_ready(server, "/anon")
    return server


NAIVE_CREDENTIALS = {"username": "john_doe", "password": "s3cret-pass"}


def peer_loads(server: Server) -> list[Load]:
    port = server.port
    if server.kind == "django-naive":
        session = _post_json(port, "/session/login", NAIVE_CREDENTIALS)

        def bearer() -> dict[str, str]:
            # SimpleJWT's default access lifetime (5 minutes) is shorter than
            # a bench run: a new token before each run.
            token = _post_json(port, "/jwt/token", NAIVE_CREDENTIALS)
            if token.status != 200:
                raise BenchError(f"django-naive: token obtain answered {token.status}")
            return {"Authorization": f"Bearer {token.json()['access']}"}

        if session.status != 200:
            raise BenchError(f"django-naive: session login answered {session.status}")
        return [
            Load(server, "anon", "/anon", {}, _ok),
            Load(server, "session", "/session/me", {"Cookie": _cookie_header(session.cookies)}, _ok),
            Load(server, "jwt-bearer", "/jwt/me", bearer(), _ok, renew=bearer),
        ]
    session = _post_json(port, "/session/login", {})
    token = _post_json(port, "/jwt/login", {})
    if session.status != 200 or "connect.sid" not in session.cookies or "jwt" not in token.cookies:
        raise BenchError(f"express-seed: logins answered {session.status}, {token.status}")
    return [
        Load(server, "anon", "/anon", {}, _ok),
        Load(
            server, "session", "/session/me", {"Cookie": f"connect.sid={session.cookies['connect.sid']}"}, _ok
        ),
        Load(server, "jwt-cookie", "/jwt/me", {"Cookie": f"jwt={token.cookies['jwt']}"}, _ok),
    ]


def peer_logins(server: Server) -> list[Login]:
    port = server.port
    if server.kind == "django-naive":
        return [
            Login(server, "form login", lambda: _post_json(port, "/session/login", NAIVE_CREDENTIALS), 200),
            Login(server, "token obtain", lambda: _post_json(port, "/jwt/token", NAIVE_CREDENTIALS), 200),
        ]
    return [
        Login(server, "form login", lambda: _post_json(port, "/session/login", {}), 200),
        Login(server, "token obtain", lambda: _post_json(port, "/jwt/login", {}), 200),
    ]


# --- measuring ----------------------------------------------------------------


class RssSampler:
    """Sample the RSS of one server's process tree in the background; keep the peak."""

    def __init__(self, server: Server, interval: float = 0.1):
        self.server, self.interval, self.peak = server, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.server.rss_kib())
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.server.rss_kib())
        self.server.rss_peak_kib = max(self.server.rss_peak_kib, self.peak)


def wrk_run(load: Load, *, seconds: float, threads: int, connections: int, script: Path) -> dict:
    """Run wrk against one load and return its summary (requests, errors, latency in microseconds)."""
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    for name, value in load.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{load.server.port}{load.path}")
    with RssSampler(load.server) as rss, LoginTicker(load.background) as ticker:
        done = subprocess.run(cmd, capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise BenchError(f"wrk failed on {load.label}: {done.stdout[-500:]} {done.stderr[-500:]}")
    result = json.loads(line[8:])
    result["rss_peak_kib"] = rss.peak
    result["background_logins"] = dict(ticker.statuses)
    load.rss_peak_kib = max(load.rss_peak_kib, rss.peak)
    return result


def round_order(loads: list[Load], r: int) -> list[Load]:
    """Return the loads of round ``r``: each server's back to back, servers and loads rotated by round.

    A server's mechanisms and its anonymous endpoint (its stateless twin's
    too) then run within the same few seconds of a round, and the ratio
    between them is taken within each round (bench/results.py): drift of the
    shared machine over a round hits both sides of a ratio alike. Rotating
    spreads every position of a round over every load.
    """
    blocks: dict[str, list[Load]] = {}
    for load in loads:
        blocks.setdefault(load.server.name.removesuffix(" stateless"), []).append(load)
    servers = list(blocks.values())
    shift = r % len(servers)
    order: list[Load] = []
    for block in servers[shift:] + servers[:shift]:
        k = r % len(block)
        order += block[k:] + block[:k]
    return order


def measure_loads(
    loads: list[Load],
    *,
    rounds: int,
    seconds: float,
    warmup: float,
    threads: int,
    connections: int,
    script: Path,
    say: Callable[[str], None],
) -> None:
    """Run every load once per round (round_order); a short untimed warm-up first."""
    if warmup > 0:
        say(f"warm-up: {len(loads)} loads x {warmup:g} s")
        for load in loads:
            wrk_run(load.renewed(), seconds=warmup, threads=threads, connections=connections, script=script)
    for r in range(rounds):
        order = round_order(loads, r)
        say(f"round {r + 1}/{rounds}: {len(order)} loads x {seconds:g} s")
        for load in order:
            load.renewed()
            load.runs.append(
                wrk_run(load, seconds=seconds, threads=threads, connections=connections, script=script)
            )


def measure_logins(logins: list[Login], *, count: int) -> None:
    """Run the logins one after the other, interleaved, each on a new connection."""
    for _ in range(count):
        for login in logins:
            answer = login.run()
            if answer.status != login.expected:
                raise BenchError(f"{login.server.name} {login.name} answered {answer.status}")
            login.seconds.append(answer.seconds)


def measure_burst(server: Server, credentials: dict, *, size: int, hasher: dict) -> Burst:
    """Send `size` token obtains at once (a barrier releases them together); sample the server's RSS."""
    statuses: dict[int, int] = {}
    seconds: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(size)
    body = json.dumps(credentials).encode()

    def one() -> None:
        barrier.wait()
        try:
            answer = request(
                server.port,
                "POST",
                "/api/auth/token/",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            status, took = answer.status, answer.seconds
        except OSError:
            status, took = 0, 0.0
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            seconds.append(took)

    time.sleep(0.5)
    before = server.rss_kib()
    with RssSampler(server, interval=0.02) as rss:
        threads = [threading.Thread(target=one) for _ in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    workers = max(1, len(_tree_pids(server.proc.pid)) - 2)  # minus make and the gunicorn master
    concurrency = hasher.get("concurrency") or 1
    return Burst(
        server=server,
        size=size,
        statuses=statuses,
        seconds=seconds,
        rss_before_kib=before,
        rss_peak_kib=rss.peak,
        bound_kib=workers * concurrency * hasher.get("memory_kib", 0),
        concurrency=concurrency,
        workers=workers,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def _background(load: Load) -> dict:
    """Return the answers of the logins that ran beside a mixed load, by status (empty for other loads)."""
    if not load.background:
        return {}
    return {"background_logins": _merged([r.get("background_logins", {}) for r in load.runs])}


def summarize(load: Load) -> dict:
    """Return the medians over rounds (req/s, p50, p99), the summed errors and the peak RSS of one load."""
    runs = load.runs
    rates = [r["requests"] / (r["duration_us"] / 1e6) for r in runs]
    errors = sum(r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"] for r in runs)
    return {
        "server": load.server.name,
        "mechanism": load.mechanism,
        "path": load.path,
        "rounds": len(runs),
        "requests": sum(r["requests"] for r in runs),
        "rps": round(statistics.median(rates), 1),
        "rps_rounds": [round(x, 1) for x in rates],
        "p50_ms": round(statistics.median(r["p50_us"] for r in runs) / 1000, 2),
        "p99_ms": round(statistics.median(r["p99_us"] for r in runs) / 1000, 2),
        "errors": errors,
        "non2xx": sum(r["non2xx"] for r in runs),
        "rss_peak_mib": round(load.rss_peak_kib / 1024, 1),
        **_background(load),
    }


def _merged(counts: list[dict]) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for status, n in count.items():
            total[str(status)] = total.get(str(status), 0) + n
    return total


def ensure_wrk(say: Callable[[str], None]) -> bool:
    """Return whether wrk is available; as root with apt-get, install Debian's package first."""
    if shutil.which("wrk"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True)
        if shutil.which("wrk"):
            return True
    say("HTTP load run skipped: wrk is not installed (Debian/Ubuntu: sudo apt-get install wrk)")
    return False


def new_tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="authdemo-bench-"))


def run(
    *,
    peers_dir: Path | None,
    rounds: int,
    seconds: float,
    warmup: float,
    threads: int,
    connections: int,
    logins: int,
    burst: int,
    say: Callable[[str], None],
) -> dict | None:
    """Start every server, measure loads, logins and bursts; return the results, or None without wrk."""
    if not ensure_wrk(say):
        return None
    tmp = new_tmp()
    script = tmp / "report.lua"
    script.write_text(WRK_SCRIPT)
    modes = [("embedded", {})]
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        modes.append(
            ("services", {"DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]})
        )
    else:
        say("services mode skipped: set DATABASE_URL and REDIS_URL to measure it too")
    servers: list[Server] = []
    loads: list[Load] = []
    login_runs: list[Login] = []
    main_servers: list[tuple[Server, dict, dict]] = []
    skipped: list[str] = []
    try:
        for mode, mode_env in modes:
            say(f"starting authdemo ({mode}) under make serve, and its JWT_STATELESS=1 twin")
            main, twin, credentials, hasher = start_authdemo(mode=mode, mode_env=mode_env, tmp=tmp)
            servers += [main, twin]
            main_loads = authdemo_loads(main, twin, credentials)
            loads += main_loads + mixed_loads(main_loads, credentials)
            login_runs += authdemo_logins(main, credentials)
            main_servers.append((main, credentials, hasher))
            if mode == "embedded":
                say("starting the stateless verifier (make verifier) on the embedded site's JWKS")
                try:
                    verifier = start_verifier(main, tmp)
                    servers.append(verifier)
                    loads += verifier_loads(verifier, main, credentials)
                except BenchError as exc:
                    skipped.append(str(exc).splitlines()[0])
                    say(str(exc))
        for starter, name in ((start_django_naive, "django-naive"), (start_express, "express-seed")):
            if peers_dir is None or not (peers_dir / name).is_dir():
                skipped.append(f"{name} skipped: no {name} in BENCH_PEERS_DIR ({peers_dir})")
                say(skipped[-1])
                continue
            say(f"starting peer {name}")
            try:
                peer = starter(peers_dir, tmp)
            except BenchError as exc:
                skipped.append(str(exc).splitlines()[0])
                say(str(exc))
                continue
            servers.append(peer)
            loads += peer_loads(peer)
            login_runs += peer_logins(peer)
        for load in loads:
            load.verify()
        say(
            f"load: wrk -t{threads} -c{connections}, {rounds} interleaved rounds x {seconds:g} s, "
            f"{len(loads)} loads"
        )
        measure_loads(
            loads,
            rounds=rounds,
            seconds=seconds,
            warmup=warmup,
            threads=threads,
            connections=connections,
            script=script,
            say=say,
        )
        for load in loads:
            load.verify()  # credentials still good after the run: no load measured 401s
        say(f"logins: {logins} of each, sequential, new connection each")
        measure_logins(login_runs, count=logins)
        bursts = []
        for server, credentials, hasher in main_servers:
            say(f"burst: {burst} parallel token obtains against {server.name}")
            bursts.append(measure_burst(server, credentials, size=burst, hasher=hasher))
        # The bench user exists only for this run (the services database outlives it).
        for server, _credentials, _hasher in main_servers:
            _manage(
                server.env,
                "shell",
                "-c",
                "from django.contrib.auth import get_user_model; "
                f"get_user_model().objects.filter(username={BENCH_USER!r}).delete()",
            )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "servers": [
            {"name": s.name, "kind": s.kind, "note": s.note, "rss_peak_mib": round(s.rss_peak_kib / 1024, 1)}
            for s in servers
        ],
        "loads": [summarize(load) for load in loads],
        "logins": [
            {
                "server": lg.server.name,
                "login": lg.name,
                "count": len(lg.seconds),
                "p50_ms": round(statistics.median(lg.seconds) * 1000, 1),
                "p99_ms": round(percentile(lg.seconds, 99) * 1000, 1),
            }
            for lg in login_runs
        ],
        "bursts": [
            {
                "server": b.server.name,
                "size": b.size,
                "statuses": {str(k): v for k, v in sorted(b.statuses.items())},
                "server_errors": sum(v for k, v in b.statuses.items() if k >= 500 or k == 0),
                "p50_ms": round(statistics.median(b.seconds) * 1000, 1),
                "max_ms": round(max(b.seconds) * 1000, 1),
                "rss_before_mib": round(b.rss_before_kib / 1024, 1),
                "rss_peak_mib": round(b.rss_peak_kib / 1024, 1),
                "hash_bound_mib": round(b.bound_kib / 1024, 1),
                "workers": b.workers,
                "hash_concurrency": b.concurrency,
            }
            for b in bursts
        ],
        "hashers": {s.name: h for s, _c, h in main_servers},
        "skipped": skipped,
        "settings": {
            "rounds": rounds,
            "seconds": seconds,
            "warmup": seconds and warmup,
            "threads": threads,
            "connections": connections,
            "logins": logins,
            "burst": burst,
        },
    }
