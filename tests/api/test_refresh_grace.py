"""Refresh reuse grace: a token presented again just after its rotation gets the login's current pair."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.conf import settings
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


def test_an_older_token_within_grace_is_reuse_and_the_family_dies(api_client, user, obtain, bearer, caplog):
    # A thief replays R0 seconds after the victim rotated R0 -> R1 -> R2: only
    # R2's immediate parent (R1) has grace, so R0 is reuse (RFC 9700 4.14.2).
    r0 = obtain(user)
    r1 = _refresh(api_client, r0["refresh"]).json()
    r2 = _refresh(api_client, r1["refresh"]).json()
    with caplog.at_level(logging.INFO, logger="authdemo.security"):
        assert_error(_refresh(api_client, r0["refresh"]), 401, "token_reused")
    family = TokenFamily.objects.get(pk=RefreshToken(r0["refresh"])["fam"])
    assert family.revoked_reason == TokenFamily.Reason.REUSE
    assert not [r for r in caplog.records if r.getMessage().startswith("refresh token grace")]
    assert [r for r in caplog.records if r.levelno == logging.WARNING and "reuse" in r.getMessage()]
    # The victim's newest pair died with the family, and so did the grace of R1.
    assert_error(_refresh(api_client, r2["refresh"]), 401, "token_revoked")
    assert_error(_refresh(api_client, r1["refresh"]), 401, "token_revoked")
    assert_error(bearer(r2["access"]).get(ME_URL), 401, "token_revoked")
    assert OutstandingToken.objects.filter(family_link__family=family).count() == 3


def test_the_immediate_parent_within_grace_gets_the_current_pair_and_is_logged(
    api_client, user, obtain, caplog
):
    r0 = obtain(user)
    r1 = _refresh(api_client, r0["refresh"]).json()
    r2 = _refresh(api_client, r1["refresh"]).json()
    with caplog.at_level(logging.INFO, logger="authdemo.security"):
        again = api_client.post(
            REFRESH_URL,
            {"refresh": r1["refresh"]},
            format="json",
            REMOTE_ADDR="203.0.113.9",
            HTTP_USER_AGENT="Tab two\nforged line",
        )
    assert again.status_code == 200
    assert again.json()["refresh"] == r2["refresh"]
    family = str(RefreshToken(r0["refresh"])["fam"])
    hits = [r for r in caplog.records if r.getMessage().startswith("refresh token grace")]
    assert len(hits) == 1
    record = hits[0]
    assert record.name == "authdemo.security"
    assert (record.family, record.client_ip, record.user_agent) == (
        family,
        "203.0.113.9",
        "Tab two\nforged line",
    )
    message = record.getMessage()
    assert f"family={family}" in message and "ip=203.0.113.9" in message
    # The client's user agent is quoted: its line break cannot start a forged log line.
    assert "\n" not in message and "user_agent='Tab two\\nforged line'" in message
    assert TokenFamily.objects.get(pk=family).revoked_at is None


def test_a_plain_rotation_is_not_logged_as_a_grace_answer(api_client, user, obtain, caplog):
    pair = obtain(user)
    with caplog.at_level(logging.INFO, logger="authdemo.security"):
        assert _refresh(api_client, pair["refresh"]).status_code == 200
    assert not [r for r in caplog.records if r.getMessage().startswith("refresh token grace")]


def test_the_parent_after_grace_is_reuse_even_when_it_is_the_immediate_parent(api_client, user, obtain):
    r0 = obtain(user)
    r1 = _refresh(api_client, r0["refresh"]).json()
    _refresh(api_client, r1["refresh"])
    _rotated_ago(r1["refresh"], GRACE + 1)
    assert_error(_refresh(api_client, r1["refresh"]), 401, "token_reused")


def test_a_grandparent_replayed_before_its_child_is_still_reuse(api_client, user, obtain):
    # R0 -> R1 -> R2, then R0 first: reuse; R1 (the immediate parent) then has
    # no grace either, since the whole family is revoked.
    r0 = obtain(user)
    r1 = _refresh(api_client, r0["refresh"]).json()
    _refresh(api_client, r1["refresh"])
    _refresh(api_client, r1["refresh"])  # within grace: fine
    assert_error(_refresh(api_client, r0["refresh"]), 401, "token_reused")


def test_grace_does_not_revive_a_revoked_login(api_client, user, obtain):
    pair = obtain(user)
    _refresh(api_client, pair["refresh"])
    from api.revocation import family_revoke

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
    old_refresh = client.cookies[settings.JWT_REFRESH_COOKIE].value
    first = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert first.status_code == 200
    current = first.cookies[settings.JWT_REFRESH_COOKIE].value
    # A second tab still holding the old cookie refreshes at the same moment.
    client.cookies[settings.JWT_REFRESH_COOKIE] = old_refresh
    again = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert again.status_code == 200
    assert again.cookies[settings.JWT_REFRESH_COOKIE].value == current
    assert client.get(ME_URL).json()["auth"] == "jwt-cookie"
    assert client.post(COOKIE_REFRESH_URL, **csrf_header(client)).status_code == 200


def test_cookie_refresh_after_grace_is_reuse(user, cookie_login):
    client = cookie_login(user)
    old_refresh = client.cookies[settings.JWT_REFRESH_COOKIE].value
    assert client.post(COOKIE_REFRESH_URL, **csrf_header(client)).status_code == 200
    _rotated_ago(old_refresh, GRACE + 1)
    client.cookies[settings.JWT_REFRESH_COOKIE] = old_refresh
    response = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert_error(response, 401, "token_reused")
    assert response.cookies[settings.JWT_REFRESH_COOKIE].value == ""
