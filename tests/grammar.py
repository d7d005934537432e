"""The canonical event grammar, checked: a :class:`StreamSink` wrapper that asserts the order
``events.py`` documents and forwards every event to the sink it wraps.

    message_start
    ( block_start  (text | tool_input | thinking | signature | citation | search_result | native)*  block_stop )*
    usage*  stop?  (end | error)

and, as the docstrings of :class:`~crosswire.events.StreamSink` say: blocks are strictly
sequential and numbered 0, 1, 2… in order; a fragment belongs to the open block and to its kind
(text to ``text``/``refusal``, tool_input to ``tool_use``, thinking and signature to
``thinking``, citation to ``text``/``refusal``, search_result to ``web_search_result``; tool_input
also to ``web_search``; native to any open block); ``native`` with index -1 anywhere after message_start (the
message's own fields; events.py says between blocks, but an error event's own fields come where
the error does); usage may come anywhere between message_start and the end (also after stop: an
openai-chat usage chunk follows the finish); ping anywhere before the end; ``error`` may end the
stream at any point (a stream may fail before it started), and nothing follows end or error.

``tests/conftest.py`` wraps every registered format's reader with it for the whole test session,
so every conversion a test runs is checked. A violation raises (inside a converter that becomes an
error frame) and is also recorded in :data:`VIOLATIONS`, which the session's autouse fixture turns
into a failure of the test that caused it.
"""

from __future__ import annotations

from typing import Any

from crosswire.events import BLOCK_KINDS, Citation, Native, SearchResult, StreamSink, Usage

VIOLATIONS: list[str] = []

_FRAGMENT_KINDS = {
    "text": ("text", "refusal"),
    "tool_input": ("tool_use", "web_search"),
    "thinking": ("thinking",),
    "signature": ("thinking",),
    "citation": ("text", "refusal"),
    "search_result": ("web_search_result",),
    "native": BLOCK_KINDS,
}


class GrammarError(AssertionError):
    pass


class CheckedSink(StreamSink):
    """Forwards canonical events to ``inner`` after checking each against the grammar."""

    def __init__(self, inner: StreamSink) -> None:
        self.inner = inner
        self.started = False
        self.finished = ""  # "end" or "error" once the stream is over
        self.stopped = False
        self.blocks = 0  # blocks started so far
        self.open = -1  # index of the open block
        self.open_kind = ""

    def _violation(self, message: str) -> None:
        VIOLATIONS.append(message)
        raise GrammarError(message)

    def _live(self, event: str) -> None:
        if self.finished:
            self._violation(f"{event} after {self.finished}")

    def _started(self, event: str) -> None:
        self._live(event)
        if not self.started:
            self._violation(f"{event} before message_start")

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        self._live("message_start")
        if self.started:
            self._violation("a second message_start")
        self.started = True
        self.inner.message_start(id, model, usage, created, native=native)

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        self._started("block_start")
        if self.stopped:
            self._violation(f"block_start {index} after stop")
        if self.open >= 0:
            self._violation(f"block_start {index} while block {self.open} is open")
        if index != self.blocks:
            self._violation(f"block_start {index}: expected block {self.blocks} (blocks are numbered in order)")
        if kind not in BLOCK_KINDS:
            self._violation(f"block_start {index}: unknown kind {kind!r}")
        self.blocks += 1
        self.open, self.open_kind = index, kind
        self.inner.block_start(index, kind, id, name, data, native=native)

    def _fragment(self, event: str, index: int) -> None:
        self._started(event)
        if index != self.open:
            self._violation(f"{event} for block {index} while the open block is {self.open}")
        if self.open_kind not in _FRAGMENT_KINDS[event]:
            self._violation(f"{event} in a {self.open_kind} block")

    def text(self, index: int, text: str) -> None:
        self._fragment("text", index)
        self.inner.text(index, text)

    def tool_input(self, index: int, fragment: str) -> None:
        self._fragment("tool_input", index)
        self.inner.tool_input(index, fragment)

    def thinking(self, index: int, text: str) -> None:
        self._fragment("thinking", index)
        self.inner.thinking(index, text)

    def signature(self, index: int, signature: str) -> None:
        self._fragment("signature", index)
        self.inner.signature(index, signature)

    def citation(self, index: int, citation: Citation) -> None:
        self._fragment("citation", index)
        self.inner.citation(index, citation)

    def search_result(self, index: int, result: SearchResult) -> None:
        self._fragment("search_result", index)
        self.inner.search_result(index, result)

    def native(self, index: int, carrier: Native) -> None:
        if index == -1:  # the message's own fields: anywhere in the message (an anthropic error
            self._started("native")  # event's extra fields arrive while a block is open)
        else:
            self._fragment("native", index)
        self.inner.native(index, carrier)

    def block_stop(self, index: int) -> None:
        self._started("block_stop")
        if index != self.open:
            self._violation(f"block_stop {index} while the open block is {self.open}")
        self.open, self.open_kind = -1, ""
        self.inner.block_stop(index)

    def usage(self, usage: Usage) -> None:
        self._started("usage")
        self.inner.usage(usage)

    def stop(self, reason: str, sequence: str | None = None) -> None:
        self._started("stop")
        if self.stopped:
            self._violation("a second stop")
        if self.open >= 0:
            self._violation(f"stop while block {self.open} is open")
        self.stopped = True
        self.inner.stop(reason, sequence)

    def ping(self) -> None:
        self._live("ping")
        self.inner.ping()

    def error(self, type: str, message: str) -> None:
        self._live("error")
        self.finished = "error"
        self.inner.error(type, message)

    def end(self) -> None:
        self._started("end")
        if self.open >= 0:
            self._violation(f"end while block {self.open} is open")
        self.finished = "end"
        self.inner.end()


def checked(reader_class: type) -> Any:
    """A factory with a reader class's signature whose readers send through a :class:`CheckedSink`."""

    def make(sink: StreamSink, warn: Any) -> Any:
        return reader_class(CheckedSink(sink), warn)

    make.__name__ = f"checked_{reader_class.__name__}"
    make.unchecked = reader_class  # type: ignore[attr-defined]
    return make
