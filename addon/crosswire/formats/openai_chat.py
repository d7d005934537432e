"""OpenAI Chat Completions (`POST /v1/chat/completions`): stream reader and writer."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from .. import errors, thinking_xml
from ..events import Citation, Native, StreamSink, Usage
from ..options import Options
from . import base
from .base import NO_FRAME, Warn, copyable, extra_fields, log, merge_native, native_fields
from .openai_common import error_object, read_input, usage_extras, write_input

NAME = "openai-chat"

FINISH_TO_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
STOP_TO_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}


def is_stream_frame(event: str, data: str, parsed: Any) -> bool:
    if data.strip() == "[DONE]":
        return True
    return isinstance(parsed, dict) and (parsed.get("object") == "chat.completion.chunk" or "choices" in parsed)


def wants_usage(body: Any) -> bool:
    """A client gets the usage chunk only when it asked for it, as from OpenAI itself."""
    try:
        return bool(body["stream_options"]["include_usage"])
    except (KeyError, TypeError):
        return False


def read_usage(raw: Any) -> Usage:
    """OpenAI usage -> canonical: cache reads and writes are split out of the prompt count."""
    if not isinstance(raw, dict):
        return {}
    usage: Usage = {}
    read_input(raw.get("prompt_tokens"), raw.get("prompt_tokens_details"), usage)
    if isinstance(raw.get("completion_tokens"), int):
        usage["output_tokens"] = raw["completion_tokens"]
    reasoning = (raw.get("completion_tokens_details") or {}).get("reasoning_tokens")
    if isinstance(reasoning, int):
        usage["reasoning_tokens"] = reasoning
    return usage


USAGE_FIELDS = frozenset(("prompt_tokens", "completion_tokens", "total_tokens"))
# Chunk fields the canonical model holds (``obfuscation`` is random padding, different in every chunk).
CHUNK_FIELDS = frozenset(("id", "object", "created", "model", "choices", "usage", "obfuscation"))
OTHER_CHOICES = "openai-chat choices after the first (n>1)"
DELTA_FIELDS = frozenset(
    ("role", "content", "refusal", "reasoning_content", "reasoning", "tool_calls", "function_call")
)
LOGPROBS = "openai-chat logprobs"
# The reader's name for an open text block whose chunks carry logprobs: never the hot path's "text",
# so those chunks take the careful path (which carries them) and no other stream pays for it.
TEXT_WITH_LOGPROBS = "text, with logprobs"


def write_usage(usage: Usage) -> dict[str, Any]:
    prompt, details = write_input(usage)
    completion = usage.get("output_tokens", 0)
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": details,
    }
    if "reasoning_tokens" in usage:
        out["completion_tokens_details"] = {"reasoning_tokens": usage["reasoning_tokens"]}
    return out


class OpenAIChatStreamReader(base.StreamReader):
    def __init__(self, sink: StreamSink, warn: Warn) -> None:
        super().__init__(sink, warn)
        self._started = False
        self._tools: dict[object, int] = {}  # openai tool_call index -> canonical block index
        self._stop: str | None = None
        self._refused = False
        self._chunk_head = ""  # the first chunk's fields before its choices, when the fast path can use them
        self._frame_end = ""  # what follows the fragment's literal in the expected frame

    def event(self, name: str, raw: str) -> None:
        self.events(((name, raw),))

    def events(self, pairs: Iterable[tuple[str, str]]) -> None:
        # The whole-frame fast path (base.py): the stream's own chunk head (learnt from its first
        # chunk), `"choices":[{"index":0,"delta":{"content":"…"},"logprobs":null,"finish_reason":null}]`
        # (or the reasoning or the open tool call's arguments) and one of the chunk endings OpenAI sends.
        head = NO_FRAME if self.done else self._frame_head
        at, mark = len(head) - 1, self._frame_end
        run: list[str] = []
        for name, raw in pairs:
            if raw.startswith(head):
                end = raw.rfind(mark)
                if end > at + 1 and _plain_ending(raw[end + len(mark) :]):
                    literal = raw[at : end + 1]
                    if copyable(literal):
                        run.append(literal)
                        continue
            if run:
                self._frame_emit(self._frame_index, run)
                run = []
            self.careful(name, raw)
            head = NO_FRAME if self.done else self._frame_head
            at, mark = len(head) - 1, self._frame_end
        if run:
            self._frame_emit(self._frame_index, run)
        self._primed = bool(run)

    def fragment_frame(self, first: bool = False) -> base.OneFrame | None:
        rest = _ONE_FRAME_RESTS.get(self._frame_end)
        if not (self._primed or first) or self.done or rest is None or self._frame_head is NO_FRAME:
            return None
        prefix = b"data: " + self._frame_head[:-1].encode()  # the literal's opening quote is the literal's
        return base.OneFrame(prefix, rest, b"", self._frame_kind, self._frame_index)

    def opening_frames(self) -> tuple[base.OneFrame, ...]:
        # A chat block opens with its first fragment: a content or reasoning_content delta while
        # another kind is open (or none), which the careful path reads as _block(kind) and the fragment.
        if self.done or not self._chunk_head:
            return ()
        rest, open_kind = _ONE_FRAME_RESTS[_DELTA_END], self._open_kind
        head = b"data: " + self._chunk_head.encode() + b'"choices":[{"index":0,"delta":'
        return tuple(
            base.OneFrame(head + delta_head, rest, b"", kind, self.blocks, opens=True)
            for kind, delta_head in (("text", b'{"content":'), ("thinking", b'{"reasoning_content":'))
            if open_kind != kind and open_kind != TEXT_WITH_LOGPROBS
        )

    def open_fragment_block(self, frame: base.OneFrame) -> int:
        return self._block(frame.kind)

    def careful(self, name: str, raw: str) -> None:
        if self.done:
            return
        if raw == "[DONE]" or raw.strip() == "[DONE]":
            self._finish()
            return
        data = self.parse(raw)
        if data is None:
            return
        if data.get("error"):
            err = data["error"] if isinstance(data["error"], dict) else {"message": str(data["error"])}
            self.fail(errors.from_openai(err.get("type"), err.get("code")), str(err.get("message") or "upstream error"))
            return
        if not self._started:
            self._start(data)
            self._chunk_head = _chunk_head(raw)
        choices = data.get("choices")
        if choices:
            for choice in choices:
                if not isinstance(choice, dict):
                    continue
                if choice.get("index", 0) != 0:
                    self.sink.native(-1, Native(NAME, {"choice": choice}, OTHER_CHOICES))
                    continue
                delta = choice.get("delta")
                if delta and isinstance(delta, dict):
                    content = delta.get("content")
                    # The hot path: a delta with nothing but content, inside the open text block.
                    if content and self._open_kind == "text" and len(delta) == 1 and isinstance(content, str):
                        self.sink.text(self._open, content)
                    else:
                        logprobs = choice.get("logprobs")
                        if logprobs:  # for the chunk written next (an openai-chat client's)
                            self.sink.native(-1, Native(NAME, {"logprobs": logprobs}, LOGPROBS))
                        self._delta(delta)
                        if logprobs and self._open_kind == "text":
                            self._open_kind = TEXT_WITH_LOGPROBS
                            self._frame_head = base.NO_FRAME  # its chunks carry logprobs: the careful path
                finish = choice.get("finish_reason")
                if finish:
                    self._finished(str(finish))
        usage = data.get("usage")
        if usage:
            extras = usage_extras(usage, USAGE_FIELDS) if isinstance(usage, dict) else {}
            carrier = native_fields(NAME, {"usage": extras}, "chunk") if extras else None
            if carrier is not None:
                self.sink.native(-1, carrier)
            self.sink.usage(read_usage(usage))

    def _start(self, data: dict[str, Any]) -> None:
        self._started = True
        created = data.get("created")
        fields = extra_fields(data, CHUNK_FIELDS)
        chunk_id = str(data.get("id") or "")
        choices = data.get("choices")
        first = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
        delta = first.get("delta")
        empty = (
            {k: v for k, v in delta.items() if k in ("content", "refusal") and not v} if isinstance(delta, dict) else {}
        )
        if empty:  # how the first delta says "no content yet" (null or ""), for an openai-chat client
            fields["delta"] = empty
        native = native_fields(NAME, fields, "chunk")
        if chunk_id and not chunk_id.startswith("chatcmpl-"):  # kept as it is for an openai-chat client
            native = Native(NAME, {**(native.data if native else {}), "id": chunk_id}, native.what if native else "")
        self.sink.message_start(
            chunk_id,
            str(data.get("model") or ""),
            read_usage(data.get("usage")),
            created if isinstance(created, int) else None,
            native=native,
        )

    def _finished(self, finish: str) -> None:
        self._close_block()
        if finish not in FINISH_TO_STOP:
            log.debug("crosswire: unknown finish_reason %r read as end_turn", finish)
        self._stop = "refusal" if self._refused else FINISH_TO_STOP.get(finish, "end_turn")
        self.sink.stop(self._stop)

    def _delta(self, delta: dict[str, Any]) -> None:
        sink = self.sink
        # OpenRouter and others name it `reasoning`, DeepSeek and vLLM `reasoning_content`.
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning and isinstance(reasoning, str):
            if self._open_kind != "thinking" and "reasoning_content" not in delta:  # its name, for a chat client
                sink.native(-1, Native(NAME, {"reasoning_key": "reasoning"}))
            sink.thinking(self._block("thinking"), reasoning)
        content = delta.get("content")
        if content and isinstance(content, str):
            sink.text(self._block("text"), content)
        refusal = delta.get("refusal")
        if refusal and isinstance(refusal, str):
            self._refused = True
            sink.text(self._block("refusal"), refusal)
        tool_calls = delta.get("tool_calls")
        if tool_calls and isinstance(tool_calls, list):
            for call in tool_calls:
                if isinstance(call, dict):
                    self._tool_call(call)
        elif isinstance(delta.get("function_call"), dict):  # the pre-tools API: one call, no id
            self._tool_call({"index": 0, "id": "call_0", "function": delta["function_call"]})
        extras = [key for key in delta if key not in DELTA_FIELDS]
        if extras:  # annotations, audio, fields of the future: for an openai-chat client
            carrier = native_fields(NAME, {"delta": {key: delta[key] for key in extras}}, "chunk")
            if carrier is not None:
                sink.native(-1, carrier)

    def _tool_call(self, call: dict[str, Any]) -> None:
        position = call.get("index", 0)
        function = call.get("function")
        if not isinstance(function, dict):
            function = {}
        index = self._tools.get(position)
        if index is None:
            call_id = call.get("id") or f"call_{position}"
            index = self._start_block("tool_use", id=str(call_id), name=str(function.get("name") or ""))
            self._tools[position] = index
            if self._chunk_head and position.__class__ is int:
                self._expect(
                    f'{{"tool_calls":[{{"index":{position},"function":{{"arguments":"', _TOOL_END, "tool_input"
                )
        elif index != self._open:
            self.warn("openai-chat stream resumed an earlier tool call after a later one began: fragment dropped")
            return
        arguments = function.get("arguments")
        if arguments and isinstance(arguments, str):
            self.sink.tool_input(index, arguments)

    def _block(self, kind: str) -> int:
        """The index of the open block of ``kind``, opening one (and closing the last) if needed."""
        if self._open_kind == kind or (kind == "text" and self._open_kind == TEXT_WITH_LOGPROBS):
            return self._open
        index = self._start_block(kind)
        if self._chunk_head and kind in ("text", "thinking"):
            self._expect('{"content":"' if kind == "text" else '{"reasoning_content":"', _DELTA_END, kind)
        return index

    def _expect(self, delta_head: str, end: str, kind: str) -> None:
        """Fragment frames of the block just opened: this stream's chunk head, the choice whose
        delta starts with ``delta_head`` and ends with ``end`` (base.py, the whole-frame fast path)."""
        self._frame_end = end
        self._expect_frames(self._chunk_head + '"choices":[{"index":0,"delta":' + delta_head, kind, self._open)

    def _finish(self) -> None:
        if not self._started:
            self.fail("api_error", "upstream stream ended ([DONE]) before any completion chunk")
            return
        self._close_block()
        if self._stop is None:
            self.sink.stop("end_turn")
        self.done = True
        self.sink.end()

    def close(self) -> None:
        # A finish_reason is the provider saying the answer is complete; only [DONE] and
        # possibly the usage chunk are missing, so end cleanly rather than fail it.
        if not self.done and self._stop is not None:
            self._finish()
        super().close()

    def truncated_message(self) -> str:
        return "upstream stream ended before a finish_reason: the answer is incomplete"


def _chunk_head(raw: str) -> str:
    """The first chunk's text before its choices (`{"id":…,"model":…,`) when every later chunk
    starting with it can take the fast path: these fields are read from the first chunk only, so
    they must hold nothing the careful path reads in a later one (an error, a usage). "" when not."""
    at = raw.find('"choices":[')
    if at < 1 or raw[at - 1] not in "{,":
        return ""
    head = raw[:at]
    try:
        fields = orjson.loads(head + '"choices":[]}')
    except orjson.JSONDecodeError:
        return ""
    if fields.__class__ is not dict or fields.get("error") or fields.get("usage"):
        return ""
    return head


# What follows a fast frame's delta up to the end of its choices (base.py).
_CHOICE_END = ',"logprobs":null,"finish_reason":null}]'
# What may follow a fast frame's choices: nothing, OpenAI's null usage, its obfuscation padding.
_USAGE_NULL = ',"usage":null'
_OBFUSCATION = ',"obfuscation":"'
# What follows a text or reasoning fragment's literal, and a tool call's arguments fragment's.
_DELTA_END = '"}' + _CHOICE_END
_TOOL_END = '"}}]}' + _CHOICE_END


def _one_frame_rest(end: str) -> Callable[[bytes | bytearray, int], re.Match[bytes] | None]:
    """A fragment chunk's bytes from its literal on (OneFrame): ``end`` and the plain endings
    (``_plain_ending``; here an obfuscation of printable ASCII only)."""
    return re.compile(
        b"()("
        + base.NONEMPTY_LITERAL_BYTES
        + b")"
        + re.escape(end[1:].encode())
        + rb'(?:,"usage":null)?(?:,"obfuscation":"[\x20\x21\x23-\x5b\x5d-\x7e]*")?\}\n\n'
    ).fullmatch


_ONE_FRAME_RESTS = {end: _one_frame_rest(end) for end in (_DELTA_END, _TOOL_END)}


def _plain_ending(ending: str) -> bool:
    """Whether ``ending`` closes the chunk after its choices with nothing the careful path reads."""
    if ending == "}" or ending == _USAGE_NULL + "}":
        return True
    ending = ending.removeprefix(_USAGE_NULL)
    return ending.startswith(_OBFUSCATION) and ending[-2:] == '"}' and base.plain_string(ending[len(_OBFUSCATION) : -2])


_NULL_END = b',"logprobs":null,"finish_reason":null}]}\n\n'  # a chunk's end after its delta
_CONTENT_END = b"}" + _NULL_END
_NO_LOGPROBS = object()  # the source sent none: chunks are written without looking
HOSTED_SEARCH_DROPPED = (
    "hosted web search calls and their results have no equivalent in openai-chat: dropped (the answer's text is kept)"
)
CITATIONS_DROPPED = "web page citations have no equivalent in openai-chat streams: dropped (the cited text is kept)"


class OpenAIChatStreamWriter(base.StreamWriter):
    format = NAME

    def __init__(self, options: Options, warn: Warn = base._ignore) -> None:
        super().__init__(options, warn)
        self._prefix = b""  # `data: {"id":…,"choices":[{"index":0,"delta":`
        self._content_prefix = b""  # the same, followed by `{"content":`
        self._head = b""  # `{"id":…,"model":…` shared by the usage chunk
        self._kinds: dict[int, str] = {}
        self._refusals: set[int] = set()  # indexes of refusal blocks (written as delta.refusal)
        self._tool_index: dict[int, int] = {}
        self._tool_has_args: dict[int, bool] = {}
        self._tool_args: dict[int, bytes] = {}  # its arguments delta up to the fragment
        self._finish_sent = False
        self._thinking: list[str] = []  # xml mode: held until the signature arrives
        self._signature: list[str] = []
        self._usage_extras: dict[str, Any] = {}  # the usage fields of an openai-chat source's own
        self._reasoning_key = b'{"reasoning_content":'  # or an openai-chat source's own name for it
        self._logprobs: Any = _NO_LOGPROBS  # an openai-chat source's logprobs for the next chunk

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        if self._prefix:
            return
        self.reported_usage.update(usage)
        stamp = self.options.created or created or int(time.time())
        own = dict(self.own(native) or {})
        self._head = (
            b'{"id":'
            + orjson.dumps(own.pop("id", None) or base.derive_id(id, "chatcmpl-"))
            + b',"object":"chat.completion.chunk","created":%d,"model":' % stamp
            + orjson.dumps(self.options.model or model)
        )
        first = {"role": "assistant", "content": "", **own.pop("delta", {})}
        if own:  # the source's own chunk fields (system_fingerprint, service_tier), in every chunk as there
            self._head += b"," + orjson.dumps(own)[1:-1]
        self._prefix = b"data: " + self._head + b',"choices":[{"index":0,"delta":'
        self._content_prefix = self._prefix + b'{"content":'
        self._chunk(orjson.dumps(first))

    def _chunk(self, delta: bytes, finish: bytes = b"null") -> None:
        if not self._prefix:
            self.message_start("", "", {})
        self.out.append(self._prefix + delta + b',"logprobs":null,"finish_reason":' + finish + b"}]}\n\n")

    def ping(self) -> None:
        if not self.finished:
            self.out.append(b": ping\n\n")  # a comment: keeps the connection alive, every client ignores it

    def _chunk_with_logprobs(self, delta: bytes, finish: bytes = b"null") -> None:
        """``_chunk`` once an openai-chat source sent logprobs: the next chunk written carries them."""
        logprobs, self._logprobs = self._logprobs, None
        tail = b',"logprobs":' + orjson.dumps(logprobs) + b',"finish_reason":' + finish + b"}]}\n\n"
        self.out.append(self._prefix + delta + tail)

    def _text_with_logprobs(self, index: int, literal: bytes) -> None:
        key = b'{"refusal":' if index in self._refusals else b'{"content":'
        self._chunk(key + literal + b"}")

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        self._kinds[index] = kind
        if native is not None:
            self.own(native)  # chat blocks have no fields of their own: another format's are dropped (warned)
        if kind in ("web_search", "web_search_result"):
            self.warn(HOSTED_SEARCH_DROPPED)
        elif kind == "refusal":
            self._refusals.add(index)
        elif kind == "tool_use":
            position = self._tool_index[index] = len(self._tool_index)
            self._tool_has_args[index] = False
            self._tool_args[index] = b'{"tool_calls":[{"index":%d,"function":{"arguments":' % position
            call = {"index": position, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}
            self._chunk(b'{"tool_calls":[' + orjson.dumps(call) + b"]}")
        elif kind == "redacted_thinking":
            if self.options.thinking == "xml":
                self._content(thinking_xml.render_redacted(data))
            else:
                log.debug("crosswire: redacted_thinking block dropped (thinking=%s)", self.options.thinking)
        elif kind == "thinking":
            self._thinking.clear()
            self._signature.clear()

    def _content(self, text: str) -> None:
        self._chunk(b'{"content":' + orjson.dumps(text) + b"}")

    def text(self, index: int, text: str) -> None:
        self._text(index, orjson.dumps(text))

    def text_literals(self, index: int, literals: list[str]) -> None:
        if self._content_prefix and self._logprobs is _NO_LOGPROBS and index not in self._refusals:
            self._chunks(self._content_prefix, literals, _CONTENT_END)
        else:
            for literal in literals:
                self._text(index, literal.encode())

    def _chunks(self, head: bytes, literals: list[str], end: bytes) -> None:
        """One chunk per literal: ``head`` + literal + ``end``, joined at once."""
        prefix, suffix = head.decode(), end.decode()
        self.out.append((prefix + (suffix + prefix).join(literals) + suffix).encode())

    def _text(self, index: int, literal: bytes) -> None:
        if index in self._refusals:
            self._chunk(b'{"refusal":' + literal + b"}")
        elif self._content_prefix:  # the hot path: one concatenation per token
            self.out.append(self._content_prefix + literal + _CONTENT_END)
        else:
            self._chunk(b'{"content":' + literal + b"}")

    def thinking(self, index: int, text: str) -> None:
        if self.options.thinking == "xml":
            self._thinking.append(text)
        elif text:
            self._thinking_text(orjson.dumps(text))

    def thinking_literals(self, index: int, literals: list[str]) -> None:
        if self.options.thinking == "reasoning_content" and self._logprobs is _NO_LOGPROBS and self._prefix:
            self._chunks(self._prefix + self._reasoning_key, literals, b"}" + _NULL_END)
        else:
            for literal in literals:
                self._thinking_text(literal.encode())

    def _thinking_text(self, literal: bytes) -> None:
        mode = self.options.thinking
        if mode == "reasoning_content":
            if literal != b'""':
                self._chunk(self._reasoning_key + literal + b"}")
        elif mode == "xml":
            self._thinking.append(orjson.loads(literal))

    def signature(self, index: int, signature: str) -> None:
        if self.options.thinking == "xml":
            self._signature.append(signature)

    def tool_input(self, index: int, fragment: str) -> None:
        if fragment:
            self._tool_fragment(index, orjson.dumps(fragment))

    def tool_input_literals(self, index: int, literals: list[str]) -> None:
        if index not in self._tool_index:  # a web search's input: dropped
            return
        if self._logprobs is _NO_LOGPROBS and self._prefix:
            self._tool_has_args[index] = True
            self._chunks(self._prefix + self._tool_args[index], literals, b"}}]}" + _NULL_END)
        else:
            for literal in literals:
                self._tool_fragment(index, literal.encode())

    def fragment_writer(self, kind: str, index: int) -> Callable[[bytes], bytes] | None:
        # what the three *_literals above write for one literal, under the same conditions
        if self._logprobs is not _NO_LOGPROBS:
            return None
        if kind == "text":
            if not self._content_prefix or index in self._refusals:
                return None
            return base.template(self._content_prefix, _CONTENT_END)
        if not self._prefix:
            return None
        if kind == "thinking":
            if self.options.thinking != "reasoning_content":
                return None
            return base.template(self._prefix + self._reasoning_key, b"}" + _NULL_END)
        if index not in self._tool_index:  # a web search's input: dropped
            return None
        write = base.template(self._prefix + self._tool_args[index], b"}}]}" + _NULL_END)
        if self._tool_has_args[index]:
            return write

        parts: base.Template = write.__self__  # type: ignore[attr-defined]

        def first(literal: bytes, lead: bytes = b"") -> bytes:  # the call's first fragment: it has arguments now
            self._tool_has_args[index] = True
            return b"".join((lead, parts.head, literal, parts.end))

        return first

    def _tool_fragment(self, index: int, literal: bytes) -> None:
        if index not in self._tool_index or literal == b'""':  # a web search's input: dropped
            return
        self._tool_has_args[index] = True
        self._chunk(self._tool_args[index] + literal + b"}}]}")

    def block_stop(self, index: int) -> None:
        kind = self._kinds.get(index)
        if kind == "tool_use" and not self._tool_has_args[index]:
            self._chunk(b'{"tool_calls":[{"index":%d,"function":{"arguments":"{}"}}]}' % self._tool_index[index])
        elif kind == "thinking" and self.options.thinking == "xml":
            self._content(thinking_xml.render_thinking("".join(self._thinking), "".join(self._signature)))

    def citation(self, index: int, citation: Citation) -> None:
        self.warn(CITATIONS_DROPPED)

    def native(self, index: int, carrier: Native) -> None:
        own = self.own(carrier)
        if own is None:
            return
        if "choice" in own:  # a choice after the first, as the source sent it
            self.out.append(b"data: " + self._head + b',"choices":[' + orjson.dumps(own["choice"]) + b"]}\n\n")
        elif "delta" in own:
            self._chunk(orjson.dumps(own["delta"]))
        elif "logprobs" in own:
            if self._logprobs is _NO_LOGPROBS:  # the first: from now on every chunk is written the careful way
                self._chunk = self._chunk_with_logprobs  # type: ignore[method-assign]
                self._text = self._text_with_logprobs  # type: ignore[method-assign]
            self._logprobs = own["logprobs"]
        elif "reasoning_key" in own:
            self._reasoning_key = b"{" + orjson.dumps(str(own["reasoning_key"])) + b":"
        elif "usage" in own:
            merge_native(self._usage_extras, own["usage"])

    def usage(self, usage: Usage) -> None:
        self.reported_usage.update(usage)

    def stop(self, reason: str, sequence: str | None = None) -> None:
        if self._finish_sent:
            return
        self._finish_sent = True
        # A refusal written as `delta.refusal` is already marked; OpenAI finishes it with "stop".
        refused_in_band = reason == "refusal" and bool(self._refusals)
        finish = "stop" if refused_in_band else STOP_TO_FINISH.get(reason, "stop")
        self._chunk(b"{}", orjson.dumps(finish))

    def write_end(self) -> None:
        if not self._finish_sent:
            self.stop("end_turn")
        if self.options.include_usage:
            usage = merge_native(write_usage(self.reported_usage), self._usage_extras)
            self.out.append(b"data: " + self._head + b',"choices":[],"usage":' + orjson.dumps(usage) + b"}\n\n")
        self.out.append(b"data: [DONE]\n\n")

    def write_error(self, type: str, message: str) -> None:
        self.out.append(b"data: " + orjson.dumps({"error": error_object(type, message)}) + b"\n\ndata: [DONE]\n\n")
