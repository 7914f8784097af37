"""System checks of the rate limits: every rate parses, and the counters' cache is shared and atomic."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured

from authcache.process import ProcessMemoryCache
from authcache.shared import shared_cache
from authdemo.cookienames import HOST_PREFIX, SECURE_PREFIX
from limits.devicecookie import device_cookie_name, device_cookie_secure
from limits.ratelimit import device_rate, ipv6_prefix, rate_parse

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
            errors.append(checks.Error(f"{name}: {exc}", id="limits.E001"))
    try:
        ipv6_prefix()
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="limits.E002"))
    if device_cookie_name().startswith((HOST_PREFIX, SECURE_PREFIX)) and not device_cookie_secure():
        # A browser drops a prefixed cookie that is not Secure: no device would ever be trusted.
        errors.append(
            checks.Error(
                "DEVICE_COOKIE_NAME has a __Host-/__Secure- prefix but is not Secure.", id="limits.E004"
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
                id="limits.E003",
            )
        )
    return errors
