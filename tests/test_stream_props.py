"""Property tests over every pair of registered formats: chunking never changes the output, and
round trips through another format keep what both formats carry (judged by the official SDKs,
through the per-format adapters of tests/formats_support.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from crosswire.convert import StreamConverter
from crosswire.formats import FORMATS
from formats_support import ADAPTERS, Answer, anthropic_sse, chat_sse, project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_judges import anthropic_accumulate, openai_accumulate

PAIRS = [pytest.param(s, t, id=f"{s}->{t}") for s in FORMATS.names for t in FORMATS.names]
SPLITS = [
    pytest.param(s, t, name, id=f"{s}->{t}:{name}")
    for s in FORMATS.names
    for t in FORMATS.names
    for name in ADAPTERS[s].split_streams
]


def run(source: str, target: str, pieces: list[bytes]) -> bytes:
    conv = StreamConverter(source, target, created=1700000000)
    return b"".join(conv.feed(p) for p in pieces) + conv.close()


def test_every_registered_format_has_an_adapter() -> None:
    assert set(ADAPTERS) == set(FORMATS.names)
    for fmt in FORMATS:
        adapter = ADAPTERS[fmt.name]
        assert set(adapter.split_streams) <= set(adapter.streams()), f"{fmt.name}: a split stream is missing"


@pytest.mark.parametrize(("source", "target", "name"), SPLITS)
def test_every_byte_offset(source: str, target: str, name: str) -> None:
    body = ADAPTERS[source].streams()[name]
    whole = run(source, target, [body])
    for i in range(len(body) + 1):
        assert run(source, target, [body[:i], body[i:]]) == whole, i


@pytest.mark.parametrize(("source", "target"), PAIRS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_chunking(source: str, target: str, data: st.DataObject) -> None:
    streams = ADAPTERS[source].streams()
    body = streams[data.draw(st.sampled_from(sorted(streams)))]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=40)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert run(source, target, pieces) == run(source, target, [body])


# --- generated streams for the round trips -------------------------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
ident = st.from_regex(r"[A-Za-z0-9]{6,12}", fullmatch=True)
json_args = st.dictionaries(
    st.text("abcxyz_", min_size=1, max_size=6),
    st.one_of(st.integers(-1000, 1000), texts, st.booleans(), st.lists(st.integers(0, 9), max_size=3)),
    max_size=4,
)


@st.composite
def splits(draw: st.DrawFn, s: str) -> list[str]:
    """``s`` cut at arbitrary character offsets (inside escapes, keys, multi-byte characters)."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(len(s) - 1, 1)), max_size=5))))
    return [s[a:b] for a, b in zip([0, *cuts], [*cuts, len(s)], strict=True) if s[a:b]]


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    """An assistant answer: text and tool-call parts in order, usage and a stop reason."""
    parts: list[tuple[Any, ...]] = []
    for kind in draw(st.lists(st.sampled_from(["text", "tool"]), min_size=1, max_size=4)):
        if kind == "text" and (not parts or parts[-1][0] != "text"):
            parts.append(("text", draw(st.lists(texts, min_size=1, max_size=4))))
        elif kind == "tool":
            args = draw(json_args)
            fragments = draw(splits(json.dumps(args))) if args else []
            parts.append(("tool", f"call_{draw(ident)}{len(parts)}", draw(ident), fragments))  # ids unique in an answer
    return Answer(
        id=draw(ident),
        parts=parts,
        usage=draw(st.fixed_dictionaries({k: st.integers(0, 10**6) for k in ("input", "cache", "output")})),
        stop=draw(st.sampled_from(["end_turn", "max_tokens", "tool_use", "stop_sequence", "pause_turn", "refusal"])),
    )


@pytest.mark.parametrize(("source", "via"), PAIRS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=answers())
def test_round_trip(source: str, via: str, a: Answer) -> None:
    """A generated answer written in ``source``, converted to ``via`` and back: what both formats
    carry comes back, as the source's own SDK sees it (``via == source``: read and written back to
    itself, nothing may change)."""
    adapter = ADAPTERS[source]
    body = adapter.render_stream(a)
    back = run(via, source, [run(source, via, [body])])
    want, got = adapter.stream_view(body), adapter.stream_view(back)
    assert want.error is None and want.stop is not None, "the source judge must accept the rendered answer"
    assert project(got, via) == project(want, via)
    assert got.calls == want.calls  # every format carries calls: ids, names and arguments come back


def _anthropic_view(m: Any) -> tuple[Any, ...]:
    u = m.usage
    return (
        m.id,
        "".join(b.text for b in m.content if b.type == "text"),
        [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"],
        (u.input_tokens + (u.cache_creation_input_tokens or 0), u.cache_read_input_tokens or 0, u.output_tokens),
    )


@settings(max_examples=60, deadline=None)
@given(answers())
def test_anthropic_round_trip(a: Answer) -> None:
    body = anthropic_sse(a)
    back = run("openai-chat", "anthropic", [run("anthropic", "openai-chat", [body])])
    src, got = anthropic_accumulate(body).message, anthropic_accumulate(back).message
    assert _anthropic_view(got) == _anthropic_view(src)
    # Chat has no stop_sequence or pause_turn: both come back as end_turn (docs/mapping.md).
    collapsed = {"stop_sequence": "end_turn", "pause_turn": "end_turn"}
    assert got.stop_reason == collapsed.get(src.stop_reason, src.stop_reason)


def _chat_view(c: Any) -> tuple[Any, ...]:
    msg = c.choices[0].message
    finish = c.choices[0].finish_reason
    return (
        c.id,
        msg.content or "",
        [(t.id, t.function.name, t.function.arguments) for t in msg.tool_calls or []],
        (c.usage.prompt_tokens, c.usage.completion_tokens, c.usage.prompt_tokens_details.cached_tokens),
        "tool_calls" if finish == "function_call" else finish,  # the legacy name comes back as the current one
    )


@settings(max_examples=60, deadline=None)
@given(answers())
def test_chat_round_trip(a: Answer) -> None:
    body = chat_sse(a)
    back = run("anthropic", "openai-chat", [run("openai-chat", "anthropic", [body])])
    src, got = openai_accumulate(body), openai_accumulate(back)
    want = _chat_view(src)
    # A call streamed with no arguments at all reaches a chat client as "{}".
    want = (*want[:2], [(i, n, args or "{}") for i, n, args in want[2]], *want[3:])
    assert _chat_view(got) == want
