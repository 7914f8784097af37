"""Dependencies between the apps point one way: compare -> api -> accounts; the key maths needs no Django."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(package: str) -> set[tuple[str, str]]:
    """Return (file, imported module) for every import in ``package`` (migrations included)."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((str(path.relative_to(ROOT)), node.module))
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("accounts", ("api", "compare")), ("api", ("compare",))],
)
def test_apps_never_import_upwards(package, forbidden):
    offending = {
        (path, module)
        for path, module in _imported_modules(package)
        if module.split(".")[0] in forbidden
    }
    assert offending == set()


def test_key_maths_imports_nothing_of_django():
    # authdemo/settings.py imports it before Django is configured.
    modules = {module for path, module in _imported_modules("api") if path == "api/jwk.py"}
    assert modules and not {m for m in modules if m.split(".")[0] in {"django", "rest_framework", "api"}}


@pytest.mark.django_db
def test_the_jwt_side_listens_to_the_revocation_hook(user):
    from rest_framework_simplejwt.exceptions import TokenError

    from accounts.services import credentials_revoked
    from api.services import token_pair_issue, token_verify

    pair = token_pair_issue(user=user)
    token_verify(raw=str(pair.access))
    # The signal alone, as accounts.services.user_revoke_all sends it, ends every token.
    credentials_revoked.send(sender=type(user), user=user)
    for raw in (pair.access, pair.refresh):
        with pytest.raises(TokenError):
            token_verify(raw=str(raw))
