"""The cookie transport: /api/auth/cookie/login/, /refresh/, /logout/ and cookie-authenticated requests."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from api.tokens import AccessToken, RefreshToken
from tests.api.helpers import (
    COOKIE_LOGIN_URL,
    COOKIE_LOGOUT_URL,
    COOKIE_REFRESH_URL,
    LOGOUT_ALL_URL,
    ME_URL,
    REFRESH_URL,
    assert_error,
    csrf_header,
)
from tests.helpers import cookies_plain_http, durations_masked

pytestmark = pytest.mark.django_db


def test_login_sets_httponly_cookies_and_no_tokens_in_body(user, password):
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"user", "access_expires", "refresh_expires"}
    assert body["user"]["username"] == "alice" and "password" not in body["user"]
    access, refresh = (
        response.cookies[settings.JWT_ACCESS_COOKIE],
        response.cookies[settings.JWT_REFRESH_COOKIE],
    )
    for morsel in (access, refresh):
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["secure"] is True  # tests run with DEBUG off, like production
        assert morsel.value not in response.content.decode()
    assert access["path"] == "/"
    assert refresh["path"] == "/api/auth/cookie/"
    assert AccessToken(access.value)["fam"] == RefreshToken(refresh.value)["fam"]
    assert response.cookies[settings.CSRF_COOKIE_NAME].value


def test_cookies_not_secure_in_debug(user, password, settings):
    cookies_plain_http(settings)
    response = APIClient().post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert not response.cookies["access_token"]["secure"]
    assert not response.cookies["refresh_token"]["secure"]


def _durations_masked(body: dict) -> dict:
    return {key: durations_masked(value) for key, value in body.items()}


def test_login_failures_match_token_endpoint(user, password, settings):
    settings.LOGIN_RATELIMIT_USERNAME = "2/15m"
    client = APIClient()
    bad = client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": "x"}, format="json")
    unknown = client.post(COOKIE_LOGIN_URL, {"username": "ghost", "password": "x"}, format="json")
    # Alike but for the lock's duration in the warning (each counter has its own window).
    assert _durations_masked(assert_error(bad, 401, "invalid_credentials")) == _durations_masked(
        assert_error(unknown, 401, "invalid_credentials")
    )
    assert bad.json()["warning"].startswith("1 attempt left before this username is locked for about ")
    assert settings.JWT_ACCESS_COOKIE not in bad.cookies
    client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": "y"}, format="json")
    response = client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert settings.JWT_ACCESS_COOKIE not in response.cookies


def test_login_bad_input(user):
    client = APIClient()
    assert_error(client.post(COOKIE_LOGIN_URL, {}, format="json"), 400, "invalid")
    assert_error(client.post(COOKIE_LOGIN_URL, "{", content_type="application/json"), 400, "parse_error")
    assert_error(
        client.post(COOKIE_LOGIN_URL, "username=alice", content_type="multipart/form-data; boundary=x"), 415
    )
    assert_error(client.get(COOKIE_LOGIN_URL), 405)


def test_login_ignores_a_stale_access_cookie(user, password):
    client = APIClient()
    client.cookies[settings.JWT_ACCESS_COOKIE] = "garbage"
    response = client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200


def test_cookie_authenticates_me_as_jwt_cookie(user, cookie_login):
    client = cookie_login(user)
    response = client.get(ME_URL)
    assert response.status_code == 200
    assert response.json()["auth"] == "jwt-cookie"


def test_unsafe_method_with_cookie_needs_csrf(user, cookie_login):
    client = cookie_login(user)
    assert_error(client.patch(ME_URL, {"first_name": "Eve"}, format="json"), 403, "csrf_failed")
    assert_error(
        client.patch(ME_URL, {"first_name": "Eve"}, format="json", HTTP_X_CSRFTOKEN="wrong" * 8),
        403,
        "csrf_failed",
    )
    user.refresh_from_db()
    assert user.first_name == "Alice"
    response = client.patch(ME_URL, {"first_name": "Eve"}, format="json", **csrf_header(client))
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.first_name == "Eve"


def test_bad_access_cookie_is_401(user):
    client = APIClient()
    client.cookies[settings.JWT_ACCESS_COOKIE] = "not.a.token"
    assert_error(client.get(ME_URL), 401, "token_not_valid")


def test_refresh_token_in_access_cookie_is_refused(user, cookie_login):
    client = cookie_login(user)
    client.cookies[settings.JWT_ACCESS_COOKIE] = client.cookies[settings.JWT_REFRESH_COOKIE].value
    assert_error(client.get(ME_URL), 401, "token_not_valid")


def test_cookie_refresh_needs_csrf_and_rotates_both(user, cookie_login, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 0  # strict: the grace period has its own tests
    client = cookie_login(user)
    old_access, old_refresh = (
        client.cookies[settings.JWT_ACCESS_COOKIE].value,
        client.cookies[settings.JWT_REFRESH_COOKIE].value,
    )
    assert_error(client.post(COOKIE_REFRESH_URL), 403, "csrf_failed")
    response = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert set(response.json()) == {"user", "access_expires", "refresh_expires"}
    new_access, new_refresh = (
        response.cookies[settings.JWT_ACCESS_COOKIE].value,
        response.cookies[settings.JWT_REFRESH_COOKIE].value,
    )
    assert new_access != old_access and new_refresh != old_refresh
    assert response.cookies[settings.JWT_REFRESH_COOKIE]["path"] == "/api/auth/cookie/"
    assert client.get(ME_URL).json()["auth"] == "jwt-cookie"
    # The rotated-out cookie presented again is reuse: the family dies, cookies are cleared.
    client.cookies[settings.JWT_REFRESH_COOKIE] = old_refresh
    response = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert_error(response, 401, "token_reused")
    assert response.cookies[settings.JWT_REFRESH_COOKIE].value == ""
    other = APIClient()
    other.cookies[settings.JWT_ACCESS_COOKIE] = new_access
    assert_error(other.get(ME_URL), 401, "token_revoked")


def test_cookie_refresh_without_cookie_is_401(user):
    client = APIClient(enforce_csrf_checks=True)
    client.get("/")  # the home page sets the csrftoken cookie
    assert_error(client.post(COOKIE_REFRESH_URL, **csrf_header(client)), 401, "not_authenticated")


def test_cookie_refresh_with_garbage_cookie_is_401(user, cookie_login):
    client = cookie_login(user)
    client.cookies[settings.JWT_REFRESH_COOKIE] = "garbage"
    response = client.post(COOKIE_REFRESH_URL, **csrf_header(client))
    assert_error(response, 401, "token_not_valid")
    # The shared 401 (with its WWW-Authenticate), and the dead cookies cleared.
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert (
        response.cookies[settings.JWT_ACCESS_COOKIE].value == ""
        and response.cookies[settings.JWT_REFRESH_COOKIE].value == ""
    )


def test_logout_needs_csrf_clears_cookies_and_revokes_both(user, cookie_login, api_client):
    client = cookie_login(user)
    access, refresh = (
        client.cookies[settings.JWT_ACCESS_COOKIE].value,
        client.cookies[settings.JWT_REFRESH_COOKIE].value,
    )
    assert_error(client.post(COOKIE_LOGOUT_URL), 403, "csrf_failed")
    response = client.post(COOKIE_LOGOUT_URL, **csrf_header(client))
    assert response.status_code == 204
    assert response.cookies[settings.JWT_ACCESS_COOKIE].value == ""
    assert response.cookies[settings.JWT_REFRESH_COOKIE].value == ""
    assert response.cookies[settings.JWT_REFRESH_COOKIE]["path"] == "/api/auth/cookie/"
    # Both tokens are dead even when replayed by hand.
    replay = APIClient()
    replay.cookies[settings.JWT_ACCESS_COOKIE] = access
    assert_error(replay.get(ME_URL), 401, "token_revoked")
    assert_error(api_client.post(REFRESH_URL, {"refresh": refresh}, format="json"), 401, "token_revoked")


def test_logout_without_cookies_is_204(user):
    client = APIClient(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32
    assert client.post(COOKIE_LOGOUT_URL, HTTP_X_CSRFTOKEN="a" * 32).status_code == 204


def test_bearer_needs_no_csrf(user, obtain):
    pair = obtain(user)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = client.patch(ME_URL, {"last_name": "Liddell"}, format="json")
    assert response.status_code == 200
    assert response.json()["auth"] == "jwt-bearer"


@pytest.mark.parametrize("url", [COOKIE_REFRESH_URL, COOKIE_LOGOUT_URL, LOGOUT_ALL_URL])
def test_bodyless_endpoints_refuse_malformed_bodies(user, cookie_login, url):
    client = cookie_login(user)
    assert_error(
        client.post(url, "{", content_type="application/json", **csrf_header(client)), 400, "parse_error"
    )
    assert_error(client.post(url, "x=1", content_type="text/plain", **csrf_header(client)), 415)
    # Without the CSRF header: the CSRF check parses the body first, so the media type answers.
    assert_error(client.post(url, "<x/>", content_type="application/xml"), 415, "unsupported_media_type")
    # Nothing happened: the login still works.
    assert client.get(ME_URL).status_code == 200
