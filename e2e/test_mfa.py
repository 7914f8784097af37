"""Browser: set up an authenticator app (QR code under the strict CSP), then log in with the second step."""

from __future__ import annotations

import time
from base64 import b32decode

from django_otp.oath import totp
from playwright.sync_api import expect

from e2e.conftest import PASSWORD


def _code(secret: str) -> str:
    return f"{totp(b32decode(secret)):06d}"


def _next_step_code(secret: str) -> str:
    """Return the code of the next 30-second step, waiting for it to begin (a code is accepted once)."""
    step_start = (int(time.time()) // 30 + 1) * 30
    while time.time() < step_start:
        time.sleep(0.2)  # the TOTP clock itself: nothing else to wait on
    return _code(secret)


def test_totp_setup_then_login_in_two_steps(site, user, new_page, csp_watched_page):
    page, violations = csp_watched_page
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{site}/accounts/mfa/")
    page.click("text=Set up an authenticator app")
    # A click waits for the next page to start loading, not for it to be parsed: expect() retries.
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#id_code", _code(secret))
    page.click("main button[type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert violations() == []

    other = new_page()
    other.goto(f"{site}/accounts/login/?next=/accounts/sessions/")
    other.fill("#id_username", "alice")
    other.fill("#id_password", PASSWORD)
    other.click("main button[type=submit]")
    expect(other.locator("#id_code")).to_be_visible()
    # Not logged in yet: another tab of this browser is sent to the login page.
    probe = other.context.new_page()
    probe.goto(f"{site}/accounts/profile/")
    assert "/accounts/login/" in probe.url
    probe.close()
    other.fill("#id_code", _next_step_code(secret))
    other.click("main button[type=submit]")
    other.wait_for_url(f"{site}/accounts/sessions/")
    expect(other.locator("[data-amr='pwd otp mfa']")).to_have_count(1)


def test_a_recovery_code_logs_in(site, user, new_page):
    from tests.mfahelpers import enrol

    _, codes = enrol(user)
    page = new_page()
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("#id_code", "nope")
    page.click("main button[type=submit]")
    expect(page.locator(".field-errors").first).to_be_visible()
    page.fill("#id_code", codes[0])
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/accounts/mfa/")
    assert "9 codes left" in page.content()
