"""``crosswire demo`` as a person runs it: a subprocess, its output, its exit status, and nothing left running
afterwards (also when it is interrupted)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import processes_with
from mitmproxy import io

CROSSWIRE = Path(sys.executable).parent / "crosswire"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="finding leftover processes reads /proc (Linux)"),
]


@pytest.fixture
def marker() -> Iterator[str]:
    mark = f"CROSSWIRE_DEMO_TEST={uuid.uuid4()}"
    yield mark
    leftovers = processes_with(mark)
    for pid in leftovers:  # do not let a failure leave processes behind for the next tests
        os.kill(pid, signal.SIGKILL)
    assert not leftovers, f"processes left running after the demo: {leftovers}"


def _env(marker: str) -> dict[str, str]:
    name, _, value = marker.partition("=")
    return {**os.environ, name: value, "http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


def _wait_gone(marker: str, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_demo_streams_the_converted_answer_and_stops_everything(marker: str) -> None:
    started = time.monotonic()
    # A proxy in the environment must not matter: the demo talks to 127.0.0.1 only.
    run = subprocess.run([CROSSWIRE, "demo"], capture_output=True, text=True, timeout=90, env=_env(marker))
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "assistant> Let me check the current weather in Paris for you.\n" in out
    assert 'tool call> get_weather({"city": "Paris", "unit": "celsius"})  id toolu_demo_01\n' in out
    assert "finish_reason: tool_calls\n" in out
    assert "usage: prompt_tokens 96, completion_tokens 52, total_tokens 148\n" in out
    assert "the upstream received: POST /v1/messages (anthropic)" in out
    assert "x-api-key set by the route, the client's key removed" in out
    assert run.stderr == ""
    assert elapsed < 30
    assert _wait_gone(marker, 5) == []


def test_demo_runs_with_block_buffered_output_to_a_pipe(marker: str) -> None:
    """Issue 17: on a machine without PYTHONUNBUFFERED, Python block-buffers output to a pipe. The demo (and
    the mitmdump it starts, which inherits the variable) must not depend on it."""
    env = {k: v for k, v in _env(marker).items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([CROSSWIRE, "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, (out + err).decode()
    assert b"assistant> Let me check the current weather in Paris for you.\n" in out
    assert b"done in " in out and err == b""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_demo_stops_everything(marker: str, signum: int) -> None:
    proc = subprocess.Popen([CROSSWIRE, "demo"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=_env(marker))
    assert proc.stdout is not None
    seen = b""
    # The answer has started to stream: every process is up. Read what arrives (the demo flushes the
    # streamed text, not each line: its stdout is a block-buffered pipe here).
    while b"assistant> " not in seen:
        data = os.read(proc.stdout.fileno(), 4096)
        assert data, f"demo ended before streaming: {seen!r}"
        seen += data
    assert len(processes_with(marker)) >= 2  # the demo and its mitmdump: what must be gone afterwards is visible
    proc.send_signal(signum)
    try:
        rest, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, (seen + rest).decode()
    assert b"interrupted: fake upstream and mitmdump stopped" in rest
    assert _wait_gone(marker) == []


def test_record_writes_one_small_flow_per_scenario(marker: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [CROSSWIRE, "demo", "--record", tmp_path / "flows"],
        capture_output=True,
        text=True,
        timeout=90,
        env=_env(marker),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    files = sorted((tmp_path / "flows").iterdir())
    names = ["rate_limited.flow", "stream_error.flow", "text.flow", "thinking.flow", "tool_call.flow"]
    assert [f.name for f in files] == names
    statuses = {}
    for path in files:
        with open(path, "rb") as f:
            (flow,) = io.FlowReader(f).stream()
        statuses[path.stem] = flow.response.status_code
        assert flow.metadata["crosswire"]["upstream_format"] == "anthropic"
        assert path.stat().st_size < 20_000
        assert b"sk-ant-demo" not in path.read_bytes() and b"sk-demo-client" not in path.read_bytes()
    assert statuses == {"rate_limited": 429, "stream_error": 200, "text": 200, "thinking": 200, "tool_call": 200}
