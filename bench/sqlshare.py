"""Many clients without wrk: the share of requests that ran SQL, pass by pass.

    .venv/bin/python -m bench.sqlshare [--clients 10000] [--passes 4] [--mode embedded|services]

Starts authdemo as bench/http.py does (``make serve``, two worker processes,
the per-process caches sized for the clients), mints the clients
(bench/clients.py), then sends plain HTTP requests rotating through each
mechanism's credentials, each pass over every credential once, from a few
threads that reconnect every WRK_RECONNECT_EVERY requests (so both processes
serve them). After each pass it prints the share of that pass's requests
that ran at least one SQL statement (bench/querycount.py): a deterministic
measure of the warm path, where req/s on a shared machine is not.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import threading
import time
from pathlib import Path

from bench.clients import CLIENT_LOADS, cache_entries, mint_credentials
from bench.http import new_tmp
from bench.measure import WRK_RECONNECT_EVERY
from bench.querycount import FLUSH_EVERY, shapes, share, totals
from bench.servers import authdemo_loads, mixed_loads, start_authdemo


def _headers(path: Path) -> list[tuple[str, str]]:
    found = []
    for line in path.read_text().splitlines():
        name, sep, value = line.partition(":")
        if sep and value.strip():
            found.append((name.strip(), value.strip()))
    return found


def rotation_pass(
    port: int, credentials: list[tuple[str, str]], *, threads: int, count: int = 0
) -> dict[int, int]:
    """Send every credential once (or ``count`` in all, as a wrk round does), each thread from its own offset.

    Return the statuses.
    """
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    n = len(credentials)

    def run(index: int) -> None:
        start = index * n // threads
        stop = start + count // threads if count else (index + 1) * n // threads
        seen: dict[int, int] = {}
        conn = None
        for sent, position in enumerate(p % n for p in range(start, stop)):
            if conn is None or sent % WRK_RECONNECT_EVERY == 0:
                if conn is not None:
                    conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            name, value = credentials[position]
            conn.request("GET", "/api/me/", headers={name: value})
            response = conn.getresponse()
            response.read()
            seen[response.status] = seen.get(response.status, 0) + 1
        if conn is not None:
            conn.close()
        with lock:
            for status, times in seen.items():
                statuses[status] = statuses.get(status, 0) + times

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=4, help="passes per mechanism after the cold one")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--mode", choices=("embedded", "services"), default="embedded")
    parser.add_argument("--logins", type=int, default=0, help="bench-user logins between two passes")
    parser.add_argument("--rounds", type=int, default=0, help="then rounds: part of a pass each")
    parser.add_argument("--round-requests", type=int, default=1500, help="requests per load and round")
    parser.add_argument("--gap", type=float, default=0, help="seconds between two rounds (the other loads)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (repeatable)")
    parser.add_argument(
        "--log-names", type=int, default=0,
        help="embedded: keys of other users named in the revocation log between two passes (their logins)",
    )  # fmt: skip
    args = parser.parse_args()
    sized = {"LOCAL_CACHE_MAX_ENTRIES": str(cache_entries(args.clients))}
    sized["NEAR_CACHE_MAX_ENTRIES"] = sized["LOCAL_CACHE_MAX_ENTRIES"]
    sized.update(item.split("=", 1) for item in args.env)
    if args.mode == "services":
        sized.update(DATABASE_URL=os.environ["DATABASE_URL"], REDIS_URL=os.environ["REDIS_URL"])
    tmp = new_tmp()
    servers = []
    try:
        main_server, twin, credentials, _hasher = start_authdemo(mode=args.mode, mode_env=sized, tmp=tmp)
        servers += [main_server, twin]
        twin.stop()
        folder = tmp / "clients"
        started = time.monotonic()
        minted = mint_credentials(main_server, folder, count=args.clients)
        print(f"minted {minted} in {time.monotonic() - started:.0f} s", flush=True)
        logins = []
        if args.logins:
            loads = mixed_loads(authdemo_loads(main_server, twin, credentials), credentials)
            logins = [login for load in loads for login in load.background]
        queries = tmp / f"var-{args.mode}" / f"queries-{main_server.port}"
        lines = {mechanism: _headers(folder / f"{base}.txt") for mechanism, base in CLIENT_LOADS.items()}
        written = [0]  # other users named in the log so far

        def measured(mechanism: str, label: str, count: int = 0) -> None:
            before = totals(queries)
            started = time.monotonic()
            statuses = rotation_pass(main_server.port, lines[mechanism], threads=args.threads, count=count)
            seconds = time.monotonic() - started
            time.sleep(3 * FLUSH_EVERY)
            after = totals(queries)
            counted = share(before, after)
            print(f"{mechanism:20} {label:8} {seconds:6.1f} s {statuses} {counted}", flush=True)
            print(f"{'':29} {shapes(before, after)}", flush=True)
            for index in range(args.logins):
                logins[index % len(logins)]()
            if args.log_names:
                # What logins of other users write: one line each, naming their keys.
                with open(tmp / f"var-{args.mode}" / "revocation_stamp", "ab") as log:
                    for other in range(written[0], written[0] + args.log_names // 2):
                        log.write(f"user:snap:other-{other} accounts.sessions.user:other-{other}\n".encode())
                written[0] += args.log_names // 2

        for mechanism in lines:
            for number in range(1 + args.passes):
                measured(mechanism, "cold" if number == 0 else f"warm {number}")
        for number in range(args.rounds):
            time.sleep(args.gap)
            for mechanism in lines:
                measured(mechanism, f"round {number + 1}", count=args.round_requests)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
