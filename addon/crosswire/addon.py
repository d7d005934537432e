"""The mitmproxy addon: hooks only, no format knowledge.

Per matched flow: the ``request`` hook converts the body and re-routes it with the route's key;
``responseheaders`` redacts that key and, for an SSE answer, streams it through a
:class:`StreamAdapter`; ``response`` converts whole bodies and errors and puts the client's view
back into ``flow.request``/``flow.response``; ``error`` records a failed flow. What the upstream
received and sent is kept in ``flow.metadata["crosswire"]`` (see docs/addon.md).

Flows read from a file (``mitmdump -nr``) are converted again from the upstream response recorded
in their metadata by :func:`reconvert`, which gives the same bytes the live stream gave.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from mitmproxy import ctx, exceptions, http

from . import bodies, contentview, formats, stats
from .convert import StreamConverter
from .events import ToolOrigin, Usage
from .options import THINKING_MODES, Options
from .routes import CREDENTIAL_HEADERS, ConfigError, Route, find_route, load_routes

log = logging.getLogger("crosswire")

MARKER = ":twisted_rightwards_arrows:"
METADATA_KEY = "crosswire"
DEFAULT_RECORD_LIMIT = 8 * 1024 * 1024


def _redacted(name: str) -> str:
    return f"[redacted by crosswire: {name}]"


def _same(data: bytes) -> bytes:
    return data


class _Decoder:
    """Undoes a Content-Encoding chunk by chunk (gzip, deflate, br, zstd; identity passes)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding = encoding.strip().lower()
        self._feed: Callable[[bytes], bytes]
        if encoding in ("", "identity"):
            self._feed = _same
        elif encoding in ("gzip", "x-gzip"):
            self._feed = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
        elif encoding == "deflate":
            self._deflate: Any = None
            self._feed = self._inflate
        elif encoding == "br":
            import brotli

            self._feed = brotli.Decompressor().process
        elif encoding == "zstd":
            self._feed = _zstd_decompressor()
        else:
            raise ValueError(f"unsupported content-encoding {encoding!r}")

    def _inflate(self, data: bytes) -> bytes:
        # "deflate" is zlib-wrapped by the spec, raw deflate in practice often: tell by the first bytes.
        if self._deflate is None:
            wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._deflate = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return self._deflate.decompress(data)

    def feed(self, data: bytes) -> bytes:
        return self._feed(data) if data else b""


def _zstd_decompressor() -> Callable[[bytes], bytes]:
    """mitmproxy 12 ships ``backports.zstd`` (``compression.zstd`` on 3.14), mitmproxy 11 ``zstandard``."""
    try:
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        return zstd.ZstdDecompressor().decompress  # type: ignore[no-any-return]
    except ImportError:
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress  # type: ignore[no-any-return]


class _Tape:
    """A bounded recording of a body."""

    __slots__ = ("buf", "limit", "truncated")

    def __init__(self, limit: int) -> None:
        self.buf = bytearray()
        self.limit = limit
        self.truncated = False

    def add(self, data: bytes) -> None:
        room = self.limit - len(self.buf)
        if len(data) > room:
            self.truncated = True
            data = data[: max(room, 0)]
        self.buf += data


class StreamAdapter:
    """``flow.response.stream`` for a matched SSE answer: decode, convert, record.

    Never raises (an exception there drops the client's connection); never returns ``b""``
    before the end (on HTTP/1.1 chunked that is the last chunk): ``[]`` when nothing is ready.
    Each output frame leaves in the call that completed its input frame.
    ``converter`` None passes the bytes through untouched (identity routes).
    """

    def __init__(
        self, converter: StreamConverter | None, encoding: str, client_format: str, options: Options, record_limit: int
    ) -> None:
        self.converter = converter
        self.client_format = client_format
        self.options = options
        self.upstream = _Tape(record_limit)  # decoded, as the converter read it (raw for identity)
        self.undecoded = _Tape(record_limit)  # raw, from the first chunk that could not be decoded on
        self.client = _Tape(record_limit)
        self.ended = False
        self.failed: str | None = None
        self.first_token_at: float | None = None  # when the first content passed (identity: the first bytes)
        self._decoder: _Decoder | None = None
        self._decoder_error = ""
        if converter is not None:
            try:
                self._decoder = _Decoder(encoding)
            except ValueError as exc:
                self._decoder_error = str(exc)

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        out = b""
        try:
            if self.converter is None:
                self.upstream.add(data)
                out = data
                if data and self.first_token_at is None:
                    self.first_token_at = time.time()
            else:
                out = self._convert(data)
        except Exception as exc:  # any failure becomes an error frame for the client, never a dropped connection
            log.exception("crosswire: internal error in the stream adapter")
            out = self._fail(f"crosswire internal error while converting the stream: {exc!r}")
        if not data:
            self.ended = True
        if out:
            self.client.add(out)
            return out
        return b"" if self.ended else []

    def _convert(self, data: bytes) -> bytes:
        conv = self.converter
        assert conv is not None
        if self.undecoded.buf:  # past a decoding failure: the rest is kept as it came, for the recording
            self.undecoded.add(data)
        if self.failed is not None:  # the end, after a failure that already sent its error frame
            return b""
        if self._decoder is None:
            self.undecoded.add(data)
            return self._fail(f"upstream stream could not be decoded: {self._decoder_error}")
        if not data:
            return conv.close()
        try:
            plain = self._decoder.feed(data)
        except Exception as exc:
            self.undecoded.add(data)
            return self._fail(f"upstream stream could not be decoded ({self._decoder.encoding}): {exc}")
        self.upstream.add(plain)
        out = conv.feed(plain)
        if self.first_token_at is None and conv.content_started:
            self.first_token_at = time.time()
        return out

    def _fail(self, message: str) -> bytes:
        already = self.failed is not None
        self.failed = message
        if already or (self.converter is not None and self.converter.errored):
            return b""
        writer = formats.get(self.client_format).stream_writer(self.options)
        writer.error("api_error", message)
        return b"".join(writer.out)


@dataclass
class _Live:
    """What the addon keeps about a matched flow while it is in flight."""

    route: Route
    flow: http.HTTPFlow
    client_request: http.Request
    include_usage: bool
    warnings: list[str] = field(default_factory=list)
    upstream_request: dict[str, Any] | None = None
    adapter: StreamAdapter | None = None
    upstream_head: tuple[int, str, str, http.Headers] | None = None  # status, reason, version, headers
    answered_locally: bool = False
    model: str = ""  # as sent upstream, for the summary
    usage: Usage | None = None  # of a whole (not streamed) answer, as its conversion read it
    tool_origins: dict[str, ToolOrigin] = field(default_factory=dict)  # from the request conversion

    def options(self, resp: http.Response) -> Options:
        return self.route.options(
            created=_created(resp, self.flow.request), include_usage=self.include_usage, tool_origins=self.tool_origins
        )

    def warn(self, warnings: list[str]) -> None:
        """Keep and log (once each, one line each) what could not be carried over."""
        for warning in warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)
                log.warning("crosswire: %s: %s", self.route.name, warning)


def _headers_list(headers: http.Headers) -> list[list[str]]:
    return [[k, v] for k, v in headers.items(multi=True)]


def _request_view(req: http.Request, body: bytes, truncated: bool = False) -> dict[str, Any]:
    return {
        "method": req.method,
        "url": req.url,
        "http_version": req.http_version,
        "headers": _headers_list(req.headers),
        "body": body,
        "truncated": truncated,
    }


def _include_usage(route: Route, client_body: bytes | None) -> bool:
    """Whether the client asked for usage in the answer (its format decides how a request says so)."""
    try:
        body = orjson.loads(client_body or b"")
    except orjson.JSONDecodeError:
        body = None
    return formats.get(route.client_format).client_wants_usage(body)


def _created(resp: http.Response, req: http.Request) -> int:
    return int(resp.timestamp_start or req.timestamp_start or time.time())


def strip_credentials(route: Route, headers: http.Headers) -> None:
    """Remove every client credential and every header that belongs to the client's provider."""
    provider_headers = formats.FORMATS.provider_header_prefixes
    for name in list(headers.keys()):
        low = name.lower()
        foreign = low.startswith(provider_headers) and not route.identity
        if low in CREDENTIAL_HEADERS or foreign or low in ("openai-organization", "openai-project"):
            del headers[name]


def _set_credential(route: Route, headers: http.Headers) -> None:
    if not route.api_key:
        return
    fmt = formats.get(route.upstream_format)
    if route.api_key_header == fmt.auth_header:
        name, value = fmt.credential(route.api_key)
    elif route.api_key_header == "authorization":
        name, value = "authorization", f"Bearer {route.api_key}"
    else:  # x-api-key, api-key (Azure OpenAI): the bare key
        name, value = route.api_key_header, route.api_key
    headers[name] = value


def redact(route: Route, headers: http.Headers) -> None:
    """Replace the route's key wherever it is in ``headers`` (before anything can be saved)."""
    if not route.api_key:
        return
    for name, value in list(headers.items(multi=True)):
        if route.api_key in value:
            headers.set_all(name, [_redacted("$" + route.api_key_env)])


def _redact_client(headers: http.Headers) -> None:
    """The client's own credentials are not kept in the recording either (replay ignores headers)."""
    for name in list(headers.keys()):
        if name.lower() in CREDENTIAL_HEADERS:
            headers[name] = _redacted("client credential")


def _client_headers(route: Route, upstream: http.Headers, content_type: str) -> http.Headers:
    headers = upstream.copy()
    for name in ("content-length", "content-encoding", "transfer-encoding"):
        headers.pop(name, None)
    headers["content-type"] = content_type
    upstream_id, client_id = (formats.get(f).request_id_header for f in (route.upstream_format, route.client_format))
    rid = upstream.get(upstream_id) if upstream_id else None
    if rid and client_id and not route.identity:
        headers[client_id] = rid
    return headers


def _is_sse(headers: http.Headers) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"


def convert_body(
    route: Route, status: int, headers: http.Headers, body: bytes, options: Options
) -> tuple[int, http.Headers, bytes, list[str], Usage]:
    """A whole upstream answer (decoded body) -> what the client gets: status, headers, body, warnings,
    and the canonical usage the upstream reported.

    The live response hook and :func:`reconvert` both go through here (and an SSE body through the
    same :class:`StreamConverter` the live stream used), so a recording converts to the same bytes.
    """
    src, dst = route.upstream_format, route.client_format
    try:
        if status >= 400:
            conv = bodies.convert_error(src, dst, body, status, options)
        elif _is_sse(headers):
            stream = StreamConverter(src, dst, options)
            out = stream.feed(body) + stream.close()
            headers = _client_headers(route, headers, "text/event-stream")
            return status, headers, out, list(stream.warnings), dict(stream.usage)
        else:
            conv = bodies.convert_response(src, dst, body, options)
    except Exception as exc:
        log.exception("crosswire: could not convert the %s response", src)
        conv = bodies.error_body(dst, "api_error", f"crosswire could not convert the upstream {src} response: {exc}")
        conv.status = 502
    headers = _client_headers(route, headers, "application/json")
    return conv.status, headers, orjson.dumps(conv.body), conv.warnings, conv.usage


class Crosswire:
    """Options are declared in ``load``, parsed once in ``configure``; hooks only apply them."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.record_limit = DEFAULT_RECORD_LIMIT
        self.summary: stats.Summary | None = None  # kept only when crosswire_summary names a file
        self._live: dict[str, _Live] = {}

    def load(self, loader: Any) -> None:
        contentview.register()  # the "LLM stream" view of SSE bodies in mitmweb, mitmproxy and mitmdump
        loader.add_option(
            "crosswire_config", str | None, None, "Path to a TOML routes file (see docs/addon.md for the format)."
        )
        loader.add_option(
            "crosswire_route",
            Sequence[str],
            [],
            "A route 'MATCH -> UPSTREAM', e.g. 'https://api.openai.com/v1/chat/completions -> "
            "https://api.anthropic.com/v1/messages'. Repeatable; config-file routes come first, first match wins.",
        )
        loader.add_option(
            "crosswire_thinking",
            str,
            "reasoning_content",
            "Default for routes that set no 'thinking': how thinking reaches an openai-chat client.",
            choices=THINKING_MODES,
        )
        loader.add_option(
            "crosswire_record_limit",
            int,
            DEFAULT_RECORD_LIMIT,
            "Bytes of each streamed body (upstream and client side) kept in the flow for recording (-w); "
            "0 keeps none. Longer bodies are cut and marked truncated.",
        )
        loader.add_option("crosswire_debug", bool, False, "Log every converted flow and its warnings.")
        loader.add_option(
            "crosswire_summary",
            str,
            "",
            "Keep usage per route and model (requests, errors by status, tokens, time to first token, warnings) "
            "and write it to this JSON file when mitmproxy exits (crosswire run and proxy print it).",
        )

    def configure(self, updated: set[str]) -> None:
        if not any(name.startswith("crosswire_") for name in updated):
            return
        opts = ctx.options
        if opts.crosswire_record_limit < 0:
            raise exceptions.OptionsError("crosswire_record_limit: must be 0 or a positive number of bytes")
        self.record_limit = opts.crosswire_record_limit
        if "crosswire_summary" in updated:
            self.summary = stats.Summary() if opts.crosswire_summary else None
        try:
            self.routes = load_routes(
                opts.crosswire_config, list(opts.crosswire_route), thinking=opts.crosswire_thinking
            )
        except ConfigError as exc:
            raise exceptions.OptionsError(str(exc)) from None
        for route in self.routes:
            log.info("crosswire: %s", route.describe())

    def running(self) -> None:
        if not self.routes:
            log.info("crosswire: no route configured, so no flow is touched (set crosswire_route or crosswire_config)")

    def _debug(self, msg: str, *args: object) -> None:
        log.log(logging.INFO if ctx.options.crosswire_debug else logging.DEBUG, "crosswire: " + msg, *args)

    # --- live flows -------------------------------------------------------------------------

    def request(self, flow: http.HTTPFlow) -> None:
        if not flow.live or flow.response is not None or not self.routes:
            return  # read from a file (converted in `response`) or answered by another addon
        req = flow.request
        route = find_route(self.routes, req.method, req.scheme, req.host, req.port, req.path)
        if route is None:
            return
        client_request = req.copy()
        _redact_client(client_request.headers)
        body = req.get_content(strict=False) or b""
        live = _Live(route, flow, client_request, _include_usage(route, body))
        self._live[flow.id] = live
        upstream_model, upstream_stream = "", False
        if route.identity and self.summary is not None:
            live.model = stats.request_model(body)
        if not route.identity:
            try:
                conv = bodies.convert_request(
                    route.client_format, route.upstream_format, body, route.options(), path=req.path
                )
            except bodies.RequestRejected as exc:
                self._answer(flow, live, 400, "invalid_request_error", exc.message, exc.param)
                return
            except Exception as exc:
                log.exception("crosswire: internal error converting a %s request", route.client_format)
                self._answer(flow, live, 500, "api_error", f"crosswire could not convert the request: {exc!r}")
                return
            live.warn(conv.warnings)
            live.tool_origins = conv.tool_origins
            upstream_model, upstream_stream = conv.model, conv.stream
            live.model = conv.model
            req.headers.pop("content-encoding", None)
            req.content = orjson.dumps(conv.body)
            req.headers["content-type"] = "application/json"
        path = route.upstream_path(req.path, upstream_model, upstream_stream)
        req.url = f"{route.upstream.scheme}://{route.upstream.authority}{path}"
        req.host_header = route.upstream.authority
        strip_credentials(route, req.headers)
        for name, value in route.headers.items():
            req.headers[name] = value
        _set_credential(route, req.headers)
        if not route.identity:
            req.headers["accept-encoding"] = "identity"  # we decode anyway if the upstream compresses
        if "transfer-encoding" not in req.headers:
            req.headers["content-length"] = str(len(req.raw_content or b""))
        self._debug("%s: %s %s -> %s", route.name, req.method, client_request.url, req.url)

    def _answer(
        self, flow: http.HTTPFlow, live: _Live, status: int, type: str, message: str, param: str | None = None
    ) -> None:
        """Answer the client directly in its own format; the upstream is never contacted."""
        err = bodies.error_body(live.route.client_format, type, message, param)
        live.answered_locally = True
        live.warnings.append(message)
        flow.response = http.Response.make(
            err.status or status, orjson.dumps(err.body), {"content-type": "application/json"}
        )
        log.warning("crosswire: %s: request rejected: %s", live.route.name, message)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        live = self._live.get(flow.id)
        if live is None or flow.response is None:
            return
        route = live.route
        redact(route, flow.request.headers)  # the request has been sent: from here on it may be saved
        if live.answered_locally:
            return
        resp = flow.response
        live.upstream_request = _request_view(flow.request, flow.request.raw_content or b"")
        live.upstream_head = (resp.status_code, resp.reason, resp.http_version, resp.headers.copy())
        if not (_is_sse(resp.headers) and 200 <= resp.status_code < 300):
            return  # converted whole in `response`
        options = live.options(resp)
        if route.identity:
            live.adapter = StreamAdapter(None, "", route.client_format, options, self.record_limit)
        else:
            encoding = resp.headers.get("content-encoding", "")
            conv = StreamConverter(route.upstream_format, route.client_format, options)
            live.adapter = StreamAdapter(conv, encoding, route.client_format, options, self.record_limit)
            resp.headers = _client_headers(route, resp.headers, "text/event-stream")
            if resp.http_version.startswith("HTTP/1"):
                resp.headers["transfer-encoding"] = "chunked"
        resp.stream = live.adapter

    def response(self, flow: http.HTTPFlow) -> None:
        live = self._live.pop(flow.id, None)
        if live is None:
            if not flow.live and flow.response is not None:
                reconvert(flow, self.routes)
            return
        redact(live.route, flow.request.headers)
        if live.answered_locally:
            self._finish(flow, live, None, streamed=False)
            return
        resp = flow.response
        assert resp is not None
        route = live.route
        adapter = live.adapter
        if adapter is not None:
            live.warn(adapter.converter.warnings if adapter.converter else [])
            if adapter.failed:
                live.warnings.append(adapter.failed)
            resp.raw_content = bytes(adapter.client.buf)
            upstream_body, truncated = bytes(adapter.upstream.buf), adapter.upstream.truncated
        else:
            upstream_body, truncated = resp.get_content(strict=False) or b"", False
            if not route.identity:
                status, headers, body, warnings, live.usage = convert_body(
                    route, resp.status_code, resp.headers, upstream_body, live.options(resp)
                )
                resp.status_code, resp.headers, resp.raw_content = status, headers, body
                resp.headers["content-length"] = str(len(body))
                live.warn(warnings)
        self._finish(
            flow, live, self._upstream_response(live, resp, upstream_body, truncated), streamed=adapter is not None
        )

    def error(self, flow: http.HTTPFlow) -> None:
        live = self._live.pop(flow.id, None)
        if live is None:
            return
        redact(live.route, flow.request.headers)
        message = flow.error.msg if flow.error else "unknown error"
        if live.adapter is not None and live.adapter.converter is not None:
            live.warn(live.adapter.converter.warnings)  # what the stream had said before it broke
        live.warnings.append(f"flow failed: {message}")
        upstream = None
        if flow.response is not None and live.upstream_head is not None:
            adapter = live.adapter
            body, truncated = (bytes(adapter.upstream.buf), adapter.upstream.truncated) if adapter else (b"", False)
            if adapter is not None:
                flow.response.raw_content = bytes(adapter.client.buf)
            upstream = self._upstream_response(live, flow.response, body, truncated)
        if live.upstream_request is None:  # failed before any response: the request view is still ours to take
            live.upstream_request = _request_view(flow.request, flow.request.raw_content or b"")
        self._finish(flow, live, upstream, streamed=live.adapter is not None)
        log.warning("crosswire: %s: %s %s failed: %s", live.route.name, flow.request.method, flow.request.url, message)

    def done(self) -> None:
        contentview.unregister()
        if self.summary is not None:
            stats.write(ctx.options.crosswire_summary, self.summary)
        # Flows still in flight are written by the Save addon at shutdown: no key may be in them.
        for live in self._live.values():
            redact(live.route, live.flow.request.headers)
        self._live.clear()

    def _upstream_response(self, live: _Live, resp: http.Response, body: bytes, truncated: bool) -> dict[str, Any]:
        status, reason, version, headers = live.upstream_head or (
            resp.status_code,
            resp.reason,
            resp.http_version,
            resp.headers,
        )
        return {
            "status_code": status,
            "reason": reason,
            "http_version": version,
            "headers": _headers_list(headers),
            "body": body,
            "content_encoding": headers.get("content-encoding", ""),
            "truncated": truncated,
            # still content-encoded: what arrived from the first chunk that could not be decoded on
            "undecoded": bytes(live.adapter.undecoded.buf) if live.adapter else b"",
        }

    def _finish(self, flow: http.HTTPFlow, live: _Live, upstream: dict[str, Any] | None, streamed: bool) -> None:
        """Put the client's view in flow.request/flow.response; the upstream's in metadata."""
        route = live.route
        upstream_request = live.upstream_request
        if upstream_request is not None:
            upstream_request["headers"] = [
                [k, _redacted("$" + route.api_key_env) if route.api_key and route.api_key in v else v]
                for k, v in upstream_request["headers"]
            ]
        flow.request = live.client_request
        flow.metadata[METADATA_KEY] = {
            "version": 1,
            "route": route.name,
            "client_format": route.client_format,
            "upstream_format": route.upstream_format,
            "streamed": streamed,
            "warnings": list(live.warnings),
            "upstream_request": upstream_request,
            "upstream_response": upstream,
            "client_body_truncated": bool(live.adapter and live.adapter.client.truncated),
            "error": flow.error.msg if flow.error else None,
            "tool_origins": {k: [o.name, o.namespace, o.kind] for k, o in live.tool_origins.items()},
        }
        flow.marked = MARKER
        flow.comment = f"crosswire {route.name}: {route.client_format} -> {route.upstream_format}" + (
            " (answered by crosswire)" if live.answered_locally else ""
        )
        self._debug("%s", flow.comment)  # the comment names the route already
        if self.summary is not None:
            self.summary.add(_flow_stats(flow, live, upstream))


def _flow_stats(flow: http.HTTPFlow, live: _Live, upstream: dict[str, Any] | None) -> stats.FlowStats:
    """What the summary keeps of a finished flow, from what the conversion already read."""
    adapter, route = live.adapter, live.route
    if live.answered_locally:
        status: int | None = flow.response.status_code if flow.response else None
    else:
        status = upstream["status_code"] if upstream else None
    stream_failed = False
    if adapter is not None:
        conv = adapter.converter
        # a client that hangs up after the whole answer (its SDK saw the end) is no failure of the stream
        cut = flow.error is not None and not (conv is not None and conv.complete)
        stream_failed = bool(adapter.failed) or (conv is not None and conv.errored) or cut
    usage: Usage = {}
    if adapter is not None and adapter.converter is not None:
        usage = adapter.converter.usage
    elif live.usage is not None:
        usage = live.usage
    elif route.identity and upstream and status is not None and status < 400:  # passed unchanged: read it once
        usage = stats.upstream_usage(route.upstream_format, upstream["body"], streamed=adapter is not None)
    started = live.client_request.timestamp_end
    ttft = adapter.first_token_at - started if adapter and adapter.first_token_at and started else None
    return stats.FlowStats(
        route=route.name,
        model=live.model,
        error=stats.error_key(status, answered_locally=live.answered_locally, stream_failed=stream_failed),
        usage=dict(usage),
        ttft=ttft,
        warnings=list(live.warnings),
    )


def reconvert(flow: http.HTTPFlow, routes: list[Route]) -> bool:
    """Convert a recorded flow again (``mitmdump -nr in.flow -s mitm.py -w out.flow``).

    A flow crosswire recorded carries the upstream's answer in its metadata: it is converted for
    the route that matches the client request, with the options taken from the recording, so the
    result is byte for byte what the live converter produced. Returns whether the flow changed.
    """
    md = flow.metadata.get(METADATA_KEY)
    if not isinstance(md, dict) or flow.response is None:
        return False
    up = md.get("upstream_response")
    if not isinstance(up, dict):
        return False
    req = flow.request
    route = find_route(routes, req.method, req.scheme, req.host, req.port, req.path)
    if route is None or route.identity:
        return False
    if route.upstream_format != md.get("upstream_format"):
        log.warning(
            "crosswire: %s: recorded upstream speaks %s, the route expects %s: flow left as it is",
            route.name,
            md.get("upstream_format"),
            route.upstream_format,
        )
        return False
    headers = http.Headers([(k.encode(), v.encode()) for k, v in up["headers"]])
    origins = {k: ToolOrigin(*v) for k, v in (md.get("tool_origins") or {}).items()}
    options = route.options(
        created=_created(flow.response, req), include_usage=_include_usage(route, req.raw_content), tool_origins=origins
    )
    status, out_headers, body, warnings, _ = convert_body(route, up["status_code"], headers, up["body"], options)
    flow.response.status_code = status
    flow.response.headers = out_headers
    flow.response.raw_content = body
    if not md.get("streamed"):
        flow.response.headers["content-length"] = str(len(body))
    md.update(route=route.name, client_format=route.client_format, warnings=warnings)
    flow.marked = MARKER
    flow.comment = f"crosswire {route.name}: {route.client_format} -> {route.upstream_format} (reconverted)"
    return True
