"""POST /api/auth/token/refresh/: rotation, families and reuse detection."""

from __future__ import annotations

import logging

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.api.helpers import ME_URL, REFRESH_URL, assert_error

pytestmark = pytest.mark.django_db


def test_refresh_rotates_within_the_family(api_client, user, obtain, bearer):
    pair = obtain(user)
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new = response.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != pair["refresh"] and new["access"] != pair["access"]
    old_token, new_token = RefreshToken(pair["refresh"]), RefreshToken(new["refresh"])
    assert old_token["fam"] == new_token["fam"]
    # The presented token is rotated out (blacklisted); the new one works.
    assert BlacklistedToken.objects.filter(token__jti=old_token["jti"]).exists()
    assert bearer(new["access"]).get(ME_URL).status_code == 200
    # Rotation is not a revocation: the previous access token still works until it expires.
    assert bearer(pair["access"]).get(ME_URL).status_code == 200


def test_rotated_refresh_token_is_reuse_and_kills_the_family(
    api_client, user, obtain, bearer, caplog, settings
):
    settings.JWT_REFRESH_REUSE_GRACE = 0  # strict: the grace period has its own tests
    pair = obtain(user)
    other_login = obtain(user)
    new = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").json()
    with caplog.at_level(logging.WARNING, logger="authdemo.security"):
        response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert_error(response, 401, "token_reused")
    assert any(r.name == "authdemo.security" and "reuse" in r.getMessage() for r in caplog.records)
    # Every token of that family is dead: old access, new access, new refresh.
    assert_error(bearer(pair["access"]).get(ME_URL), 401, "token_revoked")
    assert_error(bearer(new["access"]).get(ME_URL), 401, "token_revoked")
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": new["refresh"]}, format="json"), 401, "token_revoked"
    )
    family = TokenFamily.objects.get(pk=RefreshToken(pair["refresh"])["fam"])
    assert family.revoked_reason == TokenFamily.Reason.REUSE
    # The user's other login is untouched.
    assert bearer(other_login["access"]).get(ME_URL).status_code == 200
    assert api_client.post(REFRESH_URL, {"refresh": other_login["refresh"]}, format="json").status_code == 200


def test_access_token_is_refused_as_refresh(api_client, user, obtain):
    pair = obtain(user)
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": pair["access"]}, format="json"), 401, "token_not_valid"
    )


@pytest.mark.parametrize("garbage", ["x", "a.b.c", "a.b", "a.b.c.d", "é.ü.ö", "eyJ" * 5000, " ", "null"])
def test_garbage_refresh_is_4xx_json(api_client, user, garbage):
    response = api_client.post(REFRESH_URL, {"refresh": garbage}, format="json")
    assert_error(response, 401, "token_not_valid")


@pytest.mark.parametrize(
    "payload", [{}, {"refresh": ""}, {"refresh": None}, {"refresh": ["x"]}, {"token": "x"}]
)
def test_bad_payloads_are_400(api_client, payload):
    assert_error(api_client.post(REFRESH_URL, payload, format="json"), 400, "invalid")


def test_malformed_json_and_wrong_content_type(api_client):
    assert_error(api_client.post(REFRESH_URL, "{", content_type="application/json"), 400, "parse_error")
    assert_error(api_client.post(REFRESH_URL, "refresh=x", content_type="text/plain"), 415)


def test_inactive_user_cannot_refresh(api_client, user, obtain):
    pair = obtain(user)
    user.is_active = False
    user.save()  # deactivation revokes every token of the user
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert_error(response, 401, "token_revoked")


def test_inactive_user_refused_even_without_revocation(api_client, user, obtain, django_user_model):
    pair = obtain(user)
    # QuerySet.update sends no signal: the user check alone must refuse.
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json"), 401, "user_inactive"
    )


def test_deleted_user_cannot_refresh(api_client, user, obtain):
    pair = obtain(user)
    user.delete()  # the families go with the user: a token without its family row is revoked
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert_error(response, 401, "token_revoked")


def test_refresh_token_from_another_issuer_setup_is_refused(api_client, user, obtain, settings):
    pair = obtain(user)
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "AUDIENCE": "someone-else"}
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json"), 401, "token_not_valid"
    )


def test_a_logout_committed_between_the_revocation_check_and_the_row_lock_wins(user, obtain, monkeypatch):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from api import revocation, rotation
    from api.tokens import RevokedTokenError

    pair = obtain(user)
    family_id = RefreshToken(pair["refresh"]).family_id
    real_user_active = rotation.active_user

    def logout_commits_meanwhile(token):
        # Runs after the cached revocation check and before the row lock.
        found = real_user_active(token)
        revocation.family_revoke(family_id=family_id)
        return found

    monkeypatch.setattr(rotation, "active_user", logout_commits_meanwhile)
    issued = OutstandingToken.objects.count()
    with pytest.raises(RevokedTokenError):
        rotation.token_refresh(raw=pair["refresh"])
    assert OutstandingToken.objects.count() == issued  # no new pair minted into the revoked family
    assert TokenFamily.objects.get(pk=family_id).revoked_reason == TokenFamily.Reason.LOGOUT
