"""The pages' scripts: ES modules fed by the page (CSRF token, {% url %} addresses); the state they show."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from compare.lab_views import KEEPALIVE_KEY
from tests.api.helpers import COOKIE_LOGIN_URL
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"
PAGES = ["home", "lab-revocation", "lab-stepup", "lab-bearer", "lab-xss-csrf", "lab-localstorage", "devices"]


def _scripts() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(STATIC_JS.glob("*.js"))}


def _meta_csrf(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)


def _cookie_login(client: Client) -> None:
    response = client.post(
        COOKIE_LOGIN_URL, {"username": "alice", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200


# --- What the scripts may and may not contain --------------------------------------


def test_no_script_writes_an_address_of_the_site():
    """API and page URLs reach scripts through data attributes rendered with {% url %}."""
    for name, source in _scripts().items():
        assert not re.search(r"""["'`]/(api|lab|accounts|devices|compare)/""", source), name


def test_no_script_reads_the_csrf_cookie():
    """The CSRF token comes from the page: the cookie may be renamed or unreadable."""
    for name, source in _scripts().items():
        assert "csrftoken" not in source, name  # the cookie's name (csrfToken() is http.js's reader)
    # Only the cookie-name display of the home page and the lab's injected script look at document.cookie.
    readers = sorted(name for name, source in _scripts().items() if "document.cookie" in source)
    assert readers == ["compare.js", "lab-injected.js"]


def test_scripts_are_modules_without_es5_leftovers():
    for name, source in _scripts().items():
        assert not re.search(r"^\s*var\s", source, re.M), name
        assert '"use strict"' not in source, name  # modules are strict already
        assert "(function" not in source, name


def test_one_shared_module_sends_the_csrf_header():
    senders = sorted(name for name, source in _scripts().items() if "X-CSRFToken" in source)
    assert senders == ["http.js"]
    helpers = re.compile(r"function (csrfToken|post)\(")
    duplicates = [name for name, source in _scripts().items() if helpers.search(source)]
    assert duplicates == ["http.js"]


def test_the_keepalive_storage_key_names_what_it_holds():
    source = _scripts()["jwt-keepalive.js"]
    assert f'EXPIRY_KEY = "{KEEPALIVE_KEY}"' in source
    assert KEEPALIVE_KEY == "authdemo.keepalive.expiry"
    assert "authdemo.jwt" not in "".join(_scripts().values())


def test_shared_modules_are_imported_never_loaded_by_a_template(client, user):
    """A module loaded by name (hashed in production) and imported by path would run twice."""
    imported = set()
    for source in _scripts().values():
        imported |= set(re.findall(r'from "\./([\w-]+\.js)"', source))
    assert imported == {"http.js", "jwt-keepalive.js"}
    client.force_login(user)
    for name in PAGES:
        html = client.get(reverse(name)).content.decode()
        loaded = re.findall(r'<script type="module" src="/static/js/([\w-]+\.js)">', html)
        assert loaded and not imported & set(loaded), (name, loaded)


# --- What the pages give the scripts ----------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_every_page_carries_the_csrf_token_and_the_api_addresses(client, user, name):
    client.force_login(user)
    html = client.get(reverse(name)).content.decode()
    assert _meta_csrf(html)
    assert f'data-url-me="{reverse("api:me")}"' in html
    assert f'data-url-cookie-refresh="{reverse("api:cookie-refresh")}"' in html
    assert f'data-url-cookie-logout="{reverse("api:cookie-logout")}"' in html


def test_the_pages_csrf_token_passes_the_check_and_a_forged_one_does_not(user):
    client = Client(enforce_csrf_checks=True)
    _cookie_login(client)
    token = _meta_csrf(client.get(reverse("home")).content.decode())
    refresh_url = reverse("api:cookie-refresh")
    # As the page's script sends it: a POST with no body.
    refused = client.generic("POST", refresh_url, b"", HTTP_X_CSRFTOKEN="x" * 64)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert settings.JWT_ACCESS_COOKIE not in refused.cookies
    accepted = client.generic("POST", refresh_url, b"", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200
    assert accepted.cookies[settings.JWT_ACCESS_COOKIE].value
    logout = client.generic("POST", reverse("api:cookie-logout"), b"", HTTP_X_CSRFTOKEN=token)
    assert logout.status_code == 204


def test_home_names_the_verifier_from_the_setting(client, settings):
    settings.VERIFIER_URL = "http://127.0.0.1:9123/"
    html = client.get(reverse("home")).content.decode()
    assert '<code data-testid="verifier-url">http://127.0.0.1:9123/whoami</code>' in html
    assert "8001" not in html


def test_home_links_come_from_the_url_names(client):
    html = client.get(reverse("home")).content.decode()
    for name in ("lab-revocation", "lab-bearer", "lab-xss-csrf"):
        assert f'href="{reverse(name)}"' in html
    assert f'data-url="{reverse("api:cookie-login")}"' in html
    assert f'href="{reverse("api:docs")}"' in html and f'href="{reverse("api:jwks")}"' in html


def test_xss_lab_names_the_keepalive_key(client, user):
    client.force_login(user)
    html = client.get(reverse("lab-xss-csrf")).content.decode()
    assert f"localStorage[{KEEPALIVE_KEY}]" in html
    assert "No token." in html


# --- The state the pages render: what the server has --------------------------------


def test_panels_of_a_live_login_are_marked_for_the_scripts(client, user):
    client.force_login(user)
    _cookie_login(client)
    html = client.get(reverse("lab-revocation")).content.decode()
    assert 'data-session="on"' in html and 'data-jwt="on"' in html
    # Top cards and the navigation: each live login once per place, to be marked when it ends.
    assert html.count('data-login="jwt"') == 2 and html.count('data-login="session"') == 2
    home = client.get(reverse("home")).content.decode()
    assert home.count('data-login="jwt"') == 3  # navigation, JWT column state, access token line


def test_after_a_jwt_revocation_no_panel_says_logged_in_by_jwt(client, user):
    client.force_login(user)
    _cookie_login(client)
    response = client.post(
        reverse("lab-revocation-run"), {"action": "jwt_revoke"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["now"] == {"session": True, "jwt": False}
    html = client.get(reverse("lab-revocation")).content.decode()
    assert "Logged in by JWT cookie" not in html and "Not logged in by JWT cookie." in html
    assert 'data-jwt="off"' in html and 'data-login="jwt"' not in html
    assert "badge-jwt" not in html.split("</header>")[0]
    assert "Logged in by session as <strong>alice</strong>" in html


def test_after_ending_the_session_the_answer_names_no_token(client, user):
    client.force_login(user)
    response = client.post(
        reverse("lab-revocation-run"), {"action": "session_end"}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["jwt"] is None and body["verifier"] is None and body["expires_in"] is None
    assert body["now"] == {"session": False, "jwt": False}
    # The page's sentence about what the lab keeps has a session wording with no token in it.
    client.force_login(user)
    html = client.get(reverse("lab-revocation")).content.decode()
    kept = re.search(r'data-session="([^"]+)"', html.split('data-field="kept"')[1]).group(1)
    assert "token" not in kept and "session's key" in kept
