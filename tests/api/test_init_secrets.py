"""`manage.py init_secrets`: the step that makes the embedded default's secrets; the checks naming it."""

from __future__ import annotations

import io
import stat
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.management import call_command
from django.core.management.base import CommandError

from api import jwk
from api.checks import secrets_check
from authdemo.varfiles import var_file_create


@pytest.fixture
def embedded(settings, tmp_path):
    """Point the secret key and the JWT key files of the embedded default into ``tmp_path``."""
    settings.SECRET_KEY_FILE = tmp_path / "secret_key"
    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "var", tmp_path / "jwt"
    return tmp_path


def _run(verbosity: int = 1) -> str:
    out = io.StringIO()
    call_command("init_secrets", verbosity=verbosity, stdout=out)
    return out.getvalue()


def test_creates_both_secrets_owner_only_and_says_so(embedded):
    output = _run()
    secret_file, key_file = embedded / "secret_key", embedded / "jwt" / "signing_key.pem"
    assert f"Wrote a new secret key to {secret_file}" in output
    assert f"Wrote a new JWT signing key (EdDSA) to {key_file}" in output
    assert len(secret_file.read_text()) >= 50
    assert isinstance(jwk.private_key_load(key_file.read_bytes()), ed25519.Ed25519PrivateKey)
    for path in (secret_file, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_second_run_writes_nothing(embedded):
    _run()
    before = {path: path.read_bytes() for path in embedded.rglob("*") if path.is_file()}
    output = _run()
    assert "Wrote" not in output
    assert output.count("Kept the existing") == 2
    assert {path: path.read_bytes() for path in embedded.rglob("*") if path.is_file()} == before
    # `make` runs it quietly: nothing to say when nothing was written.
    assert _run(verbosity=0) == ""


def test_never_overwrites_existing_secrets(embedded):
    (embedded / "secret_key").write_text("the operator's own key")
    (embedded / "jwt").mkdir()
    own = jwk.private_key_generate(algorithm="EdDSA")
    (embedded / "jwt" / "signing_key.pem").write_bytes(own)
    output = _run()
    assert "Wrote" not in output
    assert (embedded / "secret_key").read_text() == "the operator's own key"
    assert (embedded / "jwt" / "signing_key.pem").read_bytes() == own


def test_writes_nothing_for_secrets_the_environment_provides(settings, tmp_path):
    settings.SECRET_KEY_FILE = None  # DJANGO_SECRET_KEY set, or DJANGO_DEBUG=0
    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "environment", tmp_path / "jwt"
    output = _run()
    assert "from DJANGO_SECRET_KEY" in output and "from JWT_PRIVATE_KEY" in output
    assert list(tmp_path.iterdir()) == []


def test_rs256_gets_an_rsa_key(embedded, settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": "RS256"}
    assert "JWT signing key (RS256)" in _run()
    key = jwk.private_key_load((embedded / "jwt" / "signing_key.pem").read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == jwk.RSA_GENERATE_BITS


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
def test_refuses_an_algorithm_without_a_key_pair_and_writes_no_key(embedded, settings, algorithm):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ALGORITHM": algorithm}
    with pytest.raises(CommandError, match="EdDSA or RS256"):
        _run()
    assert not (embedded / "jwt").exists()


def test_two_runs_at_once_agree_on_one_value(tmp_path):
    path, barrier = tmp_path / "secret_key", threading.Barrier(8)
    created: list[bytes] = []

    def create(value: bytes) -> None:
        barrier.wait()
        if var_file_create(path, factory=lambda: value):
            created.append(value)

    threads = [threading.Thread(target=create, args=(bytes([65 + n]) * 50,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 1
    assert path.read_bytes() == created[0]


def test_checks_name_the_command_until_it_has_run(embedded):
    errors = secrets_check(None)
    assert [error.id for error in errors] == ["api.E001", "api.E002"]
    assert all("run python manage.py init_secrets" in error.msg for error in errors)
    _run()
    assert secrets_check(None) == []


def test_checks_ask_for_nothing_the_environment_provides(settings, tmp_path):
    settings.SECRET_KEY_FILE = None
    settings.JWT_KEYS_SOURCE, settings.JWT_KEYS_DIR = "environment", tmp_path / "jwt"
    assert secrets_check(None) == []
