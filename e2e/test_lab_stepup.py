"""The step-up lab in a real browser: the session upgraded at once, the JWT replaced, an old copy kept."""

from __future__ import annotations

import pytest

from e2e.conftest import PASSWORD
from e2e.test_labs import _jwt_cookie_login, _session_login, _wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _held(page, side: str, name: str) -> str:
    return page.inner_text(f"section[data-side={side}] [data-field={name}]")


def _fresh(page, side: str) -> str:
    return page.get_attribute(f"section[data-side={side}] [data-field=fresh]", "data-fresh")


def _wait_fresh(page, side: str, fresh: str) -> None:
    cell = f"document.querySelector('[data-side={side}] [data-field=fresh]')"
    _wait_until(page, f"{cell}.dataset.fresh === '{fresh}'")


def test_step_up_on_both_sides(site, user, csp_watched_page, verifier):
    page, violations = csp_watched_page
    _session_login(page, site, "/lab/stepup/")
    _jwt_cookie_login(page)
    assert _held(page, "session", "amr") == _held(page, "jwt", "amr") == "password"
    assert _fresh(page, "session") == _fresh(page, "jwt") == "true"
    login_time = int(_held(page, "session", "auth_time"))

    # (a) Age both logins: each side shows the older auth_time, not fresh.
    page.click("button[data-action=age][data-side=session]")
    _wait_fresh(page, "session", "false")
    page.click("button[data-action=age][data-side=jwt]")
    _wait_fresh(page, "jwt", "false")
    aged_session = int(_held(page, "session", "auth_time"))
    aged_jwt = int(_held(page, "jwt", "auth_time"))
    assert aged_session < login_time and aged_jwt < login_time

    # (b) A sensitive action is refused on both sides.
    for side in ("session", "jwt"):
        page.click(f"button[data-action=sensitive][data-side={side}]")
        answer = f"section[data-side={side}] [data-field=answer]"
        page.wait_for_selector(f"{answer}[data-accepted=false]")
        assert "401 reauthentication_required" in page.inner_text(answer)
    session_answer = page.inner_text("section[data-side=session] [data-field=answer]")
    assert "/accounts/reauthenticate/?next=" in session_answer

    # (c) Re-authenticate the session: its auth_time is new at once, same login, no reload.
    page.fill("#stepup-session-password", PASSWORD)
    page.click("form[data-side=session] button[type=submit]")
    _wait_fresh(page, "session", "true")
    assert int(_held(page, "session", "auth_time")) >= login_time
    assert _held(page, "session", "amr") == "password"
    assert _fresh(page, "jwt") == "false"  # the other side is untouched

    # (c) and (d) Re-authenticate the JWT login: a new token; the copy from before keeps its claims.
    old_jti = _held(page, "jwt", "jti")
    page.fill("#stepup-jwt-password", PASSWORD)
    page.click("form[data-side=jwt] button[type=submit]")
    page.wait_for_selector("#stepup-copy[data-state=answered]")
    _wait_fresh(page, "jwt", "true")
    assert int(_held(page, "jwt", "auth_time")) >= login_time
    assert _held(page, "jwt", "jti") != old_jti
    copy = page.locator("#stepup-copy")
    assert int(copy.locator("[data-field=auth_time]").inner_text()) == aged_jwt
    assert copy.locator("[data-field=amr]").inner_text() == "password"
    instance = copy.locator("[data-field=instance]")
    assert instance.get_attribute("data-accepted") == "true"
    assert "not fresh" in instance.inner_text()
    verdict = copy.locator("[data-field=verifier]")
    assert verdict.get_attribute("data-accepted") == "true"
    assert int(verdict.get_attribute("data-auth-time")) == aged_jwt
    assert f"auth_time {aged_jwt}" in verdict.inner_text()

    # A reload shows what the server holds: both sides fresh, as the page said.
    page.reload()
    assert _fresh(page, "session") == _fresh(page, "jwt") == "true"
    new_jwt_time = _held(page, "jwt", "auth_time")

    # The comparison's assurance row: this instance's reading and the verifier's, of the new token.
    page.goto(f"{site}/")
    answers = "[data-testid=assurance-answers]"
    assert f"auth_time {new_jwt_time}" in page.inner_text(f"{answers} [data-answer=instance]")
    assert page.get_attribute(f"{answers} [data-answer=verifier]", "data-accepted") == "true"
    assert f"auth_time {new_jwt_time}" in page.inner_text(f"{answers} [data-answer=verifier]")
    assert violations() == []
