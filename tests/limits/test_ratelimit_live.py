"""Login rate limits under concurrency, over real HTTP against a live server.

30 parallel wrong attempts against a username limit of 5 must let at most 5
reach the password check, whichever login path they use (HTML form, JSON
token, JSON cookie). In services mode the counters live in Redis.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from tests.api.helpers import COOKIE_LOGIN_URL, TOKEN_URL
from tests.helpers import durations_masked
from tests.livehttp import json_request, parallel, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

PARALLEL = 30
LIMIT = 5


class CountingBackend(ModelBackend):
    """ModelBackend that counts how many attempts reached the password check."""

    calls = 0
    lock = threading.Lock()

    def authenticate(self, request, username=None, password=None, **kwargs):
        with CountingBackend.lock:
            CountingBackend.calls += 1
        return super().authenticate(request, username=username, password=password, **kwargs)


@pytest.fixture
def counting(settings):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.CountingBackend"]
    settings.LOGIN_RATELIMIT_USERNAME = f"{LIMIT}/15m"
    settings.LOGIN_RATELIMIT_IP = "1000/m"
    CountingBackend.calls = 0
    return CountingBackend


def _json_login(base: str, path: str, username: str, password: str) -> int:
    return send(json_request(f"{base}{path}", body={"username": username, "password": password}))[0]


def _form_login_prepared(base: str):
    """GET the login page (CSRF cookie + token); return a function that POSTs the form."""
    with urllib.request.urlopen(f"{base}/accounts/login/", timeout=60) as response:
        html = response.read().decode()
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    cookie = f"{settings.CSRF_COOKIE_NAME}={jar[settings.CSRF_COOKIE_NAME].value}"

    def post(username: str, password: str) -> int:
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": username, "password": password}
        ).encode()
        request = urllib.request.Request(
            f"{base}/accounts/login/",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Referer": f"{base}/accounts/login/",
            },
            method="POST",
        )
        return send(request)[0]

    return post


def test_parallel_wrong_json_logins_reach_password_check_at_most_limit_times(live_server, user, counting):
    calls = [
        (lambda: _json_login(live_server.url, TOKEN_URL, "alice", "wrong password"))
        for _ in range(PARALLEL)
    ]
    results = parallel(calls)
    assert len(results) == PARALLEL
    assert counting.calls <= LIMIT
    assert results.count(401) == counting.calls
    assert results.count(429) == PARALLEL - counting.calls
    assert results.count(429) >= PARALLEL - LIMIT


def test_parallel_wrong_logins_across_paths_share_one_counter(live_server, user, counting):
    """Form login, token login and cookie login with username variants: one counter."""
    form_post = _form_login_prepared(live_server.url)
    variants = ["alice", "Alice", " ALICE ", "\uff41lice"]
    calls = []
    for i in range(PARALLEL):
        name = variants[i % len(variants)]
        if i % 3 == 0:
            calls.append(lambda name=name: form_post(name, "wrong password"))
        elif i % 3 == 1:
            calls.append(
                lambda name=name: _json_login(live_server.url, TOKEN_URL, name, "wrong")
            )
        else:
            calls.append(
                lambda name=name: _json_login(live_server.url, COOKIE_LOGIN_URL, name, "x")
            )
    results = parallel(calls)
    assert len(results) == PARALLEL
    assert counting.calls <= LIMIT
    assert results.count(429) >= PARALLEL - LIMIT
    # The password is never checked past the limit, so the right one is refused too.
    assert _json_login(live_server.url, TOKEN_URL, "alice", "correct horse battery staple") == 429
    assert form_post("alice", "correct horse battery staple") == 429


def test_locked_out_unknown_and_real_usernames_answer_alike(live_server, user, counting, password):
    for name in ("alice", "nobody-here"):
        for _ in range(LIMIT):
            assert _json_login(live_server.url, TOKEN_URL, name, "wrong") == 401
    real = urllib.request.Request(
        f"{live_server.url}/api/auth/token/",
        data=json.dumps({"username": "alice", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    unknown = urllib.request.Request(
        f"{live_server.url}/api/auth/token/",
        data=json.dumps({"username": "nobody-here", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    answers = []
    for request in (real, unknown):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=60)
        body = json.loads(info.value.read())
        # Retry-After differs per name (limits.ratelimit staggers windows by a
        # hash of the key), a function of the string only, not of the account.
        assert int(info.value.headers["Retry-After"]) > 0
        answers.append((info.value.code, body["code"], durations_masked(body["detail"])))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429
