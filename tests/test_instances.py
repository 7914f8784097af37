"""Two instances over one PostgreSQL and one Redis behave as one site (docs/several-hosts.md).

Each instance is gunicorn as `make serve` starts it, with its own var folder;
they share the database, Redis, the secret key and the JWT signing key. A
session or token made on one works on the other, a revocation on one is
refused by the other at once, and login limits and refresh reuse detection
are counted once for both.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import Session
from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.instances import SERVICES_MODE, SERVICES_ONLY, Browser, instances_running

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SERVICES_MODE, reason=SERVICES_ONLY),
]

LIMIT = 5
GRACE = 5


@pytest.fixture(scope="module")
def hosts(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two instances for the whole module (each test's data is its own: the tables and Redis are flushed)."""
    env = {
        "LOGIN_RATELIMIT_USERNAME": f"{LIMIT}/15m",
        "LOGIN_RATELIMIT_IP": "1000/m",
        "JWT_REFRESH_REUSE_GRACE": str(GRACE),
    }
    with (
        django_db_blocker.unblock(),
        instances_running(2, tmp_path=tmp_path_factory.mktemp("hosts"), env=env) as urls,
    ):
        yield urls


def _token_login(url: str, password: str) -> dict:
    status, pair = Browser().request(
        f"{url}/api/auth/token/", "POST", json_body={"username": "alice", "password": password}
    )
    assert status == 200, pair
    return pair


def _bearer(access: str) -> dict:
    return {"Authorization": f"Bearer {access}"}


def test_one_site_across_instances(hosts, user, password):
    """Sessions, bearer and cookie tokens made on one instance work on the other; the JWKS is the same."""
    a, b = hosts
    browser = Browser()
    assert browser.form_login(a, "alice", password) == 302
    status, me = browser.request(f"{b}/api/me/")
    assert (status, me["auth"], me["username"]) == (200, "session", "alice")
    assert browser.request(f"{b}/accounts/sessions/")[0] == 200

    pair = _token_login(a, password)
    status, me = Browser().request(f"{b}/api/me/", headers=_bearer(pair["access"]))
    assert (status, me["auth"]) == (200, "jwt-bearer")
    assert Browser().request(f"{b}/api/auth/token/verify/", "POST", json_body={"token": pair["refresh"]}) == (
        200,
        {},
    )
    status, rotated = Browser().request(f"{b}/api/auth/token/refresh/", "POST", json_body=pair)
    assert status == 200
    assert Browser().request(f"{a}/api/me/", headers=_bearer(rotated["access"]))[0] == 200

    cookies = Browser()
    status, _ = cookies.request(
        f"{b}/api/auth/cookie/login/", "POST", json_body={"username": "alice", "password": password}
    )
    assert status == 200
    status, me = cookies.request(f"{a}/api/me/")
    assert (status, me["auth"]) == (200, "jwt-cookie")
    assert cookies.request(f"{a}/api/auth/cookie/refresh/", "POST", headers=cookies.csrf())[0] == 200
    assert cookies.request(f"{b}/api/me/")[1]["auth"] == "jwt-cookie"

    assert Browser().request(f"{a}/.well-known/jwks.json") == Browser().request(f"{b}/.well-known/jwks.json")


def test_revocation_on_one_instance_is_refused_on_the_other_at_once(hosts, user, password):
    a, b = hosts
    session = Browser()
    assert session.form_login(a, "alice", password) == 302
    cookies = Browser()
    cookies.request(
        f"{a}/api/auth/cookie/login/", "POST", json_body={"username": "alice", "password": password}
    )
    pair, other = _token_login(a, password), _token_login(b, password)
    # Warm the other instance's view of every credential (cached verdicts included).
    for _ in range(4):
        assert session.request(f"{b}/api/me/")[0] == 200
        assert cookies.request(f"{b}/api/me/")[0] == 200
        assert Browser().request(f"{b}/api/me/", headers=_bearer(pair["access"]))[0] == 200

    revoke = Browser().request(
        f"{a}/api/auth/token/revoke/",
        "POST",
        json_body={"refresh": pair["refresh"]},
        headers=_bearer(pair["access"]),
    )
    assert revoke[0] == 204
    status, body = Browser().request(f"{b}/api/me/", headers=_bearer(pair["access"]))
    assert (status, body["code"]) == (401, "token_revoked")
    assert Browser().request(f"{b}/api/me/", headers=_bearer(other["access"]))[0] == 200

    assert cookies.request(f"{b}/api/auth/cookie/logout/", "POST", headers=cookies.csrf())[0] == 204
    assert TokenFamily.objects.filter(revoked_reason=TokenFamily.Reason.LOGOUT).count() == 2

    session_key = session.cookies[settings.SESSION_COOKIE_NAME]
    assert session.request(f"{a}/accounts/logout/", "POST", headers=session.csrf())[0] == 302
    assert not Session.objects.filter(session_key=session_key).exists()
    stale = Browser()
    stale.cookies[settings.SESSION_COOKIE_NAME] = session_key
    status, body = stale.request(f"{b}/api/me/")
    assert (status, body["code"]) == (401, "not_authenticated")

    assert Browser().request(f"{b}/api/auth/logout-all/", "POST", headers=_bearer(other["access"]))[0] == 204
    status, body = Browser().request(f"{a}/api/me/", headers=_bearer(other["access"]))
    assert (status, body["code"]) == (401, "token_revoked")


def test_login_limits_are_counted_once_for_both_instances(hosts, user, password):
    a, b = hosts
    statuses = [
        Browser().request(
            f"{url}/api/auth/token/", "POST", json_body={"username": "alice", "password": "nope"}
        )[0]
        for url in (a, b) * LIMIT
    ]
    assert statuses == [401] * LIMIT + [429] * LIMIT
    # Locked out on both, the right password included, whichever login path.
    for url in (a, b):
        assert (
            Browser().request(
                f"{url}/api/auth/token/", "POST", json_body={"username": "alice", "password": password}
            )[0]
            == 429
        )
        assert Browser().form_login(url, "alice", password) == 429


def test_refresh_reuse_is_detected_across_instances(hosts, user, password):
    a, b = hosts
    pair = _token_login(a, password)
    status, rotated = Browser().request(f"{a}/api/auth/token/refresh/", "POST", json_body=pair)
    assert status == 200
    # Within the grace period the other instance answers with the login's current pair.
    status, again = Browser().request(f"{b}/api/auth/token/refresh/", "POST", json_body=pair)
    assert (status, again["refresh"]) == (200, rotated["refresh"])
    # After it, the other instance sees reuse and revokes the login everywhere.
    jti = RefreshToken(pair["refresh"])["jti"]
    row = BlacklistedToken.objects.get(token__jti=jti)
    BlacklistedToken.objects.filter(pk=row.pk).update(
        blacklisted_at=row.blacklisted_at - timedelta(seconds=GRACE + 1)
    )
    status, body = Browser().request(f"{b}/api/auth/token/refresh/", "POST", json_body=pair)
    assert (status, body["code"]) == (401, "token_reused")
    status, body = Browser().request(f"{a}/api/me/", headers=_bearer(rotated["access"]))
    assert (status, body["code"]) == (401, "token_revoked")
    status, body = Browser().request(
        f"{a}/api/auth/token/refresh/", "POST", json_body={"refresh": rotated["refresh"]}
    )
    assert (status, body["code"]) == (401, "token_revoked")
