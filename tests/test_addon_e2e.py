"""End to end: the official SDKs as the tool, a real mitmdump with crosswire, the fake upstream.

One mitmdump in regular proxy mode (plain HTTP, the SDK's http client proxied through it) and one
in reverse mode serve the whole module; the fake upstream records what it receives.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from canned import (
    anthropic_error,
    anthropic_message,
    anthropic_stream,
    openai_chat_completion,
    openai_chat_stream,
    openai_error,
)
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import (
    ANTHROPIC_KEY,
    CLIENT_ANTHROPIC_KEY,
    CLIENT_OPENAI_KEY,
    OPENAI_KEY,
    Mitmdump,
    proxy_with_routes,
    route_args,
)

pytestmark = pytest.mark.e2e

try:  # the SDK releases on Python 3.12 are built on httpx2
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]

FAKE_HOST = "http://api.example.test"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def proxy(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mitmdump]:
    with proxy_with_routes(
        tmp_path_factory.mktemp("mitm"),
        f"{FAKE_HOST}/v1/chat/completions -> {upstream.url('/v1/messages')}",
        f"{FAKE_HOST}/v1/messages -> {upstream.url('/v1/chat/completions')}",
    ) as m:
        yield m


@pytest.fixture(autouse=True)
def fresh(upstream: FakeUpstream) -> None:
    upstream.reset()


def oai(proxy: Mitmdump) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{FAKE_HOST}/v1",
        api_key=CLIENT_OPENAI_KEY,
        http_client=httpx.Client(proxy=proxy.url),
        max_retries=0,
        timeout=20,
    )


def ant(proxy: Mitmdump) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=FAKE_HOST,
        api_key=CLIENT_ANTHROPIC_KEY,
        http_client=httpx.Client(proxy=proxy.url),
        max_retries=0,
        timeout=20,
    )


def check_reached_anthropic(up: FakeUpstream) -> dict[str, Any]:
    (req,) = up.requests
    assert req.path == "/v1/messages"
    assert req.headers["x-api-key"] == ANTHROPIC_KEY and req.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in req.headers and CLIENT_OPENAI_KEY not in str(req.header_list)
    body = req.json()
    assert isinstance(body["messages"], list) and isinstance(body["max_tokens"], int) and body["model"]
    return body  # type: ignore[no-any-return]


def check_reached_openai(up: FakeUpstream) -> dict[str, Any]:
    (req,) = up.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert "x-api-key" not in req.headers and not any(k.startswith("anthropic-") for k in req.headers)
    assert CLIENT_ANTHROPIC_KEY not in str(req.header_list)
    body = req.json()
    assert isinstance(body["messages"], list) and body["model"]
    return body  # type: ignore[no-any-return]


# --- an openai client, an anthropic upstream -------------------------------------------------


def test_openai_client_streams_from_anthropic(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(anthropic_stream(["Hel", "lo", " there"]), split_frames=True, pieces=3, delay=0.01))
    with oai(proxy).chat.completions.stream(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hello there"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None and final.usage.prompt_tokens == 25 and final.usage.completion_tokens == 15
    body = check_reached_anthropic(upstream)
    assert body["stream"] is True and body["messages"] == [{"role": "user", "content": "hi"}]


def test_openai_client_tools_and_multi_turn_tool_results(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(
        Reply(
            anthropic_stream(["Let me check."], tool=("toolu_01", "get_weather", ['{"ci', 'ty": "Paris"}'])), pieces=9
        )
    )
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    with oai(proxy).chat.completions.stream(model="gpt-4o", messages=messages, tools=TOOLS) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "Let me check."
    (call,) = choice.message.tool_calls or []
    assert call.id == "toolu_01" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    body = check_reached_anthropic(upstream)
    assert body["tools"][0]["name"] == "get_weather" and body["tools"][0]["input_schema"]["required"] == ["city"]

    # Second turn: the tool result goes back; the upstream must receive tool_use + tool_result blocks.
    upstream.reset()
    upstream.push(Reply(anthropic_message("It is sunny.")))
    messages += [
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "toolu_01",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_01", "content": "sunny, 24C"},
    ]
    result = oai(proxy).chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert result.choices[0].message.content == "It is sunny."
    body = check_reached_anthropic(upstream)
    assistant, user = body["messages"][1], body["messages"][2]
    assert {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}} in assistant[
        "content"
    ]
    (tool_result,) = [b for b in user["content"] if b["type"] == "tool_result"]
    assert tool_result["tool_use_id"] == "toolu_01" and "sunny, 24C" in json.dumps(tool_result["content"])


def test_openai_client_gets_thinking_as_reasoning_content(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(anthropic_stream(["4"], thinking=("2+2 is 4", "sig_abc")), split_frames=True))
    stream = oai(proxy).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "2+2?"}], stream=True
    )
    reasoning, text = "", ""
    for chunk in stream:
        for choice in chunk.choices:
            reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
            text += choice.delta.content or ""
    assert (reasoning, text) == ("2+2 is 4", "4")


def test_openai_client_whole_response(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(anthropic_message("Whole.", tool=("toolu_9", "get_weather", {"city": "Rome"}))))
    result = oai(proxy).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    choice = result.choices[0]
    assert result.object == "chat.completion" and choice.message.content == "Whole."
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"city": "Rome"}
    assert result.usage is not None and result.usage.prompt_tokens == 30
    assert check_reached_anthropic(upstream).get("stream") is not True


@pytest.mark.parametrize(
    ("status", "error_type", "exc", "client_status"),
    [
        (429, "rate_limit_error", openai.RateLimitError, 429),
        (529, "overloaded_error", openai.InternalServerError, 503),
        (401, "authentication_error", openai.AuthenticationError, 401),
    ],
)
def test_openai_client_sees_upstream_errors_mapped(
    proxy: Mitmdump, upstream: FakeUpstream, status: int, error_type: str, exc: type, client_status: int
) -> None:
    upstream.push(Reply(anthropic_error(error_type, f"upstream says {error_type}"), status=status))
    with pytest.raises(exc) as info:
        oai(proxy).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True)
    assert info.value.status_code == client_status
    assert f"upstream says {error_type}" in str(info.value)


def test_openai_client_mid_stream_error_raises(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(anthropic_stream(["partial"], error=("overloaded_error", "Overloaded")), split_frames=True))
    text = ""
    with pytest.raises(openai.APIError, match="Overloaded"):
        for chunk in oai(proxy).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            text += chunk.choices[0].delta.content or "" if chunk.choices else ""
    assert text == "partial"


@pytest.mark.parametrize("framing", ["chunked", "length", "close"])
def test_openai_client_connection_dropped_mid_stream_is_a_failure(
    proxy: Mitmdump, upstream: FakeUpstream, framing: str
) -> None:
    upstream.push(Reply(anthropic_stream(["one", "two", "three"]), split_frames=True, drop_after=4, framing=framing))
    text = ""
    # Never a clean end: the client's connection is cut (chunked, length), or, where the drop looks
    # like the end of the body (close), the converter's error frame says the answer is incomplete.
    with pytest.raises((openai.APIError, httpx.HTTPError)):
        for chunk in oai(proxy).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            text += chunk.choices[0].delta.content or "" if chunk.choices else ""
    assert "three" not in text


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd", "deflate"])
def test_compressed_upstream_streams_convert(proxy: Mitmdump, upstream: FakeUpstream, encoding: str) -> None:
    upstream.push(Reply(anthropic_stream(["com", "pressed", " ok"]), split_frames=True, pieces=2, encoding=encoding))
    with oai(proxy).chat.completions.stream(model="gpt-4o", messages=[{"role": "user", "content": "z"}]) as s:
        final = s.get_final_completion()
    assert final.choices[0].message.content == "compressed ok"
    assert upstream.requests[0].headers["accept-encoding"] == "identity"


def test_first_delta_arrives_before_the_upstream_sends_its_last_frame(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(anthropic_stream(["first", "a", "b", "c"]), split_frames=True, delay=0.3))
    first_delta_at = None
    for chunk in oai(proxy).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
    ):
        if first_delta_at is None and chunk.choices and chunk.choices[0].delta.content:
            first_delta_at = time.monotonic()
    # The upstream notes the time after its last write; the client may have read it all before that.
    deadline = time.monotonic() + 5
    while not upstream.sent_last_piece_at and time.monotonic() < deadline:
        time.sleep(0.01)
    (last_sent,) = upstream.sent_last_piece_at
    # Six pauses of 0.3 s follow the first delta upstream; a buffering proxy would deliver it after all of them.
    assert first_delta_at is not None and first_delta_at < last_sent


# --- an anthropic client, an openai-chat upstream --------------------------------------------


def test_anthropic_client_streams_from_openai(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(openai_chat_stream(["Bon", "jour"]), split_frames=True, pieces=2, delay=0.01))
    with ant(proxy).messages.stream(
        model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text"] and final.content[0].text == "Bonjour"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 9
    body = check_reached_openai(upstream)
    assert body["stream"] is True and body["messages"][-1]["content"] in ("hi", [{"type": "text", "text": "hi"}])


def test_anthropic_client_tools_stream_and_tool_result_turn(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(openai_chat_stream([], tool=("call_1", "get_weather", ['{"city":', '"Oslo"}'])), pieces=5))
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": TOOLS[0]["function"]["parameters"]}]
    messages: list[Any] = [{"role": "user", "content": "Oslo weather?"}]
    with ant(proxy).messages.stream(model="claude", max_tokens=50, messages=messages, tools=tools) as stream:  # type: ignore[arg-type]
        final = stream.get_final_message()
    (use,) = [b for b in final.content if b.type == "tool_use"]
    assert use.id == "call_1" and use.name == "get_weather" and use.input == {"city": "Oslo"}  # type: ignore[union-attr]
    assert final.stop_reason == "tool_use"
    assert check_reached_openai(upstream)["tools"][0]["function"]["name"] == "get_weather"

    upstream.reset()
    upstream.push(Reply(openai_chat_completion("Cold.")))
    messages += [
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "-3C"}]},
    ]
    result = ant(proxy).messages.create(model="claude", max_tokens=50, messages=messages, tools=tools)  # type: ignore[arg-type]
    assert result.content[0].text == "Cold."  # type: ignore[union-attr]
    sent = check_reached_openai(upstream)["messages"]
    (call,) = sent[1]["tool_calls"]
    assert call["id"] == "call_1" and json.loads(call["function"]["arguments"]) == {"city": "Oslo"}
    assert sent[2]["role"] == "tool" and sent[2]["tool_call_id"] == "call_1" and "-3C" in json.dumps(sent[2]["content"])


def test_anthropic_client_whole_response(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(openai_chat_completion("Plain.")))
    result = ant(proxy).messages.create(model="claude", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert result.type == "message" and result.content[0].text == "Plain." and result.stop_reason == "end_turn"  # type: ignore[union-attr]
    assert result.usage.input_tokens == 21 and result.usage.output_tokens == 7


@pytest.mark.parametrize(
    ("status", "body", "exc", "client_status"),
    [
        (429, openai_error("Rate limit reached", "requests", "rate_limit_exceeded"), anthropic.RateLimitError, 429),
        (503, openai_error("The engine is overloaded", "server_error"), anthropic.InternalServerError, 503),
    ],
)
def test_anthropic_client_sees_upstream_errors_mapped(
    proxy: Mitmdump, upstream: FakeUpstream, status: int, body: dict[str, Any], exc: type, client_status: int
) -> None:
    upstream.push(Reply(body, status=status))
    with pytest.raises(exc) as info:
        ant(proxy).messages.create(model="c", max_tokens=5, messages=[{"role": "user", "content": "x"}], stream=True)
    assert info.value.status_code == client_status
    assert info.value.body["error"]["message"] == body["error"]["message"]
    assert info.value.body["error"]["type"] == ("rate_limit_error" if status == 429 else "overloaded_error")


def test_anthropic_client_mid_stream_error_raises(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(openai_chat_stream(["so far"], error="The server had an error"), split_frames=True))
    with pytest.raises(anthropic.APIStatusError, match="The server had an error"):  # noqa: SIM117
        with ant(proxy).messages.stream(model="c", max_tokens=5, messages=[{"role": "user", "content": "x"}]) as s:
            s.get_final_message()


def test_anthropic_client_connection_dropped_mid_stream_is_a_failure(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(openai_chat_stream(["a", "b", "c"]), split_frames=True, drop_after=2))
    with pytest.raises((anthropic.APIError, httpx.HTTPError)):  # noqa: SIM117
        with ant(proxy).messages.stream(model="c", max_tokens=5, messages=[{"role": "user", "content": "x"}]) as s:
            s.get_final_message()


# --- reverse mode ----------------------------------------------------------------------------


def test_reverse_mode(upstream: FakeUpstream, tmp_path: Path) -> None:
    m = Mitmdump(
        tmp_path,
        "--mode",
        f"reverse:{upstream.url()}",
        *route_args(f"/v1/chat/completions -> {upstream.url('/v1/messages')}"),
    )
    try:
        upstream.push(Reply(anthropic_stream(["rev", "erse"]), split_frames=True))
        client = openai.OpenAI(base_url=f"{m.url}/v1", api_key=CLIENT_OPENAI_KEY, max_retries=0, timeout=20)
        with client.chat.completions.stream(model="gpt-4o", messages=[{"role": "user", "content": "r"}]) as s:
            assert s.get_final_completion().choices[0].message.content == "reverse"
        check_reached_anthropic(upstream)
    finally:
        out = m.stop()
    assert ANTHROPIC_KEY not in out
