"""Passkeys in a real browser: Chromium's virtual authenticator (CDP WebAuthn domain) through Playwright."""

from __future__ import annotations

import pytest

from e2e.conftest import PASSWORD
from passkeys.models import Passkey

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def passkey_site(site, settings) -> str:
    # The relying party is the live server itself (its host is the RP ID, its origin the one accepted).
    settings.SITE_URL = site
    return site


def _virtual_authenticator(page) -> tuple[object, str]:
    """Attach a platform authenticator with resident keys and user verification to ``page``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _password_step(page, site: str, next_path: str = "") -> None:
    page.goto(f"{site}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("main form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()


def _password_login(page, site: str) -> None:
    _password_step(page, site)
    page.wait_for_url(f"{site}/")


def _add_passkey(page, site: str, name: str) -> None:
    page.goto(f"{site}/accounts/passkeys/")
    page.fill("#passkey-new-name", name)
    page.click("text=Add a passkey")
    page.wait_for_selector(f"input[name=name][value='{name}']")


def test_register_then_log_in_without_password(passkey_site, user, new_page):
    page = new_page()
    cdp, authenticator_id = _virtual_authenticator(page)
    _password_login(page, passkey_site)
    _add_passkey(page, passkey_site, "Laptop")
    passkey = Passkey.objects.get(user=user)
    assert passkey.name == "Laptop"
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"] is True

    page.click("[data-testid=whoami] button")  # log out
    page.wait_for_load_state()
    assert "not logged in" in page.inner_text("[data-testid=whoami]")

    page.goto(f"{passkey_site}/accounts/login/?next=/accounts/profile/")
    page.click("text=Log in with a passkey")
    page.wait_for_url(f"{passkey_site}/accounts/profile/")
    assert "alice" in page.inner_text("[data-testid=whoami]")
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None and passkey.sign_count >= 1


def test_rename_and_remove_in_the_page(passkey_site, user, new_page):
    page = new_page()
    _virtual_authenticator(page)
    _password_login(page, passkey_site)
    _add_passkey(page, passkey_site, "Laptop")

    row = page.locator("tr[data-passkey-id]")
    row.locator("input[name=name]").fill("Work laptop")
    row.locator("text=Rename").click()
    page.wait_for_selector("text=The passkey has been renamed.")
    assert Passkey.objects.get().name == "Work laptop"

    page.locator("tr[data-passkey-id] >> text=Remove").click()
    page.wait_for_selector("[data-testid=no-passkeys]")
    assert not Passkey.objects.exists()


def test_a_passkey_of_another_site_cannot_log_in(passkey_site, user, new_page):
    page = new_page()
    _virtual_authenticator(page)
    page.goto(f"{passkey_site}/accounts/login/")
    # An empty authenticator: the browser finds no credential for this RP ID and the prompt fails.
    page.click("text=Log in with a passkey")
    error = page.locator("[data-passkey-login] [data-passkey-error]")
    error.wait_for(state="visible")
    assert "not logged in" in page.inner_text("[data-testid=whoami]")


def test_password_then_passkey_as_second_factor(passkey_site, user, new_page):
    page = new_page()
    _virtual_authenticator(page)
    _password_login(page, passkey_site)
    _add_passkey(page, passkey_site, "Laptop")
    page.click("[data-testid=whoami] button")  # log out
    page.wait_for_load_state()

    # With a passkey, the password is only the first step: no session until the second.
    _password_step(page, passkey_site, next_path="/accounts/passkeys/")
    assert "not logged in" in page.inner_text("[data-testid=whoami]")
    page.click("text=Use a passkey instead")
    page.wait_for_url(f"{passkey_site}/accounts/passkeys/")
    assert "alice" in page.inner_text("[data-testid=whoami]")
    assert Passkey.objects.get().sign_count >= 2  # registration 0, two assertions


def test_adding_long_after_login_asks_to_reauthenticate(passkey_site, user, new_page, settings):
    settings.REAUTH_SECONDS = -1  # every authentication is already too old
    page = new_page()
    _virtual_authenticator(page)
    _password_login(page, passkey_site)
    page.goto(f"{passkey_site}/accounts/passkeys/")
    page.fill("#passkey-new-name", "Laptop")
    page.click("text=Add a passkey")
    page.wait_for_url("**/accounts/reauthenticate/?next=%2Faccounts%2Fpasskeys%2F")
    assert not Passkey.objects.exists()


def test_passkey_pages_run_under_the_csp(passkey_site, user, csp_watched_page):
    page, violations = csp_watched_page
    _virtual_authenticator(page)
    _password_login(page, passkey_site)
    _add_passkey(page, passkey_site, "Laptop")  # the module ran: it registered the passkey
    page.goto(f"{passkey_site}/accounts/login/")
    assert violations() == []
