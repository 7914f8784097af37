"""The API's JSON parser: DRF's, with a nesting limit so no body can exhaust the stack."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request of this API needs more than a few levels; a body nested deeper is
# refused before any code walks it (OWASP ASVS 5.0 V1.5: parse untrusted data
# with bounded resources).
MAX_DEPTH = 32


def _depth_exceeds(value: object, limit: int) -> bool:
    # Iterative, so checking a deep value cannot itself recurse too deep.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    """Parse JSON; a body nested beyond MAX_DEPTH levels is a 400 ``parse_error``, never a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            # The C scanner gives up at the interpreter's recursion limit.
            raise ParseError("JSON parse error - nested too deeply") from exc
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
        return data
