"""Plain LLM API flows built in-process (no proxy): the shape ``mitmdump -w`` records, with hand-written
answers in each provider's documented shape (tests/canned.py), and fixed timestamps."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import orjson
from canned import anthropic_error, anthropic_message, anthropic_stream, openai_chat_stream
from mitmproxy import http, io
from mitmproxy.test import tflow

T0 = 1_750_000_000.0  # 2025-06-15T15:06:40Z
ENDPOINT = {"anthropic": "/v1/messages", "openai-chat": "/v1/chat/completions", "openai-responses": "/v1/responses"}
ANTHROPIC_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Weather in Paris?"}],
}
CHAT_REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Weather in Paris?"}]}
CLIENT_KEY = "sk-ant-CLIENT-in-the-recording"


def llm_flow(
    fmt: str,
    request: dict[str, Any],
    answer: bytes | dict[str, Any],
    *,
    status: int = 200,
    url: str | None = None,
    start: float = T0,
    request_headers: dict[str, str] | None = None,
    response_headers: dict[str, str] | None = None,
) -> http.HTTPFlow:
    """One recorded call: request sent at ``start``, answer headers 0.25 s later, body done 1.5 s later."""
    flow = tflow.tflow(resp=True)
    body = answer if isinstance(answer, bytes) else orjson.dumps(answer)
    sse = isinstance(answer, bytes) and answer.lstrip()[:6] in (b"event:", b"data: ")
    headers = {"content-type": "application/json", "x-api-key": CLIENT_KEY, **(request_headers or {})}
    flow.request = http.Request.make(
        "POST", url or f"https://api.example.test{ENDPOINT[fmt]}", orjson.dumps(request), headers
    )
    flow.request.timestamp_start, flow.request.timestamp_end = start, start + 0.01
    content_type = "text/event-stream" if sse else "application/json"
    flow.response = http.Response.make(status, body, {"content-type": content_type, **(response_headers or {})})
    flow.response.timestamp_start, flow.response.timestamp_end = start + 0.26, start + 1.51
    return flow


def anthropic_calls(start: float = T0) -> list[http.HTTPFlow]:
    """A streamed text answer, a streamed tool call, a whole answer, a rate-limit error."""
    streamed = {**ANTHROPIC_REQUEST, "stream": True}
    return [
        llm_flow("anthropic", streamed, anthropic_stream(["Sunny", " in Paris."]), start=start),
        llm_flow(
            "anthropic",
            streamed,
            anthropic_stream(["Checking."], tool=("toolu_01A", "get_weather", ['{"city": ', '"Paris"}'])),
            start=start + 10,
        ),
        llm_flow("anthropic", ANTHROPIC_REQUEST, anthropic_message("Sunny."), start=start + 20),
        llm_flow(
            "anthropic",
            ANTHROPIC_REQUEST,
            anthropic_error("rate_limit_error", "Slow down"),
            status=429,
            start=start + 30,
            response_headers={"retry-after": "7"},
        ),
    ]


def chat_calls(start: float = T0) -> list[http.HTTPFlow]:
    streamed = {**CHAT_REQUEST, "stream": True, "stream_options": {"include_usage": True}}
    return [llm_flow("openai-chat", streamed, openai_chat_stream(["Sunny", "."]), start=start)]


def write(path: Path, flows: list[Any]) -> Path:
    with open(path, "wb") as f:
        writer = io.FlowWriter(f)
        for flow in flows:
            writer.add(flow)
    return path


def read(path: Path) -> list[Any]:
    with open(path, "rb") as f:
        return list(io.FlowReader(f).stream())


def write_many(path: Path, count: int) -> Path:
    """A recording of ``count`` calls (the four of :func:`anthropic_calls` in turn, a few KB each),
    written one at a time: making it holds no more than one flow either."""
    calls = anthropic_calls()
    with open(path, "wb") as f:
        writer = io.FlowWriter(f)
        for number in range(count):
            flow = calls[number % len(calls)]
            flow.id = str(uuid.UUID(int=number))
            writer.add(flow)
    return path
