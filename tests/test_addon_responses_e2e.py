"""End to end: an openai Responses client (``client.responses.create`` / ``.stream``) through a real
mitmdump with crosswire, against an anthropic and an openai-chat fake upstream.

One mitmdump serves the module: ``api.example.test/v1/responses`` goes to the fake upstream's
``/v1/messages``, ``chat.example.test/v1/responses`` to its ``/v1/chat/completions``. The fake
upstream records what it received, so each tool loop also checks the request the provider got.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from bodies_judge import check_anthropic_request, check_openai_request
from canned import anthropic_message, anthropic_stream, openai_chat_completion, openai_chat_stream
from conftest import wire_files
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import CLIENT_OPENAI_KEY, Mitmdump, proxy_with_routes

pytestmark = pytest.mark.e2e

try:  # the SDK releases on Python 3.12 are built on httpx2
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]

TO_ANTHROPIC = "http://api.example.test"
TO_CHAT = "http://chat.example.test"
TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": False,
    }
]
QUESTION = [{"role": "user", "content": "Weather in Paris?"}]


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def proxy(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mitmdump]:
    with proxy_with_routes(
        tmp_path_factory.mktemp("mitm"),
        f"{TO_ANTHROPIC}/v1/responses -> {upstream.url('/v1/messages')}",
        f"{TO_CHAT}/v1/responses -> {upstream.url('/v1/chat/completions')}",
    ) as m:
        yield m


@pytest.fixture(autouse=True)
def fresh(upstream: FakeUpstream) -> None:
    upstream.reset()


def client(proxy: Mitmdump, base: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{base}/v1",
        api_key=CLIENT_OPENAI_KEY,
        http_client=httpx.Client(proxy=proxy.url),
        max_retries=0,
        timeout=20,
    )


def received(up: FakeUpstream, path: str) -> dict[str, Any]:
    """The one request the upstream got, checked by that provider's judge."""
    (req,) = up.requests
    assert req.path == path and CLIENT_OPENAI_KEY not in str(req.header_list)
    body: dict[str, Any] = req.json()
    (check_anthropic_request if path == "/v1/messages" else check_openai_request)(body)
    return body


def calls(response: Any) -> list[tuple[str, str, Any]]:
    return [(i.call_id, i.name, json.loads(i.arguments)) for i in response.output if i.type == "function_call"]


def second_turn(first: Any, output: str) -> list[Any]:
    """The documented loop: the first answer's output items, then one function_call_output per call."""
    items: list[Any] = [*QUESTION, *(item.model_dump(exclude_none=True) for item in first.output)]
    items += [
        {"type": "function_call_output", "call_id": i.call_id, "output": output}
        for i in first.output
        if i.type == "function_call"
    ]
    return items


# --- anthropic upstream ------------------------------------------------------------------------


def test_stream_with_thinking_and_a_tool_then_the_tool_result(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(
        Reply(
            anthropic_stream(
                ["Let me ", "check."],
                thinking=("Need weather.", "sig_abc"),
                tool=("toolu_01", "get_weather", ['{"ci', 'ty": "Paris"}']),
            ),
            split_frames=True,
            pieces=3,
        )
    )
    oai = client(proxy, TO_ANTHROPIC)
    texts: list[str] = []
    with oai.responses.stream(
        model="gpt-5", input=QUESTION, tools=TOOLS, reasoning={"effort": "low", "summary": "auto"}
    ) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                texts.append(event.delta)
        first = stream.get_final_response()
    assert "".join(texts) == "Let me check." == first.output_text
    assert first.status == "completed" and first.id == "resp_01Fake"
    assert [i.type for i in first.output] == ["reasoning", "message", "function_call"]
    reasoning = first.output[0]
    assert reasoning.summary[0].text == "Need weather." and reasoning.encrypted_content == "sig_abc"
    assert calls(first) == [("toolu_01", "get_weather", {"city": "Paris"})]
    assert first.output[2].id != "toolu_01"  # the fc_ item id is never the call id
    assert first.usage is not None and (first.usage.input_tokens, first.usage.output_tokens) == (25, 15)
    body = received(upstream, "/v1/messages")
    assert body["stream"] is True and body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["tools"][0]["name"] == "get_weather"

    # Second turn: the reasoning item (its signature), the call and its output go back.
    upstream.reset()
    upstream.push(Reply(anthropic_message("It is sunny.")))
    result = oai.responses.create(model="gpt-5", input=second_turn(first, "sunny, 24C"), tools=TOOLS)
    assert result.output_text == "It is sunny." and result.status == "completed"
    body = received(upstream, "/v1/messages")
    assistant, user = body["messages"][1]["content"], body["messages"][2]["content"]
    assert assistant[0] == {"type": "thinking", "thinking": "Need weather.", "signature": "sig_abc"}
    assert {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}} in assistant
    assert user == [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny, 24C"}]


def test_whole_response_with_a_tool(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(anthropic_message("Checking.", tool=("toolu_9", "get_weather", {"city": "Rome"}))))
    result = client(proxy, TO_ANTHROPIC).responses.create(
        model="gpt-5", input="Weather in Rome?", instructions="Be brief.", tools=TOOLS, max_output_tokens=500
    )
    assert result.object == "response" and result.output_text == "Checking."
    assert calls(result) == [("toolu_9", "get_weather", {"city": "Rome"})]
    assert result.usage is not None and result.usage.input_tokens == 30 and result.usage.output_tokens == 12
    body = received(upstream, "/v1/messages")
    assert body.get("stream") is not True and body["system"] == "Be brief." and body["max_tokens"] == 500
    assert body["messages"] == [{"role": "user", "content": "Weather in Rome?"}]


def test_rejections_answer_in_the_responses_format(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    oai = client(proxy, TO_ANTHROPIC)
    with pytest.raises(openai.BadRequestError) as info:
        oai.responses.create(model="gpt-5", input="and then?", previous_response_id="resp_1")
    assert info.value.status_code == 400 and "previous_response_id" in info.value.message
    assert upstream.requests == []  # answered by the proxy, never sent


def test_a_hosted_tool_is_dropped_for_another_upstream(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    """An agent works without file search: the request goes on without it (a warning in the log)."""
    upstream.push(Reply(anthropic_message("No search here.")))
    answer = client(proxy, TO_ANTHROPIC).responses.create(
        model="gpt-5", input="news?", tools=[{"type": "file_search", "vector_store_ids": ["v"]}]
    )
    assert answer.output_text == "No search here."
    (sent,) = upstream.requests
    assert "tools" not in sent.json() and "file_search" not in sent.body.decode()


def test_web_search_runs_on_an_anthropic_upstream(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    """Codex asks for web search; anthropic runs its own; the searches reach Codex as items."""
    recorded = next(iter(wire_files("anthropic_stream_web_search.sse")), None)
    if recorded is None:
        pytest.skip("conformance corpus not found")
    upstream.push(Reply(recorded.read_bytes(), pieces=40))
    oai = client(proxy, TO_ANTHROPIC)
    with oai.responses.stream(model="gpt-5", input="news?", tools=[{"type": "web_search"}]) as stream:
        answer = stream.get_final_response()
    (sent,) = upstream.requests
    check_anthropic_request(sent.json())
    assert sent.json()["tools"] == [{"type": "web_search_20250305", "name": "web_search"}]
    searches = [item for item in answer.output if item.type == "web_search_call"]
    assert [s.action.query for s in searches] == ["top world news today", "breaking news headlines August 14 2025"]
    cited = [a.url for item in answer.output if item.type == "message" for p in item.content for a in p.annotations]
    assert cited and all(url.startswith("https://") for url in cited)


def test_upstream_error_reaches_the_client(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    upstream.push(Reply(error, status=429))
    with pytest.raises(openai.RateLimitError) as info:
        client(proxy, TO_ANTHROPIC).responses.create(model="gpt-5", input="hi")
    assert info.value.status_code == 429 and "slow down" in info.value.message


# --- openai-chat upstream ----------------------------------------------------------------------


def test_chat_upstream_stream_with_a_tool_then_the_tool_result(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(
        Reply(openai_chat_stream(["Let me check."], tool=("call_7", "get_weather", ['{"city"', ':"Paris"}'])), pieces=5)
    )
    oai = client(proxy, TO_CHAT)
    with oai.responses.stream(model="gpt-4o", input=QUESTION, tools=TOOLS, tool_choice="required") as stream:
        first = stream.get_final_response()
    assert first.output_text == "Let me check." and first.status == "completed"
    assert calls(first) == [("call_7", "get_weather", {"city": "Paris"})]
    assert first.usage is not None and (first.usage.input_tokens, first.usage.output_tokens) == (20, 9)
    body = received(upstream, "/v1/chat/completions")
    assert body["stream"] is True and body["tool_choice"] == "required"
    assert body["tools"][0]["function"]["name"] == "get_weather"

    upstream.reset()
    upstream.push(Reply(openai_chat_completion("Sunny.")))
    result = oai.responses.create(model="gpt-4o", input=second_turn(first, "sunny, 24C"), tools=TOOLS)
    assert result.output_text == "Sunny."
    messages = received(upstream, "/v1/chat/completions")["messages"]
    assert messages[1]["tool_calls"] == [
        {"id": "call_7", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    ]
    assert messages[2] == {"role": "tool", "tool_call_id": "call_7", "content": "sunny, 24C"}


def test_chat_upstream_whole_response(proxy: Mitmdump, upstream: FakeUpstream) -> None:
    upstream.push(Reply(openai_chat_completion("Hi!", tool=("call_3", "get_weather", '{"city":"Oslo"}'))))
    result = client(proxy, TO_CHAT).responses.create(
        model="gpt-4o", input="hello", text={"format": {"type": "json_object"}}, temperature=0.2
    )
    assert result.output_text == "Hi!" and calls(result) == [("call_3", "get_weather", {"city": "Oslo"})]
    body = received(upstream, "/v1/chat/completions")
    assert body["response_format"] == {"type": "json_object"} and body["temperature"] == 0.2
    assert body["messages"] == [{"role": "user", "content": "hello"}]
