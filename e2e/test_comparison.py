"""The live comparison in a real browser: both logins, decoded claims, countdown, costs, the device list."""

from __future__ import annotations

import pytest
from django.conf import settings

from e2e.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _both_logins(page, site: str) -> None:
    page.goto(f"{site}/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=session-column] button[type=submit]")
    page.goto(f"{site}/")
    page.fill("#jwt-username", "alice")
    page.fill("#jwt-password", PASSWORD)
    with page.expect_navigation():
        page.click("#jwt-login button[type=submit]")


def test_home_shows_both_logins_claims_countdown_rows_and_costs(site, user, new_page):
    page = new_page()
    _both_logins(page, site)
    assert "Authenticated by session as alice" in page.inner_text("[data-testid=session-column]")
    assert "Authenticated by JWT cookie as alice" in page.inner_text("[data-testid=jwt-column]")

    claims = page.inner_text("[data-testid=jwt-claims]")
    for claim in ("iss", "aud", "exp", "jti", "token_type", "fam"):
        assert claim in claims
    # The server's rows of both logins.
    assert "127.0.0.1" in page.inner_text("[data-testid=session-row]")
    assert "cookie" in page.inner_text("[data-testid=family-row]")

    # The countdown runs in the page.
    countdown = page.locator("[data-testid=jwt-countdown]")
    first = int(countdown.get_attribute("data-seconds"))
    page.wait_for_timeout(2200)
    second = int(countdown.get_attribute("data-seconds"))
    assert 0 < second < first <= 300

    # Per-request costs measured on the server, loaded by the page.
    page.wait_for_selector("[data-cost=session][data-measured=true]")
    page.wait_for_selector("[data-cost=jwt_cookie][data-measured=true]")
    # A warm request: the session or family verdict and the cached user in one
    # cache call, no query; in services mode the process's near cache answers
    # that read without a round trip (authcache/near.py).
    warm = (
        "0 DB queries, 0 cache calls (1 read from this process's copy, no round trip)"
        if settings.REDIS_URL
        else "0 DB queries, 1 cache call"
    )
    assert warm in page.inner_text("[data-cost=session]")
    assert warm in page.inner_text("[data-cost=jwt_cookie]")
    assert page.inner_text("[data-cost=jwt_stateless]").startswith("0 DB queries, 0 cache calls")
    assert "copy" not in page.inner_text("[data-cost=jwt_stateless]")

    # What a script can read of the cookies: no token, no session id.
    readable = page.inner_text("[data-testid=document-cookie]")
    assert settings.CSRF_COOKIE_NAME in readable
    assert (
        settings.JWT_ACCESS_COOKIE not in readable.split("(")[0]
        and settings.SESSION_COOKIE_NAME not in readable.split("(")[0]
    )
    # The raw token never reaches the page.
    access = next(c["value"] for c in page.context.cookies() if c["name"] == settings.JWT_ACCESS_COOKIE)
    assert access not in page.content()


def test_revoke_a_jwt_login_from_the_devices_page(site, user, new_page):
    laptop, phone = new_page(), new_page()
    _both_logins(laptop, site)
    phone.goto(f"{site}/")
    phone.fill("#jwt-username", "alice")
    phone.fill("#jwt-password", PASSWORD)
    with phone.expect_navigation():
        phone.click("#jwt-login button[type=submit]")
    assert phone.evaluate("fetch('/api/me/').then(r => r.status)") == 200

    laptop.click("nav >> text=Devices")
    laptop.wait_for_load_state()
    rows = laptop.locator("[data-testid=device-jwt] tbody tr")
    assert rows.count() == 2
    assert laptop.locator("[data-testid=device-jwt] tr[data-current=true]").count() == 1
    other = laptop.locator("[data-testid=device-jwt] tbody tr:not([data-current])")
    with laptop.expect_navigation():
        other.locator("button").click()
    assert "revoked" in laptop.inner_text(".messages")
    assert laptop.locator("[data-testid=device-jwt] tbody tr").count() == 1

    # The phone's access token is refused at once, not at its expiry.
    status, code = phone.evaluate("fetch('/api/me/').then(r => r.json().then(b => [r.status, b.code]))")
    assert (status, code) == (401, "token_revoked")
    # The laptop's own JWT login is untouched.
    assert laptop.evaluate("fetch('/api/me/').then(r => r.status)") == 200
