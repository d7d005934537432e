"""``crosswire demo``: the whole path on one machine, with no network and no API key.

A fake Anthropic API (:mod:`crosswire.fakeupstream`) and ``mitmdump`` with crosswire run on
127.0.0.1; a small OpenAI Chat Completions client (standard library only) streams a request
through them and prints the converted answer as it arrives. Both are stopped at the end, on an
error, on Ctrl-C and on SIGTERM. ``--record DIR`` also records one flow file per scenario (the
files in the repository's ``flows/`` are made this way).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from . import launch
from .fakeupstream import FakeUpstream, Reply, sse

DEMO_KEY = "sk-ant-demo-not-a-real-key"  # what crosswire sends the fake upstream; never in a recording
CLIENT_KEY = "sk-demo-client-key"  # what the client sends; crosswire removes it
UPSTREAM_MODEL = "claude-sonnet-4-5"
FRAME_DELAY = 0.04  # seconds between upstream frames: slow enough to watch the text arrive


# --- what the fake upstream answers ---------------------------------------------------------------


def _message_start(id: str, input_tokens: int) -> tuple[str, dict[str, Any]]:
    message: dict[str, Any] = {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": UPSTREAM_MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1},
    }
    return "message_start", {"type": "message_start", "message": message}


def _block(index: int, block: dict[str, Any], deltas: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    events = [("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})]
    events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
    return [*events, ("content_block_stop", {"type": "content_block_stop", "index": index})]


def _text(index: int, *pieces: str) -> list[tuple[str, dict[str, Any]]]:
    return _block(index, {"type": "text", "text": ""}, [{"type": "text_delta", "text": p} for p in pieces])


def _end(stop_reason: str, output_tokens: int) -> list[tuple[str, dict[str, Any]]]:
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    return [
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": output_tokens}}),
        ("message_stop", {"type": "message_stop"}),
    ]


TOOL_INPUT = ['{"city": ', '"Paris", ', '"unit": "c', 'elsius"}']
DEMO_TEXT = ("Let me ", "check the ", "current ", "weather in ", "Paris ", "for you.")


def _streamed(events: list[tuple[str, dict[str, Any]]]) -> Reply:
    return Reply(sse(events), split_frames=True, delay=FRAME_DELAY)


def tool_call_reply() -> Reply:
    tool = {"type": "tool_use", "id": "toolu_demo_01", "name": "get_weather", "input": {}}
    return _streamed(
        [
            _message_start("msg_demo_tool_call", 96),
            *_text(0, *DEMO_TEXT),
            *_block(1, tool, [{"type": "input_json_delta", "partial_json": p} for p in TOOL_INPUT]),
            *_end("tool_use", 52),
        ]
    )


def text_reply() -> Reply:
    pieces = ("The Eiffel Tower ", "is 330 metres tall, ", "about as high as ", "an 81-storey building.")
    return _streamed([_message_start("msg_demo_text", 14), *_text(0, *pieces), *_end("end_turn", 21)])


def thinking_reply() -> Reply:
    thinking = [
        {"type": "thinking_delta", "thinking": "17 × 24 = 17 × 20 + 17 × 4"},
        {"type": "thinking_delta", "thinking": " = 340 + 68 = 408."},
        {"type": "signature_delta", "signature": "ZGVtbyBzaWduYXR1cmUsIG5vdCBmcm9tIGEgbW9kZWw="},
    ]
    return _streamed(
        [
            _message_start("msg_demo_thinking", 18),
            *_block(0, {"type": "thinking", "thinking": "", "signature": ""}, thinking),
            *_text(1, "17 × 24 = ", "408."),
            *_end("end_turn", 64),
        ]
    )


def stream_error_reply() -> Reply:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    events = [_message_start("msg_demo_overloaded", 12), *_text(0, "Here is a long ", "answer that")]
    return _streamed([*events[:-1], ("error", error)])  # the block never ends: the stream fails inside it


def rate_limit_reply() -> Reply:
    body = {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit."},
    }
    return Reply(body, status=429, headers={"retry-after": "7"})


def chat_request(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        },
    },
}

# name -> (client request, upstream answer): the demo is "tool_call"; --record writes all of them
SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[], Reply]]] = {
    "tool_call": (chat_request("What is the weather in Paris?", tools=[WEATHER_TOOL]), tool_call_reply),
    "text": (chat_request("How tall is the Eiffel Tower?"), text_reply),
    "thinking": (chat_request("What is 17 × 24?", reasoning_effort="low"), thinking_reply),
    "stream_error": (chat_request("Write a long answer."), stream_error_reply),
    "rate_limited": (chat_request("Hello?"), rate_limit_reply),
}


# --- the client --------------------------------------------------------------------------------


@dataclass
class ChatResult:
    """What an OpenAI Chat Completions client assembles from the stream it received."""

    status: int = 0
    chunks: int = 0
    content: str = ""
    reasoning: str = ""
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)  # index -> id, name, arguments
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    done: bool = False  # saw data: [DONE]


def stream_chat(
    url: str, body: dict[str, Any], on_text: Callable[[str, str], None] = lambda kind, text: None
) -> ChatResult:
    """POST a streaming chat completion; ``on_text("content" | "reasoning", fragment)`` as they arrive."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {CLIENT_KEY}"},
        method="POST",
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({})
    )  # straight to 127.0.0.1, whatever *_proxy says
    result = ChatResult()
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as exc:
        result.status = exc.code
        result.error = json.loads(exc.read() or b"{}").get("error")
        return result
    with response:
        result.status = response.status
        for raw in response:
            line = raw.decode().rstrip("\r\n")
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                result.done = True
                break
            _take_chunk(result, json.loads(data), on_text)
    return result


def _take_chunk(result: ChatResult, chunk: dict[str, Any], on_text: Callable[[str, str], None]) -> None:
    result.chunks += 1
    if chunk.get("error"):
        result.error = chunk["error"]
        return
    if chunk.get("usage"):
        result.usage = chunk["usage"]
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        for kind, key in (("reasoning", "reasoning_content"), ("content", "content")):
            if delta.get(key):
                setattr(result, kind, getattr(result, kind) + delta[key])
                on_text(kind, delta[key])
        for call in delta.get("tool_calls") or []:
            slot = result.tool_calls.setdefault(call.get("index", 0), {"id": "", "name": "", "arguments": ""})
            function = call.get("function") or {}
            slot["id"] = call.get("id") or slot["id"]
            slot["name"] = function.get("name") or slot["name"]
            slot["arguments"] += function.get("arguments") or ""
        result.finish_reason = choice.get("finish_reason") or result.finish_reason


# --- the processes -----------------------------------------------------------------------------


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the ``finally`` blocks stop what the demo started."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def running(record: Path | None = None) -> Iterator[tuple[FakeUpstream, str]]:
    """A fake Anthropic upstream and mitmdump routing /v1/chat/completions to it: (upstream, proxy URL)."""
    with tempfile.TemporaryDirectory(prefix="crosswire-demo-") as tmp, FakeUpstream() as upstream:
        args = [
            "--mode",
            f"reverse:{upstream.url()}",
            "--set",
            "flow_detail=0",
            "--set",
            f"crosswire_route=/v1/chat/completions -> {upstream.url('/v1/messages')}",
            *(["-w", str(record)] if record else []),
        ]
        env = {**os.environ, "ANTHROPIC_API_KEY": DEMO_KEY}
        with launch.start(args, env=env, log=Path(tmp) / "mitmdump.log", confdir=Path(tmp)) as mitmdump:
            yield upstream, mitmdump.url


# --- the demo ------------------------------------------------------------------------------------


def _show_demo(upstream: FakeUpstream, proxy: str, out: TextIO) -> bool:
    url = f"{proxy}/v1/chat/completions"
    body, reply = SCENARIOS["tool_call"]
    upstream.push(reply())
    print(f"  fake Anthropic API    {upstream.url('/v1/messages')}", file=out)
    print(f"  mitmdump + crosswire  {proxy}  (route: /v1/chat/completions -> anthropic)", file=out)
    print(f"  client                POST {url}  (OpenAI Chat Completions, stream)\n", file=out)
    print("assistant> ", end="", file=out, flush=True)

    def show(kind: str, text: str) -> None:
        print(text, end="", file=out, flush=True)

    result = stream_chat(url, body, show)
    print("", file=out)
    for call in result.tool_calls.values():
        args = json.dumps(json.loads(call["arguments"] or "{}"), ensure_ascii=False)
        print(f"tool call> {call['name']}({args})  id {call['id']}", file=out)
    print(f"finish_reason: {result.finish_reason}", file=out)
    if result.usage:
        usage = ", ".join(f"{k} {result.usage[k]}" for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
        print(f"usage: {usage}", file=out)
    if result.error:
        print(f"error: {result.error}", file=out)
    got = upstream.requests[-1] if upstream.requests else None
    if got:
        sent = got.json()
        key = "set by the route" if got.headers.get("x-api-key") == DEMO_KEY else "missing"
        client_key = "removed" if CLIENT_KEY not in json.dumps(got.headers) else "passed on (wrong)"
        print(
            f"\nthe upstream received: {got.method} {got.path} (anthropic), model {sent.get('model')!r}, "
            f"{len(sent.get('tools') or [])} tool, x-api-key {key}, the client's key {client_key}",
            file=out,
        )
    print(f"{result.chunks} openai-chat chunks reached the client", file=out)
    return (
        result.status == 200 and result.done and bool(result.content) and bool(result.tool_calls) and not result.error
    )


def _record_scenarios(upstream: FakeUpstream, proxy: str, out: TextIO) -> None:
    url = f"{proxy}/v1/chat/completions"
    for name, (body, reply) in SCENARIOS.items():
        if name == "tool_call":
            continue  # the demo itself
        upstream.push(reply())
        result = stream_chat(url, body)
        outcome = f"error {result.error.get('message')!r}" if result.error else f"{len(result.content)} chars of text"
        print(f"recorded {name}: HTTP {result.status}, {result.chunks} chunks, {outcome}", file=out)


def _split(recording: Path, directory: Path) -> list[Path]:
    """One flow file per scenario, in the order they were sent."""
    from mitmproxy import io  # only when recording: the demo itself needs no mitmproxy in this process

    with open(recording, "rb") as f:
        flows = list(io.FlowReader(f).stream())
    paths = []
    for name, flow in zip(SCENARIOS, flows, strict=True):
        path = directory / f"{name}.flow"
        with open(path, "wb") as f:
            io.FlowWriter(f).add(flow)
        paths.append(path)
    return paths


def run_demo(record: Path | None = None, out: TextIO | None = None) -> int:
    """Run the demo. Exit status: 0 the client got the converted answer, 1 it did not, 2 the demo could not
    start, 130 interrupted (Ctrl-C or SIGTERM)."""
    out = out or sys.stdout
    started = time.monotonic()
    print("crosswire demo: everything runs on 127.0.0.1, no network, no API key", file=out)
    ok = False
    try:
        with _sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="crosswire-record-") as tmp:
            recording = Path(tmp) / "all.flow" if record else None
            with running(recording) as (upstream, proxy):
                ok = _show_demo(upstream, proxy, out)
                if record:
                    _record_scenarios(upstream, proxy, out)
            if record and recording:
                record.mkdir(parents=True, exist_ok=True)
                for path in _split(recording, record):
                    print(f"wrote {path}", file=out)
    except KeyboardInterrupt:
        print("\ninterrupted: fake upstream and mitmdump stopped", file=out)
        return 130
    except launch.LaunchError as exc:
        print(f"crosswire demo: {exc}", file=sys.stderr)
        return 2
    print(f"done in {time.monotonic() - started:.1f} s; mitmdump and the fake upstream are stopped", file=out)
    if not ok:
        print("crosswire demo: the client did not get the expected answer", file=sys.stderr)
    return 0 if ok else 1
