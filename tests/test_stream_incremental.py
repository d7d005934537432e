"""Streams are converted as they arrive: nothing waits for more input than the frame it is in."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crosswire.convert import StreamConverter

FIXTURES = Path(__file__).parent / "fixtures"
CASES = [
    ("anthropic", "openai-chat", "anthropic_tool_split.sse"),
    ("openai-chat", "anthropic", "openai_chat_tool_split.sse"),
    ("anthropic", "anthropic", "anthropic_tool_split.sse"),
    ("openai-chat", "openai-chat", "openai_chat_tool_split.sse"),
]


def frames(name: str) -> list[bytes]:
    return [f + b"\n\n" for f in (FIXTURES / name).read_bytes().split(b"\n\n") if f]


@pytest.mark.parametrize(("source", "target", "name"), CASES)
def test_first_text_delta_leaves_with_its_frame(source: str, target: str, name: str) -> None:
    conv = StreamConverter(source, target, created=1)
    text = b'"text_delta"' if source == "anthropic" else b'"content":"Let'
    for frame in frames(name):
        if text in frame:
            assert conv.feed(frame[:-1]) == b""  # the frame is not complete yet
            out = conv.feed(frame[-1:])
            want = b'"text_delta","text":"Let' if target == "anthropic" else b'"content":"Let'
            assert want in out
            return
        conv.feed(frame)
    pytest.fail("no text delta in the fixture")


@pytest.mark.parametrize(("source", "target", "name"), CASES)
def test_tool_arguments_stream_before_the_call_ends(source: str, target: str, name: str) -> None:
    conv = StreamConverter(source, target, created=1)
    out = b""
    fragment = b"input_json_delta" if source == "anthropic" else b'"arguments":"{'
    for frame in frames(name):
        out += conv.feed(frame)
        if fragment in frame and b'{\\"' in frame:
            break
    # The first non-empty fragment is out, while the call is still open upstream.
    assert (b'"arguments":"{\\"' if target == "openai-chat" else b'"partial_json":"{\\"') in out
    assert (
        b'finish_reason":"tool_calls' not in out
        and b'content_block_stop\ndata: {"type":"content_block_stop","index":1' not in out
    )


def _read_frames(stream: int, have: bytes, count: int, deadline: float) -> bytes:
    while have.count(b"\n\n") < count:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([stream], [], [], max(left, 0))
        if not ready:
            raise AssertionError(f"no output frame {count} within the timeout; got {have!r}")
        chunk = os.read(stream, 65536)
        if not chunk:
            break
        have += chunk
    return have


def _normal(data: bytes) -> bytes:
    return re.sub(rb'"created":\d+', b'"created":0', data)


@pytest.mark.parametrize(("source", "target", "name"), CASES[:2])
def test_cli_writes_each_frame_before_the_next_arrives(source: str, target: str, name: str) -> None:
    conv = StreamConverter(source, target)
    expected = [conv.feed(f) for f in frames(name)]
    tail = conv.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crosswire", "convert", "--from", source, "--to", target],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        out, count = b"", 0
        for frame, want in zip(frames(name), expected, strict=True):
            proc.stdin.write(frame)
            proc.stdin.flush()
            count += want.count(b"\n\n")
            # Each output frame must arrive while the next input frame is still unsent.
            out = _read_frames(proc.stdout.fileno(), out, count, time.monotonic() + 20)
            assert out.count(b"\n\n") == count
        proc.stdin.close()
        out += proc.stdout.read()
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _normal(out) == _normal(b"".join(expected) + tail)
