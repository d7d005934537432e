"""Converters: a source format's reader composed with a target format's writer."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable
from typing import Any

from . import formats
from .events import StreamSink, Usage
from .formats.base import Template
from .options import Options
from .sse import DEFAULT_MAX_FRAME, SSEDecoder, SSEFrameTooLarge

log = logging.getLogger("crosswire")

INVALID_UTF8 = "upstream stream had bytes that are not UTF-8: they were read as U+FFFD"


# A frame whose held-back part is this large is read as bytes when it is a fragment (_large_frame).
LARGE_FRAME = 1 << 16


def _utf8(data: bytes | memoryview) -> bool:
    """Whether ``data`` is valid UTF-8; a large one decoded a slice at a time (never as one large text)."""
    try:
        if len(data) <= LARGE_FRAME:
            str(data, "utf-8")
        else:
            decoder = codecs.getincrementaldecoder("utf-8")()
            for at in range(0, len(data), LARGE_FRAME):
                decoder.decode(data[at : at + LARGE_FRAME])
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


class StreamConverter:
    """Converts an SSE stream incrementally: ``feed(bytes) -> bytes``, then ``close() -> bytes``.

    ``feed`` returns every output frame whose input frame it completed, and ``b""`` when none.
    It never raises for bad input: a frame that is not JSON, an oversized frame or an internal
    failure ends the output with an error in the target format, and the rest is ignored.
    ``close`` finishes the target stream; a source that ended early becomes an error there.
    ``warnings`` lists what could not be carried over (each once); ``usage`` is the source's usage.
    """

    def __init__(
        self,
        source: str,
        target: str,
        options: Options | None = None,
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
        **option_fields: object,
    ) -> None:
        if options is None:
            options = Options(**option_fields)  # type: ignore[arg-type]
        elif option_fields:
            raise TypeError("pass either an Options object or option keywords, not both")
        self.source, self.target, self.options = source, target, options
        self.warnings: list[str] = []
        self._decoder = SSEDecoder(max_frame)
        self._writer = formats.get(target).stream_writer(options, self._warn)
        self._reader = formats.get(source).stream_reader(self._writer, self._warn)
        self._closed = False
        # The one-frame path: (prefix, its length, rest, key, write) while a chunk that is exactly
        # the next fragment frame can go from bytes to bytes without the decoder, the reader or the
        # writer's list (see feed); None while not. Only a writer with fragment writers can have it.
        self._one: tuple[bytes, int, Any, bytes, Callable[[bytes], bytes]] | None = None
        self._one_possible = type(self._writer).fragment_writer is not StreamSink.fragment_writer

    def _warn(self, message: str) -> None:
        if message not in self.warnings:  # the addon (or the CLI) reports them, once each
            self.warnings.append(message)

    def feed(self, chunk: bytes) -> bytes:
        one = self._one
        if one is not None:
            # The one-frame path: most chunks of a live stream are one fragment frame of the open
            # block, in the bytes the frame before had but for the fragment. Such a chunk leaves the
            # decoder idle and the reader as it was (the last event was such a fragment: _arm), so
            # its output is the writer's template filled with the literal as it came, when the
            # literal is valid UTF-8 (the careful path warns about, and replaces, what is not).
            prefix, at, rest, key, write = one  # OneFrame.literal_span, inline
            if chunk.startswith(prefix) and len(chunk) <= self._decoder.max_frame:
                frame = rest(chunk, at)
                if frame is not None and frame[1] == key:
                    literal: bytes = frame[2]
                    if literal.isascii():
                        return write(literal)
                    if len(literal) > LARGE_FRAME:  # checked a slice at a time, never as one large text
                        if _utf8(literal):
                            return write(literal)
                    else:  # _utf8 inline: many fragments of a text that is not English come here
                        try:
                            literal.decode()
                        except UnicodeDecodeError:
                            pass
                        else:
                            return write(literal)
            self._one = None
        return self._feed(chunk)

    def _feed(self, chunk: bytes | bytearray) -> bytes:
        """``feed`` but for the one-frame path."""
        reader = self._reader
        if reader.done:
            return b""
        decoder = self._decoder
        rest: bytes | bytearray = b""
        try:
            if decoder.held >= LARGE_FRAME and self._one_possible:
                taken = decoder.take_frame(chunk)
                if taken is not None:
                    chunk, rest = taken  # the large frame, read from its start (the decoder is idle), and the rest
                    del taken
                    out = self._large_frame(chunk)
                    if out is not None:
                        return out + self._feed(rest) if rest else out
            pairs = decoder.feed_pairs(chunk)  # type: ignore[arg-type]  # a bytearray reads the same
            chunk = b""  # a large frame's bytes are text now: not kept while it is read
            if decoder.keepalive_at:
                self._feed_keeping_alive(pairs)
            else:
                reader.events(pairs)  # the whole chunk at once: where the readers' fast paths run
        except SSEFrameTooLarge as exc:
            reader.fail("api_error", f"upstream stream rejected: {exc}")
        except Exception as exc:  # a bug must not break the client's connection
            log.exception("crosswire: internal error converting %s -> %s", self.source, self.target)
            reader.fail("api_error", f"crosswire internal error while converting the stream: {exc!r}")
        if decoder.invalid_utf8:
            self._warn(INVALID_UTF8)
        if reader._primed and self._one_possible and decoder.idle:
            self._arm()
        out = self._drain()
        return out + self._feed(rest) if rest else out

    def _arm(self) -> None:
        """Turn the one-frame path on when the reader's last event was a fragment frame and the
        writer can write the next one from a template (neither changes state but for the output)."""
        frame = self._reader.fragment_frame()
        if frame is not None and not self._writer.finished:
            write = self._writer.fragment_writer(frame.kind, frame.block)
            if write is not None:
                self._one = (frame.prefix, len(frame.prefix), frame.rest, frame.key, write)

    def _large_frame(self, whole: bytearray) -> bytes | None:
        """A large frame that a chunk just ended, when it is the open block's fragment frame (the
        first one too) or one that opens the next block with its first fragment: its literal goes
        from the decoder's buffer to the writer's template with one copy, so the peak is about
        twice the frame (as text, it took four). None, and nothing changed, when it is anything else."""
        reader, writer = self._reader, self._writer
        if writer.finished:
            return None
        frame, span = None, None
        for frame in (reader.fragment_frame(first=True), *reader.opening_frames()):
            span = frame.literal_span(whole) if frame is not None else None
            if span is not None:
                break
        if frame is None or span is None:
            return None
        # A block that is open already: its writer is asked before anything changes.
        write = None if frame.opens else writer.fragment_writer(frame.kind, frame.block)
        if write is None and not frame.opens:
            return None
        start, end = span
        with memoryview(whole) as view:
            if not (whole.isascii() or _utf8(view[start:end])):
                return None
            literal = bytes(view[start:end])
        whole.clear()  # the frame is the literal now
        opened = b""
        if write is None:  # the frame opens its block
            block = reader.open_fragment_block(frame)
            opened = self._drain()  # the block's start (and the end of the one before)
            write = writer.fragment_writer(frame.kind, block)
            if write is None:  # a writer that takes this kind only the careful way: as text, then
                getattr(writer, frame.kind + "_literals")(block, [literal.decode()])
                reader.fragments_read()
                self._arm()
                return opened + self._drain()
        made = getattr(write, "__self__", None)  # a template's parts, or a writer's own (StreamSink.fragment_writer)
        joined = b"".join((opened, made.head, literal, made.end)) if isinstance(made, Template) else None
        out = write(literal, opened) if joined is None else joined  # type: ignore[call-arg]
        reader.fragments_read()
        self._arm()
        return out

    def _feed_keeping_alive(self, pairs: list[tuple[str, str]]) -> None:
        """The rare chunk with an upstream comment frame (``: keep-alive``): the client gets its own
        format's keep-alive in the same place among the events."""
        reader, at = self._reader, self._decoder.keepalive_at
        self._decoder.keepalive_at = []
        start = 0
        for position in [*at, None]:
            reader.events(pairs[start:position])
            if position is not None and not reader.done:
                self._writer.ping()
            start = position or 0

    def close(self) -> bytes:
        self._one = None  # nothing after the end, whatever comes
        if self._closed:
            return b""
        self._closed = True
        reader = self._reader
        try:
            if not reader.done:
                for sse in self._decoder.close():
                    reader.event(sse.event, sse.data)
            reader.close()
        except SSEFrameTooLarge as exc:  # the decoder raises it here when the feed that found it returned frames
            reader.fail("api_error", f"upstream stream rejected: {exc}")
        except Exception as exc:
            log.exception("crosswire: internal error closing %s -> %s", self.source, self.target)
            reader.fail("api_error", f"crosswire internal error while converting the stream: {exc!r}")
        if self._decoder.invalid_utf8:
            self._warn(INVALID_UTF8)
        return self._drain()

    def _drain(self) -> bytes:
        out = self._writer.out
        if not out:
            return b""
        data = b"".join(out)
        out.clear()
        return data

    @property
    def usage(self) -> Usage:
        """The canonical usage the source reported so far (read once per usage event, not per token)."""
        return self._writer.reported_usage

    @property
    def content_started(self) -> bool:
        """True once the source started its first content block (text, thinking or a tool call)."""
        return self._reader.blocks > 0

    @property
    def complete(self) -> bool:
        """True once the source stream reached its proper end (not an error, not cut short)."""
        return self._reader.done and not self._writer.errored

    @property
    def errored(self) -> bool:
        """True once the output carries an error (upstream error, bad input or truncation)."""
        return self._writer.errored
