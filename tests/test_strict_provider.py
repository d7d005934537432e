"""The strict fake provider: it refuses what the real APIs refuse, accepts what the official SDKs
send, and plays its two-turn script for them (so a CLI scenario that passes through it has met
the real API's rules)."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import openai
import pytest
from strict_provider import Call, Script, StrictProvider

KEY = "sk-UPSTREAM-test"
BASH = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}


def script() -> Script:
    return Script(
        pick=lambda tools: next((Call(t["name"], {"command": "echo 42"}) for t in tools if t["name"] == "Bash"), None),
        expect="42",
        final_text="The command printed 42.",
    )


def post(p: StrictProvider, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    auth = {p.auth[0]: p.auth[1]}
    return httpx.post(p.url(), json=body, headers={**auth, **(headers or {})}, timeout=10)


def test_anthropic_sdk_plays_the_script() -> None:
    with StrictProvider("anthropic", script(), ("x-api-key", KEY)) as p:
        client = anthropic.Anthropic(api_key=KEY, base_url=p.upstream.url(), max_retries=0)
        tools: Any = [{"name": "Bash", "description": "run", "input_schema": BASH}]
        messages: list[Any] = [{"role": "user", "content": "run it"}]
        first = client.messages.create(model="claude-sonnet-4-5", max_tokens=1000, messages=messages, tools=tools)
        use = next(b for b in first.content if b.type == "tool_use")
        assert (use.name, use.input, first.stop_reason) == ("Bash", {"command": "echo 42"}, "tool_use")
        messages += [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "42\n"}]},
        ]
        with client.messages.stream(model="claude-sonnet-4-5", max_tokens=1000, messages=messages, tools=tools) as s:
            final = s.get_final_message()
        assert [b.text for b in final.content if b.type == "text"] == ["The command printed 42."]
        assert p.rejections == []


def test_openai_chat_sdk_plays_the_script() -> None:
    with StrictProvider("openai-chat", script(), ("authorization", f"Bearer {KEY}")) as p:
        client = openai.OpenAI(api_key=KEY, base_url=p.upstream.url("/v1"), max_retries=0)
        tools: Any = [{"type": "function", "function": {"name": "Bash", "parameters": BASH}}]
        messages: list[Any] = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "run it"}]
        first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, max_tokens=16384)
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        messages += [first.choices[0].message.model_dump(exclude_none=True)]
        messages += [{"role": "developer", "content": "mid-conversation instructions are fine in Chat"}]
        messages[-1], extra = {"role": "tool", "tool_call_id": call.id, "content": "42"}, messages[-1]
        messages.append(extra)
        chunks = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The command printed 42."
        assert p.rejections == []


def test_openai_responses_sdk_plays_the_script() -> None:
    with StrictProvider("openai-responses", script(), ("authorization", f"Bearer {KEY}")) as p:
        client = openai.OpenAI(api_key=KEY, base_url=p.upstream.url("/v1"), max_retries=0)
        tools: Any = [{"type": "function", "name": "Bash", "parameters": BASH, "strict": False}]
        first = client.responses.create(model="gpt-5", input="run it", tools=tools, reasoning={"effort": "low"})
        call = next(i for i in first.output if i.type == "function_call")
        items: list[Any] = [
            {"role": "user", "content": "run it"},
            call.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": call.call_id, "output": "42"},
        ]
        second = client.responses.create(model="gpt-5", input=items, tools=tools, stream=True)
        texts = [e.delta for e in second if e.type == "response.output_text.delta"]
        assert texts == ["The command printed 42."]
        assert p.rejections == []


REFUSED = [
    ("openai-chat", {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "thinking": {}}, "thinking"),
    ("openai-chat", {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "low"},
     "reasoning_effort"),
    ("openai-chat", {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "max_tokens": 32000},
     "at most 16384"),
    ("openai-chat", {"model": "gpt-5", "messages": [{"role": "user", "content": "x"}], "max_tokens": 100},
     "max_completion_tokens"),
    ("openai-chat", {"model": "gpt-4o", "messages": [{"role": "tool", "tool_call_id": "c1", "content": "x"}]},
     "preceeding"),
    ("openai-chat", {"model": "gpt-4o", "messages": [{"role": "critic", "content": "x"}]}, "critic"),
    ("openai-chat", {"model": "gpt-4o", "messages": [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                               "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "user", "content": "next"}]}, "did not have response messages"),
    ("openai-chat", {"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}, "does not exist"),
    ("openai-responses", {"model": "gpt-4o", "input": "x", "reasoning": {"effort": "low"}}, "reasoning"),
    ("openai-responses", {"model": "gpt-4o", "input": "x", "include": ["reasoning.encrypted_content"]}, "Encrypted"),
    ("openai-responses", {"model": "gpt-4o", "input": "x", "text": {"verbosity": "low"}}, "low"),
    ("openai-responses", {"model": "gpt-4o", "input": "x", "max_output_tokens": 20000}, "at most 16384"),
    ("openai-responses", {"model": "gpt-5", "input": [
        {"type": "function_call_output", "call_id": "c9", "output": "x"}]}, "No tool call found"),
    ("openai-responses", {"model": "gpt-5", "input": [{"type": "bogus_item"}]}, "bogus_item"),
    ("openai-responses", {"model": "gpt-5", "input": "x", "thinking": {"type": "enabled"}}, "thinking"),
    ("openai-responses", {"model": "gpt-5", "store": False, "input": [
        {"type": "reasoning", "id": "rs_invented", "summary": []}]}, "not found"),
    ("anthropic", {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "system", "content": "x"}]},
     "'user' or 'assistant'"),
    ("anthropic", {"model": "claude-sonnet-4-5", "max_tokens": 100000, "messages": [{"role": "user", "content": "x"}]},
     "maximum allowed"),
    ("anthropic", {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ("anthropic", {"model": "claude-sonnet-4-5", "max_tokens": 100, "reasoning_effort": "low",
                   "messages": [{"role": "user", "content": "x"}]}, "reasoning_effort"),
    ("anthropic", {"model": "claude-3-5-haiku", "max_tokens": 4000, "thinking": {"type": "enabled",
                   "budget_tokens": 2000}, "messages": [{"role": "user", "content": "x"}]}, "thinking"),
    ("anthropic", {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_x", "content": "x"}]}]}, "corresponding `tool_use`"),
    ("anthropic", {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]},
        {"role": "user", "content": "what now"}]}, "without `tool_result`"),
    ("anthropic", {"model": "claude-sonnet-4-5", "max_tokens": 100, "temperature": 0.5, "top_p": 0.9,
                   "messages": [{"role": "user", "content": "x"}]}, "cannot both be specified"),
    ("anthropic", {"model": "claude-sonnet-4-5", "max_tokens": 100, "temperature": 1.5,
                   "messages": [{"role": "user", "content": "x"}]}, "between 0 and 1"),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "body", "says"), REFUSED, ids=[f"{f}-{s}" for f, _, s in REFUSED])
def test_refuses_what_the_real_api_refuses(fmt: str, body: dict[str, Any], says: str) -> None:
    auth = ("x-api-key", KEY) if fmt == "anthropic" else ("authorization", f"Bearer {KEY}")
    with StrictProvider(fmt, script(), auth) as p:
        headers = {"anthropic-version": "2023-06-01"} if fmt == "anthropic" else {}
        r = post(p, body, headers)
        assert 400 <= r.status_code < 500, r.text
        assert says in r.text and len(p.rejections) == 1
        envelope = r.json()
        assert envelope["type"] == "error" if fmt == "anthropic" else "message" in envelope["error"]


def test_refuses_a_missing_or_wrong_key() -> None:
    with StrictProvider("openai-chat", script(), ("authorization", f"Bearer {KEY}")) as p:
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
        r = httpx.post(p.url(), json=body, headers={"authorization": "Bearer sk-CLIENT"}, timeout=10)
        assert r.status_code == 401 and p.rejections


def test_side_request_without_the_tool_gets_text() -> None:
    with StrictProvider("openai-chat", script(), ("authorization", f"Bearer {KEY}")) as p:
        r = post(p, {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "title?"}]})
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
        assert p.script.calls_made == 0
