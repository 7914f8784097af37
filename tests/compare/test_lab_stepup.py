"""The step-up lab: the session upgraded in place, the JWT replaced, a copy from before keeping its claims."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.assurance import session_assurance
from api.tokens import AccessToken
from compare import stepup_lab
from tests.api.helpers import COOKIE_LOGIN_URL, assert_error
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

PAGE_URL = reverse("lab-stepup")
RUN_URL = reverse("lab-stepup-run")
REAUTH_URL = reverse("api:reauthenticate")


def _cookie_login(client: Client, username: str = "alice") -> None:
    response = client.post(
        COOKIE_LOGIN_URL, {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200


def _session_login(client: Client) -> None:
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302


def _run(client: Client, **body):
    return client.post(RUN_URL, body, content_type="application/json")


def _access(client: Client) -> AccessToken:
    return AccessToken(client.cookies[settings.JWT_ACCESS_COOKIE].value)


@pytest.fixture
def both(clock, client, user):
    """A browser logged in by session and by JWT cookie as alice, with the password (recorded amr)."""
    _session_login(client)
    _cookie_login(client)
    return client


def test_page_needs_a_login(client):
    response = client.get(PAGE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_page_shows_each_sides_amr_and_auth_time(both):
    now = int(both.get(PAGE_URL).wsgi_request.session["_auth_assurance"]["auth_time"])
    body = both.get(PAGE_URL).content.decode()
    assert body.count(f'data-field="auth_time">{now}<') == 2
    assert body.count('data-fresh="true"') == 2
    assert body.count('data-field="amr">password<') == 2


def test_page_offers_the_missing_login(client, user):
    client.force_login(user)
    body = client.get(PAGE_URL).content.decode()
    assert 'id="jwt-login"' in body
    assert 'data-side="jwt" data-testid' in body and 'data-action="age" data-side="jwt"' not in body


def test_state_after_login_is_fresh_on_both_sides(both):
    body = _run(both, action="state").json()
    assert body["session"]["fresh"] and body["jwt"]["fresh"]
    assert body["session"]["amr"] == body["jwt"]["amr"] == ["pwd"]
    assert body["reauth_seconds"] == settings.REAUTH_SECONDS


def test_aged_session_is_refused_a_sensitive_action_and_points_to_reauthentication(both):
    assert _run(both, action="sensitive", side="session").json()["allowed"] is True
    before = _run(both, action="state").json()["session"]["auth_time"]
    aged = _run(both, action="age", side="session").json()["session"]
    assert aged["fresh"] is False
    assert aged["auth_time"] == before - settings.REAUTH_SECONDS - 1
    # Aging again never moves it forward.
    assert _run(both, action="age", side="session").json()["session"]["auth_time"] == aged["auth_time"]
    refused = assert_error(_run(both, action="sensitive", side="session"), 401, "reauthentication_required")
    assert refused["location"].startswith(reverse("mfa:reauthenticate") + "?next=")
    # The JWT side is untouched.
    assert _run(both, action="sensitive", side="jwt").json()["allowed"] is True


def test_aged_jwt_login_gets_a_new_pair_of_the_same_login_and_a_401(both):
    old = _access(both)
    body = _run(both, action="age", side="jwt").json()["jwt"]
    new = _access(both)
    assert new["jti"] != old["jti"] and new.family_id == old.family_id
    assert new["auth_time"] == old["auth_time"] - settings.REAUTH_SECONDS - 1 == body["auth_time"]
    assert new["amr"] == old["amr"] and body["fresh"] is False
    assert_error(_run(both, action="sensitive", side="jwt"), 401, "reauthentication_required")
    assert _run(both, action="sensitive", side="session").json()["allowed"] is True


def test_session_reauthentication_upgrades_in_place_at_once(both, clock):
    _run(both, action="age", side="session")
    assert_error(_run(both, action="sensitive", side="session"), 401, "reauthentication_required")
    key_before = both.cookies[settings.SESSION_COOKIE_NAME].value
    clock.shift(timedelta(seconds=7))
    body = _run(both, action="reauthenticate", side="session", password=PASSWORD).json()
    assert body["session"]["fresh"] is True and body["session"]["age"] == 0
    # The very next request sees it; the login is the same, under a new key.
    page = both.get(PAGE_URL)
    assert session_assurance(page.wsgi_request.session).auth_time == body["session"]["auth_time"]
    assert page.wsgi_request.user.get_username() == "alice"
    assert both.cookies[settings.SESSION_COOKIE_NAME].value != key_before
    assert _run(both, action="sensitive", side="session").json()["allowed"] is True


def test_wrong_password_changes_nothing(both):
    aged = _run(both, action="age", side="session").json()["session"]
    response = _run(both, action="reauthenticate", side="session", password="not-it")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert _run(both, action="state").json()["session"]["auth_time"] == aged["auth_time"]


def test_copy_taken_before_step_up_keeps_its_old_claims_here_and_at_the_verifier(
    both, clock, rf, user, verifier
):
    _run(both, action="age", side="jwt")
    aged_time = _access(both)["auth_time"]
    taken = _run(both, action="copy", side="jwt")
    assert taken.status_code == 201
    copy = taken.json()
    assert copy["auth_time"] == aged_time and copy["amr"] == ["pwd"]
    clock.shift(timedelta(seconds=5))
    stepped = both.post(REAUTH_URL, {"password": PASSWORD}, content_type="application/json")
    assert stepped.status_code == 200
    state = _run(both, action="state").json()["jwt"]
    assert state["fresh"] is True and state["auth_time"] == int(time.time())
    again = both.post(copy["replay_url"], content_type="application/json").json()
    # The copy still proves the aged auth_time: to this instance, and to the verifier, until exp.
    assert again["auth_time"] == aged_time and again["amr"] == ["pwd"]
    instance = {"status": 200, "code": "", "auth": "jwt-cookie", "accepted": True, "fresh": False}
    assert again["instance"] == instance
    assert again["verifier"]["accepted"] is True
    assert again["verifier"]["auth_time"] == aged_time and again["verifier"]["amr"] == ["pwd"]
    assert 0 < again["expires_in"] <= copy["expires_in"]
    # The lab keeps the copy no longer than it is valid; past exp (and the
    # leeway) both refuse it, and its claims still say what it held.
    assert copy["ttl"] == copy["expires_in"] + 1
    record = stepup_lab.store.get(request=both.get(PAGE_URL).wsgi_request, lab_id=copy["lab_id"], user=user)
    clock.shift(timedelta(seconds=again["expires_in"] + settings.SIMPLE_JWT["LEEWAY"] + 6))
    late = stepup_lab.copy_ask(request=rf.get("/"), lab_id=copy["lab_id"], record=record)
    assert late["instance"]["accepted"] is False and late["instance"]["code"] == "token_expired"
    assert late["verifier"]["accepted"] is False and late["verifier"]["code"] == "token_expired"
    assert late["auth_time"] == aged_time and late["expires_in"] == 0


def test_copy_without_a_verifier_says_so(both, no_verifier):
    copy = _run(both, action="copy", side="jwt")
    assert copy.status_code == 201
    assert copy.json()["verifier"]["available"] is False
    assert copy.json()["instance"]["accepted"] is True


def test_copy_belongs_to_its_user(both, django_user_model, verifier):
    lab_id = _run(both, action="copy", side="jwt").json()["lab_id"]
    django_user_model.objects.create_user(username="bob", password=PASSWORD)
    stranger = Client()
    _cookie_login(stranger, "bob")
    url = reverse("lab-stepup-copy", args=[lab_id])
    assert_error(stranger.post(url, content_type="application/json"), 404)
    assert_error(both.post(reverse("lab-stepup-copy", args=["0" * 32]), content_type="application/json"), 404)
    assert_error(both.post(reverse("lab-stepup-copy", args=["nope"]), content_type="application/json"), 404)
    assert_error(Client().post(url, content_type="application/json"), 401)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"action": "fly", "side": "session"},
        {"action": "age"},
        {"action": "age", "side": "both"},
        {"action": "age", "side": ["session"]},
        {"action": "copy", "side": "session"},
        {"action": "reauthenticate", "side": "session"},
        {"action": "reauthenticate", "side": "jwt", "password": PASSWORD},
        {"action": "reauthenticate", "side": "session", "password": "x" * 5000},
    ],
)
def test_bad_input_is_400_and_changes_nothing(both, body):
    before = _run(both, action="state").json()
    response = _run(both, **body)
    assert response.status_code == 400
    assert _run(both, action="state").json() == before


def test_malformed_body_is_4xx(both):
    assert both.post(RUN_URL, "{", content_type="application/json").status_code == 400
    assert both.post(RUN_URL, "action=state", content_type="text/plain").status_code == 415


@pytest.mark.parametrize("side", ["session", "jwt"])
def test_side_not_logged_in_is_409(client, user, side):
    if side == "jwt":
        client.force_login(user)
    else:
        _cookie_login(client)
    for action in ("age", "sensitive", "reauthenticate"):
        extra = {"password": PASSWORD} if action == "reauthenticate" and side == "session" else {}
        if action == "reauthenticate" and side == "jwt":
            continue
        assert_error(_run(client, action=action, side=side, **extra), 409)
    if side == "jwt":
        assert_error(_run(client, action="copy", side="jwt"), 409)


def test_anonymous_is_401_get_is_405_and_csrf_is_checked(client, user):
    assert_error(_run(client, action="state"), 401)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    assert _run(csrf_client, action="age", side="session").status_code == 403
    assert csrf_client.get(RUN_URL).status_code == 405


def test_lab_actions_are_limited_per_client_ip(both, settings):
    settings.LAB_RATELIMIT_IP = "3/m"
    for _ in range(3):
        assert _run(both, action="state").status_code == 200
    limited = _run(both, action="age", side="session")
    assert limited.status_code == 429 and limited["Retry-After"]
    assert _run(both, action="state").status_code == 429
    assert get_user_model().objects.get(username="alice")  # nothing else changed
