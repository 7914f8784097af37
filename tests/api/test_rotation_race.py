"""Race-free rotation: parallel refreshes of one token yield exactly one new pair (real HTTP, threads)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from api.tokens import RefreshToken
from tests.livehttp import json_request, parallel, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

PARALLEL = 20


def _post(url: str, body: dict) -> tuple[int, dict]:
    status, raw, _ = send(json_request(url, body=body))
    return status, json.loads(raw)


def _race(url: str, body: dict) -> list[tuple[int, dict]]:
    return parallel([lambda: _post(url, body)] * PARALLEL)


def test_parallel_refreshes_yield_exactly_one_pair(live_server, user, password):
    status, pair = _post(f"{live_server.url}/api/auth/token/", {"username": "alice", "password": password})
    assert status == 200
    family = RefreshToken(pair["refresh"])["fam"]
    results = _race(f"{live_server.url}/api/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert len(results) == PARALLEL
    winners = [body for status, body in results if status == 200]
    losers = [body for status, body in results if status != 200]
    assert len(winners) == 1, results
    assert all(status in (401,) for status, _ in results if status != 200), results
    assert {body["code"] for body in losers} <= {"token_reused", "token_revoked"}
    # Exactly one new refresh token was recorded in the family: the login's first and the winner's.
    assert OutstandingToken.objects.filter(family_link__family_id=family).count() == 2
    assert "access" in winners[0] and "refresh" in winners[0]


def test_parallel_cookie_refreshes_yield_exactly_one_pair(live_server, user, password):
    from http.cookies import SimpleCookie

    request = urllib.request.Request(
        f"{live_server.url}/api/auth/cookie/login/",
        data=json.dumps({"username": "alice", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie"):
            jar.load(header)
    cookie_header = "; ".join(f"{name}={jar[name].value}" for name in ("refresh_token", "csrftoken"))
    headers = {
        "Cookie": cookie_header,
        "X-CSRFToken": jar["csrftoken"].value,
        "Referer": live_server.url,  # Django's CSRF check wants a same-origin Referer on HTTPS only
    }

    def refresh() -> int:
        request = urllib.request.Request(
            f"{live_server.url}/api/auth/cookie/refresh/", data=b"", headers=headers, method="POST"
        )
        return send(request)[0]

    results = parallel([refresh] * PARALLEL)
    assert len(results) == PARALLEL
    assert results.count(200) == 1, results
    assert results.count(401) == PARALLEL - 1, results
