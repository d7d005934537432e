"""Anthropic Messages (`POST /v1/messages`): stream reader and writer."""

from __future__ import annotations

from typing import Any

import orjson
from orjson import JSONDecodeError

from ..events import StreamSink, Usage
from ..options import Options
from . import base
from .base import Warn, log

NAME = "anthropic"

_loads = orjson.loads

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


# The events only an anthropic stream has (error and ping frames look like other formats').
STREAM_EVENTS = frozenset(
    (
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    )
)


def is_stream_frame(event: str, data: str, parsed: Any) -> bool:
    kind = (parsed.get("type") if isinstance(parsed, dict) else None) or event
    return kind in STREAM_EVENTS


def is_error_frame(parsed: Any) -> bool:
    return isinstance(parsed, dict) and parsed.get("type") == "error" and isinstance(parsed.get("error"), dict)


def read_usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return {}
    return {k: v for k in USAGE_KEYS if isinstance(v := raw.get(k), int)}


class AnthropicStreamReader(base.StreamReader):
    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        super().__init__(sink, warn)
        self._index: dict[object, int] = {}  # source block index -> canonical index (skipped blocks absent)
        self._text = sink.text  # bound once: called once per token

    def event(self, name: str, raw: str) -> None:
        if self.done:
            return
        try:
            data = _loads(raw)
        except JSONDecodeError:
            data = None
        if data.__class__ is not dict:
            self.invalid_json(raw)
            return
        # The hot path, one per token: a text delta of a known block, read by subscripts (cheaper
        # than .get); anything unexpected falls through to the careful reading below.
        try:
            delta = data["delta"]
            if delta["type"] == "text_delta" and data["type"] == "content_block_delta":
                fast_text, fast_index = delta["text"], self._index[data["index"]]
            else:
                fast_text = None
        except (KeyError, TypeError):
            fast_text = None
        if fast_text.__class__ is str:
            self._text(fast_index, fast_text)
            return
        kind = data.get("type") or name
        if kind == "content_block_delta":
            index = self._index.get(data.get("index"))
            delta = data.get("delta")
            if index is None or delta.__class__ is not dict:
                return  # a block we skipped (server tools): already warned at its start
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text")
                self._text(index, text if text.__class__ is str else "")
            elif dtype == "input_json_delta":
                self.sink.tool_input(index, _str(delta, "partial_json"))
            elif dtype == "thinking_delta":
                self.sink.thinking(index, _str(delta, "thinking"))
            elif dtype == "signature_delta":
                self.sink.signature(index, _str(delta, "signature"))
            else:
                log.debug("crosswire: skipping anthropic delta type %r", dtype)
        elif kind == "content_block_start":
            self._block_start(data)
        elif kind == "content_block_stop":
            if self._open >= 0 and self._index.get(data.get("index")) == self._open:
                self._close_block()
        elif kind == "message_delta":
            self._close_block()
            usage = read_usage(data.get("usage"))
            if usage:
                self.sink.usage(usage)
            delta = data.get("delta")
            if isinstance(delta, dict) and delta.get("stop_reason"):
                sequence = delta.get("stop_sequence")
                self.sink.stop(str(delta["stop_reason"]), sequence if isinstance(sequence, str) else None)
        elif kind == "message_start":
            msg = data.get("message")
            if not isinstance(msg, dict):
                msg = {}
            self.sink.message_start(_str(msg, "id"), _str(msg, "model"), read_usage(msg.get("usage")))
        elif kind == "message_stop":
            self._close_block()
            self.done = True
            self.sink.end()
        elif kind == "ping":
            self.sink.ping()
        elif kind == "error":
            err = data.get("error")
            if not isinstance(err, dict):
                err = {"message": err} if isinstance(err, str) else {}
            self.fail(str(err.get("type") or "api_error"), str(err.get("message") or "upstream error"))
        else:
            log.debug("crosswire: skipping anthropic event type %r", kind)

    def _block_start(self, data: dict[str, Any]) -> None:
        block = data.get("content_block")
        if not isinstance(block, dict):
            block = {}
        btype = block.get("type")
        if btype not in ("text", "tool_use", "thinking", "redacted_thinking"):
            self.warn(f"anthropic {btype!r} content block has no equivalent in the target format: dropped")
            return
        sink = self.sink
        if btype == "text":
            index = self._start_block("text")
            if block.get("text"):
                sink.text(index, _str(block, "text"))
        elif btype == "tool_use":
            index = self._start_block("tool_use", id=_str(block, "id"), name=_str(block, "name"))
            if block.get("input"):
                sink.tool_input(index, orjson.dumps(block["input"]).decode())
        elif btype == "thinking":
            index = self._start_block("thinking")
            if block.get("thinking"):
                sink.thinking(index, _str(block, "thinking"))
            if block.get("signature"):
                sink.signature(index, _str(block, "signature"))
        else:
            index = self._start_block("redacted_thinking", data=_str(block, "data"))
        # Anthropic closes every block, but a stream cut short by max_tokens may leave the last one
        # open: the next block, message_delta or message_stop closes it for the writers.
        self._index[data.get("index")] = index

    def truncated_message(self) -> str:
        return "upstream stream ended before message_stop: the answer is incomplete"


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":'


def _frame(event: str, payload: bytes) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


class AnthropicStreamWriter(base.StreamWriter):
    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._usage: Usage = {}
        self._stop: tuple[str, str | None] | None = None
        self._text_index = -1
        self._text_prefix = b""  # the text_delta frame up to the text, for _text_index

    def message_start(self, id: str, model: str, usage: Usage, created: int | None = None) -> None:
        if self._started:
            return
        self._started = True
        self._usage.update(usage)
        message: dict[str, Any] = {
            "id": base.derive_id(id, "msg_"),
            "type": "message",
            "role": "assistant",
            "model": self.options.model or model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0, **{k: v for k, v in usage.items() if k in USAGE_KEYS}},
        }
        self.out.append(_frame("message_start", orjson.dumps({"type": "message_start", "message": message})))

    def block_start(self, index: int, kind: str, id: str = "", name: str = "", data: str = "") -> None:
        self._ensure_started()
        block: dict[str, Any]
        if kind == "tool_use":
            block = {"type": "tool_use", "id": id, "name": name, "input": {}}
        elif kind == "thinking":
            block = {"type": "thinking", "thinking": "", "signature": ""}
        elif kind == "redacted_thinking":
            block = {"type": "redacted_thinking", "data": data}
        else:  # text and refusal
            block = {"type": "text", "text": ""}
        payload = {"type": "content_block_start", "index": index, "content_block": block}
        self.out.append(_frame("content_block_start", orjson.dumps(payload)))

    def _delta(self, index: int, head: bytes, value: str) -> None:
        self.out.append(_DELTA % index + head + orjson.dumps(value) + b"}}\n\n")

    def text(self, index: int, text: str) -> None:
        # The hot path: the frame prefix is built once per block.
        if index != self._text_index:
            self._text_index = index
            self._text_prefix = _DELTA % index + b'{"type":"text_delta","text":'
        self.out.append(self._text_prefix + orjson.dumps(text) + b"}}\n\n")

    def tool_input(self, index: int, fragment: str) -> None:
        self._delta(index, b'{"type":"input_json_delta","partial_json":', fragment)

    def thinking(self, index: int, text: str) -> None:
        self._delta(index, b'{"type":"thinking_delta","thinking":', text)

    def signature(self, index: int, signature: str) -> None:
        self._delta(index, b'{"type":"signature_delta","signature":', signature)

    def block_stop(self, index: int) -> None:
        self.out.append(b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n' % index)

    def usage(self, usage: Usage) -> None:
        self._usage.update(usage)

    def stop(self, reason: str, sequence: str | None = None) -> None:
        self._stop = (reason, sequence)

    def ping(self) -> None:
        if not self.finished:
            self.out.append(b'event: ping\ndata: {"type":"ping"}\n\n')

    def write_error(self, type: str, message: str) -> None:
        payload = {"type": "error", "error": {"type": type, "message": message}}
        self.out.append(_frame("error", orjson.dumps(payload)))

    def write_end(self) -> None:
        self._ensure_started()
        reason, sequence = self._stop or ("end_turn", None)
        usage = {"output_tokens": 0, **{k: v for k, v in self._usage.items() if k in USAGE_KEYS}}
        payload = {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": sequence},
            "usage": usage,
        }
        self.out.append(_frame("message_delta", orjson.dumps(payload)))
        self.out.append(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
