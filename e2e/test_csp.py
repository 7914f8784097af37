"""The pages and the Swagger UI work under the site's strict Content-Security-Policy, in a real browser."""

from __future__ import annotations

import pytest

from e2e.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_renders_its_operations_without_a_csp_violation(site, csp_watched_page):
    page, violations = csp_watched_page
    response = page.goto(f"{site}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The operations are drawn by the init script served from /api/docs/?script.
    page.locator(".opblock").first.wait_for(state="visible", timeout=20_000)
    assert page.locator(".opblock").count() >= 10
    assert page.locator(".opblock-summary-path", has_text="/api/me/").count() >= 1
    assert violations() == []
    # The page links back to the site.
    page.click("[data-testid=docs-home]")
    page.wait_for_load_state()
    assert page.url == f"{site}/"


def test_login_page_works_without_a_csp_violation(site, user, csp_watched_page):
    page, violations = csp_watched_page
    page.goto(f"{site}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "alice" in page.inner_text("[data-testid=whoami]")
    # The home page's own script (the JWT cookie login form) runs under the policy too.
    page.goto(f"{site}/")
    page.fill("#jwt-username", "alice")
    page.fill("#jwt-password", PASSWORD)
    with page.expect_navigation():
        page.click("#jwt-login button[type=submit]")
    assert "Authenticated by JWT cookie as alice" in page.inner_text("[data-testid=jwt-column]")
    assert violations() == []


def test_an_injected_inline_script_is_refused(site, csp_watched_page):
    """The policy is enforced, not only sent: inline script does not run and is reported."""
    page, violations = csp_watched_page
    page.goto(f"{site}/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__injected = true'; document.body.appendChild(s); }"
    )
    assert page.evaluate("window.__injected === true") is False
    assert any("script-src" in v for v in violations())
