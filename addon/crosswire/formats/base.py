"""What every format's stream reader and writer share."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson

from ..events import StreamSink, Usage
from ..options import Options

log = logging.getLogger("crosswire")

# The id prefix of each registered format's message object (set by the registry): ids are
# re-prefixed, never invented, so a round trip through any format gives the original id back.
ID_PREFIXES: tuple[str, ...] = ()


def derive_id(source_id: str, prefix: str) -> str:
    """An id with ``prefix`` derived from any format's id (kept when it already has the prefix; an
    empty prefix, a format whose ids have none, takes the other formats' off)."""
    source_id = source_id or "crosswire"
    if prefix and source_id.startswith(prefix):
        return source_id
    for other in ID_PREFIXES:
        if source_id.startswith(other):
            return prefix + source_id[len(other) :]
    return prefix + source_id


Warn = Callable[[str], None]


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

    def event(self, name: str, data: str) -> None:
        """One SSE event: its type (``message`` when the frame named none) and its data."""
        raise NotImplementedError

    def _start_block(self, kind: str, id: str = "", name: str = "", data: str = "") -> int:
        """Close the open block and open the next one; its canonical index."""
        self._close_block()
        index = self._open = self.blocks
        self.blocks += 1
        self._open_kind = kind
        self.sink.block_start(index, kind, id=id, name=name, data=data)
        return index

    def _close_block(self) -> None:
        if self._open >= 0:
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
    """Canonical events in, this format's SSE bytes out (appended to ``out``)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.out: list[bytes] = []
        self.reported_usage: Usage = {}  # what the source reported so far (message_start, usage): later wins
        self.finished = False  # an end or an error was written: nothing more is
        self.errored = False
        self._started = False  # message_start written

    def _ensure_started(self) -> None:
        """Events before any message_start (a reader that never saw one) still get a valid start."""
        if not self._started:
            self.message_start("", "", {})

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
