"""Usernames: the one canonical form accounts are looked up and rate-limited by, and the look-alike rule.

Two users must not be told apart only by glyphs that look the same
(OWASP ASVS 5.0 V6.2.11 / Unicode TR39 §4, confusable detection):

- ``username_canonical``: NFKC + casefold; two names with the same canonical
  form are the same name (a unique column, accounts.models).
- ``username_skeleton``: the TR39 skeleton of the canonical form; a new name
  whose skeleton equals an existing user's (``alice`` spelt with a Cyrillic
  U+0430 next to the Latin ``alice``) is refused as a look-alike.
- ``username_scripts_mixed``: a new name may use one script, or one of
  TR39's "highly restrictive" combinations (Latin with Han and the Japanese
  kana, with Han and Bopomofo, or with Han and Hangul); digits and
  punctuation (Common) go with any script.

The tables are confusable-homoglyphs' copy of Unicode's confusables.txt and
Scripts.txt (the package django-registration uses). A version of it with
other tables changes some skeletons: the stored skeletons are then filled
again by a data migration, as accounts/migrations/0007 does.
"""

from __future__ import annotations

import functools
import unicodedata

from confusable_homoglyphs import categories, confusables
from django.core.exceptions import ValidationError

USERNAME_MIXED_SCRIPTS = "A username must use the letters of one script; this one mixes %(scripts)s."
USERNAME_LOOKALIKE = "This username looks too much like an existing one. Please choose another."

# Script aliases that mix with any script (digits, punctuation, combining marks).
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# TR39 §5.2 "Highly Restrictive": the sets of scripts one identifier may combine.
_SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# The tables wrap right-to-left characters in LEFT-TO-RIGHT MARKs for display.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


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


@functools.cache
def _prototypes() -> dict[str, str]:
    """Return each confusable character's prototype: the one its whole set of look-alikes maps to.

    confusables.txt maps every source character to one prototype; the package
    keeps each pair in both directions, so a set is a star around its
    prototype: a character with one neighbour that has several (or that is a
    sequence, as "rn" for "m") maps to it. A pair of two single characters
    maps to the lower one, any fixed choice making equal skeletons equal.
    """
    neighbours = {
        key.translate(_DIRECTION_MARKS): [entry["c"].translate(_DIRECTION_MARKS) for entry in entries]
        for key, entries in confusables.confusables_data.items()
    }
    prototypes = {}
    for char, others in neighbours.items():
        if len(char) != 1 or len(others) != 1:
            continue
        other = others[0]
        if len(neighbours.get(other, ())) > 1 or len(other) != 1 or other < char:
            prototypes[char] = other
    return prototypes


def username_skeleton(raw: object) -> str:
    """Return the TR39 skeleton of the canonical username: equal for names that look alike.

    Case-folded again after the mapping, as names are compared without case:
    the prototype of the digit 0 is the capital O, so "0liver" meets "oliver".
    """
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", username_canonical(raw))
    mapped = "".join(prototypes.get(char, char) for char in decomposed).casefold()
    return unicodedata.normalize("NFD", mapped)


def username_scripts(raw: object) -> frozenset[str]:
    """Return the scripts (ISO 15924 aliases) of a username's letters, without Common and Inherited."""
    return frozenset(categories.unique_aliases(username_canonical(raw))) - _NEUTRAL_SCRIPTS


def username_scripts_mixed(raw: object) -> bool:
    """Return whether a username mixes scripts beyond one script or one TR39 highly restrictive set."""
    scripts = username_scripts(raw)
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS)


def username_lookalike_validate(username: str, *, users) -> None:
    """Raise ValidationError if ``username`` mixes scripts or has the skeleton of one of ``users``.

    One lookup of the indexed skeleton column (accounts.models.User). A user
    with the same canonical key is not a look-alike but the same name, which
    the unique key refuses with its own message.
    """
    if username_scripts_mixed(username):
        scripts = " and ".join(sorted(script.title() for script in username_scripts(username)))
        raise ValidationError(
            USERNAME_MIXED_SCRIPTS, code="username_mixed_script", params={"scripts": scripts}
        )
    lookalikes = users.filter(username_skeleton=username_skeleton(username)).exclude(
        username_key=username_canonical(username)
    )
    if lookalikes.exists():
        raise ValidationError(USERNAME_LOOKALIKE, code="username_lookalike")
