"""`manage.py demo_user`: the embedded default's demo account, as `make run` prints it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.management.commands import demo_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded(settings, tmp_path, monkeypatch):
    """Pretend the test database is the embedded SQLite default, with var/ in tmp_path."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(demo_user, "embedded_database_is_default", lambda **kwargs: True)
    return tmp_path


def _run() -> str:
    out = StringIO()
    call_command("demo_user", stdout=out)
    return out.getvalue()


def test_creates_the_user_once_and_prints_the_same_credentials(embedded, django_user_model):
    first = _run()
    second = _run()

    password = (embedded / "demo_password").read_text()
    assert len(password) >= 16
    assert f"Demo user: demo  password: {password}" in first
    assert f"Demo user: demo  password: {password}" in second
    assert "Created" in first and "Created" not in second
    assert django_user_model.objects.filter(username="demo").count() == 1
    assert (embedded / "demo_password").stat().st_mode & 0o077 == 0


def test_printed_password_logs_in(embedded, rf):
    _run()
    password = (embedded / "demo_password").read_text()
    assert authenticate(rf.post("/"), username="demo", password=password) is not None
    assert authenticate(rf.post("/"), username="demo", password=password + "x") is None


def test_existing_demo_user_is_kept_and_a_changed_password_is_flagged(embedded, django_user_model):
    _run()
    user = django_user_model.objects.get(username="demo")
    user.set_password("changed by the user 123")
    user.save()

    out = _run()

    assert "no longer works" in out
    assert django_user_model.objects.get(pk=user.pk).check_password("changed by the user 123")


def test_deactivated_demo_user_is_not_reactivated(embedded, django_user_model):
    _run()
    django_user_model.objects.filter(username="demo").update(is_active=False)
    out = _run()
    assert "deactivated" in out
    assert not django_user_model.objects.get(username="demo").is_active


def test_refuses_outside_the_embedded_default(settings, tmp_path, django_user_model):
    # The test database is never var/db.sqlite3, like any DATABASE_URL database.
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="embedded default"):
        call_command("demo_user", stdout=StringIO())
    assert not django_user_model.objects.filter(username="demo").exists()
    assert not (tmp_path / "demo_password").exists()


def test_embedded_detection(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    sqlite = "django.db.backends.sqlite3"
    embedded = {"ENGINE": sqlite, "NAME": tmp_path / "db.sqlite3"}
    assert demo_user.embedded_database_is_default(database=embedded)
    assert not demo_user.embedded_database_is_default(database={"ENGINE": sqlite, "NAME": tmp_path / "x.db"})
    assert not demo_user.embedded_database_is_default(
        database={"ENGINE": "django.db.backends.postgresql", "NAME": str(tmp_path / "db.sqlite3")}
    )


def _check() -> str:
    err = StringIO()
    call_command("demo_user", "--check", stdout=StringIO(), stderr=err)
    return err.getvalue()


def test_check_warns_when_the_demo_user_can_log_in(embedded, django_user_model):
    assert _check() == ""  # no var/demo_password yet
    assert not (embedded / "demo_password").exists()  # and --check creates none

    _run()
    assert "can log in here" in _check()

    django_user_model.objects.filter(username="demo").update(is_active=False)
    assert _check() == ""


def test_check_ignores_a_real_user_named_demo(settings, tmp_path, user_factory):
    """--check works on any database and never creates anything."""
    settings.VAR_DIR = tmp_path
    (tmp_path / "demo_password").write_text("the demo password")
    user_factory(username="demo", password="someone else's password")
    assert _check() == ""
