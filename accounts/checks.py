"""System checks of the accounts app: the SITE_URL origin and the step-up times."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


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
    """System check: REAUTH_SECONDS and MFA_PENDING_SECONDS are positive whole seconds."""
    errors = []
    for name in ("REAUTH_SECONDS", "MFA_PENDING_SECONDS"):
        value = getattr(settings, name, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            message = f"{name} must be a positive int of seconds, not {value!r}."
            errors.append(checks.Error(message, id="accounts.E024"))
    return errors
