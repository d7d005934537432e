"""Plain provider traffic, recorded the way a user records it: the official SDKs talking to the loopback
fake provider (``crosswire.fakeupstream``) through a plain ``mitmdump -w`` (no crosswire loaded).

One scenario per flow, for each format: a streamed answer, a whole one with a tool call, an error
with its status, a streamed tool call, and streamed thinking. The answers are hand-written in each
provider's documented shape (tests/canned.py, the Responses builders of test_stream_responses.py).
Also the judges that say what a client of a format gets from an answer, through that format's SDK.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic
import openai
from bodies_judge import anthropic_parses, openai_parses
from canned import (
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    openai_chat_completion,
    openai_chat_stream,
    openai_error,
)
from conftest import ROOT
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import CLIENT_ANTHROPIC_KEY, CLIENT_OPENAI_KEY, Mitmdump
from formats_support import (
    FIXTURES,
    VIEWS,
    View,
    call,
    completion_view,
    fixture,
    message,
    message_view,
    response_object,
    response_object_view,
    usage,
)
from test_responses_bodies import responses_parses

try:  # the SDK releases on Python 3.12 are built on httpx2
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]

FORMATS = ("anthropic", "openai-chat", "openai-responses")
WEATHER_TOOL_ANTHROPIC = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
WEATHER_TOOL_CHAT = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": WEATHER_TOOL_ANTHROPIC["input_schema"],
    },
}
WEATHER_TOOL_RESPONSES = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": WEATHER_TOOL_ANTHROPIC["input_schema"],
    "strict": False,
}
QUESTION = "What is the weather in Paris? Answer in one line, café-style ×2."


@dataclass
class Scenario:
    name: str
    format: str
    reply: Reply
    request: dict[str, Any]  # the SDK call's keyword arguments

    @property
    def streamed(self) -> bool:
        return bool(self.request.get("stream"))


def _anthropic(name: str, reply: Reply, stream: bool = True, **extra: Any) -> Scenario:
    request = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": QUESTION}],
        **({"stream": True} if stream else {}),
        **extra,
    }
    return Scenario(f"anthropic-{name}", "anthropic", reply, request)


def _chat(name: str, reply: Reply, stream: bool = True, **extra: Any) -> Scenario:
    request = {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}],
        **({"stream": True, "stream_options": {"include_usage": True}} if stream else {}),
        **extra,
    }
    return Scenario(f"openai-chat-{name}", "openai-chat", reply, request)


def _responses(name: str, reply: Reply, stream: bool = True, **extra: Any) -> Scenario:
    request = {
        "model": "gpt-5",
        "instructions": "Be brief.",
        "input": QUESTION,
        **({"stream": True} if stream else {}),
        **extra,
    }
    return Scenario(f"openai-responses-{name}", "openai-responses", reply, request)


def scenarios() -> list[Scenario]:
    rate_limit_headers = {"retry-after": "12"}
    whole_call = call(1, "fc_w1", "call_whole1", "get_weather", ['{"city": "Paris"}'])[1]
    whole_text = message(0, "msg_w0", ["Let me look that up."])[1]
    return [
        _anthropic("stream-text", Reply(anthropic_stream(["Hello", " from Paris: ", "café ×2 ☀"]), pieces=4)),
        _anthropic(
            "whole-tool",
            Reply(anthropic_message("Let me look.", tool=("toolu_01Whole", "get_weather", {"city": "Paris"}))),
            stream=False,
            tools=[WEATHER_TOOL_ANTHROPIC],
        ),
        _anthropic(
            "error",
            Reply(
                anthropic_error("rate_limit_error", "Number of request tokens has exceeded your rate limit"),
                status=429,
                headers={**rate_limit_headers, "request-id": "req_011Fake"},
            ),
        ),
        _anthropic(
            "stream-tool",
            Reply(anthropic_stream(["Checking."], tool=("toolu_01Stream", "get_weather", ['{"city": ', '"Paris"}']))),
            tools=[WEATHER_TOOL_ANTHROPIC],
        ),
        _anthropic(
            "stream-thinking",
            Reply(anthropic_stream(["17 × 24 = 408."], thinking=("17 × 24 = 340 + 68 = 408.", "c2lnbmF0dXJl=="))),
            thinking={"type": "enabled", "budget_tokens": 1024},
        ),
        _chat("stream-text", Reply(openai_chat_stream(["Hello", " from Paris: ", "café ×2 ☀"]), pieces=3)),
        _chat(
            "whole-tool",
            Reply(openai_chat_completion("Let me look.", tool=("call_Whole", "get_weather", '{"city": "Paris"}'))),
            stream=False,
            tools=[WEATHER_TOOL_CHAT],
        ),
        _chat(
            "error",
            Reply(
                openai_error("Rate limit reached for gpt-4o", "requests", "rate_limit_exceeded"),
                status=429,
                headers={**rate_limit_headers, "x-request-id": "req_chat_fake"},
            ),
        ),
        _chat(
            "stream-tool",
            Reply(openai_chat_stream(["Checking."], tool=("call_Stream", "get_weather", ['{"city": ', '"Paris"}']))),
            tools=[WEATHER_TOOL_CHAT],
        ),
        _chat(
            "stream-thinking",
            Reply((ROOT / "tests" / "fixtures" / "openai_chat_reasoning.sse").read_bytes()),
            reasoning_effort="low",
        ),
        _responses("stream-text", Reply(FIXTURES["text"], pieces=3)),
        _responses(
            "whole-tool",
            Reply(response_object("completed", [whole_text, whole_call], usage(40, 12, cached=8))),
            stream=False,
            tools=[WEATHER_TOOL_RESPONSES],
        ),
        _responses(
            "error",
            Reply(openai_error("Rate limit reached for gpt-5", "requests", "rate_limit_exceeded"), status=429),
        ),
        _responses(
            "stream-tool",
            Reply(
                fixture(
                    message(0, "msg_s0", ["Checking."]),
                    call(1, "fc_s1", "call_stream1", "get_weather", ['{"city": ', '"Paris"}']),
                )
            ),
            tools=[WEATHER_TOOL_RESPONSES],
        ),
        _responses(
            "stream-thinking",
            Reply(FIXTURES["reasoning_summary_encrypted"]),
            reasoning={"effort": "low", "summary": "auto"},
        ),
    ]


def sdk_client(fmt: str, base: str, proxy: str | None = None) -> Any:
    http = httpx.Client(proxy=proxy) if proxy else httpx.Client()
    if fmt == "anthropic":
        return anthropic.Anthropic(
            base_url=base, api_key=CLIENT_ANTHROPIC_KEY, http_client=http, max_retries=0, timeout=20
        )
    return openai.OpenAI(base_url=f"{base}/v1", api_key=CLIENT_OPENAI_KEY, http_client=http, max_retries=0, timeout=20)


def sdk_call(fmt: str, client: Any, request: dict[str, Any]) -> None:
    """Make the request the way an application does (reading a stream to its end); errors are expected."""
    create = {
        "anthropic": lambda: client.messages.create(**request),
        "openai-chat": lambda: client.chat.completions.create(**request),
        "openai-responses": lambda: client.responses.create(**request),
    }[fmt]
    try:
        answer = create()
        if request.get("stream"):
            for _ in answer:
                pass
    except (anthropic.APIError, openai.APIError):
        pass


def record(tmp: Path, chosen: list[Scenario]) -> tuple[Path, int]:
    """The scenarios through a plain ``mitmdump -w``: the recording and the (now closed) provider port."""
    path = tmp / "plain.flow"
    with FakeUpstream() as upstream:
        proxy = Mitmdump(tmp, "-w", str(path), script=False)
        try:
            for scenario in chosen:
                upstream.push(scenario.reply)
                sdk_call(scenario.format, sdk_client(scenario.format, upstream.url(), proxy.url), scenario.request)
        finally:
            proxy.stop()
        assert len(upstream.requests) == len(chosen), "every scenario reached the fake provider"
        port = upstream.port
    return path, port


# --- judges ------------------------------------------------------------------------------------


def _error_message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return str(getattr(exc, "message", exc))


def sdk_view(fmt: str, status: int, content_type: str, body: bytes) -> tuple[int, View]:
    """What a client of ``fmt`` gets from this answer, through the official SDK: (status, view)."""
    if content_type.startswith("text/event-stream"):
        return status, VIEWS[fmt](body)
    data = json.loads(body)
    if fmt == "anthropic":
        parsed = anthropic_parses(data, status)
    elif fmt == "openai-chat":
        parsed = openai_parses(data, status)
    else:
        parsed = responses_parses(data, status)
    if isinstance(parsed, anthropic.APIError | openai.APIError):
        return getattr(parsed, "status_code", 0), View(error=_error_message(parsed))
    if fmt == "anthropic":
        return status, message_view(parsed)
    if fmt == "openai-chat":
        return status, completion_view(parsed)
    return status, response_object_view(parsed)


# --- a HAR like a browser's devtools export ------------------------------------------------------


def _har_headers(headers: Any) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers.items(multi=True)]


def har_entry(flow: Any, base64_body: bool = False) -> dict[str, Any]:
    """One entry as Chrome's "Save all as HAR with content" writes it (HTTP/2, pseudo-headers included)."""
    req, resp = flow.request, flow.response
    text = resp.get_content().decode("utf-8")
    content: dict[str, Any] = {
        "size": len(resp.get_content()),
        "mimeType": resp.headers.get("content-type", "").split(";")[0],
        "text": base64.b64encode(resp.get_content()).decode() if base64_body else text,
    }
    if base64_body:
        content["encoding"] = "base64"
    started = datetime.fromtimestamp(req.timestamp_start, UTC).isoformat().replace("+00:00", "Z")
    pseudo = [
        {"name": ":authority", "value": req.authority or req.host_header or ""},
        {"name": ":method", "value": req.method},
        {"name": ":path", "value": req.path},
        {"name": ":scheme", "value": req.scheme},
    ]
    return {
        "_initiator": {"type": "script"},
        "_priority": "High",
        "_resourceType": "fetch",
        "cache": {},
        "connection": "443",
        "pageref": "page_1",
        "request": {
            "method": req.method,
            "url": req.url,
            "httpVersion": "http/2.0",
            "headers": pseudo + _har_headers(req.headers),
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(req.content or b""),
            "postData": {"mimeType": "application/json", "text": req.get_text()},
        },
        "response": {
            "status": resp.status_code,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": _har_headers(resp.headers),
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": len(resp.raw_content or b"") + 200,
            "_error": None,
        },
        "serverIPAddress": "127.0.0.1",
        "startedDateTime": started,
        "time": ((resp.timestamp_end or req.timestamp_start) - req.timestamp_start) * 1000,
        "timings": {"blocked": 0.5, "dns": -1, "ssl": -1, "connect": -1, "send": 0.1, "wait": 20.0, "receive": 5.0},
    }


def har(entries: list[dict[str, Any]]) -> bytes:
    document = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [
                {
                    "startedDateTime": entries[0]["startedDateTime"] if entries else "2025-01-01T00:00:00Z",
                    "id": "page_1",
                    "title": 'http://127.0.0.1/chat "entries": [not these]',
                    "pageTimings": {"onContentLoad": 120.5, "onLoad": 180.2},
                }
            ],
            "entries": entries,
        }
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode()
