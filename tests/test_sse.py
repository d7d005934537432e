"""The SSE codec against the WHATWG EventSource rules, the corpus and the anthropic SDK's decoder.

Expected events come from three places, never from the decoder itself: hand-written lists taken
from the spec text, ``spec_events`` below (a literal line-by-line transcription of the spec's
"interpreting an event stream" steps, deliberately built another way than the decoder), and the
anthropic SDK's own SSE decoder on the corpus.
"""

from __future__ import annotations

import itertools
import re
import tracemalloc
from collections.abc import Iterable
from pathlib import Path

import pytest
from anthropic._streaming import SSEDecoder as SDKDecoder
from conftest import wire_params
from crosswire.sse import (
    DEFAULT_MAX_FRAME,
    ServerSentEvent,
    SSEDecoder,
    SSEFrameTooLarge,
    encode_event,
    encode_events,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SSE_FILES = wire_params("*.sse")
BOM = b"\xef\xbb\xbf"

Event = tuple[str, str, str, int | None]  # (event, data, id, retry): compared as plain tuples, cheaply


def as_tuples(events: Iterable[ServerSentEvent]) -> list[Event]:
    return [(e.event, e.data, e.id, e.retry) for e in events]


def decode(chunks: Iterable[bytes], *, close: bool = True, max_frame: int = DEFAULT_MAX_FRAME) -> list[Event]:
    decoder = SSEDecoder(max_frame)
    events = [ev for chunk in chunks for ev in decoder.feed(chunk)]
    if close:
        events += decoder.close()
    return as_tuples(events)


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def spec_events(stream: bytes, *, dispatch_at_eof: bool) -> list[Event]:
    """The spec's algorithm, step by step, on the whole stream at once.

    ``dispatch_at_eof`` models crosswire's one documented difference (``close()``): the end of
    the stream ends the last line and the last event. ``retry`` is the value of the last valid
    ``retry`` field of the event's own block (the spec only sets the reconnection time).
    """
    text = stream.decode("utf-8", "replace")  # UTF-8 decode, which strips one leading BOM
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.split("\r\n|\r|\n", text)
    if dispatch_at_eof:
        lines.append("")  # the unterminated last line counts, then a blank line dispatches
    else:
        lines.pop()  # "any pending data must be discarded": the unterminated last line
    events: list[Event] = []
    data_buf, type_buf, last_id_buf, retry = "", "", "", None
    last_id = ""
    for line in lines:
        if line == "":
            last_id = last_id_buf
            if data_buf == "":
                type_buf, retry = "", None
                continue
            if data_buf.endswith("\n"):
                data_buf = data_buf[:-1]
            events.append((type_buf or "message", data_buf, last_id, retry))
            data_buf, type_buf, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            field, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "event":
            type_buf = value
        elif field == "data":
            data_buf += value + "\n"
        elif field == "id":
            if "\0" not in value:
                last_id_buf = value
        elif field == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


# --- hand-written expectations, one spec rule each ---------------------------------------------------


def ev(data: str, event: str = "message", id: str = "", retry: int | None = None) -> Event:
    return (event, data, id, retry)


SPEC_CASES = [
    # line ends: LF, CR, CRLF, and mixed in one stream
    (b"data: a\n\n", [ev("a")]),
    (b"data: a\r\r", [ev("a")]),
    (b"data: a\r\n\r\n", [ev("a")]),
    (b"data: a\rdata: b\r\n\ndata: c\n\r", [ev("a\nb"), ev("c")]),
    # comments, including one that is only a colon, and one between data lines
    (b": keep-alive\n\n:\n\ndata: a\n: note\ndata: b\n\n", [ev("a\nb")]),
    # "data:" with and without the space; only one space is removed; no colon at all
    (b"data:a\n\ndata: a\n\ndata:  a\n\ndata\n\n", [ev("a"), ev("a"), ev(" a"), ev("")]),
    # multi-line data keeps empty lines in the middle, drops only the one final LF
    (b"data: a\ndata:\ndata: b\n\ndata:\ndata:\n\n", [ev("a\n\nb"), ev("\n")]),
    # an empty data field dispatches ""
    (b"data:\n\n", [ev("")]),
    # unknown fields are ignored; field names are case-sensitive and end at the colon
    (b"foo: bar\ndata: a\nDATA: b\ndata : c\n\n", [ev("a")]),
    (b"Data: x\n\n", []),
    # event sets the type for one event only; an empty type is "message"
    (b"event: ping\ndata: p\n\ndata: m\n\nevent:\ndata: e\n\n", [ev("p", "ping"), ev("m"), ev("e")]),
    # an event with no data field is not dispatched, and its type does not leak to the next one
    (b"event: lost\n\ndata: b\n\n", [ev("b")]),
    (b"event: only\nid: 1\nretry: 5\n\n", []),
    # id: the last event ID persists until changed; set by an undispatched block too; "id" alone clears it
    (
        b"id: 1\ndata: a\n\ndata: b\n\nid: 2\n\ndata: c\n\nid\ndata: d\n\n",
        [ev("a", id="1"), ev("b", id="1"), ev("c", id="2"), ev("d")],
    ),
    # an id containing NUL is ignored as a whole
    (b"id: 7\ndata: a\n\nid: x\x00y\ndata: b\n\n", [ev("a", id="7"), ev("b", id="7")]),
    # retry: ASCII digits only, else ignored; it belongs to its own event
    (b"retry: 1500\ndata: a\n\ndata: b\n\n", [ev("a", retry=1500), ev("b")]),
    (
        b"retry: 15x\ndata: a\n\nretry: -1\ndata: b\n\nretry: 1.5\ndata: c\n\nretry:\ndata: d\n\n",
        [ev("a"), ev("b"), ev("c"), ev("d")],
    ),
    ("retry: ١٢\ndata: a\n\n".encode(), [ev("a")]),  # Arabic-Indic digits are digits, but not ASCII
    # blank lines beyond the one that ends a frame dispatch nothing
    (b"\n\n\ndata: a\n\n\n\n\ndata: b\n\n", [ev("a"), ev("b")]),
    # data is kept as sent: NUL, colons, non-ASCII, a BOM character in the middle of the stream
    ("data: a\x00b: c — é \ufeff\n\n".encode(), [ev("a\x00b: c — é \ufeff")]),
    # invalid UTF-8 becomes U+FFFD, it does not raise
    (b"data: a\xffb\n\n", [ev("a\ufffdb")]),
]


@pytest.mark.parametrize(("stream", "expected"), SPEC_CASES)
def test_spec_rule(stream: bytes, expected: list[Event]) -> None:
    assert decode([stream]) == expected
    assert decode([bytes([b]) for b in stream]) == expected  # one byte at a time
    assert spec_events(stream, dispatch_at_eof=False) == expected  # the model agrees with the spec text


def test_bom_is_stripped_once_and_only_at_the_start() -> None:
    assert decode([BOM + b"data: a\n\n"]) == [ev("a")]
    for cut in range(1, 4):  # the BOM split across chunks
        assert decode([(BOM + b"data: a\n\n")[:cut], (BOM + b"data: a\n\n")[cut:]]) == [ev("a")]
    assert decode([b"\xef", b"\xbb", b"\xbf", b"data: a\n\n"]) == [ev("a")]
    # a second BOM is text: it becomes part of the first field name, which is then unknown
    assert decode([BOM + BOM + b"data: a\n\ndata: b\n\n"]) == [ev("b")]
    # a BOM later in the stream is not stripped either
    assert decode([b"data: a\n\n" + BOM + b"data: b\n\n"]) == [ev("a")]
    # the start of a BOM that does not complete is invalid UTF-8, not swallowed
    assert decode([b"\xef\xbb", b"data: a\n\ndata: b\n\n"]) == [ev("b")]
    assert decode([b"\xef\xbb"]) == []


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # Read as CR then LF, the LF would be a blank line and dispatch "a" on its own.
    assert decode([b"data: a\r", b"\ndata: b\r\n\r\n"]) == [ev("a\nb")]
    assert decode([b"data: a\r", b"", b"\ndata: b\r\n", b"\r", b"\n"]) == [ev("a\nb")]
    # a CR at the end of a chunk is a line end by itself when no LF follows
    assert decode([b"data: a\r", b"\r"]) == [ev("a")]
    assert decode([b"data: a\r", b"data: b\r\r"]) == [ev("a\nb")]


def test_utf8_character_split_across_chunks() -> None:
    stream = "data: é€😀\n\n".encode()
    for cut in range(len(stream) + 1):
        assert decode(split_at(stream, [cut])) == [ev("é€😀")]


def test_close_dispatches_the_last_event_without_its_blank_line() -> None:
    # A browser drops these; crosswire's close() delivers them (module docstring, README).
    decoder = SSEDecoder()
    assert as_tuples(decoder.feed(b"data: a\n\nevent: message_stop\ndata: {}")) == [ev("a")]
    assert as_tuples(decoder.close()) == [ev("{}", "message_stop")]
    assert decode([b"data: a\n"]) == [ev("a")]
    assert decode([b"data: a\r"]) == [ev("a")]
    assert decode([b"id: 3\ndata: a\ndata: b"]) == [ev("a\nb", id="3")]
    # nothing to deliver: a complete stream, a comment, a block without data
    assert decode([b"data: a\n\n"]) == [ev("a")]
    assert decode([b": bye"]) == []
    assert decode([b"event: x\n"]) == []
    assert decode([b""]) == []
    decoder = SSEDecoder()
    decoder.feed(b"data: a")
    assert as_tuples(decoder.close()) == [ev("a")]
    assert decoder.close() == []  # the frame was delivered once


# --- frame size limit --------------------------------------------------------------------------------


def decode_until_error(chunks: Iterable[bytes], max_frame: int) -> tuple[list[Event], SSEFrameTooLarge | None]:
    decoder = SSEDecoder(max_frame)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        events += decoder.close()
    except SSEFrameTooLarge as exc:
        return as_tuples(events), exc
    return as_tuples(events), None


LIMIT_FRAMES = [  # 15 bytes each, counted with LF line ends and without the blank line
    (b"data: a\ndata: b", ev("a\nb")),
    (b"data: abcdefghi", ev("abcdefghi")),
    (b"event: e\ndata: ", ev("", "e")),
]


@pytest.mark.parametrize(("frame", "expected"), LIMIT_FRAMES)
@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("gap", [b"", b"\n"], ids=["no-gap", "extra-blank-line"])
def test_frame_limit_counts_the_frame_without_its_blank_line(
    frame: bytes, expected: Event, end: bytes, gap: bytes
) -> None:
    # After a first small frame, so that the one-frame-per-chunk path is in play too; an extra
    # blank line before the frame is not part of it.
    stream = (b"data: z\n\n" + gap + frame + b"\n\n").replace(b"\n", end)
    first = len(b"data: z\n\n".replace(b"\n", end))
    for chunks in (
        *(split_at(stream, [first, cut]) for cut in range(first, len(stream) + 1)),
        [bytes([b]) for b in stream],
        [stream],
    ):
        assert decode_until_error(chunks, 15) == ([ev("z"), expected], None)
        events, error = decode_until_error(chunks, 14)
        assert events == [ev("z")]
        assert error is not None and "14-byte limit" in str(error)
    # a frame that close() delivers is bound by the same limit
    assert decode_until_error([frame], 15) == ([expected], None)
    assert decode_until_error([frame], 14)[1] is not None


def test_oversized_frame_raises_while_still_arriving() -> None:
    decoder = SSEDecoder(max_frame=1000)
    fed = 0
    with pytest.raises(SSEFrameTooLarge) as info:
        decoder.feed(b"data: ")
        for _ in range(100):
            decoder.feed(b"x" * 10)
            fed += 10
    assert info.value.limit == 1000
    assert "max_frame=1000" in str(info.value)
    assert fed <= 1000  # raised as soon as the frame passed the limit, never holding more than one chunk over it
    with pytest.raises(SSEFrameTooLarge):  # the decoder stays failed
        decoder.feed(b"\n\ndata: a\n\n")
    with pytest.raises(SSEFrameTooLarge):
        decoder.close()


def test_oversized_frame_in_tiny_chunks_keeps_memory_bounded() -> None:
    # 20 MiB of one never-ending line, 1 KiB at a time, against the default 16 MiB limit.
    piece = b"x" * 1024
    decoder = SSEDecoder()
    tracemalloc.start()
    try:
        decoder.feed(b"data: ")
        with pytest.raises(SSEFrameTooLarge, match=f"{DEFAULT_MAX_FRAME}-byte limit"):
            for _ in range(20 * 1024):
                decoder.feed(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * DEFAULT_MAX_FRAME  # the buffer grew in place, once, to just over the limit


def test_frames_before_an_oversized_one_are_delivered_first() -> None:
    big = b"data: " + b"x" * 200 + b"\n\n"
    decoder = SSEDecoder(max_frame=100)
    assert as_tuples(decoder.feed(b"data: a\n\n" + big + b"data: b\n\n")) == [ev("a")]
    with pytest.raises(SSEFrameTooLarge):
        decoder.feed(b"")
    decoder = SSEDecoder(max_frame=100)
    assert as_tuples(decoder.feed(b"data: a\n\n" + big[:150])) == [ev("a")]
    with pytest.raises(SSEFrameTooLarge):
        decoder.close()
    with pytest.raises(SSEFrameTooLarge):
        SSEDecoder(max_frame=100).feed(big)
    decoder = SSEDecoder(max_frame=100)
    assert as_tuples(decoder.feed(b"data: a\n\n")) == [ev("a")]
    with pytest.raises(SSEFrameTooLarge):
        decoder.feed(big)  # one frame per chunk, the shape of the fast path
    with pytest.raises(SSEFrameTooLarge):
        decoder.feed(b"data: b\n\n")  # the decoder stays failed


# --- generated streams: the spec model, split invariance, line-end variants ----------------------------

FIELD_NAMES = ["data", "data", "data", "event", "id", "retry", "foo", "Data", "data ", "", "\ufeffdata"]
VALUE_TEXT = st.text(alphabet=st.sampled_from("ab :0719\x00é€😀\ufeff\t"), max_size=8)
RAW_VALUE = st.one_of(
    VALUE_TEXT.map(str.encode),
    st.sampled_from([b"\xff", b"\xe2\x82", b"\xef\xbb", b"12", b"007", b" 5"]),
)


@st.composite
def raw_lines(draw: st.DrawFn) -> list[bytes]:
    """SSE lines without their line ends: fields (with and without colon/space), comments, blanks."""
    kind = st.sampled_from(["field", "field", "field", "comment", "blank", "blank"])
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        match draw(kind):
            case "field":
                name = draw(st.sampled_from(FIELD_NAMES)).encode()
                sep = draw(st.sampled_from([b": ", b":", b":  ", b""]))
                lines.append(name + sep + (draw(RAW_VALUE) if sep else b""))
            case "comment":
                lines.append(b":" + draw(RAW_VALUE))
            case _:
                lines.append(b"")
    return lines


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """A stream with any mix of LF, CR and CRLF line ends, maybe a BOM, maybe an unterminated end."""
    lines = draw(raw_lines())
    ends = st.sampled_from([b"\n", b"\r", b"\r\n"])
    body = b"".join(line + draw(ends) for line in lines)
    if draw(st.booleans()):
        body += draw(RAW_VALUE) if draw(st.booleans()) else b"data: tail"
    return (BOM if draw(st.booleans()) else b"") + body


@settings(max_examples=300)
@given(streams())
def test_generated_stream_matches_the_spec_model(stream: bytes) -> None:
    decoder = SSEDecoder()
    assert as_tuples(decoder.feed(stream)) == spec_events(stream, dispatch_at_eof=False)
    assert decode([stream]) == spec_events(stream, dispatch_at_eof=True)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_generated_stream_split_at_every_offset(stream: bytes) -> None:
    whole = decode([stream])
    for cut in range(len(stream) + 1):
        assert decode([stream[:cut], stream[cut:]]) == whole, cut


@given(streams(), st.lists(st.integers(0, 10_000), max_size=12))
def test_generated_stream_multiway_split(stream: bytes, cuts: list[int]) -> None:
    chunks = split_at(stream, [c % (len(stream) + 1) for c in cuts])  # repeated cuts give empty chunks
    assert decode(chunks) == decode([stream])
    assert decode(chunks, close=False) == decode([stream], close=False)


def decode_pairs(chunks: Iterable[bytes]) -> list[tuple[str, str]]:
    decoder = SSEDecoder()
    return [pair for chunk in chunks for pair in decoder.feed_pairs(chunk)]


@given(streams(), st.lists(st.integers(0, 10_000), max_size=12))
def test_feed_pairs_gives_the_type_and_data_of_feed(stream: bytes, cuts: list[int]) -> None:
    # The converters' hot path must see exactly the events ``feed`` dispatches, however split.
    chunks = split_at(stream, [c % (len(stream) + 1) for c in cuts])
    assert decode_pairs(chunks) == [(event, data) for event, data, _, _ in decode([stream], close=False)]


def decode_pairs_taking_frames(chunks: Iterable[bytes]) -> list[tuple[str, str]]:
    """``decode_pairs``, but every chunk that ends a held-back frame goes through ``take_frame``
    first: the frame it hands over and the rest, each read from an idle decoder, must be the same."""
    decoder = SSEDecoder()
    pairs = []
    for chunk in chunks:
        taken = decoder.take_frame(chunk)
        if taken is None:
            pairs += decoder.feed_pairs(chunk)
            continue
        frame, rest = taken
        assert decoder.idle and frame.endswith(b"\n\n")
        pairs += decoder.feed_pairs(bytes(frame))
        pairs += decoder.feed_pairs(rest)
    return pairs


@given(streams(), st.lists(st.integers(0, 10_000), max_size=12))
def test_a_frame_taken_as_bytes_reads_as_the_decoder_would(stream: bytes, cuts: list[int]) -> None:
    chunks = split_at(stream, [c % (len(stream) + 1) for c in cuts])
    assert decode_pairs_taking_frames(chunks) == decode_pairs(chunks)


def test_take_frame_only_where_a_chunk_ends_the_held_frame() -> None:
    decoder = SSEDecoder()
    assert decoder.feed_pairs(b"data: a\n\ndata: b") == [("message", "a")]
    assert decoder.take_frame(b"c") is None and decoder.take_frame(b"\n") is None  # no blank line yet
    assert decoder.take_frame(b"\r\n\r\n") is None  # CR line ends: the general path's
    assert decoder.held == len(b"data: b")
    assert decoder.take_frame(b"c\n\ndata: d") == (bytearray(b"data: bc\n\n"), b"data: d")
    decoder = SSEDecoder()
    decoder.feed_pairs(b"data: x\n\ndata: y\n")
    assert decoder.take_frame(b"\nnext") == (bytearray(b"data: y\n\n"), b"next")  # the blank line straddles
    small = SSEDecoder(max_frame=10)
    small.feed_pairs(b"data: x\n\ndata: 1234")
    assert small.take_frame(b"5\n\n") is None  # over the limit: the general path fails the stream


@given(raw_lines(), st.booleans())
def test_lf_cr_crlf_decode_alike(lines: list[bytes], unterminated: bool) -> None:
    variants = [
        b"".join(line + end for line in lines) + (b"data: tail" if unterminated else b"")
        for end in (b"\n", b"\r", b"\r\n")
    ]
    lf = decode([variants[0]])
    assert decode([variants[1]]) == lf
    assert decode([variants[2]]) == lf
    assert lf == spec_events(variants[0], dispatch_at_eof=True)


# --- encoder ------------------------------------------------------------------------------------------


def test_encode_event_shapes() -> None:
    assert encode_event("a") == b"data: a\n\n"
    assert encode_event("a\nb\n") == b"data: a\ndata: b\ndata: \n\n"
    assert encode_event("a\r\nb\rc") == b"data: a\ndata: b\ndata: c\n\n"
    assert encode_event("") == b"data: \n\n"
    assert encode_event("{}", event="ping", id="7", retry=3000) == b"event: ping\nid: 7\nretry: 3000\ndata: {}\n\n"
    assert encode_event("x", event="message") == b"data: x\n\n"  # the default type needs no line
    assert encode_event("x", id="") == b"id\ndata: x\n\n"  # clears the last event ID
    assert encode_event("é") == "data: é\n\n".encode()


@pytest.mark.parametrize(("field", "value"), [("event", "a\nb"), ("event", "a\rb"), ("id", "1\n2"), ("id", "1\x002")])
def test_encode_event_rejects_what_cannot_be_framed(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        encode_event("x", **{field: value})


LINE_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=12)
DECODED_EVENTS = st.lists(
    st.builds(
        ServerSentEvent,
        data=st.lists(LINE_TEXT, min_size=1, max_size=3).map("\n".join),
        event=st.one_of(st.just("message"), LINE_TEXT.filter(bool)),
        id=st.sampled_from(["", "1", "abc", " x"]),
        retry=st.one_of(st.none(), st.integers(0, 10**6)),
    ),
    max_size=8,
)


@given(DECODED_EVENTS)
def test_decode_of_encode_is_identity(events: list[ServerSentEvent]) -> None:
    assert SSEDecoder().feed(encode_events(events)) == events


def test_event_equality_and_repr() -> None:
    assert ServerSentEvent("a", "x", "1", 5) == ServerSentEvent("a", "x", "1", 5)
    assert ServerSentEvent("a") == ServerSentEvent("a", "message", "", None)
    assert ServerSentEvent("a") != ServerSentEvent("a", retry=1)
    assert ServerSentEvent("a") != ("message", "a", "", None)
    assert repr(ServerSentEvent("a", "x")) == "ServerSentEvent(event='x', data='a', id='', retry=None)"


# --- the corpus ---------------------------------------------------------------------------------------


def frame_segments(data: bytes, size: int = 700) -> list[bytes]:
    """The stream cut after blank lines into runs of whole frames of about ``size`` bytes."""
    segments, start, pos = [], 0, 0
    while (end := data.find(b"\n\n", pos)) >= 0:
        pos = end + 2
        if pos - start >= size:
            segments.append(data[start:pos])
            start = pos
    segments.append(data[start:])
    return [s for s in segments if s]


@pytest.mark.parametrize("path", SSE_FILES)
def test_corpus_split_at_every_offset(path: Path) -> None:
    """Every byte offset of the file is a split point, in its LF form and with CRLF line ends.

    Each split decodes the run of whole frames around it rather than the whole file (the corpus
    has no ``id`` fields, so runs are independent streams); whole-file splits are below.
    Splitting between CR and LF is covered by every run without a multi-KiB frame, and by the
    generated streams.
    """
    data = path.read_bytes()
    assert b"\r" not in data and b"\nid:" not in data  # what makes the runs independent
    for segment in frame_segments(data):
        # CRLF too, except for runs holding a frame of several KiB (the cost grows with the square)
        crlf = [segment.replace(b"\n", b"\r\n")] if len(segment) <= 4096 else []
        for variant in (segment, *crlf):
            whole = decode([variant])
            for cut in range(len(variant) + 1):
                assert decode([variant[:cut], variant[cut:]]) == whole, (path.name, cut)


@pytest.mark.parametrize("path", SSE_FILES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, 1 << 20), min_size=1, max_size=40), ending=st.sampled_from([b"\n", b"\r", b"\r\n"]))
def test_corpus_multiway_split(path: Path, cuts: list[int], ending: bytes) -> None:
    data = path.read_bytes()
    whole = decode([data])
    variant = data.replace(b"\n", ending)
    assert decode(split_at(variant, [c % (len(variant) + 1) for c in cuts])) == whole
    assert decode([bytes([b]) for b in variant[:3000]]) == decode([variant[:3000]])  # byte by byte


@pytest.mark.parametrize("path", SSE_FILES)
def test_corpus_matches_anthropic_sdk_decoder(path: Path) -> None:
    data = path.read_bytes()
    sdk = [(s.event or "message", s.data) for s in SDKDecoder().iter_bytes(iter([data]))]
    decoder = SSEDecoder()
    ours = decoder.feed(data)
    assert [(e.event, e.data) for e in ours] == sdk
    # Where the file ends without a blank line, the SDK (like a browser) drops the last event;
    # close() delivers it, exactly as the SDK reads it once the blank line is there.
    last = decoder.close()
    if data.endswith(b"\n\n"):
        assert last == []
    else:
        completed = [(s.event or "message", s.data) for s in SDKDecoder().iter_bytes(iter([data + b"\n\n"]))]
        assert [(e.event, e.data) for e in ours + last] == completed
        assert len(last) == 1
    assert ours + last, "every transcript holds events"


@pytest.mark.parametrize("path", SSE_FILES)
def test_corpus_reencodes_to_the_same_events(path: Path) -> None:
    events = decode_events(path.read_bytes())
    assert SSEDecoder().feed(encode_events(events)) == events


def decode_events(data: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return [*decoder.feed(data), *decoder.close()]


def test_invalid_utf8_is_replaced_and_reported() -> None:
    clean = SSEDecoder()
    assert as_tuples(clean.feed("data: caf\u00e9\n\n".encode())) == [ev("caf\u00e9")]
    assert not clean.invalid_utf8
    for chunks in ([b"data: a\xffb\n\n"], [b"data: a\xff", b"b\n\n"], [b"data: a\xffb"]):  # fast, slow, close paths
        decoder = SSEDecoder()
        events = [e for c in chunks for e in decoder.feed(c)] + decoder.close()
        assert as_tuples(events) == [ev("a\ufffdb")], chunks
        assert decoder.invalid_utf8, chunks
