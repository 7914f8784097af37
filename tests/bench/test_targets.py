"""`make bench`: how a run is judged: many clients, steadiness, the verifier, the many-clients table."""

from __future__ import annotations

from bench import report as bench_report
from bench import results as bench_results


def _row(server, mechanism, rounds, **extra):
    ordered = sorted(rounds)
    return {
        "server": server,
        "mechanism": mechanism,
        "rps": ordered[len(ordered) // 2],
        "rps_rounds": rounds,
        **extra,
    }


def _judged(results, prefix):
    return {t: (m, ok) for t, m, ok in bench_results.targets(results) if t.startswith(prefix)}


def test_many_clients_are_judged_within_each_round_against_one_credential_and_the_rss_bound():
    server = "authdemo services"
    results = {
        "loads": [
            _row(server, "anon", [1000.0, 1000.0]),
            _row(server, "session", [800.0, 400.0]),
            _row(server, "session-clients", [640.0, 320.0], worker_rss_mib=120.0, cold={"rps": 300.0}),
            _row(server, "jwt-bearer", [800.0, 800.0]),
            _row(server, "jwt-bearer-clients", [600.0, 620.0], worker_rss_mib=300.0),
        ],
        "logins": [],
        "bursts": [],
    }
    bench_results.add_ratios(results)
    judged = _judged(results, server)
    session = judged[f"{server}: session cookie, many clients >= 0.8x one credential (warm)"]
    assert session[1] is True and session[0].startswith("0.80x")  # the slow round hit both alike
    bearer = judged[f"{server}: JWT bearer, many clients >= 0.8x one credential (warm)"]
    assert bearer[1] is False
    rss = judged[
        f"{server}: largest worker RSS under many clients <= {bench_results.WORKER_RSS_BOUND_MIB} MiB"
    ]
    assert rss == ("300 MiB", False)
    table = bench_report.clients_table({**results, "settings": _settings()})
    assert "## Many clients (10000 credentials per mechanism, one per request in turn)" in table
    (session_row,) = [row for row in table if row.startswith(f"| {server} | session cookie |")]
    assert "| 300 (0 req) |" in session_row and "| 0.80 |" in session_row
    assert bench_report.clients_table({"loads": results["loads"][:2], "settings": _settings()}) == []


def test_steadiness_is_judged_over_eight_rounds_only_and_names_the_slowest_round():
    steady = _row("authdemo embedded", "session", [1000.0] * 7 + [690.0])
    short = _row("authdemo services", "session", [1000.0, 300.0])
    results = {"loads": [steady, short], "logins": [], "bursts": []}
    bench_results.add_ratios(results)
    assert steady["spread"] == 0.69 and short["spread"] == 0.46
    judged = {t: (m, ok) for t, m, ok in bench_results.steady_targets(results)}
    eight = judged["authdemo embedded / session cookie: slowest round >= 0.7x median"]
    assert eight == ("0.69x (690 / 1000 req/s, 8 rounds)", False)
    assert judged["authdemo services / session cookie: slowest round >= 0.7x median"][1] is None
    assert bench_results.spread({"rps_rounds": []}) is None


def test_the_verifier_is_judged_at_twice_the_sites_revocable_bearer():
    results = {
        "loads": [
            _row("authdemo embedded", "jwt-bearer", [1000.0, 1000.0]),
            _row("verifier", "jwt-bearer-stateless", [2100.0, 1900.0]),
        ],
        "logins": [],
        "bursts": [],
    }
    bench_results.add_ratios(results)
    (verdict,) = [v for v in bench_results.targets(results) if "the stateless verifier" in v[0]]
    assert verdict == (
        "authdemo embedded: the stateless verifier >= 2x the revocable JWT bearer",
        "2.00x",
        True,
    )
    results["loads"][1]["rps_rounds"] = [1900.0, 1900.0]
    (verdict,) = [v for v in bench_results.targets(results) if "the stateless verifier" in v[0]]
    assert verdict[2] is False


def _settings():
    return {"threads": 2, "connections": 32, "rounds": 2, "seconds": 3, "clients": 10_000}


def test_a_rotating_load_is_judged_against_the_one_credential_runs_of_its_own_block():
    server = "authdemo embedded"
    results = {
        "loads": [
            _row(server, "anon", [1000.0, 1000.0]),
            _row(server, "session", [400.0, 400.0]),  # the bench's rounds: not the yardstick
            _row(server, "session-clients", [600.0, 300.0], one_rps_rounds=[800.0, 400.0], one_rps=600.0),
        ],
        "logins": [],
        "bursts": [],
    }
    bench_results.add_ratios(results)
    judged = _judged(results, server)
    assert judged[f"{server}: session cookie, many clients >= 0.8x one credential (warm)"] == ("0.75x", False)
    # Its rounds ran apart from the anonymous load's: no ratio to it.
    assert results["loads"][2]["ratio"] is None and results["loads"][2]["ratio_rounds"] == []
    (row,) = [r for r in bench_report.clients_table({**results, "settings": _settings()}) if "session" in r]
    assert row.startswith(f"| {server} | session cookie | 600 |") and "| 0.75 |" in row
