"""OpenAI Responses (`POST /v1/responses`): stream reader and writer.

Mapping (see docs/responses.md): a ``message`` item's ``output_text``/``refusal`` parts are
``text``/``refusal`` blocks, a ``function_call`` item is a ``tool_use`` block (its ``call_id``
is the canonical tool id; the ``fc_`` item id is derived from it), a ``reasoning`` item is one
``thinking`` block (summary parts joined by a blank line; ``encrypted_content`` is the signature),
and a reasoning item whose ``encrypted_content`` carries :data:`REDACTED_PREFIX` is a
``redacted_thinking`` block.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import orjson

from .. import errors
from ..events import (
    CUSTOM_TOOL_PARAMETER,
    Citation,
    Native,
    SearchResult,
    StreamSink,
    ToolOrigin,
    Usage,
    parse_tool_input,
)
from ..options import Options
from . import base
from .base import NO_FRAME, Warn, extra_fields, log, merge_native
from .body_common import flat_tool_name
from .openai_common import read_input, usage_extras, write_input

NAME = "openai-responses"

_dumps = orjson.dumps

# Marks a reasoning item that stands for an Anthropic redacted_thinking block: the opaque data
# follows it. ":" is not a base64 character, so no real encrypted_content or signature starts so.
REDACTED_PREFIX = "crosswire.redacted_thinking:"

INCOMPLETE_TO_STOP = {"max_output_tokens": "max_tokens", "content_filter": "refusal"}
SUMMARY_SEPARATOR = "\n\n"
_SEPARATOR_LITERAL = orjson.dumps(SUMMARY_SEPARATOR)
_DELTA_END = b'%s,"sequence_number":%d}\n\n'  # a delta event after its prefix: the literal, its number
_SEQUENCE_END = b',"sequence_number":%d}\n\n'  # the same after the literal

_LIFECYCLE = ("response.created", "response.in_progress", "response.queued")
# The fields of a response object the canonical model holds; the rest repeat the request's settings.
RESPONSE_FIELDS = frozenset(
    ("id", "object", "created_at", "status", "model", "output", "usage", "error", "incomplete_details")
)


def is_stream_frame(event: str, data: str, parsed: Any) -> bool:
    kind = (parsed.get("type") if isinstance(parsed, dict) else None) or event
    return isinstance(kind, str) and kind.startswith("response.")


def is_error_frame(parsed: Any) -> bool:
    return isinstance(parsed, dict) and parsed.get("type") == "error"


def read_usage(raw: Any) -> Usage:
    """Responses usage -> canonical: cache reads and writes are split out of the input count."""
    if not isinstance(raw, dict):
        return {}
    usage: Usage = {}
    read_input(raw.get("input_tokens"), raw.get("input_tokens_details"), usage)
    if isinstance(raw.get("output_tokens"), int):
        usage["output_tokens"] = raw["output_tokens"]
    details = raw.get("output_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    if isinstance(reasoning, int):
        usage["reasoning_tokens"] = reasoning
    return usage


USAGE_FIELDS = frozenset(("input_tokens", "output_tokens", "total_tokens"))


def write_usage(usage: Usage) -> dict[str, Any]:
    """Every field the newest SDK's ``ResponseUsage`` requires, ``cache_write_tokens`` included."""
    total_in, details = write_input(usage)
    total_out = usage.get("output_tokens", 0)
    return {
        "input_tokens": total_in,
        "input_tokens_details": details,  # cache_write_tokens: the newest SDK's ResponseUsage requires it
        "output_tokens": total_out,
        "output_tokens_details": {"reasoning_tokens": usage.get("reasoning_tokens", 0)},
        "total_tokens": total_in + total_out,
    }


def call_item_id(call_id: str) -> str:
    """The ``fc_`` item id of a function call, derived from (and never equal to) its call id."""
    for prefix in ("call_", "toolu_"):
        if call_id.startswith(prefix) and len(call_id) > len(prefix):
            return "fc_" + call_id[len(prefix) :]
    return "fc_" + call_id


def call_item(
    item_id: str, call_id: str, name: str, arguments: str, status: str, origin: ToolOrigin | None
) -> dict[str, Any]:
    """A tool call output item, in the client's own shape: a ``function_call`` (with its
    ``namespace`` when the client's tool had one), or a ``custom_tool_call`` whose text input is
    the one string parameter of the function the upstream called."""
    if origin is None:
        return {"id": item_id, "type": "function_call", "status": status, "arguments": arguments,
                "call_id": call_id, "name": name}  # fmt: skip
    if origin.kind == "custom":
        value = parse_tool_input(arguments) if arguments else {}
        text = value.get(CUSTOM_TOOL_PARAMETER) if isinstance(value, dict) else None
        if not isinstance(text, str):  # the model did not fill the parameter: its arguments are the text
            text = arguments if not isinstance(value, dict) else "" if not value else orjson.dumps(value).decode()
        item = {"id": item_id, "type": "custom_tool_call", "status": status, "call_id": call_id,
                "name": origin.name, "input": text}  # fmt: skip
    else:
        item = {"id": item_id, "type": "function_call", "status": status, "arguments": arguments,
                "call_id": call_id, "name": origin.name}  # fmt: skip
    if origin.namespace:
        item["namespace"] = origin.namespace
    return item


def _error_fields(raw: Any) -> tuple[str, str]:
    """(canonical type, message) from an ``error`` event or a failed response's ``error``."""
    err = raw if isinstance(raw, dict) else {"message": str(raw)}
    code = err.get("code")
    return errors.from_openai(err.get("type") or code, code), str(err.get("message") or "upstream error")


class OpenAIResponsesStreamReader(base.StreamReader):
    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        super().__init__(sink, warn)
        self._started = False
        self._open_key: tuple[int, int] = (-1, -1)  # (output_index, content_index; -1 for a whole item)
        self._emitted = False  # the open block got content: a .done event repeats it, not adds it
        self._part: tuple[str, int] | None = None  # the reasoning block's current summary/content part
        self._part_emitted = False
        self._items: dict[int, str] = {}  # output_index -> item type, for every item seen
        self._item_index: dict[str, int] = {}  # item id -> output_index, for events without one
        self._item_native: dict[int, Native] = {}  # the added item, for the first block it opens
        self._closed_parts: set[tuple[int, int]] = set()
        self._annotations: dict[tuple[int, int], int] = {}  # annotations read so far, per content part
        self._calls = False
        self._refused = False
        self._searches = 0
        self._text = sink.text  # bound once: called once per token
        # The matchers of the delta event the fast path expects: with the item id first (its ids are
        # _frame_head) and with the fields sorted (gpt-5.5's; its ids in the pattern, its key "").
        self._frame_type = "response.output_text.delta"
        self._frame_match = _DELTA_FRAMES[self._frame_type]
        self._sorted: _Sorted = _sorted_delta(self._frame_type, (0, 0))
        self._sorted_first = False  # the last delta the fast path read had its fields sorted
        self._last_fragment = ""  # the last delta the fast path read: the shape the next one likely has

    def event(self, name: str, raw: str) -> None:
        self.events(((name, raw),))

    def events(self, pairs: Iterable[tuple[str, str]]) -> None:
        # The whole-frame fast path (base.py): the open block's delta event (_DELTA_FRAMES) with the
        # ids the block started with, in either order of its fields, the stream's last one tried first.
        match, ids, other, other_ids = self._matchers()
        run: list[str] = []
        for name, raw in pairs:
            frame = match(raw)
            if frame is not None and frame[1] == ids:
                run.append(frame[2])
                continue
            frame = other(raw)
            if frame is not None and frame[1] == other_ids:
                self._sorted_first = not self._sorted_first
                match, ids, other, other_ids = other, other_ids, match, ids
                run.append(frame[2])
                continue
            if run:
                self._fast_run(run)
                run = []
            self.careful(name, raw)
            match, ids, other, other_ids = self._matchers()
        if run:
            self._fast_run(run)
            self._last_fragment = raw  # the loop's last event: a fast one
        self._primed = bool(run)

    def _matchers(self) -> tuple[Callable[[str], Any], str, Callable[[str], Any], str]:
        """The two delta matchers and the keys their group 1 must equal, the last shape read first;
        keys no match can have when no delta is expected."""
        if self.done or self._frame_head is NO_FRAME:
            return self._frame_match, NO_FRAME, self._sorted.match, NO_FRAME
        if self._sorted_first:
            return self._sorted.match, "", self._frame_match, self._frame_head
        return self._frame_match, self._frame_head, self._sorted.match, ""

    def fragment_frame(self, first: bool = False) -> base.OneFrame | None:
        if not (self._primed or first) or self.done or self._frame_head is NO_FRAME:
            return None
        type = self._frame_type
        head = b'event: %s\ndata: {"type":"%s",' % (type.encode(), type.encode())
        if self._sorted_first:
            sorted = self._sorted
            return base.OneFrame(head + sorted.lead, sorted.rest, b"", self._frame_kind, self._frame_index)
        key = self._frame_head.encode()
        shape = _DELTA_SHAPES[type](self._last_fragment) if not first else None
        if shape is None:  # a large frame, or a shape not seen: every shape the fast path reads
            return base.OneFrame(head, _ONE_FRAME_RESTS[type], key, self._frame_kind, self._frame_index)
        # The shape of the last delta (which optional fields, where), as most streams send every one:
        # a shorter pattern, and the ids in the prefix when no sequence_number comes before them.
        fields = tuple(shape[group] is not None for group in _SHAPE_GROUPS)
        if fields[0]:
            prefix, rest = head + b'"sequence_number":', _shaped_rest(type, fields)
        else:
            prefix, rest, key = head + key, _shaped_rest(type, fields), b""
        return base.OneFrame(prefix, rest, key, self._frame_kind, self._frame_index)

    def _fast_run(self, literals: list[str]) -> None:
        self._frame_emit(self._frame_index, literals)
        self.fragments_read()

    def fragments_read(self) -> None:
        super().fragments_read()
        self._emitted = self._part_emitted = True

    def careful(self, name: str, raw: str) -> None:
        if self.done:
            return
        data = self.parse(raw)
        if data is None:
            return
        # The hot path, one per token: a text delta of the open content part, read by subscripts
        # (cheaper than .get); anything unexpected falls through to the careful reading below.
        try:
            if data["type"] == "response.output_text.delta" and self._open_key == (
                data["output_index"],
                data["content_index"],
            ):
                fast_text = data["delta"]
            else:
                fast_text = None
        except (KeyError, TypeError):
            fast_text = None
        if fast_text.__class__ is str:
            self._text(self._open, fast_text)
            self._emitted = True
            return
        kind = data.get("type") or name
        if kind == "response.output_text.delta":
            self.sink.text(self._part_block(data, "text"), str(data.get("delta", "")))
            self._emitted = True
        elif kind == "response.function_call_arguments.delta":
            if self._open_key == (self._output_index(data), -1) and self._open_kind == "tool_use":
                self.sink.tool_input(self._open, str(data.get("delta", "")))
                self._emitted = True
            else:
                log.debug("crosswire: arguments delta for an item that is not an open function call")
        elif kind == "response.custom_tool_call_input.delta":
            if self._open_key == (self._output_index(data), -1) and self._open_kind == "tool_use":
                self.sink.tool_input(self._open, _json_string_piece(str(data.get("delta", ""))))
                self._emitted = True
        elif kind == "response.reasoning_summary_text.delta":
            self._reasoning_text(data, "summary", data.get("summary_index", 0), str(data.get("delta", "")))
        elif kind == "response.reasoning_text.delta":
            self._reasoning_text(data, "content", data.get("content_index", 0), str(data.get("delta", "")))
        elif kind == "response.refusal.delta":
            self._refused = True
            self.sink.text(self._part_block(data, "refusal"), str(data.get("delta", "")))
            self._emitted = True
        elif kind == "response.output_item.added":
            self._item_added(data)
        elif kind == "response.output_item.done":
            self._item_done(data)
        elif kind == "response.content_part.added":
            part = data.get("part") or {}
            if part.get("type") in ("output_text", "refusal"):
                index = self._part_block(data, "refusal" if part["type"] == "refusal" else "text")
                self._part_content(index, part)
        elif kind == "response.content_part.done":
            self._part_done(self._output_index(data), _content_index(data), data.get("part") or {})
        elif kind in ("response.output_text.done", "response.refusal.done"):
            key = (self._output_index(data), _content_index(data))
            if self._open_key == key and not self._emitted:
                text = data.get("text") if kind == "response.output_text.done" else data.get("refusal")
                if text:
                    self.sink.text(self._open, str(text))
                    self._emitted = True
        elif kind == "response.function_call_arguments.done":
            call_open = self._open_key == (self._output_index(data), -1) and self._open_kind == "tool_use"
            if call_open and not self._emitted and data.get("arguments"):
                self.sink.tool_input(self._open, str(data["arguments"]))
                self._emitted = True
        elif kind in ("response.reasoning_summary_text.done", "response.reasoning_summary_part.done"):
            text = data.get("text") if kind.endswith("text.done") else (data.get("part") or {}).get("text")
            self._reasoning_done(data, "summary", data.get("summary_index", 0), text)
        elif kind == "response.reasoning_text.done":
            self._reasoning_done(data, "content", data.get("content_index", 0), data.get("text"))
        elif kind == "response.reasoning_summary_part.added":
            self._reasoning_part(data, "summary", data.get("summary_index", 0))
        elif kind in _LIFECYCLE:
            self._start(data.get("response"))
        elif kind in ("response.completed", "response.incomplete"):
            self._finish(data.get("response") or {}, kind == "response.incomplete")
        elif kind == "response.failed":
            response = data.get("response") or {}
            self.fail(*_error_fields(response.get("error") or {"message": "upstream response failed"}))
        elif kind == "error":
            self.fail(*_error_fields(data["error"] if isinstance(data.get("error"), dict) else data))
        elif kind == "response.output_text.annotation.added":
            key = (self._output_index(data), _content_index(data))
            if self._open_key == key:
                self._annotations[key] = self._annotations.get(key, 0) + 1
                self._annotation(data.get("annotation"), {"event": data})
        else:
            self._other_event(data)

    def _other_event(self, data: dict[str, Any]) -> None:
        """An event with no canonical meaning (``response.web_search_call.searching``…): a Responses
        client gets it as it was, inside the block of its item."""
        position = self._output_index(data)
        inside = position >= 0 and self._open_key[0] == position
        if not inside:
            log.debug("crosswire: openai-responses event %r kept for a Responses client only", data.get("type"))
        self.sink.native(self._open if inside else -1, Native(NAME, {"event": data}))

    # -- lifecycle

    def _start(self, response: Any) -> None:
        if self._started:
            return
        self._started = True
        response = response if isinstance(response, dict) else {}
        created = response.get("created_at")
        extras = extra_fields(response, RESPONSE_FIELDS)
        if response.get("id") and not str(response["id"]).startswith("resp_"):
            extras["id"] = response["id"]  # kept as it is for a Responses client (others get it prefixed)
        self.sink.message_start(
            str(response.get("id", "")),
            str(response.get("model", "")),
            {},
            created if isinstance(created, int) else None,
            # the request's settings the response repeats: nothing a client of another format lacks
            native=Native(NAME, {"response": extras}) if extras else None,
        )

    def _finish(self, response: dict[str, Any], incomplete: bool) -> None:
        self._start(response)
        self._close_block()
        for position, item in enumerate(response.get("output") or ()):
            if position not in self._items and isinstance(item, dict):
                self._whole_item(position, item)  # never streamed: only the final object has it
        extras = extra_fields(response, RESPONSE_FIELDS)
        raw_usage = response.get("usage")
        usage_rest = usage_extras(raw_usage, USAGE_FIELDS) if isinstance(raw_usage, dict) else {}
        if usage_rest:
            extras["usage"] = usage_rest
        final: dict[str, Any] = {"response": extras}
        if isinstance(response.get("output"), list):
            final["output"] = response["output"]  # its items as the final object repeats them
        self.sink.native(-1, Native(NAME, final))
        usage = read_usage(raw_usage)
        if self._searches:
            usage["web_search_requests"] = self._searches
        if usage:
            self.sink.usage(usage)
        if incomplete:
            reason = str((response.get("incomplete_details") or {}).get("reason"))
            if reason not in INCOMPLETE_TO_STOP:
                log.debug("crosswire: incomplete reason %r read as max_tokens", reason)
            stop = INCOMPLETE_TO_STOP.get(reason, "max_tokens")
        else:
            stop = "refusal" if self._refused else "tool_use" if self._calls else "end_turn"
        self.sink.stop(stop)
        self.done = True
        self.sink.end()

    # -- blocks

    def _output_index(self, data: dict[str, Any]) -> int:
        index = data.get("output_index")
        if isinstance(index, int):
            return index
        return self._item_index.get(str(data.get("item_id", "")), -1)

    def _open_block(
        self,
        key: tuple[int, int],
        kind: str,
        id: str = "",
        name: str = "",
        data: str = "",
        native: Native | None = None,
    ) -> int:
        if not self._started:
            self._start(None)
        self._close_block()
        self._open_key, self._emitted = key, False
        self._part, self._part_emitted = None, False
        native = native or self._item_native.pop(key[0], None)  # the first block of an item names it
        return self._start_block(kind, id=id, name=name, data=data, native=native)

    def _close_block(self) -> None:
        if self._open >= 0:
            if self._open_key[1] >= 0:
                self._closed_parts.add(self._open_key)
            self._open_key = (-1, -1)
            super()._close_block()

    def _part_block(self, data: dict[str, Any], kind: str) -> int:
        """The block of a message content part, opened on its first event."""
        key = (self._output_index(data), _content_index(data))
        if self._open_key == key:
            return self._open
        index = self._open_block(key, kind)
        if kind == "text" and key[0].__class__ is int and key[1].__class__ is int:
            self._expect("response.output_text.delta", data.get("item_id"), key, "text")
        return index

    def _expect(self, type: str, item_id: Any, indices: tuple[int, ...], kind: str) -> None:
        """Delta frames of the block just opened (base.py, the whole-frame fast path): ``type``
        events of item ``item_id`` with ``indices`` (its output index, the part's index), ``kind`` fragments."""
        if item_id.__class__ is str and base.plain_string(item_id):
            self._frame_match, self._frame_type = _DELTA_FRAMES[type], type
            self._sorted = _sorted_delta(type, indices)
            ids = "".join(f'"{name}":{number},' for name, number in zip(_DELTA_ID_NAMES[type], indices, strict=True))
            self._expect_frames(f'"item_id":"{item_id}",{ids}', kind, self._open)

    def _part_content(self, index: int, part: dict[str, Any]) -> None:
        text = part.get("refusal") if part.get("type") == "refusal" else part.get("text")
        if text and not self._emitted:
            self.sink.text(index, str(text))
            self._emitted = True
        annotations = part.get("annotations")
        if annotations and isinstance(annotations, list):
            seen = self._annotations.get(self._open_key, 0)  # those already read from annotation events
            self._annotations[self._open_key] = len(annotations)
            for annotation in annotations[seen:]:
                self._annotation(annotation, {"annotation": annotation})

    def _annotation(self, raw: Any, native: dict[str, Any]) -> None:
        """A ``url_citation`` is a citation of the open text block; other annotations are native."""
        if isinstance(raw, dict) and raw.get("type") == "url_citation":
            title, start, end = raw.get("title"), raw.get("start_index"), raw.get("end_index")
            citation = Citation(
                url=str(raw.get("url", "")),
                title=title if isinstance(title, str) else None,
                start=start if isinstance(start, int) else None,
                end=end if isinstance(end, int) else None,
            )
            self.sink.citation(self._open, citation)
        else:
            atype = raw.get("type") if isinstance(raw, dict) else None
            self.sink.native(self._open, Native(NAME, native, f"openai-responses {atype!r} annotations"))

    def _part_done(self, output_index: int, content_index: int, part: dict[str, Any]) -> None:
        key = (output_index, content_index)
        if key in self._closed_parts or part.get("type") not in ("output_text", "refusal"):
            return
        if part["type"] == "refusal":
            self._refused = True
        index = self._open if self._open_key == key else self._open_block(key, part["type"].replace("output_", ""))
        self._part_content(index, part)
        self._close_block()

    # -- reasoning

    def _reasoning_block(self, data: dict[str, Any]) -> int:
        key = (self._output_index(data), -1)
        if self._open_key == key and self._open_kind == "thinking":
            return self._open
        return self._open_block(key, "thinking")

    def _reasoning_part(self, data: dict[str, Any], kind: str, number: Any) -> int:
        """Makes (kind, number) the current part of the open reasoning block; parts are separated."""
        index = self._reasoning_block(data)
        part = (kind, number if isinstance(number, int) else 0)
        if self._part != part:
            if self._part is not None:
                if kind == "summary":  # a Responses client gets the part boundary back
                    self.sink.native(index, Native(NAME, {"summary_index": part[1]}))
                self.sink.thinking(index, SUMMARY_SEPARATOR)
            self._part, self._part_emitted = part, False
            position = self._open_key[0]
            if kind == "summary" and number.__class__ is int and position.__class__ is int:
                self._expect(
                    "response.reasoning_summary_text.delta", data.get("item_id"), (position, number), "thinking"
                )
            else:
                self._frame_head = NO_FRAME
        return index

    def _reasoning_text(self, data: dict[str, Any], kind: str, number: Any, text: str) -> None:
        index = self._reasoning_part(data, kind, number)
        if text:
            self.sink.thinking(index, text)
            self._part_emitted = self._emitted = True

    def _reasoning_done(self, data: dict[str, Any], kind: str, number: Any, text: Any) -> None:
        index = self._reasoning_part(data, kind, number)
        if text and not self._part_emitted:
            self.sink.thinking(index, str(text))
            self._part_emitted = self._emitted = True

    # -- items

    def _item_added(self, data: dict[str, Any]) -> None:
        item = data.get("item") or {}
        position = data.get("output_index")
        position = position if isinstance(position, int) else len(self._items)
        itype = str(item.get("type", ""))
        self._items[position] = itype
        if item.get("id"):
            self._item_index[str(item["id"])] = position
        native = Native(NAME, {"item": item})
        if itype in ("function_call", "custom_tool_call"):
            self._calls = True
            call_id = str(item.get("call_id") or item.get("id") or f"call_{position}")
            name = flat_tool_name(item.get("namespace") or None, str(item.get("name", "")))
            index = self._open_block((position, -1), "tool_use", id=call_id, name=name, native=native)
            if itype == "function_call":
                self._expect("response.function_call_arguments.delta", item.get("id"), (position,), "tool_input")
            if itype == "custom_tool_call":  # its text is the one string parameter: {"input": "…"}
                self.sink.tool_input(index, f'{{"{CUSTOM_TOOL_PARAMETER}":"')
                if item.get("input"):
                    self.sink.tool_input(index, _json_string_piece(str(item["input"])))
                    self._emitted = True
            elif item.get("arguments"):
                self.sink.tool_input(index, str(item["arguments"]))
                self._emitted = True
        elif itype == "web_search_call":
            self._open_block((position, -1), "web_search", id=str(item.get("id", "")), native=native)
        elif itype in ("reasoning", "message"):
            # a message opens a block per content part; a reasoning item on its first summary
            # event, or at its done event (it may be redacted)
            self._item_native[position] = native
        else:
            what = f"openai-responses {itype!r} output item"
            self._open_block((position, -1), "native", native=Native(NAME, {"item": item}, what))

    def _item_done(self, data: dict[str, Any]) -> None:
        item = data.get("item") or {}
        position = self._output_index(data)
        if position < 0:
            position = self._item_index.get(str(item.get("id", "")), len(self._items))
        if position not in self._items:
            self._whole_item(position, item)
            return
        itype = self._items[position]
        if itype == "message":
            self._done_native(position, item)
            self._message_done(position, item)
        elif itype == "reasoning":
            self._reasoning_item_done(position, item)
        elif self._open_key == (position, -1):
            if itype == "function_call":
                if not self._emitted and item.get("arguments"):
                    self.sink.tool_input(self._open, str(item["arguments"]))
            elif itype == "custom_tool_call":
                if not self._emitted and item.get("input"):
                    self.sink.tool_input(self._open, _json_string_piece(str(item["input"])))
                self.sink.tool_input(self._open, '"}')
            if itype == "web_search_call":
                self._search_done(position, item)
            else:
                self._done_native(position, item)
            self._close_block()

    def _done_native(self, position: int, item: dict[str, Any]) -> None:
        """The item as its done event gives it, for a Responses client (the block of the item if open)."""
        inside = self._open >= 0 and self._open_key[0] == position
        self.sink.native(self._open if inside else -1, Native(NAME, {"done": item}))

    def _search_done(self, position: int, item: dict[str, Any]) -> None:
        """A web_search_call is two blocks: the search (its action) and its result (the sources)."""
        action = item.get("action")
        if not isinstance(action, dict):
            action = {}
        if action.get("type") == "search":
            self._searches += 1
        call = {k: v for k, v in action.items() if k not in ("type", "sources")}
        if call:
            self.sink.tool_input(self._open, orjson.dumps(call).decode())
        error = "unavailable" if item.get("status") == "failed" else ""
        index = self._open_block((position, -1), "web_search_result", id=str(item.get("id", "")), data=error)
        for source in action.get("sources") or ():
            if isinstance(source, dict) and source.get("type") == "url" and isinstance(source.get("url"), str):
                self.sink.search_result(index, SearchResult(url=source["url"]))
        self.sink.native(index, Native(NAME, {"done": item}))

    def _reasoning_item_done(self, position: int, item: dict[str, Any]) -> None:
        encrypted = item.get("encrypted_content")
        encrypted = encrypted if isinstance(encrypted, str) else ""
        if self._open_key != (position, -1):
            if encrypted.startswith(REDACTED_PREFIX):
                self._open_block((position, -1), "redacted_thinking", data=encrypted[len(REDACTED_PREFIX) :])
                self._done_native(position, item)
                self._close_block()
                return
            self._open_block((position, -1), "thinking")
        if not self._emitted:
            texts = [str(s.get("text", "")) for s in item.get("summary") or () if isinstance(s, dict)]
            texts += [str(c.get("text", "")) for c in item.get("content") or () if isinstance(c, dict)]
            text = SUMMARY_SEPARATOR.join(t for t in texts if t)
            if text:
                self.sink.thinking(self._open, text)
        if encrypted:
            self.sink.signature(self._open, encrypted)
        self._done_native(position, item)
        self._close_block()

    def _message_done(self, position: int, item: dict[str, Any]) -> None:
        for content_index, part in enumerate(item.get("content") or ()):
            if isinstance(part, dict):
                self._part_done(position, content_index, part)
        if self._open_key[0] == position:
            self._close_block()

    def _whole_item(self, position: int, item: dict[str, Any]) -> None:
        """An item that arrived complete (only in a done event or the final response)."""
        itype = str(item.get("type", ""))
        if itype in ("reasoning", "message"):
            self._items[position] = itype
            self._item_native[position] = Native(NAME, {"item": item})
            if itype == "reasoning":
                self._reasoning_item_done(position, item)
            else:
                self._done_native(position, item)
                self._message_done(position, item)
        else:
            empty = {"function_call": {"arguments": ""}, "custom_tool_call": {"input": ""}}.get(itype, {})
            self._item_added({"output_index": position, "item": {**item, **empty}})
            self._item_done({"output_index": position, "item": item})

    def truncated_message(self) -> str:
        return "upstream stream ended before response.completed: the answer is incomplete"


def _frame(event: bytes, payload: bytes) -> bytes:
    return b"event: " + event + b"\ndata: " + payload + b"\n\n"


def response_object(id: str, created: int, model: str, status: str, **fields: Any) -> dict[str, Any]:
    """A ``response`` object with the fields every one carries; the request's own settings are not
    known to a converter, so they hold the API's defaults."""
    return {
        "id": id,
        "object": "response",
        "created_at": created,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": {},
        **fields,
    }


class OpenAIResponsesStreamWriter(base.StreamWriter):
    """Writes the Responses event sequence.

    The format makes it hold text: each ``.done`` event repeats its part's or item's whole text,
    so the open block's fragments are kept until it stops; ``response.completed`` repeats every
    output item, so each finished item is kept serialized until the end.

    From a Responses source it writes the source's own items back (their ids, their added and done
    forms, the events it has no canonical meaning for) from the native carriers.
    """

    format = NAME

    def __init__(self, options: Options, warn: Warn = base._ignore) -> None:
        super().__init__(options, warn)
        self._seq = 0
        self._id = ""
        self._base = ""  # the response id without its prefix: the stem of the item ids
        self._model = ""
        self._created = 0
        self._stop: str | None = None
        self._items: list[bytes] = []  # finished output items, serialized, for the final response
        self._refused_in_band = False
        # a Responses source's own: the response fields, the final response's, its final output
        self._extras: dict[str, Any] = {}
        self._final: dict[str, Any] = {}
        self._final_output: list[Any] | None = None
        # the message item being written (consecutive text/refusal blocks are its content parts)
        self._msg_id = ""
        self._msg_position = -1
        self._msg_parts: list[bytes] = []
        self._msg_done: dict[str, Any] | None = None  # its done form, from a Responses source
        # the open block
        self._kind = ""
        self._index = -1
        self._position = -1  # its output_index
        self._item_id = ""
        self._added: dict[str, Any] = {}  # its item as written in output_item.added
        self._done: dict[str, Any] | None = None  # its done form, from a Responses source
        self._content_index = 0
        self._buf: list[bytes] = []  # its fragments so far, as the JSON literals its deltas carried
        self._signature: list[str] = []
        self._summary = False  # a summary part is open in the thinking block
        self._summaries: list[str] = []  # its finished summary parts
        self._skip_separator = False
        self._annotations: list[dict[str, Any]] = []  # of the open text part
        self._call: tuple[str, str] = ("", "")
        self._origin: ToolOrigin | None = None
        self._data = ""
        self._delta_prefix = b""
        self._skip = -1  # a block dropped (another format's native one)
        self._search: dict[str, Any] | None = None  # the open web_search_call item

    def _event(self, type: str, fields: dict[str, Any]) -> None:
        payload = orjson.dumps({"type": type, "sequence_number": self._seq, **fields})
        self._seq += 1
        self.out.append(_frame(type.encode(), payload))

    def _delta(self, literal: bytes) -> None:
        self.out.append(b'%s%s,"sequence_number":%d}\n\n' % (self._delta_prefix, literal, self._seq))
        self._seq += 1

    def _buffered(self) -> str:
        """The open block's fragments so far, as one text; the buffer is emptied."""
        buf, self._buf = self._buf, []
        return "".join(orjson.loads(b"[" + b",".join(buf) + b"]"))

    def _set_delta(self, type: str, fields: bytes) -> None:
        self._delta_prefix = b'event: %s\ndata: {"type":"%s",%s,"delta":' % (type.encode(), type.encode(), fields)

    def _response(self, status: str, **fields: Any) -> dict[str, Any]:
        return merge_native(response_object(self._id, self._created, self._model, status, **fields), self._extras)

    def _output(self) -> list[orjson.Fragment]:
        return [orjson.Fragment(item) for item in self._items]

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        if self._started:
            return
        self._started = True
        self.reported_usage.update(usage)
        own = self.own(native)
        if own:
            self._extras = dict(own.get("response") or {})
        self._id = self._extras.pop("id", None) or base.derive_id(id, "resp_")
        self._base = self._id.removeprefix("resp_")
        self._model = self.options.model or model
        self._created = self.options.created or created or int(time.time())
        self._event("response.created", {"response": self._response("in_progress")})
        self._event("response.in_progress", {"response": self._response("in_progress")})

    # -- blocks

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        self._ensure_started()
        own = self.own(native)
        added: dict[str, Any] | None = own.get("item") if own else None
        if self._kind:
            self._finish_block("completed")  # the source never stopped the last block
        if kind == "web_search_result":
            if self._search is None:  # a result whose search was not seen
                self._open_search(id, None)
            assert self._search is not None
            self._search["error"] = data
            self._kind, self._index = kind, index
            return
        if self._search is not None:
            self._close_search("in_progress")  # a search without its result: the turn paused before it ran
        if kind == "native" and added is None:
            self._skip = index  # another format's block: dropped (warned)
            return
        self._kind, self._index, self._buf, self._signature = kind, index, [], []
        self._done, self._annotations = None, []
        if kind in ("text", "refusal"):
            if added is not None:
                self._close_message("completed")  # the source's next message item
            self._start_part(kind, added)
            return
        self._close_message("completed")
        if kind == "web_search":
            self._open_search(id, added)
            return
        position = self._position = len(self._items)
        item: dict[str, Any]
        if kind == "tool_use":
            call_id = id or f"call_{position}"
            self._call = (call_id, name)
            self._origin = self.options.tool_origins.get(name) or _origin_of(added)
            self._item_id = str(added["id"]) if added and added.get("id") else call_item_id(call_id)
            item = added or call_item(self._item_id, call_id, name, "", "in_progress", self._origin)
            self._set_delta(
                "response.custom_tool_call_input.delta"
                if item["type"] == "custom_tool_call"
                else "response.function_call_arguments.delta",
                b'"item_id":%s,"output_index":%d' % (orjson.dumps(self._item_id), position),
            )
        elif kind == "native":
            assert added is not None
            item = added
            self._item_id = str(added.get("id", ""))
        else:  # thinking and redacted_thinking: a reasoning item
            self._item_id = str(added["id"]) if added and added.get("id") else f"rs_{self._base}_{position}"
            self._summary, self._summaries, self._skip_separator = False, [], False
            self._data = data
            item = added or {"id": self._item_id, "type": "reasoning", "summary": []}
            if kind == "redacted_thinking" and not added:
                item["encrypted_content"] = REDACTED_PREFIX + data
        self._added = item
        self._event("response.output_item.added", {"output_index": position, "item": item})

    def _start_part(self, kind: str, added: dict[str, Any] | None) -> None:
        if not self._msg_id:
            self._msg_position = len(self._items)
            self._msg_id = str(added["id"]) if added and added.get("id") else f"msg_{self._base}_{self._msg_position}"
            self._msg_parts, self._msg_done = [], None
            item = added or {
                "id": self._msg_id,
                "type": "message",
                "status": "in_progress",
                "content": [],
                "role": "assistant",
            }
            self._event("response.output_item.added", {"output_index": self._msg_position, "item": item})
        self._position, self._item_id = self._msg_position, self._msg_id
        self._content_index = len(self._msg_parts)
        ids = b'"item_id":%s,"output_index":%d,"content_index":%d' % (
            orjson.dumps(self._msg_id),
            self._position,
            self._content_index,
        )
        if kind == "refusal":
            self._refused_in_band = True
            part: dict[str, Any] = {"type": "refusal", "refusal": ""}
            self._set_delta("response.refusal.delta", ids)
        else:
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            self._set_delta("response.output_text.delta", ids + b',"logprobs":[]')
        self._event("response.content_part.added", {**self._part_ids(), "part": part})

    def _part_ids(self) -> dict[str, Any]:
        return {"item_id": self._msg_id, "output_index": self._position, "content_index": self._content_index}

    def text(self, index: int, text: str) -> None:
        if text:  # readers send text only for the open text or refusal block
            literal = _dumps(text)
            self._buf.append(_own(literal))
            # _delta, inlined: this is the one call per token
            seq = self._seq
            self._seq = seq + 1
            self.out.append(b'%s%s,"sequence_number":%d}\n\n' % (self._delta_prefix, literal, seq))

    def text_literals(self, index: int, literals: list[str]) -> None:
        self._deltas(literals)

    def _deltas(self, literals: list[str]) -> None:
        """The open block's delta events for a run of literals, which its buffer keeps."""
        encoded = list(map(str.encode, literals))
        self._buf.append(b",".join(encoded))  # joined as _buffered reads them
        prefix, seq = self._delta_prefix, self._seq
        self._seq = seq + len(encoded)
        # all in C (map, zip, %, join): the fastest way found to number every frame
        frames = map(_DELTA_END.__mod__, zip(encoded, range(seq, self._seq), strict=True))
        self.out.append(prefix + prefix.join(frames))

    def fragment_writer(self, kind: str, index: int) -> Callable[[bytes], bytes] | None:
        # what the three *_literals here write for one literal, under the same conditions
        if index != self._index and kind != "text":
            return None
        if kind == "tool_input" and not (
            self._kind == "tool_use" and not (self._origin and self._origin.kind == "custom")
        ):
            return None
        if kind == "thinking" and not (self._summary and self._kind == "thinking"):
            return None
        return self._one_delta

    def _one_delta(self, literal: bytes, lead: bytes = b"") -> bytes:
        """``_deltas`` for one literal, returning the frame after ``lead`` (one allocation of their
        size, as large literals need: ``%`` over-allocates)."""
        self._buf.append(literal)
        seq = self._seq
        self._seq = seq + 1
        return b"".join((lead, self._delta_prefix, literal, _SEQUENCE_END % seq))

    def tool_input(self, index: int, fragment: str) -> None:
        if fragment:
            self._tool_input(index, _own(_dumps(fragment)))

    def tool_input_literals(self, index: int, literals: list[str]) -> None:
        if index == self._index and self._kind == "tool_use" and not (self._origin and self._origin.kind == "custom"):
            self._deltas(literals)
        else:
            for literal in literals:
                self._tool_input(index, literal.encode())

    def _tool_input(self, index: int, literal: bytes) -> None:
        if index != self._index:
            return
        if self._kind == "tool_use":
            self._buf.append(literal)
            if not (self._origin and self._origin.kind == "custom"):  # a custom call's text is whole at the end
                self._delta(literal)
        elif self._kind == "web_search" and self._search is not None:
            self._search["input"].append(orjson.loads(literal))

    def thinking(self, index: int, text: str) -> None:
        if text:
            self._thinking(index, _own(_dumps(text)))

    def thinking_literals(self, index: int, literals: list[str]) -> None:
        for at, literal in enumerate(literals):
            if self._summary and self._kind == "thinking" and index == self._index:
                self._deltas(literals[at:])  # the summary part is open: the rest are its deltas
                return
            self._thinking(index, literal.encode())

    def _thinking(self, index: int, literal: bytes) -> None:
        if self._kind != "thinking" or index != self._index:
            return
        if self._skip_separator:  # the separator a Responses source put between two summary parts
            self._skip_separator = False
            if literal == _SEPARATOR_LITERAL:
                return
        if not self._summary:
            self._summary = True
            number = len(self._summaries)
            self._set_delta(
                "response.reasoning_summary_text.delta",
                b'"item_id":%s,"output_index":%d,"summary_index":%d'
                % (orjson.dumps(self._item_id), self._position, number),
            )
            self._event("response.reasoning_summary_part.added", {**self._summary_ids(), "part": _summary("")})
        self._buf.append(literal)
        self._delta(literal)

    def _summary_ids(self) -> dict[str, Any]:
        return {"item_id": self._item_id, "output_index": self._position, "summary_index": len(self._summaries)}

    def _close_summary(self) -> None:
        if self._summary:
            text = self._buffered()
            self._event("response.reasoning_summary_text.done", {**self._summary_ids(), "text": text})
            self._event("response.reasoning_summary_part.done", {**self._summary_ids(), "part": _summary(text)})
            self._summaries.append(text)
            self._summary = False

    def signature(self, index: int, signature: str) -> None:
        if self._kind == "thinking" and index == self._index:
            self._signature.append(signature)

    def citation(self, index: int, citation: Citation) -> None:
        if self._kind != "text" or index != self._index:
            return
        annotation = {
            "type": "url_citation",
            "start_index": citation.start,
            "end_index": citation.end,
            "url": citation.url,
            "title": citation.title or "",
        }
        self._annotations.append(annotation)
        if citation.start is not None and citation.end is not None:
            self._annotation_added(len(self._annotations) - 1, annotation)
        # else it cites the whole block: written when the block's text is complete

    def _annotation_added(self, index: int, annotation: dict[str, Any]) -> None:
        self._event(
            "response.output_text.annotation.added",
            {**self._part_ids(), "annotation_index": index, "annotation": annotation},
        )

    def search_result(self, index: int, result: SearchResult) -> None:
        if self._search is not None and self._kind == "web_search_result":
            self._search["sources"].append({"type": "url", "url": result.url})

    def native(self, index: int, carrier: Native) -> None:
        own = self.own(carrier)
        if own is None:
            return
        if "event" in own:  # an event of its own, as it came (renumbered)
            event = own["event"]
            if event.get("type") == "response.output_text.annotation.added" and self._kind == "text":
                self._annotations.append(event.get("annotation"))
            self.out.append(
                _frame(str(event.get("type")).encode(), orjson.dumps({**event, "sequence_number": self._seq}))
            )
            self._seq += 1
        elif "annotation" in own:
            if self._kind == "text":
                self._annotations.append(own["annotation"])
        elif "done" in own:
            self._source_done(own["done"])
        elif "summary_index" in own:
            if self._kind == "thinking":
                self._close_summary()
                self._skip_separator = True
        elif "response" in own:
            merge_native(self._final, own["response"])
            if isinstance(own.get("output"), list):
                self._final_output = own["output"]

    def _source_done(self, item: dict[str, Any]) -> None:
        """A Responses source's done form of the item being written."""
        if self._search is not None and item.get("type") == "web_search_call":
            self._search["done"] = item
        elif item.get("type") == "message" and self._msg_id:
            self._msg_done = item
            if self._kind not in ("text", "refusal"):
                self._close_message("completed")
        else:
            self._done = item

    def block_stop(self, index: int) -> None:
        if index == self._skip:
            self._skip = -1
        elif not self._kind or index != self._index:
            return
        elif self._kind == "web_search":
            self._kind = ""
            if self._search is not None and not self._search["own"]:
                self._event("response.web_search_call.searching", self._search_ids())
        elif self._kind == "web_search_result":
            self._kind = ""
            if self._search is not None:
                self._close_search("failed" if self._search["error"] else "completed")
        else:
            self._finish_block("completed")

    # -- web search: one web_search_call item for a web_search block and its web_search_result

    def _open_search(self, id: str, added: dict[str, Any] | None) -> None:
        position = len(self._items)
        item_id = str(added["id"]) if added and added.get("id") else base.derive_id(id, "ws_", base.SEARCH_ID_PREFIXES)
        item = added or {
            "id": item_id,
            "type": "web_search_call",
            "status": "in_progress",
            "action": {"type": "search"},
        }
        self._search = {
            "id": item_id,
            "position": position,
            "own": added is not None,
            "input": [],
            "sources": [],
            "error": "",
            "done": None,
        }
        self._kind, self._position, self._item_id = "web_search", position, item_id
        self._event("response.output_item.added", {"output_index": position, "item": item})
        if added is None:
            self._event("response.web_search_call.in_progress", self._search_ids())

    def _search_ids(self) -> dict[str, Any]:
        assert self._search is not None
        return {"output_index": self._search["position"], "item_id": self._search["id"]}

    def _close_search(self, status: str) -> None:
        search = self._search
        assert search is not None
        item = search["done"]
        if item is None:
            action: dict[str, Any] = {"type": "search"}
            call = parse_tool_input("".join(search["input"]))
            if isinstance(call, dict):
                action.update((k, v) for k, v in call.items() if k not in ("type", "sources"))
            if search["sources"]:
                action["sources"] = search["sources"]
            if status == "completed":
                self._event("response.web_search_call.completed", self._search_ids())
            item = {"id": search["id"], "type": "web_search_call", "status": status, "action": action}
        self._search = None
        self._item_done(search["position"], item)

    def _finish_block(self, status: str) -> None:
        kind, self._kind = self._kind, ""
        if kind in ("web_search", "web_search_result"):
            return  # its item ends with its result, or when the next block starts
        text = "" if kind == "thinking" else self._buffered()
        if kind in ("text", "refusal"):
            if kind == "refusal":
                self._event("response.refusal.done", {**self._part_ids(), "refusal": text})
                part: dict[str, Any] = {"type": "refusal", "refusal": text}
            else:
                for number, annotation in enumerate(self._annotations):
                    if annotation.get("type") == "url_citation" and annotation.get("end_index") is None:
                        annotation["start_index"] = annotation["start_index"] or 0
                        annotation["end_index"] = len(text)
                        self._annotation_added(number, annotation)
                self._event("response.output_text.done", {**self._part_ids(), "text": text, "logprobs": []})
                part = {"type": "output_text", "annotations": self._annotations, "logprobs": [], "text": text}
            self._event("response.content_part.done", {**self._part_ids(), "part": part})
            self._msg_parts.append(orjson.dumps(part))
            if self._msg_done is not None:  # the source's message item ended with this part
                self._close_message(status)
            return
        item: dict[str, Any]
        if kind == "tool_use":
            call_id, name = self._call
            ids = {"item_id": self._item_id, "output_index": self._position}
            custom = self._origin is not None and self._origin.kind == "custom"
            if not text and not custom:  # a call without arguments still has an (empty) object of them
                text = "{}"
                self._delta(b'"{}"')
            item = call_item(self._item_id, call_id, name, text, status, self._origin)
            if custom:
                self._delta(_dumps(item["input"]))
                self._event("response.custom_tool_call_input.done", {**ids, "input": item["input"]})
            else:
                done = {**ids, "name": item["name"], "arguments": text}
                self._event("response.function_call_arguments.done", done)
        elif kind == "thinking":
            self._close_summary()
            signature = "".join(self._signature)
            self._signature = []
            item = {
                "id": self._item_id,
                "type": "reasoning",
                "summary": [_summary(t) for t in self._summaries],
                "status": status,
            }
            if signature:
                item["encrypted_content"] = signature
        elif kind == "native":
            item = self._added
        else:  # redacted_thinking
            item = {
                "id": self._item_id,
                "type": "reasoning",
                "summary": [],
                "encrypted_content": REDACTED_PREFIX + self._data,
                "status": status,
            }
        self._item_done(self._position, self._done or item)
        self._done = None

    def _item_done(self, position: int, item: dict[str, Any]) -> None:
        encoded = orjson.dumps(item)
        self._items.append(encoded)
        self._event("response.output_item.done", {"output_index": position, "item": orjson.Fragment(encoded)})

    def _close_message(self, status: str) -> None:
        if not self._msg_id:
            return
        item: dict[str, Any] | None = self._msg_done
        if item is None:
            content = [orjson.Fragment(part) for part in self._msg_parts]
            item = {"id": self._msg_id, "type": "message", "status": status, "content": content, "role": "assistant"}
        self._msg_id, self._msg_parts, self._msg_done = "", [], None
        self._item_done(self._msg_position, item)

    # -- end

    def usage(self, usage: Usage) -> None:
        self.reported_usage.update(usage)

    def stop(self, reason: str, sequence: str | None = None) -> None:
        self._stop = reason

    def ping(self) -> None:
        if not self.finished:
            self.out.append(b": ping\n\n")  # a comment: keeps the connection alive, every client ignores it

    def write_end(self) -> None:
        self._ensure_started()
        reason = self._stop or "end_turn"
        incomplete = None
        if reason == "max_tokens":
            incomplete = "max_output_tokens"
        elif reason == "refusal" and not self._refused_in_band:
            incomplete = "content_filter"
        status = "incomplete" if incomplete else "completed"
        if self._kind:
            self._finish_block(status)
        if self._search is not None:
            self._close_search("in_progress")
        self._close_message(status)
        output: list[Any] = self._output()
        if self._final_output is not None and len(self._final_output) == len(self._items):
            output = self._final_output  # a Responses source's final object repeats its items so
        response = self._response(
            status,
            incomplete_details={"reason": incomplete} if incomplete else None,
            output=output,
            usage=write_usage(self.reported_usage),
        )
        merge_native(response, self._final)
        self._event("response.incomplete" if incomplete else "response.completed", {"response": response})

    def write_error(self, type: str, message: str) -> None:
        self._ensure_started()
        openai_type, code = errors.to_openai(type)
        # The nested `error` object is what the API sends and what makes the openai SDK raise;
        # the top-level fields are the documented ResponseErrorEvent shape.
        error = {"type": openai_type, "code": code, "message": message, "param": None}
        self._event("error", {"code": code, "message": message, "param": None, "error": error})
        # the response's own error code is one of a fixed list (the event above has the precise one)
        failed_code = "rate_limit_exceeded" if code == "rate_limit_exceeded" else "server_error"
        failed = self._response("failed", error={"code": failed_code, "message": message})
        failed["output"] = self._output()
        self._event("response.failed", {"response": failed})


def _origin_of(item: dict[str, Any] | None) -> ToolOrigin | None:
    """How a Responses source's own call item was shaped (namespaced, custom), to write it back so."""
    if not item or (item.get("type") != "custom_tool_call" and not item.get("namespace")):
        return None
    kind = "custom" if item.get("type") == "custom_tool_call" else "function"
    return ToolOrigin(str(item.get("name", "")), item.get("namespace") or None, kind)


_NUMBER = "(?:0|[1-9][0-9]*)"
_ASCII = r"[\x20\x21\x23-\x5b\x5d-\x7e]*"  # printable ASCII but the quote and the backslash


def _delta_frame(type: str, ids: str, shape: bool = False) -> Any:
    """The matcher of a ``type`` delta event as OpenAI and our own writer send it: its ids (group 1,
    compared with the open block's), its literal (group 2), and only fields the careful path ignores
    (``sequence_number``, empty ``logprobs``, ``obfuscation``). With ``shape``, every optional
    field is a group too (the ids and the literal are then groups 2 and 4): ``_SHAPE_GROUPS``
    say which of them a frame has, for the one-frame path's ``_shaped_rest``."""
    optional = "(" if shape else "(?:"
    return re.compile(
        rf'\{{"type":"{re.escape(type)}",{optional}"sequence_number":{_NUMBER},)?("item_id":"[^"\\]*",{ids})'
        rf'{optional}"logprobs":\[\],)?"delta":({base.NONEMPTY_LITERAL}){optional},"logprobs":\[\])?'
        rf'{optional},"obfuscation":"[^"\\\x00-\x1f\ud800-\udfff]*")?{optional},"sequence_number":{_NUMBER})?\}}'
    ).fullmatch


_DELTA_IDS = {  # the ids each delta event carries after its item_id
    "response.output_text.delta": '"output_index":[0-9]+,"content_index":[0-9]+,',
    "response.function_call_arguments.delta": '"output_index":[0-9]+,',
    "response.reasoning_summary_text.delta": '"output_index":[0-9]+,"summary_index":[0-9]+,',
}
_DELTA_FRAMES = {type: _delta_frame(type, ids) for type, ids in _DELTA_IDS.items()}
_DELTA_SHAPES = {type: _delta_frame(type, ids, shape=True) for type, ids in _DELTA_IDS.items()}
_DELTA_ID_NAMES = {  # the same ids' names, in that order
    "response.output_text.delta": ("output_index", "content_index"),
    "response.function_call_arguments.delta": ("output_index",),
    "response.reasoning_summary_text.delta": ("output_index", "summary_index"),
}
# which optional fields a frame has: sequence_number first, logprobs before and after the delta,
# obfuscation, sequence_number last
_SHAPE_GROUPS = (1, 3, 5, 6, 7)


def _one_frame_rest(ids: str) -> Callable[[bytes | bytearray, int], re.Match[bytes] | None]:
    """A delta event's chunk after its event line and ``{"type":…,`` (OneFrame): ``_delta_frame``
    over bytes, with the item id and obfuscation in printable ASCII only, and the blank line."""
    number, ascii = _NUMBER.encode(), _ASCII.encode()
    return re.compile(
        rb'(?:"sequence_number":' + number + rb',)?("item_id":"' + ascii + b'",' + ids.encode() + b")"
        rb'(?:"logprobs":\[\],)?"delta":(' + base.NONEMPTY_LITERAL_BYTES + rb')(?:,"logprobs":\[\])?'
        rb'(?:,"obfuscation":"' + ascii + rb'")?(?:,"sequence_number":' + number + rb")?\}\n\n"
    ).fullmatch


_ONE_FRAME_RESTS = {type: _one_frame_rest(ids) for type, ids in _DELTA_IDS.items()}


@functools.cache
def _shaped_rest(type: str, fields: tuple[bool, ...]) -> Callable[[bytes | bytearray, int], re.Match[bytes] | None]:
    """``_one_frame_rest`` for one shape, ``fields`` as ``_SHAPE_GROUPS`` give them:
    after a prefix that ends with ``"sequence_number":`` (the first) or with the ids (the others;
    group 1 is then empty). It matches a subset of what ``_one_frame_rest`` does, in less time:
    no optional fields to try, and the ids (compared whole) as any text between their quotes."""
    seq_first, logprobs_before, logprobs_after, obfuscation, seq_last = fields
    number, ascii = _NUMBER.encode(), _ASCII.encode()
    ids = _DELTA_IDS[type].encode()
    return re.compile(
        (number + rb',("item_id":"[^"]*",' + ids + b")" if seq_first else b"()")
        + (rb'"logprobs":\[\],' if logprobs_before else b"")
        + rb'"delta":('
        + base.NONEMPTY_LITERAL_BYTES
        + b")"
        + (rb',"logprobs":\[\]' if logprobs_after else b"")
        + (rb',"obfuscation":"' + ascii + b'"' if obfuscation else b"")
        + (rb',"sequence_number":' + number if seq_last else b"")
        + b"}\n\n"
    ).fullmatch


def _own(literal: bytes) -> bytes:
    """``literal`` (orjson's) in an allocation of its own size, for a block's buffer: orjson.dumps
    writes into a buffer of a page or more and shrinks it in place, so each result kept leaves a hole
    of nearly a page that later ones do not fit in (measured: 4 KiB and ~2 µs a fragment)."""
    return literal[:-1] + b'"'


def _content_index(data: dict[str, Any]) -> int:
    """An event's content part index; one that is not a number reads as the default, 0."""
    index = data.get("content_index", 0)
    return index if index.__class__ is int else 0


class _Sorted(NamedTuple):
    """A delta event with its fields sorted by name after its type, as gpt-5.5 sends them, for one
    block's ids: ``match`` reads its data (group 1 empty, the literal group 2); for the one-frame
    path, ``lead`` is its bytes after ``{"type":…,`` up to the literal and ``rest`` matches the
    remainder (OneFrame, key empty). The careful path reads a delta's block from its output index
    (and content or summary index), not its item id, so any item id that is a plain JSON string does."""

    match: Callable[[str], re.Match[str] | None]
    lead: bytes
    rest: Callable[[bytes | bytearray, int], re.Match[bytes] | None]


def _never(data: Any, at: int = 0) -> None:
    return None


_NO_SORTED = _Sorted(_never, b"\n", _never)


def _sorted_delta(type: str, indices: tuple[int, ...]) -> _Sorted:
    """The sorted delta of a block at ``indices``: compiled once per indices in the range real streams
    use (an output index under 64, a part's index under 8; about a millisecond each, so an upstream
    cannot make every block cost one), a matcher of nothing beyond it (such a block's deltas are
    read the careful way when their fields are sorted)."""
    if not (0 <= indices[0] < 64 and all(0 <= index < 8 for index in indices[1:])):
        return _NO_SORTED
    return _compiled_sorted(type, indices)


@functools.cache  # bounded by the range above: at most 1,088 patterns
def _compiled_sorted(type: str, indices: tuple[int, ...]) -> _Sorted:
    named = dict(zip(_DELTA_ID_NAMES[type], indices, strict=True))
    before = "".join(f'"{name}":{named.pop(name)},' for name in ("content_index",) if name in named)
    output_index = f',"output_index":{named.pop("output_index")}'
    after = "".join(f',"{name}":{number}' for name, number in named.items())  # summary_index
    text = r'[^"\\\x00-\x1f\ud800-\udfff]*'
    tail = (
        r'(?:,"logprobs":\[\])?(?:,"obfuscation":"{text}")?' + re.escape(output_index)
        + rf'(?:,"sequence_number":{_NUMBER})?' + re.escape(after)
    )  # fmt: skip
    match = re.compile(
        rf'\{{"type":"{re.escape(type)}",{re.escape(before)}"delta":()({base.NONEMPTY_LITERAL}),"item_id":"{text}"'
        + tail.format(text=text)
        + r"\}"
    ).fullmatch
    rest = re.compile(
        b"()(" + base.NONEMPTY_LITERAL_BYTES + b'),"item_id":"' + _ASCII.encode() + b'"'
        + tail.format(text=_ASCII).encode() + b"}\n\n"
    ).fullmatch  # fmt: skip
    return _Sorted(match, f'{before}"delta":'.encode(), rest)


def _json_string_piece(text: str) -> str:
    """A piece of a JSON string's contents (escaped, without quotes): pieces concatenate."""
    return orjson.dumps(text).decode()[1:-1]


def _summary(text: str) -> dict[str, str]:
    return {"type": "summary_text", "text": text}
