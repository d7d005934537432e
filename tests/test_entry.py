"""The installable package: console script, mitmproxy entry script from a clone and from an install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import crosswire
import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
ENTRY = ROOT / "addon" / "crosswire" / "mitm.py"
NO_ROUTE_LINE = "crosswire: no route configured"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_version() -> None:
    result = run(BIN / "crosswire", "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"crosswire {crosswire.__version__}"


def test_help_lists_commands() -> None:
    result = run(BIN / "crosswire", "--help")
    assert result.returncode == 0
    assert "convert" in result.stdout


def _load_entry(entry: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "empty.flow"
    empty.write_bytes(b"")
    # -n: no proxy server; -r of an empty file: load the script, replay nothing, exit.
    return run(BIN / "mitmdump", "-n", "-r", empty, "-s", entry, "--set", f"confdir={tmp_path}", cwd=tmp_path)


def test_entry_script_loads_from_clone_and_logs_one_line(tmp_path: Path) -> None:
    result = _load_entry(ENTRY, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output and "error" not in output.lower()
    assert output.count(NO_ROUTE_LINE) == 1, output


def test_entry_script_loads_from_installed_copy(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, ROOT)
    if install.returncode != 0:
        pytest.fail(f"pip could not build an installed copy: {install.stderr[-2000:]}")
    installed_entry = target / "crosswire" / "mitm.py"
    assert installed_entry.is_file()
    result = _load_entry(installed_entry, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.count(NO_ROUTE_LINE) == 1, output
