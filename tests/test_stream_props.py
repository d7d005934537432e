"""Property tests: chunking never changes the output, and round trips through the other format
keep text, tool calls, usage and the stop reason (judged by the official SDKs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import wire_files
from crosswire.convert import StreamConverter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_judges import anthropic_accumulate, openai_accumulate

FIXTURES = Path(__file__).parent / "fixtures"
FORMATS = {"anthropic": "anthropic", "openai-chat": "openai_chat"}
PAIRS = [(s, t) for s in FORMATS for t in FORMATS]


def run(source: str, target: str, pieces: list[bytes]) -> bytes:
    conv = StreamConverter(source, target, created=1700000000)
    return b"".join(conv.feed(p) for p in pieces) + conv.close()


def bodies(source: str) -> list[bytes]:
    prefix = FORMATS[source]
    files = sorted(FIXTURES.glob(f"{prefix}_*.sse")) + wire_files(f"{prefix}_stream_*.sse")
    return [f.read_bytes() for f in files]


@pytest.mark.parametrize(("source", "target"), PAIRS)
@pytest.mark.parametrize("name", ["tool_split", "thinking_or_reasoning", "error"])
def test_every_byte_offset(source: str, target: str, name: str) -> None:
    prefix = FORMATS[source]
    if name == "thinking_or_reasoning":
        name = "thinking" if source == "anthropic" else "reasoning"
    body = (FIXTURES / f"{prefix}_{name}.sse").read_bytes()
    whole = run(source, target, [body])
    for i in range(len(body) + 1):
        assert run(source, target, [body[:i], body[i:]]) == whole, i


@pytest.mark.parametrize(("source", "target"), PAIRS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_chunking(source: str, target: str, data: st.DataObject) -> None:
    body = data.draw(st.sampled_from(bodies(source)))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=40)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert run(source, target, pieces) == run(source, target, [body])


# --- generated streams for the round trips -------------------------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
ident = st.from_regex(r"[A-Za-z0-9]{6,12}", fullmatch=True)
json_args = st.dictionaries(
    st.text("abcxyz_", min_size=1, max_size=6),
    st.one_of(st.integers(-1000, 1000), texts, st.booleans(), st.lists(st.integers(0, 9), max_size=3)),
    max_size=4,
)


@st.composite
def splits(draw: st.DrawFn, s: str) -> list[str]:
    """``s`` cut at arbitrary character offsets (inside escapes, keys, multi-byte characters)."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(len(s) - 1, 1)), max_size=5))))
    return [s[a:b] for a, b in zip([0, *cuts], [*cuts, len(s)], strict=True) if s[a:b]]


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    """An assistant answer: text and tool-call parts in order, usage and a stop reason."""
    parts: list[tuple[Any, ...]] = []
    for kind in draw(st.lists(st.sampled_from(["text", "tool"]), min_size=1, max_size=4)):
        if kind == "text" and (not parts or parts[-1][0] != "text"):
            parts.append(("text", draw(st.lists(texts, min_size=1, max_size=4))))
        elif kind == "tool":
            args = draw(json_args)
            fragments = draw(splits(json.dumps(args))) if args else []
            parts.append(("tool", "call_" + draw(ident), draw(ident), fragments))
    return {
        "id": draw(ident),
        "parts": parts,
        "usage": draw(st.fixed_dictionaries({k: st.integers(0, 10**6) for k in ("input", "cache", "output")})),
        "stop": draw(st.sampled_from(["end_turn", "max_tokens", "tool_use", "stop_sequence", "pause_turn", "refusal"])),
    }


def anthropic_sse(a: dict[str, Any]) -> bytes:
    def frame(event: str, data: dict[str, Any]) -> str:
        return f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n"

    u = a["usage"]
    out = [
        frame(
            "message_start",
            {
                "message": {
                    "id": "msg_" + a["id"],
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-x",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": u["input"], "cache_read_input_tokens": u["cache"], "output_tokens": 1},
                }
            },
        )
    ]
    for i, part in enumerate(a["parts"]):
        if part[0] == "text":
            out.append(frame("content_block_start", {"index": i, "content_block": {"type": "text", "text": ""}}))
            out += [
                frame("content_block_delta", {"index": i, "delta": {"type": "text_delta", "text": t}}) for t in part[1]
            ]
        else:
            block = {"type": "tool_use", "id": part[1], "name": part[2], "input": {}}
            out.append(frame("content_block_start", {"index": i, "content_block": block}))
            out += [
                frame("content_block_delta", {"index": i, "delta": {"type": "input_json_delta", "partial_json": f}})
                for f in part[3]
            ]
        out.append(frame("content_block_stop", {"index": i}))
    delta = {"stop_reason": a["stop"], "stop_sequence": "END" if a["stop"] == "stop_sequence" else None}
    out.append(frame("message_delta", {"delta": delta, "usage": {"output_tokens": u["output"]}}))
    out.append(frame("message_stop", {}))
    return "".join(out).encode()


FINISHES = {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool_calls", "refusal": "content_filter"}
FINISHES |= {"stop_sequence": "function_call", "pause_turn": "stop"}  # reused to draw openai finishes


def chat_sse(a: dict[str, Any]) -> bytes:
    head = {"id": "chatcmpl-" + a["id"], "object": "chat.completion.chunk", "created": 1, "model": "gpt-x"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {json.dumps({**head, 'choices': [choice]})}\n\n"

    out = [chunk({"role": "assistant", "content": ""})]
    position = 0
    for part in a["parts"]:
        if part[0] == "text":
            out += [chunk({"content": t}) for t in part[1]]
        else:
            call = {
                "index": position,
                "id": part[1],
                "type": "function",
                "function": {"name": part[2], "arguments": ""},
            }
            out.append(chunk({"tool_calls": [call]}))
            out += [chunk({"tool_calls": [{"index": position, "function": {"arguments": f}}]}) for f in part[3]]
            position += 1
    out.append(chunk({}, FINISHES[a["stop"]]))
    u = a["usage"]
    usage = {
        "prompt_tokens": u["input"] + u["cache"],
        "completion_tokens": u["output"],
        "total_tokens": u["input"] + u["cache"] + u["output"],
        "prompt_tokens_details": {"cached_tokens": u["cache"]},
    }
    out.append(f"data: {json.dumps({**head, 'choices': [], 'usage': usage})}\n\ndata: [DONE]\n\n")
    return "".join(out).encode()


def _anthropic_view(m: Any) -> tuple[Any, ...]:
    u = m.usage
    return (
        m.id,
        "".join(b.text for b in m.content if b.type == "text"),
        [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"],
        (u.input_tokens + (u.cache_creation_input_tokens or 0), u.cache_read_input_tokens or 0, u.output_tokens),
    )


@settings(max_examples=60, deadline=None)
@given(answers())
def test_anthropic_round_trip(a: dict[str, Any]) -> None:
    body = anthropic_sse(a)
    back = run("openai-chat", "anthropic", [run("anthropic", "openai-chat", [body])])
    src, got = anthropic_accumulate(body).message, anthropic_accumulate(back).message
    assert _anthropic_view(got) == _anthropic_view(src)
    # Chat has no stop_sequence or pause_turn: both come back as end_turn (docs/mapping.md).
    collapsed = {"stop_sequence": "end_turn", "pause_turn": "end_turn"}
    assert got.stop_reason == collapsed.get(src.stop_reason, src.stop_reason)


def _chat_view(c: Any) -> tuple[Any, ...]:
    msg = c.choices[0].message
    finish = c.choices[0].finish_reason
    return (
        c.id,
        msg.content or "",
        [(t.id, t.function.name, t.function.arguments) for t in msg.tool_calls or []],
        (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.prompt_tokens_details.cached_tokens),
        "tool_calls" if finish == "function_call" else finish,  # the legacy name comes back as the current one
    )


@settings(max_examples=60, deadline=None)
@given(answers())
def test_chat_round_trip(a: dict[str, Any]) -> None:
    body = chat_sse(a)
    back = run("anthropic", "openai-chat", [run("openai-chat", "anthropic", [body])])
    src, got = openai_accumulate(body), openai_accumulate(back)
    want = _chat_view(src)
    # A call streamed with no arguments at all reaches a chat client as "{}".
    want = (*want[:2], [(i, n, args or "{}") for i, n, args in want[2]], *want[3:])
    assert _chat_view(got) == want
