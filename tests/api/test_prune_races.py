"""jwt_prune beside requests: a login refreshed or revoked while the prune runs keeps every live row."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import FamilyToken, TokenFamily
from api.revocation import family_revoke
from api.tokens import RefreshToken
from tests.api.helpers import ME_URL, REFRESH_URL, links_orphaned

pytestmark = pytest.mark.django_db(transaction=True)


def seed_expired(logins: int) -> None:
    call_command(
        "seed_load", "--users", "2", "--logins", str(logins), "--expired", "1", "--force", "--no-progress",
        stdout=StringIO(),
    )  # fmt: skip


def prune_in_thread(*args) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run():
        out = StringIO()
        try:
            call_command("jwt_prune", *args, stdout=out)
            result["output"] = out.getvalue()
        except Exception as exc:
            result["error"] = exc
        finally:
            connection.close()

    return threading.Thread(target=run), result


def refreshed_login(user, obtain) -> dict:
    """A login refreshed once whose rotated-out token has expired: the prune's second phase takes it."""
    first = obtain(user)
    pair = APIClient().post(REFRESH_URL, {"refresh": first["refresh"]}, format="json").json()
    OutstandingToken.objects.filter(jti=RefreshToken(first["refresh"])["jti"]).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    return pair


def assert_live_rows_intact() -> None:
    """Every unexpired token is kept; every rotated-out one of a live login keeps its blacklist row."""
    now = timezone.now()
    for family in TokenFamily.objects.filter(expires_at__gt=now):
        assert OutstandingToken.objects.filter(jti=family.current_jti).exists()
        for token in OutstandingToken.objects.filter(family_link__family=family, expires_at__gt=now):
            if token.jti != family.current_jti or family.revoked_at:
                assert BlacklistedToken.objects.filter(token=token).exists(), token.jti


def test_logins_refreshed_and_revoked_while_the_prune_runs_keep_their_live_rows(user, obtain):
    seed_expired(60)
    pairs = [refreshed_login(user, obtain) for _ in range(4)]
    thread, result = prune_in_thread("--batch-size", "2", "--pause-ms", "1")
    thread.start()
    rounds = 0
    while thread.is_alive() or rounds < 2:
        for index, pair in enumerate(pairs):
            response = APIClient().post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
            assert response.status_code == 200, response.content
            pairs[index] = response.json()
        assert_live_rows_intact()
        rounds += 1
    family_revoke(family_id=RefreshToken(pairs[0]["refresh"])["fam"])
    thread.join()
    assert "error" not in result, result
    assert "Done: 60 expired token families" in result["output"]
    assert_live_rows_intact()
    # The live logins go on; the revoked one stays refused.
    for pair in pairs[1:]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        assert client.get(ME_URL).status_code == 200
    assert APIClient().post(REFRESH_URL, {"refresh": pairs[0]["refresh"]}, format="json").status_code == 401
    assert TokenFamily.objects.filter(user=user).count() == 4
    # Only the tokens of the seeded (expired) logins and the expired rotations went.
    assert not FamilyToken.objects.exclude(family__user=user).exists()
    assert not OutstandingToken.objects.filter(expires_at__lt=timezone.now()).exists()
    assert not links_orphaned().exists()


def test_a_family_held_by_a_revocation_is_skipped_not_waited_for_then_pruned(user, obtain):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers (the prune waits): the race runs in services mode")
    seed_expired(3)
    held = TokenFamily.objects.order_by("expires_at").first()
    held_tokens = set(FamilyToken.objects.filter(family=held).values_list("token_id", flat=True))
    locked, release = threading.Event(), threading.Event()

    def revocation():
        try:
            with transaction.atomic():
                # An administrator revoking the (expired) login: the family row is held until commit.
                family_revoke(family_id=held.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    other = threading.Thread(target=revocation)
    other.start()
    assert locked.wait(timeout=30)
    out = StringIO()
    call_command("jwt_prune", "--pause-ms", "0", stdout=out)  # returns while the family is held
    release.set()
    other.join()
    assert "Done: 2 expired token families" in out.getvalue()
    family = TokenFamily.objects.get(pk=held.pk)
    assert family.revoked_at is not None
    assert set(OutstandingToken.objects.values_list("pk", flat=True)) == held_tokens
    assert BlacklistedToken.objects.filter(token_id__in=held_tokens).count() == 2
    out = StringIO()
    call_command("jwt_prune", stdout=out)
    assert "Done: 1 expired token families" in out.getvalue()
    assert not OutstandingToken.objects.exists() and not BlacklistedToken.objects.exists()
    assert not FamilyToken.objects.exists()
