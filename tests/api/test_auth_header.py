"""Malformed Authorization headers and garbage tokens: 401 JSON, never a 5xx."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from api.authentication import JWTBearerAuthentication, JWTCookieAuthentication
from tests.api.helpers import ME_URL, assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("header", "code"),
    [
        # No token, or more than one value: the header itself is wrong.
        ("Bearer", "bad_authorization_header"),
        ("Bearer ", "bad_authorization_header"),
        ("Bearer a b", "bad_authorization_header"),
        ("Bearer garbage", "token_not_valid"),
        ("Bearer a.b", "token_not_valid"),
        ("Bearer a.b.c", "token_not_valid"),
        ("Bearer a.b.c.d", "token_not_valid"),
        ("Bearer ....", "token_not_valid"),
        ("Bearer eyJhbGciOiJub25lIn0.e30.", "token_not_valid"),
        ("Bearer " + "A" * 16384, "token_not_valid"),
        ("Bearer \u00e9\u00e8.\u00fc.x", "token_not_valid"),
        ("Bearer %00%00", "token_not_valid"),
    ],
)
def test_malformed_bearer_is_401_json(user, header, code):
    client = APIClient()
    response = client.get(ME_URL, HTTP_AUTHORIZATION=header)
    assert_error(response, 401, code)


@pytest.mark.parametrize("header", ["", "Basic YWxpY2U6eA==", "Token abc", "bearer abc", "Digest x"])
def test_other_schemes_are_anonymous_401(user, header):
    assert_error(APIClient().get(ME_URL, HTTP_AUTHORIZATION=header), 401)


def test_refresh_token_as_access_is_refused(user, obtain):
    pair = obtain(user)
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {pair['refresh']}")
    assert_error(response, 401, "token_not_valid")


def test_tampered_payload_is_refused(user, user_factory, obtain):
    import base64
    import json

    pair = obtain(user)
    header, payload, signature = pair["access"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = str(user_factory(username="mallory").pk)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {header}.{forged}.{signature}")
    assert_error(response, 401, "token_not_valid")


def test_lowercase_bearer_with_valid_token_is_not_accepted_as_bearer(user, obtain):
    pair = obtain(user)
    # The scheme is matched exactly as configured (AUTH_HEADER_TYPES); anything else is no JWT.
    response = APIClient().get(ME_URL, HTTP_AUTHORIZATION=f"bearer {pair['access']}")
    assert_error(response, 401, "not_authenticated")


def test_jwt_authentication_classes_resolve_the_user_model_on_use():
    # DRF builds them per request; SimpleJWT's user_model attribute stays available.
    for authentication_class in (JWTBearerAuthentication, JWTCookieAuthentication):
        assert authentication_class().user_model is get_user_model()
