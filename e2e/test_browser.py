"""A real browser through the session side and the JWT cookie side of authdemo."""

from __future__ import annotations

import pytest
from django.conf import settings

from e2e.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _form_login(page, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def test_html_login_shows_the_user_and_logout_ends_it(site, user, new_page):
    page = new_page()
    _form_login(page, site, "Alice", PASSWORD)  # usernames are case-insensitive

    # Back on the comparison page, where the session column shows the login.
    assert page.url == f"{site}/"
    assert "Authenticated by session as alice" in page.inner_text("[data-testid=session-column]")
    assert "alice" in page.inner_text("[data-testid=whoami]")
    session_cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Lax"
    # HttpOnly: scripts never see the session key.
    assert settings.SESSION_COOKIE_NAME not in page.evaluate("document.cookie")

    page.click("[data-testid=whoami] button")
    page.wait_for_load_state()
    assert "not logged in" in page.inner_text("[data-testid=whoami]")
    page.goto(f"{site}/accounts/profile/")
    assert "/accounts/login/" in page.url


def test_wrong_password_shows_an_error_and_no_session(site, user, new_page):
    page = new_page()
    _form_login(page, site, "alice", "wrong password")
    assert "/accounts/login/" in page.url
    assert page.locator(".errors, .errorlist").count() >= 1
    assert "not logged in" in page.inner_text("[data-testid=whoami]")


def test_sessions_page_lists_devices_and_ends_the_others(site, user, new_page):
    laptop, phone = new_page(), new_page()
    _form_login(laptop, site, "alice", PASSWORD)
    _form_login(phone, site, "alice", PASSWORD)

    laptop.goto(f"{site}/accounts/sessions/")
    rows = laptop.locator("[data-testid=sessions] tbody tr")
    assert rows.count() == 2
    assert laptop.locator("[data-testid=sessions] tr[data-current=true]").count() == 1

    laptop.click("text=End all other sessions")
    laptop.wait_for_load_state()
    assert laptop.locator("[data-testid=sessions] tbody tr").count() == 1

    # The phone's session is gone on the server: its next request is anonymous.
    phone.goto(f"{site}/accounts/profile/")
    assert "/accounts/login/" in phone.url
    # The laptop is still logged in.
    laptop.goto(f"{site}/accounts/profile/")
    assert laptop.url == f"{site}/accounts/profile/"


def test_jwt_cookie_login_and_logout_on_the_home_page(site, user, new_page):
    page = new_page()
    page.goto(f"{site}/")
    jwt_column = page.locator("[data-testid=jwt-column]")
    assert "Not authenticated by JWT cookie" in jwt_column.inner_text()

    page.fill("#jwt-username", "alice")
    page.fill("#jwt-password", PASSWORD)
    with page.expect_navigation():
        page.click("#jwt-login button[type=submit]")

    assert "Authenticated by JWT cookie as alice" in jwt_column.inner_text()
    # The session column is independent: still anonymous.
    assert "Not authenticated by session" in page.inner_text("[data-testid=session-column]")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies[settings.JWT_ACCESS_COOKIE]["httpOnly"] is True
    assert cookies[settings.JWT_REFRESH_COOKIE]["httpOnly"] is True
    assert cookies[settings.JWT_REFRESH_COOKIE]["path"] == "/api/auth/cookie/"
    # Tokens never reach scripts.
    assert settings.JWT_ACCESS_COOKIE not in page.evaluate("document.cookie")
    # The same browser is authenticated on the API by the cookie.
    me = page.evaluate("fetch('/api/me/').then(r => r.json())")
    assert me["username"] == "alice"
    assert me["auth"] == "jwt-cookie"

    with page.expect_navigation():
        page.click("#jwt-logout")
    assert "Not authenticated by JWT cookie" in jwt_column.inner_text()
    status = page.evaluate("fetch('/api/me/').then(r => r.status)")
    assert status == 401


def test_jwt_cookie_login_with_a_wrong_password_says_so(site, user, new_page):
    page = new_page()
    page.goto(f"{site}/")
    page.fill("#jwt-username", "alice")
    page.fill("#jwt-password", "wrong")
    page.click("#jwt-login button[type=submit]")
    error = page.locator("#jwt-error")
    error.wait_for(state="visible")
    assert error.inner_text().strip()
    assert not any(c["name"] == settings.JWT_ACCESS_COOKIE for c in page.context.cookies())
