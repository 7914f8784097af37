"""Write one HTTP bench run as docs/bench/results.json, results.md and chart.svg (plain SVG)."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from bench.clients import CLIENT_LOADS
from bench.wire import MECHANISMS

COLOURS = {
    "anon": "#9e9e9e",
    "session": "#1f77b4",
    "jwt-bearer": "#ff7f0e",
    "jwt-cookie": "#2ca02c",
    "jwt-bearer-stateless": "#d62728",
    "session-mixed": "#aec7e8",
    "jwt-bearer-mixed": "#ffbb78",
    "jwt-cookie-mixed": "#98df8a",
    "session-clients": "#17becf",
    "jwt-bearer-clients": "#bcbd22",
    "jwt-cookie-clients": "#8c564b",
}
# The columns of the side-by-side table: each mechanism's warm load.
WARM = ("anon", "session", "jwt-bearer", "jwt-cookie", "jwt-bearer-stateless")


def machine() -> dict:
    """Return what identifies the machine of a run: host, CPU, cores, kernel, Python, load average."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "hostname": socket.gethostname(),
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def paired(row: dict, base: dict) -> float | None:
    """Return row's req/s over base's: the median over rounds of the quotient within each round.

    Both loads of a quotient ran in the same round, a server's loads back to
    back (bench/measure.py round_order), so the machine's drift between rounds
    cancels out; without per-round figures, the quotient of the medians.
    """
    mine, theirs = row.get("rps_rounds") or [], base.get("rps_rounds") or []
    quotients = [a / b for a, b in zip(mine, theirs, strict=False) if b]
    if mine and len(mine) == len(theirs) == len(quotients):
        return statistics.median(quotients)
    return row["rps"] / base["rps"] if base.get("rps") else None


def add_ratios(results: dict) -> None:
    """Give each load its ratio to the anonymous endpoint of its server (the stateless twin: its mode's)."""
    anon = {}
    for row in results["loads"]:
        if row["mechanism"] == "anon":
            anon[row["server"]] = row
    for row in results["loads"]:
        base = anon.get(row["server"]) or anon.get(row["server"].removesuffix(" stateless"))
        ratio = paired(row, base) if base else None
        row["ratio"] = round(ratio, 2) if ratio is not None else None
        rounds = zip(row.get("rps_rounds") or [], (base or {}).get("rps_rounds") or [], strict=False)
        row["ratio_rounds"] = [round(a / b, 2) for a, b in rounds if b] if ratio is not None else []
        steady = spread(row)
        row["spread"] = round(steady, 2) if steady is not None else None


# Steady throughput: the slowest round of a load against its median round.
STEADY_MIN = 0.7
STEADY_ROUNDS = 8  # judged only over at least this many rounds
# The stateless verifier against the site's revocable bearer /api/me/.
VERIFIER_MIN = 2.0
# Many clients: each rotating load against its mechanism's one-credential load.
CLIENTS_MIN = 0.8
# The largest worker process while the many-clients loads run (docs/bench/analysis.md:
# the interpreter and Django, about 90 MiB, plus the per-process caches at their bound).
WORKER_RSS_BOUND_MIB = 256


def spread(row: dict) -> float | None:
    """Return the slowest round's req/s over the median round's (1.0: all alike); None without rounds."""
    rates = row.get("rps_rounds") or []
    middle = statistics.median(rates) if rates else 0
    return min(rates) / middle if middle else None


def _servers(results: dict) -> list[str]:
    seen: list[str] = []
    for row in results["loads"]:
        name = row["server"].removesuffix(" stateless")
        if name not in seen:
            seen.append(name)
    return seen


def _row(results: dict, server: str, mechanism: str) -> dict | None:
    for row in results["loads"]:
        if row["server"].removesuffix(" stateless") == server and row["mechanism"] == mechanism:
            return row
    return None


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """Return (target, measured, reached) for each target the run can judge."""
    out: list[tuple[str, str, bool | None]] = []
    authdemo = [s for s in _servers(results) if s.startswith("authdemo")]
    for server in authdemo:
        for mech in ("session", "jwt-bearer", "jwt-cookie"):
            row = _row(results, server, mech)
            if row and row["ratio"] is not None:
                out.append(
                    (
                        f"{server}: {MECHANISMS[mech]} >= 0.8x anonymous",
                        f"{row['ratio']:.2f}x",
                        row["ratio"] >= 0.8,
                    )
                )
        for mech in ("session", "jwt-bearer", "jwt-cookie"):
            warm, mixed = _row(results, server, mech), _row(results, server, f"{mech}-mixed")
            if warm and mixed:
                share = paired(mixed, warm)
                logins = mixed.get("background_logins") or {}
                out.append(
                    (
                        f"{server}: {MECHANISMS[mech]} while logins go on >= 0.8x warm",
                        f"{share:.2f}x ({sum(logins.values())} logins: {logins})",
                        share >= 0.8 and set(logins) <= {"200", "302"},
                    )
                )
        bearer, stateless = _row(results, server, "jwt-bearer"), _row(results, server, "jwt-bearer-stateless")
        if bearer and stateless:
            share = paired(bearer, stateless)
            out.append((f"{server}: revocable JWT within 10% of stateless", f"{share:.2f}x", share >= 0.9))
        verifier = _row(results, "verifier", "jwt-bearer-stateless")
        if bearer and verifier:
            share = paired(verifier, bearer)
            out.append(
                (
                    f"{server}: the stateless verifier >= {VERIFIER_MIN:g}x the revocable JWT bearer",
                    f"{share:.2f}x",
                    share >= VERIFIER_MIN,
                )
            )
        if "django-naive" in _servers(results):
            for mech in ("anon", "session", "jwt-bearer"):
                mine, peer = _row(results, server, mech), _row(results, "django-naive", mech)
                if mine and peer:
                    share = paired(mine, peer)
                    if mech == "anon":
                        # The baseline, not a mechanism: authdemo's is the JWKS document
                        # behind its whole middleware stack, the peer's a constant.
                        label = f"{server}: anonymous vs django-naive (baseline, different endpoints)"
                        out.append((label, f"{share:.2f}x", None))
                        continue
                    out.append(
                        (f"{server}: {MECHANISMS[mech]} >= 1.5x django-naive", f"{share:.2f}x", share >= 1.5)
                    )
    out += clients_targets(results)
    out += steady_targets(results)
    for login in results["logins"]:
        if login["server"].startswith("authdemo"):
            out.append(
                (
                    f"{login['server']}: {login['login']} p50 <= 60 ms",
                    f"{login['p50_ms']:.1f} ms",
                    login["p50_ms"] <= 60,
                )
            )
    for b in results["bursts"]:
        out.append(
            (
                f"{b['server']}: burst of {b['size']} logins, no 5xx",
                f"{b['server_errors']} 5xx/failed, statuses {b['statuses']}",
                b["server_errors"] == 0,
            )
        )
        growth = b["rss_peak_mib"] - b["rss_before_mib"]
        out.append(
            (
                f"{b['server']}: burst RSS growth <= hashing bound {b['hash_bound_mib']:.0f} MiB",
                f"{b['rss_before_mib']:.0f} -> {b['rss_peak_mib']:.0f} MiB (+{growth:.0f})",
                growth <= b["hash_bound_mib"],
            )
        )
    return out


def clients_targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """Return, per server and mechanism, many clients against one credential, and the workers' RSS bound."""
    out: list[tuple[str, str, bool | None]] = []
    for server in _servers(results):
        largest = 0.0
        for mech, base in CLIENT_LOADS.items():
            many, one = _row(results, server, mech), _row(results, server, base)
            if not (many and one):
                continue
            share = paired(many, one)
            cold = many.get("cold") or {}
            cold_share = cold["rps"] / one["rps"] if cold.get("rps") and one["rps"] else None
            out.append(
                (
                    f"{server}: {MECHANISMS[mech]} >= {CLIENTS_MIN:g}x one credential (warm)",
                    f"{share:.2f}x (cold {cold_share:.2f}x)" if cold_share else f"{share:.2f}x",
                    share >= CLIENTS_MIN,
                )
            )
            largest = max(largest, many.get("worker_rss_mib") or 0, cold.get("worker_rss_mib") or 0)
        if largest:
            out.append(
                (
                    f"{server}: largest worker RSS under many clients <= {WORKER_RSS_BOUND_MIB} MiB",
                    f"{largest:.0f} MiB",
                    largest <= WORKER_RSS_BOUND_MIB,
                )
            )
    return out


def _share(value) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, int | float) else "—"


def clients_table(results: dict) -> list[str]:
    """Return the markdown rows of the many-clients section (empty without rotating loads)."""
    rows = []
    for server in _servers(results):
        for mech, base in CLIENT_LOADS.items():
            many, one = _row(results, server, mech), _row(results, server, base)
            if not (many and one):
                continue
            cold = many.get("cold") or {}
            cold_rps = f"{cold['rps']:.0f}" if cold.get("rps") else "—"
            rows.append(
                f"| {server} | {MECHANISMS[base]} | {one['rps']:.0f} | {_share(one.get('db_share'))} "
                f"| {cold_rps} ({cold.get('requests', 0)} req) | {_share(cold.get('db_share'))} "
                f"| {many['rps']:.0f} | {_share(many.get('db_share'))} | {paired(many, one):.2f} "
                f"| {many.get('worker_rss_mib', 0):.0f} |"
            )
    if not rows:
        return []
    clients = results["settings"].get("clients", 0)
    return [
        "",
        f"## Many clients ({clients} credentials per mechanism, one per request in turn)",
        "",
        "Cold: the first run, before any warm-up (each credential's first requests when it served fewer "
        "requests than there are credentials). Warm: the rounds. DB: the share of requests that ran at "
        "least one SQL statement (counted in each worker, bench/querycount.py). RSS: the largest worker "
        "process at the end of a round.",
        "",
        "| server | mechanism | one credential req/s | DB | cold req/s | DB | warm req/s | DB "
        "| warm / one | worker RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def steady_targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """Return one steadiness target per load: its slowest round >= STEADY_MIN x its median round.

    Judged over STEADY_ROUNDS rounds or more; a shorter run shows the figure unjudged.
    """
    out: list[tuple[str, str, bool | None]] = []
    for row in results["loads"]:
        rates = row.get("rps_rounds") or []
        steady = spread(row)
        if steady is None:
            continue
        judged = len(rates) >= STEADY_ROUNDS
        out.append(
            (
                f"{row['server']} / {MECHANISMS[row['mechanism']]}: slowest round >= {STEADY_MIN:g}x median",
                f"{steady:.2f}x ({min(rates):.0f} / {statistics.median(rates):.0f} req/s, "
                f"{len(rates)} rounds)",
                steady >= STEADY_MIN if judged else None,
            )
        )
    return out


def markdown(results: dict, inprocess: str = "") -> str:
    m = results["machine"]
    s = results["settings"]
    lines = [
        "# authdemo bench: results of one run",
        "",
        f"Run {results['date']} on **{m['hostname']}**: {m['cpu']}, {m['cores']} cores, {m['kernel']}, "
        f"Python {m['python']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}.",
        "",
        f"wrk -t{s['threads']} -c{s['connections']}, {s['rounds']} interleaved rounds "
        f"x {s['seconds']:g} s per load, each server's loads back to back within a round; "
        "plain HTTP on loopback; servers in production mode. req/s, p50 and p99 are medians over rounds; "
        "a ratio is the median over rounds of the quotient within each round. The machine is shared "
        "(other jobs use the same cores), so absolute figures are noisy: compare the ratios within this run.",
        "",
        "![requests per second per mechanism and server](chart.svg)",
        "",
        "## Side by side (req/s; ratio to the anonymous endpoint of the same server)",
        "",
        "| server | anonymous | session | JWT bearer | JWT cookie | JWT bearer, stateless "
        "| session/anon | bearer/anon | cookie/anon |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for server in _servers(results):
        cells, ratios = [], []
        for mech in WARM:
            row = _row(results, server, mech)
            cells.append(f"{row['rps']:,.0f}".replace(",", " ") if row else "—")
        for mech in ("session", "jwt-bearer", "jwt-cookie"):
            row = _row(results, server, mech)
            ratios.append(f"{row['ratio']:.2f}" if row and row["ratio"] is not None else "—")
        lines.append(f"| {server} | " + " | ".join(cells + ratios) + " |")
    lines += [
        "",
        "## Every load",
        "",
        "| server | mechanism | path | req/s | p50 ms | p99 ms | errors (non-2xx + socket) "
        "| peak RSS MiB | ratio | ratio per round | slowest/median round | req/s per round |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["loads"]:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "—"
        per_round = " ".join(f"{q:.2f}" for q in row.get("ratio_rounds") or []) or "—"
        steady = f"{row['spread']:.2f}" if row.get("spread") is not None else "—"
        rates = " ".join(f"{x:.0f}" for x in row.get("rps_rounds") or []) or "—"
        lines.append(
            f"| {row['server']} | {MECHANISMS[row['mechanism']]} | `{row['path']}` | {row['rps']:.0f} "
            f"| {row['p50_ms']:.1f} "
            f"| {row['p99_ms']:.1f} | {row['errors']} | {row['rss_peak_mib']:.0f} | {ratio} | {per_round} "
            f"| {steady} | {rates} |"
        )
    lines += clients_table(results)
    lines += [
        "",
        "## Logins (sequential, a new connection each)",
        "",
        "| server | login | n | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for lg in results["logins"]:
        lines.append(
            f"| {lg['server']} | {lg['login']} | {lg['count']} | {lg['p50_ms']:.1f} | {lg['p99_ms']:.1f} |"
        )
    if results["bursts"]:
        lines += [
            "",
            "## Burst of parallel token obtains",
            "",
            "Hashing memory bound = worker processes x PASSWORD_HASH_CONCURRENCY x Argon2 memory_cost.",
            "",
            "| server | parallel | statuses | p50 ms | max ms | RSS before MiB | RSS peak MiB "
            "| hashing bound MiB |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for b in results["bursts"]:
            statuses = ", ".join(f"{k}: {v}" for k, v in b["statuses"].items())
            lines.append(
                f"| {b['server']} | {b['size']} | {statuses} | {b['p50_ms']:.0f} | {b['max_ms']:.0f} | "
                f"{b['rss_before_mib']:.0f} | {b['rss_peak_mib']:.0f} | {b['hash_bound_mib']:.0f} "
                f"({b['workers']} x {b['hash_concurrency']} x Argon2) |"
            )
    lines += ["", "## Targets", "", "| target | measured | reached |", "|---|---|---|"]
    for name, measured, ok in targets(results):
        lines.append(f"| {name} | {measured} | {'—' if ok is None else 'yes' if ok else 'no'} |")
    lines += [
        "",
        "What each target reached and what bounds the rest (profiles, by hand, kept across runs): "
        "[analysis.md](analysis.md).",
    ]
    lines += ["", "## Servers", ""]
    for srv in results["servers"]:
        lines.append(
            f"- **{srv['name']}**: {srv['note']}; peak RSS of its process tree {srv['rss_peak_mib']:.0f} MiB"
        )
    for note in results["skipped"]:
        lines.append(f"- {note}")
    if inprocess:
        lines += ["", "## In process (test client, no network)", "", "```", inprocess.strip("\n"), "```"]
    return "\n".join(lines) + "\n"


def chart(results: dict) -> str:
    """Return an SVG bar chart: one group per server, one bar per mechanism (req/s)."""
    servers = _servers(results)
    groups = [
        (s, [(mech, _row(results, s, mech)) for mech in MECHANISMS if _row(results, s, mech)])
        for s in servers
    ]
    top = max((row["rps"] for row in results["loads"]), default=1) * 1.12
    bar, gap, left, height, base = 26, 34, 60, 300, 340
    width = left + sum(len(bars) * bar + gap for _s, bars in groups) + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{base + 90}" '
        f'viewBox="0 0 {width} {base + 90}" font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="16" font-size="13">requests per second, GET '
        f'(wrk, {escape(results["date"][:10])}, '
        f"{escape(results['machine']['hostname'])})</text>",
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#333"/>',
    ]
    for i in range(5):
        value = top / 1.12 * i / 4
        y = base - value / top * height
        out.append(f'<text x="{left - 6}" y="{y + 4:.0f}" text-anchor="end" fill="#555">{value:.0f}</text>')
        out.append(f'<line x1="{left}" y1="{y:.0f}" x2="{width - 10}" y2="{y:.0f}" stroke="#eee"/>')
    x = left + gap / 2
    for server, bars in groups:
        start = x
        for mech, row in bars:
            h = row["rps"] / top * height
            out.append(
                f'<rect x="{x:.0f}" y="{base - h:.0f}" width="{bar - 4}" height="{h:.0f}" '
                f'fill="{COLOURS[mech]}">'
                f"<title>{escape(server)}, {escape(MECHANISMS[mech])}: {row['rps']:.0f} req/s</title></rect>"
            )
            out.append(
                f'<text x="{x + (bar - 4) / 2:.0f}" y="{base - h - 4:.0f}" '
                'text-anchor="middle" font-size="9">'
                f"{row['rps']:.0f}</text>"
            )
            x += bar
        out.append(
            f'<text x="{(start + x) / 2:.0f}" y="{base + 16}" text-anchor="middle">{escape(server)}</text>'
        )
        x += gap
    lx = left
    for mech, colour in COLOURS.items():
        out.append(f'<rect x="{lx}" y="{base + 40}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{base + 50}">{escape(MECHANISMS[mech])}</text>')
        lx += 30 + 7 * len(MECHANISMS[mech])
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(results: dict, out_dir: Path, inprocess: str = "") -> list[Path]:
    """Add date, machine and ratios to the results; write results.json, results.md and chart.svg."""
    results.setdefault("date", datetime.now(UTC).isoformat(timespec="seconds"))
    results.setdefault("machine", machine())
    add_ratios(results)
    results["targets"] = [{"target": t, "measured": m, "reached": ok} for t, m, ok in targets(results)]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "results.json", out_dir / "results.md", out_dir / "chart.svg"]
    paths[0].write_text(json.dumps(results, indent=2) + "\n")
    paths[1].write_text(markdown(results, inprocess))
    paths[2].write_text(chart(results))
    return paths
