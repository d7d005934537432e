"""The parts of `crosswire run` that need no child: the tool's environment, exit statuses, the run logs,
`crosswire env`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from crosswire import ca, run
from crosswire.cli import main


def test_the_tools_environment_points_every_proxy_variable_at_crosswire() -> None:
    env = run.tool_environment(
        {"HOME": "/h", "https_proxy": "http://corp:3128", "NO_PROXY": ".openai.com"},
        "http://127.0.0.1:5000",
        {"SSL_CERT_FILE": "/c/bundle.pem"},
    )
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        assert env[name] == "http://127.0.0.1:5000"
    # the user's exclusions would let a routed host bypass crosswire: loopback only
    assert env["NO_PROXY"] == env["no_proxy"] == "localhost,127.0.0.1,::1"
    assert env["SSL_CERT_FILE"] == "/c/bundle.pem" and env["HOME"] == "/h" and env["NODE_USE_ENV_PROXY"] == "1"


@pytest.mark.parametrize(("returncode", "status"), [(0, 0), (3, 3), (-2, 130), (-9, 137), (-15, 143)])
def test_exit_status_as_a_shell_reports_it(returncode: int, status: int) -> None:
    assert run.exit_status(returncode) == status


def test_off_a_terminal_signals_are_forwarded() -> None:
    # pytest's stdin/stdout are not this process group's terminal: a SIGINT came from a kill, not a Ctrl-C
    if any(os.isatty(fd) for fd in (0, 1, 2)):
        pytest.skip("run with a terminal attached")
    assert run._terminal_sent_it_to_the_group() is False


def test_run_logs_are_new_files_and_the_oldest_go(tmp_path: Path) -> None:
    logs = tmp_path / "crosswire" / "logs"
    logs.mkdir(parents=True)
    for i in range(25):
        (logs / f"run-20260101-0000{i:02d}-1.log").write_text("old", encoding="utf-8")
    path = run._run_log({"XDG_STATE_HOME": str(tmp_path)})
    assert path.parent == logs and not path.exists()
    kept = sorted(p.name for p in logs.iterdir())
    assert len(kept) == run.KEEP_LOGS - 1 and kept[0] == "run-20260101-000006-1.log"


def test_env_prints_lines_a_shell_can_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env", "--confdir", str(tmp_path), "--proxy", "http://127.0.0.1:8080"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"# mitmproxy CA {tmp_path / ca.CA_CERT}")
    exports = dict(line[len("export ") :].split("=", 1) for line in lines[1:])
    assert exports["HTTPS_PROXY"] == "http://127.0.0.1:8080" and exports["NO_PROXY"] == "localhost,127.0.0.1,::1"
    assert exports["SSL_CERT_FILE"] == str(tmp_path / ca.BUNDLE)
    assert exports["NODE_EXTRA_CA_CERTS"] == str(tmp_path / ca.EXTRA)
    assert (tmp_path / ca.CA_CERT).read_bytes() in (tmp_path / ca.EXTRA).read_bytes()
