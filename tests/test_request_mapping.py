"""Request conversion anthropic <-> openai-chat: one test per row of docs/requests.md.

Every converted request is judged by the target SDK's request types, the body its client would
send, and the target API's documented conversation rules (tests/bodies_judge.py). Expected values
are written by hand from the providers' documentation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from bodies_judge import check_anthropic_request, check_openai_request
from crosswire import Converted, Options, RequestRejected, convert_request

USER_HI = {"role": "user", "content": "hi"}


def a2o(body: dict[str, Any], **options: Any) -> Converted:
    """anthropic client request -> openai-chat upstream request, judged valid."""
    out = convert_request(
        "anthropic", "openai-chat", {"model": "claude-x", "max_tokens": 1000, **body}, Options(**options)
    )
    check_openai_request(out.body)
    return out


def o2a(body: dict[str, Any], **options: Any) -> Converted:
    """openai-chat client request -> anthropic upstream request, judged valid."""
    out = convert_request("openai-chat", "anthropic", {"model": "gpt-x", **body}, Options(**options))
    check_anthropic_request(out.body)
    return out


def a2a(body: dict[str, Any], **options: Any) -> dict[str, Any]:
    """anthropic -> openai-chat -> anthropic."""
    there = a2o(body, **options)
    back = convert_request("openai-chat", "anthropic", there.body, Options(**options))
    check_anthropic_request(back.body)
    return back.body


def o2o(body: dict[str, Any], **options: Any) -> dict[str, Any]:
    there = o2a(body, **options)
    back = convert_request("anthropic", "openai-chat", there.body, Options(**options))
    check_openai_request(back.body)
    return back.body


# --- system ------------------------------------------------------------------------------------


def test_system_string_and_blocks_become_system_messages() -> None:
    out = a2o({"system": "Be brief.", "messages": [USER_HI]})
    assert out.body["messages"][0] == {"role": "system", "content": "Be brief."}
    blocks = [{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}]
    out = a2o({"system": blocks, "messages": [USER_HI]})
    assert out.body["messages"][:2] == [{"role": "system", "content": "One."}, {"role": "system", "content": "Two."}]
    assert a2a({"system": blocks, "messages": [USER_HI]})["system"] == blocks


def test_system_and_developer_messages_are_joined_in_order() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "A"},
            {"role": "developer", "content": [{"type": "text", "text": "B"}]},
            USER_HI,
        ]
    }
    out = o2a(body)
    assert out.body["system"] == [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}]
    assert out.body["messages"] == [USER_HI]
    assert out.warnings == []


def test_late_system_message_is_folded_in_with_a_warning() -> None:
    body = {"messages": [{"role": "system", "content": "A"}, USER_HI, {"role": "system", "content": "Late"}]}
    out = o2a(body)
    assert out.body["system"] == [{"type": "text", "text": "A"}, {"type": "text", "text": "Late"}]
    assert any("folded into the system prompt" in w for w in out.warnings)


# --- messages ----------------------------------------------------------------------------------


def test_text_parts_both_ways() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    out = o2a({"messages": [{"role": "user", "content": parts}]})
    assert out.body["messages"] == [{"role": "user", "content": parts}]
    out = a2o({"messages": [{"role": "user", "content": parts}]})
    assert out.body["messages"] == [{"role": "user", "content": parts}]


def test_base64_image_becomes_data_url_and_back() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    body = {"messages": [{"role": "user", "content": [image, {"type": "text", "text": "what is it?"}]}]}
    out = a2o(body)
    assert out.body["messages"][0]["content"][0] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }
    assert a2a(body)["messages"] == body["messages"]


def test_url_image_becomes_url_source_and_back() -> None:
    part = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "cat?"}, part]}]}
    out = o2a(body)
    assert out.body["messages"][0]["content"][1] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
    }
    assert o2o(body)["messages"] == body["messages"]


def test_image_detail_is_dropped() -> None:
    part = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"}}
    out = o2a({"messages": [{"role": "user", "content": [part]}]})
    assert out.body["messages"][0]["content"][0]["source"] == {"type": "url", "url": "https://example.com/cat.jpg"}


def test_pdf_document_becomes_file_part_and_back() -> None:
    doc = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        "title": "a.pdf",
    }
    body = {"messages": [{"role": "user", "content": [doc, {"type": "text", "text": "summarise"}]}]}
    out = a2o(body)
    assert out.body["messages"][0]["content"][0] == {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
    }
    assert a2a(body)["messages"] == body["messages"]


def test_consecutive_same_role_messages_are_merged_for_anthropic() -> None:
    body = {"messages": [USER_HI, {"role": "user", "content": "again"}]}
    out = o2a(body)
    assert out.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "again"}]}
    ]


def test_conversation_starting_with_assistant_gets_a_user_turn() -> None:
    out = o2a({"messages": [{"role": "assistant", "content": "Hello!"}, USER_HI]})
    assert out.body["messages"][0]["role"] == "user"
    assert out.body["messages"][1:] == [{"role": "assistant", "content": "Hello!"}, USER_HI]
    assert any("does not start with a user message" in w for w in out.warnings)


def test_empty_text_is_not_sent_to_anthropic() -> None:
    body = {"messages": [{"role": "user", "content": ""}, {"role": "user", "content": "real"}]}
    assert o2a(body).body["messages"] == [{"role": "user", "content": "real"}]


# --- tool calls and results --------------------------------------------------------------------

CALLS = [
    {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}},
    {"id": "call_2", "type": "function", "function": {"name": "time", "arguments": '{"tz":"CET"}'}},
]
OPENAI_TOOL_LOOP = [
    {"role": "user", "content": "Weather and time in Paris?"},
    {"role": "assistant", "content": "Checking.", "tool_calls": CALLS},
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "tool", "tool_call_id": "call_2", "content": "14:00"},
]
ANTHROPIC_TOOL_LOOP = [
    {"role": "user", "content": "Weather and time in Paris?"},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_2", "name": "time", "input": {"tz": "CET"}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "call_2", "content": "14:00"},
        ],
    },
]


def test_tool_calls_and_tool_messages_become_tool_use_and_tool_results() -> None:
    out = o2a({"messages": OPENAI_TOOL_LOOP})
    assert out.body["messages"] == ANTHROPIC_TOOL_LOOP
    assert out.warnings == []


def test_tool_use_and_tool_results_become_tool_calls_and_tool_messages() -> None:
    out = a2o({"messages": ANTHROPIC_TOOL_LOOP})
    calls = out.body["messages"][1]["tool_calls"]
    assert [c["id"] for c in calls] == ["call_1", "call_2"]
    assert [c["function"]["name"] for c in calls] == ["weather", "time"]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [{"city": "Paris"}, {"tz": "CET"}]
    assert out.body["messages"][2:] == OPENAI_TOOL_LOOP[2:]


def test_tool_loop_round_trips() -> None:
    assert a2a({"messages": ANTHROPIC_TOOL_LOOP})["messages"] == ANTHROPIC_TOOL_LOOP
    assert o2o({"messages": OPENAI_TOOL_LOOP})["messages"] == OPENAI_TOOL_LOOP


def test_invalid_json_arguments_pass_through_as_a_string_with_a_warning() -> None:
    calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]
    body = {"messages": [USER_HI, {"role": "assistant", "content": None, "tool_calls": calls}]}
    out = convert_request("openai-chat", "anthropic", {"model": "m", **body}, Options())
    assert out.body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "f", "input": "{not json"}
    ]
    assert any("not a JSON object" in w for w in out.warnings)
    back = convert_request("anthropic", "openai-chat", out.body, Options())
    assert back.body["messages"][1]["tool_calls"][0]["function"]["arguments"] == "{not json"


def test_user_text_after_tool_messages_follows_the_tool_results() -> None:
    body = {"messages": [*OPENAI_TOOL_LOOP, {"role": "user", "content": "and tomorrow?"}]}
    out = o2a(body)
    assert out.body["messages"][2]["content"][2] == {"type": "text", "text": "and tomorrow?"}


def test_tool_result_is_error_becomes_an_error_prefix_with_a_warning() -> None:
    loop = [*ANTHROPIC_TOOL_LOOP[:2], {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "boom", "is_error": True},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "14:00"},
    ]}]  # fmt: skip
    out = a2o({"messages": loop})
    assert out.body["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "Error: boom"}
    assert out.body["messages"][3] == {"role": "tool", "tool_call_id": "call_2", "content": "14:00"}
    assert any("is_error" in w for w in out.warnings)


def test_tool_result_texts_and_images_are_kept() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
    texts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    loop = [*ANTHROPIC_TOOL_LOOP[:2], {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1", "content": texts},
        {"type": "tool_result", "tool_use_id": "call_2", "content": [{"type": "text", "text": "chart:"}, image]},
    ]}]  # fmt: skip
    out = a2o({"messages": loop})
    tool1, tool2, user = out.body["messages"][2:]
    assert tool1["content"] == [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert tool2 == {"role": "tool", "tool_call_id": "call_2", "content": "chart:"}
    assert user["role"] == "user"
    assert user["content"][-1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    assert any("cannot carry images" in w for w in out.warnings)
    back = convert_request("openai-chat", "anthropic", out.body, Options()).body
    assert back["messages"][2]["content"][0]["content"] == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b"},
    ]


# --- thinking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("effort", "budget"), [("low", 1024), ("medium", 4096), ("high", 16384)])
def test_reasoning_effort_maps_to_the_budget_table(effort: str, budget: int) -> None:
    out = o2a({"messages": [USER_HI], "reasoning_effort": effort, "max_completion_tokens": 32000})
    assert out.body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    back = convert_request("anthropic", "openai-chat", out.body, Options())
    assert back.body["reasoning_effort"] == effort


@pytest.mark.parametrize(
    ("budget", "effort"),
    [(1024, "low"), (2000, "low"), (3000, "medium"), (8000, "medium"), (9000, "high"), (64000, "high")],
)
def test_thinking_budget_maps_to_the_nearest_effort(budget: int, effort: str) -> None:
    out = a2o({"max_tokens": 100000, "thinking": {"type": "enabled", "budget_tokens": budget}, "messages": [USER_HI]})
    assert out.body["reasoning_effort"] == effort


def test_effort_without_max_tokens_leaves_room_after_the_budget() -> None:
    out = o2a({"messages": [USER_HI], "reasoning_effort": "high"})
    assert out.body["thinking"]["budget_tokens"] == 16384
    assert out.body["max_tokens"] == 8192 + 16384


def test_budget_above_max_tokens_is_lowered() -> None:
    out = o2a({"messages": [USER_HI], "reasoning_effort": "high", "max_completion_tokens": 5000})
    assert out.body["thinking"]["budget_tokens"] == 4999
    assert out.body["max_tokens"] == 5000


def test_thinking_drops_temperature_and_forced_tool_choice_drops_thinking() -> None:
    out = o2a({"messages": [USER_HI], "reasoning_effort": "low", "temperature": 0.2})
    assert "temperature" not in out.body and any("temperature" in w for w in out.warnings)
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    out = o2a({"messages": [USER_HI], "reasoning_effort": "low", "tools": [tool], "tool_choice": "required"})
    assert "thinking" not in out.body and out.body["tool_choice"] == {"type": "any"}


@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-4-7",
        "claude-opus-4-7-20260416",
        "claude-opus-5-5",
        "claude-sonnet-5",
        "anthropic.claude-opus-4-8-v1:0",
    ],
)
@pytest.mark.parametrize(
    ("asked", "effort"), [("minimal", "low"), ("low", "low"), ("high", "high"), ("xhigh", "xhigh")]
)
def test_models_from_opus_4_7_get_adaptive_thinking_and_no_sampling(model: str, asked: str, effort: str) -> None:
    # Opus 4.7 on: temperature/top_p are a 400 ("deprecated for this model"), budget_tokens is gone
    body = {"messages": [USER_HI], "reasoning_effort": asked, "temperature": 0.7, "top_p": 0.9}
    out = o2a(body, model_map={"*": model})
    assert out.body["thinking"] == {"type": "adaptive"}
    assert out.body["output_config"] == {"effort": effort}
    assert not {"temperature", "top_p", "top_k"} & out.body.keys()
    assert any(model in w and "temperature" in w for w in out.warnings)
    plain = o2a({"messages": [USER_HI], "temperature": 0.7}, model_map={"*": model})
    assert "thinking" not in plain.body and "temperature" not in plain.body


def test_adaptive_effort_and_a_json_schema_share_output_config() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    rf = {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}
    out = o2a(
        {"messages": [USER_HI], "reasoning_effort": "medium", "response_format": rf}, model_map={"*": "claude-opus-4-7"}
    )
    assert out.body["output_config"] == {"effort": "medium", "format": {"type": "json_schema", "schema": schema}}


@pytest.mark.parametrize(
    "model", ["claude-opus-4-1", "claude-opus-4-20250514", "claude-sonnet-4-5-20250929", "claude-3-5-haiku"]
)
@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")  # the SDK on Opus 4's dated id
def test_older_models_keep_budgets_and_sampling(model: str) -> None:
    out = o2a({"messages": [USER_HI], "temperature": 0.5}, model_map={"*": model})
    assert out.body["temperature"] == 0.5
    out = o2a({"messages": [USER_HI], "reasoning_effort": "low"}, model_map={"*": model})
    assert out.body["thinking"] == {"type": "enabled", "budget_tokens": 1024}


SIGNED = {"type": "thinking", "thinking": "Let me look it up.", "signature": "EqQBCkYIBxgCKkB=="}
REDACTED = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}


def _thinking_loop() -> list[dict[str, Any]]:
    loop = [dict(m) for m in ANTHROPIC_TOOL_LOOP]
    loop[1] = {"role": "assistant", "content": [SIGNED, REDACTED, *ANTHROPIC_TOOL_LOOP[1]["content"]]}
    return loop


def test_xml_mode_round_trips_signed_thinking_in_a_tool_loop() -> None:
    body = {"max_tokens": 8000, "thinking": {"type": "enabled", "budget_tokens": 4096}, "messages": _thinking_loop()}
    out = a2o(body, thinking="xml")
    content = out.body["messages"][1]["content"]
    assert content.startswith('<thinking signature="EqQBCkYIBxgCKkB==">Let me look it up.</thinking><redacted_thinking')
    back = a2a(body, thinking="xml")
    assert back["messages"] == body["messages"]
    assert back["thinking"] == body["thinking"]


def test_reasoning_content_mode_sends_thinking_as_reasoning_content() -> None:
    out = a2o({"messages": _thinking_loop()})
    assistant = out.body["messages"][1]
    assert assistant["reasoning_content"] == "Let me look it up."
    assert assistant["content"] == "Checking."
    assert any("redacted_thinking" in w for w in out.warnings)


def test_reasoning_content_becomes_unsigned_thinking_that_anthropic_cannot_take() -> None:
    loop = [dict(m) for m in OPENAI_TOOL_LOOP]
    loop[1] = {**loop[1], "reasoning_content": "I should call both."}
    out = o2a({"messages": loop, "reasoning_effort": "medium"})
    assert out.body["messages"][1]["content"][0] == {"type": "text", "text": "Checking."}
    assert any("without a signature" in w for w in out.warnings)
    # the tool loop's assistant turn has no signed thinking: the API would reject thinking now
    assert "thinking" not in out.body
    assert any("thinking not enabled" in w for w in out.warnings)


def test_adaptive_thinking_is_approximated_by_effort() -> None:
    out = a2o({"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}, "messages": [USER_HI]})
    assert out.body["reasoning_effort"] == "high"
    assert any("adaptive" in w for w in out.warnings)


# --- tools -------------------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_tool_definitions_both_ways() -> None:
    a_tool = {"name": "weather", "description": "Get weather", "input_schema": SCHEMA, "strict": True}
    o_tool = {
        "type": "function",
        "function": {"name": "weather", "description": "Get weather", "parameters": SCHEMA, "strict": True},
    }
    assert a2o({"messages": [USER_HI], "tools": [a_tool]}).body["tools"] == [o_tool]
    assert o2a({"messages": [USER_HI], "tools": [o_tool]}).body["tools"] == [a_tool]
    assert a2a({"messages": [USER_HI], "tools": [a_tool]})["tools"] == [a_tool]


def test_tool_without_parameters_gets_an_empty_object_schema() -> None:
    out = o2a({"messages": [USER_HI], "tools": [{"type": "function", "function": {"name": "now"}}]})
    assert out.body["tools"] == [{"name": "now", "input_schema": {"type": "object", "properties": {}}}]


def test_server_tools_are_dropped_with_a_warning() -> None:
    tools = [{"type": "web_search_20250305", "name": "web_search"}, {"name": "f", "input_schema": SCHEMA}]
    out = a2o({"messages": [USER_HI], "tools": tools})
    assert [t["function"]["name"] for t in out.body["tools"]] == ["f"]
    assert any("hosted tool 'web_search'" in w and "openai-chat" in w for w in out.warnings)


TOOL_A = {"name": "f", "input_schema": SCHEMA}
TOOL_O = {"type": "function", "function": {"name": "f", "parameters": SCHEMA}}


@pytest.mark.parametrize(
    ("anthropic_choice", "openai_choice"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "none"}, "none"),
        ({"type": "any"}, "required"),
        ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
    ],
)
def test_tool_choice_both_ways(anthropic_choice: dict[str, Any], openai_choice: Any) -> None:
    assert (
        a2o({"messages": [USER_HI], "tools": [TOOL_A], "tool_choice": anthropic_choice}).body["tool_choice"]
        == openai_choice
    )
    assert (
        o2a({"messages": [USER_HI], "tools": [TOOL_O], "tool_choice": openai_choice}).body["tool_choice"]
        == anthropic_choice
    )


def test_parallel_tool_calls_false_is_disable_parallel_tool_use() -> None:
    out = o2a({"messages": [USER_HI], "tools": [TOOL_O], "parallel_tool_calls": False})
    assert out.body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    choice = {"type": "any", "disable_parallel_tool_use": True}
    out = a2o({"messages": [USER_HI], "tools": [TOOL_A], "tool_choice": choice})
    assert out.body["tool_choice"] == "required" and out.body["parallel_tool_calls"] is False
    assert a2a({"messages": [USER_HI], "tools": [TOOL_A], "tool_choice": choice})["tool_choice"] == choice


# --- parameters --------------------------------------------------------------------------------


def test_max_tokens() -> None:
    assert a2o({"max_tokens": 321, "messages": [USER_HI]}).body["max_completion_tokens"] == 321
    assert o2a({"max_completion_tokens": 321, "messages": [USER_HI]}).body["max_tokens"] == 321
    assert o2a({"max_tokens": 123, "messages": [USER_HI]}).body["max_tokens"] == 123
    assert o2a({"messages": [USER_HI]}).body["max_tokens"] == 8192
    assert o2a({"messages": [USER_HI]}, max_tokens=100).body["max_tokens"] == 100


def test_stop_string_list_and_the_openai_limit() -> None:
    assert o2a({"stop": "END", "messages": [USER_HI]}).body["stop_sequences"] == ["END"]
    assert o2a({"stop": ["a", "b"], "messages": [USER_HI]}).body["stop_sequences"] == ["a", "b"]
    assert a2o({"stop_sequences": ["a", "b"], "messages": [USER_HI]}).body["stop"] == ["a", "b"]
    out = a2o({"stop_sequences": ["1", "2", "3", "4", "5"], "messages": [USER_HI]})
    assert out.body["stop"] == ["1", "2", "3", "4"] and any("at most 4" in w for w in out.warnings)


@pytest.mark.parametrize("param", ["temperature", "top_p"])
def test_temperature_and_top_p(param: str) -> None:
    body = {param: 0.3, "messages": [USER_HI]}
    assert a2o(body).body[param] == 0.3
    assert a2a(body)[param] == 0.3
    assert o2o(body)[param] == 0.3


def test_temperature_is_clamped_and_wins_over_top_p_for_anthropic() -> None:
    out = o2a({"temperature": 1.6, "top_p": 0.5, "messages": [USER_HI]})
    assert out.body["temperature"] == 1 and any("temperature 1.6" in w for w in out.warnings)
    assert "top_p" not in out.body and any("top_p dropped" in w for w in out.warnings)


def test_top_k_is_dropped_with_a_warning() -> None:
    out = a2o({"top_k": 5, "messages": [USER_HI]})
    assert "top_k" not in out.body and any("top_k" in w for w in out.warnings)


def test_metadata_user_id_is_user() -> None:
    assert a2o({"metadata": {"user_id": "u-1"}, "messages": [USER_HI]}).body["user"] == "u-1"
    assert o2a({"user": "u-1", "messages": [USER_HI]}).body["metadata"] == {"user_id": "u-1"}
    assert o2a({"safety_identifier": "u-2", "messages": [USER_HI]}).body["metadata"] == {"user_id": "u-2"}


def test_stream_is_kept_and_openai_upstreams_report_usage() -> None:
    out = a2o({"stream": True, "messages": [USER_HI]})
    assert out.body["stream"] is True and out.body["stream_options"] == {"include_usage": True}
    out = o2a({"stream": True, "stream_options": {"include_usage": False}, "messages": [USER_HI]})
    assert out.body["stream"] is True
    assert "stream" not in a2o({"messages": [USER_HI]}).body


def test_json_schema_response_format_becomes_structured_output() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA, "strict": True}}
    out = o2a({"response_format": fmt, "messages": [USER_HI]})
    assert out.body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    back = convert_request("anthropic", "openai-chat", out.body, Options())
    assert back.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": SCHEMA, "strict": True},
    }
    assert o2a({"response_format": {"type": "text"}, "messages": [USER_HI]}).body.get("output_config") is None


def test_anthropic_structured_output_both_spellings() -> None:
    expected = {"type": "json_schema", "json_schema": {"name": "response", "schema": SCHEMA, "strict": True}}
    fmt = {"type": "json_schema", "schema": SCHEMA}
    assert a2o({"output_config": {"format": fmt}, "messages": [USER_HI]}).body["response_format"] == expected
    assert a2o({"output_format": fmt, "messages": [USER_HI]}).body["response_format"] == expected


def test_json_object_becomes_a_system_instruction_with_a_warning() -> None:
    out = o2a({"response_format": {"type": "json_object"}, "messages": [{"role": "system", "content": "S"}, USER_HI]})
    assert out.body["system"][0] == {"type": "text", "text": "S"} and "JSON object" in out.body["system"][1]["text"]
    assert any("json_object" in w for w in out.warnings)


def test_n_above_one_is_rejected() -> None:
    with pytest.raises(RequestRejected) as info:
        convert_request("openai-chat", "anthropic", {"model": "m", "n": 2, "messages": [USER_HI]}, Options())
    assert info.value.param == "n"
    assert o2a({"n": 1, "messages": [USER_HI]}).warnings == []


@pytest.mark.parametrize(
    "field", ["logprobs", "seed", "frequency_penalty", "presence_penalty", "logit_bias", "top_logprobs"]
)
def test_sampling_extras_are_dropped_with_a_warning(field: str) -> None:
    value = {"logprobs": True, "seed": 7, "logit_bias": {"50256": -100}, "top_logprobs": 2}.get(field, 0.5)
    out = o2a({field: value, "messages": [USER_HI]})
    assert field not in out.body and any(field in w for w in out.warnings)


def test_cache_control_is_dropped_with_a_warning() -> None:
    block = {"type": "text", "text": "long document", "cache_control": {"type": "ephemeral"}}
    out = a2o({"system": [block], "messages": [{"role": "user", "content": [block]}]})
    assert out.body["messages"][1] == {"role": "user", "content": "long document"}
    assert any("cache_control" in w for w in out.warnings)


def test_model_map() -> None:
    mapping = {"gpt-x": "claude-model-a", "*": "claude-model-b"}
    assert o2a({"messages": [USER_HI]}, model_map=mapping).body["model"] == "claude-model-a"
    assert o2a({"model": "other", "messages": [USER_HI]}, model_map=mapping).body["model"] == "claude-model-b"
    assert o2a({"model": "other", "messages": [USER_HI]}).body["model"] == "other"


# --- whole-request round trips -----------------------------------------------------------------

FULL_ANTHROPIC = {
    "model": "claude-model-a",
    "max_tokens": 20000,
    "system": "You are terse.",
    "thinking": {"type": "enabled", "budget_tokens": 4096},
    "messages": _thinking_loop(),
    "stop_sequences": ["END"],
    "top_p": 0.97,
    "stream": True,
    "metadata": {"user_id": "user-1"},
    "tools": [
        {"name": "weather", "description": "w", "input_schema": SCHEMA},
        {"name": "time", "input_schema": SCHEMA},
    ],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
}

FULL_OPENAI = {
    "model": "gpt-4.1",
    "messages": [{"role": "system", "content": "You are terse."}, *OPENAI_TOOL_LOOP],
    "max_completion_tokens": 2000,
    "temperature": 0.5,
    "stop": ["END", "STOP"],
    "stream": True,
    "stream_options": {"include_usage": True},
    "tools": [
        TOOL_O,
        {
            "type": "function",
            "function": {"name": "weather", "description": "w", "parameters": SCHEMA, "strict": False},
        },
    ],
    "tool_choice": {"type": "function", "function": {"name": "f"}},
    "parallel_tool_calls": False,
    "response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": SCHEMA, "strict": True}},
    "user": "user-1",
}


def test_full_anthropic_request_round_trips() -> None:
    back = a2a(FULL_ANTHROPIC, thinking="xml")
    assert back == FULL_ANTHROPIC


def test_full_openai_request_round_trips() -> None:
    """Everything but ``strict: false``, which crosswire never writes into anthropic tools (it is the
    default there, and anthropic-compatible servers refuse the field)."""
    out = o2o(FULL_OPENAI)
    expected = json.loads(json.dumps(FULL_OPENAI))
    del expected["tools"][1]["function"]["strict"]
    assert out == expected


# --- the remaining rows: legacy, approximated and dropped fields -------------------------------


def test_legacy_functions_are_read_as_tools() -> None:
    body = {
        "messages": [
            USER_HI,
            {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": '{"a": 1}'}},
            {"role": "user", "content": "ok"},
        ],
        "functions": [{"name": "f", "parameters": SCHEMA}],
        "function_call": {"name": "f"},
    }
    out = convert_request("openai-chat", "anthropic", {"model": "g", **body}, Options()).body
    assert out["tools"] == [{"name": "f", "input_schema": SCHEMA}]
    assert out["tool_choice"] == {"type": "tool", "name": "f"}
    assert out["messages"][1]["content"] == [{"type": "tool_use", "id": "call_0", "name": "f", "input": {"a": 1}}]


def test_assistant_refusal_in_history_becomes_text() -> None:
    body = {"messages": [USER_HI, {"role": "assistant", "content": None, "refusal": "I can't."}, USER_HI]}
    assert o2a(body).body["messages"][1] == {"role": "assistant", "content": "I can't."}


def test_allowed_tools_choice_is_approximated_as_auto() -> None:
    choice = {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [TOOL_O]}}
    out = o2a({"messages": [USER_HI], "tools": [TOOL_O], "tool_choice": choice})
    assert out.body["tool_choice"] == {"type": "auto"} and any("allowed_tools" in w for w in out.warnings)


def test_text_document_becomes_text() -> None:
    doc = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "notes"}}
    out = a2o({"messages": [{"role": "user", "content": [doc]}]})
    assert out.body["messages"][0] == {"role": "user", "content": "notes"}


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        (
            {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}}]},
            "input_audio",
        ),
        ({"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}, "file_id"),
        ({"role": "user", "content": "hi", "name": "bob"}, "names"),
    ],
)
def test_openai_parts_without_equivalent_are_dropped(message: dict[str, Any], needle: str) -> None:
    out = o2a({"messages": [message, {"role": "user", "content": "next"}]})
    merged = [{"type": "text", "text": "hi"}, {"type": "text", "text": "next"}]
    assert out.body["messages"] == [{"role": "user", "content": merged if message["content"] == "hi" else "next"}]
    assert any(needle in w for w in out.warnings)


def test_unknown_fields_are_dropped_with_a_warning_naming_them() -> None:
    out = o2a(
        {
            "messages": [USER_HI],
            "store": True,
            "service_tier": "flex",
            "tools": [{"type": "custom", "custom": {"name": "g"}}],
        }
    )
    assert "store" not in out.body and "service_tier" not in out.body and "tools" not in out.body
    assert any("'store'" in w for w in out.warnings) and any("'service_tier'" in w for w in out.warnings)
    assert any("'custom'" in w for w in out.warnings)
    out = a2o({"messages": [USER_HI], "container": "c1", "service_tier": "auto"})
    assert any("'container'" in w for w in out.warnings) and any("'service_tier'" in w for w in out.warnings)


def test_citations_are_dropped_with_a_warning() -> None:
    cite = {"type": "char_location", "cited_text": "x", "document_index": 0, "start_char_index": 0, "end_char_index": 1}
    body = {
        "messages": [
            USER_HI,
            {"role": "assistant", "content": [{"type": "text", "text": "A", "citations": [cite]}]},
            USER_HI,
        ]
    }
    out = a2o(body)
    assert out.body["messages"][1] == {"role": "assistant", "content": "A"}
    assert any("citations" in w for w in out.warnings)


# --- small losses found by held-out cases --------------------------------------------------------


def test_a_system_message_of_several_text_parts_keeps_its_parts() -> None:
    parts = [{"type": "text", "text": "Rule one."}, {"type": "text", "text": "Rule two."}]
    out = o2a({"messages": [{"role": "system", "content": parts}, USER_HI]})
    assert out.body["system"] == parts  # two anthropic system blocks, not one joined string
    check_anthropic_request(out.body)


@pytest.mark.parametrize("wrong", ["100", 1.5, True, [100]])
def test_max_tokens_of_the_wrong_type_is_rejected_even_beside_max_completion_tokens(wrong: Any) -> None:
    body = {"model": "m", "max_completion_tokens": 100, "max_tokens": wrong, "messages": [USER_HI]}
    with pytest.raises(RequestRejected) as info:
        convert_request("openai-chat", "anthropic", body, Options())
    assert info.value.param == "max_tokens"
