"""``crosswire flows convert``: the recorded flows in flows/ convert again to the bytes the client got,
the same file mitmdump writes, and every other flow is counted, explained and kept."""

from __future__ import annotations

import io as stdio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from crosswire import cli, flows
from llm_flows import read, write
from mitmproxy.test import tflow
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk

FLOWS = ROOT / "flows"
NAMES = ["text", "thinking", "tool_call", "stream_error", "rate_limited"]
ROUTE = "/v1/chat/completions -> http://127.0.0.1:1/v1/messages"  # any anthropic upstream: nothing is sent
BIN = Path(sys.executable).parent


def convert(
    capsys: pytest.CaptureFixture[str], src: Path, dst: Path, *extra: str, route: str = ROUTE
) -> tuple[int, str]:
    code = cli.main(["flows", "convert", str(src), str(dst), "--route", route, *extra])
    return code, capsys.readouterr().err


def recorded() -> list[Any]:
    return [read(FLOWS / f"{name}.flow")[0] for name in NAMES]


@pytest.mark.parametrize("name", NAMES)
def test_recorded_flow_converts_to_the_client_bytes_it_recorded(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = convert(capsys, FLOWS / f"{name}.flow", tmp_path / "out.flow")
    assert code == 0, err
    assert "crosswire: 1 flow: 1 converted, 0 skipped, 0 failed" in err
    (before,), (after,) = read(FLOWS / f"{name}.flow"), read(tmp_path / "out.flow")
    assert after.response.raw_content == before.response.raw_content
    assert after.response.status_code == before.response.status_code
    assert after.request.get_state() == before.request.get_state()


def test_same_file_as_mitmdump_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "all.flow", recorded())
    code, err = convert(capsys, src, tmp_path / "cli.flow")
    assert code == 0, err
    env = {**os.environ, "ANTHROPIC_API_KEY": "unused"}  # mitmdump insists on the route's key; the CLI does not
    entry = ROOT / "addon" / "crosswire" / "mitm.py"
    options = ["--set", f"crosswire_route={ROUTE}", "--set", f"confdir={tmp_path}"]
    run = subprocess.run(
        [BIN / "mitmdump", "-q", "-n", "-r", src, "-s", entry, *options, "-w", tmp_path / "mitmdump.flow"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "cli.flow").read_bytes() == (tmp_path / "mitmdump.flow").read_bytes()


def _openai_final(body: bytes) -> Any:
    """The completion the openai SDK assembles from an SSE body."""
    state = ChatCompletionStreamState()
    for line in body.decode().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            state.handle_chunk(ChatCompletionChunk.model_validate_json(line[6:]))
    return state.current_completion_snapshot


def test_thinking_option_changes_the_conversion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = convert(capsys, FLOWS / "thinking.flow", tmp_path / "xml.flow", "--thinking", "xml")
    assert code == 0, err
    (before,), (after,) = read(FLOWS / "thinking.flow"), read(tmp_path / "xml.flow")
    recorded_message = _openai_final(before.response.raw_content).choices[0].message
    xml_message = _openai_final(after.response.raw_content).choices[0].message
    assert recorded_message.content == "17 × 24 = 408."  # recorded with thinking as reasoning_content
    assert xml_message.content.startswith("<thinking")
    assert "17 × 24 = 17 × 20 + 17 × 4 = 340 + 68 = 408.</thinking>" in xml_message.content
    assert xml_message.content.endswith("17 × 24 = 408.")


def test_other_flows_are_kept_counted_and_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = tflow.tflow(resp=True)  # recorded without crosswire
    tcp = tflow.ttcpflow()
    no_response = tflow.tflow()
    src = write(tmp_path / "mixed.flow", [plain, *recorded()[:2], tcp, no_response])
    code, err = convert(capsys, src, tmp_path / "out.flow")
    assert code == 0, err
    assert "crosswire: 5 flows: 2 converted, 3 skipped, 0 failed" in err
    assert "skipped 1: not recorded through crosswire (no upstream answer in the flow's metadata)" in err
    assert "skipped 1: not an HTTP flow (tcp)" in err
    assert "skipped 1: no response" in err
    out = read(tmp_path / "out.flow")
    assert [f.id for f in out] == [f.id for f in (plain, *recorded()[:2], tcp, no_response)]
    assert out[0].get_state() == plain.get_state()


def test_route_that_matches_nothing_skips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "all.flow", recorded())
    code, err = convert(capsys, src, tmp_path / "out.flow", route="/v2/chat/completions -> http://x.test/v1/messages")
    assert code == 0, err
    assert "crosswire: 5 flows: 0 converted, 5 skipped, 0 failed" in err
    assert "skipped 5: no route matches the client request" in err


def test_route_to_another_upstream_format_is_refused_per_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = convert(
        capsys, FLOWS / "text.flow", tmp_path / "out.flow", route="/v1/chat/completions -> http://x.test/v1/responses"
    )
    assert code == 0, err
    assert "skipped 1: " in err and "recorded upstream speaks anthropic, the route expects openai-responses" in err
    assert read(tmp_path / "out.flow")[0].response.raw_content == read(FLOWS / "text.flow")[0].response.raw_content


def test_failures_are_reported_and_set_the_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, thinking, tool_call, *_ = recorded()
    thinking.metadata["crosswire"]["upstream_response"]["truncated"] = True
    del tool_call.metadata["crosswire"]["upstream_response"]["headers"]
    src = write(tmp_path / "bad.flow", [text, thinking, tool_call])
    code, err = convert(capsys, src, tmp_path / "out.flow")
    assert code == 1
    assert "crosswire: 3 flows: 1 converted, 0 skipped, 2 failed" in err
    assert "failed: flow 2 (POST http://127.0.0.1:" in err and "cut at crosswire_record_limit" in err
    assert "failed: flow 3 (POST http://127.0.0.1:" in err and "KeyError('headers')" in err
    assert len(read(tmp_path / "out.flow")) == 3  # failed flows are still written, as recorded


def test_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "all.flow", recorded())
    code, err = convert(capsys, src, src)
    assert code == 0, err
    assert [f.response.raw_content for f in read(src)] == [f.response.raw_content for f in recorded()]
    assert [p.name for p in tmp_path.iterdir()] == ["all.flow"]  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--route", "no arrow here"], "write 'MATCH -> UPSTREAM'"),
        ([], "nothing to do: pass --to FORMAT"),
        (["--to", "anthropic", "--route", ROUTE], "use one of them"),
        (["--route", ROUTE, "--from", "anthropic"], "--from and --model go with --to FORMAT"),
        (["--to", "anthropic", "--model", "=x"], "write NAME (for every model) or FROM=TO"),
        (["--route", ROUTE, "--config", "/nonexistent/routes.toml"], "cannot read the file"),
    ],
)
def test_bad_arguments_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["flows", "convert", str(FLOWS / "text.flow"), str(tmp_path / "out.flow"), *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.flow").exists()


def test_not_a_flow_file_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("these are not flows\n")
    code, err = convert(capsys, src, tmp_path / "out.flow")
    assert code == 2
    assert "notes.txt: not a mitmproxy flow file or a HAR file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_command_needs_no_api_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    run = subprocess.run(
        [BIN / "crosswire", "flows", "convert", FLOWS / "tool_call.flow", tmp_path / "out.flow", "--route", ROUTE],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    # no progress lines off a terminal, for a run this short
    summary = "crosswire: 1 flow: 1 converted, 0 skipped, 0 failed\n  converted 1: anthropic -> openai-chat\n"
    assert run.stderr == summary


class _Terminal(stdio.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_one_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows, "REDRAW_EVERY", 0)
    stream = _Terminal()
    progress = flows.Progress(2_000_000, stream, total_flows=2)
    progress.update(1, 500_000)
    progress.update(2, 2_000_000, final=True)
    assert stream.getvalue() == (
        "\r\x1b[Kcrosswire: 1/2 flows, 0.5 of 2.0 MB (25%)\r\x1b[Kcrosswire: 2/2 flows, 2.0 of 2.0 MB (100%)\n"
    )


def test_progress_prints_lines_now_and_then_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = stdio.StringIO()
    progress = flows.Progress(3_000_000, stream)  # a total number of flows not known (a damaged file)
    progress.update(1, 100)  # too soon after the start
    monkeypatch.setattr(flows, "PROGRESS_EVERY", 0)
    progress.update(2, 1_500_000)
    progress.update(3, 3_000_000, final=True)  # the summary says the rest
    assert stream.getvalue() == "crosswire: 2 flows, 1.5 of 3.0 MB (50%)\n"
