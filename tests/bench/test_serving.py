"""The serving configuration behind steady throughput and the lean verifier."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.servers import gunicorn_config

ROOT = Path(__file__).resolve().parents[2]


def test_each_worker_of_the_site_and_the_verifier_listens_on_its_own_socket():
    # One socket per worker process: the kernel spreads new connections over
    # them, instead of the first worker awake taking all 32 of a burst.
    for path in ("authdemo/gunicorn.conf.py", "verifier/gunicorn.conf.py"):
        cfg = gunicorn_config(ROOT / path)
        assert cfg.reuse_port is True, path
        assert cfg.worker_class_str == "gthread", path


def test_the_verifier_runs_several_workers_without_an_access_log_by_default():
    cfg = gunicorn_config(ROOT / "verifier" / "gunicorn.conf.py")
    assert cfg.workers >= 2
    assert cfg.accesslog is None
    assert cfg.errorlog == "-"  # errors are still logged

    def dry_run(*args: str) -> str:
        cmd = ["make", "--no-print-directory", "-n", "verifier", *args]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        (line,) = [ln for ln in done.stdout.splitlines() if "gunicorn " in ln]
        return line

    default = dry_run()
    assert "--workers " in default and "--access-logfile" not in default
    assert int(default.split("--workers ")[1].split()[0]) >= 2
    asked = dry_run("VERIFIER_WORKERS=3", "VERIFIER_ACCESS_LOG=1")
    assert "--workers 3 --access-logfile -" in asked


def test_the_query_counting_hooks_are_installed_only_when_the_bench_asks(monkeypatch):
    monkeypatch.delenv("AUTHDEMO_BENCH_QUERY_DIR", raising=False)
    plain = gunicorn_config(ROOT / "authdemo" / "gunicorn.conf.py")
    assert plain.pre_request.__module__ != "bench.querycount"
    monkeypatch.setenv("AUTHDEMO_BENCH_QUERY_DIR", "/nonexistent")
    counted = gunicorn_config(ROOT / "authdemo" / "gunicorn.conf.py")
    assert counted.pre_request.__module__ == "bench.querycount"
    assert counted.post_request.__module__ == "bench.querycount"
