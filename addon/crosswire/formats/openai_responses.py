"""OpenAI Responses (`POST /v1/responses`): stream reader and writer.

Mapping (see docs/responses.md): a ``message`` item's ``output_text``/``refusal`` parts are
``text``/``refusal`` blocks, a ``function_call`` item is a ``tool_use`` block (its ``call_id``
is the canonical tool id; the ``fc_`` item id is derived from it), a ``reasoning`` item is one
``thinking`` block (summary parts joined by a blank line; ``encrypted_content`` is the signature),
and a reasoning item whose ``encrypted_content`` carries :data:`REDACTED_PREFIX` is a
``redacted_thinking`` block.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from .. import errors
from ..events import CUSTOM_TOOL_PARAMETER, StreamSink, ToolOrigin, Usage, parse_tool_input
from ..options import Options
from . import base
from .base import Warn, log
from .body_common import flat_tool_name

NAME = "openai-responses"

_dumps = orjson.dumps

# Marks a reasoning item that stands for an Anthropic redacted_thinking block: the opaque data
# follows it. ":" is not a base64 character, so no real encrypted_content or signature starts so.
REDACTED_PREFIX = "crosswire.redacted_thinking:"

INCOMPLETE_TO_STOP = {"max_output_tokens": "max_tokens", "content_filter": "refusal"}
SUMMARY_SEPARATOR = "\n\n"

_LIFECYCLE = ("response.created", "response.in_progress", "response.queued")


def is_stream_frame(event: str, data: str, parsed: Any) -> bool:
    kind = (parsed.get("type") if isinstance(parsed, dict) else None) or event
    return isinstance(kind, str) and kind.startswith("response.")


def is_error_frame(parsed: Any) -> bool:
    return isinstance(parsed, dict) and parsed.get("type") == "error"


def read_usage(raw: Any) -> Usage:
    """Responses usage -> canonical: cached input tokens are split out of the input count."""
    if not isinstance(raw, dict):
        return {}
    usage: Usage = {}
    total_in = raw.get("input_tokens")
    cached = _detail(raw, "input_tokens_details", "cached_tokens") or 0
    if isinstance(total_in, int):
        usage["input_tokens"] = total_in - cached
        usage["cache_read_input_tokens"] = cached
    if isinstance(raw.get("output_tokens"), int):
        usage["output_tokens"] = raw["output_tokens"]
    reasoning = _detail(raw, "output_tokens_details", "reasoning_tokens")
    if reasoning is not None:
        usage["reasoning_tokens"] = reasoning
    return usage


def _detail(raw: dict[str, Any], details: str, key: str) -> int | None:
    """An integer inside a usage details object; ``None`` when absent or malformed."""
    value = raw[details].get(key) if isinstance(raw.get(details), dict) else None
    return value if isinstance(value, int) else None


def write_usage(usage: Usage) -> dict[str, Any]:
    cache_read = usage.get("cache_read_input_tokens", 0)
    total_in = usage.get("input_tokens", 0) + cache_read + usage.get("cache_creation_input_tokens", 0)
    total_out = usage.get("output_tokens", 0)
    return {
        "input_tokens": total_in,
        # cache_write_tokens: required by the SDK's ResponseUsage (anthropic's cache creation)
        "input_tokens_details": {
            "cached_tokens": cache_read,
            "cache_write_tokens": usage.get("cache_creation_input_tokens", 0),
        },
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
        self._closed_parts: set[tuple[int, int]] = set()
        self._calls = False
        self._refused = False
        self._text = sink.text  # bound once: called once per token

    def event(self, name: str, raw: str) -> None:
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
            self._part_done(self._output_index(data), data.get("content_index", 0), data.get("part") or {})
        elif kind in ("response.output_text.done", "response.refusal.done"):
            key = (self._output_index(data), data.get("content_index", 0))
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
            self.warn("openai-responses output_text annotations (citations) have no equivalent: dropped")
        else:
            log.debug("crosswire: skipping openai-responses event type %r", kind)

    # -- lifecycle

    def _start(self, response: Any) -> None:
        if self._started:
            return
        self._started = True
        response = response if isinstance(response, dict) else {}
        created = response.get("created_at")
        self.sink.message_start(
            str(response.get("id", "")),
            str(response.get("model", "")),
            {},
            created if isinstance(created, int) else None,
        )

    def _finish(self, response: dict[str, Any], incomplete: bool) -> None:
        self._start(response)
        self._close_block()
        for position, item in enumerate(response.get("output") or ()):
            if position not in self._items and isinstance(item, dict):
                self._whole_item(position, item)  # never streamed: only the final object has it
        usage = read_usage(response.get("usage"))
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

    def _open_block(self, key: tuple[int, int], kind: str, id: str = "", name: str = "", data: str = "") -> int:
        if not self._started:
            self._start(None)
        self._close_block()
        self._open_key, self._emitted = key, False
        self._part, self._part_emitted = None, False
        return self._start_block(kind, id=id, name=name, data=data)

    def _close_block(self) -> None:
        if self._open >= 0:
            if self._open_key[1] >= 0:
                self._closed_parts.add(self._open_key)
            self._open_key = (-1, -1)
            super()._close_block()

    def _part_block(self, data: dict[str, Any], kind: str) -> int:
        """The block of a message content part, opened on its first event."""
        key = (self._output_index(data), data.get("content_index", 0))
        if self._open_key == key:
            return self._open
        return self._open_block(key, kind)

    def _part_content(self, index: int, part: dict[str, Any]) -> None:
        text = part.get("refusal") if part.get("type") == "refusal" else part.get("text")
        if text and not self._emitted:
            self.sink.text(index, str(text))
            self._emitted = True
        if part.get("annotations"):
            self.warn("openai-responses output_text annotations (citations) have no equivalent: dropped")

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
                self.sink.thinking(index, SUMMARY_SEPARATOR)
            self._part, self._part_emitted = part, False
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
        if itype in ("function_call", "custom_tool_call"):
            self._calls = True
            call_id = str(item.get("call_id") or item.get("id") or f"call_{position}")
            name = flat_tool_name(item.get("namespace") or None, str(item.get("name", "")))
            index = self._open_block((position, -1), "tool_use", id=call_id, name=name)
            if itype == "custom_tool_call":  # its text is the one string parameter: {"input": "…"}
                self.sink.tool_input(index, f'{{"{CUSTOM_TOOL_PARAMETER}":"')
                if item.get("input"):
                    self.sink.tool_input(index, _json_string_piece(str(item["input"])))
                    self._emitted = True
            elif item.get("arguments"):
                self.sink.tool_input(index, str(item["arguments"]))
                self._emitted = True
        elif itype == "reasoning":
            pass  # opened by its first summary event, or at its done event (it may be redacted)
        elif itype != "message":
            self.warn(f"openai-responses {itype!r} output item has no equivalent in the target format: dropped")

    def _item_done(self, data: dict[str, Any]) -> None:
        item = data.get("item") or {}
        position = self._output_index(data)
        if position < 0:
            position = self._item_index.get(str(item.get("id", "")), len(self._items))
        if position not in self._items:
            self._items[position] = str(item.get("type", ""))
            self._whole_item(position, item)
            return
        itype = self._items[position]
        if itype == "function_call":
            if self._open_key == (position, -1):
                if not self._emitted and item.get("arguments"):
                    self.sink.tool_input(self._open, str(item["arguments"]))
                self._close_block()
        elif itype == "custom_tool_call":
            if self._open_key == (position, -1):
                if not self._emitted and item.get("input"):
                    self.sink.tool_input(self._open, _json_string_piece(str(item["input"])))
                self.sink.tool_input(self._open, '"}')
                self._close_block()
        elif itype == "reasoning":
            self._reasoning_item_done(position, item)
        elif itype == "message":
            self._message_done(position, item)

    def _reasoning_item_done(self, position: int, item: dict[str, Any]) -> None:
        encrypted = item.get("encrypted_content")
        encrypted = encrypted if isinstance(encrypted, str) else ""
        if self._open_key != (position, -1):
            if encrypted.startswith(REDACTED_PREFIX):
                self._open_block((position, -1), "redacted_thinking", data=encrypted[len(REDACTED_PREFIX) :])
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
        if itype in ("function_call", "custom_tool_call"):
            self._item_added({"output_index": position, "item": {**item, "arguments": "", "input": ""}})
            self._item_done({"output_index": position, "item": item})
        elif itype == "reasoning":
            self._items[position] = itype
            self._reasoning_item_done(position, item)
        elif itype == "message":
            self._items[position] = itype
            self._message_done(position, item)
        else:
            self._items[position] = itype
            self.warn(f"openai-responses {itype!r} output item has no equivalent in the target format: dropped")

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
    """

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._seq = 0
        self._id = ""
        self._base = ""  # the response id without its prefix: the stem of the item ids
        self._model = ""
        self._created = 0
        self._usage: Usage = {}
        self._stop: str | None = None
        self._items: list[bytes] = []  # finished output items, serialized, for the final response
        self._refused_in_band = False
        # the message item being written (consecutive text/refusal blocks are its content parts)
        self._msg_id = ""
        self._msg_position = -1
        self._msg_parts: list[bytes] = []
        # the open block
        self._kind = ""
        self._index = -1
        self._position = -1  # its output_index
        self._item_id = ""
        self._content_index = 0
        self._buf: list[str] = []
        self._signature: list[str] = []
        self._summary = False  # a summary part was opened for the thinking block
        self._call: tuple[str, str] = ("", "")
        self._origin: ToolOrigin | None = None
        self._data = ""
        self._delta_prefix = b""

    def _event(self, type: str, fields: dict[str, Any]) -> None:
        payload = orjson.dumps({"type": type, "sequence_number": self._seq, **fields})
        self._seq += 1
        self.out.append(_frame(type.encode(), payload))

    def _delta(self, value: str) -> None:
        self.out.append(b'%s%s,"sequence_number":%d}\n\n' % (self._delta_prefix, _dumps(value), self._seq))
        self._seq += 1

    def _set_delta(self, type: str, fields: bytes) -> None:
        self._delta_prefix = b'event: %s\ndata: {"type":"%s",%s,"delta":' % (type.encode(), type.encode(), fields)

    def _response(self, status: str, **fields: Any) -> dict[str, Any]:
        return response_object(self._id, self._created, self._model, status, **fields)

    def _output(self) -> list[orjson.Fragment]:
        return [orjson.Fragment(item) for item in self._items]

    def message_start(self, id: str, model: str, usage: Usage, created: int | None = None) -> None:
        if self._started:
            return
        self._started = True
        self._usage.update(usage)
        self._id = base.derive_id(id, "resp_")
        self._base = self._id[len("resp_") :]
        self._model = self.options.model or model
        self._created = self.options.created or created or int(time.time())
        self._event("response.created", {"response": self._response("in_progress")})
        self._event("response.in_progress", {"response": self._response("in_progress")})

    # -- blocks

    def block_start(self, index: int, kind: str, id: str = "", name: str = "", data: str = "") -> None:
        self._ensure_started()
        if self._kind:
            self._finish_block("completed")  # the source never stopped the last block
        self._kind, self._index, self._buf, self._signature = kind, index, [], []
        if kind in ("text", "refusal"):
            self._start_part(kind)
            return
        self._close_message("completed")
        position = self._position = len(self._items)
        item: dict[str, Any]
        if kind == "tool_use":
            call_id = id or f"call_{position}"
            self._call = (call_id, name)
            self._origin = self.options.tool_origins.get(name)
            self._item_id = call_item_id(call_id)
            item = call_item(self._item_id, call_id, name, "", "in_progress", self._origin)
            self._set_delta(
                "response.custom_tool_call_input.delta"
                if item["type"] == "custom_tool_call"
                else "response.function_call_arguments.delta",
                b'"item_id":%s,"output_index":%d' % (orjson.dumps(self._item_id), position),
            )
        else:  # thinking and redacted_thinking: a reasoning item
            self._item_id = f"rs_{self._base}_{position}"
            self._summary = False
            self._data = data
            item = {"id": self._item_id, "type": "reasoning", "summary": []}
            if kind == "redacted_thinking":
                item["encrypted_content"] = REDACTED_PREFIX + data
            self._set_delta(
                "response.reasoning_summary_text.delta",
                b'"item_id":%s,"output_index":%d,"summary_index":0' % (orjson.dumps(self._item_id), position),
            )
        self._event("response.output_item.added", {"output_index": position, "item": item})

    def _start_part(self, kind: str) -> None:
        if not self._msg_id:
            self._msg_position = len(self._items)
            self._msg_id = f"msg_{self._base}_{self._msg_position}"
            self._msg_parts = []
            item = {"id": self._msg_id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"}
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
            self._buf.append(text)
            # _delta, inlined: this is the one call per token
            seq = self._seq
            self._seq = seq + 1
            self.out.append(b'%s%s,"sequence_number":%d}\n\n' % (self._delta_prefix, _dumps(text), seq))

    def tool_input(self, index: int, fragment: str) -> None:
        if self._kind == "tool_use" and index == self._index and fragment:
            self._buf.append(fragment)
            if not (self._origin and self._origin.kind == "custom"):  # a custom call's text is whole at the end
                self._delta(fragment)

    def thinking(self, index: int, text: str) -> None:
        if self._kind != "thinking" or index != self._index or not text:
            return
        if not self._summary:
            self._summary = True
            self._event("response.reasoning_summary_part.added", {**self._summary_ids(), "part": _summary("")})
        self._buf.append(text)
        self._delta(text)

    def _summary_ids(self) -> dict[str, Any]:
        return {"item_id": self._item_id, "output_index": self._position, "summary_index": 0}

    def signature(self, index: int, signature: str) -> None:
        if self._kind == "thinking" and index == self._index:
            self._signature.append(signature)

    def block_stop(self, index: int) -> None:
        if self._kind and index == self._index:
            self._finish_block("completed")

    def _finish_block(self, status: str) -> None:
        kind, self._kind = self._kind, ""
        text = "".join(self._buf)
        self._buf = []
        if kind in ("text", "refusal"):
            if kind == "refusal":
                self._event("response.refusal.done", {**self._part_ids(), "refusal": text})
                part: dict[str, Any] = {"type": "refusal", "refusal": text}
            else:
                self._event("response.output_text.done", {**self._part_ids(), "text": text, "logprobs": []})
                part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
            self._event("response.content_part.done", {**self._part_ids(), "part": part})
            self._msg_parts.append(orjson.dumps(part))
            return
        if kind == "tool_use":
            call_id, name = self._call
            ids = {"item_id": self._item_id, "output_index": self._position}
            custom = self._origin is not None and self._origin.kind == "custom"
            if not text and not custom:  # a call without arguments still has an (empty) object of them
                text = "{}"
                self._delta(text)
            item: dict[str, Any] = call_item(self._item_id, call_id, name, text, status, self._origin)
            if custom:
                self._delta(item["input"])
                self._event("response.custom_tool_call_input.done", {**ids, "input": item["input"]})
            else:
                done = {**ids, "name": item["name"], "arguments": text}
                self._event("response.function_call_arguments.done", done)
        elif kind == "thinking":
            summary = []
            if self._summary:
                self._event("response.reasoning_summary_text.done", {**self._summary_ids(), "text": text})
                self._event("response.reasoning_summary_part.done", {**self._summary_ids(), "part": _summary(text)})
                summary = [_summary(text)]
            signature = "".join(self._signature)
            self._signature = []
            item = {"id": self._item_id, "type": "reasoning", "summary": summary, "status": status}
            if signature:
                item["encrypted_content"] = signature
        else:  # redacted_thinking
            item = {
                "id": self._item_id,
                "type": "reasoning",
                "summary": [],
                "encrypted_content": REDACTED_PREFIX + self._data,
                "status": status,
            }
        self._item_done(self._position, item)

    def _item_done(self, position: int, item: dict[str, Any]) -> None:
        encoded = orjson.dumps(item)
        self._items.append(encoded)
        self._event("response.output_item.done", {"output_index": position, "item": orjson.Fragment(encoded)})

    def _close_message(self, status: str) -> None:
        if not self._msg_id:
            return
        content = [orjson.Fragment(part) for part in self._msg_parts]
        item = {"id": self._msg_id, "type": "message", "status": status, "content": content, "role": "assistant"}
        self._msg_id, self._msg_parts = "", []
        self._item_done(self._msg_position, item)

    # -- end

    def usage(self, usage: Usage) -> None:
        self._usage.update(usage)

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
        self._close_message(status)
        response = self._response(
            status,
            incomplete_details={"reason": incomplete} if incomplete else None,
            output=self._output(),
            usage=write_usage(self._usage),
        )
        self._event("response.incomplete" if incomplete else "response.completed", {"response": response})

    def write_error(self, type: str, message: str) -> None:
        self._ensure_started()
        openai_type, code = errors.to_openai(type)
        # The nested `error` object is what the API sends and what makes the openai SDK raise;
        # the top-level fields are the documented ResponseErrorEvent shape.
        error = {"type": openai_type, "code": code, "message": message, "param": None}
        self._event("error", {"code": code, "message": message, "param": None, "error": error})
        failed = self._response("failed", error={"code": code or openai_type, "message": message})
        failed["output"] = self._output()
        self._event("response.failed", {"response": failed})


def _json_string_piece(text: str) -> str:
    """A piece of a JSON string's contents (escaped, without quotes): pieces concatenate."""
    return orjson.dumps(text).decode()[1:-1]


def _summary(text: str) -> dict[str, str]:
    return {"type": "summary_text", "text": text}
