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

import os
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.clients import (
    CLIENT_LOADS,
    block_summary,
    cache_entries,
    client_loads,
    clients_delete,
    measure_block,
    mint_credentials,
    verified_entries,
)
from bench.measure import (
    WRK_RECONNECT_EVERY,
    WRK_SCRIPT,
    ensure_wrk,
    measure_burst,
    measure_loads,
    measure_logins,
    percentile,
    summarize,
)
from bench.peerservers import peer_loads, peer_logins, start_django_naive, start_express
from bench.servers import (
    authdemo_loads,
    authdemo_logins,
    bench_user_delete,
    mixed_loads,
    start_authdemo,
    start_verifier,
    verifier_loads,
)
from bench.wire import BenchError, Load, Login, Server


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
    clients: int = 0,
) -> dict | None:
    """Start every server, measure loads, logins and bursts; return the results, or None without wrk."""
    if not ensure_wrk(say):
        return None
    tmp = new_tmp()
    script = tmp / "report.lua"
    script.write_text(WRK_SCRIPT)
    # Many clients need per-process caches that hold them (bench/clients.py).
    sized: dict[str, str] = {}
    if clients:
        entries = str(cache_entries(clients))
        sized = {
            "LOCAL_CACHE_MAX_ENTRIES": entries,
            "NEAR_CACHE_MAX_ENTRIES": entries,
            "JWT_VERIFIED_CACHE_SIZE": str(verified_entries(clients)),
        }
    modes = [("embedded", dict(sized))]
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        services = {"DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]}
        modes.append(("services", {**services, **sized}))
    else:
        say("services mode skipped: set DATABASE_URL and REDIS_URL to measure it too")
    servers: list[Server] = []
    loads: list[Load] = []
    login_runs: list[Login] = []
    main_servers: list[tuple[Server, dict, dict]] = []
    skipped: list[str] = []
    client_runs: list[tuple[Load, Load]] = []
    try:
        for mode, mode_env in modes:
            say(f"starting authdemo ({mode}) under make serve, and its JWT_STATELESS=1 twin")
            main, twin, credentials, hasher = start_authdemo(mode=mode, mode_env=mode_env, tmp=tmp)
            servers += [main, twin]
            main_loads = authdemo_loads(main, twin, credentials)
            loads += main_loads + mixed_loads(main_loads, credentials)
            if clients:
                say(f"{clients} users with a session, a bearer login and a cookie login each ({mode})")
                minted = mint_credentials(main, tmp / f"clients-{mode}", count=clients)
                say(f"  {minted['users']} users ({minted['created']} new), {3 * minted['users']} credentials")
                many = client_loads(
                    main, tmp / f"clients-{mode}", threads=threads, reconnect_every=WRK_RECONNECT_EVERY
                )
                ones = {one.mechanism: one for one in main_loads if one.server is main}
                client_runs += [(load, ones[CLIENT_LOADS[load.mechanism]]) for load in many]
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
        for load in loads + [many for many, _one in client_runs]:
            load.verify()
        say(
            f"load: wrk -t{threads} -c{connections}, {rounds} interleaved rounds x {seconds:g} s, "
            f"{len(loads)} loads"
        )
        wrk = {"rounds": rounds, "seconds": seconds, "threads": threads, "connections": connections}
        measure_loads(loads, warmup=warmup, script=script, say=say, **wrk)
        # Many clients: each rotating load in a block of its own, beside its one-credential load.
        for many, one in client_runs:
            measure_block(many, one, script=script, say=say, **wrk)
        loads += [many for many, _one in client_runs]
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
            bench_user_delete(server)
            if clients:
                clients_delete(server)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "servers": [
            {"name": s.name, "kind": s.kind, "note": s.note, "rss_peak_mib": round(s.rss_peak_kib / 1024, 1)}
            for s in servers
        ],
        "loads": [summarize(load) | block_summary(load) for load in loads],
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
            "clients": clients,
            "cache_entries": cache_entries(clients) if clients else None,
            "verified_entries": verified_entries(clients) if clients else None,
        },
    }
