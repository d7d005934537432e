"""``crosswire flows export`` (fixture files a test suite loads) and ``crosswire flows show`` (one line per
call, ``--detail N`` rendered by the mitmweb content view's own code)."""

from __future__ import annotations

import io as stdio
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from crosswire import cli, contentview
from formats_support import project
from llm_flows import ANTHROPIC_REQUEST, CLIENT_KEY, T0, anthropic_calls, chat_calls, llm_flow, read, write
from mitmproxy.test import tflow
from plain_recording import har, har_entry, sdk_view


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["flows", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def load_export(directory: Path) -> list[dict[str, Any]]:
    """What a test suite does with an export: the index, then each call's files (docs/flows.md)."""
    index = json.loads((directory / "index.json").read_text())
    calls = []
    for entry in index["calls"]:
        files = entry["files"]
        meta = json.loads((directory / files["meta"]).read_text())
        request = json.loads((directory / files["request"]).read_text())
        response = (directory / files["response"]).read_bytes() if "response" in files else None
        calls.append({"entry": entry, "meta": meta, "request": request, "response": response})
    return calls


# --- export ---------------------------------------------------------------------------------------


def test_export_writes_each_call_as_fixture_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flows = [tflow.tflow(resp=True), *anthropic_calls(), *chat_calls(T0 + 40)]
    src = write(tmp_path / "session.flow", flows)
    code, _, err = run(capsys, "export", str(src), str(tmp_path / "fixtures"))
    assert code == 0, err
    assert err == "crosswire: 5 LLM API calls exported (of 6 flows)\n"
    names = sorted(p.name for p in (tmp_path / "fixtures").iterdir())
    assert names == [
        "001-meta.json",
        "001-request.json",
        "001-response.sse",
        "002-meta.json",
        "002-request.json",
        "002-response.sse",
        "003-meta.json",
        "003-request.json",
        "003-response.json",
        "004-meta.json",
        "004-request.json",
        "004-response.json",
        "005-meta.json",
        "005-request.json",
        "005-response.sse",
        "index.json",
    ]
    calls = load_export(tmp_path / "fixtures")
    for call, flow in zip(calls, flows[1:], strict=True):
        assert call["request"] == json.loads(flow.request.content)
        assert call["response"] == flow.response.content  # the body as received
        fmt = call["meta"]["format"]
        assert fmt == ("openai-chat" if "chat" in flow.request.path else "anthropic")
        status, view = sdk_view(fmt, call["meta"]["status"], flow.response.headers["content-type"], call["response"])
        assert status == flow.response.status_code and (view.stop or view.error)

    first, tool, whole, error, chat = (c["meta"] for c in calls)
    assert first["number"] == 1 and first["flow"] == 2  # the page load before it is no LLM call
    assert first["time"] == "2025-06-15T15:06:40Z"
    assert first["url"] == "https://api.example.test/v1/messages"
    assert (first["status"], first["streamed"], first["format"], first["crosswire"]) == (200, True, "anthropic", None)
    assert first["model"] == {"request": "claude-sonnet-4-5", "response": "claude-sonnet-4-5"}
    assert (first["stop_reason"], first["usage"]) == ("end_turn", {"input_tokens": 25, "output_tokens": 15})
    assert first["duration"] == pytest.approx(1.51) and first["first_byte"] == pytest.approx(0.25)
    assert ["x-api-key", "[redacted by crosswire: client credential]"] in first["request_headers"]
    assert tool["stop_reason"] == "tool_use"
    assert (whole["streamed"], whole["files"]["response"]) == (False, "003-response.json")
    assert error["status"] == 429 and error["error"] == {"type": "rate_limit_error", "message": "Slow down"}
    assert ["retry-after", "7"] in error["response_headers"]
    assert chat["format"] == "openai-chat"
    assert chat["usage"] == {"input_tokens": 20, "cache_read_input_tokens": 0, "output_tokens": 9}
    index = json.loads((tmp_path / "fixtures" / "index.json").read_text())
    assert (index["source_kind"], index["flows"], index["unreadable"]) == ("flow file", 6, [])
    assert [e["number"] for e in index["calls"]] == [1, 2, 3, 4, 5]
    assert CLIENT_KEY not in "".join(p.read_text() for p in (tmp_path / "fixtures").iterdir())


def test_export_of_a_crosswire_recording_has_both_sides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "export", str(ROOT / "flows" / "tool_call.flow"), str(tmp_path / "out"))
    assert code == 0, err
    (flow,) = read(ROOT / "flows" / "tool_call.flow")
    (call,) = load_export(tmp_path / "out")
    meta = call["meta"]
    assert meta["format"] == "openai-chat"
    assert meta["crosswire"]["upstream_format"] == "anthropic" and meta["crosswire"]["upstream_status"] == 200
    upstream = flow.metadata["crosswire"]
    out = tmp_path / "out"
    assert (out / meta["files"]["upstream_request"]).read_bytes() == upstream["upstream_request"]["body"]
    assert (out / meta["files"]["upstream_response"]).read_bytes() == upstream["upstream_response"]["body"]
    assert meta["files"]["upstream_response"].endswith(".sse")
    # the pair a conversion test wants: the provider's answer and what the client got from it
    _, upstream_view = sdk_view(
        "anthropic", 200, "text/event-stream", (out / meta["files"]["upstream_response"]).read_bytes()
    )
    _, client_view = sdk_view("openai-chat", 200, "text/event-stream", call["response"])
    assert project(client_view, "openai-chat") == project(upstream_view, "openai-chat")


def test_export_of_a_har(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "devtools.har"
    src.write_bytes(har([har_entry(f) for f in anthropic_calls()]))
    code, _, err = run(capsys, "export", str(src), str(tmp_path / "out"))
    assert code == 0, err
    calls = load_export(tmp_path / "out")
    assert [c["response"] for c in calls] == [f.response.content for f in anthropic_calls()]
    assert json.loads((tmp_path / "out" / "index.json").read_text())["source_kind"] == "HAR"


def test_export_numbers_grow_with_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flows = [
        llm_flow("anthropic", ANTHROPIC_REQUEST, {"type": "message", "content": [], "model": "m"}) for _ in range(1000)
    ]
    src = write(tmp_path / "many.flow", flows)
    code, _, err = run(capsys, "export", str(src), str(tmp_path / "out"))
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "out").glob("*-meta.json"))
    assert names[0] == "0001-meta.json" and names[-1] == "1000-meta.json"


def test_export_refuses_a_directory_that_is_not_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    src = write(tmp_path / "in.flow", anthropic_calls())
    code, _, err = run(capsys, "export", str(src), str(tmp_path / "out"))
    assert code == 2
    assert "is not an empty directory: export into a new one" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_export_of_a_damaged_file_exports_what_it_can_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "in.flow", anthropic_calls()).read_bytes()
    (tmp_path / "cut.flow").write_bytes(data[: len(data) - 50])
    code, _, err = run(capsys, "export", str(tmp_path / "cut.flow"), str(tmp_path / "out"))
    assert code == 1
    assert "crosswire: 3 LLM API calls exported (of 3 flows)" in err and "the file ends inside flow 4" in err
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert len(index["calls"]) == 3 and "the file ends inside flow 4" in index["unreadable"][0]


# --- show -----------------------------------------------------------------------------------------


def test_show_prints_one_line_per_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "session.flow", [tflow.tflow(resp=True), *anthropic_calls(), *chat_calls(T0 + 40)])
    code, out, err = run(capsys, "show", str(src))
    assert code == 0
    assert err == "crosswire: 5 LLM API calls in 6 flows\n"
    lines = out.splitlines()
    assert lines[0].split() == [
        "#",
        "time",
        "method",
        "host/path",
        "format",
        "model",
        "status",
        "stop",
        "in/out/cached",
        "duration",
        "ttfb",
    ]
    rows = [line.split() for line in lines[1:]]
    assert rows[0] == [
        "1",
        "2025-06-15T15:06:40Z",
        "POST",
        "api.example.test/v1/messages",
        "anthropic",
        "claude-sonnet-4-5",
        "200",
        "end_turn",
        "25/15/0",
        "1.51s",
        "0.25s",
    ]
    assert rows[1][7:9] == ["tool_use", "25/15/0"]
    assert rows[2][1] == "2025-06-15T15:07:00Z" and rows[2][7:9] == ["end_turn", "30/12/0"]
    assert rows[3][6:9] == ["429", "error:", "rate_limit_error"]
    assert rows[4][3:9] == [
        "api.example.test/v1/chat/completions",
        "openai-chat",
        "gpt-4o-2024-08-06",
        "200",
        "end_turn",
        "20/9/0",
    ]


def test_show_names_the_route_and_both_formats_of_converted_calls(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", str(ROOT / "flows" / "tool_call.flow"))
    assert code == 0
    row = out.splitlines()[1]
    assert "openai-chat<-anthropic" in row and "tool_use" in row and "96/52/0" in row
    assert row.endswith("route '/v1/chat/completions -> http://127.0.0.1:" + row.rsplit("127.0.0.1:", 1)[1])


def test_show_detail_renders_the_answer_as_the_content_view_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = anthropic_calls()
    src = write(tmp_path / "session.flow", flows)
    code, out, _ = run(capsys, "show", str(src), "--detail", "2")
    assert code == 0
    view = contentview.prettify(flows[1].response.content, "text/event-stream", flows[1])  # mitmweb's view
    assert view in out
    assert "request: claude-sonnet-4-5, 1 message, streamed" in out
    assert "── tool call: get_weather (toolu_01A) ──" in out
    code, out, _ = run(capsys, "show", str(src), "--detail", "4")
    assert "anthropic response" in out and "error: rate_limit_error: Slow down" in out


def test_show_detail_of_a_converted_call_shows_the_providers_answer_too(capsys: pytest.CaptureFixture[str]) -> None:
    (flow,) = read(ROOT / "flows" / "thinking.flow")
    code, out, _ = run(capsys, "show", str(ROOT / "flows" / "thinking.flow"), "--detail", "1")
    assert code == 0
    assert contentview.prettify(flow.response.content, "text/event-stream", flow) in out
    upstream = flow.metadata["crosswire"]["upstream_response"]["body"]
    assert "── the provider's answer (anthropic, kept in the flow's metadata) ──" in out
    assert contentview.prettify(upstream, "text/event-stream", flow) in out


def test_show_detail_of_a_missing_call_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "session.flow", anthropic_calls())
    code, _, err = run(capsys, "show", str(src), "--detail", "9")
    assert code == 2
    assert "there is no call 9: " in err and "holds 4 LLM API calls" in err


def test_show_reads_a_damaged_file_and_says_what_it_could_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path / "in.flow", anthropic_calls()).read_bytes()
    (tmp_path / "cut.flow").write_bytes(data[:-10])
    code, out, err = run(capsys, "show", str(tmp_path / "cut.flow"))
    assert code == 1
    assert len(out.splitlines()) == 4  # the header and three calls
    assert "crosswire: unreadable: bytes " in err and "the file ends inside flow 4" in err


def test_show_streams_its_lines(tmp_path: Path) -> None:
    """Each line is written as its flow is read (a long recording shows its first calls at once)."""
    from crosswire.flowshow import show_file

    class Lines(stdio.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    src = write(tmp_path / "in.flow", anthropic_calls())
    out = Lines()
    assert show_file(src, out, None, stdio.StringIO()) == 0
    assert out.flushes == 4
