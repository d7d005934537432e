"""The canonical model every format is read into and written from.

A stream is a sequence of calls on a :class:`StreamSink` (the canonical events): readers call
them, writers implement them. Calls instead of event objects keep the hot path to one method
call per event; :class:`EventLog` turns the calls back into tuples where a list is handier
(tests, debugging), and :class:`MessageBuilder` assembles them into a whole :class:`Message`.

Event order, as every reader must produce it::

    message_start
    ( block_start  (text | tool_input | thinking | signature)*  block_stop )*
    usage*  stop?  (end | error)

Blocks are strictly sequential (one open at a time) and numbered 0, 1, 2… in order.
Usage may also arrive before or between blocks; a later value wins per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

# Usage keys (all optional): input_tokens (not cached), output_tokens, cache_read_input_tokens,
# cache_creation_input_tokens, reasoning_tokens (a part of output_tokens).
Usage = dict[str, int]

BLOCK_KINDS = ("text", "refusal", "tool_use", "thinking", "redacted_thinking")

# Canonical stop reasons use the Anthropic vocabulary.
STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal")

# Canonical error types use the Anthropic vocabulary, with the HTTP status each one implies.
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


class StreamSink:
    """Receiver of canonical stream events. Writers override what they need."""

    def message_start(self, id: str, model: str, usage: Usage, created: int | None = None) -> None:
        pass

    def block_start(self, index: int, kind: str, id: str = "", name: str = "", data: str = "") -> None:
        """``kind`` is one of BLOCK_KINDS; ``id``/``name`` for tool_use, ``data`` for redacted_thinking."""

    def text(self, index: int, text: str) -> None:
        """A text fragment of a ``text`` or ``refusal`` block."""

    def tool_input(self, index: int, fragment: str) -> None:
        """A fragment of a tool call's JSON arguments, forwarded as it arrived."""

    def thinking(self, index: int, text: str) -> None:
        pass

    def signature(self, index: int, signature: str) -> None:
        pass

    def block_stop(self, index: int) -> None:
        pass

    def usage(self, usage: Usage) -> None:
        pass

    def stop(self, reason: str, sequence: str | None = None) -> None:
        pass

    def ping(self) -> None:
        """A keep-alive the source sent; writers whose format has one pass it on."""

    def error(self, type: str, message: str) -> None:
        """The stream failed; nothing but ``close`` follows."""

    def end(self) -> None:
        """The message is complete."""


class EventLog(StreamSink):
    """Records the canonical events as tuples: ``("text", 0, "Hi")``."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def message_start(self, id: str, model: str, usage: Usage, created: int | None = None) -> None:
        self.events.append(("message_start", id, model, dict(usage), created))

    def block_start(self, index: int, kind: str, id: str = "", name: str = "", data: str = "") -> None:
        self.events.append(("block_start", index, kind, id, name, data))

    def text(self, index: int, text: str) -> None:
        self.events.append(("text", index, text))

    def tool_input(self, index: int, fragment: str) -> None:
        self.events.append(("tool_input", index, fragment))

    def thinking(self, index: int, text: str) -> None:
        self.events.append(("thinking", index, text))

    def signature(self, index: int, signature: str) -> None:
        self.events.append(("signature", index, signature))

    def block_stop(self, index: int) -> None:
        self.events.append(("block_stop", index))

    def usage(self, usage: Usage) -> None:
        self.events.append(("usage", dict(usage)))

    def stop(self, reason: str, sequence: str | None = None) -> None:
        self.events.append(("stop", reason, sequence))

    def ping(self) -> None:
        self.events.append(("ping",))

    def error(self, type: str, message: str) -> None:
        self.events.append(("error", type, message))

    def end(self) -> None:
        self.events.append(("end",))


@dataclass
class Block:
    """One content block of a message: an answer's or a request's.

    Kinds: the stream's BLOCK_KINDS, plus in requests ``image``, ``document`` (a base64 PDF) and
    ``tool_result``.
    """

    kind: str
    text: str = ""  # text, refusal, thinking
    id: str = ""  # tool_use: the call id; tool_result: the id of the call it answers
    name: str = ""  # tool_use; document: its title (openai: filename)
    input: Any = None  # tool_use: parsed arguments (dict), or the raw string when not valid JSON
    signature: str = ""  # thinking
    data: str = ""  # redacted_thinking: opaque data; image, document: base64 bytes
    media_type: str = ""  # image, document with base64 data
    url: str = ""  # image by URL
    content: list[Block] = field(default_factory=list)  # tool_result: text and image blocks
    is_error: bool = False  # tool_result


@dataclass
class Turn:
    """One message of a request's conversation: role ``user``, ``assistant`` or ``system``.

    A ``system`` turn is an instruction in the middle of the conversation (Claude Code's
    ``role: "system"`` messages, a Chat ``system``/``developer`` message after the first turn),
    kept where it is for the formats that can say so (Chat, Responses ``developer`` items).
    Instructions before the conversation starts are ``Request.system``.
    """

    role: str
    content: list[Block] = field(default_factory=list)


@dataclass
class Tool:
    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # JSON Schema of the input
    strict: bool | None = None


@dataclass(frozen=True)
class ToolOrigin:
    """A client tool that reached the upstream under another name or shape: a Responses
    ``namespace`` member (flattened to one function name) or a ``custom`` (freeform) tool (a
    function with one string parameter, :data:`CUSTOM_TOOL_PARAMETER`). The answer's calls of
    the flattened name are written back as the client's own call shape."""

    name: str
    namespace: str | None = None
    kind: str = "function"  # function | custom


CUSTOM_TOOL_PARAMETER = "input"


@dataclass
class Request:
    """A request in canonical form. ``None`` means the client did not set it."""

    model: str = ""
    system: list[str] = field(default_factory=list)  # system/developer texts, in order
    messages: list[Turn] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    tools: list[Tool] = field(default_factory=list)
    tool_choice: dict[str, Any] | None = None  # {"type": "auto"|"none"|"any"|"tool", "name": …}
    parallel_tool_calls: bool | None = None
    thinking_budget: int | None = None  # extended thinking enabled with this budget
    reasoning_effort: str | None = None  # none | minimal | low | medium | high | xhigh (as the client said it)
    # {"type": "json_object"} or {"type": "json_schema", "schema": {…}, "name": …, "description": …, "strict": …}
    response_format: dict[str, Any] | None = None
    user: str | None = None
    verbosity: str | None = None  # low | medium | high (gpt-5-class models)
    prompt_cache_key: str | None = None
    # Flattened tool name -> where it came from, for the answer's way back (see ToolOrigin).
    tool_origins: dict[str, ToolOrigin] = field(default_factory=dict)
    # Fields of the client's own format with no canonical equivalent (openai-responses: store,
    # metadata, built-in tools…): written as they are for an upstream of the same format only.
    native: dict[str, Any] = field(default_factory=dict)
    # (param, message, fatal) for an upstream of another format: a fatal one rejects the request
    # (the request needs it: a built-in tool, a stored response), any other is dropped with the warning.
    foreign: list[tuple[str, str, bool]] = field(default_factory=list)


@dataclass
class ApiError:
    """An error response in canonical form: ``type`` from ERROR_STATUS's vocabulary."""

    type: str
    message: str
    param: str | None = None
    code: str | None = None  # the openai ``code`` when the source had one


@dataclass
class Message:
    """A whole assistant message (a non-streamed response, or a stream assembled)."""

    id: str = ""
    model: str = ""
    content: list[Block] = field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=dict)
    created: int | None = None
    error: tuple[str, str] | None = None  # (type, message) when the stream failed


class MessageBuilder(StreamSink):
    """Assembles canonical stream events into a :class:`Message`."""

    def __init__(self) -> None:
        self.message = Message()
        self._args: dict[int, list[str]] = {}

    def message_start(self, id: str, model: str, usage: Usage, created: int | None = None) -> None:
        self.message.id, self.message.model, self.message.created = id, model, created
        self.message.usage.update(usage)

    def block_start(self, index: int, kind: str, id: str = "", name: str = "", data: str = "") -> None:
        self.message.content.append(Block(kind, id=id, name=name, data=data))
        if kind == "tool_use":
            self._args[len(self.message.content) - 1] = []

    def _block(self, index: int) -> Block:
        return self.message.content[index]

    def text(self, index: int, text: str) -> None:
        self._block(index).text += text

    def thinking(self, index: int, text: str) -> None:
        self._block(index).text += text

    def signature(self, index: int, signature: str) -> None:
        self._block(index).signature += signature

    def tool_input(self, index: int, fragment: str) -> None:
        self._args[index].append(fragment)

    def block_stop(self, index: int) -> None:
        block = self._block(index)
        if block.kind == "tool_use":
            block.input = parse_tool_input("".join(self._args.pop(index, [])))

    def usage(self, usage: Usage) -> None:
        self.message.usage.update(usage)

    def stop(self, reason: str, sequence: str | None = None) -> None:
        self.message.stop_reason, self.message.stop_sequence = reason, sequence

    def error(self, type: str, message: str) -> None:
        self.message.error = (type, message)


def replay(message: Message, sink: StreamSink) -> None:
    """A whole message as the stream events that would have carried it (a JSON answer to a client
    that asked for a stream)."""
    usage = message.usage
    sink.message_start(message.id, message.model, {k: v for k, v in usage.items() if "input" in k}, message.created)
    for index, block in enumerate(message.content):
        sink.block_start(index, block.kind, id=block.id, name=block.name, data=block.data)
        if block.kind in ("text", "refusal") and block.text:
            sink.text(index, block.text)
        elif block.kind == "thinking":
            if block.text:
                sink.thinking(index, block.text)
            if block.signature:
                sink.signature(index, block.signature)
        elif block.kind == "tool_use":
            arguments = block.input if isinstance(block.input, str) else orjson.dumps(block.input or {}).decode()
            sink.tool_input(index, arguments)
        sink.block_stop(index)
    if usage:
        sink.usage(dict(usage))
    if message.stop_reason:
        sink.stop(message.stop_reason, message.stop_sequence)
    sink.end()


def parse_tool_input(arguments: str) -> Any:
    """Tool arguments as a dict; ``{}`` for none; the raw string when they are not valid JSON."""
    if not arguments.strip():
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return arguments
