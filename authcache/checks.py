"""System check of the cache layer: its tunables (authcache/conf.py) are numbers it can use."""

from __future__ import annotations

from django.core import checks

from authcache.conf import DEFAULTS, setting


@checks.register(checks.Tags.caches)
def tunables_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Report a cache tunable that is not a number >= 0 (a whole number where its default is one)."""
    errors = []
    for name, default in DEFAULTS.items():
        value = setting(name)
        kind = int if isinstance(default, int) else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or value < 0:
            noun = "a whole number" if kind is int else "a number"
            errors.append(checks.Error(f"{name} must be {noun} >= 0, not {value!r}.", id="authcache.E001"))
    return errors
