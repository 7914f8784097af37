"""The labs in a real browser: revocation vs the stateless verifier, the bearer playground, XSS and CSRF."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from e2e.conftest import PASSWORD
from tests.helpers import PLAIN_COOKIE_NAMES

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` in the page until true (wait_for_function evals a string, which CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def _session_login(page, site: str, next_path: str) -> None:
    page.goto(f"{site}/accounts/login/?next={next_path}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def _jwt_cookie_login(page) -> None:
    page.fill("#jwt-username", "alice")
    page.fill("#jwt-password", PASSWORD)
    with page.expect_navigation():
        page.click("#jwt-login button[type=submit]")


def _me(page) -> tuple[int, str]:
    return tuple(
        page.evaluate("fetch('/api/me/').then(r => r.json().then(b => [r.status, b.auth || b.code]))")
    )


# --- Revocation lab -------------------------------------------------------------


def test_revoked_jwt_refused_by_the_site_accepted_by_the_verifier_until_exp(site, user, new_page, verifier):
    page = new_page()
    _session_login(page, site, "/lab/revocation/")
    _jwt_cookie_login(page)
    assert "Logged in by JWT cookie as alice" in page.inner_text("[data-testid=lab-jwt-state]")

    page.click("button[data-action=jwt_revoke]")
    page.wait_for_selector("#lab-result[data-state=answered]")
    jwt = page.locator("[data-field=jwt]")
    assert jwt.get_attribute("data-accepted") == "false"
    assert "401" in jwt.inner_text() and "token_revoked" in jwt.inner_text()
    # The page shows the state the server has: the top card and the navigation
    # no longer say this browser is logged in by JWT cookie; the session lives on.
    top = page.inner_text("[data-testid=lab-jwt-state]")
    assert "Logged in by JWT cookie" not in top and "revoked" in top
    nav = page.inner_text("[data-testid=whoami]")
    assert "JWT cookie: logged out" in nav and "session" in nav and "alice" in nav
    assert "Logged in by session as alice" in page.inner_text("[data-testid=lab-session-state]")
    assert "your session is still logged in" in page.inner_text("[data-field=untouched]")
    verdict = page.locator("[data-field=verifier]")
    assert verdict.get_attribute("data-accepted") == "true"
    assert "200 accepted" in verdict.inner_text()
    left = int(page.locator("[data-field=countdown]").get_attribute("data-seconds-left"))
    assert 0 < left <= 300

    # No token reached page script, and the revoked cookies are gone.
    assert settings.JWT_ACCESS_COOKIE not in page.evaluate("document.cookie")
    assert not any(c["name"] == settings.JWT_ACCESS_COOKIE for c in page.context.cookies())
    assert _me(page) == (200, "session")

    page.wait_for_timeout(1100)
    page.click("#lab-ask-again")
    _wait_until(page, "document.querySelector('[data-field=asked]').textContent !== ''")
    page.wait_for_timeout(300)
    assert page.locator("[data-field=jwt]").get_attribute("data-accepted") == "false"
    assert page.locator("[data-field=verifier]").get_attribute("data-accepted") == "true"


def test_log_out_everywhere_then_ask_again_while_logged_out(site, user, new_page, verifier):
    page = new_page()
    _session_login(page, site, "/lab/revocation/")
    _jwt_cookie_login(page)
    page.click("button[data-action=logout_all]")
    page.wait_for_selector("#lab-result[data-state=answered]")
    assert page.locator("[data-field=session]").get_attribute("data-accepted") == "false"
    assert page.locator("[data-field=jwt]").get_attribute("data-accepted") == "false"
    assert page.locator("[data-field=verifier]").get_attribute("data-accepted") == "true"
    assert _me(page)[0] == 401
    # Both top cards and the navigation say what the server has: logged out both ways.
    assert "logged out everywhere" in page.inner_text("[data-testid=lab-session-state]")
    assert "logged out everywhere" in page.inner_text("[data-testid=lab-jwt-state]")
    nav = page.inner_text("[data-testid=whoami]")
    assert "session: logged out" in nav and "JWT cookie: logged out" in nav and "alice" not in nav
    assert page.inner_text("[data-field=now]").startswith("This browser is now logged out")
    first = page.inner_text("[data-field=asked]")
    page.wait_for_timeout(1100)
    page.click("#lab-ask-again")
    _wait_until(page, f"document.querySelector('[data-field=asked]').textContent !== {first!r}")
    assert page.locator("[data-field=verifier]").get_attribute("data-accepted") == "true"
    assert page.locator("#lab-error").is_hidden()


def test_ending_the_session_speaks_of_no_token(site, user, new_page, verifier):
    """A session has no token: after "End this session" no sentence of the answer speaks of one."""
    page = new_page()
    _session_login(page, site, "/lab/revocation/")
    page.click("button[data-action=session_end]")
    page.wait_for_selector("#lab-result[data-state=answered]")
    assert page.locator("[data-field=session]").get_attribute("data-accepted") == "false"
    result = page.inner_text("#lab-result")
    assert "token" not in result.lower(), result
    assert "ended session's key" in result
    assert page.locator("[data-row=jwt]").is_hidden() and page.locator("[data-row=verifier]").is_hidden()
    assert "Logged in by session" not in page.inner_text("[data-testid=lab-session-state]")
    nav = page.inner_text("[data-testid=whoami]")
    assert "session: logged out" in nav and "Log out" not in nav
    assert "logged out" in page.inner_text("[data-field=now]")


def test_verifier_not_running_is_said_and_the_site_answer_still_shown(site, user, new_page, settings):
    settings.VERIFIER_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    page = new_page()
    _session_login(page, site, "/lab/revocation/")
    _jwt_cookie_login(page)
    page.click("button[data-action=jwt_revoke]")
    page.wait_for_selector("#lab-result[data-state=answered]")
    assert "make verifier" in page.inner_text("[data-field=verifier]")
    assert page.locator("[data-field=jwt]").get_attribute("data-accepted") == "false"


def test_password_change_in_the_lab(site, user, new_page, verifier):
    page = new_page()
    _session_login(page, site, "/lab/revocation/")
    _jwt_cookie_login(page)
    page.click("details.lab-password summary")
    page.fill("#lab-old-password", PASSWORD)
    page.fill("#lab-new-password1", "another long passphrase 77")
    page.fill("#lab-new-password2", "another long passphrase 77")
    page.click("#lab-password-form button[type=submit]")
    page.wait_for_selector("#lab-result[data-state=answered]")
    assert page.locator("[data-field=session]").get_attribute("data-accepted") == "false"
    assert page.locator("[data-field=jwt]").get_attribute("data-accepted") == "false"
    assert page.locator("[data-field=verifier]").get_attribute("data-accepted") == "true"
    assert _me(page) == (200, "session")  # this session moved to a new key and lives on


# --- Bearer playground -----------------------------------------------------------


def _entry(page, op: str) -> dict:
    locator = page.locator(f"#bearer-log li[data-op={op}]").first
    locator.wait_for()
    return {"status": locator.get_attribute("data-status"), "code": locator.get_attribute("data-code")}


def test_bearer_pair_in_memory_and_reuse_ends_the_login(site, user, new_page, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 0
    page = new_page()
    page.goto(f"{site}/lab/bearer/")
    page.fill("#bearer-username", "alice")
    page.fill("#bearer-password", PASSWORD)
    page.click("#bearer-obtain button[type=submit]")
    assert _entry(page, "obtain")["status"] == "200"
    assert '"token_type": "access"' in page.inner_text("[data-field=access-decoded]")
    assert PASSWORD not in page.inner_text("#bearer-log")

    page.click("button[data-op=me]")
    assert _entry(page, "me")["status"] == "200"
    page.click("button[data-op=refresh]")
    assert _entry(page, "refresh")["status"] == "200"
    page.click("button[data-op=verify-access]")
    assert _entry(page, "verify-access")["status"] == "200"

    # Nowhere but in the script's memory.
    storage = page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
    assert storage[0] == 0 and storage[1] == 0 and "eyJ" not in storage[2]
    assert not any(c["value"].startswith("eyJ") for c in page.context.cookies())

    access_exp = page.locator("[data-field=access-exp]")
    assert access_exp.text_content().startswith("expires in ")
    page.click("button[data-op=replay]")
    assert _entry(page, "replay") == {"status": "401", "code": "token_reused"}
    # The whole login ended: the current pair is dead too.
    assert _entry(page, "after-reuse-me") == {"status": "401", "code": "token_revoked"}
    assert _entry(page, "after-reuse-refresh")["status"] == "401"
    # The panel that counted down says so and stops counting.
    for name in ("access", "refresh"):
        exp = page.locator(f"[data-field={name}-exp]")
        assert exp.get_attribute("data-state") == "revoked"
        assert exp.text_content() == "revoked: refresh-token reuse ended this login"
    page.wait_for_timeout(1200)
    assert access_exp.text_content() == "revoked: refresh-token reuse ended this login"
    assert page.get_attribute("#bearer-lab", "data-login") == "revoked"


def test_bearer_revoke_marks_the_pair_revoked(site, user, new_page):
    page = new_page()
    page.goto(f"{site}/lab/bearer/")
    page.fill("#bearer-username", "alice")
    page.fill("#bearer-password", PASSWORD)
    page.click("#bearer-obtain button[type=submit]")
    assert _entry(page, "obtain")["status"] == "200"
    assert page.get_attribute("#bearer-lab", "data-login") == "live"
    page.click("button[data-op=revoke]")
    assert _entry(page, "revoke")["status"] == "204"
    page.wait_for_selector("#bearer-lab[data-login=revoked]")
    assert page.text_content("[data-field=access-exp]") == "revoked: revoked by this page"
    # A new pair is a new login: live again.
    page.click("#bearer-obtain button[type=submit]")
    page.wait_for_selector("#bearer-lab[data-login=live]")
    assert page.text_content("[data-field=access-exp]").startswith("expires in ")


def test_bearer_page_reads_the_grace_setting(site, new_page, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 5
    page = new_page()
    page.goto(f"{site}/lab/bearer/")
    assert page.get_attribute("#bearer-lab", "data-reuse-grace") == "5"


# --- XSS lab --------------------------------------------------------------------


def _run_injected(page) -> dict:
    page.click("#run-injected")
    out = page.locator("#injected-output")
    out.wait_for()
    _wait_until(page, "document.getElementById('injected-output').dataset.tokensFound !== undefined")
    return {
        "cookies": out.get_attribute("data-cookie-names"),
        "tokens": out.get_attribute("data-tokens-found"),
    }


def test_injected_script_reads_no_token_with_the_cookie_transport(site, user, new_page):
    page = new_page()
    _session_login(page, site, "/lab/xss-csrf/")
    _jwt_cookie_login(page)
    held = {c["name"] for c in page.context.cookies()}
    assert set(PLAIN_COOKIE_NAMES.values()) <= held
    seen = _run_injected(page)
    assert seen == {"cookies": "csrftoken", "tokens": "0"}
    output = page.inner_text("#injected-output")
    assert "Tokens found: none" in output
    # The one web storage key is the keep-alive's, named for what it holds (expiry times).
    key = "localStorage[authdemo.keepalive.expiry]"
    assert page.get_attribute("#injected-output", "data-storage-keys") == key
    assert key in page.inner_text("[data-testid=xss-lab-storage]")


def test_injected_script_reads_the_token_on_the_localstorage_page(site, user, new_page):
    page = new_page()
    page.goto(f"{site}/lab/xss-csrf/localstorage/")
    page.fill("#ls-username", "alice")
    page.fill("#ls-password", PASSWORD)
    page.click("#ls-login button[type=submit]")
    page.wait_for_selector("#ls-state[data-stored=true]")
    seen = _run_injected(page)
    assert seen["tokens"] == "1"
    text = page.inner_text("#injected-output")
    assert "TOKEN FOUND in localStorage antipattern_access_token" in text
    assert "attacker.invalid" in text
    # The stolen token works from anywhere: a bearer call outside this page.
    stolen = page.evaluate("localStorage.getItem('antipattern_access_token')")
    other = new_page()
    other.goto(f"{site}/lab/bearer/")
    status = other.evaluate(
        "t => fetch('/api/me/', {credentials: 'omit', headers: {Authorization: 'Bearer ' + t}})"
        ".then(r => r.status)",
        stolen,
    )
    assert status == 200
    page.click("#ls-forget")
    page.wait_for_selector("#ls-state[data-stored=false]")


# --- CSRF lab -------------------------------------------------------------------


def _other_origin(site: str) -> str:
    parts = urlsplit(site)
    other = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}[parts.hostname]
    return f"{parts.scheme}://{other}:{parts.port}"


def test_cross_site_attacks_are_refused_and_the_victim_stays_logged_in(site, user, new_page):
    page = new_page()
    _session_login(page, site, "/lab/xss-csrf/")
    _jwt_cookie_login(page)
    with page.context.expect_page() as popup_info:
        page.click("#csrf-start")
    attacker = popup_info.value
    attacker.wait_for_load_state()
    assert attacker.url.startswith(_other_origin(site))
    attacker.wait_for_selector("body[data-state=done]", timeout=15_000)

    page.wait_for_selector("#csrf-victim[data-complete=true]", timeout=15_000)
    rows = page.locator("#csrf-report tbody tr")
    verdicts = {
        rows.nth(i).get_attribute("data-attack"): rows.nth(i).get_attribute("data-stopped-by")
        for i in range(rows.count())
    }
    # 127.0.0.1 and localhost are different sites: SameSite=Lax kept every cookie home;
    # the PATCH never left the browser (no CORS permission); the forms met the CSRF check too.
    assert verdicts == {
        "fetch-logout-all": "samesite",
        "fetch-patch-me": "cors",
        "form-logout": "both",
        "form-cookie-logout": "both",
    }
    assert page.get_attribute("#csrf-victim", "data-intact") == "true"
    # Still logged in both ways, profile unchanged.
    assert _me(page) == (200, "jwt-cookie")
    page.goto(f"{site}/lab/xss-csrf/")
    state = page.inner_text("[data-testid=xss-state]")
    assert "Session: logged in as alice" in state and "JWT cookie: logged in as alice" in state
    user.refresh_from_db()
    assert user.first_name == ""
