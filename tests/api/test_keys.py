"""The key ring and its token backend: kid, previous keys, algorithm pinning, rotation command."""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from api import jwk, keyring
from tests.api.helpers import ME_URL, REFRESH_URL, TOKEN_URL


def _private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _ring_settings(settings, private_key, *, extra=(), algorithm="EdDSA"):
    """Point the project at ``private_key`` (signing) and ``extra`` public keys."""
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": algorithm,
        "SIGNING_KEY": _private_pem(private_key),
    }
    settings.JWT_EXTRA_PUBLIC_KEYS = "".join(jwk.public_key_pem(k.public_key()) for k in extra)


class KeyedAccessToken(AccessToken):
    """SimpleJWT's access token on the project's backend (as api.tokens does)."""

    def get_token_backend(self):
        return keyring.token_backend()


def _claims(**overrides):
    now = int(datetime.now(tz=UTC).timestamp())
    return {"token_type": "access", "user_id": "1", "jti": "j1", "iat": now, "exp": now + 300, **overrides}


# --- RFC 7638 thumbprints (the kid) ----------------------------------------


def test_thumbprint_matches_rfc_7638_example():
    # RFC 7638 §3.1: the example RSA key and its thumbprint.
    rfc_jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
            "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
            "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2Nc"
            "Rwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk.jwk_thumbprint(rfc_jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_thumbprint_matches_rfc_8037_ed25519_example():
    # RFC 8037 Appendix A.2/A.3: the Ed25519 public key and its thumbprint.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    public = ed25519.Ed25519PublicKey.from_public_bytes(jwt.utils.base64url_decode(x))
    assert jwk.public_key_jwk(public) == {"kty": "OKP", "crv": "Ed25519", "x": x}
    assert jwk.public_key_kid(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


# --- Signing ----------------------------------------------------------------


def test_every_token_carries_the_signing_kid_and_the_configured_algorithm():
    token = str(KeyedAccessToken())
    header = jwt.get_unverified_header(token)
    ring = keyring.key_ring()
    assert header == {"alg": "EdDSA", "kid": ring.signing_kid, "typ": "JWT"}
    assert ring.signing_kid == jwk.public_key_kid(ring.signing_key.public_key())


def test_token_carries_iss_aud_jti_iat_and_verifies():
    token = KeyedAccessToken()
    payload = keyring.token_backend().decode(str(token))
    assert payload["iss"] == api_settings.ISSUER == "authdemo"
    assert payload["aud"] == api_settings.AUDIENCE == "authdemo-api"
    assert payload["jti"] and payload["iat"] <= payload["exp"]
    assert payload["token_type"] == "access"


def test_leeway_is_small():
    assert timedelta(0) < keyring.token_backend().get_leeway() <= timedelta(seconds=30)


@pytest.mark.parametrize("missing", ["exp", "iat", "jti"])
def test_a_token_without_a_required_claim_is_refused(missing):
    claims = _claims()
    del claims[missing]
    token = keyring.token_backend().encode(claims)
    with pytest.raises(TokenBackendError):
        keyring.token_backend().decode(token)


def test_a_token_without_iss_or_aud_is_refused():
    ring = keyring.key_ring()
    for drop in ("iss", "aud"):
        claims = {**_claims(), "iss": "authdemo", "aud": "authdemo-api"}
        del claims[drop]
        token = jwt.encode(claims, ring.signing_key, algorithm="EdDSA", headers={"kid": ring.signing_kid})
        with pytest.raises(TokenBackendError):
            keyring.token_backend().decode(token)


# --- Key ring: previous keys, unknown kid, rebuild on settings change ------


def test_rotation_logs_nobody_out_and_retirement_does(settings):
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    _ring_settings(settings, old)
    old_token = str(KeyedAccessToken())

    _ring_settings(settings, new, extra=[old])
    new_token = str(KeyedAccessToken())
    assert jwt.get_unverified_header(new_token)["kid"] == jwk.public_key_kid(new.public_key())
    # Both verify: the old token through the previous key of the ring.
    assert KeyedAccessToken(old_token)["jti"]
    assert KeyedAccessToken(new_token)["jti"]

    _ring_settings(settings, new)  # old key retired
    with pytest.raises(TokenError):
        KeyedAccessToken(old_token)
    assert KeyedAccessToken(new_token)["jti"]


def test_token_backend_is_cached_and_rebuilt_when_settings_change():
    first = keyring.token_backend()
    assert keyring.token_backend() is first
    other = ed25519.Ed25519PrivateKey.generate()
    with override_settings(JWT_EXTRA_PUBLIC_KEYS=jwk.public_key_pem(other.public_key())):
        rebuilt = keyring.token_backend()
        assert rebuilt is not first
        assert jwk.public_key_kid(other.public_key()) in rebuilt.key_ring.verifying_keys
    assert jwk.public_key_kid(other.public_key()) not in keyring.token_backend().key_ring.verifying_keys


def test_unknown_kid_is_refused_even_with_a_valid_signature_by_a_ring_key():
    ring = keyring.key_ring()
    token = jwt.encode(
        {**_claims(), "iss": "authdemo", "aud": "authdemo-api"},
        ring.signing_key,
        algorithm="EdDSA",
        headers={"kid": "not-a-known-kid"},
    )
    with pytest.raises(TokenBackendError):
        keyring.token_backend().decode(token)


@pytest.mark.parametrize("kid", [None, 7, ["x"], {"a": 1}, ""])
def test_missing_or_non_string_kid_is_refused(kid):
    ring = keyring.key_ring()
    header = {"alg": "EdDSA", "typ": "JWT"} if kid is None else {"alg": "EdDSA", "kid": kid}
    # Signed by hand: PyJWT refuses to encode a non-string kid.
    signing_input = b".".join(
        jwt.utils.base64url_encode(json.dumps(part).encode())
        for part in (header, {**_claims(), "iss": "authdemo", "aud": "authdemo-api"})
    )
    token = (signing_input + b"." + jwt.utils.base64url_encode(ring.signing_key.sign(signing_input))).decode()
    with pytest.raises(TokenBackendError):
        keyring.token_backend().decode(token)


def test_rs256_ring_signs_and_verifies(settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _ring_settings(settings, key, algorithm="RS256")
    token = str(KeyedAccessToken())
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert KeyedAccessToken(token)["token_type"] == "access"
    jwks = keyring.jwks_document()
    assert jwks["keys"][0]["kty"] == "RSA" and jwks["keys"][0]["alg"] == "RS256"


@pytest.mark.parametrize("algorithm", ["HS256", "HS512", "none", "ES256", "RS384"])
def test_symmetric_and_unlisted_algorithms_are_refused_at_configuration(settings, algorithm):
    _ring_settings(settings, ed25519.Ed25519PrivateKey.generate(), algorithm=algorithm)
    with pytest.raises(ImproperlyConfigured):
        keyring.token_backend()


def test_key_type_must_match_the_algorithm(settings):
    _ring_settings(
        settings, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="EdDSA"
    )
    with pytest.raises(ImproperlyConfigured, match="Ed25519"):
        keyring.token_backend()
    ed = ed25519.Ed25519PrivateKey.generate()
    _ring_settings(settings, ed, extra=[rsa.generate_private_key(public_exponent=65537, key_size=2048)])
    with pytest.raises(ImproperlyConfigured):
        keyring.token_backend()


def test_short_rsa_keys_are_refused(settings):
    _ring_settings(
        settings, rsa.generate_private_key(public_exponent=65537, key_size=1024), algorithm="RS256"
    )
    with pytest.raises(ImproperlyConfigured, match="2048"):
        keyring.token_backend()


def test_unreadable_signing_key_is_a_configuration_error(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "not a pem"}
    with pytest.raises(ImproperlyConfigured):
        keyring.token_backend()


def test_public_keys_load_reads_a_bundle_and_ignores_text_around_blocks():
    a, b = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    pem_a, pem_b = jwk.public_key_pem(a.public_key()), jwk.public_key_pem(b.public_key())
    bundle = f"# retired 2026-01-01\n{pem_a}\nnotes\n{pem_b}"
    loaded = jwk.public_keys_load(pem_bundle=bundle)
    assert [jwk.public_key_kid(k) for k in loaded] == [
        jwk.public_key_kid(a.public_key()),
        jwk.public_key_kid(b.public_key()),
    ]
    assert jwk.public_keys_load(pem_bundle="") == []


# --- Keys from the environment (api/conf.py) ----------------------------------


def test_keys_come_from_the_declared_text_or_file(settings, tmp_path):
    from api.conf import signing_keys_read

    pem = _private_pem(ed25519.Ed25519PrivateKey.generate())
    extra = jwk.public_key_pem(ed25519.Ed25519PrivateKey.generate().public_key())
    settings.JWT_KEYS_SOURCE = "environment"
    settings.JWT_PRIVATE_KEY, settings.JWT_PRIVATE_KEY_FILE = pem, ""
    settings.JWT_EXTRA_PUBLIC_KEYS, settings.JWT_EXTRA_PUBLIC_KEYS_FILE = extra, ""
    assert signing_keys_read() == (pem, extra)

    (tmp_path / "key.pem").write_text(pem)
    (tmp_path / "extra.pem").write_text(extra)
    settings.JWT_PRIVATE_KEY, settings.JWT_PRIVATE_KEY_FILE = "", str(tmp_path / "key.pem")
    settings.JWT_EXTRA_PUBLIC_KEYS, settings.JWT_EXTRA_PUBLIC_KEYS_FILE = "", str(tmp_path / "extra.pem")
    assert signing_keys_read() == (pem, extra)

    settings.JWT_PRIVATE_KEY_FILE = str(tmp_path / "absent.pem")
    with pytest.raises(OSError):
        signing_keys_read()


def test_keys_of_the_embedded_default_come_from_the_key_files(settings, tmp_path):
    from api.conf import signing_keys_read

    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "var", tmp_path / "jwt"
    assert signing_keys_read() == ("", "")  # init_secrets has not run: nothing, and nothing written
    assert not (tmp_path / "jwt").exists()
    jwk.signing_key_rotate(keys_dir=tmp_path / "jwt", algorithm="EdDSA", retire_after=timedelta(days=1))
    jwk.signing_key_stage(keys_dir=tmp_path / "jwt", algorithm="EdDSA")
    private, extra = signing_keys_read()
    assert private == (tmp_path / "jwt" / "signing_key.pem").read_text()
    # The staged next key is published (its public half) before it signs.
    staged = jwk.private_key_load((tmp_path / "jwt" / "next_signing_key.pem").read_bytes())
    assert extra == jwk.public_key_pem(staged.public_key())


def test_escaped_newlines_of_a_one_line_env_file_are_accepted(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    pem = _private_pem(ed25519.Ed25519PrivateKey.generate())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_", "AUTHDEMO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="authdemo.settings",
        AUTHDEMO_VAR_DIR=str(tmp_path),
        DJANGO_SECRET_KEY="k" * 60,
        JWT_PRIVATE_KEY=pem.replace("\n", "\\n"),
    )
    script = "from api import keyring; print(keyring.key_ring().signing_kid)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == jwk.public_key_kid(jwk.private_key_load(pem).public_key())
    assert list(tmp_path.iterdir()) == []  # keys from the environment: nothing written


# --- jwt_rotate_key ------------------------------------------------------------


def _run(*args) -> str:
    out = io.StringIO()
    call_command("jwt_rotate_key", *args, stdout=out)
    return out.getvalue()


def _ring_from_dir(keys_dir):
    """Return the ring that the api app builds from ``keys_dir`` at the next start (api/conf.py)."""
    return keyring.KeyRing.from_pem(
        algorithm="EdDSA",
        private_pem=jwk.key_files(keys_dir).signing.read_text(),
        extra_public_pem=jwk.key_files_extra_public_pem(keys_dir),
    )


def test_rotate_command_keeps_old_key_verifying(settings, tmp_path):
    keys_dir = tmp_path / "jwt"
    keys_dir.mkdir()
    (keys_dir / "signing_key.pem").write_text(_private_pem(ed25519.Ed25519PrivateKey.generate()))
    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "var", keys_dir
    before = _ring_from_dir(keys_dir)

    output = _run()

    after = _ring_from_dir(keys_dir)
    assert after.signing_kid != before.signing_kid
    assert before.signing_kid in after.verifying_keys  # nobody logged out
    assert f"Now signing with a new key {after.signing_kid}" in output
    assert before.signing_kid in output
    assert stat.S_IMODE((keys_dir / "signing_key.pem").stat().st_mode) == 0o600
    assert list(keys_dir.glob(".*tmp")) == []


def test_staged_rotation_publishes_first_then_signs(settings, tmp_path):
    keys_dir = tmp_path / "jwt"
    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "var", keys_dir
    keys_dir.mkdir()
    (keys_dir / "signing_key.pem").write_text(_private_pem(ed25519.Ed25519PrivateKey.generate()))
    current = _ring_from_dir(keys_dir).signing_kid

    output = _run("--stage")
    staged = _ring_from_dir(keys_dir)
    assert staged.signing_kid == current  # still signing with the current key
    (next_kid,) = set(staged.verifying_keys) - {current}  # but the next one is published
    assert next_kid in output
    assert "Already staged" in _run("--stage")  # idempotent

    output = _run()
    rotated = _ring_from_dir(keys_dir)
    assert rotated.signing_kid == next_kid
    assert current in rotated.verifying_keys
    assert "staged next key" in output
    assert not (keys_dir / "next_signing_key.pem").exists()


def test_rotation_retires_previous_keys_after_the_refresh_lifetime(tmp_path):
    keys_dir = tmp_path / "jwt"
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    first = jwk.signing_key_rotate(
        keys_dir=keys_dir, algorithm="EdDSA", retire_after=timedelta(days=1), now=t0
    )
    assert first.old_kid is None  # no key yet: the first one is created
    second = jwk.signing_key_rotate(
        keys_dir=keys_dir, algorithm="EdDSA", retire_after=timedelta(days=1), now=t0 + timedelta(hours=1)
    )
    assert second.old_kid == first.new_kid and second.retired_kids == []
    third = jwk.signing_key_rotate(
        keys_dir=keys_dir, algorithm="EdDSA", retire_after=timedelta(days=1), now=t0 + timedelta(days=2)
    )
    assert third.retired_kids == [first.new_kid]
    assert set(_ring_from_dir(keys_dir).verifying_keys) == {second.new_kid, third.new_kid}


def test_rotate_command_with_environment_keys_prints_a_key_and_never_writes(settings, tmp_path):
    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "environment", tmp_path / "jwt"
    output = _run()
    assert "-----BEGIN PRIVATE KEY-----" in output and "-----BEGIN PUBLIC KEY-----" in output
    assert "JWT_EXTRA_PUBLIC_KEYS" in output and keyring.key_ring().signing_kid in output
    assert not (tmp_path / "jwt").exists()


def test_rotate_command_with_environment_keys_writes_private_key_file_only_when_new(settings, tmp_path):
    settings.JWT_KEYS_SOURCE = "environment"
    out = tmp_path / "new.pem"
    output = _run("--private-key-out", str(out))
    assert "BEGIN PRIVATE KEY" not in output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    kid = jwk.public_key_kid(serialization.load_pem_private_key(out.read_bytes(), None).public_key())
    assert kid in output
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        _run("--private-key-out", str(out))


@pytest.mark.django_db
def test_rotation_logs_nobody_out_through_the_endpoints(api_client, user, password, settings):
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    _ring_settings(settings, old)
    pair = api_client.post(TOKEN_URL, {"username": user.username, "password": password}, format="json").json()

    _ring_settings(settings, new, extra=[old])  # rotated: new key signs, old one verifies
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {pair['access']}"}
    assert api_client.get(ME_URL, **bearer).status_code == 200
    response = api_client.post(REFRESH_URL, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 200
    new_kid = jwk.public_key_kid(new.public_key())
    assert jwt.get_unverified_header(response.json()["access"])["kid"] == new_kid
    assert jwt.get_unverified_header(response.json()["refresh"])["kid"] == new_kid

    _ring_settings(settings, new)  # old key retired: its tokens no longer verify
    response = api_client.get(ME_URL, **bearer)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_without_a_readable_key_the_ring_refuses_instead_of_using_another(settings, tmp_path):
    """A missing key file installs an empty key: no token is signed with SimpleJWT's default (SECRET_KEY)."""
    from api.conf import signing_keys_install

    settings.SIMPLE_JWT = {key: value for key, value in settings.SIMPLE_JWT.items() if key != "SIGNING_KEY"}
    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "var", tmp_path / "jwt"
    signing_keys_install()
    assert settings.SIMPLE_JWT["SIGNING_KEY"] == "" and settings.JWT_EXTRA_PUBLIC_KEYS == ""
    keyring.key_ring.cache_clear()
    keyring.token_backend.cache_clear()
    with pytest.raises(ImproperlyConfigured):
        keyring.token_backend()
    assert not (tmp_path / "jwt").exists()
