"""Passkey JSON endpoints: register, list, rename, remove, and log in by bearer tokens or cookies."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from api.models import TokenFamily
from passkeys.models import Passkey, PasskeyChallenge
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=settings.SITE_URL)


def _bearer(user) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/auth/token/",
        {"username": user.username, "password": "correct horse battery staple"},
        format="json",
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return client


def _register(client, authenticator, name="Laptop"):
    begin = client.post("/api/auth/passkeys/register/options/")
    assert begin.status_code == 200, begin.content
    body = begin.json()
    credential = authenticator.create(body["options"])
    return client.post(
        "/api/auth/passkeys/register/",
        {"state": body["state"], "credential": credential, "name": name},
        format="json",
    )


def _login_body(client, authenticator, **get_kwargs) -> dict:
    begin = client.post("/api/auth/passkeys/login/options/")
    assert begin.status_code == 200
    body = begin.json()
    return {"state": body["state"], "credential": authenticator.get(body["options"], **get_kwargs)}


def test_register_list_rename_remove_over_bearer(user, authenticator):
    client = _bearer(user)
    created = _register(client, authenticator)
    assert created.status_code == 201, created.content
    passkey = created.json()
    assert passkey["name"] == "Laptop" and passkey["device_type"] == "single_device"
    assert "public_key" not in passkey and "credential_id" not in passkey
    listed = client.get("/api/auth/passkeys/")
    assert listed.status_code == 200 and "no-store" in listed["Cache-Control"]
    assert [p["id"] for p in listed.json()] == [passkey["id"]]

    renamed = client.patch(f"/api/auth/passkeys/{passkey['id']}/", {"name": "Work laptop"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Work laptop"
    assert client.delete(f"/api/auth/passkeys/{passkey['id']}/").status_code == 204
    assert client.get("/api/auth/passkeys/").json() == []


def test_register_over_the_session_needs_csrf(user, authenticator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/auth/passkeys/register/options/")
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    assert not PasskeyChallenge.objects.exists()


def test_endpoints_need_authentication(user):
    client = APIClient()
    for method, path in [
        ("get", "/api/auth/passkeys/"),
        ("post", "/api/auth/passkeys/register/options/"),
        ("post", "/api/auth/passkeys/register/"),
        ("patch", "/api/auth/passkeys/1/"),
        ("delete", "/api/auth/passkeys/1/"),
    ]:
        assert getattr(client, method)(path).status_code == 401, path


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"state": "x", "name": "n"},
        {"state": "x", "credential": "x", "name": "n"},
        {"state": "x", "credential": {}, "name": ""},
        {"state": "x", "credential": {}, "name": "n" * 65},
    ],
)
def test_register_bad_input_is_400_and_stores_nothing(user, body):
    client = _bearer(user)
    response = client.post("/api/auth/passkeys/register/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not Passkey.objects.exists()


def test_register_from_another_origin_is_400(user, authenticator):
    client = _bearer(user)
    begin = client.post("/api/auth/passkeys/register/options/").json()
    credential = authenticator.create(begin["options"], origin="https://evil.example")
    response = client.post(
        "/api/auth/passkeys/register/",
        {"state": begin["state"], "credential": credential, "name": "x"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "passkey_invalid"
    assert not Passkey.objects.exists()


def test_another_users_passkey_is_404(user, user_factory, authenticator):
    passkey_id = _register(_bearer(user), authenticator).json()["id"]
    bob = _bearer(user_factory(username="bob"))
    assert bob.patch(f"/api/auth/passkeys/{passkey_id}/", {"name": "mine"}, format="json").status_code == 404
    response = bob.delete(f"/api/auth/passkeys/{passkey_id}/")
    assert response.status_code == 404 and response.json()["code"] == "passkey_not_found"
    assert Passkey.objects.get().name == "Laptop"
    assert bob.delete("/api/auth/passkeys/99999999999999999999/").status_code == 404


def test_passwordless_bearer_login_issues_a_pair(user, authenticator, api_client):
    _register(_bearer(user), authenticator)
    response = api_client.post(
        "/api/auth/passkeys/login/", _login_body(api_client, authenticator), format="json"
    )
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.get("/api/me/").json()["username"] == "alice"
    assert TokenFamily.objects.filter(user=user, transport=TokenFamily.Transport.BEARER).count() == 2


def test_passwordless_cookie_login_sets_the_cookies(user, authenticator, api_client):
    _register(_bearer(user), authenticator)
    response = api_client.post(
        "/api/auth/cookie/passkeys/login/", _login_body(api_client, authenticator), format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["user"]["username"] == "alice"
    assert "access" not in response.json()
    assert response.cookies[settings.JWT_ACCESS_COOKIE]["httponly"]


@pytest.mark.parametrize(
    "get_kwargs", [{"origin": "https://evil.example"}, {"tamper": True}, {"rp_id": "evil.example"}]
)
def test_refused_login_is_401_and_issues_nothing(user, authenticator, api_client, get_kwargs):
    _register(_bearer(user), authenticator)
    families = TokenFamily.objects.count()
    response = api_client.post(
        "/api/auth/passkeys/login/", _login_body(api_client, authenticator, **get_kwargs), format="json"
    )
    assert response.status_code == 401 and response.json()["code"] == "passkey_invalid"
    assert TokenFamily.objects.count() == families
    assert Passkey.objects.get().sign_count == 0


def test_replayed_login_is_400(user, authenticator, api_client):
    _register(_bearer(user), authenticator)
    body = _login_body(api_client, authenticator)
    assert api_client.post("/api/auth/passkeys/login/", body, format="json").status_code == 200
    families = TokenFamily.objects.count()
    response = api_client.post("/api/auth/passkeys/login/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "passkey_state_invalid"
    assert TokenFamily.objects.count() == families


@pytest.mark.parametrize("body", [{}, {"state": "x"}, {"state": "x", "credential": []}, {"credential": {}}])
def test_login_bad_input_is_400(user, api_client, body):
    response = api_client.post("/api/auth/passkeys/login/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_login_options_are_limited_per_address(api_client, settings):
    settings.WEBAUTHN_RATELIMIT_IP = "2/m"
    assert api_client.post("/api/auth/passkeys/login/options/").status_code == 200
    assert api_client.post("/api/auth/passkeys/login/options/").status_code == 200
    response = api_client.post("/api/auth/passkeys/login/options/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert PasskeyChallenge.objects.count() == 2


def test_remove_by_token_ends_every_other_login_of_the_user(user, authenticator):
    client, other = _bearer(user), _bearer(user)
    session = APIClient()
    session.force_login(user)
    passkey_id = _register(client, authenticator).json()["id"]
    assert client.delete(f"/api/auth/passkeys/{passkey_id}/").status_code == 204
    assert client.get("/api/auth/passkeys/").json() == []  # the caller's login stays
    assert other.get("/api/auth/passkeys/").json()["code"] == "token_revoked"
    assert session.get("/api/auth/passkeys/").status_code == 401
    assert TokenFamily.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_remove_by_session_keeps_that_session(user, authenticator):
    session = APIClient()
    session.force_login(user)
    other = _bearer(user)
    passkey_id = _register(session, authenticator).json()["id"]
    assert session.delete(f"/api/auth/passkeys/{passkey_id}/").status_code == 204
    assert session.get("/api/auth/passkeys/").json() == []
    assert other.get("/api/auth/passkeys/").status_code == 401


def _claims(access: str) -> dict:
    from api.tokens import AccessToken

    return AccessToken(access).payload


def test_passwordless_tokens_carry_the_passkeys_amr(user, authenticator, api_client):
    _register(_bearer(user), authenticator)
    access = api_client.post(
        "/api/auth/passkeys/login/", _login_body(api_client, authenticator), format="json"
    ).json()["access"]
    claims = _claims(access)
    assert claims["amr"] == ["hwk", "mfa"] and isinstance(claims["auth_time"], int)


def test_adding_and_removing_need_step_up(user, authenticator, clock, settings):
    client = _bearer(user)
    passkey_id = _register(client, authenticator).json()["id"]
    clock.shift(301)  # REAUTH_SECONDS (300) later
    for response in (
        client.post("/api/auth/passkeys/register/options/"),
        client.delete(f"/api/auth/passkeys/{passkey_id}/"),
    ):
        assert response.status_code == 401 and response.json()["code"] == "reauthentication_required"
    assert Passkey.objects.filter(pk=passkey_id).exists()
    # Renaming is not sensitive.
    assert client.patch(f"/api/auth/passkeys/{passkey_id}/", {"name": "x"}, format="json").status_code == 200


def _mfa_token(user) -> str:
    response = APIClient().post(
        "/api/auth/token/",
        {"username": user.username, "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 401 and response.json()["code"] == "mfa_required"
    return response.json()["mfa_token"]


def _second_step(client, authenticator, token, **get_kwargs) -> dict:
    begin = client.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json")
    assert begin.status_code == 200, begin.content
    body = begin.json()
    credential = authenticator.get(body["options"], **get_kwargs)
    return {"mfa_token": token, "state": body["state"], "credential": credential}


def test_a_passkey_makes_the_password_login_two_steps(user, authenticator, api_client):
    _register(_bearer(user), authenticator)
    token = _mfa_token(user)
    body = _second_step(api_client, authenticator, token)
    options = api_client.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json").json()
    assert [c["id"] for c in options["options"]["allowCredentials"]] == [authenticator.credentials[0].id]
    response = api_client.post("/api/auth/token/mfa/passkey/", body, format="json")
    assert response.status_code == 200, response.content
    assert _claims(response.json()["access"])["amr"] == ["pwd", "hwk", "mfa"]
    # The mfa_token is spent.
    again = api_client.post("/api/auth/token/mfa/passkey/", body, format="json")
    assert again.status_code in (400, 401)  # the state is used up, and so is the mfa_token
    assert again.json()["code"] in ("passkey_state_invalid", "mfa_token_invalid")
    response = api_client.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json")
    assert response.status_code == 401 and response.json()["code"] == "mfa_token_invalid"


def test_second_step_over_cookies(user, authenticator, api_client):
    _register(_bearer(user), authenticator)
    body = _second_step(api_client, authenticator, _mfa_token(user))
    response = api_client.post("/api/auth/cookie/login/mfa/passkey/", body, format="json")
    assert response.status_code == 200 and response.json()["user"]["username"] == "alice"
    assert response.cookies[settings.JWT_ACCESS_COOKIE]["httponly"]


def test_another_users_passkey_is_refused_and_the_token_stays_usable(
    user, user_factory, authenticator, api_client
):
    _register(_bearer(user), authenticator)
    bob_authenticator = SoftAuthenticator(origin=settings.SITE_URL)
    _register(_bearer(user_factory(username="bob")), bob_authenticator)
    token = _mfa_token(user)
    begin = api_client.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json").json()
    body = {
        "mfa_token": token,
        "state": begin["state"],
        "credential": bob_authenticator.get(begin["options"]),
    }
    families = TokenFamily.objects.count()
    response = api_client.post("/api/auth/token/mfa/passkey/", body, format="json")
    assert response.status_code == 401 and response.json()["code"] == "passkey_invalid"
    assert TokenFamily.objects.count() == families
    response = api_client.post(
        "/api/auth/token/mfa/passkey/", _second_step(api_client, authenticator, token), format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", "x" * 2000])
def test_second_step_with_a_bad_mfa_token_is_4xx(token, api_client):
    response = api_client.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json")
    assert response.status_code in (400, 401)
    assert response.json()["code"] in ("invalid", "mfa_token_invalid")


def test_list_works_in_stateless_mode(user, authenticator, settings):
    client = _bearer(user)
    _register(client, authenticator)
    settings.JWT_STATELESS = True
    response = client.get("/api/auth/passkeys/")
    assert response.status_code == 200 and [p["name"] for p in response.json()] == ["Laptop"]


@pytest.mark.parametrize("credential", [{"id": 1}, {"rawId": "AAAA"}])
def test_login_with_a_malformed_credential_is_400(api_client, credential):
    state = api_client.post("/api/auth/passkeys/login/options/").json()["state"]
    response = api_client.post(
        "/api/auth/passkeys/login/", {"state": state, "credential": credential}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "passkey_malformed"
