"""System checks of the accounts app: rates, shared cache, device cookie, SITE_URL origin, step-up times."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured

from accounts.devicecookie import device_cookie_name, device_cookie_secure
from accounts.ratelimit import device_rate, ipv6_prefix, rate_parse
from authcache.process import ProcessMemoryCache
from authcache.shared import shared_cache
from authdemo.cookienames import HOST_PREFIX, SECURE_PREFIX

RATE_SETTINGS = (
    "LOGIN_RATELIMIT_IP",
    "LOGIN_RATELIMIT_USERNAME",
    "SIGNUP_RATELIMIT_IP",
    "PASSWORD_RESET_RATELIMIT_IP",
    "PASSWORD_RESET_RATELIMIT_EMAIL",
    "LAB_RATELIMIT_IP",
)


@checks.register()
def limits_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: every rate and the IPv6 prefix parse, and the counters' cache is shared and atomic."""
    errors = []
    rates = [(name, getattr(settings, name, None)) for name in RATE_SETTINGS]
    for name, rate in [*rates, ("LOGIN_RATELIMIT_DEVICE", device_rate())]:
        try:
            rate_parse(rate)
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(f"{name}: {exc}", id="accounts.E020"))
    try:
        ipv6_prefix()
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="accounts.E021"))
    if device_cookie_name().startswith((HOST_PREFIX, SECURE_PREFIX)) and not device_cookie_secure():
        # A browser drops a prefixed cookie that is not Secure: no device would ever be trusted.
        errors.append(
            checks.Error(
                "DEVICE_COOKIE_NAME has a __Host-/__Secure- prefix but is not Secure.", id="accounts.E023"
            )
        )
    # A per-process cache would let each worker count on its own, a get-then-set
    # incr would let parallel attempts share one count (OWASP ASVS 5.0 V6.3.1).
    backend = type(shared_cache())
    unsafe = (LocMemCache, ProcessMemoryCache, DummyCache, FileBasedCache, DatabaseCache)
    if issubclass(backend, unsafe):
        errors.append(
            checks.Error(
                f"The shared cache ({backend.__name__}) is per process or has no atomic incr: "
                "the rate limits cannot count there.",
                hint="Use Redis (REDIS_URL) or authcache.shared.SharedDatabaseCache.",
                id="accounts.E022",
            )
        )
    return errors


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
