"""Whole-body converters: requests, non-streamed responses and error responses.

Hub, not pairs: each format's body codec (``formats/<format>_body.py``, reached through the
format registry) reads its JSON into the canonical :class:`~crosswire.events.Request`,
:class:`~crosswire.events.Message` or :class:`~crosswire.events.ApiError` and writes them back out;
a converter is one format's reader composed with another's writer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import errors
from .events import ERROR_STATUS, ApiError, Block, MessageBuilder, Request, ToolOrigin, Usage, replay
from .formats import FORMATS, Format
from .formats.base import Warn
from .formats.body_common import RequestRejected, readable_text
from .options import Options
from .sse import SSEDecoder, SSEFrameTooLarge

__all__ = [
    "Converted",
    "RequestRejected",
    "convert_error",
    "convert_request",
    "convert_response",
    "count_tokens",
    "error_body",
    "error_status",
    "read_error",
    "response_to_stream",
    "response_usage",
    "stream_to_response",
]

log = logging.getLogger("crosswire")


@dataclass
class Converted:
    """A converted body, what could not be carried over, and the HTTP status to answer with.

    Headers are not part of a body conversion: the addon keeps the upstream's (``retry-after``,
    rate-limit and request-id headers reach the client unchanged).
    """

    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    status: int = 200
    # a converted request: the upstream model and whether it streams (a format may need them in the URL)
    model: str = ""
    stream: bool = False
    # a request's flattened tool names (see events.ToolOrigin): the answer needs them back
    tool_origins: dict[str, ToolOrigin] = field(default_factory=dict)
    usage: Usage = field(default_factory=dict)  # a converted response's usage, as the source reported it


def _format(name: str) -> Format:
    return FORMATS.get(name)


def _collector(warnings: list[str]) -> Warn:
    """Each warning once; the caller logs them (the addon: one line each, with the route's name)."""

    def warn(message: str) -> None:
        if message not in warnings:
            warnings.append(message)

    return warn


def _json(body: bytes | dict[str, Any]) -> Any:
    if isinstance(body, dict):
        return body
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestRejected(f"body is not valid JSON: {exc}") from None


def convert_request(
    source: str, target: str, body: bytes | dict[str, Any], options: Options, path: str = ""
) -> Converted:
    """A client request in ``source`` format -> the request the ``target`` upstream accepts.

    ``path`` is the client's request path, for a format that says the model or streaming there.
    Raises :class:`RequestRejected` (naming the field) for a request that cannot be converted;
    answer it with ``error_body(source, "invalid_request_error", exc.message, exc.param)``.
    """
    reader, writer = _format(source), _format(target)
    data = _json(body)
    if not isinstance(data, dict):
        raise RequestRejected(f"request body must be a JSON object, not {type(data).__name__}")
    warnings: list[str] = []
    warn = _collector(warnings)
    try:
        request = reader.read_request(data, options, warn)
        path_model, path_stream = reader.read_target(path)
        if path_model is not None:
            request.model = path_model
        if path_stream is not None:
            request.stream = path_stream
        if target != source:  # what only the client's own format can carry
            for param, message, fatal in request.foreign:
                if fatal:
                    raise RequestRejected(message, param)
                warn(message)
            request.native = {}
        _fit_upstream_model(request, options, warn)
        out = writer.write_request(request, options, warn)
    except RequestRejected:
        raise
    except Exception as exc:  # a bug must surface as a clear error, never a traceback to the client
        log.exception("crosswire: internal error converting a %s request to %s", source, target)
        raise RequestRejected(f"crosswire could not convert the request: {exc!r}") from exc
    return Converted(
        out, warnings, model=options.map_model(request.model), stream=request.stream, tool_origins=request.tool_origins
    )


def _fit_upstream_model(request: Request, options: Options, warn: Warn) -> None:
    """What the route says the upstream model takes: an output cap, and whether it reasons."""
    cap = options.max_output_tokens
    if cap is not None and request.max_tokens is not None and request.max_tokens > cap:
        warn(f"max_tokens {request.max_tokens} above the route's max_output_tokens: sent as {cap}")
        request.max_tokens = cap
    if not options.sends_reasoning:
        why = "reasoning = false" if not options.reasoning else "thinking = 'drop'"
        asked = request.reasoning_effort not in (None, "none") or request.thinking_budget is not None
        if asked:
            warn(f"reasoning request not sent (route {why})")
        request.reasoning_effort = request.thinking_budget = None
        if request.verbosity not in (None, "medium"):
            warn(f"verbosity {request.verbosity!r} not sent (route {why}: a model without reasoning takes none)")
        request.verbosity = None


def convert_response(source: str, target: str, body: bytes | dict[str, Any], options: Options) -> Converted:
    """A whole (non-streamed) upstream response in ``source`` format -> ``target`` format.

    A body that cannot be read becomes a 502 ``api_error`` in the target format, never an exception.
    """
    reader, writer = _format(source), _format(target)
    warnings: list[str] = []
    warn = _collector(warnings)
    try:
        data = _json(body)
        if not isinstance(data, dict):
            raise RequestRejected(f"response body must be a JSON object, not {type(data).__name__}")
        message = reader.read_response(data, options, warn)
        out = writer.write_response(message, options, warn)
    except Exception as exc:
        if not isinstance(exc, RequestRejected):
            log.exception("crosswire: internal error converting a %s response to %s", source, target)
        text = exc.message if isinstance(exc, RequestRejected) else repr(exc)
        error = ApiError("api_error", f"crosswire could not convert the upstream {source} response: {text}")
        out, status = writer.write_error(error, 502)
        return Converted(out, warnings, status)
    return Converted(out, warnings, usage=dict(message.usage))


def convert_error(source: str, target: str, body: bytes | dict[str, Any], status: int, options: Options) -> Converted:
    """An upstream error response (any body, JSON or not) -> a well-formed ``target`` error and status.

    The status is kept (an openai client gets 503 for anthropic's 529). A body in neither format
    (an HTML page from a gateway) becomes an error carrying its text, cut to a readable length.
    """
    writer = _format(target)
    error = _read_error(_format(source), body, status)
    out, out_status = writer.write_error(error, status)
    return Converted(out, [], out_status)


def read_error(source: str, body: bytes | dict[str, Any], status: int) -> ApiError:
    """An error answer (``source``'s envelope, another format's, or not JSON at all) in canonical form."""
    return _read_error(_format(source), body, status)


def _read_error(reader: Format, body: bytes | dict[str, Any], status: int) -> ApiError:
    try:
        data = _json(body)
    except RequestRejected:
        data = None
    if data is not None:
        # the source's own shape first, then any other format's (gateways answer in their own)
        for fmt in (reader, *FORMATS):
            error = fmt.read_error(data, status)
            if error is not None:
                return error
    kind = errors.from_status(status)
    if isinstance(data, dict):
        detail = next((v for k in ("message", "detail", "error") if isinstance(v := data.get(k), str)), None)
        text = detail or readable_text(orjson.dumps(data))
    else:
        text = readable_text(orjson.dumps(body) if isinstance(body, dict) else body)
    return ApiError(kind, f"upstream returned HTTP {status}: {text}" if text else f"upstream returned HTTP {status}")


def response_usage(source: str, body: bytes | dict[str, Any]) -> Usage:
    """The canonical usage of a whole ``source`` response; empty when it cannot be read."""
    try:
        data = _json(body)
        if isinstance(data, dict):
            return dict(_format(source).read_response(data, Options(), lambda message: None).usage)
    except Exception:  # a body the client got as it was: its usage is simply unknown
        log.debug("crosswire: no usage in the %s response", source, exc_info=True)
    return {}


def error_status(source: str, body: bytes | dict[str, Any]) -> int | None:
    """The HTTP status an error body implies (read as ``source``'s, then any format's, as gateways
    answer in their own); ``None`` when it is not an error."""
    try:
        data = _json(body)
    except RequestRejected:
        return None
    for fmt in (_format(source), *FORMATS):
        error = fmt.read_error(data, None)
        if error is not None:
            return ERROR_STATUS.get(error.type, 500)
    return None


def error_body(target: str, type: str, message: str, param: str | None = None, status: int | None = None) -> Converted:
    """A fresh error in ``target`` format for canonical error ``type`` (e.g. invalid_request_error),
    with ``status`` (default: the type's own) as the target format states it."""
    out, out_status = _format(target).write_error(ApiError(type, message, param), status or ERROR_STATUS.get(type, 500))
    return Converted(out, [], out_status)


def stream_to_response(source: str, target: str, body: bytes, options: Options) -> Converted:
    """A whole SSE answer in ``source`` format -> the one JSON body a client that asked for no stream
    expects (or the error the stream ended with)."""
    warnings: list[str] = []
    builder = MessageBuilder()
    reader = _format(source).stream_reader(builder, _collector(warnings))
    decoder = SSEDecoder()
    try:
        for sse in (*decoder.feed(body), *decoder.close()):
            reader.event(sse.event, sse.data)
    except SSEFrameTooLarge as exc:
        reader.fail("api_error", f"upstream stream rejected: {exc}")
    reader.close()
    message = builder.message
    if message.error is not None:
        kind, text = message.error
        out, status = _format(target).write_error(ApiError(kind, text), ERROR_STATUS.get(kind, 502))
        return Converted(out, warnings, status)
    out = _format(target).write_response(message, options, _collector(warnings))
    return Converted(out, warnings, usage=dict(message.usage))


def response_to_stream(source: str, target: str, body: bytes, options: Options) -> tuple[bytes, list[str], Usage]:
    """A whole JSON answer in ``source`` format -> the SSE stream a client that asked for one expects,
    its warnings and the usage the source reported. Raises for a body that cannot be read (the
    caller answers with an error)."""
    warnings: list[str] = []
    warn = _collector(warnings)
    data = _json(body)
    if not isinstance(data, dict):
        raise RequestRejected(f"response body must be a JSON object, not {type(data).__name__}")
    message = _format(source).read_response(data, options, warn)
    writer = _format(target).stream_writer(options)
    replay(message, writer)
    return b"".join(writer.out), warnings, dict(message.usage)


# A rough token estimate for counting endpoints crosswire answers itself: about four characters a
# token for text, a flat cost per image or document and per message (no tokenizer is involved).
CHARS_PER_TOKEN = 4
TOKENS_PER_ATTACHMENT = 1500
TOKENS_PER_MESSAGE = 4


def count_tokens(client_format: str, body: bytes, options: Options) -> int:
    """The estimated input tokens of a token-counting request in ``client_format``."""
    fmt = _format(client_format)
    if fmt.read_count_request is None:
        raise RequestRejected(f"{client_format} has no token counting endpoint")
    data = _json(body)
    if not isinstance(data, dict):
        raise RequestRejected(f"request body must be a JSON object, not {type(data).__name__}")
    request = fmt.read_count_request(data, options, lambda message: None)
    return estimate_tokens(request)


def estimate_tokens(request: Request) -> int:
    chars = sum(len(text) for text in request.system)
    attachments = 0

    def add(blocks: list[Block]) -> None:
        nonlocal chars, attachments
        for block in blocks:
            if block.kind in ("image", "document"):
                attachments += 1
            chars += len(block.text) + len(block.name) + len(block.signature)
            if block.input is not None:
                chars += len(block.input if isinstance(block.input, str) else orjson.dumps(block.input))
            add(block.content)

    for turn in request.messages:
        add(turn.content)
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description or "") + len(orjson.dumps(tool.parameters))
    return (
        -(-chars // CHARS_PER_TOKEN) + attachments * TOKENS_PER_ATTACHMENT + TOKENS_PER_MESSAGE * len(request.messages)
    )
