"""Passkeys on the session side: the passkeys page (rename, remove) and the passwordless session login."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Session
from api.logins import token_pair_issue
from limits.devicecookie import device_cookie_name
from passkeys import services
from passkeys.models import Passkey
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=settings.SITE_URL)


@pytest.fixture
def passkey(user, authenticator) -> Passkey:
    ceremony = services.passkey_registration_begin(user=user)
    return services.passkey_register(
        user=user, state=ceremony.state, credential=authenticator.create(ceremony.options), name="Laptop"
    )


def _login_body(authenticator, **get_kwargs) -> dict:
    ceremony = services.passkey_login_begin()
    return {"state": ceremony.state, "credential": authenticator.get(ceremony.options, **get_kwargs)}


def _post_json(client, body, **extra):
    return client.post(
        "/accounts/passkeys/login/", json.dumps(body), content_type="application/json", **extra
    )


def test_page_lists_the_users_passkeys_without_key_material(client, user, passkey, user_factory):
    client.force_login(user)
    response = client.get("/accounts/passkeys/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Laptop"' in page and "this device only" in page
    assert passkey.credential_id not in page
    client.force_login(user_factory(username="bob"))
    assert 'value="Laptop"' not in client.get("/accounts/passkeys/").content.decode()


def test_page_needs_a_login(client):
    response = client.get("/accounts/passkeys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_rename_and_remove(client, user, passkey):
    client.force_login(user)
    response = client.post(f"/accounts/passkeys/{passkey.pk}/rename/", {"name": "Phone"})
    assert response.status_code == 302
    assert Passkey.objects.get().name == "Phone"
    response = client.post(f"/accounts/passkeys/{passkey.pk}/rename/", {"name": ""}, follow=True)
    assert "Give the passkey a name." in response.content.decode()
    assert Passkey.objects.get().name == "Phone"
    assert client.get(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 405
    assert client.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 302
    assert not Passkey.objects.exists()


def test_another_users_passkey_is_404_and_unchanged(client, passkey, user_factory):
    client.force_login(user_factory(username="bob"))
    assert client.post(f"/accounts/passkeys/{passkey.pk}/rename/", {"name": "mine"}).status_code == 404
    assert client.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 404
    assert Passkey.objects.get().name == "Laptop"


def test_passwordless_login_makes_a_new_session(client, user, passkey, authenticator):
    client.get("/accounts/login/")
    anonymous_key = client.session.session_key
    response = _post_json(client, {**_login_body(authenticator), "next": "/accounts/profile/"})
    assert response.status_code == 200, response.content
    assert response.json() == {"redirect": "/accounts/profile/"}
    assert client.session.session_key != anonymous_key  # cycled: no fixation
    assert client.get("/api/me/").json()["auth"] == "session"
    assert Session.objects.filter(user=user).count() == 1
    assert response.cookies[device_cookie_name()].value


def test_passwordless_login_ignores_an_offsite_next(client, passkey, authenticator):
    response = _post_json(client, {**_login_body(authenticator), "next": "https://evil.example/"})
    assert response.json() == {"redirect": settings.LOGIN_REDIRECT_URL}


@pytest.mark.parametrize("get_kwargs", [{"origin": "https://evil.example"}, {"tamper": True}])
def test_refused_passkey_login_is_401_and_no_session(client, passkey, authenticator, get_kwargs):
    response = _post_json(client, _login_body(authenticator, **get_kwargs))
    assert response.status_code == 401 and response.json()["code"] == "passkey_invalid"
    assert not Session.objects.filter(user__isnull=False).exists()


@pytest.mark.parametrize("raw", ["", "nope", "[]", '{"state": 1}', '{"state": "x", "credential": "y"}'])
def test_malformed_login_is_400(client, passkey, raw):
    response = client.post("/accounts/passkeys/login/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "passkey_state_invalid", "passkey_malformed"}
    assert not Session.objects.filter(user__isnull=False).exists()


def test_login_needs_the_csrf_token(passkey, authenticator):
    client = Client(enforce_csrf_checks=True)
    assert _post_json(client, _login_body(authenticator)).status_code == 403
    client.get("/accounts/login/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert _post_json(client, _login_body(authenticator), HTTP_X_CSRFTOKEN=token).status_code == 200


def test_login_page_offers_a_passkey(client):
    page = client.get("/accounts/login/").content.decode()
    assert "data-passkey-login" in page and "js/passkeys.js" in page


def test_remove_ends_every_other_login_and_keeps_this_session(client, user, passkey, api_client):
    other = Client()
    other.force_login(user)
    token = str(token_pair_issue(user=user).access)
    client.force_login(user)
    assert client.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 302
    assert client.get("/accounts/passkeys/").status_code == 200  # this session lives on
    assert other.get("/accounts/passkeys/").status_code == 302  # the other one ended
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/me/").json()["code"] == "token_revoked"


def test_a_refused_remove_ends_nothing(client, user, passkey, user_factory):
    other = Client()
    other.force_login(user)
    client.force_login(user_factory(username="bob"))
    assert client.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 404
    assert other.get("/accounts/passkeys/").status_code == 200


def test_remove_needs_a_recent_authentication(client, user, passkey, clock):
    client.force_login(user)
    clock.shift(301)  # REAUTH_SECONDS (300) later
    response = client.post(f"/accounts/passkeys/{passkey.pk}/remove/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_passwordless_session_records_the_passkeys_amr(client, user, passkey, authenticator):
    _post_json(client, _login_body(authenticator))
    assert client.session["_auth_assurance"]["amr"] == ["hwk", "mfa"]


def _pending_token(client) -> str:
    page = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery staple"})
    assert page.status_code == 200 and "Use a passkey instead" in page.content.decode()
    return page.context["form"].initial["mfa_token"]


def _second_step_body(token, authenticator, **get_kwargs) -> dict:
    api = APIClient()
    begin = api.post("/api/auth/mfa/passkey/options/", {"mfa_token": token}, format="json").json()
    credential = authenticator.get(begin["options"], **get_kwargs)
    return {"mfa_token": token, "state": begin["state"], "credential": credential}


def test_password_then_passkey_logs_the_session_in(client, user, passkey, authenticator):
    token = _pending_token(client)
    assert client.get("/accounts/profile/").status_code == 302  # not logged in between the steps
    body = {**_second_step_body(token, authenticator), "next": "/accounts/profile/"}
    response = client.post("/accounts/login/mfa/passkey/", json.dumps(body), content_type="application/json")
    assert response.status_code == 200 and response.json() == {"redirect": "/accounts/profile/"}
    assert client.session["_auth_assurance"]["amr"] == ["pwd", "hwk", "mfa"]
    assert client.get("/accounts/profile/").status_code == 200
    again = client.post("/accounts/login/mfa/passkey/", json.dumps(body), content_type="application/json")
    assert again.status_code == 400


def test_second_step_refused_passkey_leaves_no_session(client, user, passkey, authenticator):
    token = _pending_token(client)
    body = _second_step_body(token, authenticator, tamper=True)
    response = client.post("/accounts/login/mfa/passkey/", json.dumps(body), content_type="application/json")
    assert response.status_code == 401 and response.json()["code"] == "passkey_invalid"
    assert client.get("/accounts/profile/").status_code == 302
    body = _second_step_body(token, authenticator)  # the pending login is still usable
    response = client.post("/accounts/login/mfa/passkey/", json.dumps(body), content_type="application/json")
    assert response.status_code == 200


def test_admin_lists_passkeys_never_keys_and_reset_removes_them(admin_client, user, passkey):
    change = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "Passkey: Laptop (confirmed)" in change
    assert passkey.credential_id not in change and passkey.user_handle not in change
    listing = admin_client.get("/admin/accounts/user/").content.decode()
    assert 'alt="True"' in listing  # the 2FA column counts a passkey
    assert admin_client.post(f"/admin/accounts/user/{user.pk}/mfa-reset/").status_code == 302
    assert not Passkey.objects.exists()


def test_the_mfa_page_lists_passkeys(client, user, passkey):
    client.force_login(user)
    assert "Passkey: Laptop" in client.get("/accounts/mfa/").content.decode()
