"""The revocation lab: the site refuses a revoked credential at once, the stateless verifier until exp."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.urls import reverse

from limits.devicecookie import device_cookie_name
from tests.api.helpers import COOKIE_LOGIN_URL, ME_URL, assert_error
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

PAGE_URL = reverse("lab-revocation")
RUN_URL = reverse("lab-revocation-run")


def _replay_url(lab_id: str) -> str:
    return reverse("lab-revocation-replay", args=[lab_id])


def _cookie_login(client: Client, username: str = "alice") -> None:
    response = client.post(
        COOKIE_LOGIN_URL, {"username": username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200


def _run(client: Client, **body):
    return client.post(RUN_URL, body, content_type="application/json")


@pytest.fixture
def both(client, user):
    """A browser logged in by session and by JWT cookie as alice."""
    client.force_login(user)
    _cookie_login(client)
    return client


def test_page_needs_a_login(client):
    response = client.get(PAGE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_page_offers_the_missing_login(client, user):
    client.force_login(user)
    body = client.get(PAGE_URL).content.decode()
    assert "Logged in by session as <strong>alice</strong>" in body
    assert 'id="jwt-login"' in body  # the JWT cookie login form, since that way is not logged in
    assert 'data-action="jwt_revoke" disabled' in body


def test_page_for_a_jwt_cookie_login_alone(client, user):
    _cookie_login(client)
    body = client.get(PAGE_URL).content.decode()
    assert "Logged in by JWT cookie as <strong>alice</strong>" in body
    assert "Log in with a session first" in body
    assert 'data-action="session_end" disabled' in body


def test_revoking_the_jwt_login_instance_refuses_verifier_accepts_until_exp(both, user, verifier):
    old_access = both.cookies[settings.JWT_ACCESS_COOKIE].value
    response = _run(both, action="jwt_revoke")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["jwt"] == {"status": 401, "code": "token_revoked", "auth": "", "accepted": False}
    assert body["verifier"]["available"] and body["verifier"]["accepted"]
    assert 0 < body["verifier"]["expires_in"] <= 300
    assert 0 < body["expires_in"] <= 300
    assert body["session"] is None  # the session was not revoked: nothing to replay
    assert body["now"] == {"session": True, "jwt": False}
    # No token in the answer, and the dead cookies are cleared.
    assert old_access not in response.content.decode()
    assert both.cookies[settings.JWT_ACCESS_COOKIE].value == ""
    # The session lives on; the old access token is dead at the site itself.
    assert both.get(ME_URL).json()["auth"] == "session"
    assert Client().get(ME_URL, HTTP_AUTHORIZATION=f"Bearer {old_access}").status_code == 401

    again = both.post(_replay_url(body["lab_id"]), content_type="application/json")
    assert again.status_code == 200
    assert again.json()["jwt"]["code"] == "token_revoked"
    assert again.json()["verifier"]["accepted"] is True


def test_ending_the_session_replays_the_old_session_cookie(both, verifier):
    old_key = both.cookies[settings.SESSION_COOKIE_NAME].value
    body = _run(both, action="session_end").json()
    assert body["session"] == {"status": 401, "code": "not_authenticated", "auth": "", "accepted": False}
    assert body["jwt"] is None and body["verifier"] is None
    assert body["now"] == {"session": False, "jwt": True}
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert other.get(ME_URL).status_code == 401
    # The JWT cookie login is untouched.
    assert both.get(ME_URL).json()["auth"] == "jwt-cookie"


def test_logout_everywhere_kills_both_and_the_verifier_still_accepts(both, user, user_factory, verifier):
    elsewhere = Client()
    elsewhere.force_login(user)
    body = _run(both, action="logout_all").json()
    assert body["session"]["code"] == "not_authenticated"
    assert body["jwt"]["code"] == "token_revoked"
    assert body["verifier"]["accepted"] is True
    assert body["now"] == {"session": False, "jwt": False}
    assert elsewhere.get(ME_URL).status_code == 401
    # Logged out entirely, the browser can still ask again about its own lab run.
    assert both.get(ME_URL).status_code == 401
    again = both.post(_replay_url(body["lab_id"]), content_type="application/json")
    assert again.status_code == 200 and again.json()["verifier"]["accepted"] is True


def test_password_change_through_django_form_revokes_and_keeps_this_session(both, user, verifier):
    old_key = both.cookies[settings.SESSION_COOKIE_NAME].value
    new = "a brand new passphrase 42"
    body = _run(
        both, action="password_change", old_password=PASSWORD, new_password1=new, new_password2=new
    ).json()
    assert body["session"]["code"] == "not_authenticated"
    assert body["jwt"]["code"] == "token_revoked"
    assert body["verifier"]["accepted"] is True
    assert body["now"] == {"session": True, "jwt": False}
    assert both.cookies[settings.SESSION_COOKIE_NAME].value != old_key
    assert both.get(ME_URL).json()["auth"] == "session"
    user.refresh_from_db()
    assert user.check_password(new)


def test_password_change_with_a_wrong_current_password_changes_nothing(both, user, verifier):
    response = _run(
        both, action="password_change", old_password="wrong", new_password1="x" * 20, new_password2="x" * 20
    )
    body = assert_error(response, 400, "invalid")
    assert "old_password" in body["errors"]
    assert both.get(ME_URL).status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_guessing_the_current_password_in_the_lab_is_limited_like_a_login(both, user, verifier, settings):
    # The lab's password change checks the current password: a failed guess
    # counts as a failed login of the user, under the same limits. This
    # browser logged in before, so it counts against its device's own limit.
    settings.LOGIN_RATELIMIT_DEVICE = "3/15m"
    wrong = {"action": "password_change", "new_password1": "x" * 20, "new_password2": "x" * 20}
    for _ in range(3):
        assert_error(_run(both, old_password="wrong", **wrong), 400, "invalid")
    # Locked now, even with the right password, and the login form says the same.
    response = _run(both, old_password=PASSWORD, **wrong)
    body = assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert body["detail"].startswith("Too many login attempts.")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    login = {"username": "alice", "password": PASSWORD}
    assert both.post("/api/auth/token/", login, content_type="application/json").status_code == 429


def test_guessing_the_current_password_without_a_device_cookie_locks_the_username(
    both, user, verifier, settings
):
    settings.LOGIN_RATELIMIT_USERNAME = "3/15m"
    both.cookies.pop(device_cookie_name())
    wrong = {"action": "password_change", "new_password1": "x" * 20, "new_password2": "x" * 20}
    for _ in range(3):
        assert_error(_run(both, old_password="wrong", **wrong), 400, "invalid")
    assert_error(_run(both, old_password=PASSWORD, **wrong), 429, "throttled")
    login = {"username": "alice", "password": PASSWORD}
    assert Client().post("/api/auth/token/", login, content_type="application/json").status_code == 429


def test_verifier_down_the_page_still_gets_the_instance_answer(both, no_verifier):
    body = _run(both, action="jwt_revoke").json()
    assert body["jwt"]["code"] == "token_revoked"
    assert body["verifier"]["available"] is False
    assert body["verifier"]["url"] == no_verifier + "/whoami"
    assert body["expires_in"] > 0


def test_the_lab_keeps_the_token_no_longer_than_its_lifetime(both, verifier, settings):
    from authcache.shared import shared_cache

    body = _run(both, action="jwt_revoke").json()
    assert body["ttl"] <= 301
    assert shared_cache().get(f"lab:revocation:{body['lab_id']}")["access"]


def test_mechanism_not_logged_in_is_409_and_changes_nothing(client, user):
    client.force_login(user)
    assert_error(_run(client, action="jwt_revoke"), 409, "no_jwt_login")
    assert client.get(ME_URL).status_code == 200
    jwt_only = Client()
    _cookie_login(jwt_only)
    assert_error(_run(jwt_only, action="session_end"), 409, "no_session")
    assert jwt_only.get(ME_URL).status_code == 200


def test_bad_action_is_400(both):
    assert_error(_run(both, action="explode"), 400, "invalid")
    assert_error(both.post(RUN_URL, "not json", content_type="application/json"), 400)
    assert both.get(ME_URL).status_code == 200


def test_anonymous_is_401(client):
    assert_error(_run(client, action="logout_all"), 401, "not_authenticated")
    assert_error(client.post(_replay_url("0" * 32), content_type="application/json"), 401)


def test_get_on_post_endpoints_is_405(both):
    assert_error(both.get(RUN_URL), 405)
    assert_error(both.get(_replay_url("0" * 32)), 405)


def test_csrf_is_required(user, password):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(PAGE_URL)  # sets csrftoken
    assert_error(_run(client, action="logout_all"), 403, "csrf_failed")
    assert client.get(ME_URL).status_code == 200
    ok = client.post(
        RUN_URL,
        {"action": "session_end"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies[settings.CSRF_COOKIE_NAME].value,
    )
    assert ok.status_code == 201


def test_wrong_or_foreign_lab_id_is_404(both, user_factory, verifier):
    lab_id = _run(both, action="jwt_revoke").json()["lab_id"]
    assert_error(both.post(_replay_url("f" * 32), content_type="application/json"), 404, "not_found")
    assert_error(both.post(_replay_url("not-an-id"), content_type="application/json"), 404, "not_found")
    bob = Client()
    bob.force_login(user_factory(username="bob"))
    assert_error(bob.post(_replay_url(lab_id), content_type="application/json"), 404, "not_found")
    # A logged-out browser asks only about the lab its signed cookie names.
    stranger = Client()
    stranger.cookies["lab_revocation"] = "forged"
    assert_error(
        stranger.post(_replay_url(lab_id), content_type="application/json"), 401, "not_authenticated"
    )
    signer = signing.get_cookie_signer(salt="lab_revocation" + "compare.lab.revocation")
    stranger.cookies["lab_revocation"] = signer.sign("f" * 32)
    assert_error(stranger.post(_replay_url(lab_id), content_type="application/json"), 404, "not_found")


def test_replay_never_touches_the_outer_request_state(both, user, verifier):
    # The in-process replay runs the full middleware stack; the lab's own
    # answer must still carry this browser's session, unchanged.
    key = both.cookies[settings.SESSION_COOKIE_NAME].value
    _run(both, action="jwt_revoke")
    assert both.cookies[settings.SESSION_COOKIE_NAME].value == key
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_lab_actions_are_limited_per_client_ip(both, verifier, settings):
    # A run and its replays each replay credentials and ask the verifier.
    settings.LAB_RATELIMIT_IP = "3/m"
    run = _run(both, action="jwt_revoke")
    assert run.status_code == 201
    replay = _replay_url(run.json()["lab_id"])
    assert both.post(replay).status_code == 200
    assert both.post(replay).status_code == 200
    refused = both.post(replay)
    body = assert_error(refused, 429, "throttled")
    assert body["detail"].startswith("Too many lab actions. Try again in about")
    assert 0 < int(refused["Retry-After"]) <= 60
    # Pages and other clients are not counted.
    assert both.get(PAGE_URL).status_code == 200
    assert Client(REMOTE_ADDR="10.0.0.9").post(replay).status_code == 401  # counted apart: not refused


def test_the_labs_password_change_needs_a_recent_authentication(clock, both, user):
    clock.shift(timedelta(seconds=301))
    new = "A-brand-new-passw0rd"
    response = _run(
        both, action="password_change", old_password=PASSWORD, new_password1=new, new_password2=new
    )
    assert_error(response, 401, "reauthentication_required")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    clock.shift(timedelta(seconds=200))
    assert both.post(reverse("mfa:reauthenticate"), {"password": PASSWORD}).status_code == 302
    ok = _run(both, action="password_change", old_password=PASSWORD, new_password1=new, new_password2=new)
    assert ok.status_code == 201, ok.content
