"""GET /.well-known/jwks.json: every verifying key, with kid, alg and use; public and cacheable."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from api import jwk, keyring
from tests.api.helpers import JWKS_URL

URL = JWKS_URL


def test_jwks_lists_the_signing_key_with_kid_alg_and_use(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    (entry,) = response.json()["keys"]
    ring = keyring.key_ring()
    assert entry["kid"] == ring.signing_kid
    assert entry["alg"] == "EdDSA" and entry["use"] == "sig"
    assert entry["kty"] == "OKP" and entry["crv"] == "Ed25519"
    # The published key is the one that verifies what the ring signs.
    public = ed25519.Ed25519PublicKey.from_public_bytes(jwt.utils.base64url_decode(entry["x"]))
    assert jwk.public_key_kid(public) == entry["kid"]


def test_jwks_never_contains_private_material(client):
    for entry in client.get(URL).json()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(entry)


def test_jwks_is_public_and_cacheable(client):
    response = client.get(URL)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "public" in cache_control
    assert f"max-age={jwk.JWKS_MAX_AGE}" in cache_control
    assert "Set-Cookie" not in response


@pytest.mark.parametrize(
    "authorization", ["Bearer garbage", "Bearer", "Basic Zm9vOmJhcg==", "bearer a.b.c", ""]
)
def test_jwks_ignores_any_authorization_header(client, authorization):
    response = client.get(URL, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 200
    assert response.json()["keys"]


def test_jwks_publishes_previous_and_staged_keys_after_the_signing_key(client, settings):
    previous = ed25519.Ed25519PrivateKey.generate().public_key()
    settings.JWT_EXTRA_PUBLIC_KEYS = jwk.public_key_pem(previous)
    kids = [entry["kid"] for entry in client.get(URL).json()["keys"]]
    assert kids == [keyring.key_ring().signing_kid, jwk.public_key_kid(previous)]


def test_jwks_does_not_repeat_a_key_listed_twice(client, settings):
    own = keyring.key_ring().signing_key.public_key()
    settings.JWT_EXTRA_PUBLIC_KEYS = jwk.public_key_pem(own) * 2
    assert len(client.get(URL).json()["keys"]) == 1


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_jwks_is_read_only(client, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    body = response.json()
    assert body["detail"]
    assert body.get("code")


def test_jwks_key_is_usable_by_pyjwt_from_the_document_alone(client):
    """PyJWT's own JWK parser accepts the published key and verifies a token with it."""
    token = keyring.token_backend().encode({"jti": "x", "iat": 1, "exp": 4102444800, "token_type": "access"})
    document = client.get(URL).json()
    header = jwt.get_unverified_header(token)
    (entry,) = [k for k in document["keys"] if k["kid"] == header["kid"]]
    key = jwt.PyJWK(entry).key
    assert key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    payload = jwt.decode(token, key, algorithms=[entry["alg"]], audience="authdemo-api", issuer="authdemo")
    assert payload["jti"] == "x"
