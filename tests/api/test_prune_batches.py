"""jwt_prune at size: expired families go with every row of theirs, in batches; live logins keep theirs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import FamilyToken, TokenFamily
from api.revocation import family_revoke
from tests.api.helpers import ME_URL, REFRESH_URL
from tests.helpers import seed_logins

pytestmark = pytest.mark.django_db


def seed(logins: int, expired: float) -> None:
    seed_logins(users=3, logins=logins, expired=expired)


def prune(*args) -> str:
    out = StringIO()
    call_command("jwt_prune", *args, stdout=out)
    return out.getvalue()


def test_expired_families_go_with_their_tokens_links_and_blacklist_rows_in_batches():
    seed(10, 0.7)  # 7 expired logins, 3 live
    live = set(TokenFamily.objects.filter(expires_at__gt=timezone.now()).values_list("pk", flat=True))
    assert len(live) == 3
    output = prune("--batch-size", "3")
    # 7 families in batches of 3: three progress lines.
    assert [line for line in output.splitlines() if "token families:" in line] == [
        "  token families: 3 deleted", "  token families: 6 deleted", "  token families: 7 deleted",
    ]  # fmt: skip
    assert "Done: 7 expired token families (with their tokens) and 0 other expired tokens" in output
    assert set(TokenFamily.objects.values_list("pk", flat=True)) == live
    assert OutstandingToken.objects.count() == 6
    assert (
        FamilyToken.objects.count() == 6
        and set(FamilyToken.objects.values_list("family_id", flat=True)) == live
    )
    assert BlacklistedToken.objects.count() == 3
    assert "Done: 0 expired token families (with their tokens) and 0 other" in prune()


def test_a_live_login_loses_only_its_expired_rotations(user, obtain, api_client):
    pair = obtain(user)
    newer = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").json()
    family = TokenFamily.objects.get(user=user)
    first = OutstandingToken.objects.get(jti=family.previous_jti)
    OutstandingToken.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(days=1))
    output = prune()
    assert "Done: 0 expired token families (with their tokens) and 1 other expired tokens" in output
    assert not OutstandingToken.objects.filter(pk=first.pk).exists()
    assert not BlacklistedToken.objects.exists()
    # The login goes on: its current tokens work and rotate.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {newer['access']}")
    assert api_client.get(ME_URL).status_code == 200
    assert api_client.post(REFRESH_URL, {"refresh": newer["refresh"]}, format="json").status_code == 200


def test_a_revoked_family_stays_until_it_expires(user, obtain, api_client):
    pair = obtain(user)
    assert family_revoke(family_id=TokenFamily.objects.get(user=user).pk)
    prune()
    assert TokenFamily.objects.filter(user=user, revoked_at__isnull=False).exists()
    # The revoked login's tokens stay refused: the family row is their denylist entry.
    assert api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 401


def test_each_batch_is_a_bounded_number_of_statements_whatever_its_size():
    seed(30, 1.0)
    with CaptureQueriesContext(connection) as queries:
        output = prune("--batch-size", "10", "--pause-ms", "0")
    assert [line for line in output.splitlines() if "deleted" in line] == [
        "  token families: 10 deleted", "  token families: 20 deleted", "  token families: 30 deleted",
    ]  # fmt: skip
    # Set-based: per batch a few statements (one on PostgreSQL), never one per row;
    # four batches of families (the last finds none) and one of tokens.
    statements = [q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 5 * 6
    assert not TokenFamily.objects.exists() and not OutstandingToken.objects.exists()


def test_a_batch_of_one_deletes_one_family_with_its_rows_at_a_time():
    seed(3, 1.0)
    output = prune("--batch-size", "1", "--pause-ms", "0")
    assert [line for line in output.splitlines() if "deleted" in line] == [
        "  token families: 1 deleted", "  token families: 2 deleted", "  token families: 3 deleted",
    ]  # fmt: skip
    assert not FamilyToken.objects.exists() and not BlacklistedToken.objects.exists()


@pytest.mark.parametrize("pause", ["-1", "60001", "soon"])
def test_a_bad_pause_is_refused_and_deletes_nothing(pause):
    seed(2, 1.0)
    with pytest.raises(CommandError):
        prune("--pause-ms", pause)
    assert TokenFamily.objects.count() == 2 and OutstandingToken.objects.count() == 4


@pytest.mark.parametrize("size", ["0", "-5"])
def test_a_bad_batch_size_is_refused_and_deletes_nothing(size):
    seed(4, 1.0)
    with pytest.raises(CommandError):
        prune("--batch-size", size)
    assert TokenFamily.objects.count() == 4 and OutstandingToken.objects.count() == 8


def test_batches_larger_than_one_statement_delete_every_row():
    seed(500, 1.0)  # 1 000 outstanding tokens: more than one DELETE statement's worth
    output = prune()
    assert "Done: 500 expired token families (with their tokens) and 0 other expired tokens" in output
    assert not TokenFamily.objects.exists() and not OutstandingToken.objects.exists()
    assert not FamilyToken.objects.exists() and not BlacklistedToken.objects.exists()
