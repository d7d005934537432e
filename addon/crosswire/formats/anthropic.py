"""Anthropic Messages (`POST /v1/messages`): stream reader and writer."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from orjson import JSONDecodeError

from ..events import Citation, Native, SearchResult, StreamSink, Usage
from ..options import Options
from . import base
from .base import NO_FRAME, Warn, extra_fields, log, merge_native, native_fields

NAME = "anthropic"

_loads = orjson.loads

USAGE_KEYS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")

# The fields of each block type the canonical model holds; the rest of a block travels as native.
BLOCK_FIELDS = {
    "text": frozenset(("type", "text", "citations")),
    "tool_use": frozenset(("type", "id", "name", "input")),
    "thinking": frozenset(("type", "thinking", "signature")),
    "redacted_thinking": frozenset(("type", "data")),
    "server_tool_use": frozenset(("type", "id", "name", "input")),  # name web_search
    "web_search_tool_result": frozenset(("type", "tool_use_id", "content")),
}
# A block field whose value here says nothing a client of another format misses (the model itself
# called the tool, not a program it ran).
BLOCK_DEFAULTS = {"caller": {"type": "direct"}}
MESSAGE_FIELDS = frozenset(("id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"))
WEB_SEARCH = "web_search"  # the name of Anthropic's hosted web search tool
WEB_SEARCH_RESULT = "web_search_result_location"  # the citation type that points into a search result


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
    usage = {k: v for k in USAGE_KEYS if isinstance(v := raw.get(k), int)}
    details, server = raw.get("output_tokens_details"), raw.get("server_tool_use")
    if isinstance(details, dict) and isinstance(details.get("thinking_tokens"), int):
        usage["reasoning_tokens"] = details["thinking_tokens"]
    if isinstance(server, dict) and isinstance(server.get("web_search_requests"), int):
        usage["web_search_requests"] = server["web_search_requests"]
    return usage


def usage_extras(raw: Any) -> dict[str, Any]:
    """The fields of a usage object :func:`read_usage` does not read (service_tier, iterations…)."""
    if not isinstance(raw, dict):
        return {}
    extras = extra_fields(raw, set(USAGE_KEYS))
    for key, modelled in (("output_tokens_details", "thinking_tokens"), ("server_tool_use", "web_search_requests")):
        if isinstance(extras.get(key), dict):
            rest = {k: v for k, v in extras[key].items() if k != modelled}
            if rest:
                extras[key] = rest
            else:
                del extras[key]
    return extras


def write_usage(usage: Usage) -> dict[str, Any]:
    """Canonical usage as Anthropic writes it; counts a source did not give are left out."""
    out: dict[str, Any] = {k: v for k, v in usage.items() if k in USAGE_KEYS}
    if "reasoning_tokens" in usage:
        out["output_tokens_details"] = {"thinking_tokens": usage["reasoning_tokens"]}
    if "web_search_requests" in usage:  # the newest SDK requires both counts
        out["server_tool_use"] = {"web_search_requests": usage["web_search_requests"], "web_fetch_requests": 0}
    return out


def read_citation(raw: Any) -> Citation | None:
    """A ``web_search_result_location`` citation; None for the other (document) citation types."""
    if not isinstance(raw, dict) or raw.get("type") != WEB_SEARCH_RESULT:
        return None
    title = raw.get("title")
    return Citation(
        url=_str(raw, "url"),
        title=title if isinstance(title, str) else None,
        cited_text=_str(raw, "cited_text"),
        encrypted_index=_str(raw, "encrypted_index"),
    )


def write_citation(citation: Citation) -> dict[str, Any]:
    return {
        "type": WEB_SEARCH_RESULT,
        "cited_text": citation.cited_text,
        "url": citation.url,
        "title": citation.title,
        "encrypted_index": citation.encrypted_index,
    }


def read_results(content: Any) -> tuple[list[SearchResult], str]:
    """A web_search_tool_result's content: its results, or an error code."""
    if isinstance(content, dict):
        return [], _str(content, "error_code") or "unavailable"
    results = []
    for item in content if isinstance(content, list) else ():
        if isinstance(item, dict):
            age = item.get("page_age")
            results.append(
                SearchResult(
                    url=_str(item, "url"),
                    title=_str(item, "title"),
                    page_age=age if isinstance(age, str) else None,
                    encrypted_content=_str(item, "encrypted_content"),
                )
            )
    return results, ""


def write_results(results: list[SearchResult], error: str) -> Any:
    if error:
        return {"type": "web_search_tool_result_error", "error_code": error}
    return [
        {
            "type": "web_search_result",
            "title": r.title,
            "url": r.url,
            "encrypted_content": r.encrypted_content,
            "page_age": r.page_age,
        }
        for r in results
    ]


def block_kind(block: dict[str, Any]) -> str:
    """The canonical kind of an anthropic content block (``native`` for those the model lacks)."""
    btype = block.get("type")
    if btype in ("text", "tool_use", "thinking", "redacted_thinking", "web_search_tool_result"):
        return "web_search_result" if btype == "web_search_tool_result" else str(btype)
    if btype == "server_tool_use" and block.get("name") == WEB_SEARCH:
        return "web_search"
    return "native"


def block_native(block: dict[str, Any], kind: str) -> Native | None:
    """The block's own fields the canonical model does not hold (the whole block for a native one)."""
    if kind == "native":
        return Native(NAME, block, f"anthropic {block.get('type')!r} content block")
    extras = extra_fields(block, BLOCK_FIELDS[str(block.get("type"))])
    if "citations" in block:  # kept so a block that started with `citations: []` does so again
        extras["citations"] = []
    return native_fields(NAME, extras, "content block", BLOCK_DEFAULTS)


def message_native(fields: dict[str, Any], usage: Any, where: str) -> Native | None:
    extras = usage_extras(usage)
    if extras:
        fields["usage"] = extras
    return native_fields(NAME, fields, where)


# The fragment delta each block kind streams, for the whole-frame fast path: (delta type, its key,
# the fragment kind).
FRAGMENT_FRAMES = {
    "text": ("text_delta", "text", "text"),
    "thinking": ("thinking_delta", "thinking", "thinking"),
    "tool_use": ("input_json_delta", "partial_json", "tool_input"),
    "web_search": ("input_json_delta", "partial_json", "tool_input"),
}
# A fragment delta as anthropic sends it: its index and delta type (group 1, compared with the open
# block's), its literal (group 2), the padding anthropic puts before the last brace.
_delta_frame = re.compile(
    r'\{"type":"content_block_delta",("index":[0-9]+,"delta":\{"type":"[a-z_]+","[a-z_]+":)'
    rf"({base.NONEMPTY_LITERAL})\}} *\}}"
).fullmatch
# The same frame as a whole chunk's bytes after its event line, data field and ids (OneFrame).
_ONE_FRAME_REST = re.compile(rb"()(" + base.NONEMPTY_LITERAL_BYTES + rb")\} *\}\n\n").fullmatch


class AnthropicStreamReader(base.StreamReader):
    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        super().__init__(sink, warn)
        self._index: dict[object, int] = {}  # source block index -> canonical index
        self._native: dict[object, int] = {}  # the same for native blocks (their deltas are native)
        self._text = sink.text  # bound once: called once per token

    def event(self, name: str, raw: str) -> None:
        self.events(((name, raw),))

    def events(self, pairs: Iterable[tuple[str, str]]) -> None:
        # The whole-frame fast path (base.py): the open block's fragment delta (_DELTA_FRAME) with
        # the index and delta type the block started with.
        ids = NO_FRAME if self.done else self._frame_head
        run: list[str] = []
        for name, raw in pairs:
            frame = _delta_frame(raw)
            if frame is not None and frame[1] == ids:
                run.append(frame[2])
                continue
            if run:
                self._frame_emit(self._frame_index, run)
                run = []
            self.careful(name, raw)
            ids = NO_FRAME if self.done else self._frame_head
        if run:
            self._frame_emit(self._frame_index, run)
        self._primed = bool(run)

    def fragment_frame(self, first: bool = False) -> base.OneFrame | None:
        if not (self._primed or first) or self.done or self._frame_head is NO_FRAME:
            return None
        prefix = b'event: content_block_delta\ndata: {"type":"content_block_delta",' + self._frame_head.encode()
        return base.OneFrame(prefix, _ONE_FRAME_REST, b"", self._frame_kind, self._frame_index)

    def careful(self, name: str, raw: str) -> None:
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
            source = data.get("index")
            delta = data.get("delta")
            if delta.__class__ is not dict:
                return
            if source in self._native:  # the block's own warning covers its parts
                self.sink.native(self._native[source], Native(NAME, {"delta": delta}))
            elif source in self._index:
                self._delta(self._index[source], delta)
            else:
                log.debug("crosswire: anthropic delta for an unknown block dropped")
        elif kind == "content_block_start":
            self._block_start(data)
        elif kind == "content_block_stop":
            source = data.get("index")
            if self._open >= 0 and self._open == self._index.get(source, self._native.get(source)):
                self._close_block()
        elif kind == "message_delta":
            self._close_block()
            delta = data.get("delta")
            delta = delta if isinstance(delta, dict) else {}
            fields = extra_fields(data, {"type", "delta", "usage"})
            delta_extras = extra_fields(delta, {"stop_reason", "stop_sequence"})
            if delta_extras:
                fields["delta"] = delta_extras
            native = message_native(fields, data.get("usage"), "message_delta")
            if native is not None:
                self.sink.native(-1, Native(NAME, {"message_delta": native.data}, native.what))
            usage = read_usage(data.get("usage"))
            if usage:
                self.sink.usage(usage)
            if delta.get("stop_reason"):
                sequence = delta.get("stop_sequence")
                self.sink.stop(str(delta["stop_reason"]), sequence if isinstance(sequence, str) else None)
        elif kind == "message_start":
            msg = data.get("message")
            if not isinstance(msg, dict):
                msg = {}
            native = message_native(extra_fields(msg, MESSAGE_FIELDS), msg.get("usage"), "message")
            if msg.get("id") and not str(msg["id"]).startswith("msg_"):  # kept as it is for an anthropic client
                native = Native(
                    NAME, {**(native.data if native else {}), "id": msg["id"]}, native.what if native else ""
                )
            self.sink.message_start(_str(msg, "id"), _str(msg, "model"), read_usage(msg.get("usage")), native=native)
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
            extras = extra_fields(err, {"type", "message"})
            if extras and not self.done:  # details…, for an anthropic client
                self.sink.native(-1, Native(NAME, {"error": extras}))
            self.fail(str(err.get("type") or "api_error"), str(err.get("message") or "upstream error"))
        else:  # an event type of the future: an anthropic client gets it as it came
            self.sink.native(-1, Native(NAME, {"event": name, "data": data}))

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        dtype = delta.get("type")
        sink = self.sink
        if dtype == "text_delta":
            text = delta.get("text")
            self._text(index, text if text.__class__ is str else "")
        elif dtype == "input_json_delta":
            sink.tool_input(index, _str(delta, "partial_json"))
        elif dtype == "thinking_delta":
            sink.thinking(index, _str(delta, "thinking"))
        elif dtype == "signature_delta":
            sink.signature(index, _str(delta, "signature"))
        elif dtype == "citations_delta":
            self._citation(index, delta.get("citation"), delta)
        else:
            sink.native(index, Native(NAME, {"delta": delta}, f"anthropic {dtype!r} delta"))

    def _citation(self, index: int, raw: Any, delta: dict[str, Any]) -> None:
        citation = read_citation(raw)
        if citation is not None:
            self.sink.citation(index, citation)
        else:
            ctype = raw.get("type") if isinstance(raw, dict) else None
            self.sink.native(index, Native(NAME, {"delta": delta}, f"anthropic {ctype!r} citations"))

    def _block_start(self, data: dict[str, Any]) -> None:
        block = data.get("content_block")
        if not isinstance(block, dict):
            block = {}
        kind = block_kind(block)
        sink = self.sink
        native = block_native(block, kind)
        if kind == "text":
            index = self._start_block("text", native=native)
            if block.get("text"):
                sink.text(index, _str(block, "text"))
            for citation in block.get("citations") or ():
                self._citation(index, citation, {"type": "citations_delta", "citation": citation})
        elif kind in ("tool_use", "web_search"):
            index = self._start_block(kind, id=_str(block, "id"), name=_str(block, "name"), native=native)
            if block.get("input"):
                sink.tool_input(index, orjson.dumps(block["input"]).decode())
        elif kind == "thinking":
            index = self._start_block("thinking", native=native)
            if block.get("thinking"):
                sink.thinking(index, _str(block, "thinking"))
            if block.get("signature"):
                sink.signature(index, _str(block, "signature"))
        elif kind == "redacted_thinking":
            index = self._start_block("redacted_thinking", data=_str(block, "data"), native=native)
        elif kind == "web_search_result":
            results, error = read_results(block.get("content"))
            index = self._start_block(kind, id=_str(block, "tool_use_id"), data=error, native=native)
            for result in results:
                sink.search_result(index, result)
        else:
            self._native[data.get("index")] = self._start_block("native", native=native)
            return
        # Anthropic closes every block, but a stream cut short by max_tokens may leave the last one
        # open: the next block, message_delta or message_stop closes it for the writers.
        source = data.get("index")
        self._index[source] = index
        fragment = FRAGMENT_FRAMES.get(kind)
        if fragment is not None and source.__class__ is int and source not in self._native:
            dtype, key, fragment_kind = fragment
            ids = f'"index":{source},"delta":{{"type":"{dtype}","{key}":'
            self._expect_frames(ids, fragment_kind, index)

    def truncated_message(self) -> str:
        return "upstream stream ended before message_stop: the answer is incomplete"


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":'


def _frame(event: str, payload: bytes) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


class AnthropicStreamWriter(base.StreamWriter):
    format = NAME

    def __init__(self, options: Options, warn: Warn = base._ignore) -> None:
        super().__init__(options, warn)
        self._stop: tuple[str, str | None] | None = None
        self._text_index = -1
        self._text_prefix = b""  # the text_delta frame up to the text, for _text_index
        self._written = 0  # blocks written: a block dropped (another format's native one) leaves no gap
        self._open = -1  # canonical index of the open written block
        self._out = -1  # its anthropic index
        self._result: dict[str, Any] | None = None  # the open web_search_tool_result, written at its stop
        self._results: list[SearchResult] = []
        self._end: dict[str, Any] = {}  # message_delta fields of the source's own (anthropic)
        self._error: dict[str, Any] = {}  # the same for its error event

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        if self._started:
            return
        self._started = True
        self.reported_usage.update(usage)
        message: dict[str, Any] = {
            "id": base.derive_id(id, "msg_"),
            "type": "message",
            "role": "assistant",
            "model": self.options.model or model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0, **write_usage(usage)},
        }
        own = self.own(native)
        if own:
            merge_native(message, own)
        self.out.append(_frame("message_start", orjson.dumps({"type": "message_start", "message": message})))

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        self._ensure_started()
        own = self.own(native)
        block: dict[str, Any]
        if kind == "native":
            if own is None:
                return  # another format's block: dropped (warned), and no anthropic index used
            block = own
        elif kind == "tool_use":
            block = {"type": "tool_use", "id": id, "name": name, "input": {}}
        elif kind == "web_search":
            block = {
                "type": "server_tool_use",
                "id": base.derive_id(id, "srvtoolu_", base.SEARCH_ID_PREFIXES),
                "name": WEB_SEARCH,
                "input": {},
            }
        elif kind == "web_search_result":  # its results come inside its content_block_start: written at its stop
            search_id = base.derive_id(id, "srvtoolu_", base.SEARCH_ID_PREFIXES)
            self._result, self._results = {"id": search_id, "error": data, "own": own}, []
            block = {}
        elif kind == "thinking":
            block = {"type": "thinking", "thinking": "", "signature": ""}
        elif kind == "redacted_thinking":
            block = {"type": "redacted_thinking", "data": data}
        else:  # text and refusal
            block = {"type": "text", "text": ""}
        self._open, self._out = index, self._written
        self._written += 1
        if kind == "web_search_result":
            return
        if own and kind != "native":
            merge_native(block, own)
        payload = {"type": "content_block_start", "index": self._out, "content_block": block}
        self.out.append(_frame("content_block_start", orjson.dumps(payload)))

    def _delta(self, head: bytes, value: str) -> None:
        self.out.append(_DELTA % self._out + head + orjson.dumps(value) + b"}}\n\n")

    def _text_frame(self, index: int) -> bytes:
        """The text_delta frame up to the text, built once per block (the hot path)."""
        if index != self._text_index:
            self._text_index = index
            self._text_prefix = _DELTA % self._out + b'{"type":"text_delta","text":'
        return self._text_prefix

    def text(self, index: int, text: str) -> None:
        self.out.append(self._text_frame(index) + orjson.dumps(text) + b"}}\n\n")

    def text_literals(self, index: int, literals: list[str]) -> None:
        self._frames(self._text_frame(index), literals)

    def _frames(self, head: bytes, literals: list[str]) -> None:
        """One delta frame per literal: ``head`` + literal + the frame's end, joined at once."""
        prefix = head.decode()
        self.out.append((prefix + ("}}\n\n" + prefix).join(literals) + "}}\n\n").encode())

    def tool_input(self, index: int, fragment: str) -> None:
        self._delta(b'{"type":"input_json_delta","partial_json":', fragment)

    def tool_input_literals(self, index: int, literals: list[str]) -> None:
        self._frames(_DELTA % self._out + b'{"type":"input_json_delta","partial_json":', literals)

    def thinking(self, index: int, text: str) -> None:
        self._delta(b'{"type":"thinking_delta","thinking":', text)

    def thinking_literals(self, index: int, literals: list[str]) -> None:
        self._frames(_DELTA % self._out + b'{"type":"thinking_delta","thinking":', literals)

    def fragment_writer(self, kind: str, index: int) -> Callable[[bytes], bytes] | None:
        # what the three *_literals above write for one literal, as a bytes template (no Python call)
        if kind == "text":
            head = self._text_frame(index)
        else:
            delta = b"input_json_delta" if kind == "tool_input" else b"thinking_delta"
            key = b"partial_json" if kind == "tool_input" else b"thinking"
            head = _DELTA % self._out + b'{"type":"%s","%s":' % (delta, key)
        return base.template(head, b"}}\n\n")

    def signature(self, index: int, signature: str) -> None:
        self._delta(b'{"type":"signature_delta","signature":', signature)

    def citation(self, index: int, citation: Citation) -> None:
        if index == self._open:
            self._delta_object({"type": "citations_delta", "citation": write_citation(citation)})

    def search_result(self, index: int, result: SearchResult) -> None:
        if index == self._open and self._result is not None:
            self._results.append(result)

    def native(self, index: int, carrier: Native) -> None:
        own = self.own(carrier)
        if own is None:
            return
        if "delta" in own:
            if index == self._open:
                self._delta_object(own["delta"])
        elif "message_delta" in own:
            merge_native(self._end, own["message_delta"])
        elif "event" in own:
            self.out.append(_frame(str(own["event"]), orjson.dumps(own["data"])))
        elif "error" in own:
            self._error = own["error"]

    def _delta_object(self, delta: dict[str, Any]) -> None:
        payload = {"type": "content_block_delta", "index": self._out, "delta": delta}
        self.out.append(_frame("content_block_delta", orjson.dumps(payload)))

    def block_stop(self, index: int) -> None:
        if index != self._open:
            return  # a dropped block
        self._open = -1
        result = self._result
        if result is not None:
            self._result = None
            block = {"type": "web_search_tool_result", "tool_use_id": result["id"]}
            block["content"] = write_results(self._results, result["error"])
            if result["own"]:
                merge_native(block, result["own"])
            payload = {"type": "content_block_start", "index": self._out, "content_block": block}
            self.out.append(_frame("content_block_start", orjson.dumps(payload)))
        self.out.append(b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n' % self._out)

    def usage(self, usage: Usage) -> None:
        self.reported_usage.update(usage)

    def stop(self, reason: str, sequence: str | None = None) -> None:
        self._stop = (reason, sequence)

    def ping(self) -> None:
        if not self.finished:
            self.out.append(b'event: ping\ndata: {"type":"ping"}\n\n')

    def write_error(self, type: str, message: str) -> None:
        payload = {"type": "error", "error": {**self._error, "type": type, "message": message}}
        self.out.append(_frame("error", orjson.dumps(payload)))

    def write_end(self) -> None:
        self._ensure_started()
        reason, sequence = self._stop or ("end_turn", None)
        payload: dict[str, Any] = {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": sequence},
            "usage": {"output_tokens": 0, **write_usage(self.reported_usage)},
        }
        if self._end:
            merge_native(payload, self._end)
        self.out.append(_frame("message_delta", orjson.dumps(payload)))
        self.out.append(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
