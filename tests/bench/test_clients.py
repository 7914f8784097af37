"""`make bench`, many clients: minted credentials, the rotating wrk script, the blocks, the query counter."""

from __future__ import annotations

import http.server
import itertools
import json
import shutil
import subprocess
import threading
import types
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from bench import clients as bench_clients
from bench import querycount
from bench import wire as bench_wire
from usernames import username_canonical, username_skeleton

MECHANISMS = ("session", "jwt-bearer", "jwt-cookie")


def _mint(tmp_path: Path, count: int) -> dict[str, list[str]]:
    # The script `manage.py shell` runs, run here against the test database.
    script = bench_clients.MINT_SCRIPT.format(
        count=count, prefix=bench_clients.CLIENT_PREFIX, out=str(tmp_path)
    )
    exec(compile(script, "mint", "exec"), {})
    return {m: (tmp_path / f"{m}.txt").read_text().splitlines() for m in MECHANISMS}


def _me(line: str):
    name, _, value = line.partition(": ")
    meta = {"HTTP_" + name.upper().replace("-", "_"): value}
    if name == "Cookie":
        client = Client()
        for pair in value.split("; "):
            key, _, cookie = pair.partition("=")
            client.cookies[key] = cookie
        return client.get("/api/me/")
    return Client().get("/api/me/", **meta)


@pytest.mark.django_db
def test_each_minted_credential_authenticates_its_own_user_by_its_mechanism(tmp_path):
    lines = _mint(tmp_path, 3)
    names = [f"{bench_clients.CLIENT_PREFIX}{i:05d}" for i in range(3)]
    for mechanism in MECHANISMS:
        assert len(lines[mechanism]) == 3
        assert len(set(lines[mechanism])) == 3  # distinct credentials
        for name, line in zip(names, lines[mechanism], strict=True):
            answer = _me(line)
            assert answer.status_code == 200, (mechanism, answer.content)
            assert answer.json()["auth"] == mechanism
            assert answer.json()["username"] == name


@pytest.mark.django_db
def test_minting_again_reuses_the_users_and_mints_new_credentials(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _mint(tmp_path / "a", 2), _mint(tmp_path / "b", 2)
    users = get_user_model().objects.filter(username__startswith=bench_clients.CLIENT_PREFIX)
    assert users.count() == 2
    # What save() would have kept: the canonical key and the skeleton the look-alike rule reads.
    assert all(u.username_key == username_canonical(u.username) for u in users)
    assert all(u.username_skeleton == username_skeleton(u.username) for u in users)
    assert len({u.username_skeleton for u in users}) == 2
    assert not users.filter(password__startswith="argon2").exists()  # no usable password
    for mechanism in MECHANISMS:
        assert not set(first[mechanism]) & set(second[mechanism])
        assert _me(first[mechanism][0]).status_code == 200  # the older credentials stay good


def test_a_bad_credentials_file_is_a_bench_error_not_a_load(tmp_path):
    empty = tmp_path / "session.txt"
    empty.write_text("\n no header here\n")
    with pytest.raises(bench_clients.BenchError):
        bench_clients.first_credential(empty)
    empty.write_text("Cookie: sessionid=abc\n")
    assert bench_clients.first_credential(empty) == {"Cookie": "sessionid=abc"}


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []
    by_port: list[tuple[int, str]] = []
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            self.seen.append(self.headers.get("Authorization", ""))
            self.by_port.append((self.client_address[1], self.headers.get("Authorization", "")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        return None


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk")
@pytest.mark.parametrize("start", [0, 13])
def test_the_wrk_script_sends_a_new_credential_with_each_request_from_each_threads_offset(tmp_path, start):
    credentials = tmp_path / "jwt-bearer.txt"
    credentials.write_text("".join(f"Authorization: Bearer token-{i}\n" for i in range(40)))
    script = tmp_path / "rotate.lua"
    # No reconnect within the run: one connection per thread, told apart by its port.
    script.write_text(bench_clients.rotate_script(credentials, threads=2, reconnect_every=10**9, start=start))
    _Recorder.seen, _Recorder.by_port = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        # One connection per thread: each thread's requests arrive in its own order.
        done = subprocess.run(
            ["wrk", "-t2", "-c2", "-d1s", "-s", str(script), f"http://127.0.0.1:{server.server_port}/"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert "WRKJSON" in done.stdout, done.stdout + done.stderr
    seen = [s for s in _Recorder.seen if s]
    assert len(seen) == len(_Recorder.seen) >= 40  # every request carried a credential
    assert set(seen) == {f"Bearer token-{i}" for i in range(40)}  # all of them, none invented
    # Per connection, each request carries the next credential; the first
    # connections of the two threads start about 20 apart (wrk may build a
    # thread's first request before its connection is up, so one either way);
    # from one offset they would start alike.
    by_connection: dict[int, list[int]] = {}
    for port, header in _Recorder.by_port:
        by_connection.setdefault(port, []).append(int(header.rsplit("-", 1)[1]))
    sequences = list(by_connection.values())
    assert len(sequences) == 2
    for sequence in sequences:
        assert all(b == (a + 1) % 40 for a, b in itertools.pairwise(sequence))
    first, second = sequences[0][0], sequences[1][0]
    assert 18 <= (second - first) % 40 <= 22
    # Both threads begin ``start`` past their offsets (0 and 20), one either way.
    for begin in (first, second):
        assert min((begin - offset) % 40 for offset in (start - 1, start + 19)) <= 2


def test_a_rotating_load_is_measured_in_its_own_block_beside_its_one_credential_load(tmp_path, monkeypatch):
    (tmp_path / "session.txt").write_text("".join(f"Cookie: s=key-{i}\n" for i in range(1000)))
    server = bench_wire.Server("s", "authdemo", 0, None, tmp_path / "log")
    many = bench_wire.Load(
        server, "session-clients", "/", {}, lambda a: True, script=tmp_path / "session.lua"
    )
    one = bench_wire.Load(server, "session", "/", {"Cookie": "s=one"}, lambda a: True)
    ran: list[tuple[str, str]] = []

    def fake_wrk_run(load, *, seconds, **kwargs):
        ran.append((load.mechanism, load.script.name if load.script else ""))
        requests = 300 if load.mechanism == "session" else 100
        counts = dict.fromkeys(("non2xx", "connect", "read", "write", "timeout", "p99_us"), 0)
        return {"requests": requests, "duration_us": 1_000_000, **counts}

    monkeypatch.setattr(bench_clients, "wrk_run", fake_wrk_run)
    clock = iter([100.0, 106.0])  # the rounds' start and end
    monkeypatch.setattr(bench_clients, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    bench_clients.measure_block(
        many,
        one,
        rounds=3,
        seconds=1,
        threads=2,
        connections=2,
        script=tmp_path / "r.lua",
        say=lambda m: None,
    )
    assert ran[0] == ("session-clients", "session-1-passes.lua")  # cold
    assert ran[1] == ("session-clients", f"session-{bench_clients.WARM_PASSES}-passes.lua")
    # Rounds: both loads back to back, in turns; each rotating run goes on where the last stopped.
    assert ran[2:] == [
        ("session-clients", "session-from-0.lua"),
        ("session", ""),
        ("session", ""),
        ("session-clients", "session-from-50.lua"),
        ("session-clients", "session-from-100.lua"),
        ("session", ""),
    ]
    assert many.cold["requests"] == 100
    assert len(many.runs) == len(many.pair_runs) == 3 and one.runs == []
    summary = bench_clients.block_summary(many)
    assert summary["one_rps_rounds"] == [300.0] * 3 and summary["one_rps"] == 300.0
    assert summary["revisit_seconds"] == 1000 * 6.0 / 300  # 1 000 credentials, 300 rotating requests in 6 s
    assert bench_clients.block_summary(one) == {}


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk")
def test_a_pass_run_sends_each_credential_once_and_ends_long_before_its_duration(tmp_path):
    credentials = tmp_path / "session.txt"
    credentials.write_text("".join(f"Authorization: Bearer token-{i}\n" for i in range(40)))
    load = bench_wire.Load(
        bench_wire.Server("s", "authdemo", 0, None, tmp_path / "log"),
        "session-clients",
        "/",
        {},
        lambda answer: True,
        script=tmp_path / "session.lua",
    )
    assert bench_clients.credential_count(load) == 40
    one = bench_clients.pass_load(load, passes=1, threads=2, reconnect_every=10**9)
    assert one.script != load.script and load.script is not None and one.runs == []
    _Recorder.seen, _Recorder.by_port = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        # -d 600s: only the script's own end (WRK_PASS_DONE, then SIGINT) stops it within the timeout.
        cmd = [
            "wrk",
            "-t2",
            "-c2",
            "-d600s",
            "-s",
            str(one.script),
            f"http://127.0.0.1:{server.server_port}/",
        ]
        done = bench_wire.wrk_exec(cmd, threads=2)
    finally:
        server.shutdown()
        server.server_close()
    report = json.loads(next(ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON "))[8:])
    assert done.stdout.count(bench_wire.WRK_PASS_DONE) == 2
    assert report["duration_us"] < 60 * 1e6
    seen = [s for s in _Recorder.seen if s]
    # Each thread its half, every credential once. wrk loses a request whose
    # connection resets (on a loaded machine, now and then the first) and
    # sends the next credential on the new connection: one per thread at most;
    # and one request per thread may be in flight at the stop.
    missing = {f"Bearer token-{i}" for i in range(40)} - set(seen)
    assert len(missing) <= 2, missing
    assert 38 <= len(seen) <= 42 and len(seen) - len(set(seen)) <= 2
    assert bench_clients.pass_seconds(load, passes=2) == 60 + 40 * 2 / 25


@pytest.mark.django_db
def test_the_query_counter_counts_requests_that_ran_sql_and_their_statements(tmp_path):
    querycount.pre_request(None, None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("SELECT 2")
    querycount.post_request(None, None, {}, None)
    querycount.pre_request(None, None)
    querycount.post_request(None, None, {}, None)
    # A statement outside a request is not counted.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 3")
    counts = querycount.counts()
    (tmp_path / "1.json").write_text('{"requests": 0, "db_requests": 0, "statements": 0}')
    before = querycount.totals(tmp_path)
    (tmp_path / "1.json").write_text(
        f'{{"requests": {counts["requests"]}, "db_requests": {counts["db_requests"]}, '
        f'"statements": {counts["statements"]}}}'
    )
    (tmp_path / "2.json").write_text('{"requests": 2, "db_requests": 0, "statements": 0}')
    (tmp_path / "3.json").write_text("{half a file")  # skipped, never an error
    after = querycount.totals(tmp_path)
    assert after["requests"] - before["requests"] == counts["requests"] + 2
    got = querycount.share(before, after)
    assert counts["requests"] >= 2 and counts["statements"] >= 2
    assert got["counted_requests"] == counts["requests"] + 2
    assert got["db_share"] == round(counts["db_requests"] / (counts["requests"] + 2), 4)
    assert querycount.share(before, before) == {
        "counted_requests": 0,
        "db_share": None,
        "statements_per_request": None,
    }
    assert querycount.totals(tmp_path / "missing") == {
        "requests": 0, "db_requests": 0, "statements": 0, "shapes": {},
    }  # fmt: skip


def test_the_query_counter_names_what_each_request_ran(tmp_path):
    select = 'SELECT "a"."id" FROM "accounts_user" WHERE 1'
    assert querycount.statement_shape(select) == "SELECT accounts_user"
    assert querycount.statement_shape('UPDATE "accounts_session" SET x = 1') == "UPDATE accounts_session"
    assert querycount.statement_shape("SAVEPOINT s1") == "SAVEPOINT"
    (tmp_path / "1.json").write_text('{"requests": 3, "shapes": {"SELECT t": 1}}')
    before = querycount.totals(tmp_path)
    (tmp_path / "1.json").write_text('{"requests": 6, "shapes": {"SELECT t": 2, "UPDATE u": 1}}')
    (tmp_path / "2.json").write_text('{"requests": 1, "shapes": {"UPDATE u": 2}}')
    assert querycount.shapes(before, querycount.totals(tmp_path)) == {"UPDATE u": 3, "SELECT t": 1}
