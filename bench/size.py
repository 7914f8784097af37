"""`make bench-size`: the admin lists, the login pages and the prune commands at size.

Seeds the database of DATABASE_URL with ``seed_load`` (default 100 000 users
and 1 000 000 sessions and JWT logins on PostgreSQL, 2 000 and 20 000 on
SQLite; every seeded login expired, so the prune has a million of each to
delete), then, in this process with Django's test client (the whole
middleware stack, no network; bench.settings: production settings, DEBUG
off):

- p50/p99 of each admin change list and its search by username prefix, as
  a superuser; of /devices/ and /accounts/sessions/ (first and a later page)
  for a user with 1 000 live logins;
- p99 of GET /api/me/ (JWT bearer) under one client looping while
  ``clearsessions`` and ``jwt_prune`` run as separate processes (as cron
  would run them), and without them for as long (a window before and one
  after); the commands' durations.

Writes var/bench/size-<UTC time>/results.{json,md}, or ``--out`` (docs/bench
for the committed size.md/size.json).

    .venv/bin/python -m bench.size [--users N] [--logins M] [--samples 30] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY_LOGINS = 1000
ADMIN, HEAVY = "bench-size-admin", "bench-size-heavy"
PAGE_TARGETS = (150.0, 500.0)  # p50, p99 in ms
PRUNE_TARGET_S = 120.0
ME_RATIO_TARGET = 2.0


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def page_profile(client, url: str) -> dict:
    """Return the queries of one GET of ``url`` and the milliseconds the database took for them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return {
        "queries": len(captured),
        "db_ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 1),
    }


def timed_gets(client, url: str, samples: int) -> list[float]:
    """Return the milliseconds of ``samples`` GETs of ``url`` after one warm-up; each must answer 200."""
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"bench-size: {url} answered {response.status_code}")
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"bench-size: {url} answered {response.status_code}")
    return times


def users_prepare():
    """Return the superuser and the user with HEAVY_LOGINS live logins (made once)."""
    from django.contrib.auth import get_user_model

    from api.seedload import logins_seed

    User = get_user_model()
    admin = User.objects.filter(username=ADMIN).first() or User.objects.create_superuser(ADMIN, password=None)
    heavy = User.objects.filter(username=HEAVY).first() or User.objects.create_user(HEAVY, password=None)
    logins_seed(
        user_ids=[heavy.pk],
        count=HEAVY_LOGINS,
        expired=0.0,
        progress=lambda *a: None,
        users=User.objects.filter(pk=heavy.pk),
    )
    return admin, heavy


def pages_measure(samples: int) -> list[dict]:
    """Return p50/p99 of every admin list, its search, and the login pages of the heavy user."""
    from django.test import Client

    from api.seedload import seed_username

    admin, heavy = users_prepare()
    as_admin, as_heavy = Client(), Client()
    as_admin.force_login(admin)
    as_heavy.force_login(heavy)
    prefix = seed_username(123)[:-1]  # ten seeded users
    urls = []
    for path in (
        "/admin/accounts/user/",
        "/admin/accounts/session/",
        "/admin/api/tokenfamily/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/token_blacklist/blacklistedtoken/",
    ):
        urls += [(as_admin, path), (as_admin, f"{path}?q={prefix}")]
    urls += [
        (as_heavy, "/devices/"),
        (as_heavy, "/devices/?page=10&jwt_page=10"),
        (as_heavy, "/accounts/sessions/"),
        (as_heavy, "/accounts/sessions/?page=10"),
    ]
    rows = []
    for client, url in urls:
        times = timed_gets(client, url, samples)
        p50, p99 = statistics.median(times), percentile(times, 99)
        met = p50 <= PAGE_TARGETS[0] and p99 <= PAGE_TARGETS[1]
        profile = page_profile(client, url)
        rows.append({"url": url, "p50_ms": round(p50, 1), "p99_ms": round(p99, 1), "met": met, **profile})
        print(f"  {url}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, {profile}", file=sys.stderr)
    return rows


class MeLoad(threading.Thread):
    """One client looping GET /api/me/ with a bearer token until stopped; records milliseconds."""

    def __init__(self, access: str):
        super().__init__(daemon=True)
        self.access = access
        self.times: list[float] = []
        self.stop = threading.Event()
        self.errors = 0

    def run(self) -> None:
        from django.db import connection
        from django.test import Client

        client = Client(HTTP_AUTHORIZATION=f"Bearer {self.access}")
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                status = client.get("/api/me/").status_code
                self.times.append((time.perf_counter() - started) * 1000)
                self.errors += status != 200
        finally:
            connection.close()


def me_under(access: str, work) -> tuple[list[float], int, object]:
    """Return the /api/me/ latencies (ms) and errors while ``work()`` runs, and what it returned."""
    load = MeLoad(access)
    load.start()
    try:
        result = work()
    finally:
        load.stop.set()
        load.join()
    return load.times, load.errors, result


def latency_summary(times: list[float], errors: int) -> dict:
    """Return requests, errors, p50 and p99 of ``times``."""
    return {
        "requests": len(times),
        "errors": errors,
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(percentile(times, 99), 2),
    }


def command_run(name: str) -> dict:
    """Run ``manage.py name`` as its own process (as cron would); return its duration and last line."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", name, "--verbosity", "0"],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    return {"command": name, "seconds": round(time.monotonic() - started, 1), "output": done.stdout.strip()}


def prune_measure(heavy, baseline_seconds: float) -> dict:
    """Return /api/me/ p99 without and during the prune commands, and their durations."""
    from django.utils import timezone
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.models import Session
    from api.logins import token_pair_issue
    from api.models import TokenFamily

    access = str(token_pair_issue(user=heavy).access)
    now = timezone.now()
    expired = {
        "sessions": Session.objects.filter(expire_date__lt=now).count(),
        "token_families": TokenFamily.objects.filter(expires_at__lt=now).count(),
        "outstanding_tokens": OutstandingToken.objects.filter(expires_at__lt=now).count(),
    }
    print(f"  expired before the prune: {expired}", file=sys.stderr)
    # "Without" is as long as "during": a window before the prune and one
    # after it as long as the prune took, so both p99s rest on about as many
    # requests and straddle the same stretch of the host's other work.
    before, before_errors, _ = me_under(access, lambda: time.sleep(baseline_seconds))
    started = time.monotonic()
    times, errors, commands = me_under(
        access, lambda: [command_run("clearsessions"), command_run("jwt_prune")]
    )
    after_seconds = max(0.0, time.monotonic() - started - baseline_seconds)
    after, after_errors, _ = me_under(access, lambda: time.sleep(after_seconds))
    without = latency_summary(before + after, before_errors + after_errors)
    during = latency_summary(times, errors)
    ratio = during["p99_ms"] / without["p99_ms"] if without["p99_ms"] else float("inf")
    return {
        "expired_before": expired,
        "commands": commands,
        "me_without_prune": without,
        "me_during_prune": during,
        "me_p99_ratio": round(ratio, 2),
        "prune_met": all(c["seconds"] < PRUNE_TARGET_S for c in commands),
        "me_met": ratio <= ME_RATIO_TARGET,
    }


def markdown(results: dict) -> str:
    """Return the results as the Markdown report."""
    env = results["environment"]
    lines = [
        "# Size bench: pages and pruning at size",
        "",
        f"Run {results['started']} on {env['database']} ({env['cache']}), {env['cpus']} CPUs, "
        f"Python {env['python']}; seeded {results['seed']['users']} users and {results['seed']['logins']} "
        "sessions and JWT logins (each JWT login: a family, two outstanding tokens, one blacklisted), "
        "every seeded login expired. Measured in process with Django's test client (full middleware "
        f"stack, no network), {results['samples']} requests per page after one warm-up.",
        "",
        f"Targets: pages p50 <= {PAGE_TARGETS[0]:.0f} ms and p99 <= {PAGE_TARGETS[1]:.0f} ms; each prune "
        f"command under {PRUNE_TARGET_S:.0f} s; /api/me/ p99 during the prune <= {ME_RATIO_TARGET:.0f}x "
        "without.",
        "",
        "| Page | p50 ms | p99 ms | Target | queries | database ms (one request) |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for row in results["pages"]:
        met = "met" if row["met"] else "MISSED"
        lines.append(
            f"| `{row['url']}` | {row['p50_ms']} | {row['p99_ms']} | {met} | {row.get('queries', '')} "
            f"| {row.get('db_ms', '')} |"
        )
    prune = results["prune"]
    lines += ["", "| Prune command | seconds | Target |", "|---|---:|---|"]
    for command in prune["commands"]:
        met = "met" if command["seconds"] < PRUNE_TARGET_S else "MISSED"
        lines.append(f"| `{command['command']}` | {command['seconds']} | {met} |")
    before = prune["expired_before"]
    lines += [
        "",
        f"Expired before the prune: {before['sessions']} sessions, {before['token_families']} token "
        f"families, {before['outstanding_tokens']} outstanding tokens.",
        "",
        "| /api/me/ (one client, bearer) | requests | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for label, key in (
        ("without the prune (a window before it, one after)", "me_without_prune"),
        ("during the prune", "me_during_prune"),
    ):
        row = prune[key]
        lines.append(f"| {label} | {row['requests']} | {row['p50_ms']} | {row['p99_ms']} |")
    lines += [
        "",
        f"p99 ratio during/without: {prune['me_p99_ratio']}x "
        f"({'met' if prune['me_met'] else 'MISSED'}, target <= {ME_RATIO_TARGET:.0f}x).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--logins", type=int, default=None)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    users = args.users or (100_000 if postgres else 2_000)
    logins = args.logins or (1_000_000 if postgres else 20_000)
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    call_command("migrate", verbosity=0)
    out = StringIO()
    call_command(
        "seed_load", users=users, logins=logins, expired=1.0, force=True, stdout=out, stderr=sys.stderr
    )
    print(out.getvalue().strip(), file=sys.stderr)
    pages = pages_measure(args.samples)
    _, heavy = users_prepare()
    prune = prune_measure(heavy, args.baseline_seconds)
    results = {
        "started": started,
        "environment": {
            "database": f"{connection.vendor} {connection.Database.__name__}",
            "cache": "Redis"
            if any("redis" in c["BACKEND"].lower() for c in settings.CACHES.values())
            else "no Redis",
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "seed": {"users": users, "logins": logins, "output": out.getvalue().strip()},
        "samples": args.samples,
        "pages": pages,
        "prune": prune,
    }
    folder = args.out or ROOT / "var" / "bench" / f"size-{started.replace(':', '')}"
    folder.mkdir(parents=True, exist_ok=True)
    name = "size" if args.out else "results"
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / f"{name}.md").write_text(markdown(results))
    print(f"bench-size: results in {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
