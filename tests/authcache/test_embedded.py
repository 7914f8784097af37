"""The embedded mode's revocation log (authcache/embedded.py): a change drops the keys it names, no others.

Another process is simulated by appending to the log file directly, as
every process does after its commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from authcache.conf import stamp_file
from authcache.embedded import EmbeddedStrategy
from authcache.live import cache_read, cache_shared, cache_write_live
from tests.api.helpers import ME_URL

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _embedded_only():
    if cache_shared():
        pytest.skip("embedded default only: services mode has its Redis epoch")
    Path(stamp_file()).parent.mkdir(parents=True, exist_ok=True)
    Path(stamp_file()).touch()  # an earlier test may have deleted it


def _live(key: str, payload: str) -> None:
    cache_write_live(key=key, payload=payload, epoch=cache_read(key=key).epoch, timeout=60, add=False)


def _another_process_logs(line: bytes) -> None:
    with open(stamp_file(), "ab") as log:
        log.write(line)


def _gone(key: str) -> bool:
    read = cache_read(key=key)
    return read.value is None and not read.live


def test_a_line_drops_exactly_the_keys_it_names():
    for key in ("t:a", "t:b"):
        _live(key, "valid")
    _another_process_logs(b"t:a t:other\n")
    assert _gone("t:a")
    assert cache_read(key="t:b").live and cache_read(key="t:b").value == "valid"
    _live("t:a", "again")  # read after the line: written and trusted
    assert cache_read(key="t:a").value == "again"


def test_an_entry_read_before_a_line_naming_it_is_not_written():
    epoch = cache_read(key="t:a").epoch  # a reader reads the old row...
    _another_process_logs(b"t:a\n")  # ...a change commits elsewhere...
    cache_write_live(key="t:a", payload="old", epoch=epoch, timeout=60, add=False)  # ...and it writes late
    assert _gone("t:a")


def test_a_star_line_a_half_written_line_and_a_new_file():
    _live("t:a", "valid")
    _another_process_logs(b"t:a")  # still being written: not applied yet
    assert cache_read(key="t:a").live
    _another_process_logs(b"\n")
    assert _gone("t:a")
    _live("t:b", "valid")
    _another_process_logs(b"*\n")  # everything
    assert cache_read(key="t:b").stale
    _live("t:c", "valid")
    Path(stamp_file()).unlink()  # a deleted (or replaced) log: nothing older is trusted
    assert cache_read(key="t:c").stale


def test_past_the_remembered_keys_the_cache_stays_warm_and_late_writes_are_refused(monkeypatch):
    # Many clients' logins name more keys than a process remembers: the
    # entries no line named stay trusted (no cold cache for every client);
    # only a write read before the forgotten lines is refused.
    monkeypatch.setattr(EmbeddedStrategy, "MAX_REMEMBERED", 3)
    _live("t:kept", "valid")
    _live("k1", "valid")
    epoch = cache_read(key="t:late").epoch
    _another_process_logs(b"k1 k2\n")
    _another_process_logs(b"k3 k4\n")
    assert cache_read(key="t:kept").live and _gone("k1")
    cache_write_live(key="t:late", payload="old", epoch=epoch, timeout=60, add=False)
    assert _gone("t:late")
    _live("t:late", "new")
    assert cache_read(key="t:late").live


def test_a_login_keeps_every_other_users_cached_entries(
    user_factory, obtain, bearer, password, django_assert_num_queries, django_capture_on_commit_callbacks
):
    bob = user_factory(username="bob")
    session_client = Client()
    session_client.force_login(bob)
    token_client = bearer(obtain(bob)["access"])
    for client in (session_client, token_client):
        assert client.get(ME_URL).status_code == 200
    user_factory(username="alice")
    with django_capture_on_commit_callbacks(execute=True):  # the login's writes commit, the log is written
        response = Client().post(reverse("accounts:login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    for client in (session_client, token_client):
        with django_assert_num_queries(0):  # still warm: the login named only alice's entries
            assert client.get(ME_URL).status_code == 200


def test_a_garbled_line_costs_a_cold_read_never_an_error():
    _live("t:a", "valid")
    _another_process_logs(b"\xff\xfe t:a\r\n\n")
    assert _gone("t:a")
    _live("t:a", "again")
    assert cache_read(key="t:a").value == "again"


def test_a_thread_that_looked_before_another_applied_keeps_the_cache_warm(monkeypatch):
    # Threads of one process look at the log on their own: one stats it, a
    # line lands and a second thread applies it, then the first compares its
    # older size with what is applied. That is a longer log, not a new one.
    import authcache.embedded as embedded

    _live("t:kept", "valid")
    _another_process_logs(b"t:earlier\n")
    cache_read(key="t:kept")  # this process has applied every line so far
    stat = embedded.os.stat

    def stat_then_another_thread_applies(path, *args, **kwargs):
        seen = stat(path, *args, **kwargs)
        monkeypatch.setattr(embedded.os, "stat", stat)
        _another_process_logs(b"t:other\n")
        cache_read(key="t:other")  # the second thread
        return seen

    monkeypatch.setattr(embedded.os, "stat", stat_then_another_thread_applies)
    read = cache_read(key="t:kept")
    assert read.live and read.value == "valid"
