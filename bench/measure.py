"""Measuring the HTTP bench: wrk runs of the loads in rotating rounds, the logins, the bursts; summaries."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.querycount import FLUSH_EVERY as QUERY_FLUSH_EVERY
from bench.querycount import QUERY_DIR_ENV, runs_share, shapes, share, totals
from bench.wire import (
    Answer,
    BenchError,
    Burst,
    Load,
    Login,
    Server,
    request,
    tree_pids,
    worker_rss_mib,
    wrk_exec,
)

# The mixed loads: the warm reads of a mechanism while logins go on (one per
# LOGIN_EVERY seconds, a form login and a token obtain in turn), so a login
# that throws away other users' cached entries shows as a drop against the warm load.
LOGIN_EVERY = 1.0


# Every WRK_RECONNECT_EVERY-th request of a wrk thread asks the server to close
# its connection, and wrk opens a new one. A worker process keeps what it
# accepts: when gunicorn's workers shared one listening socket, the 32
# keep-alive connections a run opens at once were split 32/0, 30/2 or 16/16
# between two workers, and a lopsided split halved a load's req/s by chance.
# Each worker now listens on its own socket (SO_REUSEPORT, authdemo/gunicorn.conf.py)
# and the kernel spreads new connections; reconnecting spreads them again
# during a run, as a client pool behind a proxy would. Applied to every
# server alike; the connect costs about one request in WRK_RECONNECT_EVERY.
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
    """Run wrk against one load and return its summary (requests, errors, latency in microseconds).

    Also the RSS of each worker process at the end, and, when the server counts
    them (bench/querycount.py), the share of requests that ran SQL.
    """
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(load.script or script),
    ]
    for name, value in load.headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{load.server.port}{load.path}")
    counted = Path(load.server.env[QUERY_DIR_ENV]) if QUERY_DIR_ENV in load.server.env else None
    before = totals(counted) if counted else None
    with RssSampler(load.server) as rss, LoginTicker(load.background) as ticker:
        done = wrk_exec(cmd, threads=threads)
    workers = worker_rss_mib(load.server)
    if counted:
        time.sleep(3 * QUERY_FLUSH_EVERY)  # the workers' last counts reach their files
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise BenchError(f"wrk failed on {load.label}: {done.stdout[-500:]} {done.stderr[-500:]}")
    result = json.loads(line[8:])
    result["rss_peak_kib"] = rss.peak
    result["background_logins"] = dict(ticker.statuses)
    result["worker_rss_mib"] = workers
    if counted and before is not None:
        result.update(share(before, after := totals(counted)), shapes=shapes(before, after))
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
    workers = max(1, len(tree_pids(server.proc.pid)) - 2)  # minus make and the gunicorn master
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
        # The largest worker process at the end of each round, the largest of those.
        "worker_rss_mib": max((max(r.get("worker_rss_mib") or [0]) for r in runs), default=0),
        **_background(load),
        **runs_share(runs),
        "db_share_rounds": [r.get("db_share") for r in runs],  # and below, what the rounds' SQL ran
        "shapes": _merged([r.get("shapes", {}) for r in runs]),
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
