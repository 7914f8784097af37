"""System checks of the JWT settings (api/checks.py): each fires on bad configuration, none on good."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from api import jwk
from api.checks import jwt_settings_check


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def env_keys(settings):
    """Keys given as text, as JWT_PRIVATE_KEY and JWT_EXTRA_PUBLIC_KEYS would."""
    settings.JWT_KEYS_SOURCE = "environment"
    settings.JWT_PRIVATE_KEY = _pem(ed25519.Ed25519PrivateKey.generate())
    settings.JWT_EXTRA_PUBLIC_KEYS = jwk.public_key_pem(ed25519.Ed25519PrivateKey.generate().public_key())
    settings.JWT_PRIVATE_KEY_FILE = settings.JWT_EXTRA_PUBLIC_KEYS_FILE = ""
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": "EdDSA"}
    return settings


def _ids(errors) -> list[str]:
    return [error.id for error in errors]


def test_the_project_configuration_passes():
    assert jwt_settings_check(None) == []


def test_good_keys_from_the_environment_pass(env_keys):
    assert jwt_settings_check(None) == []


@pytest.mark.parametrize("algorithm", ["HS256", "none", "ES256", ""])
def test_an_algorithm_without_a_key_pair_is_refused(env_keys, algorithm):
    env_keys.SIMPLE_JWT = {**env_keys.SIMPLE_JWT, "ALGORITHM": algorithm}
    assert _ids(jwt_settings_check(None)) == ["api.E003"]


@pytest.mark.parametrize("name", ["JWT_PRIVATE_KEY", "JWT_EXTRA_PUBLIC_KEYS"])
def test_a_key_and_its_file_at_once_are_refused(env_keys, tmp_path, name):
    path = tmp_path / "key.pem"
    path.write_text(getattr(env_keys, name))
    setattr(env_keys, f"{name}_FILE", str(path))
    errors = jwt_settings_check(None)
    assert _ids(errors) == ["api.E004"]
    assert f"Set {name} or {name}_FILE, not both." == errors[0].msg


@pytest.mark.parametrize("grace", [-1, "5", 1.5])
def test_a_reuse_grace_that_is_not_whole_seconds_is_refused(settings, grace):
    settings.JWT_REFRESH_REUSE_GRACE = grace
    assert _ids(jwt_settings_check(None)) == ["api.E005"]


@pytest.mark.parametrize("grace", [0, 5])
def test_strict_and_positive_grace_pass(settings, grace):
    settings.JWT_REFRESH_REUSE_GRACE = grace
    assert jwt_settings_check(None) == []


def test_an_unreadable_signing_key_is_refused(env_keys):
    env_keys.JWT_PRIVATE_KEY = "not a pem"
    (error,) = jwt_settings_check(None)
    assert error.id == "api.E006" and "Unreadable" in error.msg


def test_a_missing_key_file_is_refused(env_keys, tmp_path):
    env_keys.JWT_PRIVATE_KEY, env_keys.JWT_PRIVATE_KEY_FILE = "", str(tmp_path / "absent.pem")
    assert _ids(jwt_settings_check(None)) == ["api.E006"]


def test_a_key_of_the_wrong_type_is_refused(env_keys):
    env_keys.JWT_PRIVATE_KEY = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    (error,) = jwt_settings_check(None)
    assert error.id == "api.E006" and "Ed25519" in error.msg


def test_an_extra_public_key_of_the_wrong_type_is_refused(env_keys):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env_keys.JWT_EXTRA_PUBLIC_KEYS = jwk.public_key_pem(other.public_key())
    assert _ids(jwt_settings_check(None)) == ["api.E006"]


def test_a_short_rsa_key_is_refused(env_keys):
    env_keys.SIMPLE_JWT = {**env_keys.SIMPLE_JWT, "ALGORITHM": "RS256"}
    env_keys.JWT_EXTRA_PUBLIC_KEYS = ""
    env_keys.JWT_PRIVATE_KEY = _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    (error,) = jwt_settings_check(None)
    assert error.id == "api.E006" and "2048" in error.msg
