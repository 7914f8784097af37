"""The stateless verifier against the live site: its tokens, its JWKS, its revocations and key rotations."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.livehttp import json_request, parallel, send
from tests.verifier.helpers import access_claims, b64url, sign, unsigned_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

JWKS_PATH = "/.well-known/jwks.json"


def _private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _site_signs_with(settings, private_key, *, extra=()) -> None:
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": "EdDSA",
        "SIGNING_KEY": _private_pem(private_key),
    }
    settings.JWT_EXTRA_PUBLIC_KEYS = "".join(_public_pem(k) for k in extra)


class Site:
    """The live site seen over HTTP, signing with a key this test holds."""

    def __init__(self, url: str, key):
        self.url, self.key = url, key

    @property
    def jwks_url(self) -> str:
        return self.url + JWKS_PATH

    def kids(self) -> list[str]:
        status, body, _ = send(urllib.request.Request(self.jwks_url))
        assert status == 200
        return [jwk["kid"] for jwk in json.loads(body)["keys"]]

    def obtain(self, username: str, password: str) -> dict:
        status, body, _ = send(
            json_request(f"{self.url}/api/auth/token/", body={"username": username, "password": password})
        )
        assert status == 200, body
        return json.loads(body)

    def me(self, access: str) -> tuple[int, dict]:
        status, body, _ = send(
            json_request(f"{self.url}/api/me/", headers={"Authorization": f"Bearer {access}"})
        )
        return status, json.loads(body)


@pytest.fixture
def site(live_server, settings) -> Site:
    key = ed25519.Ed25519PrivateKey.generate()
    _site_signs_with(settings, key)
    return Site(live_server.url, key)


def test_an_access_token_of_the_site_verifies_with_its_claims(site, verifier_for, user, password):
    verifier = verifier_for(site.jwks_url)
    pair = site.obtain(user.username, password)
    status, body, headers = verifier.whoami(pair["access"])
    assert status == 200, body
    assert str(body["claims"]["user_id"]) == str(user.pk)
    assert body["claims"]["token_type"] == "access"
    # How and when the user authenticated travel with the token (RFC 8176, OIDC auth_time).
    assert body["claims"]["amr"] == ["pwd"]
    assert abs(body["claims"]["auth_time"] - body["claims"]["iat"]) <= 1
    assert (body["claims"]["iss"], body["claims"]["aud"]) == ("authdemo", "authdemo-api")
    assert body["header"]["alg"] == "EdDSA"
    assert body["header"]["kid"] == site.kids()[0]
    assert 0 < body["expires_in"] <= 300
    assert body["revocation_checked"] is False
    assert headers["Cache-Control"] == "no-store"
    # The keys are cached: further requests fetch nothing.
    assert verifier.whoami(pair["access"])[0] == 200
    assert verifier.fetches == [site.jwks_url]


def test_a_revoked_token_is_refused_by_the_site_at_once_but_accepted_by_the_verifier_until_exp(
    site, verifier_for, user, password
):
    verifier = verifier_for(site.jwks_url)
    access = site.obtain(user.username, password)["access"]
    status, _, _ = send(
        json_request(
            f"{site.url}/api/auth/logout-all/", headers={"Authorization": f"Bearer {access}"}, body={}
        )
    )
    assert status == 204
    assert site.me(access) == (401, {"detail": "Token has been revoked", "code": "token_revoked"})

    status, body, _ = verifier.whoami(access)
    assert status == 200
    remaining = body["expires_in"]
    assert remaining > 0
    # Still accepted just before exp (plus leeway), refused after.
    verifier.advance(remaining + verifier.app.config.leeway - 2)
    assert verifier.whoami(access)[0] == 200
    verifier.advance(4)
    status, body, headers = verifier.whoami(access)
    assert (status, body["code"]) == (401, "token_expired")
    assert headers["WWW-Authenticate"].startswith("Bearer")


def test_a_refresh_token_is_not_an_access_token(site, verifier_for, user, password):
    verifier = verifier_for(site.jwks_url)
    refresh = site.obtain(user.username, password)["refresh"]
    status, body, _ = verifier.whoami(refresh)
    assert (status, body["code"]) == (401, "wrong_type")


def _hs256_with_public_key(site: Site, kid: str) -> str:
    # The classic confusion attack: the public key used as an HMAC secret.
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = unsigned_token(header, access_claims()).rstrip(".")
    secret = _public_pem(site.key).encode()
    return signing_input + "." + b64url(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())


ATTACKS = {
    "forged signature": lambda site, kid: sign(
        ed25519.Ed25519PrivateKey.generate(), access_claims(), kid=kid
    ),
    "alg none": lambda site, kid: unsigned_token({"alg": "none", "kid": kid}, access_claims()),
    "HS256 with the public key as secret": _hs256_with_public_key,
    "wrong audience": lambda site, kid: sign(site.key, access_claims(aud="other-api"), kid=kid),
    "wrong issuer": lambda site, kid: sign(site.key, access_claims(iss="evil"), kid=kid),
    "no token type": lambda site, kid: sign(site.key, access_claims(token_type=None), kid=kid),
    "no exp": lambda site, kid: sign(site.key, access_claims(exp=None), kid=kid),
    "expired": lambda site, kid: sign(site.key, access_claims(exp=1_000_000_000), kid=kid),
    "no kid": lambda site, kid: unsigned_token({"alg": "EdDSA"}, access_claims(), b"x" * 64),
    "kid of another key": lambda site, kid: sign(site.key, access_claims(), kid="not-a-published-kid"),
    "garbage": lambda site, kid: "garbage",
    "three garbage parts": lambda site, kid: "a.b.c",
}
EXPECTED = {
    "wrong audience": "wrong_audience",
    "wrong issuer": "wrong_issuer",
    "expired": "token_expired",
    "kid of another key": "unknown_kid",
}


def test_a_token_signed_with_the_site_key_verifies(site, verifier_for):
    # The control for the attacks below: the same helper, the right claims.
    (kid,) = site.kids()
    status, _, _ = verifier_for(site.jwks_url).whoami(sign(site.key, access_claims(), kid=kid))
    assert status == 200


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attacks_are_refused_with_their_code(site, verifier_for, attack):
    verifier = verifier_for(site.jwks_url)
    (kid,) = site.kids()
    status, body, headers = verifier.whoami(ATTACKS[attack](site, kid))
    assert status == 401, body
    assert body["code"] == EXPECTED.get(attack, "token_not_valid"), body
    assert body["detail"]
    assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_keys_named_by_the_token_itself_are_never_fetched(site, verifier_for):
    attacker = ed25519.Ed25519PrivateKey.generate()
    verifier = verifier_for(site.jwks_url)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(attacker.public_key().public_bytes_raw())}
    token = sign(attacker, access_claims(), kid="attacker", jku="http://127.0.0.1:9/jwks.json", jwk=jwk)
    status, body, _ = verifier.whoami(token)
    assert (status, body["code"]) == (401, "unknown_kid")
    assert verifier.fetches == [site.jwks_url]


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "not_authenticated"),
        ("", "not_authenticated"),
        ("Basic Zm9vOmJhcg==", "not_authenticated"),
        ("Bearer", "bad_authorization_header"),
        ("Bearer a b", "bad_authorization_header"),
        ("Bearer \x00", "token_not_valid"),
    ],
)
def test_missing_or_malformed_authorization(site, verifier_for, authorization, code):
    headers = {} if authorization is None else {"Authorization": authorization}
    status, body, response_headers = verifier_for(site.jwks_url).whoami(**headers)
    assert (status, body["code"]) == (401, code)
    assert response_headers["WWW-Authenticate"].startswith("Bearer")


def test_a_key_rotation_is_followed_without_restart_at_most_one_fetch_per_interval(
    site, settings, verifier_for, user, password
):
    verifier = verifier_for(site.jwks_url, refetch_interval=10)
    old_access = site.obtain(user.username, password)["access"]
    assert verifier.whoami(old_access)[0] == 200
    (old_kid,) = site.kids()

    # The site rotates: a new key signs, the old one still verifies.
    new_key = ed25519.Ed25519PrivateKey.generate()
    _site_signs_with(settings, new_key, extra=[site.key])
    new_access = site.obtain(user.username, password)["access"]
    # Within the refetch interval the new kid is unknown: refused, not fetched.
    verifier.advance(5)
    status, body, _ = verifier.whoami(new_access)
    assert (status, body["code"]) == (401, "unknown_kid")
    assert len(verifier.fetches) == 1
    # Once the interval has passed, the unknown kid triggers one refetch.
    verifier.advance(5)
    status, body, _ = verifier.whoami(new_access)
    assert status == 200, body
    assert body["header"]["kid"] == site.kids()[0] != old_kid
    assert verifier.whoami(old_access)[0] == 200
    assert len(verifier.fetches) == 2


def test_a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval(site, verifier_for):
    verifier = verifier_for(site.jwks_url, refetch_interval=10)
    junk = [sign(site.key, access_claims(), kid=f"junk-{n}") for n in range(40)]
    results = parallel([lambda token=token: verifier.whoami(token) for token in junk])
    assert [(status, body["code"]) for status, body, _ in results] == [(401, "unknown_kid")] * 40
    assert len(verifier.fetches) == 1
    verifier.advance(10)
    assert all(verifier.whoami(token)[0] == 401 for token in junk[:10])
    assert len(verifier.fetches) == 2


class _Relay(BaseHTTPRequestHandler):
    """Serves the site's JWKS from another port, so the test can take "the site" down."""

    upstream = ""

    def do_GET(self):
        with urllib.request.urlopen(self.upstream, timeout=10) as response:
            body, cache_control = response.read(), response.headers["Cache-Control"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", cache_control)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        return None


def test_when_the_site_is_down_known_keys_keep_working_and_unknown_kids_get_401(
    site, verifier_for, user, password
):
    relay_handler = type("Relay", (_Relay,), {"upstream": site.jwks_url})
    relay = ThreadingHTTPServer(("127.0.0.1", 0), relay_handler)
    threading.Thread(target=relay.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    relay_url = f"http://127.0.0.1:{relay.server_port}{JWKS_PATH}"
    verifier = verifier_for(relay_url, refetch_interval=10, jwks_max_ttl=60)
    access = site.obtain(user.username, password)["access"]
    assert verifier.whoami(access)[0] == 200

    relay.shutdown()
    relay.server_close()
    # Long after the cache went stale, with the JWKS unreachable: the keys held still verify.
    verifier.advance(100)
    assert verifier.whoami(access)[0] == 200
    assert len(verifier.fetches) == 2  # it tried, and failed
    status, body, _ = verifier.whoami(sign(ed25519.Ed25519PrivateKey.generate(), access_claims(), kid="new"))
    assert (status, body["code"]) == (401, "unknown_kid")


def test_a_verifier_that_never_reached_the_site_answers_401_not_500(verifier_for):
    with ThreadingHTTPServer(("127.0.0.1", 0), _Relay) as closed:
        dead_url = f"http://127.0.0.1:{closed.server_port}{JWKS_PATH}"
    verifier = verifier_for(dead_url)
    status, body, _ = verifier.whoami(sign(ed25519.Ed25519PrivateKey.generate(), access_claims(), kid="k"))
    assert (status, body["code"]) == (401, "unknown_kid")
    assert verifier.fetches == [dead_url]
