"""Hosted web search between anthropic and openai-responses: both providers run it themselves, so a
client of either gets the calls, the results and the citations of an upstream of the other.

Streams and bodies are judged by the target's SDK with strict validation (tests/strict_judges.py),
against what the source's SDK reads from the real transcripts; requests by the SDKs' request types.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bodies_judge import check_anthropic_request, check_openai_request
from conftest import wire_files
from crosswire import Options, convert_request, convert_response
from crosswire.convert import StreamConverter
from strict_judges import accumulate, parse_body, raw_events, schema_errors
from test_responses_bodies import check_responses_request

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # the SDKs' serializer on newer item shapes


def corpus(name: str) -> Path:
    path = next(iter(wire_files(name)), None)
    if path is None:
        pytest.skip("conformance corpus not found")
    return path


def convert(source: str, target: str, body: bytes) -> tuple[bytes, list[str]]:
    conv = StreamConverter(source, target, created=1_700_000_000)
    out = conv.feed(body) + conv.close()
    assert not conv.errored
    return out, conv.warnings


def rest(search_id: str) -> str:
    """A search id without its provider prefix (srvtoolu_ or ws_): the same search on both sides."""
    return search_id.split("_", 1)[1]


# --- what each SDK sees: the searches, their results and the cited text, in order ------------------


def anthropic_searches(message: Any) -> list[tuple[Any, ...]]:
    """("search", id, query) / ("results", id, urls, error) / ("text", text, [(url, title)])."""
    seen: list[tuple[Any, ...]] = []
    for block in message.content:
        if block.type == "server_tool_use":
            seen.append(("search", rest(block.id), block.input.get("query")))
        elif block.type == "web_search_tool_result":
            content = block.content
            if isinstance(content, list):
                seen.append(("results", rest(block.tool_use_id), [r.url for r in content], None))
            else:
                seen.append(("results", rest(block.tool_use_id), [], content.error_code))
        elif block.type == "text":
            seen.append(("text", block.text, [(c.url, c.title) for c in block.citations or ()]))
    return seen


def responses_searches(response: Any) -> list[tuple[Any, ...]]:
    """The same view of a Response: a web_search_call is a search and its results."""
    seen: list[tuple[Any, ...]] = []
    for item in response.output:
        if item.type == "web_search_call":
            action = item.action
            seen.append(("search", rest(item.id), getattr(action, "query", None)))
            urls = [s.url for s in getattr(action, "sources", None) or () if getattr(s, "type", "") == "url"]
            if item.status != "in_progress":  # in_progress: the turn paused before the search ran
                seen.append(("results", rest(item.id), urls, "unavailable" if item.status == "failed" else None))
        elif item.type == "message":
            for part in item.content:
                if part.type == "output_text":
                    seen.append(("text", part.text, [(a.url, a.title) for a in part.annotations]))
    return seen


# --- anthropic upstream, Responses client ---------------------------------------------------------


@pytest.mark.parametrize("name", ["anthropic_stream_web_search.sse", "anthropic_stream_pause_turn.sse"])
def test_anthropic_search_stream_reaches_a_responses_client(name: str) -> None:
    body = corpus(name).read_bytes()
    source = accumulate("anthropic", body, strict=False)
    out, warnings = convert("anthropic", "openai-responses", body)
    assert schema_errors("openai-responses", out) == set()
    response = accumulate("openai-responses", out, strict=True)
    want = anthropic_searches(source)
    assert responses_searches(response) == want
    assert sum(1 for kind, *_ in want if kind == "search") >= 2
    # each citation covers its whole part, as an Anthropic citation covers its whole block
    for item in response.output:
        for part in getattr(item, "content", None) or ():
            assert all((a.start_index, a.end_index) == (0, len(part.text)) for a in part.annotations)
    # the stream says what the search is doing, as OpenAI's does
    events = [e.type for e in raw_events("openai-responses", out, strict=True)]
    calls = sum(1 for kind, *_ in want if kind == "search")
    assert events.count("response.web_search_call.in_progress") == calls
    assert events.count("response.web_search_call.searching") == calls
    cited = sum(len(c) for kind, *x, c in want if kind == "text")
    assert events.count("response.output_text.annotation.added") == cited
    assert not [w for w in warnings if "web search" in w or "citation" in w]


def test_anthropic_search_message_reaches_a_responses_client() -> None:
    body = json.loads(corpus("anthropic_message_server_tool_web_search.json").read_bytes())
    out = convert_response("anthropic", "openai-responses", body, Options())
    response = parse_body("openai-responses", out.body, strict=True)
    want = anthropic_searches(parse_body("anthropic", body, strict=False))
    assert responses_searches(response) == want and any(c for kind, *x, c in want if kind == "text")


def test_a_paused_turn_keeps_its_pending_search() -> None:
    body = corpus("anthropic_stream_pause_turn.sse").read_bytes()
    out, _ = convert("anthropic", "openai-responses", body)
    last = accumulate("openai-responses", out, strict=True).output[-1]
    assert (last.type, last.status) == ("web_search_call", "in_progress")


# --- Responses upstream, anthropic client ---------------------------------------------------------


def test_responses_search_stream_reaches_an_anthropic_client() -> None:
    body = corpus("openai_responses_stream_web_search_cached.sse").read_bytes()
    source = accumulate("openai-responses", body, strict=False)
    out, warnings = convert("openai-responses", "anthropic", body)
    assert schema_errors("anthropic", out) == set()
    message = accumulate("anthropic", out, strict=True)
    assert anthropic_searches(message) == responses_searches(source)
    searches = [b for b in message.content if b.type == "server_tool_use"]
    assert [(b.name, b.id.startswith("srvtoolu_")) for b in searches] == [("web_search", True)]
    assert searches[0].input == {"query": "weather: San Francisco, CA"}
    assert message.usage.server_tool_use.web_search_requests == 1
    assert not [w for w in warnings if "web search" in w]


def _responses_search_stream() -> bytes:
    """A Responses stream as the API sends one with sources and url citations."""
    query = "weather paris"
    added = {"id": "ws_gen1", "type": "web_search_call", "status": "in_progress", "action": {"type": "search"}}
    sources = [{"type": "url", "url": "https://meteo.example/paris"}, {"type": "url", "url": "https://w.example/p"}]
    done = {**added, "status": "completed", "action": {"type": "search", "query": query, "sources": sources}}
    text = "Paris: 21°C and sunny. Rain tomorrow."
    cite1 = {"type": "url_citation", "start_index": 0, "end_index": 22, "url": sources[0]["url"], "title": "Météo"}
    cite2 = {"type": "url_citation", "start_index": 23, "end_index": len(text), "url": sources[1]["url"], "title": "W"}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    final_part = {**part, "text": text, "annotations": [cite1, cite2]}
    msg = {"id": "msg_gen1", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    ids = {"item_id": "msg_gen1", "output_index": 1, "content_index": 0}
    response = {"id": "resp_gen1", "object": "response", "created_at": 1, "model": "gpt-5", "output": []}
    response |= {"tools": [{"type": "web_search"}], "tool_choice": "auto", "parallel_tool_calls": True}
    usage = {
        "input_tokens": 900,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 40,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 940,
    }
    final_msg = {**msg, "status": "completed", "content": [final_part]}
    events = [
        {"type": "response.created", "response": {**response, "status": "in_progress"}},
        {"type": "response.output_item.added", "output_index": 0, "item": added},
        {"type": "response.web_search_call.in_progress", "output_index": 0, "item_id": "ws_gen1"},
        {"type": "response.web_search_call.searching", "output_index": 0, "item_id": "ws_gen1"},
        {"type": "response.web_search_call.completed", "output_index": 0, "item_id": "ws_gen1"},
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        {"type": "response.output_item.added", "output_index": 1, "item": msg},
        {"type": "response.content_part.added", **ids, "part": part},
        {"type": "response.output_text.delta", **ids, "delta": text[:22], "logprobs": []},
        {"type": "response.output_text.annotation.added", **ids, "annotation_index": 0, "annotation": cite1},
        {"type": "response.output_text.delta", **ids, "delta": text[22:], "logprobs": []},
        {"type": "response.output_text.annotation.added", **ids, "annotation_index": 1, "annotation": cite2},
        {"type": "response.output_text.done", **ids, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **ids, "part": final_part},
        {"type": "response.output_item.done", "output_index": 1, "item": final_msg},
        {
            "type": "response.completed",
            "response": {**response, "status": "completed", "output": [done, final_msg], "usage": usage},
        },
    ]
    return "".join(
        f"event: {e['type']}\ndata: {json.dumps({**e, 'sequence_number': n})}\n\n" for n, e in enumerate(events)
    ).encode()


def test_responses_sources_and_citations_reach_an_anthropic_client() -> None:
    body = _responses_search_stream()
    assert schema_errors("openai-responses", body) == set()  # the generated source is what the SDK types say
    source = accumulate("openai-responses", body, strict=True)
    out, warnings = convert("openai-responses", "anthropic", body)
    message = accumulate("anthropic", out, strict=True)
    assert anthropic_searches(message) == responses_searches(source)
    assert anthropic_searches(message)[1] == (
        "results",
        "gen1",
        ["https://meteo.example/paris", "https://w.example/p"],
        None,
    )
    assert warnings == []
    # and back: a Responses client of an anthropic upstream gets the same sources and citations
    back, _ = convert("anthropic", "openai-responses", out)
    assert responses_searches(accumulate("openai-responses", back, strict=True)) == responses_searches(source)


def test_anthropic_search_round_trip_through_responses() -> None:
    body = corpus("anthropic_stream_web_search.sse").read_bytes()
    there, _ = convert("anthropic", "openai-responses", body)
    back, _ = convert("openai-responses", "anthropic", there)
    want = anthropic_searches(accumulate("anthropic", body, strict=False))
    assert anthropic_searches(accumulate("anthropic", back, strict=True)) == want
    ids = [b.id for b in accumulate("anthropic", back, strict=True).content if b.type == "server_tool_use"]
    assert ids == [b.id for b in accumulate("anthropic", body, strict=False).content if b.type == "server_tool_use"]


def test_responses_search_body_reaches_an_anthropic_client() -> None:
    events = [json.loads(line[6:]) for line in _responses_search_stream().decode().splitlines() if line[:6] == "data: "]
    body = events[-1]["response"]
    out = convert_response("openai-responses", "anthropic", body, Options())
    message = parse_body("anthropic", out.body, strict=True)
    assert anthropic_searches(message) == responses_searches(parse_body("openai-responses", body, strict=True))
    assert message.usage.server_tool_use.web_search_requests == 1


@pytest.mark.parametrize(
    ("source", "body"),
    [
        pytest.param("openai-responses", None, id="responses"),
        pytest.param("anthropic", "anthropic_stream_web_search.sse", id="anthropic"),
    ],
)
def test_a_chat_client_gets_the_answer_without_the_searches(source: str, body: str | None) -> None:
    data = _responses_search_stream() if body is None else corpus(body).read_bytes()
    out, warnings = convert(source, "openai-chat", data)
    completion = accumulate("openai-chat", out, strict=True)
    assert "Paris" in completion.choices[0].message.content or "news" in completion.choices[0].message.content.lower()
    assert any("hosted web search" in w for w in warnings) and any("citations" in w for w in warnings)


@pytest.mark.parametrize(("source", "target"), [("openai-responses", "anthropic"), ("anthropic", "openai-responses")])
def test_every_split_of_a_search_stream_gives_the_same_bytes(source: str, target: str) -> None:
    data = _responses_search_stream()
    if source == "anthropic":
        data, _ = convert("openai-responses", "anthropic", data)
    whole, _ = convert(source, target, data)
    for cut in range(1, len(data)):
        conv = StreamConverter(source, target, created=1_700_000_000)
        assert conv.feed(data[:cut]) + conv.feed(data[cut:]) + conv.close() == whole, cut


# --- requests: the hosted tool both ways, checked against the SDKs' request types ------------------

ANTHROPIC_TOOL = {
    "type": "web_search_20250305",
    "name": "web_search",
    "max_uses": 3,
    "allowed_domains": ["example.org"],
    "user_location": {"type": "approximate", "city": "Paris", "country": "FR", "timezone": "Europe/Paris"},
}
RESPONSES_TOOL = {
    "type": "web_search",
    "filters": {"allowed_domains": ["example.org"]},
    "user_location": {"type": "approximate", "city": "Paris", "country": "FR", "timezone": "Europe/Paris"},
    "search_context_size": "high",
}
FUNCTION = {"name": "f", "description": "F", "input_schema": {"type": "object", "properties": {}}}


def test_an_anthropic_search_tool_reaches_a_responses_upstream() -> None:
    body = {"model": "claude", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    body["tools"] = [FUNCTION, {**ANTHROPIC_TOOL, "blocked_domains": ["spam.example"]}]
    check_anthropic_request(body)
    out = convert_request("anthropic", "openai-responses", body, Options())
    check_responses_request(out.body)
    search = [t for t in out.body["tools"] if t["type"] == "web_search"]
    assert search == [{k: v for k, v in RESPONSES_TOOL.items() if k != "search_context_size"}]
    assert out.body["max_tool_calls"] == 3
    assert any("blocked_domains" in w for w in out.warnings)


def test_a_forced_anthropic_search_is_required_of_a_responses_upstream() -> None:
    body = {
        "model": "c",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "news?"}],
        "tools": [ANTHROPIC_TOOL],
    }
    body["tool_choice"] = {"type": "tool", "name": "web_search"}
    check_anthropic_request(body)
    out = convert_request("anthropic", "openai-responses", body, Options())
    check_responses_request(out.body)
    assert out.body["tool_choice"] == "required" and any("forced web search" in w for w in out.warnings)


def test_a_responses_search_tool_reaches_an_anthropic_upstream() -> None:
    body = {"model": "gpt-5", "input": "hi", "tools": [RESPONSES_TOOL]}
    check_responses_request(body)
    out = convert_request("openai-responses", "anthropic", body, Options())
    check_anthropic_request(out.body)
    assert out.body["tools"] == [{k: v for k, v in ANTHROPIC_TOOL.items() if k != "max_uses"}]
    assert any("context size" in w for w in out.warnings)
    for preview in ("web_search_preview", "web_search_2025_08_26"):
        same = convert_request("openai-responses", "anthropic", {**body, "tools": [{"type": preview}]}, Options())
        assert same.body["tools"] == [{"type": "web_search_20250305", "name": "web_search"}]


@pytest.mark.parametrize(
    ("source", "body"),
    [
        (
            "anthropic",
            {"model": "c", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}], "tools": [ANTHROPIC_TOOL]},
        ),
        ("openai-responses", {"model": "g", "input": "hi", "tools": [RESPONSES_TOOL]}),
    ],
)
def test_a_search_tool_is_dropped_for_a_chat_upstream_and_kept_for_its_own(source: str, body: dict[str, Any]) -> None:
    out = convert_request(source, "openai-chat", body, Options())
    check_openai_request(out.body)
    assert "tools" not in out.body and any("hosted tool 'web_search'" in w for w in out.warnings)
    same = convert_request(source, source, body, Options())
    assert same.body["tools"] == body["tools"] and same.warnings == []


def _anthropic_history() -> dict[str, Any]:
    """A conversation that sends the web search answer back as it came (pause_turn continuation)."""
    answer = json.loads(corpus("anthropic_message_server_tool_web_search.json").read_bytes())
    return {
        "model": "claude",
        "max_tokens": 100,
        "tools": [ANTHROPIC_TOOL],
        "messages": [
            {"role": "user", "content": "What is the weather in San Francisco?"},
            {"role": "assistant", "content": answer["content"]},
            {"role": "user", "content": "And tomorrow?"},
        ],
    }


def test_a_search_in_the_history_goes_back_to_anthropic_as_it_came() -> None:
    body = _anthropic_history()
    out = convert_request("anthropic", "anthropic", body, Options())
    assert out.warnings == []
    check_anthropic_request(out.body)
    assert out.body["messages"] == body["messages"]


def test_another_providers_search_in_the_history_is_dropped_with_a_warning() -> None:
    body = _anthropic_history()
    out = convert_request("anthropic", "openai-responses", body, Options())
    check_responses_request(out.body)
    kinds = [i.get("type", "message") for i in out.body["input"]]
    assert "web_search_call" not in kinds and kinds.count("message") == 3
    assert any("history of another format" in w for w in out.warnings)
    # the Responses side: its own web_search_call items go back to it, not to anthropic
    item = {"id": "ws_1", "type": "web_search_call", "status": "completed", "action": {"type": "search", "query": "q"}}
    history = {"model": "g", "input": [{"role": "user", "content": "q?"}, item, {"role": "user", "content": "more"}]}
    same = convert_request("openai-responses", "openai-responses", history, Options())
    assert item in same.body["input"] and same.warnings == []
    check_responses_request(same.body)
    other = convert_request("openai-responses", "anthropic", history, Options())
    check_anthropic_request(other.body)
    assert any("history of another format" in w for w in other.warnings)
