"""System checks of the accounts settings (accounts/checks.py): SITE_URL, the origin of reset links."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.checks import site_url_check

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url", ["https://auth.example.com", "http://127.0.0.1:8000", "https://auth.example.com:8443"]
)
def test_one_origin_passes(settings, url):
    settings.SITE_URL = url
    assert site_url_check(None) == []


@pytest.mark.parametrize(
    "url",
    [
        "",
        "auth.example.com",
        "ftp://auth.example.com",
        "https://auth.example.com/app",
        "https://",
        "https://*.example.com",
        "https://.example.com",
        "javascript:alert(1)",
    ],
)
def test_anything_but_one_origin_is_refused(settings, url):
    settings.SITE_URL = url
    (error,) = site_url_check(None)
    assert error.id == "accounts.E001"
    assert "SITE_URL" in error.msg


def test_production_with_a_wildcard_first_host_and_no_site_url_is_refused(tmp_path):
    """No SITE_URL can be derived from ".example.com": the check says so, the settings import fine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SITE_", "AUTHDEMO_", "JWT_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="authdemo.settings",
        AUTHDEMO_VAR_DIR=str(tmp_path),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 60,
        DJANGO_ALLOWED_HOSTS=".example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "(accounts.E001)" in result.stderr and "Traceback" not in result.stderr
