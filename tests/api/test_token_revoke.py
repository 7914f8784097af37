"""POST /api/auth/token/revoke/: the refresh token given and the presenting access token die at once."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.api.helpers import ME_URL, REFRESH_URL, REVOKE_URL, assert_error

pytestmark = pytest.mark.django_db


def test_revoke_kills_access_and_refresh_at_once(api_client, user, obtain, bearer):
    pair = obtain(user)
    other = obtain(user)
    client = bearer(pair["access"])
    assert client.get(ME_URL).status_code == 200  # warm the cache: revocation must beat it
    response = client.post(REVOKE_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    assert_error(client.get(ME_URL), 401, "token_revoked")
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json"), 401, "token_revoked"
    )
    # Another login of the same user is not affected.
    assert bearer(other["access"]).get(ME_URL).status_code == 200


def test_revocation_survives_a_cache_flush(api_client, user, obtain, bearer):
    pair = obtain(user)
    client = bearer(pair["access"])
    assert client.post(REVOKE_URL, {"refresh": pair["refresh"]}, format="json").status_code == 204
    cache.clear()  # Redis flushed: the database is the source of truth
    assert_error(client.get(ME_URL), 401, "token_revoked")
    assert_error(
        api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json"), 401, "token_revoked"
    )


def test_revoke_needs_a_bearer_token(api_client, user, obtain):
    pair = obtain(user)
    assert_error(
        api_client.post(REVOKE_URL, {"refresh": pair["refresh"]}, format="json"), 401, "not_authenticated"
    )


def test_revoke_refuses_another_users_refresh_token(user, user_factory, obtain, bearer):
    mine = obtain(user)
    theirs = obtain(user_factory(username="bob"))
    response = bearer(mine["access"]).post(REVOKE_URL, {"refresh": theirs["refresh"]}, format="json")
    assert_error(response, 401, "token_not_valid")
    assert bearer(theirs["access"]).get(ME_URL).status_code == 200


def test_revoke_bad_input(user, obtain, bearer):
    pair = obtain(user)
    client = bearer(pair["access"])
    assert_error(client.post(REVOKE_URL, {}, format="json"), 400, "invalid")
    assert_error(client.post(REVOKE_URL, {"refresh": "garbage"}, format="json"), 401, "token_not_valid")
    assert_error(client.post(REVOKE_URL, {"refresh": pair["access"]}, format="json"), 401, "token_not_valid")
    assert_error(client.post(REVOKE_URL, "{", content_type="application/json"), 400, "parse_error")
    assert_error(client.post(REVOKE_URL, "x", content_type="text/plain"), 415)
    # Nothing was revoked by the bad calls.
    assert client.get(ME_URL).status_code == 200
