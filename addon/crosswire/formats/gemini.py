"""Google Gemini (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse`): stream reader and writer.

A stream is ``data:`` frames, each a whole ``GenerateContentResponse`` chunk: ``candidates[0]``'s
``content.parts`` (text, thought text, function calls, each possibly carrying a
``thoughtSignature``), a ``finishReason`` on the last chunk, ``usageMetadata``, and an
``{"error": …}`` frame when the stream fails. Mapping (docs/gemini.md):

- thought parts are ``thinking`` blocks; a ``thoughtSignature`` on a thought part signs that
  block; one on a text or function-call part (where Gemini puts it) signs the unsigned thinking
  just before, or else becomes a ``thinking`` block of its own (empty text) before the part;
- a ``functionCall`` arrives whole: a ``tool_use`` block with its arguments in one fragment, its
  ``id`` kept, or invented (:data:`INVENTED_ID_PREFIX`) stable and unique when Gemini sent none;
- to a Gemini client, thinking from another provider travels in a crosswire envelope
  (:func:`envelope`: its text and signature, or a redacted block's data, as base64) on the next
  non-thought part, where Gemini clients keep signatures (they drop thought parts from history);
- ``finishReason`` STOP of a message with calls is ``tool_use``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from typing import Any

import orjson

from .. import errors
from ..events import ERROR_STATUS, Citation, Native, StreamSink, Usage, parse_tool_input
from ..options import Options
from . import base
from .base import Warn, log

NAME = "gemini"

_loads = orjson.loads
_dumps = orjson.dumps

# The Gemini SDKs split a stream's lines as Python's str.splitlines does: NEL and the Unicode line
# and paragraph separators would cut a frame in two. JSON may escape them; Gemini's writer does.
_LINE_BREAKS = ((b"\xc2\x85", b"\\u0085"), (b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))


def _frame_json(value: Any) -> bytes:
    return _escape_line_breaks(_dumps(value))


def _escape_line_breaks(data: bytes) -> bytes:
    if b"\xc2\x85" in data or b"\xe2\x80" in data:
        for raw, escaped in _LINE_BREAKS:
            data = data.replace(raw, escaped)
    return data


FINISH_TO_STOP = {
    "STOP": "end_turn",
    "MAX_TOKENS": "max_tokens",
    "SAFETY": "refusal",
    "RECITATION": "refusal",
    "LANGUAGE": "refusal",
    "BLOCKLIST": "refusal",
    "PROHIBITED_CONTENT": "refusal",
    "SPII": "refusal",
    "IMAGE_SAFETY": "refusal",
    "IMAGE_PROHIBITED_CONTENT": "refusal",
    "IMAGE_RECITATION": "refusal",
}
# Endings that are not the model's choice to stop: read as end_turn, with a warning naming them.
QUIET_FINISHES = frozenset({"STOP", "MAX_TOKENS", "FINISH_REASON_UNSPECIFIED"})
STOP_TO_FINISH = {
    "end_turn": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",
    "pause_turn": "STOP",
    "max_tokens": "MAX_TOKENS",
    "refusal": "SAFETY",
}

# Gemini's error statuses (google.rpc.Code names) <-> canonical error types.
STATUS_TO_TYPE = {
    "INVALID_ARGUMENT": "invalid_request_error",
    "FAILED_PRECONDITION": "invalid_request_error",
    "OUT_OF_RANGE": "invalid_request_error",
    "UNAUTHENTICATED": "authentication_error",
    "PERMISSION_DENIED": "permission_error",
    "NOT_FOUND": "not_found_error",
    "RESOURCE_EXHAUSTED": "rate_limit_error",
    "INTERNAL": "api_error",
    "UNKNOWN": "api_error",
    "UNAVAILABLE": "overloaded_error",
    "DEADLINE_EXCEEDED": "timeout_error",
}
TYPE_TO_STATUS = {
    "invalid_request_error": "INVALID_ARGUMENT",
    "authentication_error": "UNAUTHENTICATED",
    "billing_error": "RESOURCE_EXHAUSTED",  # Gemini reports exhausted quota and billing alike
    "permission_error": "PERMISSION_DENIED",
    "not_found_error": "NOT_FOUND",
    "request_too_large": "INVALID_ARGUMENT",
    "rate_limit_error": "RESOURCE_EXHAUSTED",
    "api_error": "INTERNAL",
    "timeout_error": "DEADLINE_EXCEEDED",
    "overloaded_error": "UNAVAILABLE",
}

# A call id crosswire made up (Gemini sent none): never sent back to a Gemini upstream.
INVENTED_ID_PREFIX = "gcall_"
HOSTED_SEARCH_DROPPED = (
    "hosted web search calls and their results have no equivalent in gemini: dropped (the answer's text is kept)"
)
CITATIONS_DROPPED = "web page citations have no equivalent in gemini answers: dropped (the cited text is kept)"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

# The envelope of thinking from another provider, as a Gemini client gets it: base64 of this marker
# and a JSON object. 18 bytes, a multiple of 3, so its base64 is a fixed prefix to test for.
_ENVELOPE = b"crosswire.thought:"
_ENVELOPE_B64 = base64.b64encode(_ENVELOPE).decode()


def envelope(thinking: str, signature: str = "", redacted: str | None = None) -> str:
    """A thoughtSignature carrying a thinking block (text and signature) or a redacted one."""
    body = {"redacted": redacted} if redacted is not None else {"thinking": thinking, "signature": signature}
    return base64.b64encode(_ENVELOPE + _dumps(body)).decode()


def open_envelope(signature: str) -> dict[str, str] | None:
    """What a crosswire envelope carries; None for any other signature (Gemini's own)."""
    if not signature.startswith(_ENVELOPE_B64):
        return None
    try:
        raw = base64.b64decode(signature, validate=True)
        body = _loads(raw[len(_ENVELOPE) :])
    except (binascii.Error, orjson.JSONDecodeError):
        return None
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        return None
    return body


def is_stream_frame(event: str, data: str, parsed: Any) -> bool:
    return isinstance(parsed, dict) and (
        isinstance(parsed.get("candidates"), list) or "usageMetadata" in parsed or "promptFeedback" in parsed
    )


def is_error_frame(parsed: Any) -> bool:
    err = parsed.get("error") if isinstance(parsed, dict) else None
    return isinstance(err, dict) and (isinstance(err.get("status"), str) or isinstance(err.get("code"), int))


def error_type(err: dict[str, Any], http_status: int | None) -> str:
    """The canonical type of a Gemini error object: its status name, refined by the HTTP status
    where the name is a generic one (a 413 or a 402 says more than INVALID_ARGUMENT)."""
    code = err.get("code")
    status = http_status if http_status is not None else code if isinstance(code, int) else None
    kind = STATUS_TO_TYPE.get(str(err.get("status")))
    if kind is None:
        return errors.from_status(status)
    if kind in ("invalid_request_error", "rate_limit_error", "api_error") and status not in (None, 400, 429, 500):
        return errors.from_status(status)
    return kind


def error_code(status: int) -> int:
    """The HTTP status a Gemini client gets: 529 is no Google status, 503 UNAVAILABLE is."""
    return 503 if status == 529 else status


def error_object(type: str, message: str, status: int) -> dict[str, Any]:
    return {"code": error_code(status), "message": message, "status": TYPE_TO_STATUS.get(type, "INTERNAL")}


def read_usage(raw: Any) -> Usage:
    """Gemini usage -> canonical. ``promptTokenCount`` includes the cached tokens; tool-use prompt
    tokens are input too; ``candidatesTokenCount`` excludes the thoughts, which are output."""
    if not isinstance(raw, dict):
        return {}
    usage: Usage = {}
    prompt = raw.get("promptTokenCount")
    cached = _int(raw.get("cachedContentTokenCount"))
    if isinstance(prompt, int):
        usage["input_tokens"] = prompt - cached + _int(raw.get("toolUsePromptTokenCount"))
        usage["cache_read_input_tokens"] = cached
    candidates, thoughts = raw.get("candidatesTokenCount"), raw.get("thoughtsTokenCount")
    if isinstance(candidates, int) or isinstance(thoughts, int):
        usage["output_tokens"] = _int(candidates) + _int(thoughts)
    if isinstance(thoughts, int):
        usage["reasoning_tokens"] = thoughts
    return usage


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def write_usage(usage: Usage) -> dict[str, Any]:
    cache_read = usage.get("cache_read_input_tokens", 0)
    prompt = usage.get("input_tokens", 0) + cache_read + usage.get("cache_creation_input_tokens", 0)
    output = usage.get("output_tokens", 0)
    thoughts = min(usage.get("reasoning_tokens", 0), output)
    out: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": output - thoughts}
    if cache_read:
        out["cachedContentTokenCount"] = cache_read
    if thoughts:
        out["thoughtsTokenCount"] = thoughts
    out["totalTokenCount"] = prompt + output
    return out


def finish_stop(finish: str, calls: bool, warn: Warn, message: Any = None) -> str:
    """The canonical stop reason for a finishReason (a call turn ends with STOP in Gemini)."""
    stop = FINISH_TO_STOP.get(finish, "end_turn")
    if finish not in QUIET_FINISHES:
        detail = f": {message}" if isinstance(message, str) and message else ""
        if finish in FINISH_TO_STOP:
            warn(f"gemini finished with {finish}{detail} (read as a refusal)")
        else:
            warn(f"gemini finished with {finish}{detail} (read as the end of the turn)")
    return "tool_use" if calls and stop == "end_turn" else stop


def invented_id(stem: str, position: int) -> str:
    return f"{INVENTED_ID_PREFIX}{_ID_UNSAFE.sub('', stem)[:40]}_{position}"


class PartReader:
    """Turns Gemini content parts, one at a time, into canonical blocks on a reader's lifecycle:
    the thought/signature rules of the module docstring and the call ids. Shared by the stream
    reader (every chunk's parts) and the body codec (whole answers, history turns)."""

    def __init__(self, reader: base.StreamReader, warn: Warn, gemini_signatures: bool = True) -> None:
        self.r = reader
        self.warn = warn
        # False for a Gemini client's history, which converts for another upstream only (a route to
        # Gemini passes it as it is): Gemini's own signatures mean nothing there, only envelopes do.
        self.gemini_signatures = gemini_signatures
        self.stem = ""  # the response id (or a hash of the first chunk) invented call ids derive from
        self.calls = 0
        self._signed = False  # the open thinking block has its signature
        self._thought: list[str] = []  # the open thinking block's text

    def part(self, part: dict[str, Any]) -> None:
        r = self.r
        sink = r.sink
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) and signature else ""
        if signature and not self.gemini_signatures and open_envelope(signature) is None:
            self.warn("gemini thought signatures can only be checked by Gemini: dropped for another upstream")
            signature = ""
        text = part.get("text")
        if part.get("thought") is True:
            wrapped = open_envelope(signature) if signature else None
            if wrapped is not None:
                self._enveloped(wrapped)
                signature = ""
            if isinstance(text, str) and text:
                if r._open_kind != "thinking" or self._signed:
                    r._start_block("thinking")
                    self._signed, self._thought = False, []
                sink.thinking(r._open, text)
                self._thought.append(text)
            if signature:
                if r._open_kind != "thinking" or self._signed:
                    r._start_block("thinking")
                sink.signature(r._open, signature)
                self._signed = True
            return
        call = part.get("functionCall")
        if signature:
            self._signature(signature, opens=isinstance(call, dict) or r._open_kind != "text")
        if isinstance(text, str):
            if text:
                if r._open_kind != "text":
                    r._start_block("text")
                sink.text(r._open, text)
        elif isinstance(call, dict):
            self._call(call)
        elif part:
            kinds = [k for k in part if k not in ("thoughtSignature", "thought")]
            if kinds:
                self.warn(f"gemini {kinds[0]!r} part has no equivalent in the target format: dropped")

    def _signature(self, signature: str, opens: bool) -> None:
        """A signature on a text or function-call part (``opens``: the part starts a new block)."""
        r = self.r
        wrapped = open_envelope(signature)
        if wrapped is not None:
            self._enveloped(wrapped)
        elif r._open_kind == "thinking" and not self._signed:
            r.sink.signature(r._open, signature)  # the thoughts just before are what it signs
            self._signed = True
        else:
            # Gemini's signature with no thought text (or after the text it ends): a thinking block of
            # its own, before the part (``opens``) or after the text it closes.
            r._start_block("thinking")
            r.sink.signature(r._open, signature)
            self._signed = True
        if not opens:
            r._close_block()

    def _enveloped(self, wrapped: dict[str, str]) -> None:
        r = self.r
        if r._open_kind == "thinking" and not self._signed and "".join(self._thought) == wrapped.get("thinking"):
            # the thought parts shown before it are the very text it carries: it signs them
            if wrapped.get("signature"):
                r.sink.signature(r._open, wrapped["signature"])
            self._signed = True
            return
        if "redacted" in wrapped:
            r._start_block("redacted_thinking", data=wrapped["redacted"])
        else:
            index = r._start_block("thinking")
            if wrapped.get("thinking"):
                r.sink.thinking(index, wrapped["thinking"])
            if wrapped.get("signature"):
                r.sink.signature(index, wrapped["signature"])
        r._close_block()

    def _call(self, call: dict[str, Any]) -> None:
        r = self.r
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            call_id = invented_id(self.stem, self.calls)
        self.calls += 1
        name = call.get("name")
        index = r._start_block("tool_use", id=call_id, name=name if isinstance(name, str) else "")
        args = call.get("args")
        if args is not None:
            if not isinstance(args, dict):
                self.warn("gemini functionCall args that are not an object: passed through as they came")
            r.sink.tool_input(index, _dumps(args).decode())
        if call.get("partialArgs") or call.get("willContinue"):
            self.warn("gemini streamed function call arguments (partialArgs) are not read: ask for whole calls")
        r._close_block()  # a call arrives whole


class GeminiStreamReader(base.StreamReader):
    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        super().__init__(sink, warn)
        self._started = False
        self._stopped = False
        self._parts = PartReader(self, warn)
        self._text = sink.text  # bound once: called once per token

    def careful(self, name: str, data: str) -> None:
        if self.done:
            return
        chunk = self.parse(data)
        if chunk is None:
            return
        # The hot path, one per token: one candidate whose one part is text, inside the open text block.
        try:
            (candidate,) = chunk["candidates"]
            (part,) = candidate["content"]["parts"]
            if len(candidate) <= 2 and len(part) == 1 and self._open_kind == "text" and not self._stopped:
                fast_text = part["text"]
                if fast_text.__class__ is str:
                    self._text(self._open, fast_text)
                    usage = chunk.get("usageMetadata")
                    if usage:
                        self.sink.usage(read_usage(usage))
                    return
        except (KeyError, TypeError, ValueError):
            pass
        self.chunk(chunk, data)

    event = careful  # no whole-frame fast path (formats/base.py): every event is read the careful way

    def chunk(self, data: dict[str, Any], raw: str = "") -> None:
        """One GenerateContentResponse (a stream's chunk, or a whole answer); ``raw`` its text."""
        err = data.get("error")
        if err is not None:
            err = err if isinstance(err, dict) else {"message": str(err)}
            self.fail(error_type(err, None), str(err.get("message") or "upstream error"))
            return
        if not self._started:
            self._start(data, raw)
        candidates = data.get("candidates")
        if isinstance(candidates, list):
            for candidate in candidates:
                if not isinstance(candidate, dict):
                    continue
                if candidate.get("index", 0) != 0:
                    self.warn("gemini stream has several candidates (candidateCount>1): only candidate 0 is converted")
                    continue
                self._candidate(candidate)
        feedback = data.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason") and not self._stopped:
            self.warn(f"gemini blocked the prompt ({feedback['blockReason']}): read as a refusal")
            self._close_block()
            self._stopped = True
            self.sink.stop("refusal")
        usage = data.get("usageMetadata")
        if usage:
            self.sink.usage(read_usage(usage))

    def _start(self, data: dict[str, Any], raw: str) -> None:
        self._started = True
        rid = data.get("responseId")
        rid = rid if isinstance(rid, str) else ""
        # Invented call ids must differ between answers: without a response id, the first chunk's hash.
        self._parts.stem = rid or hashlib.sha256(raw.encode() or _dumps(data)).hexdigest()[:12]
        model = data.get("modelVersion")
        self.sink.message_start(rid, model if isinstance(model, str) else "", {})

    def _candidate(self, candidate: dict[str, Any]) -> None:
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        if isinstance(parts, list) and parts:
            if self._stopped:
                log.debug("crosswire: gemini content after the finishReason ignored")
            else:
                for part in parts:
                    if isinstance(part, dict):
                        self._parts.part(part)
        if candidate.get("citationMetadata") or candidate.get("groundingMetadata"):
            self.warn("gemini citation and grounding metadata have no equivalent: dropped")
        finish = candidate.get("finishReason")
        if isinstance(finish, str) and finish and not self._stopped:
            self._close_block()
            self._stopped = True
            self.sink.stop(finish_stop(finish, self._parts.calls > 0, self.warn, candidate.get("finishMessage")))

    def close(self) -> None:
        # Gemini has no end frame: a stream that reached its finishReason ends cleanly at EOF.
        if not self.done and self._stopped:
            self.done = True
            self.sink.end()
        super().close()

    def finish_whole(self) -> None:
        """The end of a whole answer: one without a finishReason ends its turn."""
        if not self.done and not self._stopped:
            self._close_block()
            self._stopped = True
            self.sink.stop("tool_use" if self._parts.calls else "end_turn")
        self.close()

    def truncated_message(self) -> str:
        return "upstream stream ended before a finishReason: the answer is incomplete"


class GeminiStreamWriter(base.StreamWriter):
    """Writes ``data:`` frames of GenerateContentResponse chunks.

    It holds what Gemini sends whole: a call's arguments until the call ends, a thinking block's
    text until it ends (the envelope carrying it goes on the next non-thought part), and usage and
    the stop reason until the last chunk. ``whole``: collect the parts into one response
    (:attr:`response`, for ``write_response``) instead of writing frames.
    """

    format = NAME

    def __init__(self, options: Options, warn: Warn = base._ignore, whole: bool = False) -> None:
        super().__init__(options, warn)
        self.whole = whole
        self.parts: list[dict[str, Any]] = []  # whole: every part, merged as Gemini sends a whole answer
        self._id = ""
        self._model = ""
        self._tail = b""  # `],"role":"model"},"index":0}],"modelVersion":…,"responseId":…}` and the blank line
        self._text_head = b'data: {"candidates":[{"content":{"parts":[{"text":'
        self._text_tail = b""
        self.response: dict[str, Any] = {}  # whole: the response, once ended
        self._usage: Usage = {}
        self._stop: str | None = None
        self._kinds: dict[int, str] = {}
        self._call: tuple[str, str] = ("", "")
        self._args: list[str] = []
        self._thinking: list[str] = []
        self._signature: list[str] = []
        self._pending: list[str] = []  # envelopes waiting for the next non-thought part

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        if self._started:
            return
        self._started = True
        self.own(native)  # gemini's reader keeps no fields of its own: another format's are dropped (warned)
        self._usage.update(usage)
        self._id = base.derive_id(id, "")
        self._model = self.options.model or model
        self._tail = (
            b'],"role":"model"},"index":0}],"modelVersion":'
            + _frame_json(self._model)
            + b',"responseId":'
            + _frame_json(self._id)
            + b"}\n\n"
        )
        self._text_tail = b"}" + self._tail

    def _emit(self, part: dict[str, Any]) -> None:
        self._ensure_started()
        if self.whole:
            self._merge(part)
            return
        self.out.append(b'data: {"candidates":[{"content":{"parts":[' + _frame_json(part) + self._tail)

    def _merge(self, part: dict[str, Any]) -> None:
        last = self.parts[-1] if self.parts else None
        same = last is not None and "text" in last and "text" in part and "thoughtSignature" not in part
        if same and last is not None and bool(last.get("thought")) == bool(part.get("thought")):
            last["text"] += part["text"]
        else:
            self.parts.append(dict(part))

    def _signed(self, part: dict[str, Any]) -> dict[str, Any]:
        """``part`` carrying the newest waiting envelope; older ones go out first, each on an empty part."""
        while len(self._pending) > 1:
            self._emit({"text": "", "thoughtSignature": self._pending.pop(0)})
        if self._pending:
            part["thoughtSignature"] = self._pending.pop()
        return part

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        self._ensure_started()
        self._kinds[index] = kind
        self.own(native)
        if kind in ("web_search", "web_search_result"):
            self.warn(HOSTED_SEARCH_DROPPED)
        elif kind == "tool_use":
            self._call, self._args = (id, name), []
        elif kind == "thinking":
            self._thinking, self._signature = [], []
            # earlier envelopes go out before this block's thought parts: a reader meets them in order
            while self._pending:
                self._emit({"text": "", "thoughtSignature": self._pending.pop(0)})
        elif kind == "redacted_thinking":
            self._pending.append(envelope("", redacted=data))

    def text(self, index: int, text: str) -> None:
        if not text:
            return
        if not self._pending and not self.whole:  # the hot path
            self.out.append(self._text_head + _frame_json(text) + self._text_tail)
            return
        self._emit(self._signed({"text": text}))

    def text_literals(self, index: int, literals: list[str]) -> None:
        # text's hot path above for a run of literals: one frame each, joined (orjson's own bytes)
        if self._pending or self.whole or not self._started:
            super().text_literals(index, literals)
            return
        head, tail = self._text_head, self._text_tail
        self.out.append(head + _escape_line_breaks((tail + head).join(map(str.encode, literals))) + tail)

    def fragment_writer(self, kind: str, index: int) -> Callable[[bytes], bytes] | None:
        # text's hot path above, for one literal (orjson's own bytes for the fragment); a thinking
        # block's text and a call's arguments are held, so they take the ordinary way
        if kind != "text" or self._pending or self.whole or not self._started:
            return None
        return self._one_text

    def _one_text(self, literal: bytes, lead: bytes = b"") -> bytes:
        return b"".join((lead, self._text_head, _escape_line_breaks(literal), self._text_tail))

    def thinking(self, index: int, text: str) -> None:
        if text:
            self._thinking.append(text)
            self._emit({"text": text, "thought": True})

    def thinking_literals(self, index: int, literals: list[str]) -> None:
        # thinking above for a run of literals: the text kept decoded, the thought parts written as they came
        if self.whole or not self._started:
            super().thinking_literals(index, literals)
            return
        self._thinking.append("".join(orjson.loads("[" + ",".join(literals) + "]")))
        head, end = b'data: {"candidates":[{"content":{"parts":[{"text":', b',"thought":true}' + self._tail
        self.out.append(head + _escape_line_breaks((end + head).join(map(str.encode, literals))) + end)

    def signature(self, index: int, signature: str) -> None:
        self._signature.append(signature)

    def tool_input(self, index: int, fragment: str) -> None:
        if self._kinds.get(index) == "tool_use":
            self._args.append(fragment)

    def citation(self, index: int, citation: Citation) -> None:
        self.warn(CITATIONS_DROPPED)

    def native(self, index: int, carrier: Native) -> None:
        self.own(carrier)

    def block_stop(self, index: int) -> None:
        kind = self._kinds.get(index)
        if kind == "tool_use":
            call_id, name = self._call
            args = parse_tool_input("".join(self._args))
            if not isinstance(args, dict):
                log.debug("crosswire: tool call %s arguments are not a JSON object: sent under 'arguments'", call_id)
                args = {"arguments": args}
            call: dict[str, Any] = {"name": name, "args": args}
            if call_id:
                call = {"id": call_id, **call}
            self._emit(self._signed({"functionCall": call}))
        elif kind == "thinking":
            signature = "".join(self._signature)
            if signature:
                self._pending.append(envelope("".join(self._thinking), signature))
            self._thinking, self._signature = [], []

    def usage(self, usage: Usage) -> None:
        self._usage.update(usage)

    def stop(self, reason: str, sequence: str | None = None) -> None:
        self._stop = reason

    def ping(self) -> None:
        """Gemini streams have no keep-alive, and its SDKs read every line as data: none is written."""

    def write_end(self) -> None:
        self._ensure_started()
        signatures = [{"text": "", "thoughtSignature": s} for s in self._pending]  # nothing came after them
        self._pending = []
        candidate: dict[str, Any] = {}
        if self.whole:
            for part in signatures:
                self._merge(part)
            candidate["content"] = {"parts": self.parts, "role": "model"}
        elif signatures:
            candidate["content"] = {"parts": signatures, "role": "model"}
        candidate["finishReason"] = STOP_TO_FINISH.get(self._stop or "end_turn", "STOP")
        candidate["index"] = 0
        final = {
            "candidates": [candidate],
            "usageMetadata": write_usage(self._usage),
            "modelVersion": self._model,
            "responseId": self._id,
        }
        if self.whole:
            self.response = final
        else:
            self.out.append(b"data: " + _frame_json(final) + b"\n\n")

    def write_error(self, type: str, message: str) -> None:
        err = error_object(type, message, ERROR_STATUS.get(type, 500))
        self.out.append(b"data: " + _frame_json({"error": err}) + b"\n\n")
