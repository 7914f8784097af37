"""The verifier's verified-token cache (verifier/verified.py): a repeat skips the signature, never a check."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.verifier.helpers import access_claims, sign
from verifier import app as verifier_app
from verifier.app import TokenRefused, VerifierApp
from verifier.config import Config
from verifier.jwks import JwksDocument, KeyCache, VerifyingKey
from verifier.verified import Verified, VerifiedTokens


class Site:
    """The JWKS as the site publishes it now, and a clock both the key cache and the verifier read."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.keys: dict[str, VerifyingKey] = {}

    def publish(self, kid: str) -> ed25519.Ed25519PrivateKey:
        private = ed25519.Ed25519PrivateKey.generate()
        self.keys[kid] = VerifyingKey(algorithm="EdDSA", key=private.public_key())
        return private

    def fetch(self, *, url: str, timeout: float) -> JwksDocument:
        return JwksDocument(keys=dict(self.keys), max_age=300)

    def verifier(self, **config) -> VerifierApp:
        keys = KeyCache(
            url="http://site/jwks", refetch_interval=0, min_ttl=30, max_ttl=3600, fetch=self.fetch,
            clock=lambda: self.now,
        )  # fmt: skip
        return VerifierApp(config=Config(**config), keys=keys, clock=lambda: self.now)


@pytest.fixture
def site():
    return Site()


@pytest.fixture
def decodes(monkeypatch):
    """Count the full signature checks."""
    calls = []
    real = verifier_app.jwt.decode

    def decode(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(verifier_app.jwt, "decode", decode)
    return calls


def _code(verifier: VerifierApp, token: str) -> str:
    with pytest.raises(TokenRefused) as refused:
        verifier.token_verify(token=token)
    return refused.value.code


def test_a_repeat_skips_the_signature_check_and_answers_alike(site, decodes):
    key = site.publish("k1")
    verifier = site.verifier()
    token = sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 300), kid="k1")
    first = verifier.token_verify(token=token)
    first[1]["user_id"] = "changed by a caller"
    assert verifier.token_verify(token=token) == (first[0], {**first[1], "user_id": "1"})
    assert len(decodes) == 1


def test_a_remembered_token_expires_as_any_other(site, decodes):
    key = site.publish("k1")
    verifier = site.verifier(leeway=5)
    token = sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 60), kid="k1")
    verifier.token_verify(token=token)
    site.now += 64
    verifier.token_verify(token=token)  # inside the leeway
    site.now += 1
    assert _code(verifier, token) == "token_expired"


def test_a_remembered_token_of_a_retired_key_is_refused(site):
    key = site.publish("k1")
    verifier = site.verifier()
    token = sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 300), kid="k1")
    verifier.token_verify(token=token)
    del site.keys["k1"]  # the site retires the key; the next fetch has no k1
    site.now += 300
    assert _code(verifier, token) == "unknown_kid"


def test_a_key_replaced_under_the_same_kid_checks_the_signature_again(site, decodes):
    key = site.publish("k1")
    verifier = site.verifier()
    token = sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 3000), kid="k1")
    verifier.token_verify(token=token)
    site.publish("k1")  # another key, same kid
    site.now += 300
    assert _code(verifier, token) == "token_not_valid"
    assert len(decodes) == 2


def test_a_remembered_token_with_one_byte_changed_is_checked_in_full(site, decodes):
    key = site.publish("k1")
    verifier = site.verifier()
    token = sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 300), kid="k1")
    verifier.token_verify(token=token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert _code(verifier, tampered) == "token_not_valid"
    assert decodes == [token, tampered]


def test_a_token_not_yet_valid_by_the_clock_is_not_served_from_memory(site, decodes):
    key = site.publish("k1")
    verifier = site.verifier(leeway=5)
    token = sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 300), kid="k1")
    verifier.token_verify(token=token)
    site.now -= 60  # the clock set back: the full check decides (PyJWT's iat rule)
    verifier.token_verify(token=token)
    assert decodes == [token, token]


def test_the_cache_is_bounded_and_can_be_turned_off(site, decodes):
    key = site.publish("k1")
    tokens = [
        sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 300 + n), kid="k1") for n in range(3)
    ]
    verifier = site.verifier(verified_cache_size=2)
    for token in tokens:
        verifier.token_verify(token=token)
    assert len(verifier.verified) == 2 and verifier.verified.get(tokens[0]) is None
    off = site.verifier(verified_cache_size=0)
    off.token_verify(token=tokens[0])
    off.token_verify(token=tokens[0])
    assert len(off.verified) == 0 and decodes.count(tokens[0]) == 3


def test_least_recently_used_leaves_first():
    cache = VerifiedTokens(maxsize=2)
    for name in ("a", "b"):
        cache.put(name, Verified(header={}, claims={}, key=None))
    cache.get("a")
    cache.put("c", Verified(header={}, claims={}, key=None))
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None


def test_the_cache_holds_digests_not_tokens(site, decodes):
    key = site.publish("k1")
    token = sign(key, access_claims(iat=int(site.now), exp=int(site.now) + 300), kid="k1")
    verifier = site.verifier()
    verifier.token_verify(token=token)
    assert verifier.verified.keys() == [hashlib.sha256(token.encode()).digest()]
    # The digest finds the entry: no second signature check.
    assert verifier.token_verify(token=token)[1]["user_id"] == "1" and decodes == [token]
