"""Cookie names with the prefix their attributes allow (OWASP ASVS 5.0 V3.3.1; RFC 6265bis section 4.1.3).

A browser keeps a ``__Host-`` cookie only when it is Secure, has Path=/ and
no Domain, so no sibling subdomain can set or shadow it; a ``__Secure-``
cookie only when it is Secure. Without Secure (plain HTTP, `make run`) a
prefixed cookie would be refused, so the plain name stays. Pure: settings,
tests and the bench's HTTP client all call it.
"""

from __future__ import annotations

HOST_PREFIX = "__Host-"
SECURE_PREFIX = "__Secure-"


def cookie_name(name: str, *, secure: bool, host_only: bool = True) -> str:
    """Return ``name``, prefixed when ``secure``: ``__Host-`` if ``host_only``, else ``__Secure-``."""
    if not secure:
        return name
    return f"{HOST_PREFIX if host_only else SECURE_PREFIX}{name}"


def cookie_name_forms(name: str) -> tuple[str, str, str]:
    """Return every name the cookie ``name`` may carry: plain, ``__Host-`` and ``__Secure-``."""
    return name, f"{HOST_PREFIX}{name}", f"{SECURE_PREFIX}{name}"
