"""The installable package: console script, mitmproxy entry script from a clone and from an install."""

from __future__ import annotations

import os
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


def _installed_copy(tmp_path: Path, marker: str) -> Path:
    """An installed crosswire whose startup line says ``marker`` instead, so a test can tell which loaded."""
    target = tmp_path / "site"
    install = run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, ROOT)
    if install.returncode != 0:
        pytest.fail(f"pip could not build an installed copy: {install.stderr[-2000:]}")
    addon = target / "crosswire" / "addon.py"
    addon.write_text(addon.read_text().replace("no route configured", marker))
    return target


def _load_with(entry: Path, tmp_path: Path, pythonpath: Path, *scripts: Path) -> str:
    empty = tmp_path / "empty.flow"
    empty.write_bytes(b"")
    args = [a for s in scripts for a in ("-s", str(s))]
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    result = subprocess.run(
        [str(BIN / "mitmdump"), "-n", "-r", str(empty), *args, "-s", str(entry)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_the_checkout_entry_loads_the_checkout_even_with_an_installed_copy_first_on_the_path(tmp_path: Path) -> None:
    site = _installed_copy(tmp_path, "INSTALLED COPY")
    output = _load_with(ENTRY, tmp_path, site)
    assert output.count(NO_ROUTE_LINE) == 1 and "INSTALLED COPY" not in output, output
    # and the installed copy's own entry loads the installed copy
    output = _load_with(site / "crosswire" / "mitm.py", tmp_path, site)
    assert "INSTALLED COPY" in output and NO_ROUTE_LINE not in output, output


def test_the_checkout_entry_replaces_a_copy_another_script_imported(tmp_path: Path) -> None:
    site = _installed_copy(tmp_path, "INSTALLED COPY")
    other = tmp_path / "other.py"
    other.write_text("import crosswire  # an installed copy, imported before crosswire's own entry script\n")
    output = _load_with(ENTRY, tmp_path, site, other)
    assert output.count(NO_ROUTE_LINE) == 1 and "INSTALLED COPY" not in output, output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--set", "crosswire_route=a.test/v1/messages -> http://b.test/v1/chat/completions -> http://c"],
            "more than one '->'",
        ),
        (["--set", "crosswire_route=*.openai.com/v1/chat/completions -> http://h/v1/messages"], "wildcard hosts"),
        (["--set", "crosswire_config=routes.toml"], "not UTF-8"),
    ],
)
def test_a_bad_configuration_is_one_line_without_a_traceback(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "routes.toml").write_bytes(b'[[route]]\nname = "caf\xe9"\n')  # Latin-1, not UTF-8
    empty = tmp_path / "empty.flow"
    empty.write_bytes(b"")
    env = {**os.environ, "ANTHROPIC_API_KEY": "k" * 20, "OPENAI_API_KEY": "k" * 20}
    result = subprocess.run(
        [str(BIN / "mitmdump"), "-n", "-r", str(empty), "-s", str(ENTRY), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0 and expected in output, output
    assert "Traceback" not in output, output
    assert len([ln for ln in output.splitlines() if expected in ln]) == 1, output
