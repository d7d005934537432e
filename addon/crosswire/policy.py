"""What crosses to the upstream, and what nobody else sees (pure: no mitmproxy import).

- **Request headers** (:func:`upstream_headers`): an allow-list, not a deny-list. Every upstream
  gets what describes the body and the client (:data:`~crosswire.formats.registry.FORWARDED_HEADERS`);
  a same-format upstream also gets the headers its API needs (the format's ``forward_headers``,
  e.g. ``anthropic-version``/``anthropic-beta``); the route adds the names it lists in its own
  ``forward_headers`` and sets its ``headers``. A credential header never crosses, whatever is listed.
- **Query strings** (:func:`strip_query`): credential parameters (``key``, ``api_key``, …) are
  removed before the upstream sees the URL and redacted in recordings (:func:`redact_query`).
- **The route's key** (:class:`Redactor`): wherever an upstream echoes it — a header, a body, an
  error message, a stream frame — it is replaced by ``[redacted by crosswire: $ENV_NAME]`` before
  the client, a log line or a recording can see it.
- **Framing** (:func:`client_framing`): the body framing of a converted answer follows the
  client's connection (chunked for HTTP/1.1, close-delimited for HTTP/1.0, frames for HTTP/2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote_plus, unquote_plus

from .formats import FORMATS
from .formats.registry import FORWARDED_HEADERS

CREDENTIAL_HEADERS = FORMATS.credential_headers
CREDENTIAL_QUERY = FORMATS.credential_query
CLIENT_CREDENTIAL = "client credential"
# Headers that describe a message's framing or the hop, never copied between connections.
HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"})


def redacted(label: str) -> str:
    return f"[redacted by crosswire: {label}]"


def header_allowed(name: str, allowed: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    low = name.lower()
    return low not in CREDENTIAL_HEADERS and (low in allowed or (bool(prefixes) and low.startswith(prefixes)))


def forward_rule(
    extra: Iterable[str], same_format: frozenset[str] = frozenset()
) -> tuple[frozenset[str], tuple[str, ...]]:
    """The allow-list: exact names and name prefixes (from ``x-foo-*`` entries of a route's list)."""
    names = set(FORWARDED_HEADERS | same_format)
    prefixes = []
    for entry in extra:
        if entry.endswith("*"):
            prefixes.append(entry[:-1])
        else:
            names.add(entry)
    return frozenset(names), tuple(prefixes)


def upstream_headers(
    client: Iterable[tuple[str, str]],
    allowed: frozenset[str],
    prefixes: tuple[str, ...],
    route_headers: Mapping[str, str],
) -> list[tuple[str, str]]:
    """The headers an upstream receives: the allowed ones the client sent, then the route's own
    (which replace a client header of the same name). The key is not among them: it is set last."""
    out = [
        (name, value)
        for name, value in client
        if name.lower() not in route_headers and header_allowed(name, allowed, prefixes)
    ]
    out.extend(route_headers.items())
    return out


def client_view_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's headers as a recording keeps them: its credentials replaced."""
    mark = redacted(CLIENT_CREDENTIAL)
    return [(name, mark if name.lower() in CREDENTIAL_HEADERS else value) for name, value in headers]


def _param_name(part: str) -> str:
    return unquote_plus(part.partition("=")[0]).strip().lower()


def strip_query(query: str) -> str:
    """``query`` without its credential parameters, every other byte as it was."""
    if not query:
        return query
    return "&".join(part for part in query.split("&") if _param_name(part) not in CREDENTIAL_QUERY)


def redact_query(query: str) -> str:
    """``query`` with the values of its credential parameters replaced (for recordings)."""
    if not query:
        return query
    mark = quote_plus(redacted(CLIENT_CREDENTIAL))
    return "&".join(
        f"{part.partition('=')[0]}={mark}" if _param_name(part) in CREDENTIAL_QUERY else part
        for part in query.split("&")
    )


def split_path(path: str) -> tuple[str, str]:
    """A request target's path and query (without the ``?``)."""
    path, _, query = path.partition("?")
    return path, query


def join_path(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


class Redactor:
    """Replaces secrets (the routes' keys) wherever they appear, each by its own marker."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        """``secrets``: secret -> label (``$ANTHROPIC_API_KEY``); empty secrets are ignored."""
        self._text = {s: redacted(label) for s, label in secrets.items() if s}
        self._bytes = {s.encode(): m.encode() for s, m in self._text.items()}

    def __bool__(self) -> bool:
        return bool(self._text)

    def text(self, value: str) -> str:
        for secret, mark in self._text.items():
            if secret in value:
                value = value.replace(secret, mark)
        return value

    def bytes(self, value: bytes) -> bytes:
        for secret, mark in self._bytes.items():
            if secret in value:
                value = value.replace(secret, mark)
        return value

    def log_text(self, value: str) -> str:
        """:meth:`text`, and also a secret's beginning where a line was cut short with "…", as
        mitmproxy's debug log cuts long lines (whatever is left of a key there is a piece of it)."""
        value = self.text(value)
        if CUT not in value:
            return value
        parts = value.split(CUT)
        for i, head in enumerate(parts[:-1]):
            for secret, mark in self._text.items():
                size = _prefix_tail(head, secret)
                if size >= MIN_CUT_PREFIX:
                    head = parts[i] = head[:-size] + mark
        return CUT.join(parts)

    def found_in(self, value: str) -> bool:
        return any(secret in value for secret in self._text)

    def headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.text(value)) for name, value in headers]


CUT = "…"
# The beginning of a key shown before a cut: shorter than this is a key's public prefix ("sk-ant").
MIN_CUT_PREFIX = 6


def _prefix_tail(text: str, secret: str) -> int:
    """The length of the longest tail of ``text`` that is a proper prefix of ``secret``."""
    for size in range(min(len(secret) - 1, len(text)), 0, -1):
        if secret.startswith(text[-size:]):
            return size
    return 0


class StreamRedactor:
    """One secret, redacted from a stream of chunks that may split it anywhere.

    Per chunk it costs one substring search; only when a chunk ends with a byte the secret
    contains is the longest tail that could start the secret held back for the next chunk.
    """

    __slots__ = ("_held", "_mark", "_secret", "_secret_bytes")

    def __init__(self, secret: str, label: str) -> None:
        self._secret = secret.encode()
        self._mark = redacted(label).encode()
        self._secret_bytes = frozenset(self._secret)
        self._held = b""

    def feed(self, data: bytes) -> bytes:
        if self._held:
            data = self._held + data
            self._held = b""
        if self._secret in data:
            data = data.replace(self._secret, self._mark)
        if data and data[-1] in self._secret_bytes:
            keep = self._partial_tail(data)
            if keep:
                self._held = data[-keep:]
                data = data[:-keep]
        return data

    def close(self) -> bytes:
        held, self._held = self._held, b""
        return held

    def _partial_tail(self, data: bytes) -> int:
        """The length of the longest tail of ``data`` that is a proper prefix of the secret."""
        secret = self._secret
        first = secret[:1]
        at = data.find(first, max(len(data) - len(secret) + 1, 0))
        while at != -1:
            if secret.startswith(data[at:]):
                return len(data) - at
            at = data.find(first, at + 1)
        return 0


def client_framing(client_http_version: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """Headers to set and to remove on a streamed answer, for the client's HTTP version.

    HTTP/1.1: chunked, so a connection cut before the last chunk is an incomplete body to the
    client, never a clean end. HTTP/1.0 cannot do chunked: the body ends when the connection
    closes (crosswire resets the connection if the upstream fails, see the addon). HTTP/2 and
    HTTP/3 frame the body themselves and forbid connection-specific headers.
    """
    version = client_http_version.upper()
    if version == "HTTP/1.1":
        return {"transfer-encoding": "chunked"}, ("content-length", "connection", "keep-alive")
    if version.startswith("HTTP/1"):
        return {"connection": "close"}, ("content-length", "transfer-encoding", "keep-alive")
    return {}, ("content-length", "transfer-encoding", "connection", "keep-alive")
