"""What every format's stream reader and writer share."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import orjson

from ..events import Native, StreamSink, Usage
from ..options import Options

log = logging.getLogger("crosswire")

# The id prefix of each registered format's message object (set by the registry): ids are
# re-prefixed, never invented, so a round trip through any format gives the original id back.
ID_PREFIXES: tuple[str, ...] = ()


# The id prefixes of a hosted web search call: anthropic server_tool_use, openai-responses web_search_call.
SEARCH_ID_PREFIXES = ("srvtoolu_", "ws_")


def derive_id(source_id: str, prefix: str, others: tuple[str, ...] | None = None) -> str:
    """An id with ``prefix`` derived from any format's id (kept when it already has the prefix;
    an empty prefix, a format whose ids have none, takes the others off); ``others`` are the
    prefixes it may have instead (default: the message id prefixes)."""
    source_id = source_id or "crosswire"
    if prefix and source_id.startswith(prefix):
        return source_id
    for other in ID_PREFIXES if others is None else others:
        if source_id.startswith(other):
            return prefix + source_id[len(other) :]
    return prefix + source_id


Warn = Callable[[str], None]


def _ignore(message: str) -> None:
    pass


# --- the native carrier (events.Native): what a format's readers keep and its writers put back


def informative(value: Any) -> bool:
    """Whether dropping ``value`` loses anything: null, zero, false and empty (nested) values do not."""
    if isinstance(value, dict):
        return any(informative(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return value not in (None, 0, "", False)


def extra_fields(obj: dict[str, Any], modelled: frozenset[str] | set[str]) -> dict[str, Any]:
    """The fields of ``obj`` the canonical model does not hold."""
    return {k: v for k, v in obj.items() if k not in modelled}


# How the provider served the request, not what it answered: kept for a client of the source's own
# format, dropped without a warning for any other (docs/mapping.md, "The native carrier").
SERVING_FIELDS = frozenset(("service_tier", "inference_geo", "system_fingerprint", "speed"))


def native_fields(
    format: str, fields: dict[str, Any], where: str, defaults: dict[str, Any] | None = None
) -> Native | None:
    """A carrier for unmodelled fields (``{"usage": {...}, "stop_details": ...}``); its warning names
    the informative ones as dotted paths (not the serving metadata, nor a field at its ``defaults``
    value). None when there are none."""
    if not fields:
        return None
    names = _paths(fields, "", defaults or {})
    what = f"{format} {where} field{'s' if len(names) > 1 else ''} {', '.join(names)}" if names else ""
    return Native(format, fields, what)


def _paths(fields: dict[str, Any], prefix: str, defaults: dict[str, Any]) -> list[str]:
    names = []
    for key, value in fields.items():
        if isinstance(value, dict) and value and key in ("usage", "delta"):  # containers: name what is inside
            names += _paths(value, f"{prefix}{key}.", defaults)
        elif informative(value) and key not in SERVING_FIELDS and defaults.get(key, ...) != value:
            names.append(prefix + key)
    return names


def own_native(carrier: Native | None, format: str, warn: Warn) -> dict[str, Any] | None:
    """The carrier's data when it is ``format``'s own; any other carrier is dropped with its warning."""
    if carrier is None:
        return None
    if carrier.format == format:
        return carrier.data
    if carrier.what:
        warn(f"{carrier.what}: no equivalent in {format}, dropped")
    return None


def merge_native(out: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """``out`` with ``data`` written over it; objects merge key by key, so a field crosswire always
    writes (one the newest SDKs require) stays when the source's own object lacked it."""
    for key, value in data.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = merge_native(dict(current), value)
        else:
            out[key] = value
    return out


# --- the whole-frame fast path ----------------------------------------------------------------
#
# Almost every frame of a stream is one fragment (a text, thinking or tool-argument delta) of the
# open block, in the same bytes as the frame before it but for the fragment. A reader that opts in
# expects such a frame while a block is open: it recognises it by its text (the format's delta
# frame with the ids the block started with, and the few fields it may carry that the careful path
# ignores), checks that the fragment's JSON string literal is exactly what orjson would write for
# its value (:func:`copyable`, or :data:`NONEMPTY_LITERAL` in a pattern), and hands the literals of
# a run of such frames on at once without parsing them (``StreamSink.text_literals`` and the like;
# the converter gives a reader all the frames of a chunk in one call, ``events``). A writer that
# opts in copies them into its own frame template. Anything else (another key, another index,
# whitespace, an escape orjson writes differently, a state change) takes the careful path, which
# stays the default: a format that opts into nothing (its reader expects no frame, its writer keeps
# the sink's decoding defaults) is correct unchanged. tests/test_stream_fastframes.py proves that
# both paths write the same bytes.

# Never the start of a data line (a line holds no LF): the prefix while no fragment frame is expected.
NO_FRAME = "\n"

# A JSON string literal as orjson writes one: UTF-8 characters as they are, except the quote, the
# backslash and the control characters, which it escapes as \" \\ \b \f \n \r \t or \u00XX (lower
# case). Nothing else (\/, \u00e9, an escaped surrogate pair) would come out of a decode and
# re-encode the same. No surrogate code point either: one cannot be encoded as UTF-8.
ORJSON_LITERAL = (
    r'"[^"\\\x00-\x1f\ud800-\udfff]*'
    r'(?:\\(?:["\\bfnrt]|u00(?:0[0-7bef]|1[0-9a-f]))[^"\\\x00-\x1f\ud800-\udfff]*)*"'
)
_orjson_literal = re.compile(ORJSON_LITERAL).fullmatch
# The same, but never the empty string (fast paths pass no empty fragment on).
NONEMPTY_LITERAL = '"(?!")' + ORJSON_LITERAL[1:]
# The same over UTF-8 bytes: the surrogates are not excluded here because their UTF-8 form is not
# valid UTF-8, which the one-frame path checks (``bytes.decode``) for every literal that is not ASCII.
NONEMPTY_LITERAL_BYTES = NONEMPTY_LITERAL.replace(r"\ud800-\udfff", "").encode()


def copyable(literal: str) -> bool:
    """Whether ``literal`` (a JSON string literal, quotes included) is exactly what ``orjson.dumps``
    writes for the string it stands for, so that copying it equals decoding and re-encoding it."""
    if "\\" not in literal and literal.count('"') == 2 and literal.isprintable():  # the common case
        return literal[0] == '"' == literal[-1]
    inner = literal[1:-1]
    if "\\" in inner:  # the escapes of the common text and argument fragments, then the regex
        inner = inner.replace("\\\\", "").replace('\\"', "").replace("\\n", "")
        if "\\" in inner:
            return _orjson_literal(literal) is not None
    if '"' not in inner and inner.isprintable():
        return literal[0] == '"' == literal[-1] and len(literal) > 1
    return _orjson_literal(literal) is not None


class Template(bytes):
    """``head %s end`` (the ``%`` in the constant parts doubled), which also keeps its two parts:
    ``%`` over-allocates by a quarter, so a large literal is joined to them instead."""

    head: bytes
    end: bytes


def template(head: bytes, end: bytes) -> Callable[[bytes], bytes]:
    """``literal -> head + literal + end``, as one C call (the bound ``%`` of a :class:`Template`)."""
    made = Template(head.replace(b"%", b"%%") + b"%s" + end.replace(b"%", b"%%"))
    made.head, made.end = head, end
    return made.__mod__


def plain_string(value: str) -> bool:
    """Whether ``value`` is the whole content of a JSON string literal with nothing escaped in it."""
    return '"' not in value and "\\" not in value and value.isprintable()


class OneFrame(NamedTuple):
    """A fragment frame as bytes, for a chunk that is that frame and nothing else (SSE's event and
    data lines and the blank line): it starts with ``prefix``, and ``rest`` matches the remainder
    (``rest(chunk, len(prefix))``) with ``key`` in group 1 (the ids the prefix cannot hold, such as
    a sequence number's neighbours; often empty) and the fragment's literal in group 2, in the
    pattern :data:`NONEMPTY_LITERAL_BYTES`. ``kind`` and ``block`` say whose fragment it is;
    ``opens``: the frame opens that block with its first fragment (:meth:`StreamReader.opening_frames`)."""

    prefix: bytes
    rest: Callable[[bytes | bytearray, int], re.Match[bytes] | None]
    key: bytes
    kind: str
    block: int
    opens: bool = False

    def literal_span(self, data: bytes | bytearray) -> tuple[int, int] | None:
        """Where the literal is when ``data`` is this frame; None when it is not. (The converter's
        one-frame path does the same inline: it runs once per chunk.)"""
        if not data.startswith(self.prefix):
            return None
        match = self.rest(data, len(self.prefix))
        return match.span(2) if match is not None and match[1] == self.key else None


class StreamReader:
    """Turns one format's SSE events into canonical events on ``sink``."""

    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        self.sink = sink
        self.warn = warn
        self.done = False  # ended or failed: later events are ignored
        # The block lifecycle every reader shares: one canonical block open at a time, numbered in order.
        self._open = -1  # canonical index of the open block, -1 when none
        self._open_kind = ""
        self.blocks = 0  # content blocks started so far (public: the addon times the first content by it)
        # The fragment frame expected next (see "the whole-frame fast path"): its text up to the
        # literal's opening quote, and where the fragments go. Reset whenever a block opens or closes.
        self._frame_head = NO_FRAME
        self._frame_kind = "text"  # the fragment kind: text, thinking or tool_input
        self._frame_emit: Callable[[int, list[str]], None] = sink.text_literals
        self._frame_index = -1
        # The last event ``events`` read was such a fragment, so another one changes nothing in the
        # reader or the writer but the output (the converter's one-frame path relies on it).
        self._primed = False

    def event(self, name: str, data: str) -> None:
        """One SSE event: its type (``message`` when the frame named none) and its data."""
        raise NotImplementedError

    def events(self, pairs: Iterable[tuple[str, str]]) -> None:
        """The events of a chunk, in order. A reader with a fast path overrides it (and ``event``,
        to go through it, and ``careful``, the reading of one event without it)."""
        event = self.event
        for name, data in pairs:
            event(name, data)

    def careful(self, name: str, data: str) -> None:
        """One event, read without the whole-frame fast path (tests compare the two)."""
        self.event(name, data)

    def _expect_frames(self, head: str, kind: str, index: int) -> None:
        """From now until the open block changes, frames starting with ``head`` (up to and with the
        opening quote of the fragment's literal) may be ``kind`` fragments (text, thinking or
        tool_input) of block ``index``, for the sink's ``<kind>_literals``."""
        self._frame_head, self._frame_kind, self._frame_index = head, kind, index
        self._frame_emit = getattr(self.sink, kind + "_literals")

    def fragment_frame(self, first: bool = False) -> OneFrame | None:
        """The converter's one-frame path: how the bytes of a chunk that is exactly the next
        fragment frame look (:class:`OneFrame`), once the last event read was a fragment of the
        open block (``_primed``), or with ``first`` whenever one is expected (the caller then
        calls :meth:`fragments_read` once it took one); None otherwise, and always for a reader
        without a fast path."""
        return None

    def opening_frames(self) -> tuple[OneFrame, ...]:
        """For a large frame: the frames that would open the next block with its first fragment
        (``opens``; the converter calls :meth:`open_fragment_block` once it took one), for a format
        whose blocks open so (openai-chat's deltas); none here."""
        return ()

    def open_fragment_block(self, frame: OneFrame) -> int:
        """Open the block that ``frame`` (one of :meth:`opening_frames`) starts, as reading it the
        careful way would; its canonical index."""
        raise NotImplementedError

    def fragments_read(self) -> None:
        """What a run of fragment frames the fast path read changes in the reader besides the sink's
        calls: nothing here; the reader is primed after it."""
        self._primed = True

    def _start_block(
        self, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> int:
        """Close the open block and open the next one; its canonical index."""
        self._close_block()
        self._frame_head, self._primed = NO_FRAME, False
        index = self._open = self.blocks
        self.blocks += 1
        self._open_kind = kind
        self.sink.block_start(index, kind, id=id, name=name, data=data, native=native)
        return index

    def _close_block(self) -> None:
        if self._open >= 0:
            self._frame_head, self._primed = NO_FRAME, False
            self.sink.block_stop(self._open)
            self._open = -1
            self._open_kind = ""

    def close(self) -> None:
        """End of input. A stream that did not finish becomes an error, never a clean end."""
        if not self.done:
            self.done = True
            self.sink.error("api_error", self.truncated_message())

    def truncated_message(self) -> str:
        return "upstream stream ended before the message was complete"

    def fail(self, type: str, message: str) -> None:
        if not self.done:
            self.done = True
            self.sink.error(type, message)

    def parse(self, data: str) -> dict[str, Any] | None:
        """The event's data as a JSON object; None (and the stream failed) when it is not one."""
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            parsed = None
        if parsed.__class__ is dict:
            return parsed  # type: ignore[no-any-return]
        self.invalid_json(data)
        return None

    def invalid_json(self, data: str) -> None:
        snippet = data if len(data) <= 200 else data[:200] + "…"
        self.fail("api_error", f"upstream sent an event whose data is not valid JSON: {snippet!r}")


class StreamWriter(StreamSink):
    """Canonical events in, this format's SSE bytes out (appended to ``out``).

    ``format`` is the writer's format name: a :class:`Native` carrier of that format is written
    back, any other is dropped with its warning (:meth:`own` says which).
    """

    format = ""

    def __init__(self, options: Options, warn: Warn = _ignore) -> None:
        self.options = options
        self.warn = warn
        self.out: list[bytes] = []
        self.reported_usage: Usage = {}  # what the source reported so far (message_start, usage): later wins
        self.finished = False  # an end or an error was written: nothing more is
        self.errored = False
        self._started = False  # message_start written

    def _ensure_started(self) -> None:
        """Events before any message_start (a reader that never saw one) still get a valid start."""
        if not self._started:
            self.message_start("", "", {})

    def own(self, carrier: Native | None) -> dict[str, Any] | None:
        """The carrier's data when it is this format's; any other carrier is dropped (warned)."""
        return own_native(carrier, self.format, self.warn)

    def error(self, type: str, message: str) -> None:
        if not self.finished:
            self.finished = self.errored = True
            self.write_error(type, message)

    def end(self) -> None:
        if not self.finished:
            self.finished = True
            self.write_end()

    def write_error(self, type: str, message: str) -> None:
        raise NotImplementedError

    def write_end(self) -> None:
        raise NotImplementedError
