"""How many requests reached the database: gunicorn hooks for the bench's servers, off unless asked.

authdemo/gunicorn.conf.py installs these hooks only when QUERY_DIR_ENV names
a folder (the bench sets it; a deployment never does). Each worker process
counts its requests, the requests that ran at least one SQL statement, and
the statements, through Django's public ``connection.execute_wrapper``, and
writes the three to ``<folder>/<pid>.json`` every FLUSH_EVERY seconds from a
thread of its own, so the request path only adds to counters. The bench sums
the files before and after a wrk run (``totals``).
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import ExitStack
from pathlib import Path

QUERY_DIR_ENV = "AUTHDEMO_BENCH_QUERY_DIR"
FLUSH_EVERY = 0.2  # seconds between two writes of a worker's counts

_lock = threading.Lock()
_counts = {"requests": 0, "db_requests": 0, "statements": 0}
_local = threading.local()


def _count_statement(execute, sql, params, many, context):
    _local.statements += 1
    return execute(sql, params, many, context)


def pre_request(worker, req) -> None:
    from django.db import connection

    _local.statements = 0
    _local.stack = ExitStack()
    _local.stack.enter_context(connection.execute_wrapper(_count_statement))


def post_request(worker, req, environ, resp) -> None:
    stack = getattr(_local, "stack", None)
    if stack is None:
        return
    stack.close()
    _local.stack = None
    with _lock:
        _counts["requests"] += 1
        _counts["statements"] += _local.statements
        _counts["db_requests"] += 1 if _local.statements else 0


def counts() -> dict[str, int]:
    """Return this process's counts so far."""
    with _lock:
        return dict(_counts)


def _flush_forever(path: Path) -> None:
    stop = threading.Event()
    last: dict = {}
    while not stop.wait(FLUSH_EVERY):
        now = counts()
        if now != last:
            partial = path.with_suffix(".tmp")
            partial.write_text(json.dumps(now))
            partial.replace(path)  # atomic: a reader never sees half a file
            last = now


def post_worker_init(worker) -> None:
    folder = Path(os.environ[QUERY_DIR_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.json"
    threading.Thread(target=_flush_forever, args=(path,), daemon=True, name="bench-query-count").start()


def totals(folder: Path) -> dict[str, int]:
    """Return the counts of every worker that wrote to ``folder`` (zeros when none did)."""
    total = dict.fromkeys(_counts, 0)
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            counts = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for name in total:
            total[name] += int(counts.get(name, 0))
    return total


def share(before: dict[str, int], after: dict[str, int]) -> dict:
    """Return what happened between two ``totals``: requests, the share that ran SQL, statements each."""
    requests = after["requests"] - before["requests"]
    db_requests = after["db_requests"] - before["db_requests"]
    statements = after["statements"] - before["statements"]
    return {
        "counted_requests": requests,
        "db_share": round(db_requests / requests, 4) if requests else None,
        "statements_per_request": round(statements / requests, 3) if requests else None,
    }


def runs_share(runs: list[dict]) -> dict:
    """Return the share of requests that ran SQL over every run of a load (empty: not counted)."""
    counted = [r for r in runs if r.get("counted_requests")]
    if not counted:
        return {}
    requests = sum(r["counted_requests"] for r in counted)
    reached = sum(r["db_share"] * r["counted_requests"] for r in counted)
    statements = sum(r["statements_per_request"] * r["counted_requests"] for r in counted)
    return {
        "db_share": round(reached / requests, 4),
        "statements_per_request": round(statements / requests, 3),
    }
