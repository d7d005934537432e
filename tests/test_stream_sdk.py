"""Stream conversions judged by the official SDKs.

Each source stream is accumulated by its own SDK; the test applies the documented mapping
(docs/mapping.md) to that result, and the converted stream, accumulated by the target's SDK,
must equal it. Sources: the provider transcripts in ../shared/wire and tests/fixtures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from conftest import wire_files
from crosswire.convert import StreamConverter
from formats_support import wire_stream
from stream_judges import anthropic_accumulate, anthropic_raw, openai_accumulate

FIXTURES = Path(__file__).parent / "fixtures"

FINISH = {  # anthropic stop_reason -> openai finish_reason
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}
STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use"}
STOP["content_filter"] = "refusal"
# The error types the sources below use, as an openai client sees them: (type, code).
OPENAI_ERROR = {"overloaded_error": ("server_error", "overloaded"), "api_error": ("server_error", None)}


def _sources(prefix: str, variants: dict[str, tuple[str, tuple[bytes, bytes]]]) -> list[Any]:
    params = [pytest.param(wire_stream(f), id=f.name) for f in wire_files(f"{prefix}_stream_*.sse")]
    params += [pytest.param(f.read_bytes(), id=f.name) for f in sorted(FIXTURES.glob(f"{prefix}_*.sse"))]
    for name, (base, (old, new)) in variants.items():
        body = (FIXTURES / base).read_bytes()
        assert old in body
        params.append(pytest.param(body.replace(old, new), id=name))
    return params


ANTHROPIC_SOURCES = _sources(
    "anthropic",
    {
        f"stop-{reason}": ("anthropic_text.sse", (b'"stop_reason":"end_turn","stop_sequence":null', new))
        for reason, new in {
            "stop_sequence": b'"stop_reason":"stop_sequence","stop_sequence":"\\n\\nHuman:"',
            "max_tokens": b'"stop_reason":"max_tokens","stop_sequence":null',
            "tool_use": b'"stop_reason":"tool_use","stop_sequence":null',
            "refusal": b'"stop_reason":"refusal","stop_sequence":null',
            "pause_turn": b'"stop_reason":"pause_turn","stop_sequence":null',
        }.items()
    },
)
OPENAI_SOURCES = _sources(
    "openai_chat",
    {
        f"finish-{finish}": (
            "openai_chat_text.sse",
            (b'"finish_reason":"stop"', b'"finish_reason":"%s"' % finish.encode()),
        )
        for finish in ("length", "tool_calls", "function_call", "content_filter")
    },
)


def convert(body: bytes, source: str, target: str, **options: Any) -> tuple[bytes, StreamConverter]:
    conv = StreamConverter(source, target, created=1700000000, **options)
    return conv.feed(body) + conv.close(), conv


def sdk_view(body: bytes) -> bytes:
    """The source as its SDK should see it: SDK decoders drop a last event that lacks its blank
    line, crosswire's decoder dispatches it (a proxy must not lose a final error event)."""
    return body if body.endswith(b"\n\n") else body + b"\n\n"


def _source_failure(accumulate: Any, body: bytes) -> Exception | None:
    try:
        accumulate(sdk_view(body))
    except (anthropic.APIError, openai.APIError, ValueError) as exc:  # an error event, or data that is not JSON
        return exc
    return None


# --- anthropic -> openai-chat ------------------------------------------------------------


def expected_chat(src: Any, tool_json: dict[int, str], thinking: str = "reasoning_content") -> dict[str, Any]:
    """The mapping applied to an Anthropic message the anthropic SDK accumulated."""
    content, reasoning, calls = "", "", []
    for i, block in enumerate(src.content):
        if block.type == "text":
            content += block.text
        elif block.type == "thinking":
            if thinking == "reasoning_content":
                reasoning += block.thinking
            elif thinking == "xml":
                content += f'<thinking signature="{_attr(block.signature)}">{_text(block.thinking)}</thinking>'
        elif block.type == "redacted_thinking" and thinking == "xml":
            content += f'<redacted_thinking data="{_attr(block.data)}"/>'
        elif block.type == "tool_use":
            calls.append((block.id, block.name, tool_json.get(i) or "{}"))
    u = src.usage
    cache_read, cache_creation = u.cache_read_input_tokens or 0, u.cache_creation_input_tokens or 0
    prompt = u.input_tokens + cache_read + cache_creation
    return {
        "id": "chatcmpl-" + src.id.removeprefix("msg_"),
        "model": src.model,
        "content": content,
        "reasoning": reasoning,
        "tool_calls": calls,
        "finish_reason": FINISH[src.stop_reason],
        "usage": (prompt, u.output_tokens, prompt + u.output_tokens, cache_read),
    }


def _text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(s: str) -> str:
    return _text(s).replace('"', "&quot;")


def actual_chat(completion: Any) -> dict[str, Any]:
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    msg, u = choice.message, completion.usage
    return {
        "id": completion.id,
        "model": completion.model,
        "content": msg.content or "",
        "reasoning": (msg.model_extra or {}).get("reasoning_content") or "",
        "tool_calls": [(c.id, c.function.name, c.function.arguments) for c in msg.tool_calls or []],
        "finish_reason": choice.finish_reason,
        "usage": (u.prompt_tokens, u.completion_tokens, u.total_tokens, u.prompt_tokens_details.cached_tokens),
    }


@pytest.mark.parametrize("thinking", ["reasoning_content", "xml", "drop"])
@pytest.mark.parametrize("body", ANTHROPIC_SOURCES)
def test_anthropic_to_chat(body: bytes, thinking: str) -> None:
    out, conv = convert(body, "anthropic", "openai-chat", thinking=thinking)
    failure = _source_failure(anthropic_accumulate, body)
    if failure is not None or b"message_stop" not in body:
        with pytest.raises(openai.APIError) as info:
            openai_accumulate(out)
        assert conv.errored
        if isinstance(failure, anthropic.APIStatusError):  # an upstream error event: same message, mapped type
            err = failure.body["error"]  # type: ignore[index]
            assert info.value.message == err["message"]
            assert (info.value.type, info.value.code) == OPENAI_ERROR[err["type"]]
        return
    src = anthropic_accumulate(sdk_view(body))
    assert actual_chat(openai_accumulate(out)) == expected_chat(src.message, src.tool_json, thinking)
    assert not conv.errored
    assert out.endswith(b"data: [DONE]\n\n")
    if thinking == "xml":
        spans = re.findall(rb"<(?:redacted_)?thinking", out)
        kinds = [b.type for b in src.message.content if b.type in ("thinking", "redacted_thinking")]
        assert len(spans) == len(kinds)


def test_anthropic_to_chat_model_override() -> None:
    out, _ = convert((FIXTURES / "anthropic_text.sse").read_bytes(), "anthropic", "openai-chat", model="alias")
    completion = openai_accumulate(out)
    assert completion.model == "alias"
    chunks = [json.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: {")]
    assert {(c["id"], c["created"], c["model"]) for c in chunks} == {(completion.id, 1700000000, "alias")}


# --- openai-chat -> anthropic ------------------------------------------------------------


def _choice0(completion: Any) -> Any:
    return next(c for c in completion.choices if c.index == 0)


def expected_anthropic(src: Any) -> dict[str, Any]:
    """The mapping applied to a chat completion the openai SDK accumulated (choice 0)."""
    msg = _choice0(src).message
    extra = msg.model_extra or {}
    cached = (src.usage.prompt_tokens_details.cached_tokens or 0) if src.usage.prompt_tokens_details else 0
    return {
        "id": "msg_" + src.id.removeprefix("chatcmpl-"),
        "model": src.model,
        "thinking": extra.get("reasoning_content") or extra.get("reasoning") or "",
        "text": (msg.content or "") + (msg.refusal or ""),
        "tools": [
            (c.id, c.function.name, json.loads(c.function.arguments) if c.function.arguments else {})
            for c in msg.tool_calls or []
        ],
        "stop_reason": "refusal" if msg.refusal else STOP[_choice0(src).finish_reason],
        "usage": (src.usage.prompt_tokens - cached, cached, src.usage.completion_tokens),
    }


def actual_anthropic(message: Any) -> dict[str, Any]:
    u = message.usage
    return {
        "id": message.id,
        "model": message.model,
        "thinking": "".join(b.thinking for b in message.content if b.type == "thinking"),
        "text": "".join(b.text for b in message.content if b.type == "text"),
        "tools": [(b.id, b.name, b.input) for b in message.content if b.type == "tool_use"],
        "stop_reason": message.stop_reason,
        "usage": (u.input_tokens, u.cache_read_input_tokens, u.output_tokens),
    }


def assert_lifecycle(out: bytes) -> None:
    """Blocks numbered 0..n-1, each started once and stopped before the next starts."""
    events = anthropic_raw(out)
    assert events[0].type == "message_start"
    open_index, expected_next = None, 0
    for event in events:
        if event.type == "content_block_start":
            assert open_index is None and event.index == expected_next
            open_index, expected_next = event.index, expected_next + 1
        elif event.type == "content_block_delta":
            assert event.index == open_index
        elif event.type == "content_block_stop":
            assert event.index == open_index
            open_index = None
        elif event.type in ("message_delta", "message_stop"):
            assert open_index is None
        assert event.type != "ping"  # openai-chat has none, so none are invented
    assert [e.type for e in events[-2:]] == ["message_delta", "message_stop"]


@pytest.mark.parametrize("body", OPENAI_SOURCES)
def test_chat_to_anthropic(body: bytes) -> None:
    out, conv = convert(body, "openai-chat", "anthropic")
    failure = _source_failure(openai_accumulate, body)
    truncated = failure is None and b"[DONE]" not in body and _choice0(openai_accumulate(body)).finish_reason is None
    if failure is not None or truncated:
        with pytest.raises(anthropic.APIStatusError) as info:
            anthropic_accumulate(out)
        assert conv.errored
        if isinstance(failure, openai.APIError):
            assert info.value.body["error"] == {"type": "api_error", "message": failure.message}  # type: ignore[index]
        return
    src = openai_accumulate(body)
    assert actual_anthropic(anthropic_accumulate(out).message) == expected_anthropic(src)
    assert_lifecycle(out)
    assert not conv.errored
    several = [w for w in conv.warnings if "n>1" in w]
    assert len(several) == (1 if len(src.choices) > 1 else 0)


# Identity (each format converted to itself) is judged in full, strictly, by test_lossless.py.
