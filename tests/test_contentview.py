"""The "LLM stream" contentview: hand-written streams, the corpus judged by the official SDKs, and
mitmproxy's own view selection (11's ``get_message_content_view``, 12's ``prettify_message``)."""

from __future__ import annotations

import gzip
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, wire_params
from crosswire import contentview, formats
from mitmproxy import contentviews, io
from mitmproxy.test import taddons, tflow
from openai.lib.streaming.chat import ChatCompletionStreamState


def sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return (f"event: {event}\n" if event else "").encode() + f"data: {payload}\n\n".encode()


def anthropic(*events: dict[str, Any]) -> bytes:
    return b"".join(sse(event, event["type"]) for event in events)


def delta(index: int, **delta: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


MESSAGE = {"id": "msg_fixture1", "type": "message", "role": "assistant", "model": "claude-fixture", "content": []}
TOOL = {"type": "tool_use", "id": "toolu_fixture", "name": "get_weather", "input": {}}
ANTHROPIC_HEAD = anthropic(
    {"type": "message_start", "message": {**MESSAGE, "usage": {"input_tokens": 21, "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
    delta(0, type="thinking_delta", thinking="The user wants "),
    delta(0, type="thinking_delta", thinking="the weather."),
    delta(0, type="signature_delta", signature="c2lnbmF0dXJl"),
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    delta(1, type="text_delta", text="Let me look "),
    delta(1, type="text_delta", text="that up."),
    {"type": "content_block_stop", "index": 1},
    {"type": "content_block_start", "index": 2, "content_block": TOOL},
    delta(2, type="input_json_delta", partial_json='{"city": "Par'),
)
ANTHROPIC = ANTHROPIC_HEAD + anthropic(
    delta(2, type="input_json_delta", partial_json='is", "days": 3}'),
    {"type": "content_block_stop", "index": 2},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"output_tokens": 57},
    },
    {"type": "message_stop"},
)
# An anthropic stream cut off inside a tool call: no content_block_stop, no message_stop.
CUT_TOOL = ANTHROPIC_HEAD


def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
    head = {"id": "chatcmpl-fixture", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-fixture"}
    return sse({**head, "choices": choices, **extra})


def choice(finish_reason: str | None = None, **delta: Any) -> list[dict[str, Any]]:
    return [{"index": 0, "delta": delta, "finish_reason": finish_reason}]


def call(**fields: Any) -> list[dict[str, Any]]:
    return [{"index": 0, **fields}]


CHAT = b"".join(
    [
        chunk(choice(role="assistant", content="")),
        chunk(choice(content="Checking ")),
        chunk(choice(content="the forecast.")),
        chunk(
            choice(tool_calls=call(id="call_fixture", type="function", function={"name": "forecast", "arguments": ""}))
        ),
        chunk(choice(tool_calls=call(function={"arguments": '{"place":'}))),
        chunk(choice(tool_calls=call(function={"arguments": '"Z\\u00fcrich"}'}))),
        chunk(choice("tool_calls")),
        chunk([], usage={"prompt_tokens": 33, "completion_tokens": 12, "total_tokens": 45}),
        sse("[DONE]"),
    ]
)

CHAT_ERROR = sse({"error": {"message": "The server had an error", "type": "server_error", "param": None, "code": None}})


def test_anthropic_fixture_shows_every_part() -> None:
    text = contentview.prettify(ANTHROPIC)
    assert text.startswith("anthropic stream, 17 frames, model claude-fixture, id msg_fixture1\n")
    assert "── thinking, signature 12 chars ──\nThe user wants the weather.\n" in text
    assert "── text ──\nLet me look that up.\n" in text
    assert '── tool call: get_weather (toolu_fixture) ──\n{\n  "city": "Paris",\n  "days": 3\n}\n' in text
    assert "stop reason: tool_use" in text
    assert "input_tokens 21" in text and "output_tokens 57" in text
    assert "error" not in text


def test_openai_chat_fixture_shows_every_part() -> None:
    text = contentview.prettify(CHAT)
    assert text.startswith("openai-chat stream, 9 frames, model gpt-fixture, id chatcmpl-fixture\n")
    assert "── text ──\nChecking the forecast.\n" in text
    assert '── tool call: forecast (call_fixture) ──\n{\n  "place": "Zürich"\n}\n' in text
    assert "stop reason: tool_use" in text
    assert "input_tokens 33" in text and "output_tokens 12" in text


def test_error_only_stream() -> None:
    assert contentview.detect_format(CHAT_ERROR) == "openai-chat"
    assert "error: api_error: The server had an error" in contentview.prettify(CHAT_ERROR)


def test_stream_cut_inside_a_tool_call_shows_what_arrived_and_the_truncation() -> None:
    text = contentview.prettify(CUT_TOOL)
    assert "── text ──\nLet me look that up.\n" in text
    assert '── tool call: get_weather (toolu_fixture), cut off before its end ──\n{"city": "Par\n' in text
    assert "error: api_error: upstream stream ended before message_stop" in text
    assert "stop reason" not in text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'data: {"hello": "world"}\n\n', "text/event-stream"),  # SSE, but no LLM format
        (b'{"type": "message_start"}', "application/json"),
        (ANTHROPIC, "application/json"),  # the right frames under a content type that is not SSE
        (b"", "text/event-stream"),
        (b"\xff\xfe not utf-8 \x00", None),
    ],
)
def test_other_bodies_are_not_claimed(body: bytes, content_type: str | None) -> None:
    assert contentview.priority(body, content_type, None) < 0


def test_unknown_sse_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an SSE stream"):
        contentview.prettify(b'data: {"hello": "world"}\n\n')


def test_error_frame_shared_by_anthropic_and_responses_follows_the_request_path() -> None:
    frame = b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    assert contentview.detect_format(frame, "/v1/messages") == "anthropic"
    assert contentview.detect_format(frame, "") == "anthropic"
    expected = "openai-responses" if "openai-responses" in formats.FORMATS else None
    assert contentview.detect_format(frame, "/v1/responses") == expected


# --- mitmproxy's own view selection ---------------------------------------------------------


def _flow(body: bytes, content_type: str = "text/event-stream", encoding: str | None = None) -> Any:
    flow = tflow.tflow(resp=True)
    flow.response.headers["content-type"] = content_type
    if encoding:
        flow.response.headers["content-encoding"] = encoding
        flow.response.raw_content = gzip.compress(body)
    else:
        flow.response.content = body
    return flow


def _auto(flow: Any) -> tuple[str, str]:
    """(view name, text) as mitmproxy picks and renders the response body when no view is chosen."""
    if hasattr(contentviews, "prettify_message"):  # mitmproxy 12
        with taddons.context():
            result = contentviews.prettify_message(flow.response, flow)
        return str(result.view_name), result.text
    description, lines, error = contentviews.get_message_content_view("auto", flow.response, flow)
    assert error is None
    text = "\n".join("".join(t for _, t in line) for line in lines)
    # 11's description is the view's title, e.g. "LLM stream (anthropic)", or "[decoded gzip] …"
    return description.rpartition("] ")[2].split(" (")[0], text


@pytest.fixture
def registered() -> Iterator[None]:
    contentview.register()
    try:
        yield
    finally:
        contentview.unregister()


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_mitmproxy_picks_the_view_for_llm_streams(encoding: str | None) -> None:
    name, text = _auto(_flow(ANTHROPIC, encoding=encoding))
    assert name == "LLM stream"
    assert "Let me look that up." in text and '"days": 3' in text


@pytest.mark.usefixtures("registered")
def test_mitmproxy_keeps_its_own_views_for_other_bodies() -> None:
    name, _ = _auto(_flow(b'{"a": 1}', "application/json"))
    assert name == "JSON"
    name, _ = _auto(_flow(b'data: {"hello": "world"}\n\n'))
    assert name != "LLM stream"


def test_register_is_idempotent_and_unregister_removes() -> None:
    contentview.register()
    contentview.register()
    try:
        assert contentview.is_registered()
        assert _auto(_flow(CHAT))[0] == "LLM stream"
    finally:
        contentview.unregister()
    assert not contentview.is_registered()
    assert _auto(_flow(CHAT))[0] != "LLM stream"


# --- the corpus, judged by the official SDKs -----------------------------------------------------


def _sdk_client(sdk: str, body: bytes) -> Any:
    """An SDK client whose every request is answered with ``body`` as an SSE stream."""
    module = importlib.import_module(sdk)
    base = importlib.import_module(f"{sdk}._base_client")
    http = getattr(base, "httpx2", None) or base.httpx  # newer SDK releases are built on httpx2
    transport = http.MockTransport(
        lambda request: http.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )
    client_class = module.Anthropic if sdk == "anthropic" else module.OpenAI
    return client_class(api_key="test", http_client=http.Client(transport=transport), max_retries=0)


def _pretty(args: Any) -> str:
    return json.dumps(args, indent=2, ensure_ascii=False)


def _error_message(body: bytes) -> str | None:
    """The message of the stream's error frame, read with plain json."""
    for line in body.decode().splitlines():
        if line.startswith("data:") and '"error"' in line:
            data = json.loads(line[5:])
            err = data.get("error")
            if isinstance(err, dict) and err.get("message"):
                return str(err["message"])
    return None


@pytest.mark.parametrize("path", wire_params("anthropic_stream_*.sse"))
def test_corpus_anthropic(path: Path) -> None:
    body = path.read_bytes()
    text = contentview.prettify(body)
    assert text.startswith("anthropic stream, ")
    error = _error_message(body)
    if error:
        assert error in text and "\nerror: " in text
        return
    if path.name == "anthropic_stream_docs_thinking.sse":  # abbreviated docs example the SDK cannot accumulate
        assert "1. First break down 27 * 453\n2. 453 = 400 + 50 + 3\n" in text and "= 12,231\n" in text
        return
    with _sdk_client("anthropic", body).messages.stream(
        model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = stream.get_final_message()
    for block in final.content:
        if block.type == "text":
            assert f"── text ──\n{block.text}\n" in text
        elif block.type == "thinking":
            assert f"{block.thinking}\n" in text
        elif block.type == "tool_use":
            assert f"── tool call: {block.name} ({block.id})" in text
            if final.stop_reason != "max_tokens":  # cut-off input: the SDK parses it leniently, we show it raw
                assert _pretty(block.input) in text
    redacted = sum(block.type == "redacted_thinking" for block in final.content)
    assert text.count("── redacted thinking ──") == redacted
    assert f"stop reason: {final.stop_reason}" in text
    assert f"output_tokens {final.usage.output_tokens}" in text


def test_web_search_and_native_blocks_show() -> None:
    paths = {p.values[0].name: p.values[0] for p in wire_params("anthropic_stream_*.sse") if p.values[0]}
    if "anthropic_stream_web_search.sse" not in paths:
        pytest.skip("conformance corpus not found")
    body = paths["anthropic_stream_web_search.sse"].read_bytes()
    text = contentview.prettify(body)
    with _sdk_client("anthropic", body).messages.stream(
        model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = stream.get_final_message()
    for block in final.content:
        if block.type == "server_tool_use":
            assert f"── web search ({block.id}) ──\n{block.input['query']}\n" in text
        elif block.type == "web_search_tool_result":
            assert f"── web search results ({block.tool_use_id}) ──\n{block.content[0].url}  " in text
        elif block.type == "text":
            assert all(f"  cites {c.url}  {c.title}" in text for c in block.citations or ())
    compaction = contentview.prettify(paths["anthropic_stream_cache_read_compaction.sse"].read_bytes())
    assert "── anthropic 'compaction' block ──" in compaction


CHAT_FINISH = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


@pytest.mark.parametrize("path", wire_params("openai_chat_stream_*.sse"))
def test_corpus_openai_chat(path: Path) -> None:
    body = path.read_bytes()
    text = contentview.prettify(body)
    assert text.startswith("openai-chat stream, ")
    state = ChatCompletionStreamState()
    for event in _sdk_client("openai", body).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    ):
        state.handle_chunk(event)
    final = state.current_completion_snapshot  # unlike get_final_completion, no parsing that rejects `length`
    message = final.choices[0].message
    if message.content:
        assert f"── text ──\n{message.content}\n" in text
    if message.refusal:
        assert f"── refusal ──\n{message.refusal}\n" in text
    for call in message.tool_calls or []:
        assert (
            f"── tool call: {call.function.name} ({call.id}) ──\n{_pretty(json.loads(call.function.arguments))}" in text
        )
    stop = "refusal" if message.refusal else CHAT_FINISH[final.choices[0].finish_reason]  # a refusal ends "stop"
    assert f"stop reason: {stop}" in text
    if final.usage:
        assert f"output_tokens {final.usage.completion_tokens}" in text


@pytest.mark.skipif("openai-responses" not in formats.FORMATS, reason="the openai-responses reader is not registered")
@pytest.mark.parametrize("path", wire_params("openai_responses_stream_*.sse"))
def test_corpus_openai_responses(path: Path) -> None:
    body = path.read_bytes()
    text = contentview.prettify(body)
    assert text.startswith("openai-responses stream, ")
    error = _error_message(body)
    if error:
        assert error in text and "\nerror: " in text
        return
    with _sdk_client("openai", body).responses.stream(model="m", input="hi") as stream:
        final = stream.get_final_response()
    for item in final.output:
        if item.type == "message":
            for part in item.content:
                if part.type == "output_text":
                    assert part.text in text
        elif item.type == "function_call":
            assert f"── tool call: {item.name} ({item.call_id}) ──\n{_pretty(json.loads(item.arguments))}" in text
        elif item.type == "reasoning":
            for summary in item.summary:
                assert summary.text in text
    assert final.usage is not None
    assert f"output_tokens {final.usage.output_tokens}" in text


# --- the recorded flows in flows/, read as mitmproxy reads them ----------------------------------

FLOWS = ROOT / "flows"
FLOW_VIEWS = {
    "text": [
        "── text ──\nThe Eiffel Tower is 330 metres tall, about as high as an 81-storey building.\n",
        "stop reason: end_turn",
        "output_tokens 21",
    ],
    "thinking": [
        "── thinking ──\n17 × 24 = 17 × 20 + 17 × 4 = 340 + 68 = 408.\n",
        "── text ──\n17 × 24 = 408.\n",
        "output_tokens 64",
    ],
    "tool_call": [
        "── text ──\nLet me check the current weather in Paris for you.\n",
        '── tool call: get_weather (toolu_demo_01) ──\n{\n  "city": "Paris",\n  "unit": "celsius"\n}\n',
        "stop reason: tool_use",
        "input_tokens 96",
        "output_tokens 52",
    ],
    "stream_error": ["── text ──\nHere is a long answer that\n", "error: overloaded_error: Overloaded"],
}


def _recorded(name: str) -> Any:
    with open(FLOWS / f"{name}.flow", "rb") as f:
        (flow,) = io.FlowReader(f).stream()
    return flow


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize("name", sorted(FLOW_VIEWS))
def test_recorded_flows_render(name: str) -> None:
    view, text = _auto(_recorded(name))
    assert view == "LLM stream"
    assert text.startswith("openai-chat stream, ")
    for expected in FLOW_VIEWS[name]:
        assert expected in text


@pytest.mark.usefixtures("registered")
def test_recorded_json_error_is_left_to_the_json_view() -> None:
    assert _auto(_recorded("rate_limited"))[0] == "JSON"


def test_the_addon_registers_the_view_in_mitmdump(tmp_path: Path) -> None:
    mitmdump = Path(sys.executable).parent / "mitmdump"
    entry = ROOT / "addon" / "crosswire" / "mitm.py"
    run = subprocess.run(
        [
            mitmdump,
            "-n",
            "-r",
            FLOWS / "tool_call.flow",
            "--flow-detail",
            "3",
            "-s",
            entry,
            "--set",
            f"confdir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "openai-chat stream, 15 frames, model claude-sonnet-4-5, id chatcmpl-demo_tool_call" in run.stdout
    assert '      "city": "Paris",' in run.stdout  # the arguments, indented in mitmdump's body block


# --- every registered format ----------------------------------------------------------------


def _streams() -> list[Any]:
    from formats_support import ADAPTERS

    return [
        pytest.param(fmt.name, name, body, id=f"{fmt.name}:{name}")
        for fmt in formats.FORMATS
        for name, body in ADAPTERS[fmt.name].streams().items()
    ]


@pytest.mark.parametrize(("fmt", "name", "body"), _streams())
def test_every_registered_formats_streams_are_told_and_assembled(fmt: str, name: str, body: bytes) -> None:
    from formats_support import ADAPTERS, UNDECODABLE

    adapter = ADAPTERS[fmt]
    view = adapter.stream_view(body if body.endswith(b"\n\n") else body + b"\n\n")
    assembled = contentview.assemble(body, adapter.route_path + adapter.request_path(True))
    assert assembled is not None and assembled.format == fmt
    message = assembled.message
    if view.error is not None:  # the SDK raised: the view shows the error, after what arrived before it
        assert message.error is not None
        assert view.error == UNDECODABLE or view.error in message.error[1]
        return
    if view.stop is None:  # cut short: shown with the truncation
        assert message.error is not None and "incomplete" in message.error[1]
        return
    texts = "".join(b.text for b in message.content if b.kind in ("text", "refusal"))
    assert texts == "".join(t for _, t in view.parts)
    assert [(b.id, b.name) for b in message.content if b.kind == "tool_use"] == [(i, n) for i, n, _ in view.calls]
