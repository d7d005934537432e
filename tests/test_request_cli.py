"""`crosswire convert` on JSON bodies: requests, responses, errors, and the SSE path still taken."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest
from bodies_judge import check_anthropic_request, openai_parses
from conftest import WIRE
from crosswire.cli import main


def _run(tmp_path: Path, data: bytes, *args: str) -> tuple[int, bytes]:
    src, dst = tmp_path / "in", tmp_path / "out"
    src.write_bytes(data)
    code = main(["convert", *args, str(src), str(dst)])
    return code, dst.read_bytes() if dst.exists() else b""


def test_request(tmp_path: Path) -> None:
    body = {"model": "gpt-4.1", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}]}
    code, out = _run(tmp_path, json.dumps(body).encode(), "--from", "openai-chat", "--to", "anthropic", "--request")
    assert code == 0
    converted = json.loads(out)
    check_anthropic_request(converted)
    assert converted["system"] == "S"


def test_rejected_request_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run(
        tmp_path, b'{"model": "m", "messages": 3}', "--from", "openai-chat", "--to", "anthropic", "--request"
    )
    assert code == 1
    assert "messages: expected an array" in capsys.readouterr().err


@pytest.mark.skipif(not WIRE.is_dir(), reason="corpus absent")
def test_response_is_detected(tmp_path: Path) -> None:
    data = (WIRE / "anthropic_message_tool_use.json").read_bytes()
    code, out = _run(tmp_path, b"\n  " + data, "--from", "anthropic", "--to", "openai-chat")
    assert code == 0
    completion = openai_parses(json.loads(out))
    assert completion.choices[0].finish_reason == "tool_calls"


@pytest.mark.skipif(not WIRE.is_dir(), reason="corpus absent")
def test_error_is_detected_with_its_implied_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = (WIRE / "anthropic_error_overloaded.json").read_bytes()
    code, out = _run(tmp_path, data, "--from", "anthropic", "--to", "openai-chat")
    assert code == 0
    assert "HTTP status 503" in capsys.readouterr().err
    exc = openai_parses(json.loads(out), 503)
    assert isinstance(exc, openai.InternalServerError) and "Overloaded" in exc.message


def test_status_makes_any_body_an_error(tmp_path: Path) -> None:
    code, out = _run(tmp_path, b"<h1>Bad Gateway</h1>", "--from", "openai-chat", "--to", "anthropic", "--status", "502")
    assert code == 0
    assert json.loads(out) == {
        "type": "error",
        "error": {"type": "api_error", "message": "upstream returned HTTP 502: Bad Gateway"},
    }


@pytest.mark.skipif(not WIRE.is_dir(), reason="corpus absent")
def test_sse_input_still_streams(tmp_path: Path) -> None:
    code, out = _run(
        tmp_path, (WIRE / "openai_chat_stream_text.sse").read_bytes(), "--from", "openai-chat", "--to", "anthropic"
    )
    assert code == 0
    assert out.startswith(b"event: message_start\n")
