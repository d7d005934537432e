"""Hand-written upstream answers in the providers' documented shapes, for the fake upstream."""

from __future__ import annotations

from typing import Any

from crosswire.fakeupstream import sse

MODEL_A = "claude-sonnet-4-5"
MODEL_O = "gpt-4o-2024-08-06"


def anthropic_stream(
    texts: list[str],
    *,
    tool: tuple[str, str, list[str]] | None = None,
    thinking: tuple[str, str] | None = None,
    error: tuple[str, str] | None = None,
    stop: bool = True,
) -> bytes:
    """An Anthropic Messages stream: optional thinking block, text deltas, optional tool call.

    ``error`` ends it with an error event instead of message_delta/message_stop; ``stop=False``
    leaves it truncated.
    """
    ev: list[tuple[str | None, Any]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01Fake",
                    "type": "message",
                    "role": "assistant",
                    "model": MODEL_A,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 25, "output_tokens": 1},
                },
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    index = 0
    if thinking:
        ev += [
            _start(0, {"type": "thinking", "thinking": "", "signature": ""}),
            _delta(0, {"type": "thinking_delta", "thinking": thinking[0]}),
            _delta(0, {"type": "signature_delta", "signature": thinking[1]}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ]
        index = 1
    ev.append(_start(index, {"type": "text", "text": ""}))
    ev += [_delta(index, {"type": "text_delta", "text": t}) for t in texts]
    if error:
        ev.append(("error", {"type": "error", "error": {"type": error[0], "message": error[1]}}))
        return sse(ev)
    ev.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    reason = "end_turn"
    if tool:
        tid, name, parts = tool
        index += 1
        ev.append(_start(index, {"type": "tool_use", "id": tid, "name": name, "input": {}}))
        ev += [_delta(index, {"type": "input_json_delta", "partial_json": p}) for p in parts]
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        reason = "tool_use"
    if not stop:
        return sse(ev)
    delta = {"stop_reason": reason, "stop_sequence": None}
    ev.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": 15}}))
    ev.append(("message_stop", {"type": "message_stop"}))
    return sse(ev)


def _start(index: int, block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def anthropic_message(text: str, *, tool: tuple[str, str, dict[str, Any]] | None = None) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    if tool:
        content.append({"type": "tool_use", "id": tool[0], "name": tool[1], "input": tool[2]})
    return {
        "id": "msg_01FakeWhole",
        "type": "message",
        "role": "assistant",
        "model": MODEL_A,
        "content": content,
        "stop_reason": "tool_use" if tool else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 30, "output_tokens": 12},
    }


def anthropic_error(type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": type, "message": message}}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-Fake",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL_O,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def openai_chat_stream(
    texts: list[str],
    *,
    tool: tuple[str, str, list[str]] | None = None,
    error: str | None = None,
    done: bool = True,
) -> bytes:
    """A Chat Completions stream with the usage chunk (``stream_options.include_usage``)."""
    ev: list[tuple[str | None, Any]] = [(None, _chunk({"role": "assistant", "content": "", "refusal": None}))]
    ev += [(None, _chunk({"content": t})) for t in texts]
    if error:
        ev.append((None, {"error": {"message": error, "type": "server_error", "param": None, "code": None}}))
        return sse(ev)
    finish = "stop"
    if tool:
        tid, name, parts = tool
        call = {"index": 0, "id": tid, "type": "function", "function": {"name": name, "arguments": ""}}
        ev.append((None, _chunk({"tool_calls": [call]})))
        ev += [(None, _chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})) for p in parts]
        finish = "tool_calls"
    if not done:
        return sse(ev)
    ev.append((None, _chunk({}, finish)))
    usage = {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}
    ev.append((None, {**_chunk({}), "choices": [], "usage": usage}))
    ev.append((None, "[DONE]"))
    return sse(ev)


def openai_chat_completion(text: str, *, tool: tuple[str, str, str] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if tool:
        message["tool_calls"] = [
            {"id": tool[0], "type": "function", "function": {"name": tool[1], "arguments": tool[2]}}
        ]
    return {
        "id": "chatcmpl-FakeWhole",
        "object": "chat.completion",
        "created": 1700000000,
        "model": MODEL_O,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls" if tool else "stop"}
        ],
        "usage": {"prompt_tokens": 21, "completion_tokens": 7, "total_tokens": 28},
    }


def openai_error(message: str, type: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": None, "code": code}}
