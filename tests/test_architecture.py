"""The apps depend one way: compare, siteadmin -> api -> mfa -> accounts; the key maths needs no Django."""

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
    [
        # accounts reaches the second factor only through its hook (ACCOUNTS_LOGIN_SECOND_STEP).
        ("accounts", ("api", "compare", "mfa", "siteadmin")),
        ("mfa", ("api", "compare", "siteadmin")),
        ("api", ("compare", "siteadmin")),
        # The ceremonies stand on their own: both the session side and the token side build on them.
        ("passkeys", ("accounts", "api", "compare", "mfa", "siteadmin")),
        ("authcache", ("mfa", "siteadmin")),
        ("compare", ("siteadmin",)),
        # The admin stands on top: it shows the other apps' models, and no app imports it.
        ("authdemo", ("siteadmin",)),
        # The rate limits and the username rules sit below every app that calls them.
        ("limits", ("accounts", "api", "compare", "mfa", "siteadmin")),
        ("usernames", ("accounts", "api", "compare", "mfa", "siteadmin", "limits")),
    ],
)
def test_apps_never_import_upwards(package, forbidden):
    offending = {
        (path, module) for path, module in _imported_modules(package) if module.split(".")[0] in forbidden
    }
    assert offending == set()


def test_key_maths_imports_nothing_of_django():
    # The key maths is plain cryptography over files: nothing in it depends on settings or the ORM.
    modules = {module for path, module in _imported_modules("api") if path == "api/jwk.py"}
    assert modules and not {m for m in modules if m.split(".")[0] in {"django", "rest_framework", "api"}}


@pytest.mark.django_db
def test_the_jwt_side_listens_to_the_revocation_hook(user):
    from rest_framework_simplejwt.exceptions import TokenError

    from accounts.services import credentials_revoked
    from api.logins import token_pair_issue, token_verify

    pair = token_pair_issue(user=user)
    token_verify(raw=str(pair.access))
    # The signal alone, as accounts.services.user_revoke_all sends it, ends every token.
    credentials_revoked.send(sender=type(user), user=user)
    for raw in (pair.access, pair.refresh):
        with pytest.raises(TokenError):
            token_verify(raw=str(raw))


# --- Import cycles and private internals (the rules of the project's audit tools) ---

_SKIPPED = {"tests", "e2e", "fuzz", "migrations", ".venv", "node_modules", "bench", "var", "static", "docs"}
_KNOWN_INTERNALS = {
    "_cache", "_expire_info", "_has_expired", "_cull", "_base_delete_many", "_table", "_wrapped", "_setup",
    "_make_cache_key", "_get_window", "_split_rate", "_csp_update", "_csp_replace", "_csp_exempt",
    "_csp_config", "_csp_nonce", "_loaded_messages", "_prepare_messages", "_get_or_create_session_key",
    "_session_cache", "_clear_cache", "_get_session_key", "_set_session_key", "_validate_session_key",
    "_lock_name", "_session", "_get_session", "_get_session_from_db", "_messages", "_csp_exempt_ro",
    "_csp_nonce_post_response",
}  # fmt: skip


def _project_files() -> dict[str, Path]:
    """Return module name -> path of every project module (tests, migrations, tools left out)."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if any(part in _SKIPPED or part.startswith(".") for part in parts[:-1]):
            continue
        name = ".".join(parts)[: -len(".py")]
        found[name.removesuffix(".__init__")] = path
    return found


def _import_graph() -> dict[str, set[str]]:
    """Return module -> project modules it imports, module-level and deferred imports alike."""
    modules = _project_files()
    tops = {name.split(".")[0] for name in modules}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                    base = ".".join([*parts, *([base] if base else [])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                found = resolve(target) if target.split(".")[0] in tops else None
                if found and found != name:
                    graph[name].add(found)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Return the strongly connected components of two modules or more (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back():
    assert _cycles(_import_graph()) == []


def test_no_two_top_level_packages_import_each_other():
    edges = {
        (name.split(".")[0], other.split(".")[0])
        for name, others in _import_graph().items()
        for other in others
        if name.split(".")[0] != other.split(".")[0]
    }
    pairs = {tuple(sorted(edge)) for edge in edges if edge[::-1] in edges}
    assert pairs == set()


def _private_uses(path: Path, tops: set[str], root: Path = ROOT) -> set[str]:
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(), filename=rel)

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    uses, foreign = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            foreign |= {
                (a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] not in tops
            }
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] not in tops
        ):
            uses |= {f"{rel}: from {node.module} import {a.name}" for a in node.names if private(a.name)}
            foreign |= {a.asname or a.name for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for sub in ast.walk(node):
                skips = (
                    isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "super"
                    and sub.args and isinstance(sub.args[0], ast.Name) and sub.args[0].id != node.name
                )  # fmt: skip
                if skips:
                    uses.add(f"{rel}: super({sub.args[0].id}, ...) inside {node.name}")
        if isinstance(node, ast.Attribute) and private(node.attr):
            if isinstance(node.value, ast.Name) and node.value.id in foreign:
                uses.add(f"{rel}: {node.value.id}.{node.attr}")
            elif node.attr in _KNOWN_INTERNALS:
                uses.add(f"{rel}: .{node.attr}")
    return uses


def test_no_private_internals_of_django_or_of_a_library():
    modules = _project_files()
    tops = {path.relative_to(ROOT).parts[0].removesuffix(".py") for path in modules.values()}
    uses = set().union(*(_private_uses(path, tops) for path in modules.values()))
    assert uses == set()


def test_the_audit_finds_what_it_looks_for(tmp_path):
    # The checks above must see a cycle, a pair and a private use when there is one.
    assert _cycles({"a.x": {"a.y"}, "a.y": {"a.x"}, "b": set()}) == [{"a.x", "a.y"}]
    source = tmp_path / "sample.py"
    source.write_text(
        "from django.core.cache.backends import locmem\nfrom lib import _hidden\n"
        "class A(B):\n    def f(self):\n        super(C, self).f()\n        return locmem._x, self._wrapped\n"
    )
    assert _private_uses(source, {"sample"}, root=tmp_path) == {
        "sample.py: from lib import _hidden",
        "sample.py: super(C, ...) inside A",
        "sample.py: locmem._x",
        "sample.py: ._wrapped",
    }


# --- Module size ---------------------------------------------------------------

MODULE_LINES_MAX = 350
_NOT_MODULES = {"tests", "migrations", "e2e", "fuzz", "node_modules"}


def _module_sizes() -> dict[str, int]:
    """Return path -> line count of every project module, bench/ and settings included."""
    sizes = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if any(part in _NOT_MODULES or part.startswith(".") for part in parts[:-1]):
            continue
        sizes["/".join(parts)] = len(path.read_text().splitlines())
    return sizes


def test_no_module_is_over_the_line_limit():
    sizes = _module_sizes()
    over = {path: lines for path, lines in sizes.items() if lines > MODULE_LINES_MAX}
    assert over == {}
    assert {"authdemo/settings.py", "bench/__main__.py"} <= sizes.keys()


# accounts keeps the user, the session and the password login; second factors,
# rate limits and the admin are apps of their own (mfa, limits, siteadmin).
ACCOUNTS_LINES_MAX = 2000


def test_accounts_stays_under_its_line_budget():
    lines = sum(count for path, count in _module_sizes().items() if path.startswith("accounts/"))
    assert 0 < lines < ACCOUNTS_LINES_MAX
