"""Where the demo's instrumentation meets the other apps' views: only the views that report to it.

The three login views are metered (compare.metering) and the four endpoints
the CSRF lab attacks are observed (compare.csrf_lab); every other view is
served as its app wrote it, so a request that no page measures runs no
instrumentation. The root URLconf includes the session and JWT sides through
``instrumented``; the apps themselves know nothing of the comparison.
"""

from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern

from compare.csrf_lab import ATTACKS, observed
from compare.metering import LOGIN_VIEWS, login_metered


def instrumented(urlconf: str) -> tuple[list, str]:
    """Return ``urlconf``'s patterns and app name, for include(), with the measured views wrapped."""
    module = import_module(urlconf)
    app_name = module.app_name
    attacked = {attack.url_name for attack in ATTACKS}
    patterns = []
    for pattern in module.urlpatterns:
        name = f"{app_name}:{pattern.name}" if isinstance(pattern, URLPattern) else None
        if name in LOGIN_VIEWS or name in attacked:
            callback = pattern.callback
            if name in LOGIN_VIEWS:
                callback = login_metered(callback, kind=LOGIN_VIEWS[name])
            if name in attacked:
                callback = observed(callback)
            pattern = URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name)
        patterns.append(pattern)
    return patterns, app_name
