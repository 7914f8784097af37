"""How many requests reached the database: gunicorn hooks for the bench's servers, off unless asked.

authdemo/gunicorn.conf.py installs these hooks only when QUERY_DIR_ENV names
a folder (the bench sets it; a deployment never does). Each worker process
counts its requests, the requests that ran at least one SQL statement, and
the statements, through Django's public ``connection.execute_wrapper``, and
writes the three to ``<folder>/<pid>.json`` every FLUSH_EVERY seconds from a
thread of its own, so the request path only adds to counters. The bench sums
the files before and after a wrk run (``totals``). Each request that ran SQL
is also counted under its statements' shapes (``SELECT accounts_user``,
``UPDATE accounts_session``, ...), which says what a request that was
expected warm read or wrote (``shapes``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from contextlib import ExitStack
from pathlib import Path

QUERY_DIR_ENV = "AUTHDEMO_BENCH_QUERY_DIR"
FLUSH_EVERY = 0.2  # seconds between two writes of a worker's counts

_lock = threading.Lock()
_counts = {"requests": 0, "db_requests": 0, "statements": 0}
_shapes: dict[str, int] = {}
_local = threading.local()
_TABLE = re.compile(r'\b(?:FROM|UPDATE|INTO)\s+"?(\w+)', re.IGNORECASE)


def statement_shape(sql: str) -> str:
    """Return the verb and first table of a statement: ``SELECT accounts_user``."""
    verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
    table = _TABLE.search(sql)
    return f"{verb} {table.group(1)}" if table else verb


def _count_statement(execute, sql, params, many, context):
    _local.statements += 1
    _local.shapes.append(statement_shape(sql))
    return execute(sql, params, many, context)


def pre_request(worker, req) -> None:
    from django.db import connection

    _local.statements = 0
    _local.shapes = []
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
        if _local.shapes:
            shape = " + ".join(_local.shapes)
            _shapes[shape] = _shapes.get(shape, 0) + 1


def counts() -> dict:
    """Return this process's counts so far, with the requests per statement shapes under "shapes"."""
    with _lock:
        return {**_counts, "shapes": dict(_shapes)}


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


def totals(folder: Path) -> dict:
    """Return the counts of every worker that wrote to ``folder`` (zeros when none did)."""
    total: dict = dict.fromkeys(_counts, 0)
    shapes: dict[str, int] = {}
    for path in folder.glob("*.json") if folder.is_dir() else []:
        try:
            counts = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for name in _counts:
            total[name] += int(counts.get(name, 0))
        for shape, count in counts.get("shapes", {}).items():
            shapes[shape] = shapes.get(shape, 0) + int(count)
    total["shapes"] = shapes
    return total


def shapes(before: dict, after: dict) -> dict[str, int]:
    """Return how many requests ran each sequence of statement shapes between two ``totals``."""
    earlier = before.get("shapes", {})
    grown = {shape: count - earlier.get(shape, 0) for shape, count in after.get("shapes", {}).items()}
    return dict(sorted(((s, c) for s, c in grown.items() if c), key=lambda item: -item[1]))


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
