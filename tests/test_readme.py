"""The README's shell examples run as written against a live site and verifier, and say what they print."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.verifier.conftest import verifier_for  # noqa: F401  (the fixture, shared)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

README = Path(__file__).resolve().parent.parent / "README.md"
DEMO_PASSWORD = "Readme-demo-passw0rd"


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)


def _api_tour() -> str:
    (block,) = [b for b in _shell_blocks() if "B=${B:-" in b]
    return block


def test_the_readme_opens_with_the_two_commands():
    first = _shell_blocks()[0]
    assert [line.split()[:2] for line in first.strip().splitlines()] == [["make", "run"], ["make", "test"]]
    assert README.read_text().index("make run") < 1200  # on the first screen


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl, as the README does")
def test_the_api_tour_runs_as_written_and_prints_what_it_says(
    live_server, verifier_for, django_user_model, tmp_path  # noqa: F811
):
    django_user_model.objects.create_user(username="demo", password=DEMO_PASSWORD)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "demo_password").write_text(DEMO_PASSWORD + "\n")
    verifier = verifier_for(f"{live_server.url}/.well-known/jwks.json")
    block = _api_tour()
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env={**os.environ, "B": live_server.url, "V": verifier.url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = [line for line in done.stdout.splitlines() if line.strip()]
    expected = [line.removeprefix("#").strip() for line in block.splitlines() if line.startswith("#   ")]
    # One printed line per documented answer, in order, each carrying the documented fields.
    assert len(printed) == len(expected), done.stdout
    for got, documented in zip(printed, expected, strict=True):
        for key, value in re.findall(r'"(\w+)": ?("[^"]*"|\d+|false|true)', documented):
            if key in {"expires_in", "id"}:
                continue  # varies by run
            assert f'"{key}":{value}' in got.replace('": ', '":'), (documented, got)
        if documented.split()[0].isdigit():
            assert got.strip() == documented.split()[0]
    me = json.loads(printed[0])
    assert (me["username"], me["auth"]) == ("demo", "jwt-bearer")
    assert json.loads(printed[-1])["revocation_checked"] is False  # the verifier, after the revocation
    assert not (tmp_path / "var" / "pair.json").exists()  # tokens went to a temporary folder
