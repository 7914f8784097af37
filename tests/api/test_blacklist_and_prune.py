"""The jwt_prune command, and blacklist rows deleted or added by hand (the admin, a database shell)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.api.helpers import ME_URL, REFRESH_URL, VERIFY_URL, assert_error, rotated

pytestmark = pytest.mark.django_db


def test_prune_deletes_only_expired_rows_and_prints_progress(user, obtain, api_client):
    live = obtain(user)
    old = obtain(user)
    api_client.post(REFRESH_URL, {"refresh": old["refresh"]}, format="json")  # one blacklisted row
    old_family = RefreshToken(old["refresh"])["fam"]
    past = timezone.now() - timedelta(days=2)
    OutstandingToken.objects.filter(family_link__family_id=old_family).update(expires_at=past)
    TokenFamily.objects.filter(pk=old_family).update(expires_at=past)
    out = StringIO()
    call_command("jwt_prune", stdout=out)
    output = out.getvalue()
    assert "token families: 1 deleted" in output
    assert "Done: 1 expired token families (with their tokens) and 0 other expired tokens" in output
    assert not TokenFamily.objects.filter(pk=old_family).exists()
    assert OutstandingToken.objects.count() == 1
    assert not BlacklistedToken.objects.exists()
    assert OutstandingToken.objects.filter(jti=RefreshToken(live["refresh"])["jti"]).exists()
    # Idempotent.
    out = StringIO()
    call_command("jwt_prune", stdout=out)
    assert "Done: 0 expired token families (with their tokens) and 0 other expired tokens" in out.getvalue()


def test_deleting_a_blacklist_row_does_not_revive_a_rotated_out_token(user, obtain, api_client, bearer):
    pair = obtain(user)
    new = rotated(api_client, pair)
    old_jti = RefreshToken(pair["refresh"])["jti"]
    deleted, _ = BlacklistedToken.objects.filter(token__jti=old_jti).delete()
    assert deleted == 1
    assert_error(api_client.post(VERIFY_URL, {"token": pair["refresh"]}, format="json"), 401)
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json"), 401, "token_reused"
    )
    family = TokenFamily.objects.get(pk=RefreshToken(pair["refresh"])["fam"])
    assert family.revoked_reason == "reuse"
    assert_error(bearer(new["access"]).get(ME_URL), 401, "token_revoked")
    assert_error(api_client.post(REFRESH_URL, {"refresh": new["refresh"]}, format="json"), 401)


def test_a_hand_made_blacklist_row_cannot_make_a_normal_refresh_theft(user, obtain, api_client, bearer):
    pair = obtain(user)
    current = OutstandingToken.objects.get(jti=RefreshToken(pair["refresh"])["jti"])
    BlacklistedToken.objects.create(token=current)
    new = rotated(api_client, pair)
    assert bearer(new["access"]).get(ME_URL).status_code == 200
    assert TokenFamily.objects.get(pk=RefreshToken(pair["refresh"])["fam"]).revoked_at is None
