"""Tunables of the admin with their defaults (imported once by SiteAdminConfig.ready()).

As accounts/conf.py does: a setting the project does not declare gets its
default on ``settings`` here, so ``override_settings`` still works in tests.
"""

from __future__ import annotations

from django.conf import settings

# Admin change lists count at most this many rows, never a whole table
# (siteadmin/lists.py, docs/maintenance.md).
settings.ADMIN_COUNT_LIMIT = getattr(settings, "ADMIN_COUNT_LIMIT", 10_000)
