"""The measured figures the comparison cites: `make bench` results read back, the verdict on login writes."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

BENCH_RESULTS = Path(settings.BASE_DIR) / "docs" / "bench" / "results.json"
BENCH_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class BenchRow:
    server: str
    mode: str  # how the server ran (workers, threads, store)
    mechanism: str
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    errors: int | None
    ratio_to_anon: float | None
    kind: str = ""  # "authdemo" or the peer's name


@dataclass(frozen=True)
class BenchResults:
    date: str
    machine: str
    rows: list[BenchRow] = field(default_factory=list)

    def row(self, *, server: str, mechanism: str) -> BenchRow | None:
        """Return the row of exactly this server and mechanism, or None (never a stand-in)."""
        for r in self.rows:
            if r.server == server and r.mechanism == mechanism and r.rps is not None:
                return r
        return None

    def throughput(self, *, mode: str) -> dict[str, BenchRow | None]:
        """Return the rows the comparison cites for ``mode`` ("embedded" or "services").

        The JWT column describes the revocable token everywhere on the page, so
        its cell is the revocable bearer row; the stateless variant and the
        verifier have rows of their own.
        """
        server = f"authdemo {mode}"
        return {
            "session": self.row(server=server, mechanism="session"),
            "jwt": self.row(server=server, mechanism="jwt-bearer"),
            "jwt_cookie": self.row(server=server, mechanism="jwt-cookie"),
            "stateless": self.row(server=f"{server} stateless", mechanism="jwt-bearer-stateless"),
            "verifier": self.row(server="verifier", mechanism="jwt-bearer-stateless"),
        }


def _num(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value, limit: int = 80) -> str:
    return str(value)[:limit] if isinstance(value, str | int | float) else ""


def bench_results_load(path: Path | None = None) -> BenchResults | None:
    """Return the latest benchmark results, or None when absent or unreadable (never raises)."""
    path = path or BENCH_RESULTS
    try:
        if not path.is_file() or path.stat().st_size > BENCH_MAX_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("unreadable benchmark results in %s", path, exc_info=True)
        return None
    # The format `make bench` writes (bench/report.py): "servers" describe
    # each server, "loads" hold one row per server and mechanism.
    if not isinstance(data, dict) or not isinstance(data.get("loads"), list):
        return None
    machine = data.get("machine") if isinstance(data.get("machine"), dict) else {}
    described = ", ".join(
        part
        for part in (
            _text(machine.get("hostname")),
            _text(machine.get("cpu")),
            f"{_text(machine.get('cores'))} cores" if machine.get("cores") else "",
        )
        if part
    )
    servers = {
        _text(item.get("name")): item
        for item in (data.get("servers") if isinstance(data.get("servers"), list) else [])[:50]
        if isinstance(item, dict)
    }
    rows = []
    for item in data["loads"][:200]:
        if not isinstance(item, dict):
            continue
        server = servers.get(_text(item.get("server")), {})
        rows.append(
            BenchRow(
                server=_text(item.get("server")),
                mode=_text(server.get("note"), limit=160),
                mechanism=_text(item.get("mechanism")),
                rps=_num(item.get("rps")),
                p50_ms=_num(item.get("p50_ms")),
                p99_ms=_num(item.get("p99_ms")),
                errors=int(item["errors"]) if _num(item.get("errors")) is not None else None,
                ratio_to_anon=_num(item.get("ratio")),
                kind=_text(server.get("kind")),
            )
        )
    return BenchResults(date=_text(data.get("date")), machine=described or "unknown machine", rows=rows)


def login_writes_verdict(costs: dict[str, dict]) -> str:
    """Return the verdict on writes per login, derived from the metered cells it stands beside."""
    session = (costs.get("session") or {}).get("writes")
    jwt = [c["writes"] for kind in ("jwt_cookie", "jwt_bearer") if isinstance(c := costs.get(kind), dict)
           and isinstance(c.get("writes"), int)]
    later = "Each JWT refresh writes again (the new token, its link, the old one blacklisted)."
    if not isinstance(session, int) or not jwt:
        return f"Log in both ways to compare the rows each login writes. {later}"
    if all(n > session for n in jwt):
        word = "more rows than"
    elif all(n < session for n in jwt):
        word = "fewer rows than"
    elif all(n == session for n in jwt):
        word = "as many rows as"
    else:
        word = "about as many rows as"
    return f"Measured here, a JWT login writes {word} a session login. {later}"
