"""Whole (non-streamed) responses anthropic <-> openai-chat, judged by the official SDK clients.

Each converted body is served to the target SDK through an httpx.MockTransport; the object the
SDK returns is compared with what the source SDK makes of the original body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from bodies_judge import anthropic_parses, openai_parses
from conftest import wire_params
from crosswire import Options, convert_response

# Hand-written from the two APIs' documentation (stop_reason / finish_reason).
FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length", "stop_sequence": "stop"}
STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())


@pytest.mark.parametrize("path", wire_params("anthropic_message_*.json"))
@pytest.mark.parametrize("thinking", ["reasoning_content", "xml"])
def test_anthropic_message_to_chat_completion(path: Path, thinking: str) -> None:
    source = anthropic_parses(_load(path))
    assert isinstance(source, anthropic.types.Message)
    out = convert_response(
        "anthropic", "openai-chat", path.read_bytes(), Options(thinking=thinking, created=1700000000)
    )
    assert out.status == 200
    completion = openai_parses(out.body)
    assert isinstance(completion, openai.types.chat.ChatCompletion)

    assert completion.id == "chatcmpl-" + source.id.removeprefix("msg_")
    assert completion.model == source.model and completion.created == 1700000000
    choice = completion.choices[0]
    assert choice.finish_reason == FINISH[source.stop_reason]
    message = choice.message
    texts = "".join(b.text for b in source.content if b.type == "text")
    thinking_text = "".join(b.thinking for b in source.content if b.type == "thinking")
    if thinking == "xml":
        assert (message.content or "").endswith(texts)
        for block in source.content:
            if block.type == "redacted_thinking":
                assert f'<redacted_thinking data="{block.data}"/>' in message.content
    else:
        assert (message.content or "") == texts
        assert getattr(message, "reasoning_content", None) == (thinking_text or None)
    calls = [(b.id, b.name, b.input) for b in source.content if b.type == "tool_use"]
    got = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or ()]
    assert got == calls

    usage = source.usage
    cache_read = usage.cache_read_input_tokens or 0
    prompt = usage.input_tokens + cache_read + (usage.cache_creation_input_tokens or 0)
    assert completion.usage.prompt_tokens == prompt
    assert completion.usage.completion_tokens == usage.output_tokens
    assert completion.usage.total_tokens == prompt + usage.output_tokens
    assert completion.usage.prompt_tokens_details.cached_tokens == cache_read
    assert completion.usage.prompt_tokens_details.cache_write_tokens == (usage.cache_creation_input_tokens or 0)

    # the web pages each text block rests on, as url citations of its span of the content
    spans, offset = [], len(message.content or "") - len(texts)
    for block in source.content:
        if block.type == "text":
            spans += [(c.url, c.title, offset, offset + len(block.text)) for c in block.citations or ()]
            offset += len(block.text)
    assert [
        (a.url_citation.url, a.url_citation.title, a.url_citation.start_index, a.url_citation.end_index)
        for a in message.annotations or ()
    ] == spans
    if any(b.type in ("server_tool_use", "web_search_tool_result") for b in source.content):
        assert any("hosted web search" in w for w in out.warnings)


@pytest.mark.parametrize("path", wire_params("openai_chat_completion*.json"))
def test_chat_completion_to_anthropic_message(path: Path) -> None:
    source = openai_parses(_load(path))
    assert isinstance(source, openai.types.chat.ChatCompletion)
    out = convert_response("openai-chat", "anthropic", path.read_bytes(), Options())
    assert out.status == 200 and out.warnings == []
    message = anthropic_parses(out.body)
    assert isinstance(message, anthropic.types.Message)

    assert message.id == "msg_" + source.id.removeprefix("chatcmpl-")
    assert message.model == source.model
    choice = source.choices[0]
    texts = [b.text for b in message.content if b.type == "text"]
    if choice.message.refusal:
        assert texts == [choice.message.refusal] and message.stop_reason == "refusal"
    else:
        assert "".join(texts) == (choice.message.content or "")
        assert message.stop_reason == STOP[choice.finish_reason]
    calls = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls or ()]
    assert [(b.id, b.name, b.input) for b in message.content if b.type == "tool_use"] == calls

    cached = source.usage.prompt_tokens_details.cached_tokens if source.usage.prompt_tokens_details else 0
    assert message.usage.input_tokens == source.usage.prompt_tokens - (cached or 0)
    assert (message.usage.cache_read_input_tokens or 0) == (cached or 0)
    assert message.usage.output_tokens == source.usage.completion_tokens


@pytest.mark.parametrize(
    "path",
    wire_params("anthropic_message_[!s]*.json"),  # all but the server-tool one, whose blocks have no equivalent
)
def test_anthropic_message_round_trip(path: Path) -> None:
    original = _load(path)
    there = convert_response("anthropic", "openai-chat", original, Options(thinking="reasoning_content"))
    back = convert_response("openai-chat", "anthropic", there.body, Options()).body
    assert back["id"] == original["id"] and back["model"] == original["model"]
    assert back["stop_reason"] == original["stop_reason"]
    keep = [b for b in original["content"] if b["type"] != "redacted_thinking"]  # only xml carries it
    assert [{k: b[k] for k in ("type", "text", "id", "name", "input") if k in b} for b in keep] == back["content"]
    usage = original["usage"]
    assert back["usage"]["output_tokens"] == usage["output_tokens"]
    assert back["usage"]["cache_read_input_tokens"] == usage["cache_read_input_tokens"]
    # cache writes travel as openai's prompt_tokens_details.cache_write_tokens, and come back
    assert back["usage"]["input_tokens"] == usage["input_tokens"]
    assert back["usage"]["cache_creation_input_tokens"] == usage["cache_creation_input_tokens"]


@pytest.mark.parametrize("path", wire_params("openai_chat_completion*.json"))
def test_chat_completion_round_trip(path: Path) -> None:
    original = _load(path)
    created = original["created"]
    there = convert_response("openai-chat", "anthropic", original, Options())
    back = convert_response("anthropic", "openai-chat", there.body, Options(created=created)).body
    assert (back["id"], back["model"], back["created"]) == (original["id"], original["model"], created)
    src, got = original["choices"][0], back["choices"][0]
    if src["message"]["refusal"]:  # anthropic has no refusal field: the text comes back as content
        assert got["message"]["content"] == src["message"]["refusal"] and got["finish_reason"] == "content_filter"
    else:
        assert got["finish_reason"] == src["finish_reason"]
        assert got["message"]["content"] == src["message"]["content"]
        calls = [
            (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in src["message"].get("tool_calls") or ()
        ]
        got_calls = [
            (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in got["message"].get("tool_calls") or ()
        ]
        assert got_calls == calls
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert back["usage"][key] == original["usage"][key]


def test_thinking_and_signature_reach_an_openai_client_in_xml_mode() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [
            {"type": "thinking", "thinking": "2 < 3 & so on", "signature": "sig=="},
            {"type": "text", "text": "Yes."},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    out = convert_response("anthropic", "openai-chat", body, Options(thinking="xml"))
    completion = openai_parses(out.body)
    assert completion.choices[0].message.content == '<thinking signature="sig==">2 &lt; 3 &amp; so on</thinking>Yes.'
    dropped = convert_response("anthropic", "openai-chat", body, Options(thinking="drop"))
    assert openai_parses(dropped.body).choices[0].message.content == "Yes."
    assert dropped.warnings


def test_reasoning_content_from_an_openai_upstream_becomes_thinking() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "42", "reasoning_content": "Think."},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 9,
            "total_tokens": 14,
            "completion_tokens_details": {"reasoning_tokens": 4},
        },
    }
    message = anthropic_parses(convert_response("openai-chat", "anthropic", body, Options()).body)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking == "Think." and message.content[0].signature == ""
    assert message.usage.output_tokens == 9


def test_invalid_tool_arguments_pass_through_with_a_warning() -> None:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{oops"}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    out = convert_response("openai-chat", "anthropic", body, Options())
    assert out.body["content"] == [{"type": "tool_use", "id": "c1", "name": "f", "input": "{oops"}]
    assert out.body["stop_reason"] == "tool_use" and out.warnings


@pytest.mark.parametrize(
    ("source", "target", "body"),
    [
        ("anthropic", "openai-chat", b"<html>oops</html>"),
        ("anthropic", "openai-chat", b'{"type": "message"}'),
        ("anthropic", "openai-chat", b'{"content": [{"type": "text"}]}'),
        ("openai-chat", "anthropic", b"[]"),
        ("openai-chat", "anthropic", b'{"choices": []}'),
        ("openai-chat", "anthropic", b'{"choices": [{"message": {"content": 5}}]}'),
    ],
)
def test_unreadable_response_becomes_a_502_error_in_the_target_format(source: str, target: str, body: bytes) -> None:
    out = convert_response(source, target, body, Options())
    assert out.status == 502
    judge = openai_parses if target == "openai-chat" else anthropic_parses
    exc = judge(out.body, out.status)
    assert isinstance(exc, openai.InternalServerError | anthropic.InternalServerError)
    assert "could not convert the upstream" in str(exc)
