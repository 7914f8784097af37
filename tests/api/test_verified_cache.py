"""The per-process cache of verified access tokens (api/keyring.py, docs/jwt.md).

A token seen before skips parsing and the signature check, and nothing else:
its time window is checked on every use with PyJWT's clock and leeway, a key
leaving the ring ends it, failures and refresh tokens are never kept, callers
get their own copy of the claims, and revocation stays a per-request check.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenBackendError, TokenError

from accounts.services import user_revoke_all
from api import jwk, keyring
from api.tokens import AccessToken, RefreshToken, UntypedToken
from tests.api.helpers import (
    COOKIE_LOGOUT_URL,
    LOGOUT_ALL_URL,
    ME_URL,
    REFRESH_URL,
    REVOKE_URL,
    VERIFY_URL,
    assert_error,
    csrf_header,
)
from tests.api.test_keys import _private_pem, _ring_settings

pytestmark = pytest.mark.django_db


def _access(**claims) -> str:
    """Return a genuine access token (no database: the family claim is set by hand)."""
    token = AccessToken()
    token["user_id"] = "1"
    token["fam"] = str(uuid.uuid4())
    for name, value in claims.items():
        token[name] = value
    return str(token)


def _cached(raw: str | bytes) -> keyring.VerifiedToken | None:
    return keyring.token_backend().verified.get(keyring.token_digest(raw))


@pytest.fixture
def full_verifications(monkeypatch):
    """Count PyJWT's full decodes (signature check included) made by the key ring backend."""
    calls: list[object] = []
    real_decode = jwt.decode

    def counting(token, *args, **kwargs):
        if kwargs.get("options", {}).get("verify_signature", True):
            calls.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(keyring.jwt, "decode", counting)
    return calls


def _outcome(raw: str) -> tuple:
    """Return what AccessToken(raw) gives: "ok", or the chain of (exception class, message)."""
    try:
        AccessToken(raw)
    except TokenError as exc:
        chain, error = [], exc
        while error is not None:
            chain.append((type(error).__name__, str(error)))
            error = error.__cause__
        return tuple(chain)
    return ("ok",)


# --- What is skipped, what is kept ------------------------------------------


def test_a_token_seen_again_skips_the_signature_check(full_verifications):
    raw = _access()
    first = AccessToken(raw)
    assert full_verifications == [raw]
    second = AccessToken(raw)
    assert full_verifications == [raw]  # no second parse or signature check
    assert second.payload == first.payload
    assert _cached(raw).kid == keyring.key_ring().signing_kid


def test_bearer_and_cookie_requests_use_the_cache(user, obtain, bearer, cookie_login, full_verifications):
    access = obtain(user)["access"]
    client = bearer(access)
    assert client.get(ME_URL).json()["auth"] == "jwt-bearer"
    assert client.get(ME_URL).json()["auth"] == "jwt-bearer"
    cookie_client = cookie_login(user)
    assert cookie_client.get(ME_URL).json()["auth"] == "jwt-cookie"
    assert cookie_client.get(ME_URL).json()["auth"] == "jwt-cookie"
    # One full verification per distinct token, whichever the transport.
    assert len(full_verifications) == 2
    assert _cached(access.encode()) is not None
    assert _cached(cookie_client.cookies[settings.JWT_ACCESS_COOKIE].value.encode()) is not None


def test_the_cache_holds_digests_not_tokens_and_shares_the_strings_every_token_carries(full_verifications):
    one, two = _access(amr=["pwd"]), _access(amr=["pwd"])
    AccessToken(one)
    AccessToken(two.encode())  # as the bearer header gives it
    AccessToken(two)  # the same token as a string: the same entry
    assert full_verifications == [one, two.encode()]
    entries = keyring.token_backend().verified.entries
    assert set(entries) == {hashlib.sha256(one.encode()).digest(), hashlib.sha256(two.encode()).digest()}
    first, second = (entries[keyring.token_digest(raw)].claims for raw in (one, two))
    assert first["jti"] != second["jti"]
    for name in ("token_type", "iss", "aud"):
        assert first[name] is second[name]
    assert first["amr"][0] is second["amr"][0]
    assert AccessToken(two)["amr"] == ["pwd"]  # still a list for the caller


@pytest.mark.parametrize("bad", ["\ud800abc", "a.b.\udfff", b"\xff\xfe.x.y", "", b""])
def test_a_malformed_token_is_refused_before_and_after_the_cache_lookup(bad):
    # The cache's key is computed from any input, surrogates and non-UTF-8 bytes included.
    assert _cached(bad) is None
    with pytest.raises(TokenError):
        AccessToken(bad)
    assert len(keyring.token_backend().verified) == 0


def test_the_cache_can_be_turned_off(settings, full_verifications):
    settings.JWT_VERIFIED_CACHE_SIZE = 0
    raw = _access()
    AccessToken(raw)
    AccessToken(raw)
    assert len(full_verifications) == 2
    assert len(keyring.token_backend().verified) == 0


def test_token_type_is_still_checked_for_a_cached_token():
    raw = _access()
    AccessToken(raw)
    assert _cached(raw) is not None
    # The same cached access token, read as a refresh token: SimpleJWT's type check
    # runs on every use (RFC 8725 §3.11).
    with pytest.raises(TokenError, match="wrong type"):
        RefreshToken(raw)


# --- Time: expiry, not-before, issued-at, on every use ----------------------


def test_a_cached_token_past_exp_is_refused_with_token_expired(user, obtain, bearer, cookie_login, clock):
    start = timezone.now()  # frozen by the clock fixture
    access = obtain(user)["access"]
    cookie_client = cookie_login(user)
    leeway = keyring.token_backend().get_leeway()
    exp = start + jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME

    clock.move_to(exp + leeway - timedelta(seconds=1))
    assert bearer(access).get(ME_URL).status_code == 200
    assert cookie_client.get(ME_URL).status_code == 200
    assert _cached(access.encode()) is not None

    clock.move_to(exp + leeway + timedelta(seconds=1))
    assert_error(bearer(access).get(ME_URL), 401, "token_expired")
    assert_error(cookie_client.get(ME_URL), 401, "token_expired")
    assert_error(APIClient().post(VERIFY_URL, {"token": access}, format="json"), 401, "token_expired")
    assert _cached(access.encode()) is None  # an expired token is forgotten, never kept


# Seconds from the token's exp (or, with "iat", from its iat) at which it is presented again.
CLOCK_CASES = [
    ("exp", -60, "ok"),
    ("exp", 4, "ok"),  # inside the leeway (5 s)
    ("exp", 5, "expired"),  # exp + leeway exactly: expired, as PyJWT decides
    ("exp", 6, "expired"),
    ("exp", 3600, "expired"),
    ("iat", -5, "ok"),  # clock set back, still within the leeway
    ("iat", -6, "invalid"),  # clock set back beyond it: not yet valid
]


@pytest.mark.parametrize(("anchor", "offset", "expected"), CLOCK_CASES)
def test_a_cached_token_gives_exactly_the_verdict_and_error_of_a_full_verification(
    settings, clock, anchor, offset, expected
):
    start = timezone.now()  # frozen by the clock fixture
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "LEEWAY": 5}
    clock.move_to(start)
    raw = _access()
    AccessToken(raw)
    assert _cached(raw) is not None
    lifetime = jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME
    seen = start + (lifetime if anchor == "exp" else timedelta(0))

    clock.move_to(seen + timedelta(seconds=offset))
    cached = _outcome(raw)
    with override_settings(JWT_VERIFIED_CACHE_SIZE=0):
        uncached = _outcome(raw)
    assert cached == uncached
    if expected == "ok":
        assert cached == ("ok",)
    elif expected == "expired":
        assert cached[0] == (ExpiredTokenError.__name__, "Token is expired")
    else:
        assert cached[0] == (TokenError.__name__, "Token is invalid")


def test_not_before_is_rechecked_for_a_cached_token(clock):
    start = timezone.now()  # frozen by the clock fixture
    nbf = int(start.timestamp()) + 2  # later than iat, within the leeway: accepted now
    raw = _access(nbf=nbf)
    AccessToken(raw)
    assert _cached(raw).valid_from == nbf  # the later of iat and nbf
    clock.move_to(start - timedelta(seconds=4))  # set back: iat still passes, nbf no longer does
    assert _outcome(raw)[0] == (TokenError.__name__, "Token is invalid")
    clock.move_to(start)
    assert _outcome(raw) == ("ok",)


# --- Keys: rotation and retirement ------------------------------------------


def test_a_cached_token_of_a_retired_key_is_refused(settings):
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    _ring_settings(settings, old)
    old_token = _access()
    _ring_settings(settings, new, extra=[old])  # rotated: the old key still verifies
    AccessToken(old_token)
    assert _cached(old_token).kid == jwk.public_key_kid(old.public_key())

    _ring_settings(settings, new)  # retired
    assert len(keyring.token_backend().verified) == 0  # a new ring, a new (empty) cache
    with pytest.raises(TokenError, match="Token is invalid"):
        AccessToken(old_token)


def test_a_cached_token_whose_key_left_the_ring_is_refused():
    """Belt and braces: every use checks that the ring still holds the very key that verified it."""
    signer = ed25519.Ed25519PrivateKey.generate()
    ring = keyring.KeyRing.from_pem(algorithm="EdDSA", private_pem=_private_pem(signer))
    backend = keyring.KeyRingTokenBackend(
        key_ring=ring, audience="authdemo-api", issuer="authdemo", leeway=5, verified_cache_size=8
    )
    raw = backend.encode(
        {"token_type": "access", "jti": "j", "iat": _now(), "exp": _now() + 300, "user_id": "1"}
    )
    assert backend.decode(raw)["jti"] == "j"
    assert len(backend.verified) == 1
    del ring.verifying_keys[ring.signing_kid]
    with pytest.raises(TokenBackendError):
        backend.decode(raw)
    assert len(backend.verified) == 0


def test_retirement_refuses_a_token_cached_by_a_request(api_client, user, obtain, settings):
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    _ring_settings(settings, old)
    access = obtain(user)["access"]
    _ring_settings(settings, new, extra=[old])
    assert api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    assert _cached(access.encode()) is not None

    _ring_settings(settings, new)
    response = api_client.get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert_error(response, 401, "token_not_valid")


# --- Only what passed every check is kept -----------------------------------


def _tampered(raw: str) -> list[str]:
    header, payload, signature = raw.split(".")
    middle = len(signature) // 2
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    other_payload = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return [
        f"{header}.{payload}.{flipped}",  # same header and claims, another signature
        f"{header}.{other_payload}.{signature}",  # claims changed, old signature
        raw + "A",  # the genuine token as a prefix
        raw + ".",
        raw[:-1],
        f"{header}.{payload}.",  # signature stripped
        f"{header}.{payload}",
    ]


def test_a_tampered_token_sharing_a_prefix_with_a_cached_one_is_refused(
    user, obtain, bearer, full_verifications
):
    raw = obtain(user)["access"]
    assert bearer(raw).get(ME_URL).status_code == 200
    assert _cached(raw.encode()) is not None
    before = len(keyring.token_backend().verified)
    for forged in _tampered(raw):
        full_verifications.clear()
        assert_error(bearer(forged).get(ME_URL), 401, "token_not_valid")
        with pytest.raises(TokenError):
            AccessToken(forged)
        assert _cached(forged) is None and _cached(forged.encode()) is None
        assert full_verifications  # verified in full, not answered from the genuine token's entry
    assert len(keyring.token_backend().verified) == before
    assert bearer(raw).get(ME_URL).status_code == 200


def test_failures_are_never_cached():
    expired = _access(exp=_now() - 3600)
    claims = {"token_type": "access", "jti": "j", "iat": _now(), "exp": _now() + 300, "iss": "authdemo"}
    wrong_audience = jwt.encode(
        {**claims, "aud": "other"},
        keyring.key_ring().signing_key,
        algorithm="EdDSA",
        headers={"kid": keyring.key_ring().signing_kid},
    )
    for raw in (expired, wrong_audience, "garbage", "a.b.c"):
        for _ in range(2):
            with pytest.raises(TokenError):
                AccessToken(raw)
    assert len(keyring.token_backend().verified) == 0


def test_refresh_tokens_are_never_cached(user, obtain, api_client):
    pair = obtain(user)
    RefreshToken(pair["refresh"])
    UntypedToken(pair["refresh"])
    assert _cached(pair["refresh"]) is None
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    token_types = {entry.claims["token_type"] for entry in keyring.token_backend().verified.values()}
    assert token_types <= {"access"}


def test_the_bound_holds_and_the_least_recently_used_goes_first(settings):
    settings.JWT_VERIFIED_CACHE_SIZE = 3
    tokens = [_access() for _ in range(5)]
    for raw in tokens[:3]:
        AccessToken(raw)
    AccessToken(tokens[0])  # now the most recently used
    for raw in tokens[3:]:
        AccessToken(raw)
    backend = keyring.token_backend()
    assert len(backend.verified) == 3
    assert _cached(tokens[1]) is None and _cached(tokens[2]) is None
    assert all(_cached(raw) is not None for raw in (tokens[0], tokens[3], tokens[4]))


# --- Callers get a copy -----------------------------------------------------


def test_mutating_the_claims_of_a_token_does_not_change_the_cache():
    raw = _access()
    first = AccessToken(raw)  # the miss: its payload must not be the cached one either
    first["user_id"] = "999"
    del first["jti"]
    second = AccessToken(raw)  # a hit
    assert second["user_id"] == "1" and "jti" in second
    second["fam"] = "changed"
    second.payload.clear()
    third = AccessToken(raw)
    assert third["user_id"] == "1" and third["fam"] != "changed" and "jti" in third
    with pytest.raises(TypeError):
        _cached(raw).claims["user_id"] = "999"  # read-only


def test_a_list_of_scalars_is_cached_and_given_back_as_a_new_list(full_verifications):
    raw = _access(amr=["pwd", "otp", "mfa"])
    AccessToken(raw)["amr"].append("hwk")
    assert AccessToken(raw)["amr"] == ["pwd", "otp", "mfa"]
    assert type(AccessToken(raw)["amr"]) is list
    assert len(full_verifications) == 1


def test_a_token_with_a_nested_claim_is_verified_every_time(full_verifications):
    raw = _access(roles=[{"name": "reader"}])
    AccessToken(raw)["roles"][0]["name"] = "admin"
    assert AccessToken(raw)["roles"] == [{"name": "reader"}]
    assert len(full_verifications) == 2
    assert _cached(raw) is None


# --- Revocation stays a per-request check -----------------------------------


def test_a_cached_token_is_refused_at_once_after_token_revoke(user, obtain, bearer):
    pair = obtain(user)
    client = bearer(pair["access"])
    assert client.get(ME_URL).status_code == 200
    assert _cached(pair["access"].encode()) is not None
    assert client.post(REVOKE_URL, {"refresh": pair["refresh"]}, format="json").status_code == 204
    assert_error(client.get(ME_URL), 401, "token_revoked")
    assert_error(APIClient().post(VERIFY_URL, {"token": pair["access"]}, format="json"), 401, "token_revoked")


def test_a_cached_token_is_refused_at_once_after_logout_all_and_user_revoke_all(user, obtain, bearer):
    first, second = obtain(user), obtain(user)
    assert bearer(first["access"]).get(ME_URL).status_code == 200
    assert bearer(second["access"]).get(ME_URL).status_code == 200
    assert bearer(first["access"]).post(LOGOUT_ALL_URL).status_code == 204
    assert_error(bearer(first["access"]).get(ME_URL), 401, "token_revoked")
    assert_error(bearer(second["access"]).get(ME_URL), 401, "token_revoked")

    third = obtain(user)
    assert bearer(third["access"]).get(ME_URL).status_code == 200
    assert _cached(third["access"].encode()) is not None
    user_revoke_all(user=user)
    assert_error(bearer(third["access"]).get(ME_URL), 401, "token_revoked")


def test_a_cached_cookie_token_is_refused_at_once_after_cookie_logout(user, cookie_login, bearer):
    client = cookie_login(user)
    access = client.cookies[settings.JWT_ACCESS_COOKIE].value
    assert client.get(ME_URL).status_code == 200
    assert _cached(access.encode()) is not None
    assert client.post(COOKIE_LOGOUT_URL, **csrf_header(client)).status_code == 204
    assert_error(bearer(access).get(ME_URL), 401, "token_revoked")


def test_a_cached_token_of_a_deactivated_user_is_refused(user, obtain, bearer):
    access = obtain(user)["access"]
    assert bearer(access).get(ME_URL).status_code == 200
    user.is_active = False
    user.save()
    assert_error(bearer(access).get(ME_URL), 401)


# --- Threads ----------------------------------------------------------------


def test_threads_share_the_cache_safely(settings):
    settings.JWT_VERIFIED_CACHE_SIZE = 8  # smaller than the set of tokens: constant eviction
    tokens = [_access() for _ in range(20)]
    jtis = {raw: AccessToken(raw)["jti"] for raw in tokens}
    by_digest = {keyring.token_digest(raw): jti for raw, jti in jtis.items()}
    forged = tokens[0][:-3] + "AAA"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(offset: int) -> None:
        try:
            start.wait()
            for i in range(300):
                raw = tokens[(i + offset) % len(tokens)]
                token = AccessToken(raw)
                assert token["jti"] == jtis[raw]
                token["jti"] = "mutated by a caller"
                if i % 50 == 0:
                    try:
                        AccessToken(forged)
                    except TokenError:
                        pass
                    else:
                        raise AssertionError("a forged token was accepted")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 3,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    backend = keyring.token_backend()
    assert 0 < len(backend.verified) <= 8
    for digest, entry in list(backend.verified.entries.items()):
        assert entry.claims["jti"] == by_digest[digest]


# --- helpers ----------------------------------------------------------------


def _now() -> int:
    return int(datetime.now(tz=UTC).timestamp())
