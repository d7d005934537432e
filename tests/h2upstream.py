"""An HTTP/2-over-TLS fake upstream on 127.0.0.1 (the `h2` library mitmproxy installs; a
self-signed certificate made with `cryptography`, so mitmdump needs ``ssl_insecure``).

It answers every request with the queued (status, headers, body, pieces) or a 500, sending the body
in ``pieces`` DATA frames (or dropping the connection after ``drop_after`` of them), and keeps what
it received.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import h2.config
import h2.connection
import h2.events
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "h2-cert.pem", directory / "h2-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class H2Reply:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/event-stream"})
    pieces: int = 1
    drop_after: int | None = None  # close the TCP connection after this many DATA frames


@dataclass
class H2Received:
    headers: dict[str, str]
    body: bytes


class H2Upstream:
    def __init__(self, directory: Path) -> None:
        cert, key = self_signed(directory)
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(cert, key)
        self._ctx.set_alpn_protocols(["h2"])
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.replies: deque[H2Reply] = deque()
        self.requests: list[H2Received] = []
        self.alpn: list[str | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="h2-upstream", daemon=True)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> H2Upstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()  # wake accept()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            conn, _ = self._sock.accept()
            if self._stop.is_set():
                conn.close()
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, raw: socket.socket) -> None:
        try:
            sock = self._ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        self.alpn.append(sock.selected_alpn_protocol())
        h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        h2c.initiate_connection()
        sock.sendall(h2c.data_to_send())
        heads: dict[int, dict[str, str]] = {}
        bodies: dict[int, bytearray] = {}
        with contextlib.suppress(OSError, ssl.SSLError), sock:
            while data := sock.recv(65536):
                for ev in h2c.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        heads[ev.stream_id] = {str(k): str(v) for k, v in ev.headers}
                        bodies[ev.stream_id] = bytearray()
                    elif isinstance(ev, h2.events.DataReceived):
                        bodies[ev.stream_id] += ev.data
                        h2c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        self.requests.append(H2Received(heads[ev.stream_id], bytes(bodies[ev.stream_id])))
                        self._respond(sock, h2c, ev.stream_id)
                sock.sendall(h2c.data_to_send())

    def _respond(self, sock: ssl.SSLSocket, h2c: h2.connection.H2Connection, stream_id: int) -> None:
        reply = self.replies.popleft() if self.replies else H2Reply(b'{"error":"no reply queued"}', 500, {})
        h2c.send_headers(stream_id, [(":status", str(reply.status)), *reply.headers.items()])
        sock.sendall(h2c.data_to_send())
        size = max(1, -(-len(reply.body) // reply.pieces))
        parts = [reply.body[i : i + size] for i in range(0, len(reply.body), size)]
        for i, part in enumerate(parts):  # small bodies only: the initial flow-control windows (64 KiB) are enough
            if reply.drop_after is not None and i >= reply.drop_after:
                sock.shutdown(socket.SHUT_RDWR)  # the upstream dies mid-stream: no END_STREAM, no GOAWAY
                raise OSError("dropped")
            h2c.send_data(stream_id, part)
            sock.sendall(h2c.data_to_send())
        h2c.end_stream(stream_id)


@dataclass
class H2Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    ended: bool  # END_STREAM arrived: a complete body
    reset: bool  # RST_STREAM, GOAWAY or a closed connection before the end


def h2_request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes, ca: Path, authority: str = "127.0.0.1"
) -> H2Answer:
    """One HTTP/2 request over TLS offering only ``h2`` (httpx always offers ``http/1.1`` first)."""
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    answer = H2Answer(0, {}, b"", False, False)
    with ctx.wrap_socket(raw, server_hostname=authority) as sock:
        assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        h2c.initiate_connection()
        stream = h2c.get_next_available_stream_id()
        pseudo = [(":method", method), (":scheme", "https"), (":authority", authority), (":path", path)]
        h2c.send_headers(stream, [*pseudo, *headers.items()], end_stream=not body)
        if body:
            h2c.send_data(stream, body, end_stream=True)
        sock.sendall(h2c.data_to_send())
        data = bytearray()
        try:
            while not (answer.ended or answer.reset):
                chunk = sock.recv(65536)
                if not chunk:
                    answer.reset = True
                    break
                for ev in h2c.receive_data(chunk):
                    if isinstance(ev, h2.events.ResponseReceived):
                        answer.headers = {str(k): str(v) for k, v in ev.headers}
                        answer.status = int(answer.headers[":status"])
                    elif isinstance(ev, h2.events.DataReceived):
                        data += ev.data
                        h2c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        answer.ended = True
                    elif isinstance(ev, h2.events.StreamReset | h2.events.ConnectionTerminated):
                        answer.reset = True
                sock.sendall(h2c.data_to_send())
        except (OSError, ssl.SSLError):
            answer.reset = True
    answer.body = bytes(data)
    return answer
