"""POST /api/auth/token/verify/: 200 {} for a valid, unrevoked token of an active user, else 401."""

from __future__ import annotations

import pytest

from tests.api.helpers import REFRESH_URL, VERIFY_URL, assert_error

pytestmark = pytest.mark.django_db


def test_valid_access_and_refresh_tokens_verify(api_client, user, obtain):
    pair = obtain(user)
    for token in (pair["access"], pair["refresh"]):
        response = api_client.post(VERIFY_URL, {"token": token}, format="json")
        assert response.status_code == 200
        assert response.json() == {}
        assert response["Cache-Control"] == "no-store"


def test_rotated_out_refresh_token_does_not_verify(api_client, user, obtain):
    pair = obtain(user)
    assert api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json").status_code == 200
    assert_error(api_client.post(VERIFY_URL, {"token": pair["refresh"]}, format="json"), 401, "token_revoked")


def test_revoked_tokens_do_not_verify(api_client, user, obtain):
    from api.revocation import tokens_revoke_all

    pair = obtain(user)
    tokens_revoke_all(user=user)
    for token in (pair["access"], pair["refresh"]):
        assert_error(api_client.post(VERIFY_URL, {"token": token}, format="json"), 401, "token_revoked")


def test_inactive_or_deleted_users_tokens_do_not_verify(
    api_client, user, user_factory, obtain, django_user_model
):
    pair = obtain(user)
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    assert_error(api_client.post(VERIFY_URL, {"token": pair["access"]}, format="json"), 401, "user_inactive")
    bob = user_factory(username="bob")
    bob_pair = obtain(bob)
    bob.delete()
    response = api_client.post(VERIFY_URL, {"token": bob_pair["access"]}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize("garbage", ["x", "a.b.c", "....", "\u00ff" * 10, "Bearer x"])
def test_garbage_is_401(api_client, garbage):
    assert_error(api_client.post(VERIFY_URL, {"token": garbage}, format="json"), 401, "token_not_valid")


def test_bad_input_is_4xx(api_client):
    assert_error(api_client.post(VERIFY_URL, {}, format="json"), 400, "invalid")
    assert_error(api_client.post(VERIFY_URL, "{]", content_type="application/json"), 400, "parse_error")
    assert_error(
        api_client.post(VERIFY_URL, "token=x", content_type="application/x-www-form-urlencoded"), 415
    )
    assert_error(api_client.get(VERIFY_URL), 405)
