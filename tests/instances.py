"""Several app instances as `make serve` runs them (gunicorn) over one database, and a browser.

As separate hosts (services mode), each instance has its own var folder;
they share only what docs/several-hosts.md says hosts must share:
DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY and the JWT signing key (here the
test process's own, so the test can read the tokens it is handed). On one
host (the embedded default), they share one var folder as the worker
processes of one `make serve` do: the revocation log is in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

from django.conf import settings

from tests.servers import database_url, gunicorn_start, stop, wait_healthy

SERVICES_MODE = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
SERVICES_ONLY = (
    "services mode: needs DATABASE_URL and REDIS_URL (PostgreSQL and Redis shared by the instances)"
)


@contextlib.contextmanager
def instances_running(
    count: int, *, tmp_path: Path, env: dict | None = None, workers: int = 2, one_host: bool = False
) -> Iterator[list[str]]:
    """Start ``count`` instances (``workers`` gunicorn processes each) on the test database; yield URLs.

    Redis too when REDIS_URL is set. ``one_host``: one var folder for all.
    """
    shared = {
        **os.environ,
        # Production settings (DEBUG off) with the test suite's fast password hasher and plain HTTP.
        "DJANGO_SETTINGS_MODULE": "authdemo.test_settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_PRIVATE_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "JWT_EXTRA_PUBLIC_KEYS": settings.JWT_EXTRA_PUBLIC_KEYS,
        "DATABASE_URL": database_url(),
        **(env or {}),
    }
    processes: list[tuple[subprocess.Popen, Path]] = []
    urls = []
    try:
        for n in range(count):
            host_dir = tmp_path / ("host" if one_host else f"host{n}")
            host_dir.mkdir(exist_ok=True)
            log = host_dir / f"gunicorn{n}.log"
            process, url = gunicorn_start(
                env={**shared, "AUTHDEMO_VAR_DIR": str(host_dir)}, output=log, workers=workers
            )
            processes.append((process, log))
            urls.append(url)
        for url, (process, log) in zip(urls, processes, strict=True):
            wait_healthy(url, process, output=log)
        yield urls
    finally:
        for process, _ in processes:
            stop(process)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class Browser:
    """A cookie jar that talks to any instance: cookies are sent to every host and path, like one site."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(
        self,
        url: str,
        method: str = "GET",
        *,
        json_body: dict | None = None,
        form: dict | None = None,
        headers: dict | None = None,
        cookies: bool = True,
    ) -> tuple[int, dict | str]:
        """Return (status, JSON body or text) and keep the cookies the answer sets."""
        data, all_headers = None, dict(headers or {})
        if json_body is not None:
            data, all_headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif method == "POST":
            data = b""
        if cookies and self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
        for attempt in range(20):
            try:
                with _OPENER.open(request, timeout=60) as response:
                    status, body, response_headers = response.status, response.read(), response.headers
                break
            except urllib.error.HTTPError as exc:
                status, body, response_headers = exc.code, exc.read(), exc.headers
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.05 * (attempt + 1))
        else:
            raise AssertionError(f"{url}: connection refused 20 times")
        for header in response_headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        text = body.decode(errors="replace")
        if response_headers.get("Content-Type", "").startswith("application/json") and text:
            return status, json.loads(text)
        return status, text

    def csrf(self) -> dict:
        return {"X-CSRFToken": self.cookies[settings.CSRF_COOKIE_NAME]}

    def form_post(self, url: str, form: dict) -> tuple[int, object]:
        """Submit an HTML form: GET ``url`` for the CSRF cookie, then POST ``form`` with its token."""
        self.request(url)
        return self.request(
            url, "POST", form={**form, "csrfmiddlewaretoken": self.cookies[settings.CSRF_COOKIE_NAME]}
        )

    def form_login(self, url: str, username: str, password: str) -> int:
        """Log in through the HTML form; return the POST's status."""
        status, _ = self.form_post(f"{url}/accounts/login/", {"username": username, "password": password})
        return status
