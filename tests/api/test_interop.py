"""Another service verifies our access tokens with jwcrypto, knowing only the JWKS document."""

from __future__ import annotations

import json
import time

import pytest
from jwcrypto import jwk, jws, jwt

from tests.api.helpers import JWKS_URL, TOKEN_URL

pytestmark = pytest.mark.django_db


def _jwks(client) -> jwk.JWKSet:
    response = client.get(JWKS_URL)
    assert response.status_code == 200
    return jwk.JWKSet.from_json(response.content)


def _issued_access_token(api_client, user, password) -> str:
    response = api_client.post(
        TOKEN_URL, {"username": user.username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


def test_jwcrypto_verifies_an_issued_access_token_with_the_jwks_only(client, api_client, user, password):
    access = _issued_access_token(api_client, user, password)
    key_set = _jwks(client)

    # jwcrypto picks the key by the header's kid from the set, checks the
    # signature with the one algorithm allowed, then the claims we ask for.
    token = jwt.JWT(
        jwt=access,
        key=key_set,
        algs=["EdDSA"],
        check_claims={"iss": "authdemo", "aud": "authdemo-api", "exp": None, "token_type": "access"},
        expected_type="JWS",
    )
    claims = json.loads(token.claims)
    header = json.loads(token.token.objects["protected"])
    assert header["alg"] == "EdDSA"
    assert key_set.get_key(header["kid"]) is not None
    assert str(claims["user_id"]) == str(user.pk)
    assert claims["iat"] <= time.time() < claims["exp"]
    assert claims["jti"]


def test_jwcrypto_rejects_a_tampered_token(client, api_client, user, password):
    access = _issued_access_token(api_client, user, password)
    header, payload, signature = access.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    kid = json.loads(jws.base64url_decode(header))["kid"]
    key = _jwks(client).get_key(kid)
    assert key is not None
    with pytest.raises(jws.InvalidJWSSignature):
        jwt.JWT(jwt=f"{header}.{payload}.{flipped}", key=key, algs=["EdDSA"], expected_type="JWS")


def test_jwcrypto_refuses_a_token_whose_kid_is_not_published(client, api_client, user, password, settings):
    access = _issued_access_token(api_client, user, password)
    # Another key signs from now on and the old one is retired: the published set
    # no longer verifies the old token, for jwcrypto as for us.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": pem}
    settings.JWT_EXTRA_PUBLIC_KEYS = ""
    with pytest.raises(jwt.JWTMissingKey):
        jwt.JWT(jwt=access, key=_jwks(client), algs=["EdDSA"], expected_type="JWS")


def test_jwcrypto_verifies_rs256_tokens_too(client, api_client, user, password, settings):
    """JWT_ALGORITHM=RS256, the fallback for verifiers without EdDSA, interoperates the same way."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": "RS256", "SIGNING_KEY": pem}
    access = _issued_access_token(api_client, user, password)
    key_set = _jwks(client)
    assert [k.get("alg") for k in json.loads(key_set.export(private_keys=False))["keys"]] == ["RS256"]
    token = jwt.JWT(jwt=access, key=key_set, algs=["RS256"], check_claims={"aud": "authdemo-api"})
    assert json.loads(token.token.objects["protected"])["alg"] == "RS256"
    # And EdDSA is not accepted in its place.
    with pytest.raises(jwt.JWTMissingKey):  # no key of the set verifies under EdDSA
        jwt.JWT(jwt=access, key=key_set, algs=["EdDSA"])
