"""The site's script keeps a JWT cookie login alive: one refresh per cycle across tabs, retry on expiry."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import pytest
from django.conf import settings

from e2e.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

REFRESH_PATH = "/api/auth/cookie/refresh/"


@pytest.fixture
def short_access(settings):
    """Access tokens of a few seconds, so refresh cycles happen within a test."""

    def set_lifetime(seconds: int) -> None:
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(seconds=seconds)}

    return set_lifetime


def _cookie_login(page, site: str) -> None:
    page.goto(f"{site}/")
    page.fill("#jwt-username", "alice")
    page.fill("#jwt-password", PASSWORD)
    with page.expect_navigation():
        page.click("#jwt-login button[type=submit]")
    assert "Authenticated by JWT cookie as alice" in page.inner_text("[data-testid=jwt-column]")


def _me(page) -> tuple[int, str]:
    script = "fetch('/api/me/').then(r => r.json().then(b => [r.status, b.auth || b.code]))"
    return tuple(page.evaluate(script))


def test_two_tabs_stay_logged_in_with_one_refresh_per_cycle(site, user, new_page, short_access):
    short_access(6)
    first = new_page()
    refreshes: list[float] = []
    first.context.on(
        "request",
        lambda request: refreshes.append(time.monotonic()) if request.url.endswith(REFRESH_PATH) else None,
    )
    _cookie_login(first, site)
    second = first.context.new_page()
    second.goto(f"{site}/accounts/login/")

    # Three access lifetimes: without the keep-alive both tabs would be logged out.
    deadline = time.monotonic() + 18
    while time.monotonic() < deadline:
        first.wait_for_timeout(500)

    assert _me(first) == (200, "jwt-cookie")
    assert _me(second) == (200, "jwt-cookie")
    # About one refresh per 4 s cycle (refresh 2 s before a 6 s expiry) ...
    assert len(refreshes) >= 3, refreshes
    # ... and never two tabs refreshing in the same cycle.
    gaps = [b - a for a, b in itertools.pairwise(refreshes)]
    assert all(gap > 2 for gap in gaps), gaps


def test_an_expired_access_cookie_is_refreshed_and_the_call_retried_once(site, user, new_page, short_access):
    page = new_page()
    _cookie_login(page, site)
    # An access token of this user that expired beyond the verification leeway,
    # sent by the browser as if its cookie had outlived it (clock skew).
    from api.services import token_pair_issue

    short_access(-60)
    expired = str(token_pair_issue(user=user).access)
    short_access(300)
    page.context.add_cookies(
        [{"name": settings.JWT_ACCESS_COOKIE, "value": expired, "url": site, "httpOnly": True}]
    )
    assert _me(page) == (401, "token_expired")

    refreshed = []
    page.on("request", lambda r: refreshed.append(r.url) if r.url.endswith(REFRESH_PATH) else None)
    status, auth = page.evaluate(
        "import('/static/js/http.js').then(http => http.apiFetch('/api/me/'))"
        ".then(r => r.json().then(b => [r.status, b.auth || b.code]))"
    )
    assert (status, auth) == (200, "jwt-cookie")
    assert len(refreshed) == 1


def test_a_page_opened_after_the_access_cookie_expired_logs_back_in(site, user, new_page, short_access):
    short_access(3)
    page = new_page()
    _cookie_login(page, site)
    context = page.context
    page.close()
    time.sleep(4)  # the browser drops the expired access cookie; the refresh cookie lives on
    assert not any(c["name"] == settings.JWT_ACCESS_COOKIE for c in context.cookies())

    page = context.new_page()
    page.goto(f"{site}/")
    # (wait_for_function would evaluate a string, which the site's CSP forbids)
    page.wait_for_selector("body[data-jwt-login=on]", state="attached", timeout=10_000)
    assert "Authenticated by JWT cookie as alice" in page.inner_text("[data-testid=jwt-column]")


def test_a_revoked_login_is_forgotten_not_refreshed_forever(site, user, new_page, short_access):
    short_access(4)
    page = new_page()
    refreshes = []
    page.context.on("request", lambda r: refreshes.append(r.url) if r.url.endswith(REFRESH_PATH) else None)
    _cookie_login(page, site)
    from accounts.services import user_revoke_all

    user_revoke_all(user=user)
    page.wait_for_timeout(6000)
    assert len(refreshes) == 1  # tried once, got 401, stopped
    assert page.evaluate("localStorage.getItem('authdemo.keepalive.expiry')") is None
