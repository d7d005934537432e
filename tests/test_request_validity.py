"""Property: any valid conversation in one format converts to a request the other provider accepts
(its SDK's request types and its documented conversation rules), and converting back keeps the
tool calls, their ids and their results in order."""

from __future__ import annotations

from typing import Any

from bodies_judge import check_anthropic_request, check_openai_request
from crosswire import Options, convert_request
from hypothesis import given, settings
from hypothesis import strategies as st

TEXT = st.text(alphabet='abc <>&"\n', min_size=0, max_size=6)
IMAGE_URL = st.sampled_from(["https://example.com/a.png", "data:image/png;base64,iVBORw0KGgo="])
THINKING = st.sampled_from(["reasoning_content", "xml", "drop"])


@st.composite
def openai_conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": t} for t in draw(st.lists(TEXT, max_size=2))]
    counter = 0
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["user", "user_parts", "assistant", "tools", "developer"]))
        if kind == "user":
            messages.append({"role": "user", "content": draw(TEXT)})
        elif kind == "user_parts":
            parts: list[dict[str, Any]] = [{"type": "text", "text": draw(TEXT)}]
            if draw(st.booleans()):
                parts.append({"type": "image_url", "image_url": {"url": draw(IMAGE_URL)}})
            messages.append({"role": "user", "content": parts})
        elif kind == "assistant":
            messages.append({"role": "assistant", "content": draw(TEXT)})
        elif kind == "developer":
            messages.append({"role": "developer", "content": draw(TEXT)})
        else:
            ids = [f"call_{counter + i}" for i in range(draw(st.integers(1, 3)))]
            counter += len(ids)
            calls = [{"id": i, "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}} for i in ids]
            messages.append({"role": "assistant", "content": draw(st.none() | TEXT), "tool_calls": calls})
            messages += [{"role": "tool", "tool_call_id": i, "content": draw(TEXT)} for i in ids]
    return messages


@st.composite
def anthropic_conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": draw(TEXT.filter(bool))}]
    counter = 0
    for _ in range(draw(st.integers(0, 3))):
        content: list[dict[str, Any]] = []
        if draw(st.booleans()):
            content.append({"type": "thinking", "thinking": draw(TEXT), "signature": "sig" + draw(TEXT)})
        text = draw(TEXT)
        if text:
            content.append({"type": "text", "text": text})
        ids = [f"toolu_{counter + i}" for i in range(draw(st.integers(0 if content else 1, 3)))]
        counter += len(ids)
        content += [{"type": "tool_use", "id": i, "name": "f", "input": {"x": draw(TEXT)}} for i in ids]
        messages.append({"role": "assistant", "content": content})
        reply: list[dict[str, Any]] = []
        for i in ids:
            result = [{"type": "text", "text": draw(TEXT.filter(bool))}]
            if draw(st.booleans()):
                result.append({"type": "image", "source": {"type": "url", "url": "https://example.com/r.png"}})
            reply.append({"type": "tool_result", "tool_use_id": i, "content": result})
        extra = draw(TEXT)
        if extra or not reply:
            reply.append({"type": "text", "text": extra or "next"})
        messages.append({"role": "user", "content": reply})
    return messages


def _calls(anthropic_messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(id, role) of every tool_use and tool_result, in order."""
    out = []
    for message in anthropic_messages:
        if isinstance(message["content"], list):
            for block in message["content"]:
                if block["type"] in ("tool_use", "tool_result"):
                    out.append((block.get("id") or block["tool_use_id"], block["type"]))
    return out


@settings(max_examples=60, deadline=None)
@given(openai_conversations(), THINKING, st.sampled_from([None, "low", "high"]), st.booleans())
def test_openai_conversations_become_valid_anthropic_requests(
    messages: list[dict[str, Any]], thinking: str, effort: str | None, stream: bool
) -> None:
    body: dict[str, Any] = {"model": "g", "messages": messages, "stream": stream}
    if effort:
        body["reasoning_effort"] = effort
    out = convert_request("openai-chat", "anthropic", body, Options(thinking=thinking))
    check_anthropic_request(out.body)
    back = convert_request("anthropic", "openai-chat", out.body, Options(thinking=thinking))
    check_openai_request(back.body)
    ids = [(m["role"], m.get("tool_call_id")) for m in messages if m["role"] == "tool"]
    assert ids == [(m["role"], m.get("tool_call_id")) for m in back.body["messages"] if m["role"] == "tool"]


@settings(max_examples=60, deadline=None)
@given(anthropic_conversations(), THINKING, st.booleans())
def test_anthropic_conversations_become_valid_openai_requests(
    messages: list[dict[str, Any]], thinking: str, enable: bool
) -> None:
    body: dict[str, Any] = {"model": "c", "max_tokens": 8000, "messages": messages}
    if enable:
        body["thinking"] = {"type": "enabled", "budget_tokens": 4096}
    check_anthropic_request(body)  # the generator makes valid conversations
    out = convert_request("anthropic", "openai-chat", body, Options(thinking=thinking))
    check_openai_request(out.body)
    back = convert_request("openai-chat", "anthropic", out.body, Options(thinking=thinking))
    check_anthropic_request(back.body)
    assert _calls(back.body["messages"]) == _calls(messages)
    if thinking == "xml":  # signed thinking survives the trip through an openai client
        signed = [b for m in messages if m["role"] == "assistant" for b in m["content"] if b["type"] == "thinking"]
        kept = [
            b
            for m in back.body["messages"]
            if m["role"] == "assistant" and isinstance(m["content"], list)
            for b in m["content"]
            if b["type"] == "thinking"
        ]
        assert kept == signed
