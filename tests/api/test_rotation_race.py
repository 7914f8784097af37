"""Parallel refreshes of one token over real HTTP (threads): all converge within the grace, else one wins."""

from __future__ import annotations

import json
import urllib.request
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from api.models import TokenFamily
from api.tokens import RefreshToken
from tests.livehttp import json_request, parallel, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

PARALLEL = 16


def _post(url: str, body: dict) -> tuple[int, dict]:
    status, raw, _ = send(json_request(url, body=body))
    return status, json.loads(raw)


def _family_state(family: str) -> tuple[int, str]:
    """Return how many refresh tokens the family has recorded and its revocation reason."""
    reason = TokenFamily.objects.values_list("revoked_reason", flat=True).get(pk=family)
    return OutstandingToken.objects.filter(family_link__family_id=family).count(), reason


def _bearer_login(url: str, password: str) -> dict:
    status, pair = _post(f"{url}/api/auth/token/", {"username": "alice", "password": password})
    assert status == 200
    return pair


def _cookie_login(url: str, password: str) -> SimpleCookie:
    request = json_request(f"{url}/api/auth/cookie/login/", body={"username": "alice", "password": password})
    with urllib.request.urlopen(request, timeout=30) as response:
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie"):
            jar.load(header)
    return jar


def _cookie_refresher(url: str, jar: SimpleCookie):
    headers = {
        "Cookie": "; ".join(
            f"{name}={jar[name].value}" for name in (settings.JWT_REFRESH_COOKIE, settings.CSRF_COOKIE_NAME)
        ),
        "X-CSRFToken": jar[settings.CSRF_COOKIE_NAME].value,
    }

    def refresh() -> tuple[int, str]:
        request = urllib.request.Request(
            f"{url}/api/auth/cookie/refresh/", data=b"", headers=headers, method="POST"
        )
        status, _, response_headers = send(request)
        cookies = SimpleCookie()
        for header in response_headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        return status, cookies[
            settings.JWT_REFRESH_COOKIE
        ].value if settings.JWT_REFRESH_COOKIE in cookies else ""

    return refresh


def test_parallel_refreshes_within_grace_all_get_the_same_pair(live_server, user, password, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 5
    pair = _bearer_login(live_server.url, password)
    family = RefreshToken(pair["refresh"])["fam"]
    url = f"{live_server.url}/api/auth/token/refresh/"
    results = parallel([lambda: _post(url, {"refresh": pair["refresh"]})] * PARALLEL)
    assert [status for status, _ in results] == [200] * PARALLEL, results
    # One rotation; every caller converged on the family's one current refresh token.
    assert len({body["refresh"] for _, body in results}) == 1
    assert len({body["access"] for _, body in results}) == PARALLEL
    assert _family_state(family) == (2, "")
    assert _post(url, {"refresh": results[0][1]["refresh"]})[0] == 200


def test_parallel_refreshes_strict_yield_exactly_one_pair(live_server, user, password, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 0
    pair = _bearer_login(live_server.url, password)
    family = RefreshToken(pair["refresh"])["fam"]
    url = f"{live_server.url}/api/auth/token/refresh/"
    results = parallel([lambda: _post(url, {"refresh": pair["refresh"]})] * PARALLEL)
    assert sorted(status for status, _ in results) == [200] + [401] * (PARALLEL - 1), results
    codes = [body["code"] for status, body in results if status == 401]
    # The first loser finds reuse and revokes the family; a loser that comes
    # after that revocation is refused as revoked before reaching the rotation.
    assert "token_reused" in codes and set(codes) <= {"token_reused", "token_revoked"}, codes
    assert _family_state(family) == (2, TokenFamily.Reason.REUSE)


def test_parallel_cookie_refreshes_within_grace_all_succeed(live_server, user, password, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 5
    jar = _cookie_login(live_server.url, password)
    family = RefreshToken(jar[settings.JWT_REFRESH_COOKIE].value)["fam"]
    results = parallel([_cookie_refresher(live_server.url, jar)] * PARALLEL)
    assert [status for status, _ in results] == [200] * PARALLEL, results
    assert len({cookie for _, cookie in results}) == 1
    assert _family_state(family) == (2, "")


def test_parallel_cookie_refreshes_strict_yield_exactly_one_pair(live_server, user, password, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 0
    jar = _cookie_login(live_server.url, password)
    family = RefreshToken(jar[settings.JWT_REFRESH_COOKIE].value)["fam"]
    results = parallel([_cookie_refresher(live_server.url, jar)] * PARALLEL)
    assert sorted(status for status, _ in results) == [200] + [401] * (PARALLEL - 1), results
    # Each refused tab gets its dead cookie cleared.
    assert [cookie for status, cookie in results if status == 401] == [""] * (PARALLEL - 1)
    assert _family_state(family) == (2, TokenFamily.Reason.REUSE)
