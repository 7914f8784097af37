"""Constants and assertions shared by the whole suite (fixtures are in conftest.py)."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery staple"


def durations_masked(text: str) -> str:
    """Return ``text`` with every "about N unit(s)" of a lock message as "about N".

    Each rate-limit counter has its own staggered window, so two locks differ
    in the duration and even in its unit ("about 40 seconds", "about 12 minutes").
    """
    return re.sub(r"about \d+ (second|minute|hour)s?", "about N", text)
