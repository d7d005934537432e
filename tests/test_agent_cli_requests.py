"""What Claude Code and Codex really send (sanitized captures in tests/fixtures/clis/, taken from
the pinned versions through mitmdump), converted for each upstream and judged by the strict fake
provider's rules (the real APIs') and the official SDKs' request types; and the answer's way back
to Codex in its own call shapes. The real CLIs run the same loop in test_clis.py."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from bodies_judge import check_anthropic_request, check_openai_request
from canned import anthropic_message, anthropic_stream
from crosswire.bodies import convert_request, convert_response
from crosswire.convert import StreamConverter
from crosswire.events import ToolOrigin
from crosswire.formats.body_common import MAX_TOOL_NAME, flat_tool_name
from crosswire.options import Options
from crosswire.sse import SSEDecoder
from strict_provider import Refused, check_anthropic, check_chat, check_responses

FIXTURES = Path(__file__).parent / "fixtures" / "clis"
CLAUDE = [orjson.loads((FIXTURES / f"claude_code_2.1.332_turn{n}.json").read_bytes()) for n in (1, 2)]
CODEX = [orjson.loads((FIXTURES / f"codex_0.171.0_turn{n}.json").read_bytes()) for n in (1, 2)]
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}


def opts(model: str, **kw: Any) -> Options:
    return Options(model_map={"*": model}, **kw)


# --- Claude Code -> OpenAI --------------------------------------------------------------------


@pytest.mark.parametrize("turn", [0, 1], ids=["turn1", "turn2"])
def test_claude_code_reaches_openai_chat(turn: int) -> None:
    out = convert_request("anthropic", "openai-chat", CLAUDE[turn], opts("gpt-5"))
    check_chat(out.body)
    check_openai_request(out.body)
    messages = out.body["messages"]
    roles = [m["role"] for m in messages]
    # the mid-conversation system message stays where Claude Code put it: after the user's words
    # system: Claude Code's 4 system blocks but the billing header, then the user turn, then the system message
    assert roles[:5] == ["system", "system", "system", "user", "system"] and roles.count("system") == 4
    assert messages[4]["content"].startswith("# Environment")
    assert "x-anthropic-billing-header" not in orjson.dumps(out.body).decode()
    assert any("billing-header" in w for w in out.warnings)
    assert out.body["reasoning_effort"] == "medium"  # adaptive thinking with output_config.effort
    assert len(out.body["user"]) <= 64 and "device_id" not in out.body["user"]
    if turn:
        assert messages[-1] == {"role": "tool", "tool_call_id": "call_fake1", "content": "crosswire-42-ok"}


@pytest.mark.parametrize("turn", [0, 1], ids=["turn1", "turn2"])
def test_claude_code_reaches_openai_responses(turn: int) -> None:
    out = convert_request("anthropic", "openai-responses", CLAUDE[turn], opts("gpt-5"))
    check_responses(out.body)
    items = out.body["input"]
    developer = [i for i in items if i.get("role") == "developer"]
    assert len(developer) == 1 and developer[0]["content"].startswith("# Environment")
    assert items.index(developer[0]) == 1  # in place, after the user's message
    assert out.body["reasoning"]["effort"] == "medium"


def test_claude_code_reaches_a_gpt_4o_class_model_with_the_route_options() -> None:
    with pytest.raises(Refused, match=r"reasoning_effort|too large"):
        check_chat(convert_request("anthropic", "openai-chat", CLAUDE[1], opts("gpt-4o")).body)
    out = convert_request(
        "anthropic", "openai-chat", CLAUDE[1], opts("gpt-4o", max_output_tokens=16384, reasoning=False)
    )
    check_chat(out.body)
    assert out.body["max_completion_tokens"] == 16384 and "reasoning_effort" not in out.body
    assert any("sent as 16384" in w for w in out.warnings) and any("reasoning = false" in w for w in out.warnings)


def test_thinking_drop_implies_no_reasoning_request() -> None:
    for target in ("openai-chat", "openai-responses"):
        body = convert_request("anthropic", target, CLAUDE[0], opts("gpt-4o", thinking="drop")).body
        assert "reasoning_effort" not in body and "reasoning" not in body


def test_tool_search_results_and_deferred_tools_reach_openai() -> None:
    body = orjson.loads(orjson.dumps(CLAUDE[1]))
    body["messages"][-1]["content"][0]["content"] = [{"type": "tool_reference", "tool_name": "WebFetch"}]
    body["tools"].append({"name": "WebFetch", "input_schema": {"type": "object"}, "defer_loading": True})
    out = convert_request("anthropic", "openai-chat", body, opts("gpt-5"))
    check_chat(out.body)
    assert out.body["messages"][-1]["content"] == "Tool WebFetch is now available."
    assert "WebFetch" in [t["function"]["name"] for t in out.body["tools"]]


def test_tool_result_is_error_says_so_in_the_output() -> None:
    body = orjson.loads(orjson.dumps(CLAUDE[1]))
    body["messages"][-1]["content"][0].update(is_error=True, content="Exit code 1")
    chat = convert_request("anthropic", "openai-chat", body, opts("gpt-5")).body
    assert chat["messages"][-1]["content"] == "Error: Exit code 1"
    responses = convert_request("anthropic", "openai-responses", body, opts("gpt-5")).body
    assert responses["input"][-1] == {
        "type": "function_call_output",
        "call_id": "call_fake1",
        "output": "Error: Exit code 1",
    }


# --- Codex -> anthropic and Chat --------------------------------------------------------------


def _tools(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in body["tools"]}


@pytest.mark.parametrize("turn", [0, 1], ids=["turn1", "turn2"])
def test_codex_reaches_anthropic(turn: int) -> None:
    out = convert_request("openai-responses", "anthropic", CODEX[turn], opts("claude-sonnet-4-5"))
    check_anthropic(out.body, ANTHROPIC_HEADERS)
    check_anthropic_request(out.body)
    tools = _tools(out.body)
    # additional_tools' namespaces, flattened; the freeform exec tool takes its text in `input`
    assert {"functions__exec", "functions__wait", "clock__sleep"} <= set(tools)
    assert tools["functions__exec"]["input_schema"]["required"] == ["input"]
    assert all("strict" not in t for t in out.body["tools"])
    assert out.tool_origins["functions__exec"] == ToolOrigin("exec", "functions", "custom")
    assert out.tool_origins["clock__sleep"] == ToolOrigin("sleep", "clock", "function")
    assert out.body["system"].startswith("You are Codex")
    if turn:
        call, result = out.body["messages"][-2]["content"][-1], out.body["messages"][-1]["content"][0]
        assert call["name"] == "functions__exec" and "exec_command" in call["input"]["input"]
        assert result["tool_use_id"] == call["id"] and "crosswire-42-ok" in orjson.dumps(result).decode()
    else:  # configuration_update carries reasoning effort low: a thinking budget
        assert out.body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert not any("configuration_update" in w or "additional_tools" in w for w in out.warnings)


@pytest.mark.parametrize("turn", [0, 1], ids=["turn1", "turn2"])
def test_codex_reaches_openai_chat(turn: int) -> None:
    out = convert_request("openai-responses", "openai-chat", CODEX[turn], opts("gpt-5"))
    check_chat(out.body)
    check_openai_request(out.body)
    assert out.body["verbosity"] == "low" and out.body["prompt_cache_key"] == CODEX[turn]["prompt_cache_key"]
    assert out.body["reasoning_effort"] == "low"
    names = [t["function"]["name"] for t in out.body["tools"]]
    assert "functions__exec" in names and all(len(n) <= MAX_TOOL_NAME for n in names)


def test_codex_hosted_tools_are_dropped_or_rejected() -> None:
    body = {**CODEX[0], "tools": [{"type": "web_search"}, {"type": "file_search", "vector_store_ids": ["v"]}]}
    out = convert_request("openai-responses", "openai-chat", body, opts("gpt-5"))
    assert "web_search" not in orjson.dumps(out.body["tools"]).decode()
    assert sum("hosted tool" in w for w in out.warnings) == 2
    from crosswire.bodies import RequestRejected

    with pytest.raises(RequestRejected, match="hosted_tools = 'reject'"):
        convert_request("openai-responses", "openai-chat", body, opts("gpt-5", hosted_tools="reject"))


def test_flat_tool_names_stay_within_the_limit_and_apart() -> None:
    long_a, long_b = "n" * 40, "x" * 30
    a, b = flat_tool_name(long_a, long_b + "a"), flat_tool_name(long_a, long_b + "b")
    assert len(a) <= MAX_TOOL_NAME and len(b) <= MAX_TOOL_NAME and a != b
    assert flat_tool_name("clock", "sleep") == "clock__sleep" and flat_tool_name(None, "Bash") == "Bash"


# --- the answer's way back to Codex ---------------------------------------------------------


ORIGINS = {
    "functions__exec": ToolOrigin("exec", "functions", "custom"),
    "clock__sleep": ToolOrigin("sleep", "clock", "function"),
}
JS = "const r = await tools.exec_command({cmd: 'echo hi'});\ntext(r.output);"


def _events(stream: bytes) -> list[Any]:
    """The stream parsed by the openai SDK's own event models (strict: unknown shapes fail)."""
    from openai.types.responses import ResponseStreamEvent
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    return [adapter.validate_json(data) for _, data in SSEDecoder().feed_pairs(stream)]


@pytest.mark.parametrize("split", [1, 7])
def test_a_custom_call_goes_back_as_custom_tool_call(split: int) -> None:
    args = orjson.dumps({"input": JS}).decode()
    parts = [args[i : i + split] for i in range(0, len(args), split)]  # the arguments as they stream
    upstream = anthropic_stream([], tool=("toolu_1", "functions__exec", parts))
    conv = StreamConverter("anthropic", "openai-responses", Options(tool_origins=ORIGINS))
    events = _events(conv.feed(upstream) + conv.close())
    done = [e for e in events if e.type == "response.output_item.done" and e.item.type == "custom_tool_call"]
    assert len(done) == 1 and (done[0].item.name, done[0].item.namespace, done[0].item.input) == (
        "exec",
        "functions",
        JS,
    )
    assert [e.input for e in events if e.type == "response.custom_tool_call_input.done"] == [JS]
    assert "".join(e.delta for e in events if e.type == "response.custom_tool_call_input.delta") == JS
    assert not any(e.type.startswith("response.function_call_arguments") for e in events)
    final = events[-1].response
    assert final.output[-1].type == "custom_tool_call" and final.output[-1].call_id == "toolu_1"


def test_a_namespaced_function_call_goes_back_with_its_namespace() -> None:
    upstream = anthropic_stream([], tool=("toolu_2", "clock__sleep", ['{"ms":', " 5}"]))
    conv = StreamConverter("anthropic", "openai-responses", Options(tool_origins=ORIGINS))
    events = _events(conv.feed(upstream) + conv.close())
    item = events[-1].response.output[-1]
    assert (item.type, item.name, item.namespace, item.arguments) == ("function_call", "sleep", "clock", '{"ms": 5}')
    whole = convert_response(
        "anthropic",
        "openai-responses",
        anthropic_message("", tool=("toolu_3", "functions__exec", {"input": JS})),
        Options(tool_origins=ORIGINS),
    ).body
    parsed = openai.types.responses.Response.model_validate(whole)
    call = parsed.output[-1]
    assert (call.type, call.name, call.namespace, call.input) == ("custom_tool_call", "exec", "functions", JS)


# --- log hygiene ----------------------------------------------------------------------------


def test_each_warning_is_logged_once_per_flow(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crosswire.addon import Crosswire
    from mitmproxy import http
    from mitmproxy.test import taddons, tflow

    monkeypatch.setenv("OPENAI_API_KEY", "sk-up")
    addon = Crosswire()
    with taddons.context(addon) as tctx:
        tctx.configure(
            addon, crosswire_route=["/v1/messages -> http://up.test/v1/chat/completions"], crosswire_debug=True
        )
        flow = tflow.tflow()
        flow.request = http.Request.make("POST", "http://127.0.0.1:1/v1/messages?beta=true", orjson.dumps(CLAUDE[0]))
        flow.response, flow.live = None, True
        with caplog.at_level(logging.DEBUG, logger="crosswire"):
            addon.requestheaders(flow)  # where crosswire decides, as mitmproxy calls it
            addon.request(flow)
    assert flow.request.url == "http://up.test/v1/chat/completions"  # no ?beta=true for another API
    lines = [r.getMessage() for r in caplog.records if "billing-header" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("crosswire: '/v1/messages -> http://up.test")


# --- a Responses upstream's custom and namespaced calls, for another client (recorded Codex traffic) --


def _anthropic_tool_uses(stream: bytes) -> list[tuple[str, Any]]:
    events = [orjson.loads(data) for _, data in SSEDecoder().feed_pairs(stream)]
    starts = {e["index"]: e["content_block"] for e in events if e["type"] == "content_block_start"}
    args: dict[int, str] = {}
    for e in events:
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta":
            args[e["index"]] = args.get(e["index"], "") + e["delta"]["partial_json"]
    return [(b["name"], orjson.loads(args.get(i) or "{}")) for i, b in starts.items() if b["type"] == "tool_use"]


@pytest.mark.parametrize("chunk", [1, 5, 10_000])
def test_responses_custom_and_namespaced_calls_reach_an_anthropic_client(chunk: int) -> None:
    """What crosswire writes for Codex, read back as a Responses upstream's answer: the calls are
    named as the converted request named the tools, the custom text is the `input` parameter."""
    tricky = JS + ' "quoted" \\ and ünïcode\n'
    up = anthropic_stream([], tool=("toolu_1", "functions__exec", [orjson.dumps({"input": tricky}).decode()]))
    writer = StreamConverter("anthropic", "openai-responses", Options(tool_origins=ORIGINS))
    responses_stream = writer.feed(up) + writer.close()
    reader = StreamConverter("openai-responses", "anthropic", Options())
    out = b"".join(reader.feed(responses_stream[i : i + chunk]) for i in range(0, len(responses_stream), chunk))
    out += reader.close()
    assert _anthropic_tool_uses(out) == [("functions__exec", {"input": tricky})]
    whole = {
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-5",
        "output": [
            {"type": "custom_tool_call", "id": "ctc_1", "call_id": "call_1", "name": "exec", "namespace": "functions",
             "input": tricky},
            {"type": "function_call", "id": "fc_2", "call_id": "call_2", "name": "sleep", "namespace": "clock",
             "arguments": '{"ms": 5}'},
        ],
    }  # fmt: skip
    message = convert_response("openai-responses", "anthropic", whole, Options()).body
    uses = [(b["name"], b["input"]) for b in message["content"] if b["type"] == "tool_use"]
    assert uses == [("functions__exec", {"input": tricky}), ("clock__sleep", {"ms": 5})]
    assert message["stop_reason"] == "tool_use"
