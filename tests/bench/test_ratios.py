"""`make bench`: each server's loads run back to back, and a ratio is taken within each round."""

from __future__ import annotations

from types import SimpleNamespace

from bench import measure as bench_measure
from bench import results as bench_results
from bench import servers as bench_servers
from bench import wire as bench_wire


def _loads():
    names = {
        "authdemo embedded": ["anon", "session", "jwt-bearer"],
        "authdemo embedded stateless": ["jwt-bearer-stateless"],
        "django-naive": ["anon", "session"],
    }
    return [
        SimpleNamespace(server=SimpleNamespace(name=server), mechanism=mech)
        for server, mechs in names.items()
        for mech in mechs
    ]


def test_a_round_runs_each_servers_loads_back_to_back_and_rotates():
    loads = _loads()
    orders = [bench_measure.round_order(loads, r) for r in range(4)]
    for order in orders:
        assert sorted(map(id, order)) == sorted(map(id, loads))
        servers = [load.server.name.removesuffix(" stateless") for load in order]
        # One block per server: its name never comes back after another's.
        blocks = [name for i, name in enumerate(servers) if i == 0 or servers[i - 1] != name]
        assert len(blocks) == len(set(blocks)) == 2
    # Over as many rounds as a server has loads, each of them leads its block once.
    leaders = []
    for order in orders:
        block = [load for load in order if load.server.name.startswith("authdemo")]
        leaders.append(block[0].mechanism)
    assert sorted(leaders) == sorted(["anon", "session", "jwt-bearer", "jwt-bearer-stateless"])
    # And the servers take turns at the start of a round.
    assert {order[0].server.name for order in orders} == {"authdemo embedded", "django-naive"}


def _row(server, mechanism, rounds):
    median = sorted(rounds)[len(rounds) // 2]
    return {"server": server, "mechanism": mechanism, "rps": median, "rps_rounds": rounds}


def test_a_ratio_is_the_median_of_the_quotients_within_each_round():
    # The machine halved its speed in round 2: both loads of that round felt it.
    anon = _row("authdemo services", "anon", [1000.0, 500.0, 1000.0])
    session = _row("authdemo services", "session", [850.0, 425.0, 800.0])
    results = {"loads": [anon, session]}
    bench_results.add_ratios(results)
    assert session["ratio_rounds"] == [0.85, 0.85, 0.8]
    assert session["ratio"] == 0.85
    # The quotient of the medians would say 0.8.
    assert round(session["rps"] / anon["rps"], 2) == 0.8


def test_without_per_round_figures_the_ratio_is_the_quotient_of_medians():
    anon = {"server": "s", "mechanism": "anon", "rps": 1000.0}
    session = {"server": "s", "mechanism": "session", "rps": 750.0, "rps_rounds": [700.0, 750.0]}
    assert bench_results.paired(session, anon) == 0.75


def test_the_anonymous_endpoint_against_the_peer_is_shown_but_judged_no_target():
    loads = [
        _row("authdemo embedded", "anon", [1000.0]),
        _row("authdemo embedded", "session", [900.0]),
        _row("django-naive", "anon", [2000.0]),
        _row("django-naive", "session", [500.0]),
    ]
    results = {"loads": loads, "logins": [], "bursts": []}
    bench_results.add_ratios(results)
    judged = {target: (measured, ok) for target, measured, ok in bench_results.targets(results)}
    assert judged["authdemo embedded: session cookie >= 1.5x django-naive"] == ("1.80x", True)
    baseline = [t for t in judged if t.startswith("authdemo embedded: anonymous vs django-naive")]
    assert baseline and judged[baseline[0]] == ("0.50x", None)


def test_a_load_with_renew_gets_fresh_headers_before_each_run(monkeypatch, tmp_path):
    issued = iter(["t1", "t2", "t3", "t4"])
    sent = []
    server = SimpleNamespace(name="django-naive", port=1)
    load = bench_wire.Load(
        server, "jwt-bearer", "/jwt/me", {}, lambda answer: True,
        renew=lambda: {"Authorization": f"Bearer {next(issued)}"},
    )

    def wrk_run(load, **kwargs):
        sent.append(load.headers["Authorization"])
        return {"requests": 1, "duration_us": 1}

    monkeypatch.setattr(bench_measure, "wrk_run", wrk_run)
    bench_measure.measure_loads(
        [load], rounds=3, seconds=1, warmup=0, threads=1, connections=1, script=tmp_path / "x", say=print
    )
    assert sent == ["Bearer t1", "Bearer t2", "Bearer t3"]


def test_each_authenticated_load_of_authdemo_gets_a_twin_that_runs_while_logins_go_on():
    server = bench_wire.Server(name="authdemo embedded", kind="authdemo", port=1, proc=None, log=None, env={})
    loads = [
        bench_wire.Load(server, mech, "/api/me/", {"X": mech}, lambda a: True)
        for mech in ("anon", "session", "jwt-bearer", "jwt-cookie", "jwt-bearer-stateless")
    ]
    twins = bench_servers.mixed_loads(loads, {"username": "u", "password": "p"})
    assert [t.mechanism for t in twins] == ["session-mixed", "jwt-bearer-mixed", "jwt-cookie-mixed"]
    assert all(len(t.background) == 2 and t.headers == {"X": t.mechanism[:-6]} for t in twins)


def test_the_login_ticker_logs_in_at_once_then_once_per_interval_and_counts_answers(monkeypatch):
    import threading

    monkeypatch.setattr(bench_measure, "LOGIN_EVERY", 0.01)
    calls, enough = [], threading.Event()

    def login(status):
        def run():
            calls.append(status)
            if len(calls) >= 4:
                enough.set()
            return type("A", (), {"status": status})()

        return run

    with bench_measure.LoginTicker([login(302), login(200)]) as ticker:
        assert enough.wait(5)
    assert calls[:4] == [302, 200, 302, 200]
    assert ticker.statuses[302] >= 2 and ticker.statuses[200] >= 2
    with bench_measure.LoginTicker([]) as idle:  # a warm load: no thread, nothing counted
        pass
    assert idle.statuses == {}


def test_a_mixed_load_is_judged_against_its_warm_twin_and_its_logins():
    from bench import results

    def row(mech, rates, **extra):
        return {"server": "authdemo embedded", "mechanism": mech, "rps": rates[0], "rps_rounds": rates,
                "ratio": 1.0, **extra}

    run = {"loads": [row("session", [100.0, 100.0]),
                     row("session-mixed", [50.0, 60.0], background_logins={"302": 3, "200": 3}),
                     row("jwt-bearer", [100.0, 100.0]),
                     row("jwt-bearer-mixed", [95.0, 90.0], background_logins={"200": 3, "429": 1})],
           "logins": [], "bursts": []}
    judged = {label: (got, ok) for label, got, ok in results.targets(run) if "logins go on" in label}
    session = judged["authdemo embedded: session cookie while logins go on >= 0.8x warm"]
    bearer = judged["authdemo embedded: JWT bearer while logins go on >= 0.8x warm"]
    assert session[0].startswith("0.55x (6 logins") and session[1] is False  # a flush shows as a drop
    assert bearer[0].startswith("0.93x") and bearer[1] is False  # refused logins: the mix was not measured


def test_a_load_keeps_each_rounds_sql_share_and_what_its_sql_ran():
    def run(db_share, shapes):
        return {
            "requests": 100, "duration_us": 1_000_000, "p50_us": 1000, "p99_us": 2000, "non2xx": 0,
            "connect": 0, "read": 0, "write": 0, "timeout": 0, "counted_requests": 100,
            "db_share": db_share, "statements_per_request": db_share, "shapes": shapes,
        }  # fmt: skip

    server = SimpleNamespace(name="authdemo embedded")
    load = bench_wire.Load(server, "jwt-bearer-clients", "/api/me/", {}, lambda answer: True)
    load.runs = [
        run(0.5, {"SELECT api_tokenfamily": 50}),
        run(0.25, {"SELECT api_tokenfamily": 20, "SELECT x": 5}),
    ]
    summary = bench_measure.summarize(load)
    assert summary["db_share_rounds"] == [0.5, 0.25]
    assert summary["shapes"] == {"SELECT api_tokenfamily": 70, "SELECT x": 5}
    assert summary["db_share"] == 0.375
