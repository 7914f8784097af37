"""Re-authenticating a session with a passkey: the page's button, the JSON endpoint, bad input, the limit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.assurance import session_assurance
from passkeys import services
from passkeys.models import Passkey
from tests.passkeys.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

PAGE_URL = reverse("mfa:reauthenticate")
URL = reverse("mfa:reauthenticate_passkey")
OPTIONS_URL = "/api/auth/reauthenticate/passkey/options/"
SENSITIVE = reverse("accounts:password_change")


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=settings.SITE_URL)


def _passkey(user, authenticator) -> Passkey:
    ceremony = services.passkey_registration_begin(user=user)
    return services.passkey_register(
        user=user, state=ceremony.state, credential=authenticator.create(ceremony.options), name="Laptop"
    )


@pytest.fixture
def stale(clock, client, user, authenticator) -> Client:
    """A session of ``user`` (who has a passkey) whose authentication is too old for a sensitive page."""
    _passkey(user, authenticator)
    client.force_login(user)
    clock.shift(timedelta(seconds=301))
    assert client.get(SENSITIVE).status_code == 302
    return client


def _body(client, authenticator, next_url=SENSITIVE, **get_kwargs) -> dict:
    begin = client.post(OPTIONS_URL)
    assert begin.status_code == 200, begin.content
    credential = authenticator.get(begin.json()["options"], **get_kwargs)
    return {"state": begin.json()["state"], "credential": credential, "next": next_url}


def _post(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


def test_the_page_offers_a_passkey_only_to_a_user_with_one(client, user, user_factory, authenticator):
    client.force_login(user_factory(username="bob"))
    assert "Use a passkey" not in client.get(PAGE_URL).content.decode()
    _passkey(user, authenticator)
    client.force_login(user)
    page = client.get(PAGE_URL, {"next": SENSITIVE}).content.decode()
    assert "Use a passkey" in page and 'src="/static/js/passkeys.js"' in page
    assert f'data-options-url="{OPTIONS_URL}"' in page and f'data-login-url="{URL}"' in page


@pytest.mark.parametrize(("synced", "method"), [(False, "hwk"), (True, "swk")])
def test_a_passkey_upgrades_the_session_in_place(clock, client, user, synced, method):
    authenticator = SoftAuthenticator(origin=settings.SITE_URL, synced=synced)
    _passkey(user, authenticator)
    client.force_login(user)
    before = session_assurance(client.session)
    clock.shift(timedelta(seconds=301))
    key = client.session.session_key
    response = _post(client, _body(client, authenticator))
    assert response.status_code == 200 and response.json() == {"redirect": SENSITIVE}
    after = session_assurance(client.session)
    assert after.is_fresh() and after.auth_time == before.auth_time + 301
    assert method in after.amr and "mfa" in after.amr
    assert client.session.session_key != key  # cycled, as the password path does
    assert client.get(SENSITIVE).status_code == 200


def test_an_offsite_next_goes_to_the_mfa_page(stale, authenticator):
    response = _post(stale, _body(stale, authenticator, next_url="https://evil.example/"))
    assert response.status_code == 200 and response.json() == {"redirect": reverse("mfa:mfa")}


def _refused(client, body, status, code):
    key = client.session.session_key
    response = _post(client, body)
    assert response.status_code == status and response.json()["code"] == code, response.content
    assert client.session.session_key == key and not session_assurance(client.session).is_fresh()
    assert client.get(SENSITIVE).status_code == 302


def test_another_users_passkey_is_401(stale, user_factory):
    bob_authenticator = SoftAuthenticator(origin=settings.SITE_URL)
    _passkey(user_factory(username="bob"), bob_authenticator)
    begin = stale.post(OPTIONS_URL).json()
    assert len(begin["options"]["allowCredentials"]) == 1
    body = {"state": begin["state"], "credential": bob_authenticator.get(begin["options"])}
    _refused(stale, body, 401, "passkey_invalid")


@pytest.mark.parametrize(
    "get_kwargs", [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"tamper": True}]
)
def test_another_origin_rp_id_or_signature_is_401(stale, authenticator, get_kwargs):
    _refused(stale, _body(stale, authenticator, **get_kwargs), 401, "passkey_invalid")


def test_a_used_expired_or_another_purposes_state_is_400(clock, stale, user, authenticator):
    body = _body(stale, authenticator)
    assert _post(stale, body).status_code == 200
    clock.shift(timedelta(seconds=301))
    _refused(stale, body, 400, "passkey_state_invalid")  # used
    expired = _body(stale, authenticator)
    clock.shift(timedelta(seconds=301))  # WEBAUTHN_CHALLENGE_SECONDS
    _refused(stale, expired, 400, "passkey_state_invalid")
    # The states of a passwordless login and of alice's own second step serve other purposes.
    for ceremony in (services.passkey_login_begin(), services.passkey_login_begin(user=user)):
        credential = authenticator.get(ceremony.options)
        _refused(stale, {"state": ceremony.state, "credential": credential}, 400, "passkey_state_invalid")


@pytest.mark.parametrize(
    "raw",
    ["not json", "[]", json.dumps({"state": "x"}), json.dumps({"state": "x", "credential": {"id": 1}})],
)
def test_malformed_input_is_400(stale, raw):
    response = stale.post(URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert not session_assurance(stale.session).is_fresh()


def test_the_endpoints_need_the_session_and_the_csrf_token(user, authenticator):
    _passkey(user, authenticator)
    anonymous = Client()
    assert anonymous.post(OPTIONS_URL).status_code in (401, 403)
    assert anonymous.post(URL, "{}", content_type="application/json").status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(OPTIONS_URL).status_code == 403
    assert strict.post(URL, "{}", content_type="application/json").status_code == 403


def test_refused_assertions_count_toward_the_lock(stale, authenticator, settings, password):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    for _ in range(3):
        assert _post(stale, _body(stale, authenticator, tamper=True)).status_code == 401
    refused = _post(stale, _body(stale, authenticator))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "throttled"
    assert not session_assurance(stale.session).is_fresh()
    # The same lock as wrong passwords: the page refuses the password too.
    locked = stale.post(PAGE_URL, {"password": password})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0


def test_refused_second_step_assertions_count_toward_the_lock(client, user, authenticator, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    _passkey(user, authenticator)
    page = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery staple"})
    token = page.context["form"].initial["mfa_token"]

    def step(**get_kwargs):
        begin = client.post(
            "/api/auth/mfa/passkey/options/", {"mfa_token": token}, content_type="application/json"
        )
        credential = authenticator.get(begin.json()["options"], **get_kwargs)
        body = {"mfa_token": token, "state": begin.json()["state"], "credential": credential}
        return client.post("/accounts/login/mfa/passkey/", json.dumps(body), content_type="application/json")

    for _ in range(3):
        assert step(tamper=True).status_code == 401
    refused = step()
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert client.get("/accounts/profile/").status_code == 302
