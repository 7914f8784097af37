"""Judge one HTTP bench run: the machine, ratios paired within rounds, the targets."""

from __future__ import annotations

import os
import platform
import socket
import statistics
from pathlib import Path

from bench.clients import CLIENT_LOADS
from bench.wire import MECHANISMS


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
        if row.get("one_rps_rounds"):
            base = None  # a many-clients block: its rounds are not the anonymous load's (one_credential)
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


def server_names(results: dict) -> list[str]:
    seen: list[str] = []
    for row in results["loads"]:
        name = row["server"].removesuffix(" stateless")
        if name not in seen:
            seen.append(name)
    return seen


def row_of(results: dict, server: str, mechanism: str) -> dict | None:
    for row in results["loads"]:
        if row["server"].removesuffix(" stateless") == server and row["mechanism"] == mechanism:
            return row
    return None


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """Return (target, measured, reached) for each target the run can judge."""
    out: list[tuple[str, str, bool | None]] = []
    authdemo = [s for s in server_names(results) if s.startswith("authdemo")]
    for server in authdemo:
        for mech in ("session", "jwt-bearer", "jwt-cookie"):
            row = row_of(results, server, mech)
            if row and row["ratio"] is not None:
                out.append(
                    (
                        f"{server}: {MECHANISMS[mech]} >= 0.8x anonymous",
                        f"{row['ratio']:.2f}x",
                        row["ratio"] >= 0.8,
                    )
                )
        for mech in ("session", "jwt-bearer", "jwt-cookie"):
            warm, mixed = row_of(results, server, mech), row_of(results, server, f"{mech}-mixed")
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
        bearer = row_of(results, server, "jwt-bearer")
        stateless = row_of(results, server, "jwt-bearer-stateless")
        if bearer and stateless:
            share = paired(bearer, stateless)
            out.append((f"{server}: revocable JWT within 10% of stateless", f"{share:.2f}x", share >= 0.9))
        verifier = row_of(results, "verifier", "jwt-bearer-stateless")
        if bearer and verifier:
            share = paired(verifier, bearer)
            out.append(
                (
                    f"{server}: the stateless verifier >= {VERIFIER_MIN:g}x the revocable JWT bearer",
                    f"{share:.2f}x",
                    share >= VERIFIER_MIN,
                )
            )
        if "django-naive" in server_names(results):
            for mech in ("anon", "session", "jwt-bearer"):
                mine, peer = row_of(results, server, mech), row_of(results, "django-naive", mech)
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


def one_credential(many: dict, one: dict) -> dict:
    """Return what a rotating load is judged against: the one-credential runs of its block, else ``one``."""
    if many.get("one_rps_rounds"):
        return {**one, "rps": many["one_rps"], "rps_rounds": many["one_rps_rounds"]}
    return one


def clients_targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """Return, per server and mechanism, many clients against one credential, and the workers' RSS bound."""
    out: list[tuple[str, str, bool | None]] = []
    for server in server_names(results):
        largest = 0.0
        for mech, base in CLIENT_LOADS.items():
            many, one = row_of(results, server, mech), row_of(results, server, base)
            if not (many and one):
                continue
            one = one_credential(many, one)
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
