"""System checks of the accounts app: the SITE_URL origin, the step-up time and the second step."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string


@checks.register()
def site_url_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Report a SITE_URL that is not one origin, http(s)://host[:port].

    Password-reset links are built from it, never from the request's Host
    header (OWASP ASVS 5.0 V3.5; Host header poisoning).
    """
    url = settings.SITE_URL
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme in ("http", "https") and host and not host.startswith((".", "*")) and not parts.path:
        return []
    if not url or host.startswith((".", "*")):
        message = "SITE_URL is unset and the first of DJANGO_ALLOWED_HOSTS is not one host to derive it from."
    else:
        message = f"SITE_URL must be http(s)://host[:port], not {url!r}."
    return [checks.Error(message, hint="Set SITE_URL, e.g. https://auth.example.com.", id="accounts.E001")]


@checks.register()
def assurance_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: REAUTH_SECONDS is a positive whole number of seconds."""
    value = getattr(settings, "REAUTH_SECONDS", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        message = f"REAUTH_SECONDS must be a positive int of seconds, not {value!r}."
        return [checks.Error(message, id="accounts.E024")]
    return []


@checks.register()
def login_second_step_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: ACCOUNTS_LOGIN_SECOND_STEP, if set, names a class that imports."""
    path = getattr(settings, "ACCOUNTS_LOGIN_SECOND_STEP", None)
    try:
        if path:
            import_string(path)
    except ImportError as exc:
        message = f"ACCOUNTS_LOGIN_SECOND_STEP {path!r} does not import: {exc}"
        return [checks.Error(message, id="accounts.E025")]
    return []
