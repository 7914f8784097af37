"""Browser tests (`make e2e`): Playwright drives the system chromium against a live server.

Not part of `make test` (testpaths is tests/). No browser is downloaded:
Debian's /usr/bin/chromium is used (apt-get install chromium).
"""

from __future__ import annotations

import os
import shutil
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from tests.helpers import cookies_plain_http

# Playwright's sync API keeps an asyncio loop in the main thread; the ORM
# calls of fixtures run in that thread between browser steps, never
# concurrently with it, which is what this flag allows.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.skip("needs the system chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def plain_http_cookies(settings):
    """The live server speaks plain HTTP, as `make run` does (DEBUG): no Secure cookies, plain names."""
    cookies_plain_http(settings)


@pytest.fixture
def site(live_server, plain_http_cookies, transactional_db) -> str:
    return live_server.url


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        username="alice", email="alice@example.com", password=PASSWORD
    )


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (one per simulated device); all closed afterwards."""
    contexts = []

    def make():
        context = browser.new_context(user_agent="Mozilla/5.0 (X11; Linux x86_64) e2e Chrome/156.0")
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


# Collects Content-Security-Policy violations of a page: the listener is added
# by the browser itself before any page script, so the policy cannot block it.
CSP_LISTENER = (
    "window.__cspViolations = [];"
    "document.addEventListener('securitypolicyviolation', e =>"
    " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture
def csp_watched_page(new_page):
    """A page that records CSP violations (event listener and console); returns (page, violations())."""
    page = new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    page.add_init_script(CSP_LISTENER)

    def violations() -> list[str]:
        recorded = page.evaluate("window.__cspViolations || []")
        return recorded + [text for text in console if "Content Security Policy" in text]

    return page, violations


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        return None


@pytest.fixture
def verifier(site, settings):
    """The stateless verifier in a thread, trusting the live site's JWKS; VERIFIER_URL points at it."""
    from verifier.__main__ import ThreadingWSGIServer
    from verifier.app import application_create
    from verifier.config import Config

    app = application_create(config=Config(jwks_url=f"{site}/.well-known/jwks.json"))
    server = make_server("127.0.0.1", 0, app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    settings.VERIFIER_URL = f"http://127.0.0.1:{server.server_port}"
    yield settings.VERIFIER_URL
    server.shutdown()
    server.server_close()
