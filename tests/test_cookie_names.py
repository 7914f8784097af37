"""Cookie name prefixes (OWASP ASVS 5.0 V3.3.1): __Host-/__Secure- over HTTPS, plain names on plain HTTP.

A sibling subdomain can set a cookie for the parent domain ("cookie tossing");
a browser refuses ``__Host-`` cookies that carry a Domain, so with the
prefixed names a tossed ``sessionid``/``access_token``/``csrftoken`` is never
read. The settings' own choice per mode is checked in subprocesses
(tests/test_deploy.py reads the environment the same way).
"""

from __future__ import annotations

import json

import pytest
from django.core import checks
from django.urls import reverse
from rest_framework.test import APIClient

from api.checks import cookie_prefixes_check
from authdemo.cookienames import cookie_name, cookie_name_forms
from tests.api.helpers import (
    COOKIE_LOGIN_URL,
    COOKIE_LOGOUT_URL,
    COOKIE_REFRESH_URL,
    ME_URL,
    TOKEN_URL,
    assert_error,
)
from tests.helpers import PLAIN_COOKIE_NAMES, SECURE_COOKIE_NAMES, cookies_https, cookies_plain_http
from tests.test_deploy import _base_env, _manage, _production_env

pytestmark = pytest.mark.django_db

_NAMES = (
    "from django.conf import settings as s; import json; print(json.dumps({n: getattr(s, n) for n in ["
    "'SESSION_COOKIE_NAME', 'CSRF_COOKIE_NAME', 'JWT_ACCESS_COOKIE', 'JWT_REFRESH_COOKIE', "
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'JWT_COOKIE_SECURE']}))"
)


def _names(env: dict[str, str]) -> dict:
    result = _manage("shell", "--no-imports", "-c", _NAMES, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(params=["https", "plain-http"])
def mode(request, settings) -> dict[str, str]:
    """Both configurations in turn; return the cookie names expected in it."""
    if request.param == "https":
        cookies_https(settings)
        return SECURE_COOKIE_NAMES
    cookies_plain_http(settings)
    return PLAIN_COOKIE_NAMES


def test_cookie_name_prefixes_only_secure_cookies():
    assert cookie_name("sessionid", secure=True) == "__Host-sessionid"
    assert cookie_name("refresh_token", secure=True, host_only=False) == "__Secure-refresh_token"
    assert cookie_name("sessionid", secure=False) == "sessionid"
    assert cookie_name("refresh_token", secure=False, host_only=False) == "refresh_token"
    assert cookie_name_forms("csrftoken") == ("csrftoken", "__Host-csrftoken", "__Secure-csrftoken")


def test_production_settings_use_the_prefixed_names(tmp_path):
    prod = _names(_production_env(tmp_path))
    assert prod["SESSION_COOKIE_SECURE"] is prod["CSRF_COOKIE_SECURE"] is prod["JWT_COOKIE_SECURE"] is True
    assert {k: prod[k] for k in SECURE_COOKIE_NAMES} == SECURE_COOKIE_NAMES


def test_debug_settings_keep_the_plain_names(tmp_path):
    dev = _names(_base_env(tmp_path, DJANGO_DEBUG="1"))
    assert dev["SESSION_COOKIE_SECURE"] is dev["JWT_COOKIE_SECURE"] is False
    assert {k: dev[k] for k in PLAIN_COOKIE_NAMES} == PLAIN_COOKIE_NAMES


def test_jwt_names_follow_their_own_secure_switch(tmp_path):
    # JWT_COOKIE_SECURE=0 in production: a __Host- name would be refused by the browser.
    mixed = _names(_production_env(tmp_path, JWT_COOKIE_SECURE="0"))
    assert (mixed["JWT_ACCESS_COOKIE"], mixed["JWT_REFRESH_COOKIE"]) == ("access_token", "refresh_token")
    assert mixed["SESSION_COOKIE_NAME"] == "__Host-sessionid"


def test_production_cookies_carry_the_attributes_their_prefix_demands(user, password, settings, client):
    cookies_https(settings)
    response = APIClient().post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    for name in ("__Host-access_token", "__Host-csrftoken"):
        morsel = response.cookies[name]
        assert (morsel["secure"], morsel["path"], morsel["domain"]) == (True, "/", ""), name
    refresh = response.cookies["__Secure-refresh_token"]
    assert refresh["secure"] is True and refresh["domain"] == ""
    assert refresh["path"] == "/api/auth/cookie/" != "/"
    assert not {"access_token", "refresh_token", "csrftoken"} & set(response.cookies)
    # The session cookie of the form login too.
    client.get(reverse("accounts:login"))
    form = client.post(reverse("accounts:login"), {"username": "alice", "password": password})
    assert form.status_code == 302
    session = form.cookies["__Host-sessionid"]
    assert (session["secure"], session["path"], session["domain"], session["httponly"]) == (
        True,
        "/",
        "",
        True,
    )
    assert "sessionid" not in form.cookies


def test_plain_http_cookies_have_plain_names_and_no_secure(user, password, settings, client):
    cookies_plain_http(settings)
    response = APIClient().post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert response.status_code == 200
    assert {"access_token", "refresh_token", "csrftoken"} <= set(response.cookies)
    assert not any(name.startswith("__") for name in response.cookies)
    assert not response.cookies["access_token"]["secure"]
    client.get(reverse("accounts:login"))
    form = client.post(reverse("accounts:login"), {"username": "alice", "password": password})
    assert form.status_code == 302 and not form.cookies["sessionid"]["secure"]


def test_cookie_login_refresh_and_logout_work_in_both_modes(user, password, mode):
    client = APIClient(enforce_csrf_checks=True)
    login = client.post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json")
    assert login.status_code == 200
    assert set(mode.values()) - {mode["SESSION_COOKIE_NAME"]} <= set(login.cookies)
    assert client.get(ME_URL).json()["auth"] == "jwt-cookie"
    csrf = {"HTTP_X_CSRFTOKEN": client.cookies[mode["CSRF_COOKIE_NAME"]].value}
    old_access = client.cookies[mode["JWT_ACCESS_COOKIE"]].value
    refreshed = client.post(COOKIE_REFRESH_URL, **csrf)
    assert refreshed.status_code == 200
    assert refreshed.cookies[mode["JWT_ACCESS_COOKIE"]].value not in ("", old_access)
    assert refreshed.cookies[mode["JWT_REFRESH_COOKIE"]].value
    assert client.get(ME_URL).json()["auth"] == "jwt-cookie"
    logout = client.post(COOKIE_LOGOUT_URL, **csrf)
    assert logout.status_code == 204
    assert logout.cookies[mode["JWT_ACCESS_COOKIE"]].value == ""
    assert logout.cookies[mode["JWT_REFRESH_COOKIE"]].value == ""
    assert logout.cookies[mode["JWT_REFRESH_COOKIE"]]["path"] == "/api/auth/cookie/"
    assert_error(client.get(ME_URL), 401)


def test_session_login_and_logout_work_in_both_modes(user, password, mode, client):
    client.get(reverse("accounts:login"))
    assert mode["CSRF_COOKIE_NAME"] in client.cookies
    assert (
        client.post(reverse("accounts:login"), {"username": "alice", "password": password}).status_code == 302
    )
    assert client.get(ME_URL).json()["auth"] == "session"
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.cookies[mode["SESSION_COOKIE_NAME"]].value == ""
    assert client.get(ME_URL).status_code in (401, 403)


def test_a_tossed_unprefixed_cookie_is_not_read_in_production(user, password, settings):
    """A sibling subdomain can set ``access_token``/``csrftoken`` for the parent domain; neither counts."""
    cookies_https(settings)
    pair = APIClient().post(TOKEN_URL, {"username": "alice", "password": password}, format="json").json()
    tossed = APIClient(enforce_csrf_checks=True)
    tossed.cookies["access_token"] = pair["access"]
    assert_error(tossed.get(ME_URL), 401, "not_authenticated")
    # A CSRF cookie of the attacker's choosing, matched by its own header, does not pass the check.
    victim = APIClient(enforce_csrf_checks=True)
    assert (
        victim.post(COOKIE_LOGIN_URL, {"username": "alice", "password": password}, format="json").status_code
        == 200
    )
    victim.cookies["csrftoken"] = "a" * 32
    assert_error(victim.post(COOKIE_LOGOUT_URL, HTTP_X_CSRFTOKEN="a" * 32), 403, "csrf_failed")
    assert victim.get(ME_URL).json()["auth"] == "jwt-cookie"  # nothing was logged out


def test_check_refuses_a_prefix_the_browser_would_drop(settings):
    cookies_https(settings)
    assert cookie_prefixes_check() == []
    cookies_plain_http(settings)
    assert cookie_prefixes_check() == []
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"  # not Secure on plain HTTP
    settings.JWT_REFRESH_COOKIE = "__Secure-refresh_token"
    assert {m.id for m in cookie_prefixes_check()} == {"api.E010", "api.E011"}
    cookies_https(settings)
    settings.CSRF_COOKIE_DOMAIN = ".example.com"  # __Host- forbids a Domain
    settings.JWT_ACCESS_COOKIE = "access_token"  # Secure but unprefixed: can be tossed
    found = cookie_prefixes_check()
    assert {(m.id, m.level) for m in found} == {("api.E010", checks.ERROR), ("api.W010", checks.WARNING)}
    assert any("CSRF_COOKIE_NAME" in m.msg for m in found)
