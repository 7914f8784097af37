"""Device cookies (limits.devicecookie): a locked username still lets its owner in from a known device."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from limits.devicecookie import SALT, device_cookie_name, device_token_issue
from limits.ratelimit import login_attempt_register, login_success_register
from tests.livehttp import parallel

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"
COOKIE_LOGIN_URL = "/api/auth/cookie/login/"
HTML_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
LIMIT = 3


@pytest.fixture
def limits(settings):
    settings.LOGIN_RATELIMIT_USERNAME = f"{LIMIT}/15m"
    settings.LOGIN_RATELIMIT_DEVICE = "4/15m"
    settings.LOGIN_RATELIMIT_IP = "1000/m"
    return settings


@pytest.fixture
def root(user_factory):
    return user_factory(username="root", email="root@example.com", is_staff=True, is_superuser=True)


def _lock(username: str = "root") -> None:
    """Lock ``username`` for untrusted clients: LIMIT wrong passwords from a fresh client each."""
    for _ in range(LIMIT):
        response = APIClient().post(TOKEN_URL, {"username": username, "password": "wrong"}, format="json")
        assert response.status_code == 401
    refused = APIClient().post(TOKEN_URL, {"username": username, "password": "wrong"}, format="json")
    assert refused.status_code == 429


def _html(client, path: str, username: str, password: str):
    return client.post(path, {"username": username, "password": password})


def _json(client, path: str, username: str, password: str):
    return client.post(path, {"username": username, "password": password}, content_type="application/json")


LOGINS = {
    "html": (HTML_LOGIN, _html, 302),
    "admin": (ADMIN_LOGIN, _html, 302),
    "token": (TOKEN_URL, _json, 200),
    "cookie": (COOKIE_LOGIN_URL, _json, 200),
}


@pytest.mark.parametrize("first", sorted(LOGINS))
@pytest.mark.parametrize("then", sorted(LOGINS))
def test_locked_username_lets_its_owner_in_from_a_device_used_before(limits, root, password, first, then):
    owner = Client()
    path, post, ok = LOGINS[first]
    response = post(owner, path, "root", password)
    assert response.status_code == ok
    assert device_cookie_name() in response.cookies
    _lock()
    path, post, ok = LOGINS[then]
    assert post(owner, path, "root", password).status_code == ok
    # A new device with the right password is still refused.
    refused = post(Client(), path, "root", password)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1


def test_admin_login_from_a_trusted_device_logs_in(limits, root, password):
    owner = Client()
    assert _html(owner, ADMIN_LOGIN, "root", password).status_code == 302
    # Log out as a browser does (the test client's logout() would drop every cookie).
    assert owner.post("/accounts/logout/").status_code == 302
    assert SESSION_KEY not in owner.session
    _lock()
    assert _html(owner, ADMIN_LOGIN, "root", password)["Location"] == "/admin/"
    assert owner.session[SESSION_KEY] == str(root.pk)


def test_a_new_device_gets_no_cookie_from_a_failed_or_refused_login(limits, root, password):
    stranger = Client()
    _lock()
    assert device_cookie_name() not in _html(stranger, HTML_LOGIN, "root", "wrong").cookies
    assert device_cookie_name() not in _json(stranger, TOKEN_URL, "root", "wrong").cookies
    assert device_cookie_name() not in _json(stranger, TOKEN_URL, "root", password).cookies


def test_a_device_cookie_for_another_username_does_not_bypass(limits, root, user_factory, password):
    user_factory(username="mallory")
    attacker = Client()
    assert _json(attacker, TOKEN_URL, "mallory", password).status_code == 200
    _lock("root")
    assert _json(attacker, TOKEN_URL, "root", password).status_code == 429
    assert _html(attacker, HTML_LOGIN, "root", password).status_code == 429


def test_the_cookie_follows_the_canonical_username(limits, root, password):
    owner = Client()
    assert _json(owner, TOKEN_URL, "ROOT", password).status_code == 200
    _lock("Root ")
    assert _json(owner, TOKEN_URL, "root", password).status_code == 200


class PastSigner(signing.TimestampSigner):
    """A signer whose tokens were signed ``seconds_ago``."""

    def __init__(self, *args, seconds_ago: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds_ago = seconds_ago

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - self.seconds_ago)


def _untrusted_cookies(settings):
    valid = device_token_issue(username="root")
    value, _, signature = valid.rpartition(":")
    age = 30 * 24 * 3600
    settings.DEVICE_COOKIE_AGE = age
    return {
        "tampered signature": f"{value}:{signature[::-1]}",
        "tampered payload": device_token_issue(username="mallory").split(":", 1)[0]
        + valid[valid.index(":") :],
        "expired": PastSigner(salt=SALT, seconds_ago=age + 60).sign_object({"u": "root", "d": "x" * 22}),
        "other salt": signing.dumps({"u": "root", "d": "x" * 22}, salt="another.purpose"),
        "unsigned": '{"u":"root","d":"xxxx"}',
        "list payload": signing.dumps(["root", "x"], salt=SALT),
        "empty device": signing.dumps({"u": "root", "d": ""}, salt=SALT),
        "number device": signing.dumps({"u": "root", "d": 7}, salt=SALT),
        "garbage": "\x00" * 10,
        "huge": "a" * 4000,
    }


@pytest.mark.parametrize(
    "kind",
    [
        "tampered signature",
        "tampered payload",
        "expired",
        "other salt",
        "unsigned",
        "list payload",
        "empty device",
        "number device",
        "garbage",
        "huge",
    ],
)
def test_a_bad_device_cookie_counts_as_untrusted(limits, root, password, settings, kind):
    cookie = _untrusted_cookies(settings)[kind]
    _lock()
    client = Client()
    client.cookies[device_cookie_name()] = cookie
    assert _json(client, TOKEN_URL, "root", password).status_code == 429
    assert _html(client, HTML_LOGIN, "root", password).status_code == 429
    assert SESSION_KEY not in client.session


def test_a_device_token_within_its_age_is_trusted(limits, root, password, settings):
    settings.DEVICE_COOKIE_AGE = 3600
    client = Client()
    client.cookies[device_cookie_name()] = PastSigner(salt=SALT, seconds_ago=3000).sign_object(
        {"u": "root", "d": "d" * 22}
    )
    _lock()
    assert _json(client, TOKEN_URL, "root", password).status_code == 200


def test_a_trusted_device_has_its_own_limit(limits, root, password):
    owner = Client()
    assert _json(owner, TOKEN_URL, "root", password).status_code == 200
    # Its failures lock the device, not the username (LOGIN_RATELIMIT_DEVICE = 4/15m).
    for _ in range(4):
        assert _json(owner, TOKEN_URL, "root", "wrong").status_code == 401
    refused = _json(owner, TOKEN_URL, "root", password)
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.json()["detail"]
    assert _html(owner, HTML_LOGIN, "root", password).status_code == 429
    # Untrusted clients still have the username's whole allowance.
    assert _json(Client(), TOKEN_URL, "root", password).status_code == 200


def test_a_trusted_device_is_warned_about_its_own_lock(limits, root, password):
    owner = Client()
    assert _json(owner, TOKEN_URL, "root", password).status_code == 200
    for _ in range(2):
        _json(owner, TOKEN_URL, "root", "wrong")
    body = _json(owner, TOKEN_URL, "root", "wrong").json()
    assert body["warning"].startswith("1 attempt left before this device is locked for about")


def test_a_trusted_devices_success_refunds_its_own_count(limits, root, password):
    owner = Client()
    assert _json(owner, TOKEN_URL, "root", password).status_code == 200
    for _ in range(10):
        assert _json(owner, TOKEN_URL, "root", "wrong").status_code == 401
        assert _json(owner, TOKEN_URL, "root", password).status_code == 200


def test_the_per_ip_limit_stays_for_trusted_devices(limits, root, password):
    limits.LOGIN_RATELIMIT_IP = "3/m"
    owner = Client()
    assert _json(owner, TOKEN_URL, "root", password).status_code == 200
    assert _json(owner, TOKEN_URL, "root", password).status_code == 200
    assert _json(owner, TOKEN_URL, "root", password).status_code == 200
    assert _json(owner, TOKEN_URL, "root", password).status_code == 429


def test_password_change_on_a_trusted_device_is_not_locked_by_others(limits, root, password):
    owner = Client()
    assert _html(owner, HTML_LOGIN, "root", password).status_code == 302
    _lock()
    new = "An0ther-passphrase!"
    response = owner.post(
        "/accounts/password_change/", {"old_password": password, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    root.refresh_from_db()
    assert root.check_password(new)


class TestCookieAttributes:
    def test_plain_http(self, root, password, settings):
        settings.SESSION_COOKIE_SECURE = False
        cookie = _json(Client(), TOKEN_URL, "root", password).cookies["device"]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"
        assert not cookie["secure"]
        assert not cookie["domain"]
        assert int(cookie["max-age"]) == 365 * 24 * 3600

    def test_secure_cookie_takes_the_host_prefix(self, root, password, settings):
        settings.SESSION_COOKIE_SECURE = True
        response = _html(Client(), HTML_LOGIN, "root", password)
        cookie = response.cookies["__Host-device"]
        assert cookie["secure"] is True
        assert cookie["path"] == "/"
        assert not cookie["domain"]
        assert "device" not in response.cookies

    def test_name_and_age_are_settings(self, root, password, settings):
        settings.DEVICE_COOKIE_NAME = "trusted"
        settings.DEVICE_COOKIE_AGE = 3600
        cookie = _json(Client(), COOKIE_LOGIN_URL, "root", password).cookies["trusted"]
        assert int(cookie["max-age"]) == 3600

    def test_each_login_issues_a_new_device_id(self, root, password):
        client = Client()
        first = _json(client, TOKEN_URL, "root", password).cookies[device_cookie_name()].value
        second = _json(client, TOKEN_URL, "root", password).cookies[device_cookie_name()].value
        ids = {signing.loads(v, salt=SALT)["d"] for v in (first, second)}
        assert len(ids) == 2
        assert {signing.loads(v, salt=SALT)["u"] for v in (first, second)} == {"root"}

    def test_signup_trusts_the_browser_that_created_the_account(self, password):
        data = {"username": "newbie", "email": "n@example.com", "password1": password, "password2": password}
        response = Client().post("/accounts/signup/", data)
        assert response.status_code == 302
        token = response.cookies[device_cookie_name()].value
        assert signing.loads(token, salt=SALT)["u"] == "newbie"


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_from_one_trusted_device_never_exceed_its_limit(rf, limits, root):
    """Counted before the password check, atomically: 20 parallel attempts, 4 allowed."""
    token = device_token_issue(username="root")

    def attempt() -> bool:
        request = rf.post("/")
        request.COOKIES[device_cookie_name()] = token
        try:
            return not login_attempt_register(request, username="root").limited
        finally:
            connections.close_all()

    allowed = parallel([attempt] * 20)
    assert len(allowed) == 20
    assert sum(allowed) == 4
    # The username's own counter was never touched: untrusted clients still get LIMIT tries.
    fresh = [login_attempt_register(rf.post("/"), username="root").limited for _ in range(LIMIT + 1)]
    assert fresh == [False] * LIMIT + [True]


def test_refund_goes_to_the_counter_that_counted(rf, limits):
    token = device_token_issue(username="root")
    trusted = rf.post("/")
    trusted.COOKIES[device_cookie_name()] = token
    for _ in range(LIMIT):
        assert not login_attempt_register(rf.post("/"), username="root").limited
    # A trusted success refunds the device, so the username stays at its limit.
    assert not login_attempt_register(trusted, username="root").limited
    login_success_register(trusted, username="root")
    assert login_attempt_register(rf.post("/"), username="root").limited
