"""Attacks on the JWT side (RFC 8725 §2, OWASP ASVS 5.0 V9): each one is a 401 JSON, never a 5xx.

Every attack starts from a genuine token issued by POST /api/auth/token/ and
is presented where it could do harm: to /api/me/ as a bearer token and as the
access_token cookie, to /api/auth/token/verify/ and, for refresh tokens, to
/api/auth/token/refresh/.
A positive control shows the genuine token works at each place, so a 401
means the attack was refused, not that the endpoint is broken.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from api import jwk, keyring
from tests.api.helpers import ME_URL, REFRESH_URL, TOKEN_URL, VERIFY_URL

pytestmark = pytest.mark.django_db


# --- JOSE by hand: what an attacker sends -----------------------------------


def b64(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def parts(token: str) -> tuple[dict, dict, bytes]:
    header, payload, signature = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload)), unb64(signature)


def compact(header: dict, payload: dict, sign: Callable[[bytes], bytes] | None) -> str:
    """Return header.payload.signature, signed by ``sign`` (an empty signature if None)."""
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    signature = sign(signing_input) if sign else b""
    return f"{signing_input.decode()}.{b64(signature)}"


def ring_sign(signing_input: bytes) -> bytes:
    """Sign with the project's real signing key (for claim attacks that need a valid signature)."""
    return keyring.key_ring().signing_key.sign(signing_input)


ATTACKER_KEY = ed25519.Ed25519PrivateKey.generate()
ATTACKER_JWK = jwk.public_key_jwk(ATTACKER_KEY.public_key())
ATTACKER_KID = jwk.public_key_kid(ATTACKER_KEY.public_key())


def attacker_sign(signing_input: bytes) -> bytes:
    return ATTACKER_KEY.sign(signing_input)


def resign(token: str, *, header: dict | None = None, sign=ring_sign, **claims) -> str:
    """Return ``token`` with header fields and claims changed, signed again by ``sign``."""
    old_header, payload, _ = parts(token)
    payload = {**payload, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return compact({**old_header, **(header or {})}, payload, sign)


# --- Attacks: functions of a genuine token ----------------------------------


def alg_none(spelling: str) -> Callable[[str], str]:
    def attack(token: str) -> str:
        header, payload, _ = parts(token)
        return compact({**header, "alg": spelling}, payload, None)

    return attack


def stripped_signature(token: str) -> str:
    return token.rsplit(".", 1)[0] + "."


def flipped_signature_byte(token: str) -> str:
    head, signature = token.rsplit(".", 1)
    raw = bytearray(unb64(signature))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{b64(bytes(raw))}"


def tampered_claims(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(unb64(payload))
    claims["user_id"] = str(int(claims["user_id"]) + 1) if str(claims["user_id"]).isdigit() else "1"
    claims["exp"] = claims["exp"] + 3600
    return f"{header}.{b64(claims)}.{signature}"


def _public_pem() -> bytes:
    return jwk.public_key_pem(keyring.key_ring().signing_key.public_key()).encode()


def hs256_with_public_pem(token: str) -> str:
    """Key confusion: HMAC with the (public!) verifying key as the secret."""
    header, payload, _ = parts(token)
    return compact(
        {**header, "alg": "HS256"},
        payload,
        lambda data: hmac.new(_public_pem(), data, hashlib.sha256).digest(),
    )


def hs256_with_public_jwk_x(token: str) -> str:
    header, payload, _ = parts(token)
    x = jwk.public_key_jwk(keyring.key_ring().signing_key.public_key())["x"]
    return compact(
        {**header, "alg": "HS256"},
        payload,
        lambda data: hmac.new(x.encode(), data, hashlib.sha256).digest(),
    )


def unknown_kid(token: str) -> str:
    # Correctly signed by the real key, but naming a key the ring does not have.
    return resign(token, header={"kid": "unknown-kid"})


def injected_jwk_header(token: str) -> str:
    return resign(token, header={"jwk": ATTACKER_JWK, "kid": ATTACKER_KID}, sign=attacker_sign)


def injected_jwk_header_with_our_kid(token: str) -> str:
    return resign(token, header={"jwk": ATTACKER_JWK}, sign=attacker_sign)


def injected_jku_header(token: str) -> str:
    return resign(
        token, header={"jku": "https://attacker.example/jwks.json", "kid": ATTACKER_KID}, sign=attacker_sign
    )


def injected_x5u_header(token: str) -> str:
    return resign(token, header={"x5u": "https://attacker.example/cert.pem"}, sign=attacker_sign)


def wrong_aud(token: str) -> str:
    return resign(token, aud="another-api")


def aud_list_without_ours(token: str) -> str:
    return resign(token, aud=["another-api", "third-api"])


def missing_aud(token: str) -> str:
    return resign(token, aud=None)


def wrong_iss(token: str) -> str:
    return resign(token, iss="https://attacker.example")


def missing_iss(token: str) -> str:
    return resign(token, iss=None)


def nbf_in_future(token: str) -> str:
    return resign(token, nbf=int(datetime.now(tz=UTC).timestamp()) + 3600)


def iat_in_future(token: str) -> str:
    return resign(token, iat=int(datetime.now(tz=UTC).timestamp()) + 3600)


def exp_in_past(token: str) -> str:
    now = int(datetime.now(tz=UTC).timestamp())
    return resign(token, iat=now - 7200, exp=now - 3600)


def two_segments(token: str) -> str:
    return ".".join(token.split(".")[:2])


def four_segments(token: str) -> str:
    return token + "." + token.split(".")[2]


def huge_token(token: str) -> str:
    # 16 KB, well-formed, signed by an attacker key.
    return resign(token, header={"kid": ATTACKER_KID}, sign=attacker_sign, pad="A" * 16 * 1024)


# Time claims that are not a NumericDate in range (RFC 7519 §2, §4.1.4): each
# is signed by the project's own key, so only the claim check can refuse it.
BAD_NUMERIC_DATES = {
    "1e300": 1e300,
    "string": "9999999999",
    "huge-int": 10**30,
    "after-9999": 253402300800,
    "negative": -1,
    "true": True,
    "false": False,
    "null": None,
    "infinity": float("inf"),
    "nan": float("nan"),
    "list": [1],
}


def bad_time_claim(claim: str, value) -> Callable[[str], str]:
    def attack(token: str) -> str:
        header, payload, _ = parts(token)
        return compact(header, {**payload, claim: value}, ring_sign)

    return attack


ATTACKS: dict[str, Callable[[str], str]] = {
    "alg-none": alg_none("none"),
    "alg-None": alg_none("None"),
    "alg-NONE": alg_none("NONE"),
    "alg-nOnE": alg_none("nOnE"),
    "alg-empty": alg_none(""),
    "stripped-signature": stripped_signature,
    "flipped-signature-byte": flipped_signature_byte,
    "tampered-claims": tampered_claims,
    "hs256-public-pem-as-secret": hs256_with_public_pem,
    "hs256-public-jwk-as-secret": hs256_with_public_jwk_x,
    "unknown-kid": unknown_kid,
    "injected-jwk": injected_jwk_header,
    "injected-jwk-our-kid": injected_jwk_header_with_our_kid,
    "injected-jku": injected_jku_header,
    "injected-x5u": injected_x5u_header,
    "wrong-aud": wrong_aud,
    "aud-list-without-ours": aud_list_without_ours,
    "missing-aud": missing_aud,
    "wrong-iss": wrong_iss,
    "missing-iss": missing_iss,
    "nbf-in-future": nbf_in_future,
    "iat-in-future": iat_in_future,
    "exp-in-past": exp_in_past,
    "two-segments": two_segments,
    "four-segments": four_segments,
    "16kb-token": huge_token,
    "16kb-garbage": lambda token: "A" * 16 * 1024,
    "non-base64-garbage": lambda token: "!!!.@@@.###",
    "non-base64-segments": lambda token: "e30.%%%%.$$$$",
    "non-json-header": lambda token: f"{b64(b'not json')}.{token.split('.', 1)[1]}",
    "json-array-header": lambda token: f"{b64(b'[1,2]')}.{token.split('.', 1)[1]}",
    "only-dots": lambda token: "..",
    **{
        f"{claim}-{label}": bad_time_claim(claim, value)
        for claim in ("exp", "iat", "nbf")
        for label, value in BAD_NUMERIC_DATES.items()
    },
}


# --- Where the tokens are presented -----------------------------------------


@pytest.fixture
def pair(api_client, user, password) -> dict[str, str]:
    response = api_client.post(TOKEN_URL, {"username": user.username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me(client, token: str):
    return client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {token}")


def me_cookie(client, token: str):
    """The same token in the HttpOnly ``access_token`` cookie (a GET needs no CSRF token)."""
    client.cookies[settings.JWT_ACCESS_COOKIE] = token
    try:
        return client.get(ME_URL)
    finally:
        del client.cookies[settings.JWT_ACCESS_COOKIE]


def verify(client, token: str):
    return client.post(VERIFY_URL, {"token": token}, format="json")


def refresh(client, token: str):
    return client.post(REFRESH_URL, {"refresh": token}, format="json")


# (endpoint, which genuine token it takes)
TARGETS = {
    "me": (me, "access"),
    "me-cookie": (me_cookie, "access"),
    "verify": (verify, "access"),
    "refresh": (refresh, "refresh"),
}


def assert_refused(response) -> None:
    """401, JSON with a non-empty detail and code, and no token in the body."""
    assert response.status_code == 401, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert isinstance(body.get("code"), str) and body["code"]
    assert "access" not in body and "refresh" not in body


@pytest.mark.parametrize("target", TARGETS)
def test_genuine_tokens_are_accepted(api_client, pair, target):
    """Positive control for every attack below."""
    call, kind = TARGETS[target]
    response = call(api_client, pair[kind])
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("target", TARGETS)
def test_attack_is_refused_with_401_json(api_client, pair, target, attack):
    call, kind = TARGETS[target]
    forged = ATTACKS[attack](pair[kind])
    assert_refused(call(api_client, forged))


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_is_refused_by_the_token_classes(pair, attack):
    """The same attacks against the token classes, below any view."""
    from api.tokens import AccessToken, RefreshToken

    for cls, kind in ((AccessToken, "access"), (RefreshToken, "refresh")):
        with pytest.raises(TokenError):
            cls(ATTACKS[attack](pair[kind]))


def test_attack_results_are_not_cached_as_valid(api_client, pair):
    """A refused forgery does not poison anything: the genuine token still works afterwards."""
    for attack in ATTACKS.values():
        me(api_client, attack(pair["access"]))
    assert me(api_client, pair["access"]).status_code == 200


# --- Token type confusion ------------------------------------------------------


def test_refresh_token_is_not_an_access_token(api_client, pair):
    response = me(api_client, pair["refresh"])
    assert_refused(response)


def test_access_token_is_not_a_refresh_token(api_client, pair):
    response = refresh(api_client, pair["access"])
    assert_refused(response)


def test_retyped_token_signed_again_is_still_checked_against_its_class(api_client, pair):
    """An access token relabelled as refresh (validly signed) has no outstanding row: refused."""
    relabelled = resign(pair["access"], token_type="refresh")
    assert_refused(refresh(api_client, relabelled))


# --- Controlled clock (the clock fixture, tests/conftest.py): expiry and not-yet-valid ---


def _leeway() -> timedelta:
    return keyring.token_backend().get_leeway()


def test_access_token_expires_after_lifetime_plus_small_leeway(api_client, user, password, clock):
    start = timezone.now()  # frozen by the clock fixture
    response = api_client.post(
        TOKEN_URL, {"username": user.username, "password": password}, format="json"
    )
    access = response.json()["access"]
    exp = start + api_settings.ACCESS_TOKEN_LIFETIME

    clock.move_to(exp + _leeway() - timedelta(seconds=2))  # inside the leeway: still accepted
    assert me(api_client, access).status_code == 200
    assert verify(api_client, access).status_code == 200

    clock.move_to(exp + _leeway() + timedelta(seconds=2))
    assert_refused(me(api_client, access))
    assert_refused(verify(api_client, access))
    # Expiry has its own code: the client learns that a refresh helps.
    assert me(api_client, access).json()["code"] == "token_expired"
    assert verify(api_client, access).json()["code"] == "token_expired"


def test_refresh_token_expires(api_client, user, password, clock):
    start = timezone.now()  # frozen by the clock fixture
    response = api_client.post(
        TOKEN_URL, {"username": user.username, "password": password}, format="json"
    )
    clock.move_to(start + api_settings.REFRESH_TOKEN_LIFETIME + _leeway() + timedelta(seconds=2))
    assert_refused(refresh(api_client, response.json()["refresh"]))


def test_token_issued_in_the_future_is_not_yet_valid(api_client, user, password, clock):
    start = timezone.now()  # frozen by the clock fixture
    # Minted by a server whose clock runs an hour ahead: iat (and exp) lie in our future.
    clock.move_to(start + timedelta(hours=1))
    response = api_client.post(
        TOKEN_URL, {"username": user.username, "password": password}, format="json"
    )
    future_pair = response.json()
    clock.move_to(start)
    assert_refused(me(api_client, future_pair["access"]))
    assert_refused(verify(api_client, future_pair["access"]))
    assert_refused(refresh(api_client, future_pair["refresh"]))


def test_not_before_is_honoured_with_the_leeway(api_client, pair, clock):
    start = timezone.now()  # frozen by the clock fixture
    nbf = int(start.timestamp()) + 60
    token = resign(pair["access"], nbf=nbf)
    assert_refused(me(api_client, token))
    clock.move_to(datetime.fromtimestamp(nbf, tz=UTC) + timedelta(seconds=1))
    assert me(api_client, token).status_code == 200


# --- The Authorization header itself ------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        " ",
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Basic YWxpY2U6c2VjcmV0",
        "Token abc",
        "Bearer\tabc",
        "Bearer " + "A" * 16 * 1024,
        # What a WSGI server makes of UTF-8 bytes in a header (latin-1 decoded).
        "Bearer " + "ü.ö.ä".encode().decode("latin-1"),
        "Bearer \x00\x01\x02",
    ],
)
def test_malformed_authorization_headers_get_401_json(api_client, authorization):
    assert_refused(api_client.get(ME_URL, HTTP_AUTHORIZATION=authorization))


def test_lowercase_bearer_scheme_is_refused(api_client, pair):
    """Decision: only ``Bearer`` (SimpleJWT's AUTH_HEADER_TYPES) is a JWT scheme; ``bearer`` gets 401 JSON.

    RFC 9110 §11.1 makes schemes case-insensitive; the project keeps one exact
    spelling, documented in docs/jwt-keys.md. What matters here: never a 5xx,
    never authenticated by accident.
    """
    response = api_client.get(ME_URL, HTTP_AUTHORIZATION=f"bearer {pair['access']}")
    assert_refused(response)
    assert api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {pair['access']}").status_code == 200


@pytest.mark.parametrize("target", ["verify", "refresh"])
def test_empty_token_in_the_body_is_a_400_json(api_client, target):
    call, _ = TARGETS[target]
    response = call(api_client, "")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_no_authorization_header_is_401_json(api_client):
    assert_refused(api_client.get(ME_URL))


def test_fractional_numeric_dates_are_accepted(api_client, pair):
    """RFC 7519 §2 allows a non-integer NumericDate: the range check is not an integer check."""
    _, payload, _ = parts(pair["access"])
    token = resign(
        pair["access"], iat=payload["iat"] - 0.5, nbf=payload["iat"] - 0.25, exp=payload["exp"] - 0.5
    )
    assert me(api_client, token).status_code == 200
    assert verify(api_client, token).status_code == 200


@pytest.mark.parametrize("label", ["1e300", "string"])
def test_the_reported_exp_values_get_401_token_not_valid(api_client, pair, label):
    token = bad_time_claim("exp", BAD_NUMERIC_DATES[label])(pair["access"])
    for response in (me(api_client, token), verify(api_client, token)):
        assert_refused(response)
        assert response.json()["code"] == "token_not_valid"
