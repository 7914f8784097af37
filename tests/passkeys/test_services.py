"""Passkey ceremonies against real WebAuthn responses made by a software authenticator."""

from __future__ import annotations

import logging
import threading

import pytest
from django.conf import settings
from django.db import connection

from passkeys import services
from passkeys.models import Passkey, PasskeyChallenge
from passkeys.services import PasskeyError
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=settings.SITE_URL)


def _register(user, authenticator, name="Laptop") -> Passkey:
    ceremony = services.passkey_registration_begin(user=user)
    return services.passkey_register(
        user=user, state=ceremony.state, credential=authenticator.create(ceremony.options), name=name
    )


def test_rp_id_and_origins_come_from_site_url(user, settings):
    settings.SITE_URL = "https://auth.example.com"
    options = services.passkey_registration_begin(user=user).options
    assert options["rp"] == {"id": "auth.example.com", "name": "authdemo"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    settings.WEBAUTHN_RP_ID = "example.com"
    assert services.passkey_login_begin().options["rpId"] == "example.com"


def test_register_stores_the_credential_and_uses_up_the_challenge(user, authenticator):
    passkey = _register(user, authenticator)
    cred = authenticator.credentials[0]
    assert passkey.user == user and passkey.credential_id == cred.id and passkey.name == "Laptop"
    assert bytes(passkey.public_key) == cred.cose_public_key()
    assert passkey.transports == "internal" and passkey.device_type == "single_device"
    assert PasskeyChallenge.objects.count() == 0
    # A second passkey of the account carries the same user handle, and excludes the first.
    options = services.passkey_registration_begin(user=user).options
    assert options["user"]["id"] == passkey.user_handle
    assert [c["id"] for c in options["excludeCredentials"]] == [cred.id]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"origin": "https://evil.example"}, "passkey_invalid"),
        ({"rp_id": "evil.example"}, "passkey_invalid"),
    ],
)
def test_register_refuses_another_origin_or_rp(user, authenticator, change, code):
    ceremony = services.passkey_registration_begin(user=user)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_register(
            user=user,
            state=ceremony.state,
            credential=authenticator.create(ceremony.options, **change),
            name="x",
        )
    assert exc.value.code == code
    assert not Passkey.objects.exists()


def test_register_refuses_a_replayed_state_and_another_users_state(user, user_factory, authenticator):
    ceremony = services.passkey_registration_begin(user=user)
    response = authenticator.create(ceremony.options)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_register(user=user_factory(), state=ceremony.state, credential=response, name="x")
    assert exc.value.code == "passkey_state_invalid"
    services.passkey_register(user=user, state=ceremony.state, credential=response, name="x")
    with pytest.raises(PasskeyError) as exc:
        services.passkey_register(user=user, state=ceremony.state, credential=response, name="y")
    assert exc.value.code == "passkey_state_invalid"
    assert Passkey.objects.count() == 1


@pytest.mark.parametrize("state", ["", "nope", "00000000-0000-0000-0000-000000000000", None, 5])
def test_register_refuses_malformed_states(user, authenticator, state):
    ceremony = services.passkey_registration_begin(user=user)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_register(
            user=user, state=state, credential=authenticator.create(ceremony.options), name="x"
        )
    assert exc.value.code == "passkey_state_invalid"


@pytest.mark.parametrize(
    "credential", [None, "x", {}, {"id": 1}, {"id": "AAAA", "response": "x"}, {"id": "AAAA"}]
)
def test_register_refuses_malformed_credentials(user, credential):
    ceremony = services.passkey_registration_begin(user=user)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_register(user=user, state=ceremony.state, credential=credential, name="x")
    assert exc.value.code in {"passkey_malformed", "passkey_invalid"}
    assert not Passkey.objects.exists()


@pytest.mark.parametrize("name", ["", "   ", None, 3, "x" * 65])
def test_register_refuses_bad_names(user, authenticator, name):
    ceremony = services.passkey_registration_begin(user=user)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_register(
            user=user, state=ceremony.state, credential=authenticator.create(ceremony.options), name=name
        )
    assert exc.value.code == "passkey_name_invalid"


def test_passwordless_login_with_user_verification_is_mfa(user, authenticator):
    _register(user, authenticator)
    ceremony = services.passkey_login_begin()
    assert ceremony.options["allowCredentials"] == []
    login = services.passkey_authenticate(
        state=ceremony.state, credential=authenticator.get(ceremony.options)
    )
    assert login.user == user and login.amr == ("hwk", "mfa") and login.user_verified
    assert login.passkey.sign_count == 1 and login.passkey.last_used_at is not None


def test_passwordless_login_needs_user_verification(user):
    authenticator = SoftAuthenticator(origin=settings.SITE_URL, user_verification=False)
    _register(user, authenticator)
    ceremony = services.passkey_login_begin()
    assert ceremony.options["userVerification"] == "required"
    with pytest.raises(PasskeyError) as exc:
        services.passkey_authenticate(state=ceremony.state, credential=authenticator.get(ceremony.options))
    assert exc.value.code == "passkey_invalid"


def test_a_synced_passkey_is_swk(user):
    authenticator = SoftAuthenticator(origin=settings.SITE_URL, synced=True)
    _register(user, authenticator)
    ceremony = services.passkey_login_begin()
    login = services.passkey_authenticate(
        state=ceremony.state, credential=authenticator.get(ceremony.options)
    )
    assert login.amr == ("swk", "mfa")


def test_second_factor_without_user_verification_is_still_mfa(user):
    authenticator = SoftAuthenticator(origin=settings.SITE_URL, user_verification=False)
    _register(user, authenticator)
    ceremony = services.passkey_login_begin(user=user)
    assert ceremony.options["userVerification"] == "preferred"
    login = services.passkey_authenticate(
        state=ceremony.state, credential=authenticator.get(ceremony.options), user=user
    )
    assert login.amr == ("pwd", "hwk", "mfa") and not login.user_verified


def test_second_factor_is_pwd_key_mfa_and_only_the_users_passkeys(user, user_factory, authenticator):
    _register(user, authenticator)
    other_auth = SoftAuthenticator(origin=settings.SITE_URL)
    _register(user_factory(username="bob"), other_auth)
    ceremony = services.passkey_login_begin(user=user)
    assert [c["id"] for c in ceremony.options["allowCredentials"]] == [authenticator.credentials[0].id]
    with pytest.raises(PasskeyError):
        services.passkey_authenticate(
            state=ceremony.state, credential=other_auth.get(ceremony.options), user=user
        )
    ceremony = services.passkey_login_begin(user=user)
    login = services.passkey_authenticate(
        state=ceremony.state, credential=authenticator.get(ceremony.options), user=user
    )
    assert login.amr == ("pwd", "hwk", "mfa")


def _login_refused(authenticator, **get_kwargs) -> str:
    ceremony = services.passkey_login_begin()
    with pytest.raises(PasskeyError) as exc:
        services.passkey_authenticate(
            state=ceremony.state, credential=authenticator.get(ceremony.options, **get_kwargs)
        )
    return exc.value.code


@pytest.mark.parametrize(
    "get_kwargs",
    [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"tamper": True}],
)
def test_login_refuses_other_origin_rp_or_bad_signature_and_changes_nothing(user, authenticator, get_kwargs):
    passkey = _register(user, authenticator)
    assert _login_refused(authenticator, **get_kwargs) == "passkey_invalid"
    passkey.refresh_from_db()
    assert passkey.sign_count == 0 and passkey.last_used_at is None


def test_login_refuses_a_replayed_response(user, authenticator):
    _register(user, authenticator)
    ceremony = services.passkey_login_begin()
    response = authenticator.get(ceremony.options)
    services.passkey_authenticate(state=ceremony.state, credential=response)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_authenticate(state=ceremony.state, credential=response)
    assert exc.value.code == "passkey_state_invalid"


def test_login_refuses_a_second_factor_state_for_a_passwordless_login(user, authenticator):
    _register(user, authenticator)
    ceremony = services.passkey_login_begin(user=user)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_authenticate(state=ceremony.state, credential=authenticator.get(ceremony.options))
    assert exc.value.code == "passkey_state_invalid"


def test_sign_counter_regression_is_refused_and_logged(user, authenticator, caplog):
    passkey = _register(user, authenticator)
    ceremony = services.passkey_login_begin()
    services.passkey_authenticate(
        state=ceremony.state, credential=authenticator.get(ceremony.options, sign_count=5)
    )
    with caplog.at_level(logging.WARNING, logger="authdemo.security"):
        assert _login_refused(authenticator, sign_count=5) == "passkey_invalid"
        assert _login_refused(authenticator, sign_count=3) == "passkey_invalid"
    assert caplog.text.count("sign counter regression") == 2
    passkey.refresh_from_db()
    assert passkey.sign_count == 5


def test_an_authenticator_without_counter_logs_in_again(user):
    authenticator = SoftAuthenticator(origin=settings.SITE_URL, counter_step=0)
    _register(user, authenticator)
    for _ in range(2):
        ceremony = services.passkey_login_begin()
        services.passkey_authenticate(state=ceremony.state, credential=authenticator.get(ceremony.options))


def test_user_handle_of_another_account_is_refused(user, authenticator):
    _register(user, authenticator)
    authenticator.credentials[0].user_handle = b"someone else"
    assert _login_refused(authenticator) == "passkey_invalid"


def test_inactive_user_cannot_log_in(user, authenticator):
    _register(user, authenticator)
    user.is_active = False
    user.save()
    assert _login_refused(authenticator) == "passkey_invalid"


def test_expired_challenge_is_refused(user, authenticator, clock):
    _register(user, authenticator)
    ceremony = services.passkey_login_begin()
    clock.shift(301)
    with pytest.raises(PasskeyError) as exc:
        services.passkey_authenticate(state=ceremony.state, credential=authenticator.get(ceremony.options))
    assert exc.value.code == "passkey_state_invalid"


def test_rename_and_remove_are_scoped_to_the_owner(user, user_factory, authenticator):
    passkey = _register(user, authenticator)
    bob = user_factory(username="bob")
    for call in (
        lambda: services.passkey_rename(user=bob, passkey_id=passkey.pk, name="mine"),
        lambda: services.passkey_remove(user=bob, passkey_id=passkey.pk),
    ):
        with pytest.raises(PasskeyError) as exc:
            call()
        assert exc.value.code == "passkey_not_found"
    assert services.passkey_rename(user=user, passkey_id=passkey.pk, name=" Phone ").name == "Phone"
    services.passkey_remove(user=user, passkey_id=passkey.pk)
    assert not Passkey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uses_of_one_challenge_log_in_once(user, authenticator):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is run in services mode")
    _register(user, authenticator)
    ceremony = services.passkey_login_begin()
    response = authenticator.get(ceremony.options)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt():
        barrier.wait()
        try:
            services.passkey_authenticate(state=ceremony.state, credential=response)
            results.append("ok")
        except PasskeyError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "passkey_state_invalid"]


def test_a_credential_registered_twice_is_refused(user, user_factory, authenticator):
    _register(user, authenticator)
    bob = user_factory(username="bob")
    ceremony = services.passkey_registration_begin(user=bob)
    response = authenticator.create(ceremony.options)
    response["id"] = response["rawId"] = authenticator.credentials[0].id
    # The same credential id in a fresh attestation: the id inside authData must match too.
    import base64

    import cbor2

    att = cbor2.loads(base64.urlsafe_b64decode(response["response"]["attestationObject"] + "=="))
    old_id = authenticator.credentials[-1].credential_id
    att["authData"] = att["authData"].replace(old_id, authenticator.credentials[0].credential_id)
    response["response"]["attestationObject"] = (
        base64.urlsafe_b64encode(cbor2.dumps(att)).rstrip(b"=").decode()
    )
    with pytest.raises(PasskeyError) as exc:
        services.passkey_register(user=bob, state=ceremony.state, credential=response, name="x")
    assert exc.value.code == "passkey_exists"
    assert list(Passkey.objects.values_list("user", flat=True)) == [user.pk]


def test_system_check_refuses_an_rp_id_foreign_to_the_origins(settings):
    from passkeys.checks import webauthn_rp_check

    settings.SITE_URL = "https://auth.example.com"
    assert webauthn_rp_check() == []
    settings.WEBAUTHN_RP_ID = "example.com"  # a parent domain: allowed
    assert webauthn_rp_check() == []
    settings.WEBAUTHN_RP_ID = "evil.example"
    assert [e.id for e in webauthn_rp_check()] == ["passkeys.E002"]
    settings.WEBAUTHN_RP_ID = "example.com"
    settings.WEBAUTHN_ORIGINS = ["https://auth.example.com", "https://notexample.com"]
    assert [e.id for e in webauthn_rp_check()] == ["passkeys.E002"]


def test_system_check_tells_that_an_ip_address_cannot_be_a_relying_party(settings):
    from passkeys.checks import webauthn_rp_check

    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.DEBUG = True
    assert [e.id for e in webauthn_rp_check()] == ["passkeys.I001"]
    settings.SITE_URL = "http://localhost:8000"
    assert webauthn_rp_check() == []
