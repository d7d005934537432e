"""The canonical model every format is read into and written from.

A stream is a sequence of calls on a :class:`StreamSink` (the canonical events): readers call
them, writers implement them. Calls instead of event objects keep the hot path to one method
call per event; :class:`EventLog` turns the calls back into tuples where a list is handier
(tests, debugging), and :class:`MessageBuilder` assembles them into a whole :class:`Message`.

Event order, as every reader must produce it::

    message_start
    ( block_start  (text | tool_input | thinking | signature | citation | search_result | native)*  block_stop )*
    usage*  stop?  (end | error)

Blocks are strictly sequential (one open at a time) and numbered 0, 1, 2… in order.
Usage may also arrive before or between blocks; a later value wins per field.
``native`` may also come between blocks, with index -1 (message-level fields of the source).

What each block kind receives:

- ``text``, ``refusal``: ``text`` fragments; a text block may have ``citation`` events (the
  web pages its text rests on).
- ``tool_use`` (``id``, ``name``): ``tool_input`` fragments of its JSON arguments.
- ``thinking``: ``thinking`` fragments, then ``signature`` fragments.
- ``redacted_thinking`` (``data``): nothing.
- ``web_search`` (``id``): a web search the provider ran itself (a hosted tool); its input, a JSON
  object with the ``query``, arrives as ``tool_input`` fragments.
- ``web_search_result`` (``id`` of the search it answers; ``data`` = an error code when the search
  failed): one ``search_result`` event per page found.
- ``native``: a block of the source format's own with no canonical meaning; all of it is in the
  ``native`` carrier of its ``block_start`` and in ``native`` events.

The native carrier (:class:`Native`) is how nothing is lost between a client and an upstream of
the same format: ``message_start(native=)`` and ``block_start(native=)`` carry the source's own
fields of that message or block that the canonical model does not hold, and ``native`` events the
source's events (or block parts) that have no canonical meaning. A writer of the carrier's format
writes it back verbatim; any other writer drops it with a warning naming what was lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

# Usage keys (all optional), in Anthropic's arithmetic: input_tokens counts neither cache reads nor
# cache writes; cache_read_input_tokens, cache_creation_input_tokens (tokens written to the prompt
# cache); output_tokens; reasoning_tokens (a part of output_tokens); web_search_requests (hosted
# web searches the provider ran). OpenAI's input/prompt tokens include cache reads and writes.
Usage = dict[str, int]

BLOCK_KINDS = (
    "text", "refusal", "tool_use", "thinking", "redacted_thinking", "web_search", "web_search_result", "native",
)  # fmt: skip

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


@dataclass(frozen=True, slots=True)
class Native:
    """A part of one format's own wire form that the canonical model does not hold.

    ``data`` is that format's JSON, in a shape its own writer knows (a whole block, the unmodelled
    fields of a block or message, an event). A writer of ``format`` writes it back verbatim; a
    writer of any other format drops it, warning with ``what`` (empty when nothing of value is
    lost: fields that are null, zero or empty, or that repeat what the client itself sent).
    """

    format: str
    data: dict[str, Any]
    what: str = ""


@dataclass(frozen=True, slots=True)
class Citation:
    """A web page that the text of a block rests on (a hosted web search's result)."""

    url: str
    title: str | None = None
    cited_text: str = ""  # the passage of the page (anthropic; openai has none)
    encrypted_index: str = ""  # anthropic's opaque reference: needed to send the citation back to anthropic
    start: int | None = None  # the span of the block's text it supports (openai); None: the whole block
    end: int | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page a hosted web search found."""

    url: str
    title: str = ""
    page_age: str | None = None
    encrypted_content: str = ""  # anthropic's opaque copy of the page: needed to send the result back to anthropic


class StreamSink:
    """Receiver of canonical stream events. Writers override what they need."""

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        pass

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        """``kind`` is one of BLOCK_KINDS; ``id``/``name`` for tool_use, ``id`` for the web search
        blocks, ``data`` for redacted_thinking and a failed web_search_result."""

    def text(self, index: int, text: str) -> None:
        """A text fragment of a ``text`` or ``refusal`` block."""

    def tool_input(self, index: int, fragment: str) -> None:
        """A fragment of a tool call's JSON arguments, forwarded as it arrived."""

    def thinking(self, index: int, text: str) -> None:
        pass

    # The same three fragments as their JSON string literals: a run of consecutive fragments of
    # block ``index``, each orjson's encoding of the fragment (quotes included, never ``""``). A
    # reader's whole-frame fast path hands on the literals of the frames it recognised (formats/base.py);
    # a writer that copies them into its own frames overrides these, every other sink gets the
    # decoded fragments one by one.
    def text_literals(self, index: int, literals: list[str]) -> None:
        for text in _decoded(literals):
            self.text(index, text)

    def tool_input_literals(self, index: int, literals: list[str]) -> None:
        for fragment in _decoded(literals):
            self.tool_input(index, fragment)

    def thinking_literals(self, index: int, literals: list[str]) -> None:
        for text in _decoded(literals):
            self.thinking(index, text)

    def fragment_writer(self, kind: str, index: int) -> Callable[[bytes], bytes] | None:
        """For the converter's one-frame path: a function from one more ``kind`` fragment's literal
        (UTF-8 bytes, as ``<kind>_literals`` would get it) to the bytes that call would write, doing
        whatever else it would do; None (the default) when there is none. Asked for block
        ``index``'s next fragment (its first one too), and used until anything else reaches the sink.
        For a large literal the converter joins a ``base.template``'s parts itself; any other such
        function also takes ``lead``, bytes to write first, so that both are one allocation."""
        return None

    def signature(self, index: int, signature: str) -> None:
        pass

    def citation(self, index: int, citation: Citation) -> None:
        """A citation of a ``text`` block."""

    def search_result(self, index: int, result: SearchResult) -> None:
        """A page a ``web_search_result`` block lists."""

    def native(self, index: int, carrier: Native) -> None:
        """A part of the source's own form with no canonical meaning, of block ``index`` (-1: of the message)."""

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


def _decoded(literals: list[str]) -> list[str]:
    return orjson.loads("[" + ",".join(literals) + "]")  # type: ignore[no-any-return]


class EventLog(StreamSink):
    """Records the canonical events as tuples: ``("text", 0, "Hi")``."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        self.events.append(("message_start", id, model, dict(usage), created))

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        self.events.append(("block_start", index, kind, id, name, data))

    def text(self, index: int, text: str) -> None:
        self.events.append(("text", index, text))

    def tool_input(self, index: int, fragment: str) -> None:
        self.events.append(("tool_input", index, fragment))

    def thinking(self, index: int, text: str) -> None:
        self.events.append(("thinking", index, text))

    def signature(self, index: int, signature: str) -> None:
        self.events.append(("signature", index, signature))

    def citation(self, index: int, citation: Citation) -> None:
        self.events.append(("citation", index, citation))

    def search_result(self, index: int, result: SearchResult) -> None:
        self.events.append(("search_result", index, result))

    def native(self, index: int, carrier: Native) -> None:
        self.events.append(("native", index, carrier))

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
    citations: list[Citation] = field(default_factory=list)  # text
    results: list[SearchResult] = field(default_factory=list)  # web_search_result (data: its error code)
    # the source's own fields of this block the model does not hold; for kind native, the whole block
    native: Native | None = None


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
class WebSearch:
    """The provider's own web search tool (anthropic ``web_search_*``, openai-responses ``web_search*``):
    the upstream runs the searches and answers with ``web_search``/``web_search_result`` blocks."""

    allowed_domains: list[str] | None = None
    blocked_domains: list[str] | None = None  # anthropic only
    user_location: dict[str, str] | None = None  # any of city, region, country, timezone
    max_uses: int | None = None  # anthropic only
    context_size: str | None = None  # openai-responses search_context_size: low | medium | high


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
    web_search: WebSearch | None = None  # the client enabled the provider's hosted web search
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
    # Fields of the client's own format with no canonical equivalent, or kept as it sent them
    # (openai-responses: store, metadata, built-in tools…; anthropic: cache_control'd system, tools,
    # thinking…): written as they are for an upstream of the same format only (convert_request
    # empties it for any other).
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
    native: list[Native] = field(default_factory=list)  # the source's own message-level fields


class MessageBuilder(StreamSink):
    """Assembles canonical stream events into a :class:`Message`."""

    def __init__(self) -> None:
        self.message = Message()
        self._args: dict[int, list[str]] = {}

    def message_start(
        self, id: str, model: str, usage: Usage, created: int | None = None, native: Native | None = None
    ) -> None:
        self.message.id, self.message.model, self.message.created = id, model, created
        self.message.usage.update(usage)
        if native is not None:
            self.message.native.append(native)

    def block_start(
        self, index: int, kind: str, id: str = "", name: str = "", data: str = "", native: Native | None = None
    ) -> None:
        self.message.content.append(Block(kind, id=id, name=name, data=data, native=native))
        if kind in ("tool_use", "web_search"):
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

    def citation(self, index: int, citation: Citation) -> None:
        self._block(index).citations.append(citation)

    def search_result(self, index: int, result: SearchResult) -> None:
        self._block(index).results.append(result)

    def native(self, index: int, carrier: Native) -> None:
        if index < 0:  # the parts of a native block are its source's own events: shown by the block's start
            self.message.native.append(carrier)

    def block_stop(self, index: int) -> None:
        block = self._block(index)
        if block.kind in ("tool_use", "web_search"):
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
    for carrier in message.native:
        sink.native(-1, carrier)
    for index, block in enumerate(message.content):
        sink.block_start(index, block.kind, id=block.id, name=block.name, data=block.data, native=block.native)
        if block.kind in ("text", "refusal") and block.text:
            sink.text(index, block.text)
        elif block.kind == "thinking":
            if block.text:
                sink.thinking(index, block.text)
            if block.signature:
                sink.signature(index, block.signature)
        elif block.kind in ("tool_use", "web_search"):
            arguments = block.input if isinstance(block.input, str) else orjson.dumps(block.input or {}).decode()
            sink.tool_input(index, arguments)
        for citation in block.citations:
            sink.citation(index, citation)
        for result in block.results:
            sink.search_result(index, result)
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
