"""What a stream conversion could not carry over is reported, each once, never silently lost."""

from __future__ import annotations

from crosswire import StreamConverter
from crosswire.convert import INVALID_UTF8

START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"m",'
    b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
)
END = (
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":2}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def delta(text: bytes) -> bytes:
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"' + text + b'"}}\n\n'
    )


def convert(*chunks: bytes) -> StreamConverter:
    conv = StreamConverter("anthropic", "openai-chat")
    out = b"".join(conv.feed(c) for c in chunks) + conv.close()
    assert out.endswith(b"data: [DONE]\n\n")
    return conv


def test_clean_utf8_gives_no_warning() -> None:
    assert convert(START, delta("caf\u00e9".encode()), END).warnings == []


def test_invalid_utf8_is_converted_as_u_fffd_and_reported_once() -> None:
    conv = convert(START, delta(b"a\xffb"), delta(b"\xfe"), END)
    assert conv.warnings == [INVALID_UTF8]
    assert not conv.errored
