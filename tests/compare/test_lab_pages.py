"""The bearer playground and the XSS and CSRF lab pages: what they render, and no inline script anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"
LAB_PAGES = ["lab-revocation", "lab-stepup", "lab-bearer", "lab-xss-csrf", "lab-localstorage", "lab-attacker"]


def _inline_code(html: str) -> list[str]:
    """Return inline scripts and inline event handlers of ``html``."""
    inline = [m for m in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)]
    inline += re.findall(r"\son[a-z]+\s*=", html)
    return inline


@pytest.mark.parametrize("name", LAB_PAGES)
def test_lab_pages_have_no_inline_script(client, user, name):
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert _inline_code(response.content.decode()) == []


def test_bearer_page_exposes_the_reuse_grace_default_zero(client, settings):
    if hasattr(settings, "JWT_REFRESH_REUSE_GRACE"):
        del settings.JWT_REFRESH_REUSE_GRACE
    body = client.get(reverse("lab-bearer")).content.decode()
    assert 'data-reuse-grace="0"' in body
    assert "any replay is reuse" in body


def test_bearer_page_exposes_the_reuse_grace_setting(client, settings):
    settings.JWT_REFRESH_REUSE_GRACE = 7
    body = client.get(reverse("lab-bearer")).content.decode()
    assert 'data-reuse-grace="7"' in body
    assert "Within 7 s of its rotation" in body


def test_bearer_script_keeps_tokens_out_of_storage_and_cookies():
    code = [
        line
        for line in (STATIC_JS / "lab-bearer.js").read_text().splitlines()
        if not line.lstrip().startswith("//")
    ]
    source = "\n".join(code)
    assert "localStorage" not in source and "sessionStorage" not in source and "document.cookie" not in source
    assert 'credentials: "omit"' in source


def test_only_the_antipattern_page_stores_a_token_in_localstorage(client):
    writers = [p.name for p in STATIC_JS.glob("*.js") if "localStorage.setItem" in p.read_text()]
    # The keep-alive stores expiry times only (no token); the anti-pattern page stores a token.
    assert sorted(writers) == ["jwt-keepalive.js", "lab-localstorage.js"]
    body = client.get(reverse("lab-localstorage")).content.decode()
    assert "Anti-pattern, on purpose." in body and "lab-localstorage.js" in body
    for name in ("home", "lab-xss-csrf", "lab-bearer"):
        assert "lab-localstorage.js" not in client.get(reverse(name)).content.decode()


def test_xss_page_lists_cookie_names_the_server_received(client, user):
    client.force_login(user)
    client.get(reverse("lab-xss-csrf"))  # csrftoken
    body = client.get(reverse("lab-xss-csrf")).content.decode()
    sent = re.search(r'data-testid="sent-cookies">(.*?)</span>', body).group(1)
    assert f"<code>{settings.SESSION_COOKIE_NAME}</code>" in sent
    assert f"<code>{settings.CSRF_COOKIE_NAME}</code>" in sent
    assert settings.JWT_ACCESS_COOKIE not in sent


@pytest.mark.parametrize(
    ("host", "other"),
    [("127.0.0.1:8000", "http://localhost:8000"), ("localhost:8000", "http://127.0.0.1:8000")],
)
def test_xss_page_names_the_other_origin(client, host, other):
    body = client.get(reverse("lab-xss-csrf"), HTTP_HOST=host).content.decode()
    assert f'data-other-origin="{other}"' in body


def test_no_other_origin_when_the_other_name_is_not_allowed(client, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "app.example"]
    body = client.get(reverse("lab-xss-csrf"), HTTP_HOST="127.0.0.1:8000").content.decode()
    assert 'data-other-origin=""' in body
    body = client.get(reverse("lab-xss-csrf"), HTTP_HOST="app.example").content.decode()
    assert 'data-other-origin=""' in body
