"""The mitmproxy addon: hooks only, no format knowledge.

Per flow a route owns (:meth:`crosswire.routes.Route.target`):

- ``requestheaders`` decides, before mitmproxy can stream a body past the addon, and from then on
  the flow's bodies stay whole (:class:`_BodyGuard`: ``stream_large_bodies`` cannot stream them);
- ``request`` converts the body, or answers the client itself (a sub-endpoint, the models list, a
  WebSocket upgrade, anything that fails), and re-routes the request with an allow-list of headers;
- :class:`_KeyCarrier`, the last addon in mitmproxy's chain, sets the route's key only after every
  other addon and mitmweb's view have seen the request, and only if it still goes to the route's
  upstream: a matched flow that is not ready is answered locally, never sent anywhere else;
- ``responseheaders`` takes the key back out (it has been sent), redacts it from the answer and, for
  an SSE answer, streams it through a :class:`StreamAdapter` with the client's own framing;
- ``response`` converts whole bodies, errors and mismatched shapes, and puts the client's view
  back into ``flow.request``/``flow.response``; ``error`` records a failed flow and, for an HTTP/1.0
  client whose stream the upstream cut, resets the connection so the cut is never a clean end.

What the upstream received and sent is kept in ``flow.metadata["crosswire"]`` (see record.py).
Flows read from a file (``mitmdump -nr``) are converted again by :func:`reconvert`.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from mitmproxy import ctx, exceptions, http

from . import bodies, contentview, formats, logs, policy, record, stats
from .convert import StreamConverter
from .decoding import Decoder
from .events import ToolOrigin, Usage
from .options import THINKING_MODES, Options
from .record import DEFAULT_RECORD_LIMIT, METADATA_KEY, Tape
from .routes import ConfigError, Route, Target, find_route, find_target, load_routes

log = logging.getLogger("crosswire")

MARKER = ":twisted_rightwards_arrows:"
__all__ = ["DEFAULT_RECORD_LIMIT", "METADATA_KEY", "Crosswire", "StreamAdapter", "convert_body", "reconvert"]

# How a refused WebSocket upgrade is answered: the status OpenAI Codex CLI takes as "no WebSocket
# here" and falls back to HTTPS for at once (docs/addon.md, "WebSocket upgrades").
WEBSOCKET_REFUSED = 426
LOCAL_STATUS = {"stored": 404, "not_found": 404, "unsupported": 501}
OPTIONS = frozenset(
    {"crosswire_config", "crosswire_route", "crosswire_thinking", "crosswire_record_limit", "crosswire_summary"}
)


class _WithoutStreaming:
    """mitmproxy's options as one HTTP stream sees them, less ``stream_large_bodies``."""

    def __init__(self, options: Any) -> None:
        self._options = options

    def __getattr__(self, name: str) -> Any:
        return None if name == "stream_large_bodies" else getattr(self._options, name)


class _BodyGuard:
    """Keeps the bodies of the flows crosswire owns whole, whatever ``stream_large_bodies`` says.

    mitmproxy decides to stream a body that grows past ``stream_large_bodies`` in the middle of
    it, in ``HttpStream.check_body_size``, and then sends a request to its destination before the
    ``request`` hook (or a raw answer to the client before ``response``); no hook comes between.
    So crosswire wraps that method: for a flow it owns, the stream sees the option unset (the
    ``body_size_limit`` still applies). Every other flow is checked exactly as before.
    """

    def __init__(self, owns: Any) -> None:
        self._owns = owns
        self._original: Any = None

    def install(self) -> None:
        from mitmproxy.proxy.layers.http import HttpStream

        if self._original is not None:
            return
        original = self._original = HttpStream.check_body_size
        owns = self._owns

        def check_body_size(stream: Any, request: bool) -> Any:
            options = stream.context.options
            if options.stream_large_bodies and owns(stream.flow):
                stream.context.options = _WithoutStreaming(options)  # this stream's own context, from now on
            return (yield from original(stream, request))

        check_body_size.__wrapped__ = original  # type: ignore[attr-defined]
        HttpStream.check_body_size = check_body_size  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        from mitmproxy.proxy.layers.http import HttpStream

        if self._original is not None and getattr(HttpStream.check_body_size, "__wrapped__", None) is self._original:
            HttpStream.check_body_size = self._original  # type: ignore[method-assign,assignment]
        self._original = None


class StreamAdapter:
    """``flow.response.stream`` for a matched SSE answer: decode, convert, redact, record.

    Never raises (an exception there drops the client's connection); never returns ``b""``
    before the end (on HTTP/1.1 chunked that is the last chunk): ``[]`` when nothing is ready.
    Each output frame leaves in the call that completed its input frame. ``converter`` None passes
    the (decoded) bytes through (identity routes). ``secret``: the route's key, replaced by
    ``mark`` wherever the upstream echoed it.

    What a stream needs is decided once, here: the common case (nothing to decode, no failure so
    far) is one branch of ``__call__``; decoding, failures and the end take :meth:`_careful`.
    """

    __slots__ = (
        "_decoder",
        "_decoder_error",
        "_feed",
        "_lean",
        "_mark",
        "_record",
        "_search",
        "_tail",
        "client",
        "client_format",
        "converter",
        "ended",
        "failed",
        "first_token_at",
        "options",
        "undecoded",
        "upstream",
    )

    def __init__(
        self,
        converter: StreamConverter | None,
        encoding: str,
        client_format: str,
        options: Options,
        record_limit: int,
        secret: str = "",
        label: str = "",
    ) -> None:
        self.converter = converter
        self.client_format = client_format
        self.options = options
        self.upstream = Tape(record_limit)  # decoded, as the converter read it
        self.undecoded = Tape(record_limit)  # raw, from the first chunk that could not be decoded on
        self.client = Tape(record_limit)
        # No recording (limit 0): the tapes are not called at all, and say from the start that
        # they kept nothing of the body (a flow saved anyway cannot pass for a complete recording).
        self._record = record_limit > 0
        if not self._record:
            self.upstream.truncated = self.client.truncated = True
        self.ended = False
        self.failed: str | None = None
        self.first_token_at: float | None = None  # when the first content passed (identity: the first bytes)
        self._decoder: Decoder | None = None
        self._decoder_error = ""
        self._mark = policy.redacted(label).encode()
        # An identity stream arrives cut anywhere, so a key may straddle two chunks; converted
        # output is whole frames, where one search per call is enough.
        self._tail = policy.StreamRedactor(secret, label) if secret and converter is None else None
        self._search = secret.encode() if secret and converter is not None else b""
        try:
            self._decoder = Decoder(encoding)
        except ValueError as exc:
            self._decoder_error = str(exc)
        self._feed: Any = converter.feed if converter is not None else (self._tail.feed if self._tail else bytes)
        # Nothing to undo and no failure yet: chunks go straight to the converter (or through).
        self._lean = self._decoder is not None and not self.decodes

    @property
    def decodes(self) -> bool:
        """Whether the client gets decoded bytes (the upstream compressed its stream)."""
        return self._decoder is None or self._decoder.encoding not in ("", "identity")

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        if self._lean and data:
            try:  # _through, inline: this is the call per chunk
                if self._record:  # Tape.add without a call while the chunk fits (see Tape)
                    tape = self.upstream
                    if len(data) <= tape.room and type(data) is bytes:
                        tape.room -= len(data)
                        tape.parts.append(data)
                    else:
                        tape.add(data)
                out = self._feed(data)
                if self.first_token_at is None:
                    self._first_token()
            except Exception as exc:  # any failure becomes an error frame for the client, never a dropped connection
                out = self._internal_error(exc)
        else:
            out = self._careful(data)
        if out:
            search = self._search
            if search and search in out:
                out = out.replace(search, self._mark)
            if self._record:
                tape = self.client
                if len(out) <= tape.room and type(out) is bytes:
                    tape.room -= len(out)
                    tape.parts.append(out)
                else:
                    tape.add(out)
            return out
        return b"" if self.ended else []

    def _through(self, plain: bytes) -> bytes:
        """Decoded upstream bytes: recorded, converted (or passed through, the key held back)."""
        if self._record:
            self.upstream.add(plain)
        out: bytes = self._feed(plain)
        if self.first_token_at is None:
            self._first_token()
        return out

    def _first_token(self) -> None:
        if self.converter is None or self.converter.content_started:
            self.first_token_at = time.time()

    def _careful(self, data: bytes) -> bytes:
        """The rest: the end of the stream, a compressed stream, and anything after a failure."""
        try:
            if self.failed is not None:  # after a failure that already sent its error frame
                if data and len(self.undecoded):  # past a decoding failure: the rest is kept as it came
                    self.undecoded.add(data)
                out = b""
            elif not data:
                out = self.converter.close() if self.converter else (self._tail.close() if self._tail else b"")
            elif self._decoder is None:
                out = self._undecodable(data, self._decoder_error)
            else:
                out = self._decode(data, self._decoder)
        except Exception as exc:
            out = self._internal_error(exc)
        if not data:
            self.ended = True
        return out

    def _decode(self, data: bytes, decoder: Decoder) -> bytes:
        try:
            plain = decoder.feed(data)
        except Exception as exc:
            return self._undecodable(data, f"({decoder.encoding}) {exc}")
        return self._through(plain) if plain else b""

    def _internal_error(self, exc: Exception) -> bytes:
        log.exception("crosswire: internal error in the stream adapter")
        return self._fail(f"crosswire internal error while converting the stream: {exc!r}")

    def _undecodable(self, data: bytes, reason: str) -> bytes:
        self.undecoded.add(data)  # kept as it came, for the recording
        return self._fail(f"upstream stream could not be decoded: {reason}")

    def _fail(self, message: str) -> bytes:
        already = self.failed is not None
        self.failed = message
        self._lean = False
        if already or (self.converter is not None and self.converter.errored):
            return b""
        writer = formats.get(self.client_format).stream_writer(self.options)
        writer.error("api_error", message)
        return b"".join(writer.out)


@dataclass
class _Live:
    """What the addon keeps about a flow a route owns while it is in flight."""

    target: Target | None  # None: deciding failed (answered with an error in ``error_format``)
    flow: http.HTTPFlow
    client_version: str
    error_format: str
    client_request: http.Request | None = None
    client_stream: bool | None = None  # whether the client asked for a stream (None: not known)
    include_usage: bool = True
    warnings: list[str] = field(default_factory=list)
    upstream_request: dict[str, Any] | None = None
    adapter: StreamAdapter | None = None
    upstream_head: tuple[int, str, str, list[tuple[str, str]]] | None = None  # status, reason, version, headers
    answered_by: str | None = None  # "crosswire" or "another addon": no request left for the upstream
    ready: bool = False  # converted and re-routed: the key carrier may send it
    key_sent: bool = False
    failed: str | None = None  # a hook failed after the request left: the client gets this error instead
    tool_origins: dict[str, ToolOrigin] = field(default_factory=dict)  # from the request conversion
    model: str = ""  # as sent upstream, for the summary
    usage: Usage | None = None  # of a whole (not streamed) answer, as its conversion read it

    @property
    def route(self) -> Route | None:
        return self.target.route if self.target else None

    def options(self, route: Route, resp: http.Response) -> Options:
        return route.options(
            created=_created(resp, self.flow.request), include_usage=self.include_usage, tool_origins=self.tool_origins
        )

    def warn(self, warnings: list[str]) -> None:
        """Keep and log (once each, one line each) what could not be carried over."""
        for warning in warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)
                log.warning("crosswire: %s: %s", self.name, warning)

    @property
    def name(self) -> str:
        return self.target.route.name if self.target else "crosswire"


def _flows_kept() -> bool:
    """Whether anything in this mitmproxy could save or show a streamed flow's bodies: true unless it
    is certain that nothing can, which is a mitmdump with no ``-w``/``hardump``, no ``flow_detail``
    that prints bodies, and no addon or script other than mitmproxy's own and crosswire's. mitmweb,
    the console and any other host keep flows in memory."""
    try:
        from mitmproxy.tools.dump import DumpMaster

        master = ctx.master
        options = ctx.options
        if not isinstance(master, DumpMaster):
            return True
        if options.save_stream_file or getattr(options, "hardump", "") or getattr(options, "flow_detail", 0) >= 3:
            return True
        if any(not type(a).__module__.startswith(("mitmproxy.", "crosswire.")) for a in master.addons.chain):
            return True
        loader = master.addons.get("scriptloader")
        here = Path(__file__).resolve().parent
        return any(Path(script.fullpath).resolve().parent != here for script in getattr(loader, "addons", []))
    except Exception:
        return True


def _include_usage(route: Route, client_body: bytes | None) -> bool:
    """Whether the client asked for usage in the answer (its format decides how a request says so)."""
    try:
        body = orjson.loads(client_body or b"")
    except orjson.JSONDecodeError:
        body = None
    return formats.get(route.client_format).client_wants_usage(body)


def _created(resp: http.Response, req: http.Request) -> int:
    return int(resp.timestamp_start or req.timestamp_start or time.time())


def _pairs(headers: http.Headers) -> list[tuple[str, str]]:
    return list(headers.items(multi=True))


def _headers(pairs: Sequence[tuple[str, str]]) -> http.Headers:
    out = http.Headers()
    for name, value in pairs:
        out.add(name, value)
    return out


def _is_sse(headers: http.Headers) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"


def _format_for_path(path: str) -> str:
    """The format to answer in when no route could be told: the path's, or the first registered."""
    fmt = formats.FORMATS.for_path(path)
    return fmt.name if fmt else formats.FORMATS.names[0]


def _is_upgrade(req: http.Request) -> bool:
    return "websocket" in req.headers.get("upgrade", "").lower()


def _client_headers(route: Route, upstream: http.Headers, content_type: str, redactor: policy.Redactor) -> http.Headers:
    headers = _headers(redactor.headers(_pairs(upstream)))
    for name in policy.HOP_HEADERS:
        headers.pop(name, None)
    headers["content-type"] = content_type
    upstream_id, client_id = (formats.get(f).request_id_header for f in (route.upstream_format, route.client_format))
    rid = upstream.get(upstream_id) if upstream_id else None
    if rid and client_id and not route.identity:
        headers[client_id] = redactor.text(rid)
    return headers


def _frame_for_client(headers: http.Headers, client_version: str) -> None:
    set_, remove = policy.client_framing(client_version)
    for name in remove:
        headers.pop(name, None)
    for name, value in set_.items():
        headers[name] = value


def convert_body(
    route: Route,
    status: int,
    headers: http.Headers,
    body: bytes,
    options: Options,
    client_stream: bool | None = None,
    redactor: policy.Redactor | None = None,
) -> tuple[int, http.Headers, bytes, list[str], Usage]:
    """A whole upstream answer (decoded body) -> what the client gets: status, headers, body,
    warnings, and the canonical usage the upstream reported.

    The answer takes the shape the client asked for (``client_stream``; None: the upstream's):
    a JSON answer to a stream request becomes a stream, a stream to a plain request one JSON body,
    an HTTP 2xx whose body is an error an error. The live response hook and :func:`reconvert`
    both go through here (and an SSE body through the same :class:`StreamConverter` the live
    stream used), so a recording converts to the same bytes.
    """
    redactor = redactor or policy.Redactor({})
    src, dst = route.upstream_format, route.client_format
    try:
        error_status = bodies.error_status(src, body) if status < 400 and not _is_sse(headers) else None
        if status >= 400 or error_status is not None:
            conv = bodies.convert_error(src, dst, body, status if status >= 400 else error_status or 502, options)
        elif _is_sse(headers) and client_stream is not False:
            stream = StreamConverter(src, dst, options)
            out = stream.feed(body) + stream.close()
            client = _client_headers(route, headers, "text/event-stream", redactor)
            return status, client, redactor.bytes(out), list(stream.warnings), dict(stream.usage)
        elif _is_sse(headers):
            conv = bodies.stream_to_response(src, dst, body, options)
        elif client_stream:
            out, warnings, usage = bodies.response_to_stream(src, dst, body, options)
            client = _client_headers(route, headers, "text/event-stream", redactor)
            return status, client, redactor.bytes(out), warnings, usage
        else:
            conv = bodies.convert_response(src, dst, body, options)
    except Exception as exc:
        log.exception("crosswire: could not convert the %s response", src)
        conv = bodies.error_body(dst, "api_error", f"crosswire could not convert the upstream {src} response: {exc}")
        conv.status = 502
    client = _client_headers(route, headers, "application/json", redactor)
    return conv.status, client, redactor.bytes(orjson.dumps(conv.body)), conv.warnings, conv.usage


def _serialise(body: dict[str, Any]) -> bytes:
    """The upstream request body (orjson refuses what it cannot write, e.g. JSON nested too deep)."""
    return orjson.dumps(body)


def _answered_after_us(live: _Live) -> None:
    """An answer to a request crosswire never sent came from an addon after it (server replay,
    map_local): it is the client's already, not an upstream's to convert."""
    if not live.key_sent and not live.answered_by:
        live.answered_by = "another addon"


def _option(name: str) -> Any:
    """A mitmproxy option, None where it is not declared (an addon host without the proxy server)."""
    try:
        return getattr(ctx.options, name)
    except AttributeError:
        return None


def _scrub(req: http.Request, key: str) -> None:
    """The last resort before a flow can be saved: every credential header, any header holding the
    key and the query string go (the request's own helpers have failed, so none is used here)."""
    for name, value in list(req.headers.items(multi=True)):
        if name.lower() in policy.CREDENTIAL_HEADERS or (key and key in value):
            req.headers.pop(name, None)
    req.path = req.path.split("?", 1)[0]


def _fallback_error(message: str) -> bytes:
    """An error body when even the client format's writer failed: the OpenAI envelope, plain."""
    return orjson.dumps({"error": {"message": message, "type": "api_error", "param": None, "code": None}})


class _KeyCarrier:
    """The last addon in mitmproxy's chain: it sends a matched request on its way.

    It sets the route's key in mitmproxy's ``update`` hook, which runs after the whole ``request``
    hook chain, mitmweb's view included: no addon, no intercept screen and no live update of
    mitmweb ever sees the key. It sets it only on a request crosswire converted and that still
    goes to its route's upstream; any other matched request is answered locally instead. On
    CONNECT to a routed host it also keeps mitmproxy's TLS layer from connecting to that host
    first (``connection_strategy=eager``), which runs in ``tls_clienthello`` after tlsconfig's.
    """

    name = "crosswire_key_carrier"

    def __init__(self, owner: Crosswire) -> None:
        self.owner = owner

    async def request(self, flow: http.HTTPFlow) -> None:
        live = self.owner._live.get(flow.id)
        if live is not None and live.ready and flow.intercepted:
            await flow.wait_for_resume()  # the key waits until the user let the (keyless) request go

    def update(self, flows: Sequence[Any]) -> None:
        for flow in flows:
            live = self.owner._live.get(flow.id)
            if live is not None and live.ready and not live.key_sent:
                try:
                    self.owner._send(flow, live)
                except Exception as exc:
                    log.exception("crosswire: %s: could not send the request", live.name)
                    self.owner._answer(flow, live, 500, "api_error", f"crosswire could not send the request: {exc!r}")

    def tls_clienthello(self, data: Any) -> None:
        try:
            address = data.context.server.address
            if address and self.owner._owns_host(address[0], address[1]):
                data.establish_server_tls_first = False
        except Exception:
            log.exception("crosswire: tls_clienthello")


class Crosswire:
    """Options are declared in ``load``, parsed once in ``configure``; hooks only apply them."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.record_limit = DEFAULT_RECORD_LIMIT
        self.redactor = policy.Redactor({})
        self.summary: stats.Summary | None = None  # kept only when crosswire_summary names a file
        self._live: dict[str, _Live] = {}
        self._carrier = _KeyCarrier(self)
        self._carrier_in_chain = False
        self._guard = _BodyGuard(lambda flow: flow is not None and flow.id in self._live)
        self._running = False
        self._startup_error = ""

    def load(self, loader: Any) -> None:
        contentview.register()  # the "LLM stream" view of SSE bodies in mitmweb, mitmproxy and mitmdump
        try:
            self._guard.install()
        except Exception:
            log.exception("crosswire: cannot keep matched bodies whole under stream_large_bodies")
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
        if not updated & OPTIONS:
            return
        opts = ctx.options
        if "crosswire_summary" in updated:
            self.summary = stats.Summary() if opts.crosswire_summary else None
        warnings: list[str] = []
        try:
            if opts.crosswire_record_limit < 0:
                raise ConfigError("crosswire_record_limit: must be 0 or a positive number of bytes")
            routes = load_routes(
                opts.crosswire_config, list(opts.crosswire_route), thinking=opts.crosswire_thinking, warnings=warnings
            )
        except ConfigError as exc:
            if self._running:  # a change at runtime is refused: the routes in force stay
                raise exceptions.OptionsError(str(exc)) from None
            # At startup one line says what to fix, and mitmproxy exits (its errorcheck addon does,
            # for any error logged before it runs); an OptionsError would come with a traceback.
            self.routes = []
            if str(exc) != self._startup_error:  # mitmproxy may configure more than once while it starts
                self._startup_error = str(exc)
                log.error("crosswire: %s", exc)
            return
        self.record_limit = opts.crosswire_record_limit
        self.routes = routes
        self.redactor = policy.Redactor({r.api_key: "$" + r.api_key_env for r in routes if r.api_key})
        logs.install(self.redactor)
        for route in routes:
            log.info("crosswire: %s", route.describe())
        for warning in warnings:
            log.warning("crosswire: %s", warning)
        self._arrange_connections()

    def _arrange_connections(self) -> None:
        """``connection_strategy=eager`` connects to a flow's destination before any addon can
        re-route it. On CONNECT (regular mode) crosswire skips that for routed hosts itself; the
        other modes connect when the client does, so with routes they need ``lazy``."""
        if not self.routes or _option("connection_strategy") != "eager":
            return
        modes = [spec.split(":", 1)[0] for spec in _option("mode") or ()]
        early = sorted({m for m in modes if m not in ("regular", "upstream")})
        if early:
            ctx.options.connection_strategy = "lazy"
            log.info(
                "crosswire: connection_strategy set to lazy: in %s mode mitmproxy would connect to each client's "
                "destination before crosswire can route its requests elsewhere",
                "/".join(early),
            )

    def running(self) -> None:
        self._running = True
        if not self.routes:
            log.info("crosswire: no route configured, so no flow is touched (set crosswire_route or crosswire_config)")
        try:
            addons = ctx.master.addons
            stale = addons.get(_KeyCarrier.name)
            if stale is not None and stale is not self._carrier:  # a reloaded script's
                addons.remove(stale)
            if stale is not self._carrier:
                addons.add(self._carrier)
            self._carrier_in_chain = True
        except Exception:
            log.exception("crosswire: could not add the key carrier; keys are set in the request hook instead")

    def done(self) -> None:
        contentview.unregister()
        self._guard.uninstall()
        if self.summary is not None:
            try:
                stats.write(ctx.options.crosswire_summary, self.summary)
            except Exception:
                log.exception("crosswire: could not write the summary to %s", ctx.options.crosswire_summary)
        # Flows still in flight are written by the Save addon at shutdown: no key may be in them.
        for live in self._live.values():
            self._forget_key(live.flow, live)
        self._live.clear()
        if self._carrier_in_chain:
            self._carrier_in_chain = False
            try:
                if ctx.master.addons.get(_KeyCarrier.name) is self._carrier:
                    ctx.master.addons.remove(self._carrier)
            except Exception:
                log.debug("crosswire: key carrier already gone", exc_info=True)
        logs.uninstall()

    def _debug(self, msg: str, *args: object) -> None:
        log.log(logging.INFO if ctx.options.crosswire_debug else logging.DEBUG, "crosswire: " + msg, *args)

    def _owns_host(self, host: str, port: int) -> bool:
        return any(r.match.matches_origin(s, host, port) for r in self.routes for s in ("https", "http"))

    # --- live flows: deciding ---------------------------------------------------------------

    def http_connect(self, flow: http.HTTPFlow) -> None:
        """CONNECT to a routed host: answer it without connecting there first (eager strategy)."""
        if not self.routes or flow.response is not None or _option("connection_strategy") != "eager":
            return
        try:
            if self._owns_host(flow.request.host, flow.request.port):
                now = time.time()
                flow.response = http.Response(
                    flow.request.data.http_version, 200, b"Connection established", http.Headers(), b"", None, now, now
                )
        except Exception:
            log.exception("crosswire: http_connect")

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if not self.routes or not flow.live:
            return
        req = flow.request
        target: Target | None = None
        failure: str | None = None
        try:
            target = find_target(self.routes, req.method, req.scheme, req.host, req.port, req.path, _is_upgrade(req))
            if target is None:
                return
        except Exception as exc:  # cannot tell whether a route owns it: fail closed
            log.exception("crosswire: could not match a request against the routes")
            failure = f"crosswire could not match the request against its routes: {exc!r}"
        error_format = target.route.client_format if target else _format_for_path(req.path)
        self._live[flow.id] = _Live(target, flow, req.http_version, error_format, failed=failure)
        req.stream = False  # stream_large_bodies may have set it before this hook; the guard does the rest

    def request(self, flow: http.HTTPFlow) -> None:
        live = self._live.get(flow.id)
        if live is None:
            return
        try:
            if flow.response is not None or flow.error is not None:
                live.answered_by = "another addon"  # answered (or killed) before us: nothing leaves
                return
            live.client_request = self._client_view(flow.request)
            if live.failed or live.target is None:
                self._answer(flow, live, 500, "api_error", live.failed or "crosswire could not handle the request")
            else:
                self._handle(flow, live, live.target)
        except Exception as exc:
            log.exception("crosswire: %s: internal error handling a request", live.name)
            self._answer(flow, live, 500, "api_error", f"crosswire could not handle the request: {exc!r}")
        finally:
            if not live.ready and flow.response is None and flow.error is None:
                self._answer(flow, live, 500, "api_error", "crosswire could not prepare the request for its upstream")
            elif live.ready and not self._carrier_in_chain:
                self._send(flow, live)

    def _client_view(self, req: http.Request) -> http.Request:
        view = req.copy()
        view.headers = _headers(policy.client_view_headers(_pairs(req.headers)))
        path, query = policy.split_path(view.path)
        if query:
            view.path = policy.join_path(path, policy.redact_query(query))
        return view

    def _handle(self, flow: http.HTTPFlow, live: _Live, target: Target) -> None:
        route, kind = target.route, target.kind
        if kind == "generate":
            self._convert_request(flow, live, route)
        elif kind == "forward":
            if self.summary is not None:
                live.model = stats.request_model(flow.request.get_content(strict=False) or b"")
            self._route(flow, live, route, None, route.upstream_path(flow.request.path))
        elif kind == "websocket":
            self._answer(
                flow,
                live,
                WEBSOCKET_REFUSED,
                "invalid_request_error",
                f"crosswire {route.name} does not carry WebSocket connections: use HTTPS (POST {route.endpoint})",
            )
        elif kind == "count_tokens":
            self._count_tokens(flow, live, route)
        elif kind in ("models", "model"):
            self._models(flow, live, route, target)
        else:
            what = target.detail or "this path"
            message = {
                "stored": f"{what}: not available through crosswire {route.name}, which stores nothing "
                f"(its upstream speaks {route.upstream_format})",
                "unsupported": f"{what}: not supported through crosswire {route.name} "
                f"({route.client_format} -> {route.upstream_format})",
            }.get(
                kind,
                f"crosswire {route.name} converts POST {route.endpoint} (and answers the paths under it it "
                f"knows); {flow.request.method} {policy.split_path(flow.request.path)[0]} is not one of them",
            )
            status = LOCAL_STATUS.get(kind, 404)
            self._answer(flow, live, status, "not_found_error" if status == 404 else "api_error", message)

    def _convert_request(self, flow: http.HTTPFlow, live: _Live, route: Route) -> None:
        req = flow.request
        body = req.get_content(strict=False) or b""
        live.include_usage = _include_usage(route, body)
        try:
            conv = bodies.convert_request(
                route.client_format, route.upstream_format, body, route.options(), path=req.path
            )
        except bodies.RequestRejected as exc:
            self._answer(flow, live, 400, "invalid_request_error", exc.message, exc.param)
            return
        live.client_stream = conv.stream
        live.warn(conv.warnings)
        live.tool_origins = conv.tool_origins
        live.model = conv.model
        try:
            payload = _serialise(conv.body)
        except orjson.JSONEncodeError as exc:
            self._answer(
                flow, live, 400, "invalid_request_error", f"the converted request cannot be written as JSON ({exc})"
            )
            return
        self._route(flow, live, route, payload, route.upstream_path(req.path, conv.model, conv.stream))

    def _route(self, flow: http.HTTPFlow, live: _Live, route: Route, payload: bytes | None, path: str) -> None:
        """Point the request at the route's upstream with the headers the policy allows (no key yet)."""
        req = flow.request
        same_format = formats.get(route.client_format).forward_headers if route.identity else frozenset()
        allowed, prefixes = policy.forward_rule(route.forward_headers, same_format)
        pairs = policy.upstream_headers(_pairs(req.headers), allowed, prefixes, route.headers)
        headers = _headers(pairs)
        if payload is not None:
            req.raw_content = payload
            headers["content-type"] = "application/json"
        elif "content-encoding" in req.headers:  # an identity route forwards the body as it came
            headers["content-encoding"] = req.headers["content-encoding"]
        if req.raw_content or req.method.upper() in ("POST", "PUT", "PATCH"):
            headers["content-length"] = str(len(req.raw_content or b""))
        headers["accept-encoding"] = "identity"  # decoded anyway if the upstream compresses
        up = route.upstream
        raw_path, query = policy.split_path(path)
        path = policy.join_path(raw_path, policy.strip_query(query))
        req.headers = headers
        req.scheme, req.host, req.port, req.path = up.scheme, up.host, up.port, path
        req.host_header = up.authority
        live.upstream_request = record.request_view(
            self.redactor,
            req.method,
            f"{up.scheme}://{up.authority}{path}",
            req.http_version,
            _pairs(req.headers),
            req.raw_content or b"",
        )
        live.ready = True
        client_url = live.client_request.url if live.client_request else ""
        self._debug("%s: %s %s -> %s", route.name, req.method, client_url, live.upstream_request["url"])

    def _send(self, flow: http.HTTPFlow, live: _Live) -> None:
        """The last step before a matched request leaves: check where it goes, set the key."""
        if not live.ready or live.key_sent or flow.intercepted:
            return
        if flow.response is not None or flow.error is not None:
            return  # answered or killed after us: nothing leaves
        route = live.route
        assert route is not None
        req, up = flow.request, route.upstream
        try:
            if (req.scheme, req.host, req.port) != (up.scheme, up.host, up.port):
                self._answer(
                    flow,
                    live,
                    502,
                    "api_error",
                    f"another addon sent this request to {req.scheme}://{req.pretty_host}:{req.port}; "
                    f"crosswire {route.name} sends it only to {up}",
                )
                return
            credential = route.credential()
            if credential is not None:
                req.headers[credential[0]] = credential[1]
            live.key_sent = True
        except Exception as exc:
            log.exception("crosswire: %s: could not send the request", route.name)
            self._answer(flow, live, 500, "api_error", f"crosswire could not send the request: {exc!r}")

    def _count_tokens(self, flow: http.HTTPFlow, live: _Live, route: Route) -> None:
        body = flow.request.get_content(strict=False) or b""
        try:
            tokens = bodies.count_tokens(route.client_format, body, route.options())
        except bodies.RequestRejected as exc:
            self._answer(flow, live, 400, "invalid_request_error", exc.message, exc.param)
            return
        write = formats.get(route.client_format).write_token_count
        assert write is not None  # the sub-endpoint exists only where the format can answer it
        self._reply(flow, live, 200, write(tokens))

    def _models(self, flow: http.HTTPFlow, live: _Live, route: Route, target: Target) -> None:
        fmt = formats.get(route.client_format)
        if target.kind == "models":
            self._reply(flow, live, 200, fmt.write_models([fmt.write_model(n) for n in route.model_names()]))
        elif route.knows_model(target.detail):
            self._reply(flow, live, 200, fmt.write_model(target.detail))
        else:
            self._answer(
                flow,
                live,
                404,
                "not_found_error",
                f"model {target.detail!r} is not in crosswire {route.name}'s model_map",
            )

    def _reply(self, flow: http.HTTPFlow, live: _Live, status: int, body: dict[str, Any]) -> None:
        live.answered_by = "crosswire"
        flow.response = http.Response.make(status, orjson.dumps(body), {"content-type": "application/json"})

    def _answer(
        self, flow: http.HTTPFlow, live: _Live, status: int, type: str, message: str, param: str | None = None
    ) -> None:
        """Answer the client directly in its own format; the upstream is never contacted. Never raises."""
        live.answered_by = "crosswire"
        live.ready = False
        message = self.redactor.text(message)
        live.warnings.append(message)
        try:
            err = bodies.error_body(live.error_format, type, message, param, status)
            body, status = orjson.dumps(err.body), err.status
        except Exception:
            log.exception("crosswire: could not write an error in %s", live.error_format)
            body = _fallback_error(message)
        try:
            flow.response = http.Response.make(status, body, {"content-type": "application/json"})
        except Exception:
            log.exception("crosswire: could not answer a matched request: the flow is killed")
            if flow.killable:
                flow.kill()
        log.warning("crosswire: %s: answered by crosswire (%d): %s", live.name, status, message)

    # --- live flows: the answer -------------------------------------------------------------

    def _forget_key(self, flow: http.HTTPFlow, live: _Live) -> None:
        """:meth:`_redact_request`, and if even that fails the request loses its credentials outright."""
        try:
            self._redact_request(flow, live)
        except Exception:
            log.exception("crosswire: %s: could not redact the request: its credentials are removed", live.name)
            _scrub(flow.request, live.route.api_key if live.route else "")

    def _redact_request(self, flow: http.HTTPFlow, live: _Live) -> None:
        """The request has been sent (or never will be): the key goes, before anything can save it."""
        route = live.route
        if route is None or not route.api_key:
            return
        headers = flow.request.headers
        for name, value in list(headers.items(multi=True)):
            if route.api_key in value:
                headers.set_all(name, [self.redactor.text(v) for v in headers.get_all(name)])

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        live = self._live.get(flow.id)
        if live is None or flow.response is None:
            return
        resp = flow.response
        self._forget_key(flow, live)
        try:
            route = live.route
            _answered_after_us(live)
            if live.answered_by or route is None:
                return
            resp.headers = _headers(self.redactor.headers(_pairs(resp.headers)))
            live.upstream_head = (resp.status_code, resp.reason, resp.http_version, _pairs(resp.headers))
            streamed = _is_sse(resp.headers) and 200 <= resp.status_code < 300 and live.client_stream is not False
            if not streamed:
                resp.stream = False  # converted whole in `response`
                return
            options = live.options(route, resp)
            encoding = resp.headers.get("content-encoding", "")
            conv = None if route.identity else StreamConverter(route.upstream_format, route.client_format, options)
            # The tapes cost a little per chunk: kept only when something can save or show the flow.
            keep = _flows_kept() or (route.identity and self.summary is not None)  # identity usage is read from it
            adapter = StreamAdapter(
                conv,
                encoding,
                route.client_format,
                options,
                self.record_limit if keep else 0,
                route.api_key,
                "$" + route.api_key_env,
            )
            if conv is not None:
                headers = _client_headers(route, resp.headers, "text/event-stream", self.redactor)
            else:
                headers = resp.headers.copy()
                if adapter.decodes:
                    headers.pop("content-encoding", None)
            _frame_for_client(headers, live.client_version)
            resp.headers = headers
            live.adapter = adapter
            resp.stream = adapter
        except Exception as exc:
            log.exception("crosswire: %s: internal error at the response headers", live.name)
            live.failed = f"crosswire could not handle the upstream's answer: {exc!r}"
            live.adapter = None
            resp.stream = False

    def response(self, flow: http.HTTPFlow) -> None:
        live = self._live.pop(flow.id, None)
        if live is None:
            if not flow.live and flow.response is not None:
                try:
                    reconvert(flow, self.routes, self.redactor)
                except Exception:
                    log.exception("crosswire: could not convert a recorded flow again: left as it is")
            return
        upstream = None
        self._forget_key(flow, live)
        try:
            _answered_after_us(live)
            if not live.answered_by and live.route is not None:
                upstream = self._convert_answer(flow, live, live.route)
        except Exception as exc:
            log.exception("crosswire: %s: internal error converting the answer", live.name)
            live.failed = f"crosswire could not convert the upstream's answer: {exc!r}"
        if live.failed and live.adapter is None and not live.answered_by:
            self._replace_with_error(flow, live, live.failed)
        self._finish(flow, live, upstream, streamed=live.adapter is not None)

    def _convert_answer(self, flow: http.HTTPFlow, live: _Live, route: Route) -> dict[str, Any]:
        resp = flow.response
        assert resp is not None
        adapter = live.adapter
        if adapter is not None:
            live.warn(adapter.converter.warnings if adapter.converter else [])
            if adapter.failed:
                live.warnings.append(adapter.failed)
            resp.raw_content = adapter.client.buf
            return self._upstream_response(live, resp, adapter.upstream.buf, adapter.upstream.truncated)
        upstream_body = resp.get_content(strict=False) or b""
        upstream = self._upstream_response(live, resp, upstream_body, False)
        if live.failed:
            return upstream
        if route.identity:
            try:
                plain = resp.get_content(strict=True) or b""
            except ValueError:  # an encoding mitmproxy cannot undo: passed on as it came
                resp.raw_content = self.redactor.bytes(resp.raw_content or b"")
            else:
                resp.headers.pop("content-encoding", None)
                resp.raw_content = self.redactor.bytes(plain)
        else:
            status, headers, body, warnings, live.usage = convert_body(
                route,
                resp.status_code,
                resp.headers,
                upstream_body,
                live.options(route, resp),
                live.client_stream,
                self.redactor,
            )
            resp.status_code, resp.headers, resp.raw_content = status, headers, body
            live.warn(warnings)
        resp.headers.pop("transfer-encoding", None)
        resp.headers["content-length"] = str(len(resp.raw_content or b""))
        return upstream

    def _replace_with_error(self, flow: http.HTTPFlow, live: _Live, message: str) -> None:
        """The client gets an error in its format instead of an answer crosswire could not handle."""
        try:
            err = bodies.error_body(live.error_format, "api_error", self.redactor.text(message), status=502)
            body = orjson.dumps(err.body)
        except Exception:
            body = _fallback_error(self.redactor.text(message))
        flow.response = http.Response.make(502, body, {"content-type": "application/json"})
        live.warnings.append(message)

    def error(self, flow: http.HTTPFlow) -> None:
        live = self._live.pop(flow.id, None)
        if live is None:
            return
        upstream = None
        self._forget_key(flow, live)
        try:
            if live.adapter is not None and live.client_version.upper() == "HTTP/1.0":
                self._reset_client(flow)  # a close-delimited body: a plain close would look like its end
            message = flow.error.msg if flow.error else "unknown error"
            if live.adapter is not None and live.adapter.converter is not None:
                live.warn(live.adapter.converter.warnings)  # what the stream had said before it broke
            live.warnings.append(f"flow failed: {message}")
            if flow.response is not None and live.upstream_head is not None:
                adapter = live.adapter
                body, truncated = (adapter.upstream.buf, adapter.upstream.truncated) if adapter else (b"", False)
                if adapter is not None:
                    flow.response.raw_content = adapter.client.buf
                upstream = self._upstream_response(live, flow.response, body, truncated)
            log.warning(
                "crosswire: %s: %s %s failed: %s",
                live.name,
                flow.request.method,
                self.redactor.text(flow.request.pretty_url),
                message,
            )
        except Exception:
            log.exception("crosswire: %s: internal error recording a failed flow", live.name)
        self._finish(flow, live, upstream, streamed=live.adapter is not None)

    def _reset_client(self, flow: http.HTTPFlow) -> None:
        """Make mitmproxy's coming close of the client connection a TCP reset (SO_LINGER 0)."""
        try:
            proxyserver: Any = ctx.master.addons.get("proxyserver")
            handler = proxyserver.connections[flow.client_conn.id]
            sock = handler.transports[flow.client_conn].writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except Exception:
            log.warning(
                "crosswire: could not reset the client connection after its stream failed: "
                "an HTTP/1.0 client may take the cut for the end of the answer",
                exc_info=True,
            )

    def _upstream_response(self, live: _Live, resp: http.Response, body: bytes, truncated: bool) -> dict[str, Any]:
        status, reason, version, headers = live.upstream_head or (
            resp.status_code,
            resp.reason,
            resp.http_version,
            _pairs(resp.headers),
        )
        undecoded = live.adapter.undecoded.buf if live.adapter else b""
        return record.response_view(self.redactor, status, reason, version, headers, body, truncated, undecoded)

    def _finish(self, flow: http.HTTPFlow, live: _Live, upstream: dict[str, Any] | None, streamed: bool) -> None:
        """Put the client's view in flow.request/flow.response; the upstream's in metadata. Never raises."""
        try:
            if live.client_request is None:
                live.client_request = self._client_view(flow.request)
            flow.request = live.client_request
        except Exception:
            log.exception("crosswire: %s: could not restore the client's view: its credentials are removed", live.name)
            _scrub(flow.request, live.route.api_key if live.route else "")
        try:
            route = live.route
            client_format = route.client_format if route else live.error_format
            flow.metadata[METADATA_KEY] = record.metadata(
                route=live.name,
                client_format=client_format,
                upstream_format=route.upstream_format if route else "",
                streamed=streamed,
                client_stream=live.client_stream,
                warnings=live.warnings,
                upstream_request=live.upstream_request if live.key_sent or not live.answered_by else None,
                upstream_response=upstream,
                client_body_truncated=bool(live.adapter and live.adapter.client.truncated),
                error=flow.error.msg if flow.error else None,
                answered_by=live.answered_by,
                tool_origins={k: [o.name, o.namespace, o.kind] for k, o in live.tool_origins.items()},
            )
            flow.marked = MARKER
            upstream_format = route.upstream_format if route else "?"
            flow.comment = f"crosswire {live.name}: {client_format} -> {upstream_format}" + (
                f" (answered by {live.answered_by})" if live.answered_by else ""
            )
            self._debug("%s", flow.comment)  # the comment names the route already
            if self.summary is not None and route is not None:
                self.summary.add(_flow_stats(flow, live, route, upstream))
        except Exception:
            log.exception("crosswire: %s: could not record the flow", live.name)


def _flow_stats(flow: http.HTTPFlow, live: _Live, route: Route, upstream: dict[str, Any] | None) -> stats.FlowStats:
    """What the summary keeps of a finished flow, from what the conversion already read."""
    adapter = live.adapter
    answered_locally = live.answered_by is not None
    if answered_locally:
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
    started = live.client_request.timestamp_end if live.client_request else None
    ttft = adapter.first_token_at - started if adapter and adapter.first_token_at and started else None
    return stats.FlowStats(
        route=route.name,
        model=live.model,
        error=stats.error_key(status, answered_locally=answered_locally, stream_failed=stream_failed),
        usage=dict(usage),
        ttft=ttft,
        warnings=list(live.warnings),
    )


def reconvert(flow: http.HTTPFlow, routes: list[Route], redactor: policy.Redactor | None = None) -> bool:
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
    status, out_headers, body, warnings, _ = convert_body(
        route, up["status_code"], headers, up["body"], options, md.get("client_stream"), redactor
    )
    flow.response.status_code = status
    flow.response.headers = out_headers
    flow.response.raw_content = body
    if not md.get("streamed"):
        flow.response.headers["content-length"] = str(len(body))
    md.update(route=route.name, client_format=route.client_format, warnings=warnings)
    flow.marked = MARKER
    flow.comment = f"crosswire {route.name}: {route.client_format} -> {route.upstream_format} (reconverted)"
    return True
