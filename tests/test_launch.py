"""crosswire.launch: a mitmdump that is ready when start() returns, whatever its output buffering; a failed
start reported with mitmdump's own error; and no mitmdump left behind, even when its parent is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import httpx
import pytest
from crosswire import launch
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import processes_with

pytestmark = pytest.mark.e2e


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_ready_without_pythonunbuffered_and_proxies_at_once(tmp_path: Path) -> None:
    assert "PYTHONUNBUFFERED" not in os.environ  # conftest removes it, as on most machines
    with FakeUpstream() as up:
        up.push(Reply({"ok": True}))
        route = f"http://api.example.test/v1/chat/completions -> {up.url('/v1/chat/completions')}"
        env = {**os.environ, "OPENAI_API_KEY": "sk-upstream"}
        with launch.start(["--set", f"crosswire_route={route}"], env=env, log=tmp_path / "log", confdir=tmp_path) as m:
            assert m.port != 0
            # the first request, sent the moment start() returned, is answered
            r = httpx.Client(proxy=m.url, trust_env=False).post("http://api.example.test/v1/chat/completions", json={})
            assert r.status_code == 200 and r.json() == {"ok": True}
        assert m.proc.returncode == 0  # SIGTERM: a clean shutdown
    assert up.requests[0].headers["authorization"] == "Bearer sk-upstream"


def test_a_bad_route_is_reported_with_mitmdumps_own_error(tmp_path: Path) -> None:
    with pytest.raises(launch.LaunchError) as failed:
        launch.start(["--set", "crosswire_route=no arrow here"], log=tmp_path / "log", confdir=tmp_path)
    message = str(failed.value)
    first = message.splitlines()[0]
    assert first.startswith("mitmproxy exited with status 1 before it listened: crosswire_route 'no arrow here': ")
    assert "write 'MATCH -> UPSTREAM'" in first
    assert "Error logged during startup" in message  # mitmdump's output follows, for the whole story
    assert "Traceback" not in message  # crosswire's one line is the story
    # mitmdump also logged "listening at" before giving up: a log watcher would have been fooled
    assert "listening at" in (tmp_path / "log").read_text(encoding="utf-8")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finding leftover processes reads /proc (Linux)")
def test_a_start_that_takes_too_long_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    marker = f"CROSSWIRE_LAUNCH_TEST={uuid.uuid4()}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    with pytest.raises(launch.LaunchError, match=r"^mitmproxy did not listen within 0 s"):
        launch.start(env=env, log=tmp_path / "log", confdir=tmp_path, timeout=0.001)
    assert processes_with(marker) == []
    assert list((tmp_path / "tmp").iterdir()) == []  # its ready-file directory is gone too


PARENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from crosswire import launch

    m = launch.start(log=Path(sys.argv[1]) / "log", confdir=Path(sys.argv[1]))
    print(m.pid, flush=True)
    sys.stdin.read()  # until killed
    """
)


def test_mitmdump_stops_by_itself_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    try:
        pid = int(parent.stdout.readline())
        assert os.getsid(pid) != os.getsid(0)  # its own session: the terminal's Ctrl-C is not for it
        parent.send_signal(signal.SIGKILL)  # no cleanup code runs in the parent
        parent.wait(10)
        assert _gone(pid, 10), f"mitmdump {pid} outlived its killed parent"
    finally:
        parent.kill()
        parent.wait()
    assert "Loading script" in (tmp_path / "log").read_text(encoding="utf-8")
