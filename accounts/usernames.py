"""The one canonical form of a username: what accounts are looked up and rate-limited by."""

from __future__ import annotations

import unicodedata


def username_canonical(raw: object) -> str:
    """Return the canonical form of a username: NFKC, case-folded, stripped ("" for a non-string).

    NFKC folds compatibility forms (fullwidth letters, the Kelvin sign U+212A) into
    their plain letters; casefold() is Unicode's caseless matching ("ß" and
    "ss" match; the dotless i U+0131 matches only itself). Done in Python, not
    with the database's UPPER()/LOWER(), whose Unicode rules differ between
    PostgreSQL and SQLite.
    """
    if not isinstance(raw, str):
        return ""
    return unicodedata.normalize("NFKC", raw).casefold().strip()
