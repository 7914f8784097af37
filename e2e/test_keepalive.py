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


def _pause_soon(page) -> None:
    """Pause the page's timers a moment from now (asleep: the seconds run on, no timer fires).

    The moment must still be ahead when the command reaches the page; on a
    loaded machine that can take longer than a tenth of a second, so a later
    moment is tried. The test's own checks still see any timer that fired.
    """
    from playwright.sync_api import Error as PlaywrightError

    for margin in (0.1, 0.5):
        try:
            page.clock.pause_at(time.time() + margin)
            return
        except PlaywrightError as exc:
            if "to the past" not in str(exc):
                raise
    page.clock.pause_at(time.time() + 1.5)


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
    from api.logins import token_pair_issue

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


def _watch(page, path: str) -> list[tuple[float, int]]:
    """Record (time, status) of every answer to ``path`` the page receives."""
    answers: list[tuple[float, int]] = []
    page.on(
        "response",
        lambda r: answers.append((time.monotonic(), r.status)) if r.url.endswith(path) else None,
    )
    return answers


def test_no_me_answer_is_401_across_two_expiries(site, user, new_page, short_access):
    """The refresh goes out before expiry every cycle: plain fetches never meet a lapsed cookie."""
    short_access(5)
    page = new_page()
    _cookie_login(page, site)
    me_answers = _watch(page, "/api/me/")
    refreshes = _watch(page, REFRESH_PATH)

    # Plain fetch() (no retry): every call rides on whatever cookie the browser holds then.
    deadline = time.monotonic() + 12  # two 5 s lifetimes and more
    while time.monotonic() < deadline:
        page.evaluate("fetch('/api/me/').then(r => r.status)")
        page.wait_for_timeout(150)

    statuses = [status for _, status in me_answers]
    assert len(statuses) > 30, statuses
    assert set(statuses) == {200}, statuses
    # Refreshed about once per cycle, a third of the life before expiry (5 s: at 3.3 s).
    assert 2 <= len(refreshes) <= 4, refreshes
    assert all(status == 200 for _, status in refreshes)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(refreshes)]
    assert all(2.5 < gap < 4.5 for gap in gaps), gaps


def test_a_tab_woken_after_expiry_refreshes_once_at_once(site, user, new_page, short_access):
    """A machine that slept: the page's timers stood still while the wall clock and the cookie ran on.

    On wake (here: the tab shown again) the keep-alive sees that its refresh
    time has passed and refreshes once, at once, without waiting for a timer.
    """
    short_access(6)
    page = new_page()
    page.clock.install()  # the page's timers run under the test's control, in step with real time
    _cookie_login(page, site)
    refreshes = _watch(page, REFRESH_PATH)
    _pause_soon(page)  # asleep: no timer of the page fires (the seconds run on)
    time.sleep(6.5)  # past the refresh time and the expiry, in real time
    assert _me(page) == (401, "not_authenticated")  # the browser dropped the access cookie
    assert refreshes == []

    # Awake: the wall clock jumped; the page's timers stay paused, so what
    # refreshes now is the wake itself (the tab shown again), not a timer.
    page.clock.set_system_time(time.time())
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    deadline = time.monotonic() + 5
    while not refreshes and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert [status for _, status in refreshes] == [200]
    assert _me(page) == (200, "jwt-cookie")
    page.clock.resume()  # the timers run again: the schedule goes on from the new token, once
    page.wait_for_timeout(1000)
    assert len(refreshes) == 1, refreshes


def test_the_api_helper_renews_a_cookie_the_browser_already_dropped(site, user, new_page):
    """A 401 not_authenticated (no access cookie at all) is cured by one refresh and one retry."""
    page = new_page()
    _cookie_login(page, site)
    access = [c for c in page.context.cookies() if c["name"] == settings.JWT_ACCESS_COOKIE]
    page.context.clear_cookies(name=settings.JWT_ACCESS_COOKIE)
    assert _me(page) == (401, "not_authenticated")
    assert access  # it was there before

    refreshes = _watch(page, REFRESH_PATH)
    me_answers = _watch(page, "/api/me/")
    status, auth = page.evaluate(
        "import('/static/js/http.js').then(http => http.apiFetch('/api/me/'))"
        ".then(r => r.json().then(b => [r.status, b.auth || b.code]))"
    )
    assert (status, auth) == (200, "jwt-cookie")
    assert [s for _, s in refreshes] == [200]
    assert [s for _, s in me_answers] == [401, 200]


def test_concurrent_401s_share_one_refresh(site, user, new_page):
    page = new_page()
    _cookie_login(page, site)
    page.context.clear_cookies(name=settings.JWT_ACCESS_COOKIE)
    refreshes = _watch(page, REFRESH_PATH)
    results = page.evaluate(
        "import('/static/js/http.js').then(http => Promise.all([1, 2, 3, 4].map(() =>"
        " http.apiFetch('/api/me/').then(r => r.status))))"
    )
    assert results == [200, 200, 200, 200]
    assert len(refreshes) == 1, refreshes


def test_a_401_that_no_refresh_cures_is_answered_once(site, user, new_page):
    """A revoked login: the helper tries one refresh, gets 401, returns the 401, and the page says so."""
    page = new_page()
    _cookie_login(page, site)
    from accounts.services import user_revoke_all

    user_revoke_all(user=user)
    refreshes = _watch(page, REFRESH_PATH)
    status, code = page.evaluate(
        "import('/static/js/http.js').then(http => http.apiFetch('/api/me/'))"
        ".then(r => r.json().then(b => [r.status, b.code]))"
    )
    assert (status, code) == (401, "token_revoked")  # not curable: no refresh tried
    page.context.clear_cookies(name=settings.JWT_ACCESS_COOKIE)
    status, code = page.evaluate(
        "import('/static/js/http.js').then(http => http.apiFetch('/api/me/'))"
        ".then(r => r.json().then(b => [r.status, b.code]))"
    )
    assert (status, code) == (401, "not_authenticated")
    assert [s for _, s in refreshes] == [401]
    assert page.evaluate("localStorage.getItem('authdemo.keepalive.expiry')") is None
    # The navigation and the JWT column no longer say the login is alive.
    assert "JWT cookie: logged out" in page.inner_text("[data-testid=whoami]")
    assert "Authenticated by JWT cookie" not in page.inner_text("[data-testid=jwt-column]")
