"""Write one HTTP bench run as docs/bench/results.json, results.md and chart.svg (plain SVG)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from bench.clients import CLIENT_LOADS
from bench.results import add_ratios, machine, one_credential, paired, row_of, server_names, targets
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


def _share(value) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, int | float) else "—"


def clients_table(results: dict) -> list[str]:
    """Return the markdown rows of the many-clients section (empty without rotating loads)."""
    rows = []
    for server in server_names(results):
        for mech, base in CLIENT_LOADS.items():
            many, one = row_of(results, server, mech), row_of(results, server, base)
            if not (many and one):
                continue
            one = one_credential(many, one)
            cold = many.get("cold") or {}
            revisit = many.get("revisit_seconds")
            cold_rps = f"{cold['rps']:.0f}" if cold.get("rps") else "—"
            rows.append(
                f"| {server} | {MECHANISMS[base]} | {one['rps']:.0f} | {_share(one.get('db_share'))} "
                f"| {cold_rps} ({cold.get('requests', 0)} req) | {_share(cold.get('db_share'))} "
                f"| {many['rps']:.0f} | {_share(many.get('db_share'))} | {paired(many, one):.2f} "
                f"| {f'{revisit:.0f}' if revisit else '—'} | {many.get('worker_rss_mib', 0):.0f} |"
            )
    if not rows:
        return []
    clients = results["settings"].get("clients", 0)
    return [
        "",
        f"## Many clients ({clients} credentials per mechanism, one per request in turn)",
        "",
        "Each rotating load runs in a block of its own (bench/clients.py): a cold pass (each credential's "
        "first request), untimed warm passes, then rounds in which it and its mechanism's one-credential "
        "load run back to back; warm / one is the median of the quotients within each round. Revisit: "
        "the seconds between two requests with the same credential during the rounds. DB: the share of "
        "requests that ran at least one SQL statement (counted in each worker, bench/querycount.py). "
        "RSS: the largest worker process at the end of a round.",
        "",
        "| server | mechanism | one credential req/s | DB | cold req/s | DB | warm req/s | DB "
        "| warm / one | revisit s | worker RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


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
    for server in server_names(results):
        cells, ratios = [], []
        for mech in WARM:
            row = row_of(results, server, mech)
            cells.append(f"{row['rps']:,.0f}".replace(",", " ") if row else "—")
        for mech in ("session", "jwt-bearer", "jwt-cookie"):
            row = row_of(results, server, mech)
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
    servers = server_names(results)
    groups = [
        (s, [(mech, row_of(results, s, mech)) for mech in MECHANISMS if row_of(results, s, mech)])
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
