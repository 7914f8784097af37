"""Tunables of the compare app with their defaults (imported once by CompareConfig.ready()).

As django-axes' conf.py does, a setting the project does not declare gets its
default on ``settings`` here; a deployment sets it through the environment
(authdemo/settings.py, "App tunables").
"""

from __future__ import annotations

from django.conf import settings

# The stateless verifier, as the labs call it (compare/verifier_client.py): the
# revocation lab asks it about a revoked access token, server-side, with a
# short timeout; `make run` starts it beside the site (docs/verifier.md).
settings.VERIFIER_URL = getattr(settings, "VERIFIER_URL", "http://127.0.0.1:8001")
settings.VERIFIER_TIMEOUT = getattr(settings, "VERIFIER_TIMEOUT", 2.0)
