"""Constants and assertions shared by the whole suite (fixtures are in conftest.py)."""

from __future__ import annotations

PASSWORD = "correct horse battery staple"
