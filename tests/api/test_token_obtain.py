"""POST /api/auth/token/: credentials for a token pair, rate limited, same failure for everyone."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from api.models import TokenFamily
from api.tokens import AccessToken, RefreshToken
from tests.api.helpers import TOKEN_URL, assert_error

pytestmark = pytest.mark.django_db


def test_obtain_returns_pair_with_claims_and_no_store(api_client, user, password):
    response = api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access", "refresh"}
    access, refresh = AccessToken(body["access"]), RefreshToken(body["refresh"])
    for token in (access, refresh):
        for claim in ("iss", "aud", "exp", "iat", "jti", "token_type", "user_id", "fam"):
            assert claim in token.payload, claim
        assert token["user_id"] == str(user.pk)
    assert access["token_type"] == "access" and refresh["token_type"] == "refresh"
    assert access["fam"] == refresh["fam"]
    assert access["jti"] != refresh["jti"]
    # The login started a family and recorded its refresh token.
    family = TokenFamily.objects.get(pk=refresh["fam"])
    assert family.user == user and family.revoked_at is None
    assert OutstandingToken.objects.get(jti=refresh["jti"]).family_link.family == family


def test_the_outstanding_row_holds_the_refresh_token_as_issued(api_client, user, password):
    body = api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json").json()
    row = OutstandingToken.objects.get(jti=RefreshToken(body["refresh"])["jti"])
    # The very string the client holds, family claim included: one row per refresh token.
    assert row.token == body["refresh"] and row.user == user
    assert OutstandingToken.objects.filter(user=user).count() == 1


def test_each_login_starts_its_own_family(api_client, user, password):
    first = api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json").json()
    second = api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json").json()
    assert RefreshToken(first["refresh"])["fam"] != RefreshToken(second["refresh"])["fam"]


def test_username_is_case_insensitive(api_client, user, password):
    response = api_client.post(TOKEN_URL, {"username": "ALICE", "password": password}, format="json")
    assert response.status_code == 200


def test_wrong_password_unknown_user_and_inactive_user_get_the_same_401(
    api_client, user, user_factory, password
):
    user_factory(username="carol", is_active=False)
    wrong = api_client.post(TOKEN_URL, {"username": "alice", "password": "nope"}, format="json")
    unknown = api_client.post(TOKEN_URL, {"username": "nobody", "password": password}, format="json")
    inactive = api_client.post(TOKEN_URL, {"username": "carol", "password": password}, format="json")
    bodies = [assert_error(r, 401, "invalid_credentials") for r in (wrong, unknown, inactive)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert "access" not in wrong.json()
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"username": "alice"},
        {"password": "x"},
        {"username": "", "password": ""},
        {"username": ["alice"], "password": "x"},
        {"username": {"a": 1}, "password": "x"},
        {"username": "alice", "password": None},
        {"username": "a" * 10_000, "password": "x"},
    ],
)
def test_bad_payloads_are_400_json(api_client, user, payload):
    body = assert_error(api_client.post(TOKEN_URL, payload, format="json"), 400, "invalid")
    assert "errors" in body


def test_non_object_json_is_400(api_client, user):
    for raw in ("[]", '"alice"', "null", "42"):
        response = api_client.post(TOKEN_URL, raw, content_type="application/json")
        assert_error(response, 400)


def test_malformed_json_is_400_parse_error(api_client, user):
    response = api_client.post(TOKEN_URL, '{"username": "alice", ', content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type_is_415(api_client, user, password, content_type):
    response = api_client.post(TOKEN_URL, f"username=alice&password={password}", content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_get_is_405_json(api_client):
    assert_error(api_client.get(TOKEN_URL), 405, "method_not_allowed")


def test_rate_limited_with_retry_after_even_with_right_password(api_client, user, password, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    for _ in range(3):
        assert_error(api_client.post(TOKEN_URL, {"username": "alice", "password": "bad"}, format="json"), 401)
    response = api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert "access" not in response.json()


def test_rate_limit_counts_username_variants_together(api_client, user, password, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
    for variant in ("alice", " ALICE "):
        assert_error(api_client.post(TOKEN_URL, {"username": variant, "password": "bad"}, format="json"), 401)
    response = api_client.post(TOKEN_URL, {"username": "Alice", "password": password}, format="json")
    assert_error(response, 429, "throttled")


def test_unknown_user_locked_out_looks_like_real_one(api_client, user, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "1/15m"
    bodies = []
    for name in ("alice", "ghost"):
        api_client.post(TOKEN_URL, {"username": name, "password": "bad"}, format="json")
        response = api_client.post(TOKEN_URL, {"username": name, "password": "bad"}, format="json")
        body = assert_error(response, 429)
        # The wait differs by the counter's window (staggered per key), nothing else.
        bodies.append((set(body), body["code"], set(response.headers) - {"Content-Length"}))
    assert bodies[0] == bodies[1]


def test_successful_login_refunds_username_counter(api_client, user, password, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
    for _ in range(5):
        assert (
            api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json").status_code
            == 200
        )


def test_ip_limit_applies_across_usernames(api_client, user, password, settings):
    settings.LOGIN_RATELIMIT_IP = "3/m"
    for name in ("x1", "x2", "x3"):
        assert_error(api_client.post(TOKEN_URL, {"username": name, "password": "bad"}, format="json"), 401)
    response = api_client.post(TOKEN_URL, {"username": "alice", "password": password}, format="json")
    assert_error(response, 429, "throttled")
