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
from .events import ERROR_STATUS, ApiError, Request, ToolOrigin, Usage
from .formats import FORMATS, Format
from .formats.base import Warn
from .formats.body_common import RequestRejected, readable_text
from .options import Options

__all__ = [
    "Converted",
    "RequestRejected",
    "convert_error",
    "convert_request",
    "convert_response",
    "error_body",
    "error_status",
    "read_error",
    "response_usage",
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
    """The HTTP status an error body in ``source`` format implies; ``None`` when it is not an error."""
    try:
        data = _json(body)
    except RequestRejected:
        return None
    error = _format(source).read_error(data, None)
    return None if error is None else ERROR_STATUS.get(error.type, 500)


def error_body(target: str, type: str, message: str, param: str | None = None) -> Converted:
    """A fresh error in ``target`` format for canonical error ``type`` (e.g. invalid_request_error)."""
    out, status = _format(target).write_error(ApiError(type, message, param), ERROR_STATUS.get(type, 500))
    return Converted(out, [], status)
