"""Independent judges for converted bodies: the official SDKs and the providers' documented rules.

Requests: the SDK's request parameter types (pydantic, unknown keys forbidden where the types
allow it), the bytes the SDK client would really send (through an httpx.MockTransport), and the
conversation rules each API documents. Responses and errors: an SDK client served the body.
"""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import anthropic
import openai
from openai.types.chat import completion_create_params
from openai.types.responses import response_create_params
from pydantic import ConfigDict, TypeAdapter

try:  # the SDK releases on Python 3.12 are built on httpx2, the older ones on httpx
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]

ANTHROPIC_REQUEST: TypeAdapter[Any] = TypeAdapter(
    anthropic.types.MessageCreateParams, config=ConfigDict(extra="forbid")
)
OPENAI_REQUEST: TypeAdapter[Any] = TypeAdapter(
    completion_create_params.CompletionCreateParams, config=ConfigDict(extra="forbid")
)
RESPONSES_REQUEST: TypeAdapter[Any] = TypeAdapter(
    response_create_params.ResponseCreateParams, config=ConfigDict(extra="forbid")
)

MINIMAL_MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "m",
    "content": [],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}
MINIMAL_COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "stop"}],
}


def _force(value: Any) -> None:
    """pydantic validates Iterable fields lazily: walk everything so nested errors surface."""
    if isinstance(value, dict):
        for item in value.values():
            _force(item)
    elif isinstance(value, list | tuple) or hasattr(value, "__next__"):
        for item in value:
            _force(item)


def _transport(status: int, body: Any, seen: list[dict[str, Any]]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers={"content-type": "text/html"})
        return httpx.Response(status, json=body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def anthropic_client(status: int, body: Any, seen: list[dict[str, Any]] | None = None) -> anthropic.Anthropic:
    # an explicit timeout skips the SDK's "use streaming for long requests" guard on large max_tokens
    http = _transport(status, body, [] if seen is None else seen)
    return anthropic.Anthropic(api_key="k", base_url="http://judge", http_client=http, max_retries=0, timeout=30)


def openai_client(status: int, body: Any, seen: list[dict[str, Any]] | None = None) -> openai.OpenAI:
    http = _transport(status, body, [] if seen is None else seen)
    return openai.OpenAI(api_key="k", base_url="http://judge/v1", http_client=http, max_retries=0)


# --- requests ----------------------------------------------------------------------------------


# anthropic SDK 1.0 dropped the sampling parameters from its types (models from Opus 4.7 reject
# them); the API still takes them for the older models, and newer SDKs send them as extra_body.
SAMPLING = ("temperature", "top_p", "top_k")


def check_anthropic_request(body: dict[str, Any]) -> None:
    known = anthropic.types.message_create_params.MessageCreateParamsBase.__annotations__
    extra = {k: v for k, v in body.items() if k in SAMPLING and k not in known}
    typed = {k: v for k, v in body.items() if k not in extra}
    _force(ANTHROPIC_REQUEST.validate_python(typed))
    for key, value in extra.items():
        assert isinstance(value, float | int) and 0 <= value <= 1, key
    seen: list[dict[str, Any]] = []
    kwargs = {k: v for k, v in typed.items() if k != "stream"}
    anthropic_client(200, MINIMAL_MESSAGE, seen).messages.create(**kwargs, extra_body=extra or None)
    assert seen == [{**kwargs, **extra}], "the SDK would send something else"
    assert not ("temperature" in body and "top_p" in body), "current models take temperature or top_p, not both"
    check_anthropic_rules(body)


def check_anthropic_rules(body: dict[str, Any]) -> None:
    """The Messages API's documented conversation rules."""
    assert isinstance(body["max_tokens"], int) and body["max_tokens"] >= 1
    messages = body["messages"]
    assert messages and messages[0]["role"] == "user", "the first message must be the user's"
    for prev, cur in itertools.pairwise(messages):
        assert prev["role"] != cur["role"], "roles must alternate"
    blocks = [
        [{"type": "text", "text": m["content"]}] if isinstance(m["content"], str) else m["content"] for m in messages
    ]
    for i, (message, content) in enumerate(zip(messages, blocks, strict=True)):
        assert content, f"messages[{i}] is empty"
        for block in content:
            if block["type"] == "text":
                assert block["text"], f"messages[{i}] has an empty text block"
        results = [b["tool_use_id"] for b in content if b["type"] == "tool_result"]
        if results:
            assert message["role"] == "user"
            kinds = [b["type"] for b in content]
            assert kinds[: len(results)] == ["tool_result"] * len(results), "tool results must come first"
            calls = [b["id"] for b in blocks[i - 1] if b["type"] == "tool_use"] if i else []
            assert set(results) <= set(calls), f"messages[{i}]: a tool_result answers no tool_use of the turn before"
        calls = [b["id"] for b in content if b["type"] == "tool_use"]
        if calls and i + 1 < len(messages):
            answered = {b["tool_use_id"] for b in blocks[i + 1] if b["type"] == "tool_result"}
            assert set(calls) <= answered, f"messages[{i}]: a tool_use has no tool_result in the next turn"
        if message["role"] == "assistant":
            kinds = [b["type"] for b in content]
            thinking = [k in ("thinking", "redacted_thinking") for k in kinds]
            assert thinking == sorted(thinking, reverse=True), "thinking must open the assistant turn"
            assert all(b.get("signature") for b in content if b["type"] == "thinking")
    if "thinking" in body and body["thinking"]["type"] == "enabled":
        budget = body["thinking"]["budget_tokens"]
        assert 1024 <= budget < body["max_tokens"], "budget_tokens must be >= 1024 and below max_tokens"
        assert body.get("temperature", 1) == 1
        assert body.get("tool_choice", {}).get("type") not in ("any", "tool")


def check_openai_request(body: dict[str, Any]) -> None:
    # `reasoning_content` on assistant messages is the documented non-standard extension reasoning
    # upstreams (DeepSeek, vLLM) read back; everything else must be in the SDK's types.
    typed = copy.deepcopy(body)
    for message in typed["messages"]:
        message.pop("reasoning_content", None)
    _force(OPENAI_REQUEST.validate_python(typed))
    seen: list[dict[str, Any]] = []
    kwargs = {k: v for k, v in body.items() if k != "stream"}
    openai_client(200, MINIMAL_COMPLETION, seen).chat.completions.create(**kwargs)
    assert seen == [kwargs], "the SDK would send something else"
    check_openai_rules(body)


def check_openai_rules(body: dict[str, Any]) -> None:
    """Chat Completions' documented rules: tool messages answer the assistant message before them."""
    open_calls: set[str] = set()
    for i, message in enumerate(body["messages"]):
        role = message["role"]
        if role == "tool":
            assert message["tool_call_id"] in open_calls, f"messages[{i}] answers no pending tool call"
            open_calls.discard(message["tool_call_id"])
            continue
        assert not open_calls, f"messages[{i}]: tool calls {open_calls} were not answered"
        if role == "assistant":
            open_calls = {call["id"] for call in message.get("tool_calls") or ()}
            assert message.get("content") is not None or message.get("tool_calls")
    assert len(body.get("stop") or []) <= 4
    if body.get("stream"):
        assert body["stream_options"] == {"include_usage": True}
    if "tools" not in body:
        assert "tool_choice" not in body and "parallel_tool_calls" not in body


# --- responses and errors ----------------------------------------------------------------------


def anthropic_parses(body: Any, status: int = 200) -> Any:
    """What ``client.messages.create`` returns for ``body`` (or the exception it raises)."""
    client = anthropic_client(status, body)
    try:
        return client.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
    except anthropic.APIError as exc:
        return exc


def openai_parses(body: Any, status: int = 200) -> Any:
    client = openai_client(status, body)
    try:
        return client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    except openai.APIError as exc:
        return exc


# --- openai-responses --------------------------------------------------------------------------


def responses_parses(body: Any, status: int = 200) -> Any:
    """What ``client.responses.create`` returns for ``body`` (or the exception it raises)."""
    try:
        return openai_client(status, body).responses.create(model="m", input="x")
    except openai.APIError as exc:
        return exc


def check_responses_request(body: dict[str, Any]) -> None:
    """The SDK's request types (unknown keys forbidden), the bytes it would send, the API's rules."""
    _force(RESPONSES_REQUEST.validate_python(body))
    seen: list[dict[str, Any]] = []
    kwargs = {k: v for k, v in body.items() if k != "stream"}
    openai_client(200, responses_body([]), seen).responses.create(**kwargs)
    assert seen == [kwargs], "the SDK would send something else"
    check_responses_rules(body)


def check_responses_rules(body: dict[str, Any]) -> None:
    """Every function_call_output answers an earlier call, every call is answered, ids are call ids."""
    items = body["input"] if isinstance(body["input"], list) else []
    calls: list[str] = []
    answered: set[str] = set()
    for i, item in enumerate(items):
        kind = item.get("type", "message")
        if kind == "function_call":
            assert not item.get("id", "").startswith("call") and item["call_id"] not in calls
            calls.append(item["call_id"])
        elif kind == "function_call_output":
            assert item["call_id"] in calls, f"input[{i}] answers no earlier function_call"
            answered.add(item["call_id"])
        elif kind == "reasoning":
            assert item["id"].startswith("rs_") and (item.get("encrypted_content") or item["summary"] is not None)
    assert set(calls) <= answered, "a function_call has no function_call_output"
    assert body.get("max_output_tokens", 16) >= 16
    for tool in body.get("tools", []):
        if tool["type"] == "function":
            assert isinstance(tool["strict"], bool)
    if "tools" not in body:
        assert "tool_choice" not in body and "parallel_tool_calls" not in body


def responses_body(output: list[dict[str, Any]], status: str = "completed", **extra: Any) -> dict[str, Any]:
    """A Response object as the API documents it (hand-written, for upstream answers)."""
    return {
        "id": "resp_abc",
        "object": "response",
        "created_at": 1_700_000_000,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": "gpt-5",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 30,
            "input_tokens_details": {"cached_tokens": 10},
            "output_tokens": 20,
            "output_tokens_details": {"reasoning_tokens": 5},
            "total_tokens": 50,
        },
        **extra,
    }
