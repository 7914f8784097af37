"""Re-authenticating a JWT login with a passkey: options, a new pair of the same family, and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import TokenFamily
from api.tokens import AccessToken
from passkeys.models import PasskeyChallenge
from tests.api.helpers import assert_error
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

OPTIONS_URL = "/api/auth/reauthenticate/passkey/options/"
REAUTH_URL = "/api/auth/reauthenticate/"


def _login(user) -> tuple[APIClient, dict]:
    client = APIClient()
    response = client.post(
        "/api/auth/token/",
        {"username": user.username, "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client, response.json()


def _with_passkey(user, *, synced: bool = False) -> tuple[APIClient, dict, SoftAuthenticator]:
    """Log ``user`` in by password, then register a passkey (a fresh login may add one)."""
    client, pair = _login(user)
    authenticator = SoftAuthenticator(origin=settings.SITE_URL, synced=synced)
    begin = client.post("/api/auth/passkeys/register/options/").json()
    created = client.post(
        "/api/auth/passkeys/register/",
        {"state": begin["state"], "credential": authenticator.create(begin["options"]), "name": "Key"},
        format="json",
    )
    assert created.status_code == 201, created.content
    return client, pair, authenticator


def _body(client, authenticator, **get_kwargs) -> dict:
    begin = client.post(OPTIONS_URL)
    assert begin.status_code == 200, begin.content
    options = begin.json()["options"]
    return {"state": begin.json()["state"], "credential": authenticator.get(options, **get_kwargs)}


@pytest.mark.parametrize(("synced", "method"), [(False, "hwk"), (True, "swk")])
def test_a_passkey_renews_auth_time_in_the_same_family(user, clock, settings, synced, method):
    settings.REAUTH_SECONDS = 60
    client, pair, authenticator = _with_passkey(user, synced=synced)
    old = AccessToken(pair["access"])
    clock.shift(timedelta(seconds=100))  # past REAUTH_SECONDS, within the access token's life
    assert client.post("/api/auth/passkeys/register/options/").status_code == 401
    response = client.post(REAUTH_URL, _body(client, authenticator), format="json")
    assert response.status_code == 200, response.content
    new = AccessToken(response.json()["access"])
    assert new.family_id == old.family_id
    assert new["auth_time"] == old["auth_time"] + 100
    assert new["amr"] == ["pwd", method, "mfa"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert client.post("/api/auth/passkeys/register/options/").status_code == 200


def test_options_allow_only_the_users_passkeys(user, user_factory):
    client, _, authenticator = _with_passkey(user)
    _with_passkey(user_factory(username="bob"))
    options = client.post(OPTIONS_URL).json()["options"]
    assert [c["id"] for c in options["allowCredentials"]] == [authenticator.credentials[0].id]
    row = PasskeyChallenge.objects.get()
    assert row.purpose == PasskeyChallenge.Purpose.REAUTHENTICATE and row.user == user


def test_options_need_a_login_and_a_passkey(user):
    assert APIClient().post(OPTIONS_URL).status_code == 401
    client, _ = _login(user)
    assert_error(client.post(OPTIONS_URL), 404, "passkey_not_found")
    assert not PasskeyChallenge.objects.exists()


def _refused_and_unchanged(client, body, status, code):
    """Assert the refusal, and that no login was rotated, revoked or issued (auth_time not renewed)."""
    families = list(TokenFamily.objects.values_list("pk", "current_jti", "revoked_at").order_by("pk"))
    assert_error(client.post(REAUTH_URL, body, format="json"), status, code)
    assert list(TokenFamily.objects.values_list("pk", "current_jti", "revoked_at").order_by("pk")) == families


def test_another_users_passkey_is_401(user, user_factory):
    client, _, _ = _with_passkey(user)
    _, _, bob_authenticator = _with_passkey(user_factory(username="bob"))
    begin = client.post(OPTIONS_URL).json()
    body = {"state": begin["state"], "credential": bob_authenticator.get(begin["options"])}
    _refused_and_unchanged(client, body, 401, "passkey_invalid")


@pytest.mark.parametrize(
    "get_kwargs", [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"tamper": True}]
)
def test_another_origin_rp_id_or_signature_is_401(user, get_kwargs):
    client, _, authenticator = _with_passkey(user)
    _refused_and_unchanged(client, _body(client, authenticator, **get_kwargs), 401, "passkey_invalid")


def test_a_used_or_expired_state_is_400(user):
    client, _, authenticator = _with_passkey(user)
    body = _body(client, authenticator)
    response = client.post(REAUTH_URL, body, format="json")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    _refused_and_unchanged(client, body, 400, "passkey_state_invalid")  # used
    expired = _body(client, authenticator)
    PasskeyChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _refused_and_unchanged(client, expired, 400, "passkey_state_invalid")


def test_another_users_or_another_purposes_state_is_400(user, user_factory):
    bob_client, _, _ = _with_passkey(user_factory(username="bob"))
    bob_state = bob_client.post(OPTIONS_URL).json()["state"]
    client, _, authenticator = _with_passkey(user)
    # A second step's state of alice's own (a login awaiting its second factor).
    mfa_token = APIClient().post(
        "/api/auth/token/", {"username": "alice", "password": "correct horse battery staple"}, format="json"
    ).json()["mfa_token"]
    login_state = APIClient().post(
        "/api/auth/mfa/passkey/options/", {"mfa_token": mfa_token}, format="json"
    ).json()["state"]
    for state in (bob_state, login_state):
        credential = authenticator.get(client.post(OPTIONS_URL).json()["options"])
        body = {"state": state, "credential": credential}
        _refused_and_unchanged(client, body, 400, "passkey_state_invalid")


@pytest.mark.parametrize(
    "body",
    [
        {"state": "x"},
        {"credential": {"id": "x"}},
        {"state": "x", "credential": "x"},
        {"password": "x", "state": "x", "credential": {"id": "x"}},
    ],
)
def test_incomplete_bodies_are_400(user, body):
    client, _, _ = _with_passkey(user)
    _refused_and_unchanged(client, body, 400, None)


@pytest.mark.parametrize("credential", [{"id": 1}, {"rawId": "AAAA"}])
def test_a_malformed_credential_is_400(user, credential):
    client, _, _ = _with_passkey(user)
    state = client.post(OPTIONS_URL).json()["state"]
    _refused_and_unchanged(client, {"state": state, "credential": credential}, 400, "passkey_malformed")


def test_refused_assertions_count_toward_the_lock(user, settings):
    # The login left a trusted-device cookie: its own counter then (limits.ratelimit).
    settings.LOGIN_RATELIMIT_USERNAME = settings.LOGIN_RATELIMIT_DEVICE = "3/15m"
    client, _, authenticator = _with_passkey(user)
    for _ in range(3):
        body = _body(client, authenticator, tamper=True)
        assert_error(client.post(REAUTH_URL, body, format="json"), 401, "passkey_invalid")
    refused = client.post(REAUTH_URL, _body(client, authenticator), format="json")
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    # The same lock as wrong passwords and codes: the password is refused too.
    locked = client.post(REAUTH_URL, {"password": "correct horse battery staple"}, format="json")
    assert_error(locked, 429, "throttled")


def test_malformed_or_unknown_ceremonies_do_not_count(user, settings):
    settings.LOGIN_RATELIMIT_USERNAME = settings.LOGIN_RATELIMIT_DEVICE = "2/15m"
    client, _, authenticator = _with_passkey(user)
    for _ in range(3):
        state = client.post(OPTIONS_URL).json()["state"]
        client.post(REAUTH_URL, {"state": state, "credential": {"id": 1}}, format="json")
        unknown = "00000000-0000-0000-0000-000000000000"
        body = {"state": unknown, "credential": _body(client, authenticator)["credential"]}
        assert_error(client.post(REAUTH_URL, body, format="json"), 400, "passkey_state_invalid")
    assert client.post(REAUTH_URL, _body(client, authenticator), format="json").status_code == 200


def test_failed_second_step_assertions_count_and_spend_the_login(user, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    _, _, authenticator = _with_passkey(user)
    anonymous = APIClient()
    token = anonymous.post(
        "/api/auth/token/", {"username": "alice", "password": "correct horse battery staple"}, format="json"
    ).json()["mfa_token"]

    def step(**get_kwargs):
        begin = anonymous.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json").json()
        credential = authenticator.get(begin["options"], **get_kwargs)
        body = {"mfa_token": token, "state": begin["state"], "credential": credential}
        return anonymous.post("/api/auth/token/mfa/passkey/", body, format="json")

    for _ in range(3):
        assert_error(step(tamper=True), 401, "passkey_invalid")
    refused = step()
    assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    # At the limit the pending login is spent.
    again = anonymous.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json")
    assert_error(again, 401, "mfa_token_invalid")
