"""`make bench`: what each authentication mechanism costs per request, in one process.

GET /api/me/ authenticated four ways (session cookie, JWT bearer with the
revocation check, JWT cookie, JWT bearer in stateless mode), the same four
authentication steps alone (the authentication class without the view, so
the part that differs between mechanisms stands out; plus the stateless one
without the verified-token cache, as a token's first request pays), and the two
logins (HTML form login that starts a session, JSON token obtain), through
Django's full middleware stack with the test client (no network). Rounds are
interleaved (every scenario once per round, in a rotating order), so drift of
the machine affects all alike; the report gives the median of the per-round
means, the ratio to the session baseline, and the database queries of one
warm request.

Then the same mechanisms over real HTTP (bench/http.py): authdemo under
`make serve` and the peer servers (bench/peers/), loaded by wrk; the results
go to a new folder var/bench/<UTC time>/ (results.json, results.md,
chart.svg), or to ``--out`` (``--out docs/bench`` replaces the committed ones).

    .venv/bin/python -m bench [--rounds 8] [--requests 200] [--logins 8] [--seconds 5] [--no-http]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from datetime import UTC, datetime
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds (default 8)")
    parser.add_argument("--requests", type=int, default=200, help="GET /api/me/ per scenario and round")
    parser.add_argument("--logins", type=int, default=8, help="logins per scenario and round")
    parser.add_argument("--login-rounds", type=int, default=5, help="interleaved rounds of logins")
    http = parser.add_argument_group("over real HTTP (wrk)")
    http.add_argument("--no-inprocess", action="store_true", help="skip the in-process table")
    http.add_argument("--no-http", action="store_true", help="skip the HTTP load run")
    http.add_argument("--seconds", type=int, default=3, help="wrk seconds per load and round (default 3)")
    http.add_argument("--http-rounds", type=int, default=8, help="interleaved rounds of loads (default 8)")
    http.add_argument("--warmup", type=int, default=1, help="untimed wrk seconds per load (default 1)")
    http.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    http.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    http.add_argument("--http-logins", type=int, default=20, help="sequential logins per kind (default 20)")
    http.add_argument("--clients", type=int, default=10_000,
                      help="users with a credential of each mechanism for the many-clients loads "
                      "(default 10 000; 0: none)")
    http.add_argument("--burst", type=int, default=32, help="parallel token obtains (default 32)")
    http.add_argument("--peers-dir", type=Path, default=None, help="folder of the reference servers")
    http.add_argument("--out", type=Path, default=None,
                      help="where results.json, results.md and chart.svg go (default var/bench/<UTC time>/; "
                      "docs/bench replaces the committed results)")
    args = parser.parse_args(argv)

    from bench import inprocess as inprocess_bench
    from bench import report
    from bench import results as results_file

    started = datetime.now(UTC).isoformat(timespec="seconds")
    machine = results_file.machine()
    inprocess = ""
    if not args.no_inprocess:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(_Tee(sys.stdout, buffer)):
            inprocess_bench.run(args)
        inprocess = buffer.getvalue()
    if args.no_http:
        return 0

    from bench import http as http_bench

    def say(message: str) -> None:
        print(f"[http] {message}", flush=True)

    print(flush=True)
    try:
        results = http_bench.run(
            peers_dir=args.peers_dir, rounds=args.http_rounds, seconds=args.seconds, warmup=args.warmup,
            threads=args.wrk_threads, connections=args.connections, logins=args.http_logins, burst=args.burst,
            say=say, clients=args.clients,
        )
    except http_bench.BenchError as exc:
        # authdemo itself could not be measured (a peer that fails is skipped
        # inside run()): say why, without a traceback.
        print(f"make bench: {exc}", file=sys.stderr)
        if "does not exist" in str(exc) and os.environ.get("DATABASE_URL"):
            hint = "services mode needs the DATABASE_URL database to exist (createdb)"
            print(f"make bench: {hint}.", file=sys.stderr)
        return 1
    if results is None:
        return 0
    results["date"], results["machine"] = started, machine
    out = args.out or Path(__file__).resolve().parent.parent / "var" / "bench" / started.replace(":", "")
    paths = report.write(results, out, inprocess)
    print(report.markdown(results).split("## Servers")[0])
    print("written: " + ", ".join(str(p) for p in paths))
    return 0


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


if __name__ == "__main__":
    sys.exit(main())
