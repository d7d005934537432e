"""The grammar checker (tests/grammar.py) itself: it rejects each kind of disorder, it accepts the
orders events.py allows, and every registered reader runs behind it in the test session."""

from __future__ import annotations

from typing import Any

import grammar
import pytest
from crosswire.convert import StreamConverter
from crosswire.events import EventLog
from crosswire.formats import FORMATS
from crosswire.formats.base import StreamReader
from grammar import CheckedSink, GrammarError

START = ("message_start", "m", "model", {})


def play(events: list[tuple[Any, ...]]) -> EventLog:
    log = EventLog()
    sink = CheckedSink(log)
    for name, *args in events:
        getattr(sink, name)(*args)
    return log


ALLOWED = {
    "text": [START, ("block_start", 0, "text"), ("text", 0, "Hi"), ("block_stop", 0), ("stop", "end_turn"), ("end",)],
    "usage anywhere, also after stop": [
        START,
        ("usage", {"input_tokens": 1}),
        ("block_start", 0, "tool_use", "call_1", "f"),
        ("usage", {"output_tokens": 1}),
        ("tool_input", 0, "{}"),
        ("block_stop", 0),
        ("stop", "tool_use"),
        ("usage", {"output_tokens": 2}),
        ("end",),
    ],
    "an error first": [("error", "api_error", "bad")],
    "an error inside a block": [START, ("block_start", 0, "thinking"), ("thinking", 0, "x"), ("error", "e", "m")],
    "no stop": [START, ("ping",), ("block_start", 0, "refusal"), ("text", 0, "no"), ("block_stop", 0), ("end",)],
    "thinking with its signature, then redacted": [
        START,
        ("block_start", 0, "thinking"),
        ("thinking", 0, "t"),
        ("signature", 0, "s"),
        ("block_stop", 0),
        ("block_start", 1, "redacted_thinking", "", "", "opaque"),
        ("block_stop", 1),
        ("end",),
    ],
}

REJECTED = {
    "a block before message_start": ([("block_start", 0, "text")], "before message_start"),
    "two message_starts": ([START, START], "second message_start"),
    "a gap in the numbering": ([START, ("block_start", 1, "text")], "expected block 0"),
    "overlapping blocks": ([START, ("block_start", 0, "text"), ("block_start", 1, "text")], "while block 0"),
    "text for another block": ([START, ("block_start", 0, "text"), ("text", 1, "x")], "open block is 0"),
    "text of a closed block": (
        [START, ("block_start", 0, "text"), ("block_stop", 0), ("text", 0, "x")],
        "open block is -1",
    ),
    "arguments in a text block": ([START, ("block_start", 0, "text"), ("tool_input", 0, "{}")], "in a text block"),
    "a signature on a tool call": (
        [START, ("block_start", 0, "tool_use", "c", "f"), ("signature", 0, "s")],
        "in a tool_use block",
    ),
    "stopping another block": ([START, ("block_start", 0, "text"), ("block_stop", 1)], "block_stop 1"),
    "stop inside a block": ([START, ("block_start", 0, "text"), ("stop", "end_turn")], "stop while block 0"),
    "two stops": ([START, ("stop", "end_turn"), ("stop", "end_turn")], "second stop"),
    "a block after stop": ([START, ("stop", "end_turn"), ("block_start", 0, "text")], "after stop"),
    "end inside a block": ([START, ("block_start", 0, "text"), ("end",)], "end while block 0"),
    "anything after end": ([START, ("end",), ("usage", {})], "usage after end"),
    "anything after an error": ([START, ("error", "e", "m"), ("end",)], "end after error"),
    "an unknown kind": ([START, ("block_start", 0, "image")], "unknown kind"),
}


@pytest.mark.parametrize("events", list(ALLOWED.values()), ids=list(ALLOWED))
def test_allowed_orders_pass_through(events: list[tuple[Any, ...]]) -> None:
    assert [e[0] for e in play(events).events] == [e[0] for e in events]


@pytest.mark.parametrize(("events", "message"), list(REJECTED.values()), ids=list(REJECTED))
def test_each_disorder_is_rejected(events: list[tuple[Any, ...]], message: str) -> None:
    with pytest.raises(GrammarError, match=message):
        play(events)
    assert grammar.VIOLATIONS, "the violation is recorded for the session fixture"
    grammar.VIOLATIONS.clear()


@pytest.mark.parametrize("fmt", list(FORMATS), ids=FORMATS.names)
def test_every_registered_reader_is_checked_in_the_tests(fmt: Any) -> None:
    conv = StreamConverter(fmt.name, fmt.name)
    assert isinstance(conv._reader.sink, CheckedSink)


class _Backwards(StreamReader):
    """A reader that numbers its blocks wrongly."""

    def event(self, name: str, data: str) -> None:
        self.sink.message_start("m", "x", {})
        self.sink.block_start(3, "text")


def test_a_violation_inside_a_converter_is_recorded_though_the_converter_swallows_it() -> None:
    fmt = FORMATS.get("anthropic")
    conv = StreamConverter("anthropic", "openai-chat")
    conv._reader = grammar.checked(_Backwards)(conv._writer, conv._warn)
    out = conv.feed(b"data: {}\n\n")
    assert conv.errored and b"crosswire internal error" in out  # the client sees an error frame
    assert grammar.VIOLATIONS == ["block_start 3: expected block 0 (blocks are numbered in order)"]
    grammar.VIOLATIONS.clear()
    assert fmt.stream_reader.unchecked.__name__ == "AnthropicStreamReader"
