"""Refresh reuse grace: a token presented again just after its rotation gets the login's current pair."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.api.helpers import COOKIE_REFRESH_URL, ME_URL, REFRESH_URL, assert_error, csrf_header

pytestmark = pytest.mark.django_db

GRACE = 5


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.JWT_REFRESH_REUSE_GRACE = GRACE


def _refresh(client, raw: str):
    return client.post(REFRESH_URL, {"refresh": raw}, format="json")


def _rotated_ago(raw: str, seconds: float) -> None:
    """Move the rotation time of ``raw`` ``seconds`` into the past (the clock of the grace check)."""
    jti = RefreshToken(raw)["jti"]
    rotated = BlacklistedToken.objects.get(token__jti=jti).blacklisted_at
    earlier = rotated - timedelta(seconds=seconds)
    BlacklistedToken.objects.filter(token__jti=jti).update(blacklisted_at=earlier)


def test_within_grace_answers_the_current_pair_of_the_same_login(api_client, user, obtain, bearer):
    pair = obtain(user)
    first = _refresh(api_client, pair["refresh"]).json()
    again = _refresh(api_client, pair["refresh"])
    assert again.status_code == 200
    assert again["Cache-Control"] == "no-store"
    body = again.json()
    # The family's current refresh token (not a fork), with a fresh access token.
    assert body["refresh"] == first["refresh"]
    assert body["access"] != first["access"]
    family = RefreshToken(pair["refresh"])["fam"]
    assert RefreshToken(body["refresh"])["fam"] == family
    assert OutstandingToken.objects.filter(family_link__family_id=family).count() == 2
    assert TokenFamily.objects.get(pk=family).revoked_at is None
    assert bearer(body["access"]).get(ME_URL).json()["auth"] == "jwt-bearer"
    assert bearer(first["access"]).get(ME_URL).status_code == 200
    # The returned refresh token rotates normally.
    assert _refresh(api_client, body["refresh"]).status_code == 200


def test_after_grace_it_is_reuse_and_the_family_dies(api_client, user, obtain, bearer):
    pair = obtain(user)
    first = _refresh(api_client, pair["refresh"]).json()
    _rotated_ago(pair["refresh"], GRACE + 1)
    assert_error(_refresh(api_client, pair["refresh"]), 401, "token_reused")
    family = TokenFamily.objects.get(pk=RefreshToken(pair["refresh"])["fam"])
    assert family.revoked_reason == TokenFamily.Reason.REUSE
    assert_error(bearer(first["access"]).get(ME_URL), 401, "token_revoked")
    assert_error(_refresh(api_client, first["refresh"]), 401, "token_revoked")


def test_just_inside_grace_is_not_reuse(api_client, user, obtain):
    pair = obtain(user)
    first = _refresh(api_client, pair["refresh"]).json()
    _rotated_ago(pair["refresh"], GRACE - 1)
    assert _refresh(api_client, pair["refresh"]).json()["refresh"] == first["refresh"]


def test_grace_zero_is_strict(api_client, user, obtain, bearer, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 0
    pair = obtain(user)
    first = _refresh(api_client, pair["refresh"]).json()
    assert_error(_refresh(api_client, pair["refresh"]), 401, "token_reused")
    assert_error(bearer(first["access"]).get(ME_URL), 401, "token_revoked")


def test_a_token_rotated_twice_within_grace_gets_the_newest(api_client, user, obtain):
    pair = obtain(user)
    second = _refresh(api_client, pair["refresh"]).json()
    third = _refresh(api_client, second["refresh"]).json()
    assert _refresh(api_client, pair["refresh"]).json()["refresh"] == third["refresh"]
    assert _refresh(api_client, second["refresh"]).json()["refresh"] == third["refresh"]


def test_grace_does_not_revive_a_revoked_login(api_client, user, obtain):
    pair = obtain(user)
    _refresh(api_client, pair["refresh"])
    from api.services import family_revoke

    family_revoke(family_id=RefreshToken(pair["refresh"]).family_id)
    assert_error(_refresh(api_client, pair["refresh"]), 401, "token_revoked")


def test_deleting_the_blacklist_row_does_not_revive_a_rotated_token(api_client, user, obtain, bearer):
    pair = obtain(user)
    first = _refresh(api_client, pair["refresh"]).json()
    BlacklistedToken.objects.filter(token__jti=RefreshToken(pair["refresh"])["jti"]).delete()
    # Only the family's current token rotates; without a rotation time there is no grace.
    assert_error(_refresh(api_client, pair["refresh"]), 401, "token_reused")
    assert_error(bearer(first["access"]).get(ME_URL), 401, "token_revoked")


def test_cookie_refresh_within_grace_sets_the_current_cookies(user, cookie_login):
    client = cookie_login(user)
    old_refresh = client.cookies["refresh_token"].value
    first = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert first.status_code == 200
    current = first.cookies["refresh_token"].value
    # A second tab still holding the old cookie refreshes at the same moment.
    client.cookies["refresh_token"] = old_refresh
    again = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert again.status_code == 200
    assert again.cookies["refresh_token"].value == current
    assert client.get(ME_URL).json()["auth"] == "jwt-cookie"
    assert client.post(COOKIE_REFRESH_URL, **csrf_header(client)).status_code == 200


def test_cookie_refresh_after_grace_is_reuse(user, cookie_login):
    client = cookie_login(user)
    old_refresh = client.cookies["refresh_token"].value
    assert client.post(COOKIE_REFRESH_URL, **csrf_header(client)).status_code == 200
    _rotated_ago(old_refresh, GRACE + 1)
    client.cookies["refresh_token"] = old_refresh
    response = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert_error(response, 401, "token_reused")
    assert response.cookies["refresh_token"].value == ""
