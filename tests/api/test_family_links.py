"""Family links have no database foreign keys: no prune, revocation, refresh or deletion orphans one."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import FamilyToken, TokenFamily
from api.revocation import family_revoke, tokens_revoke_all
from api.tokens import RefreshToken
from tests.api.helpers import LOGOUT_ALL_URL, REFRESH_URL, REVOKE_URL, links_orphaned
from tests.helpers import seed_logins

pytestmark = pytest.mark.django_db


def refreshed(api_client, pair: dict) -> dict:
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def linked_tokens(user) -> set[int]:
    return set(FamilyToken.objects.filter(family__user=user).values_list("token_id", flat=True))


def test_the_links_table_has_no_foreign_key_constraint_but_both_keys_are_indexed():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, FamilyToken._meta.db_table)
    assert not [name for name, c in constraints.items() if c["foreign_key"]]
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"]}
    assert {("token_id",), ("family_id",)} <= indexed


def test_every_token_of_a_refreshed_login_is_linked_to_its_family(user, obtain, api_client):
    pair = obtain(user)
    for _ in range(3):
        pair = refreshed(api_client, pair)
    family = TokenFamily.objects.get(user=user)
    assert linked_tokens(user) == set(OutstandingToken.objects.filter(user=user).values_list("pk", flat=True))
    assert FamilyToken.objects.filter(family=family).count() == 4
    assert not links_orphaned().exists()


def test_revocations_keep_every_link(user, obtain, api_client, bearer):
    pairs = [obtain(user) for _ in range(3)]
    pairs[0] = refreshed(api_client, pairs[0])
    before = linked_tokens(user)
    logout = bearer(pairs[0]["access"]).post(REVOKE_URL, {"refresh": pairs[0]["refresh"]}, format="json")
    assert logout.status_code == 204
    family_revoke(family_id=RefreshToken(pairs[1]["refresh"]).family_id)
    assert bearer(pairs[2]["access"]).post(LOGOUT_ALL_URL).status_code < 300
    tokens_revoke_all(user=user)
    assert linked_tokens(user) == before
    assert not links_orphaned().exists()


def test_prune_takes_each_link_with_its_token_or_family(user, obtain, api_client):
    seed_logins(users=2, logins=20, expired=0.5)
    pair = refreshed(api_client, obtain(user))
    rotated = OutstandingToken.objects.filter(user=user).exclude(jti=RefreshToken(pair["refresh"])["jti"])
    rotated.update(expires_at=timezone.now() - timedelta(days=1))  # an old rotation of a live login
    for batch in ("1", "7", "5000"):
        call_command("jwt_prune", "--batch-size", batch, "--pause-ms", "0", stdout=StringIO())
        assert not links_orphaned().exists()
    assert FamilyToken.objects.filter(family__user=user).count() == 1
    assert not TokenFamily.objects.filter(expires_at__lt=timezone.now()).exists()
    # Each live login keeps the links of its live tokens.
    assert FamilyToken.objects.count() == OutstandingToken.objects.count() == 1 + 10 * 2


def test_deleting_a_user_takes_the_links_of_their_logins(user, user_factory, obtain, api_client):
    other = user_factory(username="other")
    refreshed(api_client, obtain(user))
    obtain(user)
    obtain(other)
    user.delete()
    assert not FamilyToken.objects.filter(token__user__isnull=True).exists()
    assert FamilyToken.objects.count() == 1 and not links_orphaned().exists()
    # SimpleJWT keeps the user's outstanding tokens (user set to NULL), now of no family.
    assert OutstandingToken.objects.filter(user__isnull=True).count() == 3


def test_deleting_tokens_or_families_through_the_orm_takes_their_links(user, obtain, api_client):
    refreshed(api_client, obtain(user))
    obtain(user)
    # SimpleJWT's own pruning deletes expired outstanding tokens through the ORM: the links cascade.
    OutstandingToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(days=1))
    call_command("flushexpiredtokens", stdout=StringIO())
    assert not OutstandingToken.objects.exists() and not BlacklistedToken.objects.exists()
    assert not FamilyToken.objects.exists()
    obtain(user)
    TokenFamily.objects.filter(user=user).delete()
    assert not FamilyToken.objects.exists() and not links_orphaned().exists()


@pytest.mark.django_db(transaction=True)
def test_a_user_deleted_while_a_login_of_theirs_refreshes_leaves_no_link_behind(user, obtain):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers (no interleaving): the race runs in services mode")
    family = TokenFamily.objects.get(pk=RefreshToken(obtain(user)["refresh"]).family_id)
    locked, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def refresh():
        # A refresh as api.rotation does it: the family row is held until its new token is written.
        try:
            with transaction.atomic():
                held = TokenFamily.objects.select_for_update().get(pk=family.pk)
                locked.set()
                release.wait(timeout=30)
                RefreshToken.for_user(user, family=held)
        finally:
            connection.close()

    def delete():
        try:
            get_user_model().objects.get(pk=user.pk).delete()
            outcome["deleted"] = True
        except IntegrityError:
            outcome["deleted"] = False
        finally:
            connection.close()

    refresher, deleter = threading.Thread(target=refresh), threading.Thread(target=delete)
    refresher.start()
    assert locked.wait(timeout=30)
    deleter.start()
    time.sleep(0.5)  # the deletion has collected the login's rows and waits for the family row
    release.set()
    refresher.join()
    deleter.join()
    # Either the deletion took everything or, finding a token it had not collected, nothing.
    assert "deleted" in outcome
    assert get_user_model().objects.filter(pk=user.pk).exists() is not outcome["deleted"]
    assert not links_orphaned().exists()
