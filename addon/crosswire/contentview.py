"""The "LLM stream" contentview: an SSE body of any supported format shown as the assembled message.

A person reading a flow in mitmweb, mitmproxy or ``mitmdump --flow-detail 3`` sees the answer
(text, thinking, tool calls with their arguments, usage, stop reason, error) instead of hundreds
of frames. The stream is read with crosswire's own readers into a :class:`MessageBuilder`; the
only format knowledge here is which reader to use, told from the frames' event types.

mitmproxy 11 and 12 have different contentview APIs (``View.__call__`` returning lines vs. the
``Contentview`` protocol's ``prettify`` returning text): one renderer, and a thin class for each.
The addon calls :func:`register` when it loads and :func:`unregister` when it is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from mitmproxy import contentviews as _contentviews

from . import formats
from .events import Message, MessageBuilder
from .sse import ServerSentEvent, SSEDecoder, SSEFrameTooLarge

NAME = "LLM stream"

# The module's API differs between mitmproxy 11 and 12: which one is here is checked at run time.
contentviews: Any = _contentviews

SNIFF_CHUNK = 4096  # render_priority runs for every flow shown: it decodes only until a frame tells the format

Line = list[tuple[str, str]]  # one line as (style, text) pairs, mitmproxy 11's shape


def _frame_format(sse: ServerSentEvent) -> str | None:
    """The format one frame belongs to, or None when it could belong to several (errors, pings)."""
    try:
        parsed = orjson.loads(sse.data)
    except orjson.JSONDecodeError:
        parsed = None
    return next((f.name for f in formats.FORMATS if f.stream_frame(sse.event, sse.data, parsed)), None)


def _error_format(sse: ServerSentEvent, path: str) -> str | None:
    """For a stream of nothing but an error frame: the format whose error shape it has; the request
    path decides between formats whose error frames look alike."""
    try:
        parsed = orjson.loads(sse.data)
    except orjson.JSONDecodeError:
        return None
    claims = [f for f in formats.FORMATS if f.stream_error_frame(parsed)]
    by_path = formats.FORMATS.for_path(path)
    if by_path in claims:
        return by_path.name if by_path else None
    return claims[0].name if claims else None


def _sniff(data: bytes) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for start in range(0, len(data), SNIFF_CHUNK):
        yield from decoder.feed(data[start : start + SNIFF_CHUNK])
    yield from decoder.close()


def detect_format(data: bytes, path: str = "") -> str | None:
    """The registered format whose stream ``data`` is, told from its frames; None if it is none of them.

    ``path`` (the request path) only decides between formats whose error frames look alike.
    """
    name: str | None = None
    error: ServerSentEvent | None = None
    try:
        for sse in _sniff(data):
            name = _frame_format(sse)
            if name:
                break
            if error is None and (sse.event == "error" or '"error"' in sse.data):
                error = sse
    except SSEFrameTooLarge:
        return None
    if name is None and error is not None:
        name = _error_format(error, path)
    return name


@dataclass
class Assembled:
    format: str
    message: Message
    frames: int  # SSE frames read (0 for a whole body)
    warnings: list[str] = field(default_factory=list)
    unfinished: set[int] = field(default_factory=set)  # tool calls whose block never ended
    streamed: bool = True


class _Builder(MessageBuilder):
    def finish(self) -> set[int]:
        """End the tool calls a cut stream left open, so what arrived of their arguments shows."""
        unfinished = set(self._args)
        for index in unfinished:
            self.block_stop(index)
        return unfinished


def assemble(data: bytes, path: str = "") -> Assembled | None:
    """Read a whole SSE body into the message it carries; None when it is no supported stream."""
    name = detect_format(data, path)
    if name is None:
        return None
    builder = _Builder()
    warnings: list[str] = []

    def warn(message: str) -> None:
        if message not in warnings:
            warnings.append(message)

    reader = formats.get(name).stream_reader(builder, warn)
    decoder = SSEDecoder()
    frames = 0
    try:
        for sse in (*decoder.feed(data), *decoder.close()):
            frames += 1
            reader.event(sse.event, sse.data)
    except SSEFrameTooLarge as exc:
        reader.fail("api_error", str(exc))
    reader.close()  # a stream cut short shows as an error, which is what a reader of the flow needs to know
    return Assembled(name, builder.message, frames, warnings, builder.finish())


def _pretty_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def render(assembled: Assembled) -> tuple[str, list[Line]]:
    """A title and the lines that show ``assembled`` to a person."""
    msg = assembled.message
    lines: list[Line] = []
    if assembled.streamed:
        facts = [f"{assembled.format} stream", f"{assembled.frames} frame" + ("s" if assembled.frames != 1 else "")]
    else:
        facts = [f"{assembled.format} response"]
    if msg.model:
        facts.append(f"model {msg.model}")
    if msg.id:
        facts.append(f"id {msg.id}")
    lines.append([("header", ", ".join(facts))])

    def section(title: str, body: str) -> None:
        lines.append([("text", "")])
        lines.append([("header", f"── {title} ──")])
        lines.extend([("text", line)] for line in body.splitlines() or [""])

    for index, block in enumerate(msg.content):
        if block.kind == "tool_use":
            args = block.input if not isinstance(block.input, str) else None
            title = f"tool call: {block.name}" + (f" ({block.id})" if block.id else "")
            if index in assembled.unfinished:
                title += ", cut off before its end"
            elif args is None:
                title += ", arguments not valid JSON"
            section(title, block.input if args is None else _pretty_json(args))
        elif block.kind == "thinking":
            signed = f", signature {len(block.signature)} chars" if block.signature else ""
            section(f"thinking{signed}", block.text)
        elif block.kind == "redacted_thinking":
            section("redacted thinking", f"({len(block.data)} chars of encrypted data)")
        elif block.kind == "web_search":
            query = block.input.get("query") if isinstance(block.input, dict) else None
            section(f"web search ({block.id})", str(query) if query is not None else _pretty_json(block.input))
        elif block.kind == "web_search_result":
            found = "\n".join(f"{r.url}  {r.title}".rstrip() for r in block.results)
            section(f"web search results ({block.id})", f"failed: {block.data}" if block.data else found)
        elif block.kind == "native":
            fmt, data = (block.native.format, block.native.data) if block.native else ("", {})
            shown = data.get("item", data)
            name = shown.get("type") if isinstance(shown, dict) else None
            section(f"{fmt} {name!r} block", _pretty_json(shown))
        else:  # text, refusal
            section(block.kind, block.text)
            if block.citations:
                lines.extend(
                    [("text", f"  cites {c.url}" + (f"  {c.title}" if c.title else ""))] for c in block.citations
                )

    lines.append([("text", "")])
    if msg.stop_reason:
        stop = msg.stop_reason + (f" (sequence {msg.stop_sequence!r})" if msg.stop_sequence else "")
        lines.append([("header", "stop reason: "), ("text", stop)])
    if msg.usage:
        lines.append([("header", "usage: "), ("text", ", ".join(f"{k} {v}" for k, v in msg.usage.items()))])
    if msg.error:
        lines.append([("error", f"error: {msg.error[0]}: {msg.error[1]}")])
    lines.extend([("warn", f"warning: {warning}")] for warning in assembled.warnings)
    return f"{NAME} ({assembled.format})", lines


def _is_sse(data: bytes, content_type: str | None) -> bool:
    if content_type:
        return content_type == "text/event-stream"
    return data.lstrip()[:6] in (b"event:", b"data: ") or data.lstrip()[:5] == b"data:"


def _path(flow: Any) -> str:
    request = getattr(flow, "request", None)
    return str(getattr(request, "path", "") or "")


def priority(data: bytes, content_type: str | None, flow: Any) -> float:
    """Above every built-in view for LLM streams (mitmproxy has no SSE view of its own), else unused."""
    if data and _is_sse(data, content_type) and detect_format(data, _path(flow)):
        return 2.0
    return -1.0


def render_text(assembled: Assembled) -> str:
    """:func:`render` as plain text (mitmproxy 12's view, ``crosswire flows show --detail``)."""
    _, lines = render(assembled)
    return "\n".join("".join(text for _, text in line) for line in lines)


def prettify(data: bytes, content_type: str | None = None, flow: Any = None) -> str:
    """The rendered text; ValueError when ``data`` is no supported LLM stream."""
    assembled = assemble(data, _path(flow))
    if assembled is None:
        raise ValueError("not an SSE stream of a format crosswire reads")
    return render_text(assembled)


if hasattr(contentviews, "Contentview"):  # mitmproxy >= 12

    class LLMStreamContentview(contentviews.Contentview):
        @property
        def name(self) -> str:
            return NAME

        def prettify(self, data: bytes, metadata: contentviews.Metadata) -> str:
            return prettify(data, metadata.content_type, metadata.flow)

        def render_priority(self, data: bytes, metadata: contentviews.Metadata) -> float:
            return priority(data, metadata.content_type, metadata.flow)

    VIEW: Any = LLMStreamContentview()

    def _add() -> None:
        contentviews.add(VIEW)

    def _remove() -> None:
        # mitmproxy 12 has no public way to remove a view (its `remove` is a deprecated no-op):
        # take ours out of the registry so a script that is unloaded leaves nothing behind.
        views = getattr(contentviews.registry, "_by_name", {})
        if views.get(NAME.lower()) is VIEW:
            del views[NAME.lower()]

else:  # mitmproxy 11
    from mitmproxy.contentviews.base import View

    class LLMStreamView(View):
        name = NAME

        def __call__(  # type: ignore[override]  # None is 11's documented "cannot render": it falls back to raw
            self, data: bytes, *, content_type: str | None = None, flow: Any = None, **metadata: Any
        ) -> tuple[str, Iterator[Line]] | None:
            assembled = assemble(data, _path(flow))
            if assembled is None:
                return None  # mitmproxy falls back to the raw view
            title, lines = render(assembled)
            return title, iter(lines)

        def render_priority(
            self, data: bytes, *, content_type: str | None = None, flow: Any = None, **metadata: Any
        ) -> float:
            return priority(data, content_type, flow)

    VIEW = LLMStreamView()

    def _add() -> None:
        stale = contentviews.get(NAME)  # left by an earlier load of the script; 11 refuses duplicate names
        if stale is not None:
            contentviews.remove(stale)
        contentviews.add(VIEW)

    def _remove() -> None:
        contentviews.remove(VIEW)


def is_registered() -> bool:
    views = getattr(contentviews, "registry", None)
    if views is not None:
        return views.get(NAME.lower()) is VIEW
    return VIEW in contentviews.views


def register() -> None:
    """Add the view (idempotent: a reloaded script registers again)."""
    if not is_registered():
        _add()


def unregister() -> None:
    if is_registered():
        _remove()
