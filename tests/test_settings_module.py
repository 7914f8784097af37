"""authdemo/settings.py only declares: no app import, no file written, no validation, no app tunable."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "authdemo" / "settings.py"
APPS = ("accounts", "api", "compare", "verifier", "bench")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_settings_import_no_app_module():
    imported = _imported_modules(SETTINGS)
    assert not {name for name in imported if name.split(".")[0] in APPS}
    assert imported <= {
        "__future__",
        "datetime",
        "pathlib",
        "environ",
        "csp.constants",
        "authdemo.cookienames",
        "authdemo.varfiles",
    }


def test_settings_validate_nothing_and_write_nothing():
    source = SETTINGS.read_text()
    assert "ImproperlyConfigured" not in source
    assert "raise " not in source
    for writer in (
        "open(",
        "write_text",
        "write_bytes",
        "mkdir",
        "var_file_create",
        "var_file_read_or_create",
    ):
        assert writer not in source


def _settings_in_subprocess(var_dir: Path, code: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AUTHDEMO_", "LOGIN_RATELIMIT_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="authdemo.settings", AUTHDEMO_VAR_DIR=str(var_dir), **extra)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_importing_the_embedded_settings_writes_no_file(tmp_path):
    result = _settings_in_subprocess(tmp_path / "var", "import authdemo.settings", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()


def test_app_tunables_default_in_their_app_and_follow_the_environment(tmp_path):
    code = (
        "import json, django; import authdemo.settings as module; django.setup();"
        "from django.conf import settings;"
        "print(json.dumps([hasattr(module, 'LOGIN_RATELIMIT_IP'), settings.LOGIN_RATELIMIT_IP]))"
    )
    common = {"DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": "k" * 60}
    default = _settings_in_subprocess(tmp_path, code, **common)
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout.splitlines()[-1]) == [False, "30/m"]  # accounts/conf.py
    configured = _settings_in_subprocess(tmp_path, code, LOGIN_RATELIMIT_IP="7/m", **common)
    assert configured.returncode == 0, configured.stderr
    assert json.loads(configured.stdout.splitlines()[-1]) == [True, "7/m"]


def test_settings_stay_short():
    assert len(SETTINGS.read_text().splitlines()) <= 350
