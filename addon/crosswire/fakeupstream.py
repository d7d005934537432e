"""A small fake LLM upstream on loopback, for tests, the demo and the benchmark.

It answers every request with the next queued :class:`Reply` (or the default one), sending the
canned body in small pieces, each flushed at once, with a pause between pieces; it can compress
them (each piece flushed through the compressor, as a streaming server does), fail with a status,
or drop the connection part way. Every request it receives is kept (headers and body) so a test
can check what really reached the provider::

    with FakeUpstream() as up:
        up.push(Reply(sse([("message_start", {...}), ...]), pieces=5, delay=0.05))
        ...                                   # point crosswire's route at up.url("/v1/messages")
        up.requests[-1].headers["x-api-key"]

``respond`` instead computes each reply from the request (a scripted, validating provider)::

    FakeUpstream(respond=lambda received: Reply({...}))

Pure standard library plus the decompressors mitmproxy already installs; no mitmproxy import.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

SSE = "text/event-stream"
JSON = "application/json"


def sse(events: Iterable[tuple[str | None, Any]]) -> bytes:
    """SSE bytes from ``(event name or None, data)`` pairs; data that is not a str is JSON-encoded."""
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else orjson.dumps(data).decode()
        out.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
    return "".join(out).encode()


@dataclass
class Reply:
    """One canned answer.

    body: the bytes to send (an SSE stream or a JSON document; a dict is JSON-encoded).
    pieces: split the body into this many pieces of about equal size; ``split_frames`` instead
        sends one SSE frame per piece (and ``pieces`` then splits every frame further).
    delay: seconds to wait before each piece after the first.
    encoding: ``gzip``, ``deflate``, ``br`` or ``zstd`` compresses the body piece by piece.
    drop_after: close the connection abruptly after this many pieces (before the body is complete).
    head_delay: seconds to wait before sending the status line and headers.
    framing: ``chunked`` (Transfer-Encoding: chunked), ``length`` (Content-Length) or ``close``
        (neither: the body ends when the connection closes, so a drop looks like an end).
    """

    body: bytes | dict[str, Any] = b""
    status: int = 200
    content_type: str | None = None  # default: SSE when the body starts like one, else JSON
    headers: dict[str, str] = field(default_factory=dict)
    pieces: int = 1
    split_frames: bool = False
    delay: float = 0.0
    encoding: str | None = None
    drop_after: int | None = None
    head_delay: float = 0.0
    framing: str = "chunked"

    def payload(self) -> bytes:
        return orjson.dumps(self.body) if isinstance(self.body, dict) else self.body

    def pieces_of(self) -> list[bytes]:
        data = self.payload()
        parts = [f + b"\n\n" for f in data.split(b"\n\n") if f] if self.split_frames else [data]
        out: list[bytes] = []
        for part in parts:
            n = max(1, min(self.pieces, len(part)))
            size = max(1, -(-len(part) // n))  # an empty body is one empty piece
            out.extend(part[i : i + size] for i in range(0, len(part), size))
        return out or [b""]

    def kind(self) -> str:
        if self.content_type:
            return self.content_type
        head = self.payload().lstrip()[:6]
        return SSE if head.startswith((b"event:", b"data:", b":")) else JSON


@dataclass
class Received:
    """A request as the fake upstream received it."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    header_list: list[tuple[str, str]]
    body: bytes
    time: float

    def json(self) -> Any:
        return orjson.loads(self.body)


class _Compressor:
    """Compresses piece by piece, flushing each piece so it can be decoded on arrival."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding == "gzip":
            self._z = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS)
        elif encoding == "br":
            import brotli

            self._br = brotli.Compressor()
        elif encoding == "zstd":
            self._zstd = _zstd_compressor()
        else:
            raise ValueError(f"unsupported encoding {encoding!r}")

    def piece(self, data: bytes, last: bool) -> bytes:
        if self.encoding in ("gzip", "deflate"):
            return self._z.compress(data) + self._z.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
        if self.encoding == "br":
            out = self._br.process(data)
            return out + (self._br.finish() if last else self._br.flush())
        return self._zstd(data, last)


def _zstd_compressor() -> Callable[[bytes, bool], bytes]:
    try:
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        comp = zstd.ZstdCompressor()
        return lambda data, last: comp.compress(data, comp.FLUSH_FRAME if last else comp.FLUSH_BLOCK)
    except ImportError:
        import zstandard

        obj = zstandard.ZstdCompressor().compressobj()
        return lambda data, last: (
            obj.compress(data)
            + obj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH if last else zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        )


def compress(data: bytes, encoding: str) -> bytes:
    """The whole body compressed at once (for Content-Length replies and for tests)."""
    if encoding == "gzip":
        return gzip.compress(data)
    return _Compressor(encoding).piece(data, True)


class _IPv6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


class FakeUpstream:
    """A threaded HTTP/1.1 server on 127.0.0.1 (or ``host``, ``::1`` too) serving queued :class:`Reply` objects."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Reply | None = None,
        respond: Callable[[Received], Reply] | None = None,
    ) -> None:
        self.replies: deque[Reply] = deque()
        self.default = default
        self.respond = respond  # when set, every reply comes from it (queued replies are not used)
        self.requests: list[Received] = []
        self.sent_last_piece_at: list[float] = []  # when each reply's last piece left
        self._lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                owner._handle(self)

            do_GET = do_PUT = do_DELETE = do_POST

        server_class = _IPv6Server if ":" in host else http.server.ThreadingHTTPServer
        self._server = server_class((host, port), Handler)
        self._server.daemon_threads = True
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.replies.clear()
            self.requests.clear()
            self.sent_last_piece_at.clear()

    def start(self) -> FakeUpstream:
        # a short poll: stop() returns within 50 ms (tests start and stop many of these)
        serve = lambda: self._server.serve_forever(poll_interval=0.05)  # noqa: E731
        self._thread = threading.Thread(target=serve, name="fake-upstream", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        received = Received(
            h.command,
            h.path,
            {k.lower(): v for k, v in h.headers.items()},
            [(k, v) for k, v in h.headers.items()],
            body,
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(received)
            reply = None if self.respond else self.replies.popleft() if self.replies else self.default
        if self.respond:
            try:
                reply = self.respond(received)
            except Exception as exc:  # a bug in the script answers 500 and stays visible in the test
                reply = Reply({"error": {"message": f"fake upstream: respond failed: {exc!r}"}}, status=500)
        if reply is None:
            reply = Reply({"error": {"message": "fake upstream: no reply queued"}}, status=500)
        self._send(h, reply)

    def _send(self, h: http.server.BaseHTTPRequestHandler, reply: Reply) -> None:
        comp = _Compressor(reply.encoding) if reply.encoding else None
        pieces = reply.pieces_of()
        if comp:
            pieces = [comp.piece(p, i == len(pieces) - 1) for i, p in enumerate(pieces)]
        if reply.head_delay:
            time.sleep(reply.head_delay)
        h.send_response(reply.status)
        h.send_header("content-type", reply.kind())
        if reply.encoding:
            h.send_header("content-encoding", reply.encoding)
        for k, v in reply.headers.items():
            h.send_header(k, v)
        if reply.framing == "chunked":
            h.send_header("transfer-encoding", "chunked")
        elif reply.framing == "length":
            h.send_header("content-length", str(sum(map(len, pieces))))
        else:
            h.send_header("connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.flush()
        try:
            for i, data in enumerate(pieces):
                if reply.drop_after is not None and i >= reply.drop_after:
                    self._drop(h)
                    return
                if i and reply.delay:
                    time.sleep(reply.delay)
                if data:
                    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if reply.framing == "chunked" else data)
                    h.wfile.flush()
            with self._lock:
                self.sent_last_piece_at.append(time.monotonic())
            if reply.framing == "chunked":
                h.wfile.write(b"0\r\n\r\n")
                h.wfile.flush()
        except OSError:
            h.close_connection = True  # the proxy went away; nothing to answer

    def _drop(self, h: http.server.BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)
