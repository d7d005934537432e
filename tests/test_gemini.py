"""The gemini format in detail: what the hand-written fixtures hold (as google-genai reads them),
how they reach other formats (as the anthropic SDK reads them), requests both ways as Gemini CLI
and Claude Code send them, signatures, call ids, the URL, usage arithmetic and errors.

Expected values are written here from Gemini's documentation and docs/gemini.md, never produced by
crosswire; the matrices (test_stream_matrix, test_bodies_matrix, test_matrix_e2e) cover gemini
against every other format in general.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from crosswire import Options, RequestRejected, convert_error, convert_request, convert_response
from crosswire.convert import StreamConverter
from crosswire.routes import build_route
from formats_support import anthropic_view, check_gemini_request, gemini_body_view, gemini_view
from google.genai import errors as genai_errors
from google.genai import types

FIXTURES = Path(__file__).parent / "fixtures" / "gemini"
GEMINI_PATH = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sig(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def convert(source: str, target: str, body: bytes) -> tuple[bytes, StreamConverter]:
    conv = StreamConverter(source, target, created=1_700_000_000)
    return conv.feed(body) + conv.close(), conv


# --- the fixtures, as google-genai reads them ------------------------------------------------


def test_the_fixtures_hold_what_they_say() -> None:
    views = {p.name: gemini_view(p.read_bytes()) for p in sorted(FIXTURES.glob("*.sse"))}
    text = views["text.sse"]
    assert text.parts == [("text", "Hello, world! ¿Qué tal? 🌍")] and text.stop == "end_turn"
    assert text.usage == {"input": 9, "cached": 0, "output": 12, "reasoning": 0}
    thinking = views["thinking_signature.sse"]
    thought = '**Checking the units**\n\nThe user wants Celsius, so 24 "degrees" <it is>.'
    assert thinking.thinking == [(thought, sig("gemini-2.5 signature over the thoughts #1"))]
    assert thinking.parts == [("text", "It is 24 °C in Paris.")]
    assert thinking.usage == {"input": 40, "cached": 0, "output": 128, "reasoning": 120}
    parallel = views["parallel_calls.sse"]
    assert parallel.calls == [
        ("gcall_rspPar01_0", "get_weather", {"city": "Paris", "units": "c"}),
        ("gcall_rspPar01_1", "get_time", {"tz": "Europe/Paris"}),
    ]
    assert parallel.thinking == [("", sig("signature of the parallel calls"))] and parallel.stop == "tool_use"
    ids = views["calls_with_ids.sse"]
    assert [c[0] for c in ids.calls] == ["gc8fk2ld", "gc8fk2le"] and ids.stop == "tool_use"
    assert ids.thinking == [("I should look the weather up first.", sig("gemini-3 signature of step 1"))]
    assert ids.usage == {"input": 3012, "cached": 2048, "output": 235, "reasoning": 210}
    last = views["signature_last_part.sse"]
    assert last.parts == [("text", "The answer is 42.")]
    assert last.thinking == [("", sig("gemini-3 signature at the end of a text turn"))]
    assert views["thought_then_signature_part.sse"].thinking == [
        ("Thinking it through.", sig("signature closing the thoughts"))
    ]
    assert (views["safety.sse"].stop, views["safety.sse"].parts) == ("refusal", [("text", "Here is how you")])
    assert (views["prompt_blocked.sse"].stop, views["prompt_blocked.sse"].parts) == ("refusal", [])
    assert views["max_tokens.sse"].stop == "max_tokens"
    assert views["malformed_call.sse"].stop == "end_turn"
    assert views["error_midstream.sse"].error == "The model is overloaded. Please try again later."
    assert views["truncated.sse"].stop is None and views["truncated.sse"].error is None
    assert views["usage_every_chunk.sse"].usage == {"input": 7, "cached": 0, "output": 3, "reasoning": 0}


# --- to an anthropic client, as the anthropic SDK reads it --------------------------------------


def anthropic_blocks(body: bytes) -> list[tuple[str, ...]]:
    out, _ = convert("gemini", "anthropic", body)
    events = [json.loads(line[6:]) for line in out.decode().splitlines() if line.startswith("data: ")]
    kinds = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    view = anthropic_view(out)
    assert view.error is None
    return [(k,) for k in kinds]


def test_parallel_calls_reach_anthropic_with_the_signature_before_them() -> None:
    out, conv = convert("gemini", "anthropic", fixture("parallel_calls.sse"))
    view = anthropic_view(out)
    assert anthropic_blocks(fixture("parallel_calls.sse")) == [("text",), ("thinking",), ("tool_use",), ("tool_use",)]
    assert view.thinking == [("", sig("signature of the parallel calls"))]
    assert view.calls == [
        ("gcall_rspPar01_0", "get_weather", {"city": "Paris", "units": "c"}),
        ("gcall_rspPar01_1", "get_time", {"tz": "Europe/Paris"}),
    ]
    assert view.stop == "tool_use" and conv.warnings == []


def test_usage_arithmetic() -> None:
    """promptTokenCount includes the cached tokens; candidatesTokenCount excludes the thoughts."""
    out, _ = convert("gemini", "anthropic", fixture("calls_with_ids.sse"))
    message = next(json.loads(line[6:]) for line in out.decode().splitlines() if '"message_delta"' in line)
    assert message["usage"] == {
        "output_tokens": 235,
        "input_tokens": 3000 - 2048 + 12,
        "cache_read_input_tokens": 2048,
        "output_tokens_details": {"thinking_tokens": 210},  # thoughtsTokenCount, a part of output_tokens
    }
    chat, _ = convert("gemini", "openai-chat", fixture("calls_with_ids.sse"))
    final = [json.loads(line[6:]) for line in chat.decode().splitlines() if '"usage"' in line][-1]["usage"]
    assert final["prompt_tokens"] == 3012
    assert final["prompt_tokens_details"] == {"cached_tokens": 2048, "cache_write_tokens": 0}  # gemini writes none
    assert final["completion_tokens"] == 235 and final["completion_tokens_details"] == {"reasoning_tokens": 210}


def test_usage_written_for_a_gemini_client() -> None:
    out, _ = convert(
        "anthropic", "gemini", (Path(__file__).parent / "fixtures" / "anthropic_cache_usage.sse").read_bytes()
    )
    final = json.loads(out.decode().strip().split("\n\n")[-1][6:])
    usage = types.GenerateContentResponseUsageMetadata.model_validate(final["usageMetadata"])
    source = anthropic_view((Path(__file__).parent / "fixtures" / "anthropic_cache_usage.sse").read_bytes()).usage
    assert usage.prompt_token_count == source["input"] and usage.cached_content_token_count == source["cached"]
    assert usage.candidates_token_count == source["output"]
    assert usage.total_token_count == source["input"] + source["output"]


@pytest.mark.parametrize(
    ("name", "stop", "warned"),
    [
        ("safety.sse", "refusal", "gemini finished with SAFETY"),
        ("malformed_call.sse", "end_turn", "gemini finished with MALFORMED_FUNCTION_CALL: Malformed function call"),
        ("prompt_blocked.sse", "refusal", "gemini blocked the prompt (SAFETY)"),
        ("max_tokens.sse", "max_tokens", None),
    ],
)
def test_endings(name: str, stop: str, warned: str | None) -> None:
    out, conv = convert("gemini", "anthropic", fixture(name))
    assert anthropic_view(out).stop == stop and not conv.errored
    assert [w for w in conv.warnings if warned and w.startswith(warned)] if warned else conv.warnings == []


def test_a_stream_cut_short_and_an_error_frame_fail() -> None:
    out, conv = convert("gemini", "anthropic", fixture("truncated.sse"))
    assert conv.errored and "before a finishReason" in (anthropic_view(out).error or "")
    out, conv = convert("gemini", "anthropic", fixture("error_midstream.sse"))
    assert anthropic_view(out).error == "The model is overloaded. Please try again later."
    assert b'"type":"overloaded_error"' in out


# --- to a Gemini client ------------------------------------------------------------------------

CLAUDE_THINKING_CALL = {
    "id": "msg_01Think",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {
            "type": "thinking",
            "thinking": "The user wants the weather; I call the tool.",
            "signature": "EqQBCkgIARABGAIi+/=",
        },
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {"city": "Rome"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 20},
}


def test_claude_thinking_survives_a_gemini_client_that_drops_thought_parts() -> None:
    """Gemini CLI keeps signatures on text and call parts, drops thought parts from history: the
    Anthropic signature and the text it signs still come back to the Anthropic upstream."""
    answer = convert_response("anthropic", "gemini", CLAUDE_THINKING_CALL, Options()).body
    response = types.GenerateContentResponse.model_validate(answer)
    parts = response.candidates[0].content.parts
    assert [p.thought for p in parts] == [True, None, None, None]
    assert parts[0].text == "The user wants the weather; I call the tool."
    assert [p.function_call.id for p in parts[2:]] == ["toolu_01A", "toolu_01B"]
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    history = [p for p in answer["candidates"][0]["content"]["parts"] if not p.get("thought")]  # what the CLI keeps
    request = {
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
            {"role": "model", "parts": history},
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"id": "toolu_01A", "name": "get_weather", "response": {"output": "sunny"}}},
                    {"functionResponse": {"id": "toolu_01B", "name": "get_weather", "response": {"output": "rain"}}},
                ],
            },
        ],
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 2048}},
    }
    check_gemini_request(request)
    out = convert_request(
        "gemini", "anthropic", request, Options(model_map={"*": "claude-sonnet-4-5"}), path=GEMINI_PATH
    )
    assistant = out.body["messages"][1]["content"]
    assert assistant == [
        {
            "type": "thinking",
            "thinking": "The user wants the weather; I call the tool.",
            "signature": "EqQBCkgIARABGAIi+/=",
        },
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_01B", "name": "get_weather", "input": {"city": "Rome"}},
    ]
    assert out.body["thinking"] == {"type": "enabled", "budget_tokens": 2048} and out.stream
    assert [b["tool_use_id"] for b in out.body["messages"][2]["content"]] == ["toolu_01A", "toolu_01B"]


def test_text_for_a_gemini_client_escapes_line_separators() -> None:
    body = dict(
        CLAUDE_THINKING_CALL, content=[{"type": "text", "text": "a\u2028b\u2029c\x85d"}], stop_reason="end_turn"
    )
    stream, _ = convert("anthropic", "gemini", convert_to_stream(body))
    assert "\u2028".encode() not in stream and gemini_view(stream).parts == [("text", "a\u2028b\u2029c\x85d")]


def convert_to_stream(message: dict[str, Any]) -> bytes:
    from formats_support import Answer, anthropic_sse

    parts = [("text", [b["text"]]) for b in message["content"] if b["type"] == "text"]
    return anthropic_sse(Answer(id="x1", parts=parts, usage={"input": 1, "cache": 0, "output": 1}, stop="end_turn"))


def test_an_error_reaches_a_gemini_client_mid_stream() -> None:
    out, conv = convert(
        "anthropic", "gemini", (Path(__file__).parent / "fixtures" / "anthropic_error.sse").read_bytes()
    )
    assert conv.errored and gemini_view(out).error
    frame = json.loads(out.decode().strip().split("\n\n")[-1][6:])
    assert frame["error"]["code"] in (500, 503) and isinstance(frame["error"]["status"], str)
    assert b"ping" not in out and b": " not in out.split(b"data: ")[0]  # no keep-alive comment either


# --- requests from a Gemini client ---------------------------------------------------------------

# The shape Gemini CLI 0.61.0 sends (captured from the real CLI against a loopback server, written
# here by hand with other values): parametersJsonSchema, ids on calls, thinkingLevel, topK, and its
# routing request's responseJsonSchema with OpenAPI-style upper-case types.
GEMINI_CLI = {
    "contents": [
        {"role": "user", "parts": [{"text": "<session_context>…</session_context>"}, {"text": "Run the tests"}]},
        {
            "role": "model",
            "parts": [
                {"text": "Running them."},
                {
                    "functionCall": {
                        "id": "run_shell_command_17961_0",
                        "name": "run_shell_command",
                        "args": {"command": "pytest"},
                    },
                    "thoughtSignature": sig("gemini signature"),
                },
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "id": "run_shell_command_17961_0",
                        "name": "run_shell_command",
                        "response": {"output": "3 passed"},
                    }
                }
            ],
        },
    ],
    "systemInstruction": {"parts": [{"text": "You are Gemini CLI."}], "role": "user"},
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "run_shell_command",
                    "description": "Runs a shell command",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"command": {"type": "string"}},
                        "required": ["command"],
                    },
                }
            ]
        }
    ],
    "generationConfig": {
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "thinkingConfig": {"includeThoughts": True, "thinkingLevel": "HIGH"},
    },
}


def test_a_gemini_cli_request_reaches_anthropic() -> None:
    check_gemini_request(GEMINI_CLI)
    out = convert_request(
        "gemini", "anthropic", GEMINI_CLI, Options(model_map={"*": "claude-sonnet-4-5"}), path=GEMINI_PATH
    )
    body = out.body
    assert body["model"] == "claude-sonnet-4-5" and body["stream"] is True and body["system"] == "You are Gemini CLI."
    assert body["messages"][0] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "<session_context>…</session_context>"},
            {"type": "text", "text": "Run the tests"},
        ],
    }
    assert body["messages"][1]["content"][-1] == {
        "type": "tool_use",
        "id": "run_shell_command_17961_0",
        "name": "run_shell_command",
        "input": {"command": "pytest"},
    }
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "run_shell_command_17961_0", "content": "3 passed"}
    ]
    assert body["tools"][0]["input_schema"]["required"] == ["command"]
    assert "topK has no equivalent: dropped" in out.warnings
    # Gemini's own signature means nothing to Anthropic; without a signed thinking block before the
    # calls, Anthropic refuses extended thinking on a tool turn, so the high effort is left off
    assert all(b["type"] != "thinking" for b in body["messages"][1]["content"])
    assert "gemini thought signatures can only be checked by Gemini: dropped for another upstream" in out.warnings
    assert "thinking" not in body and any("thinking not enabled" in w for w in out.warnings)


def test_a_json_mode_request_with_openapi_types_reaches_openai() -> None:
    request = {
        "contents": [{"role": "user", "parts": [{"text": "Rate this"}]}],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseJsonSchema": {
                "type": "OBJECT",
                "properties": {"score": {"type": "INTEGER"}, "why": {"type": "STRING", "nullable": True}},
                "required": ["score"],
            },
        },
    }
    out = convert_request("gemini", "openai-chat", request, Options(), path="/v1beta/models/flash:generateContent")
    schema = out.body["response_format"]["json_schema"]["schema"]
    assert schema == {
        "type": "object",
        "properties": {"score": {"type": "integer"}, "why": {"type": ["string", "null"]}},
        "required": ["score"],
    }
    assert out.body["model"] == "flash" and "stream" not in out.body


def test_calls_and_responses_without_ids_get_consistent_invented_ones() -> None:
    request = {
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Oslo and Rome?"}]},
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"output": "cold"}}},
                    {"functionResponse": {"name": "get_weather", "response": {"error": "no data"}}},
                ],
            },
        ]
    }
    check_gemini_request(request)
    out = convert_request("gemini", "anthropic", request, Options(model_map={"*": "c"}), path=GEMINI_PATH)
    calls = [b["id"] for b in out.body["messages"][1]["content"]]
    results = out.body["messages"][2]["content"]
    assert calls == ["gcall_t1_0", "gcall_t1_1"]
    assert [(r["tool_use_id"], r["content"], r.get("is_error")) for r in results] == [
        ("gcall_t1_0", "cold", None),
        ("gcall_t1_1", "no data", True),
    ]
    back = convert_request("anthropic", "gemini", out.body, Options())
    check_gemini_request(back.body)
    assert back.body["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"output": "cold"}}},
                {"functionResponse": {"name": "get_weather", "response": {"error": "no data"}}},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"contents": []}, "contents"),
        ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, "contents[0].role"),
        ({"contents": [{"role": "user", "parts": "hi"}]}, "contents[0].parts"),
        (
            {"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]},
            "contents[0].parts[0].functionResponse",
        ),
        ({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"candidateCount": 2}}, "generationConfig"),
        (
            {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"responseMimeType": "text/x.enum"}},
            "generationConfig",
        ),
        ({"contents": [{"parts": [{"text": "x"}]}], "cachedContent": "cachedContents/abc"}, "cachedContent"),
        (
            {
                "contents": [
                    {"parts": [{"fileData": {"fileUri": "https://generativelanguage.googleapis.com/v1beta/files/x"}}]}
                ]
            },
            "contents[0].parts[0].fileData",
        ),
    ],
)
def test_what_another_upstream_cannot_do_is_rejected_naming_it(body: dict[str, Any], param: str) -> None:
    with pytest.raises(RequestRejected) as info:
        convert_request("gemini", "anthropic", body, Options(model_map={"*": "c"}), path=GEMINI_PATH)
    assert info.value.param == param


def test_built_in_tools_are_dropped_or_rejected_as_the_route_says() -> None:
    body = {"contents": [{"parts": [{"text": "news?"}]}], "tools": [{"googleSearch": {}}]}
    out = convert_request("gemini", "anthropic", body, Options(model_map={"*": "c"}), path=GEMINI_PATH)
    assert "tools" not in out.body
    assert out.warnings == ["tools[0]: the built-in tool 'googleSearch' can only run on a gemini upstream: dropped"]
    with pytest.raises(RequestRejected) as info:
        convert_request("gemini", "anthropic", body, Options(hosted_tools="reject"), path=GEMINI_PATH)
    assert info.value.param == "tools[0].googleSearch"


def test_snake_case_field_names_are_read() -> None:
    body = {
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo="}}]}],
        "generation_config": {"max_output_tokens": 50, "stop_sequences": ["END"]},
    }
    out = convert_request("gemini", "anthropic", body, Options(model_map={"*": "c"}), path=GEMINI_PATH)
    assert out.body["system"] == "Be brief." and out.body["max_tokens"] == 50 and out.body["stop_sequences"] == ["END"]
    assert out.body["messages"][0]["content"][0]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": "iVBORw0KGgo=",
    }


# --- requests to a Gemini upstream ---------------------------------------------------------------


def test_a_claude_code_turn_reaches_gemini_with_its_signatures_in_place() -> None:
    """Claude Code sends back the thinking blocks a Gemini upstream gave it: each signature goes
    back on the part Gemini put it on (the first call; the last text part of a text turn)."""
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "You are Claude Code."}],
        "tools": [
            {
                "name": "Bash",
                "description": "Run",
                "input_schema": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {"command": {"type": "string"}},
                    "additionalProperties": False,
                },
            }
        ],
        "messages": [
            {"role": "user", "content": "Run it"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "", "signature": sig("on the first call")},
                    {"type": "tool_use", "id": "gcall_rsp1_0", "name": "Bash", "input": {"command": "ls"}},
                    {"type": "tool_use", "id": "gcall_rsp1_1", "name": "Bash", "input": {"command": "pwd"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "gcall_rsp1_0", "content": "a b"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "gcall_rsp1_1",
                        "content": [{"type": "text", "text": "/w"}],
                        "is_error": True,
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Done"},
                    {"type": "thinking", "thinking": "", "signature": sig("at the end of the text")},
                ],
            },
            {"role": "user", "content": "Thanks"},
        ],
    }
    out = convert_request("anthropic", "gemini", body, Options(model_map={"*": "gemini-2.5-pro"}))
    check_gemini_request(out.body)
    assert out.model == "gemini-2.5-pro"
    assert out.body["contents"][1:4] == [
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"name": "Bash", "args": {"command": "ls"}},
                    "thoughtSignature": sig("on the first call"),
                },
                {"functionCall": {"name": "Bash", "args": {"command": "pwd"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "Bash", "response": {"output": "a b"}}},
                {"functionResponse": {"name": "Bash", "response": {"error": "/w"}}},
            ],
        },
        {"role": "model", "parts": [{"text": "Done", "thoughtSignature": sig("at the end of the text")}]},
    ]
    (declaration,) = out.body["tools"][0]["functionDeclarations"]
    assert "$schema" not in declaration["parametersJsonSchema"]
    assert out.body["systemInstruction"] == {"parts": [{"text": "You are Claude Code."}]}
    assert out.body["generationConfig"] == {"maxOutputTokens": 4096}


def test_thinking_settings_reach_gemini() -> None:
    base = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}
    for effort, budget in (("low", 1024), ("high", 16384), ("none", 0)):
        out = convert_request("openai-chat", "gemini", {**base, "reasoning_effort": effort}, Options())
        assert out.body["generationConfig"]["thinkingConfig"] == {
            "thinkingBudget": budget,
            "includeThoughts": budget > 0,
        }
    anthropic = {
        "model": "c",
        "max_tokens": 9000,
        "messages": base["messages"],
        "thinking": {"type": "enabled", "budget_tokens": 5000},
    }
    out = convert_request("anthropic", "gemini", anthropic, Options())
    assert out.body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 5000, "includeThoughts": True}


def test_tool_choice_reaches_gemini() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    base = {"model": "g", "messages": [{"role": "user", "content": "hi"}], "tools": tools}
    cases = {
        "auto": {"mode": "AUTO"},
        "none": {"mode": "NONE"},
        "required": {"mode": "ANY"},
    }
    for choice, config in cases.items():
        body = convert_request("openai-chat", "gemini", {**base, "tool_choice": choice}, Options()).body
        assert body["toolConfig"] == {"functionCallingConfig": config}
    forced = {"type": "function", "function": {"name": "f"}}
    body = convert_request("openai-chat", "gemini", {**base, "tool_choice": forced}, Options()).body
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}}
    back = convert_request("gemini", "openai-chat", body, Options(), path=GEMINI_PATH).body
    assert back["tool_choice"] == {"type": "function", "function": {"name": "f"}}


def test_mid_conversation_instructions_and_openai_only_fields_reach_gemini_as_it_can_take_them() -> None:
    body = {
        "model": "g",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": "and now?"},
        ],
        "verbosity": "low",
        "prompt_cache_key": "k1",
    }
    out = convert_request("openai-chat", "gemini", body, Options())
    check_gemini_request(out.body)
    assert out.body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Answer in French."}]}
    assert [c["role"] for c in out.body["contents"]] == ["user", "model", "user"]
    assert "verbosity has no gemini equivalent: dropped" in out.warnings
    assert any(w.startswith("prompt_cache_key has no gemini equivalent") for w in out.warnings)


def test_a_request_without_a_model_is_rejected_for_gemini() -> None:
    with pytest.raises(RequestRejected, match="model_map"):
        convert_request(
            "openai-chat", "gemini", {"model": "", "messages": [{"role": "user", "content": "x"}]}, Options()
        )


# --- the URL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1beta/models/gemini-2.5-pro:generateContent", ("gemini-2.5-pro", False)),
        ("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", ("gemini-2.5-pro", True)),
        ("/v1beta/models/gemini-2.5-pro:streamGenerateContent?key=K&alt=sse", ("gemini-2.5-pro", True)),
        ("/v1/models/gemini%2D2.5:generateContent", ("gemini-2.5", False)),
    ],
)
def test_the_model_and_streaming_are_read_from_the_path(path: str, expected: tuple[str, bool]) -> None:
    from crosswire.formats import gemini_body

    assert gemini_body.read_target(path) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1beta/models/x:streamGenerateContent", "alt=sse"),
        ("/v1beta/models/x:countTokens", "countTokens"),
    ],
)
def test_other_methods_are_answered_with_a_gemini_400(path: str, message: str) -> None:
    with pytest.raises(RequestRejected, match=message):
        convert_request("gemini", "anthropic", {"contents": [{"parts": [{"text": "x"}]}]}, Options(), path=path)


@pytest.mark.parametrize(
    ("upstream", "model", "stream", "path"),
    [
        ("/v1beta/models", "gemini-2.5-pro", True, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"),
        ("/v1beta/models/", "models/gemini-2.5-pro", False, "/v1beta/models/gemini-2.5-pro:generateContent"),
        ("/v1beta", "flash", False, "/v1beta/models/flash:generateContent"),
        ("/v1/models/pinned:generateContent", "flash", True, "/v1/models/flash:streamGenerateContent?alt=sse"),
        (
            "/v1beta/models",
            "../../files/x?key=1",
            False,
            "/v1beta/models/..%2F..%2Ffiles%2Fx%3Fkey%3D1:generateContent",
        ),
    ],
)
def test_the_upstream_path_holds_the_model(upstream: str, model: str, stream: bool, path: str) -> None:
    from crosswire.formats import gemini_body

    assert gemini_body.request_target(upstream, model, stream) == path


def test_a_gemini_route_keeps_the_clients_key_and_alt_behind() -> None:
    env = {"ANTHROPIC_API_KEY": "ak", "GEMINI_API_KEY": "gk"}
    to_claude = build_route(
        {
            "match": "https://generativelanguage.googleapis.com/v1beta/models",
            "upstream": "https://api.anthropic.com/v1/messages",
        },
        source="t",
        name="r",
        environ=env,
    )
    assert (to_claude.client_format, to_claude.upstream_format) == ("gemini", "anthropic")
    assert to_claude.upstream_path(GEMINI_PATH + "&key=CLIENT") == "/v1/messages"
    to_gemini = build_route(
        {"match": "/v1/messages", "upstream": "https://generativelanguage.googleapis.com/v1beta/models"},
        source="t",
        name="r",
        environ=env,
    )
    assert to_gemini.upstream_format == "gemini" and to_gemini.api_key_env == "GEMINI_API_KEY"
    assert to_gemini.upstream_path("/v1/messages?beta=true", "gemini-2.5-pro", True) == (
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"  # Claude Code's ?beta=true is its own API's
    )


# --- whole bodies and errors ---------------------------------------------------------------------


def test_a_whole_gemini_answer_reaches_a_chat_client() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "Hmm.", "thought": True},
                        {"text": "Both:", "thoughtSignature": sig("s1")},
                        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 5,
            "thoughtsTokenCount": 3,
            "totalTokenCount": 18,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "rspWhole1",
    }
    assert gemini_body_view(body).calls == [("gcall_rspWhole1_0", "get_weather", {"city": "Oslo"})]
    out = convert_response("gemini", "openai-chat", body, Options(created=1))
    choice = out.body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] == "Both:"
    assert choice["message"]["reasoning_content"] == "Hmm."
    assert choice["message"]["tool_calls"][0]["id"] == "gcall_rspWhole1_0"
    assert out.body["usage"]["completion_tokens"] == 8 and out.body["id"] == "chatcmpl-rspWhole1"


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (
            {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}},
            400,
            "invalid_request_error",
        ),
        (
            {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}},
            429,
            "rate_limit_error",
        ),
        ({"error": {"code": 503, "message": "Overloaded.", "status": "UNAVAILABLE"}}, 503, "overloaded_error"),
        ([{"error": {"code": 404, "message": "No model.", "status": "NOT_FOUND"}}], 404, "not_found_error"),
        (
            {"error": {"code": 400, "message": "Location.", "status": "FAILED_PRECONDITION"}},
            400,
            "invalid_request_error",
        ),
    ],
)
def test_gemini_errors_reach_anthropic(body: Any, status: int, kind: str) -> None:
    out = convert_error("gemini", "anthropic", json.dumps(body).encode(), status, Options())
    assert out.status == status and out.body["error"]["type"] == kind


def test_an_overloaded_anthropic_reaches_a_gemini_client_as_503() -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    out = convert_error("anthropic", "gemini", json.dumps(body).encode(), 529, Options())
    assert out.status == 503 and out.body == {"error": {"code": 503, "message": "Overloaded", "status": "UNAVAILABLE"}}
    with pytest.raises(genai_errors.ServerError) as info:
        genai_errors.APIError.raise_error(out.status, out.body, None)
    assert info.value.status == "UNAVAILABLE"
