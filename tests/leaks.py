"""Helpers that make a leak observable: a fake "original host" that records every connection and
byte reaching it, and an http client that keeps every byte it received."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

try:  # the SDK releases on Python 3.12 are built on httpx2
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]


@dataclass
class Connection:
    peer: tuple[str, int]
    data: bytearray = field(default_factory=bytearray)


class Sentinel:
    """A TCP listener on 127.0.0.1 standing in for the provider a route sends traffic away from.

    It answers nothing and records every connection and every byte: a matched flow must leave it
    untouched (``connections`` stays empty), whatever fails.
    """

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.connections: list[Connection] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sentinel", daemon=True)

    @property
    def origin(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Sentinel:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            conn, peer = self._sock.accept()
            if self._stop.is_set():
                conn.close()
                return
            record = Connection(peer)
            self.connections.append(record)
            threading.Thread(target=self._read, args=(conn, record), daemon=True).start()

    def _read(self, conn: socket.socket, record: Connection) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError), conn:
            while data := conn.recv(65536):
                record.data += data

    def received(self) -> bytes:
        return b"".join(bytes(c.data) for c in self.connections)

    def assert_untouched(self) -> None:
        assert not self.connections, f"the original host was contacted: {self.received()[:500]!r}"


class _Tee(httpx.SyncByteStream):
    def __init__(self, stream: Any, sink: bytearray) -> None:
        self._stream, self._sink = stream, sink

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._sink += chunk
            yield chunk

    def close(self) -> None:
        self._stream.close()


class RecordingTransport(httpx.BaseTransport):
    """Every byte the client received: status lines, headers and bodies, as they came."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.raw = bytearray()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.raw += b"%d %s\r\n" % (response.status_code, response.reason_phrase.encode())
        for name, value in response.headers.raw:
            self.raw += name + b": " + value + b"\r\n"
        response.stream = _Tee(response.stream, self.raw)
        return response

    def close(self) -> None:
        self.inner.close()


def recording_client(proxy: str, **transport: Any) -> tuple[httpx.Client, RecordingTransport]:
    recorder = RecordingTransport(httpx.HTTPTransport(proxy=proxy, **transport))
    return httpx.Client(transport=recorder, timeout=30), recorder


def wait_for(predicate: Any, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())
