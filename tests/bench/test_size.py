"""`make bench-size`: percentiles, page measurements on a seeded database, the /api/me/ load, the report."""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Session
from api.models import TokenFamily
from bench import size


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert size.percentile(values, 50) == 50.0
    assert size.percentile(values, 99) == 99.0
    assert size.percentile([3.0, 1.0, 2.0], 99) == 3.0
    assert size.percentile([7.0], 50) == 7.0


@pytest.mark.django_db
def test_pages_are_measured_for_every_list_search_and_login_page(settings):
    call_command("seed_load", "--users", "3", "--logins", "6", "--force", "--no-progress", stdout=StringIO())
    rows = size.pages_measure(samples=2)
    urls = [row["url"] for row in rows]
    assert len(urls) == 14 and "/devices/" in urls and "/accounts/sessions/?page=10" in urls
    assert sum("?q=seed-" in url for url in urls) == 5
    assert all(row["p50_ms"] > 0 and row["p99_ms"] >= row["p50_ms"] for row in rows)
    assert all(row["met"] == (row["p50_ms"] <= 150 and row["p99_ms"] <= 500) for row in rows)
    assert all(row["queries"] >= 1 and row["db_ms"] >= 0 for row in rows)
    # The heavy user has its thousand live logins (and the one of the measuring client).
    _, heavy = size.users_prepare()
    assert Session.objects.filter(user=heavy).count() == size.HEAVY_LOGINS + 1
    assert TokenFamily.objects.filter(user=heavy).count() == size.HEAVY_LOGINS


@pytest.mark.django_db(transaction=True)
def test_the_me_load_runs_until_the_work_ends_and_counts_errors(user):
    from api.logins import token_pair_issue

    access = str(token_pair_issue(user=user).access)
    seen = threading.Event()

    def work():
        assert seen.wait(10)
        return "done"

    load = size.MeLoad(access)
    original = load.run

    def run():
        threading.Timer(0.3, seen.set).start()
        original()

    load.run = run
    load.start()
    result = work()
    load.stop.set()
    load.join()
    assert result == "done" and load.times and load.errors == 0
    times, errors, value = size.me_under("not-a-token", lambda: seen.is_set() and "ok")
    assert value == "ok" and errors == len(times)


@pytest.mark.django_db(transaction=True)  # the load's thread has its own connection
def test_the_p99_without_the_prune_rests_on_a_window_as_long_as_the_prune(user, monkeypatch):
    windows, pauses = [], []
    real_me_under, real_sleep = size.me_under, time.sleep

    def me_under(access, work):
        started = time.monotonic()
        result = real_me_under(access, work)
        windows.append(time.monotonic() - started)
        return result

    def command_run(name):
        real_sleep(0.6)
        return {"command": name, "seconds": 0.6, "output": ""}

    def sleep(seconds):
        pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(size, "me_under", me_under)
    monkeypatch.setattr(size, "command_run", command_run)
    monkeypatch.setattr(size.time, "sleep", sleep)
    prune = size.prune_measure(user, baseline_seconds=0.2)
    before, during, after = pauses[0], windows[1], pauses[1]
    # The window after the prune makes up the rest of the prune's length.
    assert before == 0.2 and during >= 1.2 and during - before - 0.5 <= after <= during - before + 0.1
    assert [c["command"] for c in prune["commands"]] == ["clearsessions", "jwt_prune"]
    assert prune["me_without_prune"]["requests"] > 0 and prune["me_without_prune"]["errors"] == 0
    assert prune["me_p99_ratio"] == round(
        prune["me_during_prune"]["p99_ms"] / prune["me_without_prune"]["p99_ms"], 2
    )


def test_the_report_names_each_target_met_or_missed():
    results = {
        "started": "2026-01-01T00:00:00Z",
        "environment": {"database": "postgresql psycopg", "cache": "Redis", "cpus": 2, "python": "3.11"},
        "seed": {"users": 10, "logins": 100, "output": ""},
        "samples": 3,
        "pages": [
            {"url": "/a/", "p50_ms": 10.0, "p99_ms": 20.0, "met": True},
            {"url": "/b/", "p50_ms": 200.0, "p99_ms": 900.0, "met": False, "queries": 4, "db_ms": 120.5},
        ],
        "prune": {
            "expired_before": {"sessions": 5, "token_families": 5, "outstanding_tokens": 10},
            "commands": [
                {"command": "clearsessions", "seconds": 1.0},
                {"command": "jwt_prune", "seconds": 130.0},
            ],
            "me_without_prune": {"requests": 10, "errors": 0, "p50_ms": 1.0, "p99_ms": 2.0},
            "me_during_prune": {"requests": 10, "errors": 0, "p50_ms": 1.0, "p99_ms": 5.0},
            "me_p99_ratio": 2.5,
            "me_met": False,
        },
    }
    report = size.markdown(results)
    assert "| `/a/` | 10.0 | 20.0 | met |" in report
    assert "| `/b/` | 200.0 | 900.0 | MISSED | 4 | 120.5 |" in report
    assert "| `clearsessions` | 1.0 | met |" in report and "| `jwt_prune` | 130.0 | MISSED |" in report
    assert "2.5x (MISSED" in report
