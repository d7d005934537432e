"""Bad requests: RequestRejected naming the field, answered as a 400 in the client's format; any
JSON at all yields a request or RequestRejected, never another exception."""

from __future__ import annotations

import copy
from typing import Any

import anthropic
import openai
import pytest
from bodies_judge import anthropic_parses, check_anthropic_request, check_openai_request, openai_parses
from crosswire import Options, RequestRejected, convert_request, error_body
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

A_OK = {"model": "c", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
O_OK = {"model": "g", "messages": [{"role": "user", "content": "hi"}]}

CASES = [
    ("anthropic", b"{not json", None),
    ("anthropic", b"[1, 2]", None),
    ("anthropic", {"max_tokens": 10, "messages": []}, "model"),
    ("anthropic", {"model": "c", "messages": [{"role": "user", "content": "hi"}]}, "max_tokens"),
    ("anthropic", {"model": "c", "max_tokens": "10", "messages": [{"role": "user", "content": "hi"}]}, "max_tokens"),
    ("anthropic", {**A_OK, "messages": []}, "messages"),
    ("anthropic", {**A_OK, "messages": [{"role": "critic", "content": "x"}]}, "messages[0].role"),
    (
        "anthropic",
        {
            **A_OK,
            "messages": [
                {"role": "system", "content": [{"type": "image", "source": {"type": "url", "url": "https://x/i.png"}}]}
            ],
        },
        "messages[0].content",
    ),
    ("anthropic", {**A_OK, "messages": [{"role": "user", "content": 3}]}, "messages[0].content"),
    (
        "anthropic",
        {**A_OK, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
        "messages[0].content[0].text",
    ),
    ("anthropic", {**A_OK, "messages": [{"role": "user", "content": ["hi"]}]}, "messages[0].content[0]"),
    ("anthropic", {**A_OK, "tools": [{"name": "f"}]}, "tools[0].input_schema"),
    ("anthropic", {**A_OK, "tool_choice": {"type": "maybe"}}, "tool_choice.type"),
    ("anthropic", {**A_OK, "thinking": {"type": "enabled"}}, "thinking.budget_tokens"),
    ("anthropic", {**A_OK, "stop_sequences": ["a", 1]}, "stop_sequences[1]"),
    ("anthropic", {**A_OK, "temperature": True}, "temperature"),
    ("openai-chat", b"", None),
    ("openai-chat", {"messages": [{"role": "user", "content": "hi"}]}, "model"),
    ("openai-chat", {"model": "g"}, "messages"),
    ("openai-chat", {**O_OK, "messages": {"role": "user"}}, "messages"),
    ("openai-chat", {**O_OK, "messages": [{"content": "hi"}]}, "messages[0].role"),
    ("openai-chat", {**O_OK, "messages": [{"role": "function", "content": "x"}]}, "messages[0].role"),
    ("openai-chat", {**O_OK, "messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
    (
        "openai-chat",
        {**O_OK, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]},
        "messages[0].content[0].image_url.url",
    ),
    (
        "openai-chat",
        {**O_OK, "messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}]},
        "messages[0].tool_calls[0].function.name",
    ),
    ("openai-chat", {**O_OK, "max_tokens": 1.5}, "max_tokens"),
    ("openai-chat", {**O_OK, "stop": 5}, "stop"),
    ("openai-chat", {**O_OK, "n": 3}, "n"),
    ("openai-chat", {**O_OK, "tool_choice": 7}, "tool_choice"),
    ("openai-chat", {**O_OK, "response_format": {"type": "xml"}}, "response_format.type"),
    ("openai-chat", {**O_OK, "response_format": {"type": "json_schema"}}, "response_format.json_schema"),
]


@pytest.mark.parametrize(("source", "body", "param"), CASES)
def test_bad_request_is_rejected_naming_the_field(source: str, body: Any, param: str | None) -> None:
    target = "openai-chat" if source == "anthropic" else "anthropic"
    with pytest.raises(RequestRejected) as info:
        convert_request(source, target, body, Options())
    rejected = info.value
    assert rejected.param == param
    if param:
        assert rejected.message.startswith(param + ":")
    # the addon answers it in the client's format: the client's SDK raises BadRequestError
    answer = error_body(source, "invalid_request_error", rejected.message, rejected.param)
    assert answer.status == 400
    exc = (anthropic_parses if source == "anthropic" else openai_parses)(answer.body, answer.status)
    assert isinstance(exc, anthropic.BadRequestError | openai.BadRequestError)
    assert rejected.message in exc.message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)

RICH_ANTHROPIC = {
    "model": "c",
    "max_tokens": 2000,
    "system": [{"type": "text", "text": "s"}],
    "tools": [{"name": "f", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "auto"},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "q"},
                {"type": "image", "source": {"type": "url", "url": "https://x"}},
            ],
        },
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "r"}]}],
        },
    ],
}
RICH_OPENAI = {
    "model": "g",
    "stop": ["x"],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "tool_choice": "auto",
    "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {}}},
    "messages": [
        {"role": "system", "content": "s"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "q"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "t", "content": "r"},
    ],
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["anthropic", "openai-chat"]), st.data(), JSON)
def test_any_mutation_is_converted_or_rejected(source: str, data: st.DataObject, replacement: Any) -> None:
    body = copy.deepcopy(RICH_ANTHROPIC if source == "anthropic" else RICH_OPENAI)
    path = data.draw(st.sampled_from(_paths(body)[1:]))
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    target = "openai-chat" if source == "anthropic" else "anthropic"
    try:
        convert_request(source, target, body, Options())
    except RequestRejected as exc:
        assert exc.message
        assert not exc.message.startswith("crosswire could not convert"), "an internal error, not a clear rejection"


def test_the_unmutated_rich_requests_are_valid() -> None:
    check_openai_request(convert_request("anthropic", "openai-chat", RICH_ANTHROPIC, Options()).body)
    check_anthropic_request(convert_request("openai-chat", "anthropic", RICH_OPENAI, Options()).body)
