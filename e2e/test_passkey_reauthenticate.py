"""Re-authenticating with a passkey in a real browser: the session is upgraded in place."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings

from accounts.assurance import session_assurance, session_assurance_set
from e2e.test_passkeys import _add_passkey, _password_login, _virtual_authenticator, passkey_site  # noqa: F401
from passkeys.models import Passkey

pytestmark = pytest.mark.django_db(transaction=True)


def _session_key(page) -> str:
    (cookie,) = [c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME]
    return cookie["value"]


def _make_stale(session_key: str) -> None:
    """Age the session's authentication past REAUTH_SECONDS, through the session store's own write path."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    proven = session_assurance(store)
    session_assurance_set(store, type(proven)(amr=proven.amr, auth_time=proven.auth_time - 3600))
    store.save()


def test_a_passkey_reauthenticates_the_session_in_place(passkey_site, user, new_page):  # noqa: F811
    page = new_page()
    _virtual_authenticator(page)
    _password_login(page, passkey_site)
    _add_passkey(page, passkey_site, "Laptop")
    _make_stale(_session_key(page))

    page.goto(f"{passkey_site}/accounts/password_change/")
    page.wait_for_url("**/accounts/reauthenticate/?next=%2Faccounts%2Fpassword_change%2F")
    stale_key = _session_key(page)
    page.click("[data-passkey-login-button]")
    page.wait_for_url(f"{passkey_site}/accounts/password_change/", )
    # Upgraded in place: the same login under a new key, with the key's method and a new auth_time.
    key = _session_key(page)
    assert key != stale_key
    proven = session_assurance(import_module(settings.SESSION_ENGINE).SessionStore(session_key=key))
    assert proven.is_fresh() and "hwk" in proven.amr and "pwd" in proven.amr
    assert "alice" in page.inner_text("[data-testid=whoami]")
    # The sensitive page now opens without a redirect.
    response = page.goto(f"{passkey_site}/accounts/password_change/")
    assert response.status == 200 and page.url == f"{passkey_site}/accounts/password_change/"
    assert Passkey.objects.get().sign_count >= 1


def test_a_browser_without_the_passkey_is_refused_and_nothing_changes(passkey_site, user, new_page):  # noqa: F811
    page = new_page()
    cdp, authenticator_id = _virtual_authenticator(page)
    _password_login(page, passkey_site)
    _add_passkey(page, passkey_site, "Laptop")
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator_id})
    _make_stale(_session_key(page))
    page.goto(f"{passkey_site}/accounts/reauthenticate/?next=/accounts/password_change/")
    stale_key = _session_key(page)
    page.click("[data-passkey-login-button]")
    page.locator("[data-passkey-login] [data-passkey-error]").wait_for(state="visible")
    assert _session_key(page) == stale_key
    page.goto(f"{passkey_site}/accounts/password_change/")
    assert "/accounts/reauthenticate/" in page.url
