"""`make bench` over HTTP: a setup step that fails leaves no server running; the bench user's address."""

from __future__ import annotations

import re

import pytest

from bench import http as bench_http
from bench import servers as bench_servers
from bench import wire as bench_wire


class _Proc:
    def __init__(self) -> None:
        self.pid = 0
        self.stopped = False


def _fake_servers(monkeypatch, *, ready: list[bool], manage=None):
    started: list[bench_wire.Server] = []

    def spawn(name, kind, cmd, *, cwd, env, port, log_dir):
        server = bench_wire.Server(
            name=name, kind=kind, port=port, proc=_Proc(), log=log_dir / "x.log", env=env
        )
        server.stop = lambda s=server: setattr(s.proc, "stopped", True)
        started.append(server)
        return server

    def wait_ready(server, path, timeout=180):
        if not ready[started.index(server)]:
            raise bench_wire.BenchError(f"{server.name} exited")

    monkeypatch.setattr(bench_servers, "spawn", spawn)
    monkeypatch.setattr(bench_servers, "wait_ready", wait_ready)
    if manage is not None:
        monkeypatch.setattr(bench_servers, "manage", manage)
    return started


def test_a_twin_that_does_not_start_stops_the_server_already_started(monkeypatch, tmp_path):
    def manage(env, *args):
        return 'BENCHJSON {"hasher": "x"}\n'

    started = _fake_servers(monkeypatch, ready=[True, False], manage=manage)
    with pytest.raises(bench_wire.BenchError):
        bench_servers.start_authdemo(mode="embedded", mode_env={}, tmp=tmp_path)
    assert [s.proc.stopped for s in started] == [True, True]


def test_a_failed_user_setup_stops_the_server(monkeypatch, tmp_path):
    def manage(env, *args):
        raise bench_wire.BenchError("manage.py shell failed")

    started = _fake_servers(monkeypatch, ready=[True, True], manage=manage)
    with pytest.raises(bench_wire.BenchError):
        bench_servers.start_authdemo(mode="embedded", mode_env={}, tmp=tmp_path)
    assert len(started) == 1 and started[0].proc.stopped


def test_the_bench_user_gets_a_new_address_under_invalid_each_run(monkeypatch, tmp_path):
    scripts: list[str] = []

    def manage(env, *args):
        scripts.append(args[-1])
        return 'BENCHJSON {"hasher": "x"}\n'

    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        _fake_servers(monkeypatch, ready=[True, True], manage=manage)
        main, twin, credentials, hasher = bench_servers.start_authdemo(
            mode="embedded", mode_env={}, tmp=tmp_path / run
        )
        assert credentials["username"] == bench_servers.BENCH_USER and hasher == {"hasher": "x"}
        assert not main.proc.stopped and not twin.proc.stopped
    addresses = [address for script in scripts for address in re.findall(r"[\w.+-]+@[\w.-]+", script)]
    assert len(addresses) == 2 and addresses[0] != addresses[1]
    assert all(address.endswith("@bench.invalid") for address in addresses)


def test_authdemo_that_cannot_start_ends_the_bench_with_a_message_not_a_traceback(monkeypatch, capsys):
    from bench import __main__ as bench_main

    def run(**kwargs):
        raise bench_wire.BenchError('authdemo-services exited (1):\nFATAL:  database "x" does not exist')

    monkeypatch.setattr(bench_http, "run", run)
    monkeypatch.setenv("DATABASE_URL", "postgres://127.0.0.1/x")
    assert bench_main.main(["--no-inprocess", "--out", "/nonexistent"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("make bench: authdemo-services exited (1)")
    assert "needs the DATABASE_URL database to exist" in err
    assert "Traceback" not in err


def _fake_run_results(monkeypatch):
    from bench import __main__ as bench_main
    from bench import report

    written: list = []
    monkeypatch.setattr(bench_http, "run", lambda **kwargs: {"servers": [], "loads": []})
    monkeypatch.setattr(report, "write", lambda results, out, inprocess="": written.append(out) or [])
    monkeypatch.setattr(report, "markdown", lambda results, inprocess="": "")
    return bench_main, written


def test_a_run_writes_a_new_folder_under_var_not_the_committed_results(monkeypatch):
    bench_main, written = _fake_run_results(monkeypatch)
    assert bench_main.main(["--no-inprocess"]) == 0
    (out,) = written
    assert out.parent.name == "bench" and out.parent.parent.name == "var"
    assert "docs" not in out.parts


def test_out_replaces_the_committed_results_only_when_asked(monkeypatch, tmp_path):
    bench_main, written = _fake_run_results(monkeypatch)
    assert bench_main.main(["--no-inprocess", "--out", str(tmp_path)]) == 0
    assert written == [tmp_path]


def test_the_reference_servers_live_in_the_project_with_their_lock_files():
    from pathlib import Path

    peers = Path(bench_http.__file__).resolve().parent / "peers"
    assert (peers / "django-naive" / "requirements.txt").read_text().count("==") >= 5
    assert (peers / "django-naive" / "setup.sh").stat().st_mode & 0o111
    assert (peers / "express-seed" / "package-lock.json").is_file()
    assert "bench/peers" in (peers.parent.parent / "Makefile").read_text()
