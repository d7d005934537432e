"""Nothing lost: every real transcript converted to its own format is what its SDK saw in the
original, and every conversion to another format is valid for the newest SDK's strict types.

Judges (tests/strict_judges.py): the official SDKs, ``_strict_response_validation=True``, and their
stream accumulators; per event, the SDK's own pydantic type. Expected values come from the SDK's
reading of the source, never from crosswire.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from conftest import wire_files
from crosswire import Options, cli, convert_request, convert_response
from crosswire.convert import StreamConverter
from strict_judges import (
    FORMATS,
    accumulate,
    additions,
    covers,
    dump,
    parse_body,
    raw_events,
    schema_errors,
    sse_data,
)

FIXTURES = Path(__file__).parent / "fixtures"

# The SDKs warn while serializing items of newer shapes than they model (a web search "api" source).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def source_format(name: str) -> str:
    if name.startswith("anthropic"):
        return "anthropic"
    return "openai-chat" if "_chat_" in name else "openai-responses"


def sdk_view(body: bytes) -> bytes:
    """SDK decoders drop a last event without its blank line; crosswire dispatches it."""
    return body if body.endswith(b"\n\n") else body + b"\n\n"


def convert(source: str, target: str, body: bytes) -> tuple[bytes, StreamConverter]:
    conv = StreamConverter(source, target)
    return conv.feed(body) + conv.close(), conv


STREAMS = [pytest.param(p, id=p.name) for p in [*wire_files("*.sse"), *sorted(FIXTURES.glob("*.sse"))]]
BODIES = [pytest.param(p, id=p.name) for p in wire_files("*.json") if "error" not in p.name]

# Fields crosswire always writes, which older captures lack: the newest SDKs require them (or they
# are the cumulative usage repeated in a later event), so a same-format conversion may add them.
ADDED = {
    "anthropic": {".usage.server_tool_use.web_fetch_requests"},
    "openai-chat": {".usage.prompt_tokens_details", ".usage.prompt_tokens_details.cache_write_tokens"},
    "openai-responses": {".usage.input_tokens_details.cache_write_tokens", ".reasoning.summary"},
}
# What a same-format conversion normalises: a tool call whose arguments are empty gets "{}", the
# JSON object they stand for (docs/mapping.md).
NORMALISED = {"openai_chat_tool_empty.sse": ('"arguments":""', '"arguments":"{}"')}


def _without(data: Any, key: str) -> Any:
    if isinstance(data, dict):
        return {k: _without(v, key) for k, v in data.items() if k != key}
    if isinstance(data, list):
        return [_without(v, key) for v in data]
    return data


# --- same format: lossless ----------------------------------------------------------------------


def _source_result(fmt: str, body: bytes) -> Any:
    try:
        return accumulate(fmt, sdk_view(body), strict=False)
    except (anthropic.APIError, openai.APIError, RuntimeError, AttributeError, ValueError) as exc:
        return exc  # an error stream, or a docs fragment the SDK cannot accumulate


@pytest.mark.parametrize("path", STREAMS)
def test_stream_to_its_own_format_is_lossless(path: Path) -> None:
    fmt = source_format(path.name)
    body = path.read_bytes()
    out, conv = convert(fmt, fmt, body)
    if path.name in NORMALISED:
        old, new = NORMALISED[path.name]
        assert old.encode() in body
        body = body.replace(old.encode(), new.encode())
    assert conv.warnings == []
    # No schema error the source did not have (older captures miss fields the newest types require).
    source_errors = schema_errors(fmt, sdk_view(body))
    assert schema_errors(fmt, out) <= source_errors
    want = _source_result(fmt, body)
    if conv.errored:  # an upstream error, data that is not JSON, a stream cut short: an error, always
        with pytest.raises((anthropic.APIStatusError, openai.APIError)) as raised:
            accumulate(fmt, out, strict=not source_errors)
        if isinstance(want, anthropic.APIError | openai.APIError):  # the same error the source had
            assert str(raised.value) == str(want)
        else:
            assert isinstance(want, ValueError) or not _ends(fmt, body), "a complete stream became an error"
        return
    if isinstance(want, Exception):  # a docs fragment the SDK cannot accumulate (no usage): now it can
        assert accumulate(fmt, out, strict=not source_errors) is not None
        return
    got = accumulate(fmt, out, strict=not source_errors)
    if not source_errors:
        assert accumulate(fmt, out, strict=True) is not None
    want_data, got_data = dump(want), dump(got)
    if fmt == "openai-chat":  # random padding, copied by older SDKs from the first chunk
        want_data, got_data = _without(want_data, "obfuscation"), _without(got_data, "obfuscation")
        for want_choice, got_choice in zip(want_data["choices"], got_data["choices"], strict=False):
            # A role repeated in every delta (OpenRouter) is concatenated by the SDK's accumulator.
            if want_choice["message"].get("role", "assistant") != "assistant":
                assert got_choice["message"]["role"] == "assistant"
                del want_choice["message"]["role"], got_choice["message"]["role"]
    assert covers(got_data, want_data) == []
    assert additions(got_data, want_data) <= ADDED[fmt]
    _same_events(fmt, body, out)


def _ends(fmt: str, body: bytes) -> bool:
    """Whether a stream has its format's end (not cut short)."""
    return {"anthropic": b"message_stop", "openai-chat": b"[DONE]"}.get(fmt, b"response.completed") in body


def _same_events(fmt: str, body: bytes, out: bytes) -> None:
    """What an SDK's accumulator leaves out but its events carry."""
    src, got = raw_events(fmt, sdk_view(body), strict=False), raw_events(fmt, out, strict=False)
    if fmt == "anthropic":  # message_delta: context_management, usage.iterations…
        want = [dump(e) for e in src if e.type == "message_delta"]
        have = [dump(e) for e in got if e.type == "message_delta"]
        assert len(have) == len(want) and all(covers(h, w) == [] for h, w in zip(have, want, strict=True))
        assert sum(e.type == "ping" for e in got) == sum(e.type == "ping" for e in src)
    elif fmt == "openai-responses":  # each item as output_item.added and .done gave it
        for kind in ("response.output_item.added", "response.output_item.done"):
            want = [dump(e.item) for e in src if e.type == kind]
            have = [dump(e.item) for e in got if e.type == kind]
            assert len(have) == len(want) and all(covers(h, w) == [] for h, w in zip(have, want, strict=True))
        other = {e.type for e in src} - {e.type for e in got}
        assert not other, f"event types lost: {other}"


@pytest.mark.parametrize("path", BODIES)
def test_body_to_its_own_format_is_lossless(path: Path) -> None:
    fmt = source_format(path.name)
    body = json.loads(path.read_bytes())
    out = convert_response(fmt, fmt, body, Options())
    assert out.warnings == [] and out.status == 200
    want = dump(parse_body(fmt, body, strict=False))
    got = dump(parse_body(fmt, out.body, strict=True))
    assert covers(got, want) == []
    assert additions(got, want) <= ADDED[fmt] | {".choices.logprobs"}


# --- every other format: valid for the newest SDK's strict types ---------------------------------


@pytest.mark.parametrize("target", FORMATS)
@pytest.mark.parametrize("path", STREAMS)
def test_stream_to_another_format_is_strictly_valid(path: Path, target: str) -> None:
    source = source_format(path.name)
    if source == target:
        return  # test_stream_to_its_own_format_is_lossless
    out, conv = convert(source, target, path.read_bytes())
    assert schema_errors(target, out) == set()
    if conv.errored:
        with pytest.raises((anthropic.APIStatusError, openai.APIError)) as raised:
            accumulate(target, out, strict=True)
        assert not isinstance(raised.value, anthropic.APIResponseValidationError | openai.APIResponseValidationError)
    else:
        assert accumulate(target, out, strict=True) is not None


@pytest.mark.parametrize("target", FORMATS)
@pytest.mark.parametrize("path", BODIES)
def test_body_to_another_format_is_strictly_valid(path: Path, target: str) -> None:
    source = source_format(path.name)
    out = convert_response(source, target, json.loads(path.read_bytes()), Options())
    assert out.status == 200
    assert parse_body(target, out.body, strict=True) is not None


# --- the native carrier across formats: dropped, and the warning says what ------------------------


@pytest.mark.parametrize("target", ["openai-chat", "openai-responses"])
def test_anthropic_own_blocks_and_usage_are_dropped_with_warnings_that_name_them(target: str) -> None:
    path = next(iter(wire_files("anthropic_stream_cache_read_compaction.sse")), None)
    if path is None:
        pytest.skip("conformance corpus not found")
    out, conv = convert("anthropic", target, path.read_bytes())
    assert conv.warnings == [
        f"anthropic 'compaction' content block: no equivalent in {target}, dropped",
        f"anthropic message_delta field usage.iterations: no equivalent in {target}, dropped",
    ]
    assert accumulate(target, out, strict=True) is not None
    back, again = convert("anthropic", "anthropic", path.read_bytes())
    assert again.warnings == [] and b'"type":"compaction_delta"' in back


def test_chat_logprobs_reach_a_chat_client_and_are_dropped_for_others() -> None:
    path = next(iter(wire_files("openai_chat_stream_logprobs.sse")), None)
    if path is None:
        pytest.skip("conformance corpus not found")
    body = path.read_bytes()
    out, conv = convert("openai-chat", "openai-chat", body)
    assert conv.warnings == []
    logprobs = accumulate("openai-chat", out, strict=True).choices[0].logprobs
    assert logprobs == accumulate("openai-chat", body, strict=False).choices[0].logprobs and logprobs.content
    for target in ("anthropic", "openai-responses"):
        _, other = convert("openai-chat", target, body)
        assert other.warnings == [f"openai-chat logprobs: no equivalent in {target}, dropped"]


def test_a_block_dropped_for_anthropic_leaves_no_gap_in_its_indexes() -> None:
    """An openai-responses item with no anthropic equivalent between two that have one."""
    events = [
        {"type": "response.created", "response": {"id": "resp_1", "model": "m", "output": []}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": "ig_1", "type": "image_generation_call"},
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {"id": "ig_1", "type": "image_generation_call"},
        },
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {"id": "msg_1", "type": "message", "role": "assistant", "content": []},
        },
        {"type": "response.output_text.delta", "output_index": 1, "content_index": 0, "delta": "After."},
        {"type": "response.completed", "response": {"id": "resp_1", "model": "m", "status": "completed"}},
    ]
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()
    out, conv = convert("openai-responses", "anthropic", body)
    starts = [d["index"] for d in sse_data(out) if d.get("type") == "content_block_start"]
    assert starts == [0]
    assert accumulate("anthropic", out, strict=True).content[0].text == "After."
    assert conv.warnings == [
        "openai-responses 'image_generation_call' output item: no equivalent in anthropic, dropped"
    ]


# --- requests: a client's own fields reach an upstream of its format ------------------------------


def test_an_anthropic_request_reaches_an_anthropic_upstream_as_it_was_sent() -> None:
    """What Claude Code sends (cache_control everywhere, adaptive thinking, server tools, betas'
    fields) passes through a same-format conversion unchanged; another format gets warnings."""
    cached = {"type": "ephemeral"}
    body = {
        "model": "claude-opus-4-5",
        "max_tokens": 32000,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": cached}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "List the files.", "cache_control": cached}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
                    {"type": "compaction", "content": "Earlier: the user asked about files."},
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.py"}]},
        ],
        "tools": [
            {"name": "Bash", "input_schema": {"type": "object", "properties": {}}, "cache_control": cached},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
            {"type": "code_execution_20250825", "name": "code_execution"},
        ],
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
        "metadata": {"user_id": '{"device_id": "d1"}'},
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "container": "container_1",
        "stream": True,
    }
    same = convert_request("anthropic", "anthropic", body, Options())
    assert same.body == body and same.warnings == []
    other = convert_request("anthropic", "openai-chat", body, Options())
    for lost in ("cache_control", "'compaction'", "code_execution", "context_management", "container", "adaptive"):
        assert any(lost in w for w in other.warnings), lost


@pytest.mark.parametrize(
    "name",
    [
        "anthropic_stream_pause_turn.sse",
        "openai_responses_stream_web_search_cached.sse",
        "anthropic_message_server_tool_web_search.json",
    ],
)
def test_the_cli_converts_to_the_same_format_without_loss(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = next(iter(wire_files(name)), None)
    if path is None:
        pytest.skip("conformance corpus not found")
    fmt = source_format(name)
    out = tmp_path / "out"
    assert cli.main(["convert", "--from", fmt, "--to", fmt, str(path), str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
    if name.endswith(".json"):
        want, got = (
            parse_body(fmt, json.loads(path.read_bytes()), strict=False),
            parse_body(fmt, json.loads(out.read_bytes())),
        )
    else:
        want, got = accumulate(fmt, path.read_bytes(), strict=False), accumulate(fmt, out.read_bytes(), strict=False)
    assert covers(dump(got), dump(want)) == []
