"""What every format's stream reader and writer share."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..events import StreamSink
from ..options import Options
from ..sse import ServerSentEvent

log = logging.getLogger("crosswire")

Warn = Callable[[str], None]


class StreamReader:
    """Turns one format's SSE events into canonical events on ``sink``."""

    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        self.sink = sink
        self.warn = warn
        self.done = False  # ended or failed: later events are ignored

    def event(self, sse: ServerSentEvent) -> None:
        raise NotImplementedError

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

    def invalid_json(self, sse: ServerSentEvent) -> None:
        snippet = sse.data if len(sse.data) <= 200 else sse.data[:200] + "…"
        self.fail("api_error", f"upstream sent an event whose data is not valid JSON: {snippet!r}")


class StreamWriter(StreamSink):
    """Canonical events in, this format's SSE bytes out (appended to ``out``)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.out: list[bytes] = []
        self.finished = False  # an end or an error was written: nothing more is
        self.errored = False

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
