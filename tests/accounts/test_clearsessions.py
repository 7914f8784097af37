"""clearsessions on this engine: expired sessions deleted in batches with progress; live ones untouched."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import Session
from tests.helpers import seed_logins

pytestmark = pytest.mark.django_db


def seed(logins: int, expired: float) -> None:
    seed_logins(users=2, logins=logins, expired=expired)


def clear(*args) -> str:
    out = StringIO()
    call_command("clearsessions", *args, stdout=out)
    return out.getvalue()


def test_expired_sessions_go_in_batches_and_live_ones_still_log_in(client):
    seed(10, 0.5)
    live = list(Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", flat=True))
    assert len(live) == 5
    output = clear("--batch-size", "2")
    assert [line for line in output.splitlines() if line.startswith("  sessions:")] == [
        "  sessions: 2 deleted", "  sessions: 4 deleted", "  sessions: 5 deleted",
    ]  # fmt: skip
    assert "clearsessions: 5 expired sessions deleted" in output
    assert sorted(Session.objects.values_list("session_key", flat=True)) == sorted(live)
    client.cookies[settings.SESSION_COOKIE_NAME] = live[0]
    assert client.get("/accounts/sessions/").status_code == 200
    assert "clearsessions: 0 expired sessions deleted" in clear()


@pytest.mark.parametrize("size", ["0", "-1"])
def test_a_bad_batch_size_is_refused_and_deletes_nothing(size):
    seed(4, 1.0)
    with pytest.raises(CommandError):
        clear("--batch-size", size)
    assert Session.objects.count() == 4
