"""The whole-frame fast path (formats/base.py) must change nothing but the speed.

Every stream runs twice through every pair: once as it runs live, once with every event sent
straight to the reader's ``careful`` method (no fast path, so no literal reaches a writer). The
output bytes, the warnings, the usage and the canonical events must be the same. The streams are
the conformance corpus, the test fixtures, and seeded generated streams in each provider's shapes
with nasty fragments (escapes, U+2028, astral characters, empty and huge ones) and the variations
the fast path must hand to the careful one (other key orders, escapes orjson writes differently,
extra fields, unknown blocks, truncation). ``copyable`` itself is checked against orjson.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import wire_files
from crosswire import formats
from crosswire.convert import INVALID_UTF8, StreamConverter
from crosswire.events import EventLog, StreamSink
from crosswire.formats.base import StreamReader, copyable
from crosswire.sse import SSEDecoder
from hypothesis import given, settings
from hypothesis import strategies as st

NAMES = formats.FORMATS.names
PAIRS = [(s, t) for s in NAMES for t in NAMES]
FIXTURES = Path(__file__).parent / "fixtures"


def source_format(name: str) -> str:
    if name.startswith("anthropic"):
        return "anthropic"
    return "openai-chat" if "_chat_" in name else "openai-responses"


class Counted:
    """Counts the events a reader hands to its careful path."""

    def __init__(self, careful: Callable[[str, str], None]) -> None:
        self.careful, self.calls = careful, 0

    def __call__(self, name: str, data: str) -> None:
        self.calls += 1
        self.careful(name, data)


def convert(
    source: str, target: str, pieces: list[bytes], fast: bool, max_frame: int | None = None
) -> tuple[bytes, StreamConverter, int]:
    """The converted bytes, the converter, and how many events took the careful path (with ``fast``
    off, the reader's fast path never runs, so neither can the converter's one-frame path)."""
    conv = StreamConverter(source, target, created=1700000000, **({"max_frame": max_frame} if max_frame else {}))
    reader = conv._reader
    counted = Counted(reader.careful)
    if fast:
        reader.careful = counted  # type: ignore[method-assign]
    else:  # every event straight to the careful path, and no large frame read as bytes
        conv._one_possible = False
        reader.event = counted  # type: ignore[method-assign]
        reader.events = lambda pairs: [counted(name, data) for name, data in pairs]  # type: ignore[method-assign]
    out = b"".join(conv.feed(piece) for piece in pieces) + conv.close()
    return out, conv, counted.calls


def canonical(source: str, body: bytes, fast: bool) -> list[tuple[Any, ...]]:
    log = EventLog()
    reader = formats.get(source).stream_reader(log, lambda message: None)
    decoder = SSEDecoder()
    pairs = [(sse.event, sse.data) for sse in decoder.feed(body) + decoder.close()]
    if fast:
        reader.events(pairs)
    else:
        for name, data in pairs:
            reader.careful(name, data)
    reader.close()
    return log.events


def frames_of(body: bytes) -> list[bytes]:
    """One chunk per SSE frame (LF line ends), as providers flush a live stream."""
    parts = body.split(b"\n\n")
    return [part + b"\n\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


class OneFrameCount:
    """Counts the chunks a converter turned out by its one-frame path (its template's calls)."""

    def __init__(self, conv: StreamConverter) -> None:
        self.taken = 0
        arm = conv._arm

        def counted_arm() -> None:
            arm()
            if conv._one is not None:
                *parts, write = conv._one

                def counted(literal: bytes) -> bytes:
                    self.taken += 1
                    return write(literal)

                conv._one = (*parts, counted)  # type: ignore[assignment]

        conv._arm = counted_arm  # type: ignore[method-assign]


def assert_same(source: str, body: bytes, pieces: list[bytes] | None = None, max_frame: int | None = None) -> int:
    """Fast and careful agree for every target; the number of events the fast path took."""
    pieces = pieces or [body]
    assert canonical(source, body, fast=True) == canonical(source, body, fast=False)
    taken = 0
    for target in NAMES:
        fast, fast_conv, careful_calls = convert(source, target, pieces, fast=True, max_frame=max_frame)
        careful, careful_conv, all_calls = convert(source, target, pieces, fast=False, max_frame=max_frame)
        assert fast == careful, target
        assert fast_conv.warnings == careful_conv.warnings
        assert fast_conv.usage == careful_conv.usage
        assert (fast_conv.complete, fast_conv.errored) == (careful_conv.complete, careful_conv.errored)
        taken = all_calls - careful_calls
    return taken


def one_frame_chunks(source: str, target: str, pieces: list[bytes]) -> int:
    """How many of ``pieces`` the one-frame path took (fed live: fast paths on)."""
    conv = StreamConverter(source, target, created=1700000000)
    count = OneFrameCount(conv)
    for piece in pieces:
        conv.feed(piece)
    conv.close()
    return count.taken


# --- the corpus and the fixtures ----------------------------------------------------------------

STREAMS = [
    pytest.param(p, id=p.name)
    for p in [*wire_files("*.sse"), *sorted(FIXTURES.glob("anthropic_*.sse")), *sorted(FIXTURES.glob("openai_*.sse"))]
]


@pytest.mark.parametrize("path", STREAMS)
def test_fast_and_careful_agree_on_every_recorded_stream(path: Path) -> None:
    body = path.read_bytes()
    source = source_format(path.name)
    assert_same(source, body)
    rng = random.Random(path.name)
    cuts = sorted(rng.sample(range(len(body) + 1), min(len(body) + 1, 30)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert_same(source, body, pieces)
    assert_same(source, body, frames_of(body))


@pytest.mark.parametrize(
    "name",
    [
        "anthropic_stream_text_recorded.sse",  # anthropic's padding
        "anthropic_stream_thinking_signature.sse",
        "anthropic_stream_tool_use_recorded.sse",
        "openai_chat_stream_text_usage_newer.sse",  # usage null and obfuscation
        "openai_chat_stream_tool_calls.sse",
        "openai_responses_stream_reasoning_summary_function_call.sse",  # sequence numbers, obfuscation
        "openai_responses_stream_text_and_function_call.sse",  # gpt-5.5: every delta's fields sorted
        "openai_responses_stream_text.sse",
    ],
)
def test_the_fast_path_takes_the_fragments_of_real_streams(name: str) -> None:
    path = next(iter(wire_files(name)), None)
    if path is None:
        pytest.skip("conformance corpus not found")
    body = path.read_bytes()
    deltas = sum(1 for line in body.split(b"\n") if line.startswith(b"data:") and b"delta" in line)
    # every fragment after a block's first one is taken (a stream's first may open its block)
    assert assert_same(source_format(name), body) >= deltas * 0.7
    # fed a frame per chunk, the converter's one-frame path takes every fragment after a block's
    # first two (the first may open the block, the second arms the path), for every target; for
    # gemini only text (it holds thinking and a call's arguments until their block ends)
    text_deltas = sum(
        1
        for line in body.split(b"\n")
        if line.startswith(b"data:") and any(mark in line for mark in TEXT_DELTA_MARKS[source_format(name)])
    )
    frames = frames_of(body)
    for target in NAMES:
        taken = one_frame_chunks(source_format(name), target, frames)
        if target == "gemini":
            assert text_deltas * 0.5 <= taken <= text_deltas, target
        else:
            assert taken >= deltas * 0.5, target


TEXT_DELTA_MARKS = {
    "anthropic": [b'"text_delta"'],
    "openai-chat": [b'"delta":{"content":"'],
    "openai-responses": [b'"response.output_text.delta"'],
}


# --- copyable: exactly orjson's own literals ----------------------------------------------------

strings = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=400, deadline=None)
@given(strings)
def test_every_literal_orjson_writes_is_copyable(text: str) -> None:
    assert copyable(orjson.dumps(text).decode())


ESCAPES = ['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u0001", "\\u001F", "\\u0008",
           "\\ud83c\\udf0d", "\\ud800", "\\x", "\\", '"', "\t", "\x00", "\u2028", "é", "🌍", "a", " "]  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(ESCAPES) | strings, max_size=8))
def test_a_copyable_literal_decodes_and_encodes_back_to_itself(pieces: list[str]) -> None:
    literal = '"' + "".join(pieces) + '"'
    if copyable(literal):
        assert orjson.dumps(orjson.loads(literal)) == literal.encode()
    else:  # refused: either not one valid string, or orjson would write it otherwise
        with contextlib.suppress(orjson.JSONDecodeError):
            assert orjson.dumps(orjson.loads(literal)) != literal.encode()


# --- generated streams in each provider's shapes -------------------------------------------------

NASTY = [
    "",
    "\n",
    '"',
    "\\",
    '\\"',
    "\u2028",
    "\u2029",
    "🌍",
    "\U0010ffff",
    "\x00",
    "\x1f",
    "\x7f",
    "\t",
    "é",
    "/",
    "</script>",
    '{"a": "b"}',
    "x" * 70000 + '"\\\n',
]
WORDS = [" the", " stream", ",", " naïve", " 'q'", "Hello", " 42"]


def fragment(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(NASTY)
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))


def literal(rng: random.Random, text: str) -> str:
    """``text`` as some encoder writes it: mostly orjson's bytes, sometimes another encoder's."""
    roll = rng.random()
    if roll < 0.75:
        return orjson.dumps(text).decode()
    if roll < 0.85:
        return json.dumps(text)  # \uXXXX for all that is not ASCII, surrogate pairs for the astral
    if roll < 0.92:
        return orjson.dumps(text).decode().replace("/", "\\/")
    return orjson.dumps(text).decode().replace("\\n", "\\u000a")


class Script:
    """A random answer: blocks of (kind, fragments), each kind's fragments as the model sends them."""

    def __init__(self, rng: random.Random) -> None:
        self.blocks: list[tuple[str, list[str]]] = []
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(["text", "text", "thinking", "tool"])
            self.blocks.append((kind, [fragment(rng) for _ in range(rng.randint(0, 8))]))
        self.truncated = rng.random() < 0.1


def anthropic_stream(rng: random.Random, script: Script) -> Iterator[str]:
    yield "message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {}}}
    for index, (kind, pieces) in enumerate(script.blocks):
        block: dict[str, Any] = {
            "text": {"type": "text", "text": ""},
            "thinking": {"type": "thinking", "thinking": "", "signature": ""},
            "tool": {"type": "tool_use", "id": f"toolu_{index}", "name": "f", "input": {}},
        }[kind]
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}
        dtype, key = {"text": ("text_delta", "text"), "thinking": ("thinking_delta", "thinking"),
                      "tool": ("input_json_delta", "partial_json")}[kind]  # fmt: skip
        for piece in pieces:
            at = index if rng.random() > 0.05 else index + 7  # a block that never started
            head = f'{{"type":"content_block_delta","index":{at},"delta":{{"type":"{dtype}","{key}":'
            if rng.random() < 0.05:
                head = head.replace('"type":"content_block_delta",', "")  # the type only in the event name
            end = rng.choice(["}}", "}}", "}    }", "} }"])
            if rng.random() < 0.1:  # a field the careful path reads, or one it must reject
                end = rng.choice([',"extra":true}}', '},"index":99}', '},"delta":{}}', '}, "x": 1}', ',"text":"b"}}'])
            elif rng.random() < 0.005:  # not JSON: the stream fails there
                end = rng.choice(["}", "}}}"])
            yield "content_block_delta", head + literal(rng, piece) + end
        if kind == "thinking":
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "signature_delta", "signature": "c2ln"}}  # fmt: skip
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    if not script.truncated:
        yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {}}
        yield "message_stop", {"type": "message_stop"}


def chat_stream(rng: random.Random, script: Script) -> Iterator[str]:
    head = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    if rng.random() < 0.5:
        head += '"service_tier":"default","system_fingerprint":"fp_1",'

    def chunk(delta: str, finish: str = "null") -> str:
        first = head if rng.random() > 0.03 else head.replace('"m"', '"other"')  # a later chunk's own head
        logprobs = "null" if rng.random() > 0.05 else '{"content":[]}'
        ending = rng.choice(["}", ',"usage":null}', ',"usage":null,"obfuscation":"abc"}', ',"obfuscation":"x\\"y"}'])
        if rng.random() < 0.05:  # fields after the choices that the careful path reads
            ending = rng.choice([',"usage":{"prompt_tokens":2}}', ',"choices":[]}', ',"error":{"message":"x"}}', "}}"])
        return (
            f'{first}"choices":[{{"index":0,"delta":{delta},"logprobs":{logprobs},"finish_reason":{finish}}}]{ending}'
        )

    yield "message", chunk('{"role":"assistant","content":""}')
    tools = 0
    for kind, pieces in script.blocks:
        if kind == "tool":
            start = {
                "index": tools,
                "id": f"call_{tools}",
                "type": "function",
                "function": {"name": "f", "arguments": ""},
            }
            yield "message", chunk('{"tool_calls":[' + orjson.dumps(start).decode() + "]}")
        for piece in pieces:
            if kind == "tool":
                at = tools if rng.random() > 0.05 else tools + 3
                delta = f'{{"tool_calls":[{{"index":{at},"function":{{"arguments":{literal(rng, piece)}}}}}]}}'
            else:
                key = "content" if kind == "text" else rng.choice(["reasoning_content"] * 9 + ["reasoning"])
                delta = f'{{"{key}":{literal(rng, piece)}}}'
                if rng.random() < 0.05:
                    delta = f'{{"{key}":{literal(rng, piece)},"role":"assistant"}}'
            yield "message", chunk(delta)
        tools += kind == "tool"
    if not script.truncated:
        yield "message", chunk("{}", '"stop"')
        yield "message", '{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}'
        yield "message", "[DONE]"


def responses_stream(rng: random.Random, script: Script) -> Iterator[str]:
    seq = 0
    sorted_fields = rng.random() < 0.4  # gpt-5.5 sorts a delta's fields by name (after its type)

    def frame(fields: str) -> str:
        nonlocal seq
        seq += 1
        number = f'"sequence_number":{seq},' if rng.random() < 0.7 else ""
        return "{" + fields[: fields.index(",") + 1] + number + fields[fields.index(",") + 1 :] + "}"

    def named(type: str) -> str:  # OpenAI names every event; a stream without the lines is valid too
        return type if rng.random() < 0.8 else ""

    def delta(type: str, ids: str, text: str) -> str:
        lit = literal(rng, text)
        if sorted_fields and rng.random() < 0.9:
            return sorted_delta(type, ids, lit)
        shape = rng.random()
        if shape < 0.4:
            body = f'"type":"{type}",{ids},"delta":{lit},"logprobs":[],"obfuscation":"{"ab" * rng.randint(1, 5)}"'
        elif shape < 0.7:
            body = f'"type":"{type}",{ids},"delta":{lit}'
        elif shape < 0.85:
            body = f'"type":"{type}",{ids},"logprobs":[],"delta":{lit}'
        elif shape < 0.92:
            body = f'"type":"{type}","delta":{lit},{ids}'
        elif shape < 0.96:
            body = f'"type":"{type}",{ids},"delta":{lit},"obfuscation":"a\\u0041"'
        else:  # the careful path reads the last of two keys
            body = f'"type":"{type}",{ids},"delta":{lit},' + rng.choice(
                ['"output_index":7', '"delta":"z"', '"type":"x"']
            )
        return frame(body)

    def sorted_delta(type: str, ids: str, lit: str) -> str:
        nonlocal seq
        seq += 1
        fields = {key: orjson.dumps(value).decode() for key, value in orjson.loads("{" + ids + "}").items()}
        fields["delta"] = lit
        if rng.random() < 0.1:  # another item's id: the careful path goes by the indices
            fields["item_id"] = '"msg_other"'
        if rng.random() < 0.8:
            fields["sequence_number"] = str(seq)
        if rng.random() < 0.7:
            fields["obfuscation"] = '"' + "xY" * rng.randint(0, 6) + '"'
        if type == "response.output_text.delta" and rng.random() < 0.5:
            fields["logprobs"] = "[]"
        trap = rng.random()
        if trap < 0.03:  # an index the block does not have
            fields["output_index"] = "77"
        elif trap < 0.06:  # a field the careful path reads, or one that is no plain JSON string
            fields[rng.choice(["summary_index", "content_index", "aaa"])] = rng.choice(['"x"', "5", '"a\\u0041"'])
        elif trap < 0.08:
            fields["item_id"] = rng.choice(['"a\\nb"', '"\\u0041"', "null"])
        body = ",".join(f'"{key}":{value}' for key, value in sorted(fields.items()))
        return f'{{"type":"{type}",{body}}}'

    yield "response.created", frame('"type":"response.created","response":{"id":"resp_1","model":"m","output":[]}')
    for position, (kind, pieces) in enumerate(script.blocks):
        if kind == "text":
            item = f'{{"id":"msg_{position}","type":"message","role":"assistant","content":[]}}'
            yield "", frame(f'"type":"response.output_item.added","output_index":{position},"item":{item}')
            ids = f'"item_id":"msg_{position}","output_index":{position},"content_index":0'
            yield "", frame(f'"type":"response.content_part.added",{ids},"part":{{"type":"output_text","text":""}}')
            for piece in pieces:
                yield named("response.output_text.delta"), delta("response.output_text.delta", ids, piece)
            yield "", frame(f'"type":"response.output_item.done","output_index":{position},"item":{item}')
        elif kind == "thinking":
            item = f'{{"id":"rs_{position}","type":"reasoning","summary":[]}}'
            yield "", frame(f'"type":"response.output_item.added","output_index":{position},"item":{item}')
            for number in range(rng.randint(1, 2)):
                ids = f'"item_id":"rs_{position}","output_index":{position},"summary_index":{number}'
                yield (
                    "",
                    frame(f'"type":"response.reasoning_summary_part.added",{ids},"part":{{"type":"summary_text"}}'),
                )
                for piece in pieces:
                    yield (
                        named("response.reasoning_summary_text.delta"),
                        delta("response.reasoning_summary_text.delta", ids, piece),
                    )
            yield "", frame(f'"type":"response.output_item.done","output_index":{position},"item":{item}')
        else:
            item = (
                f'{{"id":"fc_{position}","type":"function_call","call_id":"call_{position}","name":"f","arguments":""}}'
            )
            yield "", frame(f'"type":"response.output_item.added","output_index":{position},"item":{item}')
            for piece in pieces:
                at = position if rng.random() > 0.05 else position + 9
                yield (
                    named("response.function_call_arguments.delta"),
                    delta(
                        "response.function_call_arguments.delta",
                        f'"item_id":"fc_{position}","output_index":{at}',
                        piece,
                    ),
                )
            yield "", frame(f'"type":"response.output_item.done","output_index":{position},"item":{item}')
    if not script.truncated:
        yield "", frame('"type":"response.completed","response":{"id":"resp_1","model":"m","status":"completed"}')


GENERATORS = {"anthropic": anthropic_stream, "openai-chat": chat_stream, "openai-responses": responses_stream}


def sse(events: Iterator[tuple[str, Any]]) -> bytes:
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else orjson.dumps(data).decode()
        out.append((f"event: {name}\n" if name and name != "message" else "") + f"data: {text}\n\n")
    return "".join(out).encode()


# The formats whose readers have a fast path (gemini's has none yet: it reads every event the careful way).
@pytest.mark.parametrize("source", list(GENERATORS))
def test_fast_and_careful_agree_on_generated_streams(source: str) -> None:
    taken = one_frame = 0
    for seed in range(150):
        rng = random.Random(f"{source}-{seed}")
        body = sse(GENERATORS[source](rng, Script(rng)))
        cuts = sorted(rng.sample(range(len(body) + 1), min(len(body) + 1, rng.randint(0, 12))))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        taken += assert_same(source, body, pieces)
        frames = frames_of(body)
        assert_same(source, body, frames)
        one_frame += one_frame_chunks(source, "anthropic", frames)
    assert taken > 500  # the fast path really ran: most fragments are in its shapes
    assert one_frame > 200, one_frame  # and so did the one-frame path


@pytest.mark.parametrize(("source", "target"), [(s, t) for s, t in PAIRS if s in GENERATORS])
def test_each_writers_own_stream_read_back_agrees(source: str, target: str) -> None:
    """A writer's output read by its own format's reader (our own frame shapes), both paths."""
    for seed in range(30):
        rng = random.Random(f"{source}-{target}-{seed}")
        body = sse(GENERATORS[source](rng, Script(rng)))
        written, _conv, _calls = convert(source, target, [body], fast=False)
        assert_same(target, written)


def test_a_format_that_opts_into_nothing_reads_and_writes_as_before() -> None:
    """A reader with only ``event`` (no fast path) gets every event; a sink with only ``text`` and
    the like gets the decoded fragments of the literals another reader's fast path hands on."""

    class PlainReader(StreamReader):
        def event(self, name: str, data: str) -> None:
            self.sink.text(0, data)

    class PlainSink(StreamSink):
        def __init__(self) -> None:
            self.got: list[tuple[str, int, str]] = []

        def text(self, index: int, text: str) -> None:
            self.got.append(("text", index, text))

        def thinking(self, index: int, text: str) -> None:
            self.got.append(("thinking", index, text))

        def tool_input(self, index: int, fragment: str) -> None:
            self.got.append(("tool_input", index, fragment))

    sink = PlainSink()
    reader = PlainReader(sink, lambda message: None)
    reader.events([("message", "a"), ("message", "b")])
    reader.careful("message", "c")
    assert sink.got == [("text", 0, "a"), ("text", 0, "b"), ("text", 0, "c")]
    sink.got.clear()
    sink.text_literals(1, ['"x\\n"', '"\\u2028é"'])
    sink.thinking_literals(2, ['"🌍"'])
    sink.tool_input_literals(3, ['"{\\"a\\""', '":1}"'])
    assert sink.got == [("text", 1, "x\n"), ("text", 1, "\u2028é"), ("thinking", 2, "🌍"),
                        ("tool_input", 3, '{"a"'), ("tool_input", 3, ":1}")]  # fmt: skip


# --- the converter's one-frame path: what it must hand back ---------------------------------------


def _marked_stream(source: str, filler: str = "") -> bytes:
    """A text block and a tool call with ten fragments each, one of them "MARK", in ``source``'s
    shapes as crosswire's own writer sends them (whose fragment frames the one-frame path takes)."""
    frames = [
        ("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {}}}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
    ]
    texts = [f"w{i} " for i in range(10)]
    texts[6] = filler + "MARK"
    frames += [
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}})
        for t in texts
    ]
    frames += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
            },
        ),
    ]
    args = ['{"a', '":"', "x", "y", "MARK2", "z", "1", "2", "3", '"}']
    frames += [
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": a}},
        )
        for a in args
    ]
    frames += [
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 5}},
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    body = sse(iter(frames))
    if source == "anthropic":
        return body
    conv = StreamConverter("anthropic", source, created=1700000000)
    return conv.feed(body) + conv.close()


ODD_LITERALS = {
    "invalid UTF-8": b'"M\xffRK"',
    "an escape orjson writes differently": b'"M\\/RK"',
    "a non-ASCII character escaped": b'"M\\u00e9RK"',
    "an escaped surrogate pair": b'"M\\ud83d\\ude00RK"',
    "a lone surrogate, encoded": b'"M\xed\xa0\x80RK"',
    "an empty fragment": b'""',
}


@pytest.mark.parametrize("source", list(GENERATORS))
@pytest.mark.parametrize("odd", list(ODD_LITERALS))
def test_the_one_frame_path_hands_an_odd_literal_to_the_careful_path(source: str, odd: str) -> None:
    body = _marked_stream(source)
    frames = frames_of(body)
    assert one_frame_chunks(source, "anthropic", frames) >= 10  # armed before the odd frame comes
    for mark in (b'"MARK"', b'"MARK2"'):
        at = next(i for i, frame in enumerate(frames) if mark in frame)
        changed = [*frames[:at], frames[at].replace(mark, ODD_LITERALS[odd]), *frames[at + 1 :]]
        assert_same(source, b"".join(changed), changed)
        if odd == "invalid UTF-8":
            for target in NAMES:
                _out, conv, _calls = convert(source, target, changed, fast=True)
                assert INVALID_UTF8 in conv.warnings, target


@pytest.mark.parametrize("source", list(GENERATORS))
def test_the_one_frame_path_takes_only_a_whole_frame_of_the_open_block(source: str) -> None:
    """A fragment frame with more behind it, cut short, with CR line ends, another block's or
    one over the frame limit is the careful path's: the output is the same either way."""
    frames = frames_of(_marked_stream(source))
    at = next(i for i, frame in enumerate(frames) if b'"MARK"' in frame)
    odd_chunks = {
        "a frame and half the next": [frames[at] + frames[at + 1][:9], frames[at + 1][9:]],
        "half a frame": [frames[at][:-3], frames[at][-3:]],
        "CR LF line ends": [frames[at].replace(b"\n", b"\r\n")],
        "one more blank line": [frames[at] + b"\n"],
        "a comment line": [b": ping\n" + frames[at]],
        "an id line": [frames[at][:-1] + b"id: 7\n\n"],
        "two frames": [frames[at] + frames[at + 1]],
    }
    for name, chunks in odd_chunks.items():
        changed = [*frames[:at], *chunks, *frames[at + 1 + (name in ("a frame and half the next", "two frames")) :]]
        assert b"".join(changed).replace(b"\r\n", b"\n").replace(b": ping\n", b"").replace(b"id: 7\n", b"").replace(
            b"\n\n\n", b"\n\n"
        ) == b"".join(frames), name
        assert_same(source, b"".join(changed), changed)
    # a fragment frame over the frame limit ends the stream with an error, as the careful path does
    big = frames_of(_marked_stream(source, filler="M" * 2000))
    at = next(i for i, frame in enumerate(big) if b"MARK" in frame)
    limit = len(big[at]) - 3  # the frame's size: its bytes without the blank line, which is over by one
    assert max(len(frame) for frame in big[:at]) < limit
    assert_same(source, b"".join(big), big, max_frame=limit)
    out, conv, _calls = convert(source, "openai-chat", big, fast=True, max_frame=limit)
    assert conv.errored and str(limit).encode() in out


@pytest.mark.parametrize("source", list(GENERATORS))
def test_nothing_comes_after_the_end_while_the_one_frame_path_is_on(source: str) -> None:
    frames = frames_of(_marked_stream(source))
    at = next(i for i, frame in enumerate(frames) if b'"MARK"' in frame)
    conv = StreamConverter(source, "openai-chat", created=1700000000)
    for frame in frames[:at]:
        conv.feed(frame)
    assert conv._one is not None  # armed: the next fragment would be written from the template
    assert b'"error"' in conv.close() and conv.errored  # cut short: an error, never a clean end
    assert conv.feed(frames[at]) == b"" and conv.close() == b""


# --- a large fragment frame: read as bytes from the decoder's buffer -------------------------------


class LargeFrameCount:
    """Counts the frames a converter wrote by its large-frame path."""

    def __init__(self, conv: StreamConverter) -> None:
        self.taken = 0
        large = conv._large_frame

        def counted(whole: bytearray) -> bytes | None:
            out = large(whole)
            self.taken += out is not None
            return out

        conv._large_frame = counted  # type: ignore[method-assign]


def pieces_of(body: bytes, size: int = 1 << 16) -> list[bytes]:
    """Each frame in pieces of at most ``size`` bytes, as mitmproxy hands a large one over."""
    return [frame[at : at + size] for frame in frames_of(body) for at in range(0, len(frame), size)]


def large_body(source: str, filler: str, odd: bytes = b"") -> bytes:
    body = _marked_stream(source, filler=filler)
    if odd:
        body = body.replace(b'MARK"', b"MARK" + odd + b'"', 1)
    return body


@pytest.mark.parametrize("source", list(GENERATORS))
@pytest.mark.parametrize("filler", ["x", "é🌍\u2028"])
def test_a_large_fragment_frame_is_read_as_bytes_with_the_same_output(source: str, filler: str) -> None:
    body = large_body(source, filler * (300_000 // len(filler.encode())))
    # frame by frame (a large one in 64 KiB pieces), and in 64 KiB pieces of the whole stream,
    # where the piece that ends the large frame holds the next frames too
    for pieces in (pieces_of(body), [body[at : at + (1 << 16)] for at in range(0, len(body), 1 << 16)]):
        assert_same(source, body, pieces)
        for target in NAMES:
            conv = StreamConverter(source, target, created=1700000000)
            count = LargeFrameCount(conv)
            for piece in pieces:
                conv.feed(piece)
            conv.close()
            assert count.taken == 1, target  # the large frame is text: gemini's writer takes it too


@pytest.mark.parametrize("source", list(GENERATORS))
@pytest.mark.parametrize(
    "odd",
    [b"\xff", b"\\/", b"\\u00e9", b"\xed\xa0\x80", b'","extra":"1'],
    ids=["utf8", "slash", "u00e9", "surrogate", "key"],
)
def test_a_large_frame_it_cannot_copy_is_read_as_before(source: str, odd: bytes) -> None:
    body = large_body(source, "x" * 300_000, odd)
    pieces = pieces_of(body)
    assert_same(source, body, pieces)
    conv = StreamConverter(source, "openai-chat", created=1700000000)
    count = LargeFrameCount(conv)
    for piece in pieces:
        conv.feed(piece)
    conv.close()
    assert count.taken == 0
    if odd == b"\xff":
        assert INVALID_UTF8 in conv.warnings


def chat_opening_body(filler: str, opens: str, before: str) -> bytes:
    """An openai-chat stream whose large frame (``filler`` + MARK) is the first fragment of an
    ``opens`` block (text or thinking), after ``before`` (nothing, reasoning or text)."""
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m"}
    key = {"text": "content", "thinking": "reasoning_content"}

    def chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + orjson.dumps({**head, "choices": [choice]}) + b"\n\n"

    frames = [chunk({"role": "assistant", "content": ""})]
    if before != "nothing":
        frames += [chunk({key[before]: w}) for w in ("one ", "two ")]
    frames += [chunk({key[opens]: filler + "MARK"}), chunk({key[opens]: " after"})]
    if opens == "thinking":
        frames.append(chunk({"content": "answer"}))
    return b"".join([*frames, chunk({}, "stop"), b"data: [DONE]\n\n"])


@pytest.mark.parametrize(
    ("opens", "before"),
    [("text", "nothing"), ("text", "thinking"), ("thinking", "nothing"), ("thinking", "text")],
)
def test_a_large_frame_that_opens_a_chat_block_is_read_as_bytes_with_the_same_output(opens: str, before: str) -> None:
    body = chat_opening_body("é🌍x" * 40_000, opens, before)
    pieces = pieces_of(body)
    assert_same("openai-chat", body, pieces)
    for target in NAMES:
        conv = StreamConverter("openai-chat", target, created=1700000000)
        count = LargeFrameCount(conv)
        out = b"".join(conv.feed(piece) for piece in pieces) + conv.close()
        assert count.taken == 1 and conv.complete, target  # gemini's writer takes thinking as text
        assert b"MARK" in out and b"after" in out


@pytest.mark.parametrize(
    ("source", "target", "position"),
    [
        ("anthropic", "openai-chat", "the only fragment"),
        ("openai-chat", "anthropic", "the only fragment"),  # it opens the text block
        ("openai-chat", "openai-responses", "the only fragment"),  # which keeps the text for its .done
        ("anthropic", "openai-chat", "after others"),
        ("openai-chat", "anthropic", "after others"),
        ("openai-responses", "anthropic", "the only fragment"),
        ("openai-responses", "anthropic", "after others"),
    ],
)
def test_a_large_fragment_frame_costs_about_twice_its_size(source: str, target: str, position: str) -> None:
    """Peak traced memory while a 4 MiB fragment frame arrives in 64 KiB chunks: the decoder's
    buffer and the output, with the literal copied once between them (read as text it took 4-5x;
    an openai-chat frame that opened its block took 4x)."""
    import tracemalloc

    frames = frames_of(_marked_stream(source, filler="x" * (4 << 20)))
    at = next(i for i, frame in enumerate(frames) if b"MARK" in frame)
    before = frames[:at]
    if position == "the only fragment":  # no text fragment before it: the one-frame path is not on
        before = [frame for frame in before if not any(b'"w%d ' % i in frame for i in range(10))]
    conv = StreamConverter(source, target, created=1700000000)
    for frame in before:
        conv.feed(frame)
    assert (conv._one is None) == (position == "the only fragment")
    pieces = [frames[at][i : i + (1 << 16)] for i in range(0, len(frames[at]), 1 << 16)]
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        outs = [conv.feed(piece) for piece in pieces]  # as the client gets them (a join would copy)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    out = b"".join(outs)
    assert b"x" * 1000 in out and b"MARK" in out and not conv.errored
    assert peak < 2.3 * len(frames[at]), peak / len(frames[at])


def test_sorted_deltas_beyond_the_usual_indices_are_read_the_careful_way() -> None:
    """gpt-5.5's sorted deltas have a pattern per block's indices, compiled once each: only for the
    indices real streams use, so an upstream cannot make every block cost a compile."""
    from crosswire.formats import openai_responses

    path = next(iter(wire_files("openai_responses_stream_text_and_function_call.sse")), None)
    if path is None:
        pytest.skip("conformance corpus not found")
    body = path.read_bytes()
    assert assert_same("openai-responses", body) >= 18  # the usual indices: the fast path takes them
    far = body.replace(b'"output_index":1', b'"output_index":70').replace(b'"output_index":2', b'"output_index":71')
    compiled = openai_responses._compiled_sorted.cache_info().currsize
    assert assert_same("openai-responses", far) == 0  # the same bytes, every delta read the careful way
    assert openai_responses._compiled_sorted.cache_info().currsize == compiled
