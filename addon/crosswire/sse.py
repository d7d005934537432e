"""Incremental Server-Sent-Events codec (sans-IO).

The decoder follows the WHATWG EventSource parsing rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
with one deliberate difference: ``close()`` dispatches a final event whose terminating blank
line never arrived. A browser drops such an event; a proxy must not, because a truncated
``message_stop`` or ``error`` frame is exactly what the client needs to see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_MAX_FRAME = 16 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


class SSEFrameTooLarge(ValueError):
    """A single SSE frame grew past the decoder's size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"SSE frame exceeds the {limit}-byte limit (max_frame={limit}); "
            "raise the limit if the upstream really sends frames this large"
        )
        self.limit = limit


class ServerSentEvent:
    """One dispatched event. ``id`` is the stream's last event ID, as the spec defines it."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(self, data: str, event: str = "message", id: str = "", retry: int | None = None) -> None:
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.event, self.data, self.id, self.retry) == (other.event, other.data, other.id, other.retry)

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r}, retry={self.retry!r})"


# One match per frame of a run of complete frames (text ending in a blank line), in order and
# without gaps: group 1/2 are the event and data of the common ``[event: E\n]data: D\n\n`` frame,
# group 3 is any other frame (its lines, each with its LF), group 4 a blank line with no frame.
# ``.`` is "anything but LF" here (no DOTALL) and scans faster than ``[^\n]``.
_find_frames = re.compile(r"(?:event: (.*)\n)?data: (.*)\n\n|((?:.+\n)+)\n|(\n)").findall
# The common frame alone: its event (or None) and data.
_one_frame = re.compile(r"(?:event: (.*)\n)?data: (.*)\n\n").fullmatch


class SSEDecoder:
    """Feed arbitrary byte chunks, get complete events back.

    Line ends are normalised to LF as they arrive (a CR at the end of one chunk followed by an
    LF at the start of the next is one line end). Each chunk is cut after its last blank line;
    the complete frames before the cut are decoded from UTF-8 at once and matched by one regex
    pass, which is what keeps the per-event cost near a bare split. The incomplete rest waits in
    a bytearray that grows in place and is searched only where new bytes arrived, so tiny chunks
    cost linear time, and memory stays bounded by ``max_frame``.

    A frame's size is the bytes of its lines, each line end counted as one byte, without the
    blank line that ends it: ``data: a\r\ndata: b\r\n\r\n`` is a 15-byte frame. A frame larger
    than ``max_frame`` raises `SSEFrameTooLarge`, also while it is still incomplete. Frames
    that completed before it are never lost: when they arrived in the same ``feed`` call, that
    call returns their events and the next call raises. After that the decoder has dropped its
    buffer and every call raises again.
    """

    __slots__ = (
        "_bom_part",
        "_buf",
        "_comment",
        "_failed",
        "_last_id",
        "_pending_cr",
        "_prologue",
        "_scan_from",
        "_slow",
        "_start",
        "invalid_utf8",
        "keepalive_at",
        "max_frame",
    )

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()  # the incomplete frame after the last blank line
        self._scan_from = 0  # bytes of _buf already known to hold no blank line
        self._start = True  # nothing but a possible BOM prefix seen yet
        self._bom_part = b""  # that prefix, while it could still become a BOM
        self._pending_cr = False  # the previous chunk ended with CR
        self._failed = False  # a frame was too large
        self._prologue = True  # _start, _pending_cr or _failed: the next chunk needs _prepare
        self._slow = True  # _prologue, or an incomplete frame is held: the next chunk needs _complete
        self._last_id = ""
        self.invalid_utf8 = False  # some bytes were not UTF-8 and became U+FFFD, as the spec says
        # Where frames of comments only (": ping") came among the pairs the last feed_pairs returned:
        # they dispatch nothing, but a proxy passes the keep-alive on. The caller clears it.
        self.keepalive_at: list[int] = []
        self._comment = False

    @property
    def idle(self) -> bool:
        """Nothing held back and no prologue left: the next chunk is read from its first byte."""
        return not self._slow

    @property
    def held(self) -> int:
        """How many bytes of an incomplete frame are held back."""
        return len(self._buf)

    def take_frame(self, chunk: bytes | bytearray) -> tuple[bytearray, bytes | bytearray] | None:
        """When ``chunk`` ends the held-back frame (LF line ends, within the limit): that whole
        frame's bytes, handed over without a copy, and the rest of the chunk (the decoder is idle,
        as at the start of a chunk); otherwise None, and nothing changed. For a large frame, which
        a caller can read as bytes."""
        buf = self._buf
        if self._prologue or not buf or 13 in chunk:
            return None
        if buf[-1:] == b"\n" and chunk[:1] == b"\n":  # the blank line straddles the two
            end = 1
        else:
            end = chunk.find(b"\n\n") + 2
            if end < 2:
                return None
        if len(buf) + end > self.max_frame:
            return None
        buf += chunk[:end]
        self._buf = bytearray()
        self._scan_from = 0
        self._slow = False
        return buf, chunk[end:]

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._text(chunk)
        if not text:
            return []
        one = _one_frame(text)  # a chunk that is one frame of the common shape, as providers flush them
        if one:
            event, data = one.groups()
            return [ServerSentEvent(data, event or "message", self._last_id)]
        return self._events(text)

    def feed_pairs(self, chunk: bytes) -> list[tuple[str, str]]:
        """Like :meth:`feed`, but only ``(event type, data)`` of each event: all a converter reads,
        without building an object per event (the converters' hot path)."""
        text = self._text(chunk)
        if not text:
            return []
        one = _one_frame(text)
        if one:
            event, data = one.groups()
            return [(event or "message", data)]
        return self._pairs(text)

    def _text(self, chunk: bytes) -> str:
        """The complete frames ``chunk`` finishes, as text; the rest is held back.

        The bytes-level path: with nothing held back and LF line ends (as providers send them), a
        chunk of any number of frames is cut at its last blank line and decoded in place (strict
        UTF-8 is faster; bad UTF-8 takes the general path), and only the incomplete rest is copied
        to be held back. A chunk over ``max_frame`` takes the general path, which checks frame sizes.
        """
        if self._slow or 13 in chunk or len(chunk) > self.max_frame:  # 13 is CR; testing an int is a plain memchr
            return self._complete(chunk)
        cut = chunk.rfind(b"\n\n") + 2
        if cut < 2:
            return self._complete(chunk)
        try:
            text = chunk.decode() if cut == len(chunk) else str(memoryview(chunk)[:cut], "utf-8")
        except UnicodeDecodeError:
            return self._complete(chunk)
        if cut < len(chunk):
            self._buf += memoryview(chunk)[cut:]
            self._scan_from = len(self._buf) - 1
            self._slow = True
        return text

    def _complete(self, chunk: bytes) -> str:
        """The general path of :meth:`_text`: any chunk, held-back bytes, CR line ends, the BOM."""
        if self._prologue or 13 in chunk:
            chunk = self._prepare(chunk)
        complete = self._cut(chunk)
        self._slow = self._prologue or bool(self._buf)
        return self._decode(complete) if complete else ""

    def _decode(self, raw: bytes | bytearray) -> str:
        try:
            return raw.decode()
        except UnicodeDecodeError:
            self.invalid_utf8 = True
            return raw.decode("utf-8", "replace")

    def _events(self, text: str) -> list[ServerSentEvent]:
        """The events of ``text``, a run of complete frames."""
        events: list[ServerSentEvent] = []
        last_id = self._last_id
        for event, data, other, blank in _find_frames(text):
            if other:
                sse = self._parse(other)
                last_id = self._last_id
                if sse is not None:
                    events.append(sse)
            elif not blank:
                events.append(ServerSentEvent(data, event or "message", last_id))
        return events

    def _pairs(self, text: str) -> list[tuple[str, str]]:
        """``(event type, data)`` of the events of ``text``, a run of complete frames."""
        pairs: list[tuple[str, str]] = []
        for event, data, other, blank in _find_frames(text):
            if other:
                sse = self._parse(other)
                if sse is not None:
                    pairs.append((sse.event, sse.data))
                elif self._comment:
                    self.keepalive_at.append(len(pairs))
            elif not blank:
                pairs.append((event or "message", data))
        return pairs

    def close(self) -> list[ServerSentEvent]:
        """End of input: dispatch a last event that lacks its terminating blank line."""
        if self._failed:
            raise SSEFrameTooLarge(self.max_frame)
        frame = self._decode(self._buf)
        self._buf.clear()
        self._scan_from = 0
        self._bom_part = b""
        self._pending_cr = False
        self._prologue = self._slow = self._start
        event = self._parse(frame)
        return [event] if event is not None else []

    def _prepare(self, chunk: bytes) -> bytes:
        """The rare work before a chunk can be cut: failure, BOM, CR line ends."""
        if self._failed:
            raise SSEFrameTooLarge(self.max_frame)
        if not chunk:
            return chunk
        if self._start:
            chunk = self._bom_part + chunk
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._bom_part = chunk  # could still be the start of a BOM
                return b""
            self._start = False
            self._bom_part = b""
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # second half of a CRLF split across chunks
        self._pending_cr = chunk.endswith(b"\r")
        self._prologue = self._pending_cr
        if 13 in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return chunk

    def _cut(self, chunk: bytes) -> bytes | bytearray:
        """Add ``chunk`` to the incomplete frame and take out the complete frames (maybe none).

        A frame over the limit fails the decoder: the frames before it are returned, and when
        there are none the error is raised here.
        """
        buf = self._buf
        buf += chunk
        cut = buf.rfind(b"\n\n", self._scan_from) + 2
        complete: bytes | bytearray = b""
        if cut > 1:
            if cut == len(buf):  # the chunk ended a frame: hand over the buffer itself, no copy of a large frame
                complete = buf
                self._buf = buf = bytearray()
            else:
                complete = buf[:cut]
                del buf[:cut]  # a bytearray drops its head in O(1)
            if cut > self.max_frame:  # only then can a complete frame be too large
                complete = self._limit(complete)
        size = len(buf)
        # Not the incomplete frame's own: an LF left over from the blank line before it, and its last line end.
        if size > self.max_frame and size - buf.startswith(b"\n") - buf.endswith(b"\n") > self.max_frame:
            self._failed = True
        if self._failed:
            self._prologue = self._slow = True
            self._buf = bytearray()  # release the oversized frame
            if not complete:
                raise SSEFrameTooLarge(self.max_frame)
        self._scan_from = max(size - 1, 0)
        return complete

    def _limit(self, complete: bytes | bytearray) -> bytes | bytearray:
        """The frames before the first one over the limit; finding one fails the decoder."""
        offset = 0
        for frame in complete.split(b"\n\n"):
            # A frame starts with LF when its blank line had three line ends; that LF is not its own.
            if len(frame) - frame.startswith(b"\n") > self.max_frame:
                self._failed = True
                return complete[:offset]
            offset += len(frame) + 2
        return complete

    def _parse(self, frame: str) -> ServerSentEvent | None:
        """The general case: any mix of fields, comments and blank lines (LF line ends)."""
        event_type = ""
        data: list[str] | None = None
        retry: int | None = None
        self._comment = False
        for line in frame.split("\n"):
            if not line:
                continue
            if line[0] == ":":
                self._comment = True
                continue
            name, colon, value = line.partition(":")
            if colon and value[:1] == " ":
                value = value[1:]
            if name == "data":
                if data is None:
                    data = [value]
                else:
                    data.append(value)
            elif name == "event":
                event_type = value
            elif name == "id":
                if "\0" not in value:
                    self._last_id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                retry = int(value)
        if data is None:
            return None  # the spec dispatches nothing for a frame without data
        return ServerSentEvent("\n".join(data), event_type or "message", self._last_id, retry)


def encode_event(data: str, event: str | None = None, id: str | None = None, retry: int | None = None) -> bytes:
    """One SSE frame. Multi-line data becomes several ``data:`` lines, as the format requires.

    ``event`` and ``id`` are single-line fields: a line end in them would forge other fields, and
    a decoder ignores an ``id`` holding NUL, so both raise `ValueError`.
    """
    if event is not None and ("\n" in event or "\r" in event):
        raise ValueError(f"SSE event type cannot contain a line end: {event!r}")
    if id is not None and ("\n" in id or "\r" in id or "\0" in id):
        raise ValueError(f"SSE id cannot contain a line end or NUL: {id!r}")
    parts: list[str] = []
    if event is not None and event != "message":
        parts.append(f"event: {event}\n")
    if id is not None:
        parts.append(f"id: {id}\n" if id else "id\n")
    if retry is not None:
        parts.append(f"retry: {retry}\n")
    if "\n" in data or "\r" in data:
        for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            parts.append(f"data: {line}\n")
    else:
        parts.append(f"data: {data}\n")
    parts.append("\n")
    return "".join(parts).encode()


def encode_events(events: Iterable[ServerSentEvent]) -> bytes:
    """Encode decoded events back; ``id`` is written only where it changes, as decoding implies."""
    out: list[bytes] = []
    last_id = ""
    for ev in events:
        out.append(encode_event(ev.data, ev.event, ev.id if ev.id != last_id else None, ev.retry))
        last_id = ev.id
    return b"".join(out)
