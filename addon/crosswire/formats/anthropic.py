"""Anthropic Messages (`POST /v1/messages`): stream reader and writer."""

from __future__ import annotations

from typing import Any

import orjson

from ..events import StreamSink, Usage
from ..options import Options
from ..sse import ServerSentEvent
from . import base
from .base import Warn, log

NAME = "anthropic"

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def read_usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return {}
    return {k: v for k in USAGE_KEYS if isinstance(v := raw.get(k), int)}


def message_id(source_id: str) -> str:
    """An Anthropic-looking message id derived from any format's id (kept when already one)."""
    if source_id.startswith("msg_"):
        return source_id
    for prefix in ("chatcmpl-", "resp_"):
        if source_id.startswith(prefix):
            return "msg_" + source_id[len(prefix) :]
    return "msg_" + source_id


class AnthropicStreamReader(base.StreamReader):
    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        super().__init__(sink, warn)
        self._index: dict[int, int] = {}  # source block index -> canonical index (skipped blocks absent)
        self._blocks = 0
        self._started = False

    def event(self, sse: ServerSentEvent) -> None:
        if self.done:
            return
        try:
            data = orjson.loads(sse.data)
        except orjson.JSONDecodeError:
            self.invalid_json(sse)
            return
        if not isinstance(data, dict):
            self.invalid_json(sse)
            return
        kind = data.get("type") or sse.event
        sink = self.sink
        if kind == "content_block_delta":
            index = self._index.get(data.get("index", -1))
            if index is None:
                return  # a block we skipped (server tools): already warned at its start
            delta = data.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                sink.text(index, delta.get("text", ""))
            elif dtype == "input_json_delta":
                sink.tool_input(index, delta.get("partial_json", ""))
            elif dtype == "thinking_delta":
                sink.thinking(index, delta.get("thinking", ""))
            elif dtype == "signature_delta":
                sink.signature(index, delta.get("signature", ""))
            else:
                log.debug("crosswire: skipping anthropic delta type %r", dtype)
        elif kind == "content_block_start":
            self._block_start(data)
        elif kind == "content_block_stop":
            index = self._index.get(data.get("index", -1))
            if index is not None:
                sink.block_stop(index)
        elif kind == "message_delta":
            usage = read_usage(data.get("usage"))
            if usage:
                sink.usage(usage)
            delta = data.get("delta") or {}
            if delta.get("stop_reason"):
                sink.stop(delta["stop_reason"], delta.get("stop_sequence"))
        elif kind == "message_start":
            msg = data.get("message") or {}
            self._started = True
            sink.message_start(str(msg.get("id", "")), str(msg.get("model", "")), read_usage(msg.get("usage")))
        elif kind == "message_stop":
            self.done = True
            sink.end()
        elif kind == "ping":
            sink.ping()
        elif kind == "error":
            err = data.get("error") or {}
            self.fail(str(err.get("type") or "api_error"), str(err.get("message") or "upstream error"))
        else:
            log.debug("crosswire: skipping anthropic event type %r", kind)

    def _block_start(self, data: dict[str, Any]) -> None:
        block = data.get("content_block") or {}
        btype = block.get("type")
        if btype not in ("text", "tool_use", "thinking", "redacted_thinking"):
            self.warn(f"anthropic {btype!r} content block has no equivalent in the target format: dropped")
            return
        index = self._index[data.get("index", -1)] = self._blocks
        self._blocks += 1
        sink = self.sink
        if btype == "text":
            sink.block_start(index, "text")
            if block.get("text"):
                sink.text(index, block["text"])
        elif btype == "tool_use":
            sink.block_start(index, "tool_use", id=str(block.get("id", "")), name=str(block.get("name", "")))
            if block.get("input"):
                sink.tool_input(index, orjson.dumps(block["input"]).decode())
        elif btype == "thinking":
            sink.block_start(index, "thinking")
            if block.get("thinking"):
                sink.thinking(index, block["thinking"])
            if block.get("signature"):
                sink.signature(index, block["signature"])
        else:
            sink.block_start(index, "redacted_thinking", data=str(block.get("data", "")))

    def truncated_message(self) -> str:
        return "upstream stream ended before message_stop: the answer is incomplete"


def _frame(event: str, payload: bytes) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


class AnthropicStreamWriter(base.StreamWriter):
    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self._usage: Usage = {}
        self._stop: tuple[str, str | None] | None = None
        self._started = False
        self._delta_prefix = b""  # cached per block: the bytes before the delta object
        self._delta_index = -1

    def _ensure_started(self) -> None:
        if not self._started:
            self.message_start("", "", {})

    def message_start(self, id: str, model: str, usage: Usage, created: int | None = None) -> None:
        if self._started:
            return
        self._started = True
        self._usage.update(usage)
        message = {
            "id": message_id(id or "crosswire"),
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
        if index != self._delta_index:
            self._delta_index = index
            self._delta_prefix = (
                b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":' % index
            )
        self.out.append(self._delta_prefix + head + orjson.dumps(value) + b"}}\n\n")

    def text(self, index: int, text: str) -> None:
        self._delta(index, b'{"type":"text_delta","text":', text)

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


StreamReader = AnthropicStreamReader
StreamWriter = AnthropicStreamWriter
