"""The recording record: what crosswire keeps in ``flow.metadata["crosswire"]`` (pure: no mitmproxy).

A converted flow is saved as the client saw it (``flow.request``/``flow.response``); what the
upstream received and sent goes into the metadata, built here from plain values. Every view passes
through the :class:`~crosswire.policy.Redactor` of the routes' keys before it is stored, so a key
an upstream echoed is not in the file either (docs/addon.md, "Recording format").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .policy import Redactor

METADATA_KEY = "crosswire"
VERSION = 1
DEFAULT_RECORD_LIMIT = 8 * 1024 * 1024

Headers = list[list[str]]


class Tape:
    """A bounded recording of a body, without a copy per chunk: it keeps references to the chunks
    (bytes objects that exist anyway) and joins them once, when read. The bytes kept never pass
    ``limit``; what did not fit is cut off and ``truncated`` says so.

    The stream adapter keeps a chunk with no call at all while it is at most ``room``: it appends
    to ``parts`` and takes its size off ``room`` itself. Everything else goes through :meth:`add`,
    which counts what was appended that way, joins those loose chunks into one (``room`` is never
    more than ``COMPACT``, so many tiny chunks cost no more than their bytes) and sets ``room`` anew.
    """

    __slots__ = ("_given", "_joined", "_kept", "limit", "parts", "room", "truncated")

    COMPACT = 16 * 1024  # at most this many bytes of loose chunks: a bound on their per-object overhead

    def __init__(self, limit: int) -> None:
        self.parts: list[bytes] = []
        self.limit = limit
        self.truncated = False
        self._kept = 0  # bytes kept, but for those appended since ``room`` was last set
        self._joined = 0  # the parts before this index are already joined runs
        self.room = self._given = min(limit, self.COMPACT)

    def add(self, data: bytes) -> None:
        self._settle()
        size = len(data)
        left = self.limit - self._kept
        if size > left:
            self.truncated = True
            data, size = data[:left], left
        elif type(data) is not bytes:  # a mutable buffer could change after it was kept
            data = bytes(data)
        if size > 0:
            self.parts.append(data)
            self._kept += size
            self._joined = len(self.parts)  # one chunk that went through here counts as a joined run
        self.room = self._given = min(self.limit - self._kept, self.COMPACT)

    def _settle(self) -> None:
        """Count the chunks appended directly since ``room`` was set, and join them into one."""
        self._kept += self._given - self.room
        self.room = self._given = 0
        parts, joined = self.parts, self._joined
        if len(parts) - joined > 1:
            parts[joined:] = [b"".join(parts[joined:])]
        self._joined = len(parts)

    def __len__(self) -> int:
        return self._kept + self._given - self.room

    @property
    def buf(self) -> bytes:
        """Everything kept so far, as one bytes object (joined once, and kept joined)."""
        self._settle()
        parts = self.parts
        if len(parts) > 1:
            parts[:] = [b"".join(parts)]
        self._joined = len(parts)
        self.room = self._given = min(self.limit - self._kept, self.COMPACT)
        return parts[0] if parts else b""


def _headers(headers: Iterable[tuple[str, str]], redactor: Redactor) -> Headers:
    return [[name, redactor.text(value)] for name, value in headers]


def request_view(
    redactor: Redactor,
    method: str,
    url: str,
    http_version: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    truncated: bool = False,
) -> dict[str, Any]:
    """The request as the upstream received it."""
    return {
        "method": method,
        "url": redactor.text(url),
        "http_version": http_version,
        "headers": _headers(headers, redactor),
        "body": redactor.bytes(body),
        "truncated": truncated,
    }


def response_view(
    redactor: Redactor,
    status: int,
    reason: str,
    http_version: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    truncated: bool,
    undecoded: bytes = b"",
) -> dict[str, Any]:
    """The response as the upstream sent it: the body decoded (what the converter read); when a
    compressed stream could not be decoded, ``undecoded`` keeps the raw bytes from the failing
    chunk on, so nothing the upstream sent is lost."""
    pairs = _headers(headers, redactor)
    encoding = next((value for name, value in pairs if name.lower() == "content-encoding"), "")
    return {
        "status_code": status,
        "reason": reason,
        "http_version": http_version,
        "headers": pairs,
        "body": redactor.bytes(body),
        "content_encoding": encoding,
        "truncated": truncated,
        "undecoded": redactor.bytes(undecoded),
    }


def metadata(
    *,
    route: str,
    client_format: str,
    upstream_format: str,
    streamed: bool,
    client_stream: bool | None,
    warnings: list[str],
    upstream_request: dict[str, Any] | None,
    upstream_response: dict[str, Any] | None,
    client_body_truncated: bool,
    error: str | None,
    answered_by: str | None,
    tool_origins: dict[str, list[str | None]] | None = None,
) -> dict[str, Any]:
    """``flow.metadata["crosswire"]``. ``answered_by`` names what answered the client when the
    upstream did not (``crosswire``), ``client_stream`` whether the client asked for a stream,
    ``tool_origins`` the client's tools behind flattened tool names (the answer's calls get their
    shape back on reconversion)."""
    return {
        "version": VERSION,
        "route": route,
        "client_format": client_format,
        "upstream_format": upstream_format,
        "streamed": streamed,
        "client_stream": client_stream,
        "warnings": list(warnings),
        "upstream_request": upstream_request,
        "upstream_response": upstream_response,
        "client_body_truncated": client_body_truncated,
        "error": error,
        "answered_by": answered_by,
        "tool_origins": tool_origins or {},
    }
