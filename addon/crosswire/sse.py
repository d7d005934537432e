"""Incremental Server-Sent-Events codec (sans-IO).

The decoder follows the WHATWG EventSource parsing rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
with one deliberate difference: ``close()`` dispatches a final event whose terminating blank
line never arrived. A browser drops such an event; a proxy must not, because a truncated
``message_stop`` or ``error`` frame is exactly what the client needs to see.
"""

from __future__ import annotations

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


class SSEDecoder:
    """Feed arbitrary byte chunks, get complete events back.

    Line ends are normalised to LF as they arrive (a CR at the end of one chunk followed by an
    LF at the start of the next is one line end), so frames are found with a single
    ``bytes.find`` and memory stays bounded by the largest frame.
    """

    __slots__ = ("_at_start", "_buf", "_last_id", "_pending_cr", "_scan_from", "max_frame")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = b""
        self._scan_from = 0  # bytes of _buf already known to hold no frame end
        self._pending_cr = False  # the previous chunk ended with CR
        self._at_start = True  # nothing but a possible BOM prefix seen yet
        self._last_id = ""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._at_start:
            chunk = self._buf + chunk
            self._buf = b""
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._buf = chunk  # could still be the start of a BOM
                return []
            self._at_start = False
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if b"\r" in chunk or self._pending_cr:
            chunk = self._normalise(chunk)
        if not chunk:
            return []
        buf = self._buf + chunk if self._buf else chunk
        end = buf.find(b"\n\n", self._scan_from)
        if end < 0:
            if len(buf) > self.max_frame:
                raise SSEFrameTooLarge(self.max_frame)
            self._buf = buf
            self._scan_from = max(len(buf) - 1, 0)
            return []
        last = buf.rfind(b"\n\n")
        rest = buf[last + 2 :]
        if len(rest) > self.max_frame:
            raise SSEFrameTooLarge(self.max_frame)
        self._buf = rest
        self._scan_from = max(len(rest) - 1, 0)
        frames = buf[:last].split(b"\n\n") if last != end else (buf[:end],)
        events: list[ServerSentEvent] = []
        for frame in frames:
            if len(frame) > self.max_frame:
                raise SSEFrameTooLarge(self.max_frame)
            event = self._parse(frame)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[ServerSentEvent]:
        """End of input: dispatch a last event that lacks its terminating blank line."""
        buf, self._buf, self._scan_from = self._buf, b"", 0
        self._pending_cr = False
        if self._at_start:
            self._at_start = False
            if _BOM.startswith(buf):
                return []
        event = self._parse(buf) if buf.strip(b"\n") else None
        return [event] if event is not None else []

    def _normalise(self, chunk: bytes) -> bytes:
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # second half of a CRLF split across chunks
        self._pending_cr = chunk.endswith(b"\r")
        return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    def _parse(self, frame: bytes) -> ServerSentEvent | None:
        # Fast path: the one-line frame every provider sends most, ``data: {...}``.
        if frame.startswith(b"data: ") and b"\n" not in frame:
            return ServerSentEvent(frame[6:].decode("utf-8", "replace"), "message", self._last_id)
        event_type = ""
        data: list[bytes] | None = None
        retry: int | None = None
        for line in frame.split(b"\n"):
            if not line or line[0] == 0x3A:  # blank, or a ":" comment
                continue
            name, colon, value = line.partition(b":")
            if colon and value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                if data is None:
                    data = [value]
                else:
                    data.append(value)
            elif name == b"event":
                event_type = value.decode("utf-8", "replace")
            elif name == b"id":
                if b"\0" not in value:
                    self._last_id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():
                retry = int(value)
        if data is None:
            return None
        return ServerSentEvent(
            b"\n".join(data).decode("utf-8", "replace"), event_type or "message", self._last_id, retry
        )


def encode_event(data: str, event: str | None = None, id: str | None = None, retry: int | None = None) -> bytes:
    """One SSE frame. Multi-line data becomes several ``data:`` lines, as the format requires."""
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
