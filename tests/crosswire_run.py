"""``crosswire run`` as a person runs it, for tests: the real console script in a subprocess, with its own
mitmproxy confdir (so its own CA), log and summary file, and a marker in its environment that every
process it starts inherits, so a test can tell that none is left behind.

    result = crosswire_run(tmp_path, ["--to", "anthropic@" + up.url("/v1")], [sys.executable, "child.py"])
    result.returncode, result.stderr, result.summary      # the summary as the addon wrote it (JSON)

``start_crosswire_run`` returns the running process instead (to signal it); ``finished`` then collects it.
A real CLI runs the same way: its command line as ``tool``, its environment in ``env``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2e import processes_with

CROSSWIRE = Path(sys.executable).parent / "crosswire"


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    summary: dict[str, Any] | None  # None: mitmproxy wrote none
    log: str  # mitmproxy's own output
    leftovers: list[int]  # processes of this run still alive once it returned (must be empty)

    def group(self, route_part: str) -> dict[str, Any]:
        """The summary's one entry whose route name contains ``route_part``."""
        assert self.summary is not None, self.stderr
        (group,) = [g for g in self.summary["routes"] if route_part in g["route"]]
        return group


@dataclass
class RunningCrosswire:
    proc: subprocess.Popen[str]
    tmp: Path
    marker: str


def start_crosswire_run(
    tmp: Path,
    run_args: list[str],
    tool: list[str],
    env: dict[str, str] | None = None,
    command: str = "run",
    cwd: Path | None = None,
) -> RunningCrosswire:
    """``crosswire run RUN_ARGS -- TOOL`` (or ``crosswire proxy RUN_ARGS``) started, stdout and stderr piped."""
    tmp.mkdir(parents=True, exist_ok=True)
    marker = f"CROSSWIRE_RUN_TEST={uuid.uuid4()}"
    name, _, value = marker.partition("=")
    files = ["--confdir", str(tmp / "confdir"), "--log", str(tmp / "mitmproxy.log")]
    files += ["--summary-json", str(tmp / "summary.json")]
    cmd = [str(CROSSWIRE), command, *files, *run_args, *(["--", *tool] if command == "run" else [])]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {}), name: value},
        cwd=cwd,
    )
    return RunningCrosswire(proc, tmp, marker)


def finished(run: RunningCrosswire, timeout: float = 120) -> RunResult:
    try:
        stdout, stderr = run.proc.communicate(timeout=timeout)
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
    leftovers = _wait_gone(run.marker)
    for pid in leftovers:  # never leave them for the next test; the test fails on them
        os.kill(pid, 9)
    summary_file = run.tmp / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8")) if summary_file.exists() else None
    log_file = run.tmp / "mitmproxy.log"
    log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    return RunResult(run.proc.returncode, stdout, stderr, summary, log, leftovers)


def crosswire_run(
    tmp: Path,
    run_args: list[str],
    tool: list[str],
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> RunResult:
    """Run ``crosswire run RUN_ARGS -- TOOL`` to its end."""
    return finished(start_crosswire_run(tmp, run_args, tool, env, cwd=cwd), timeout)


def _wait_gone(marker: str, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
