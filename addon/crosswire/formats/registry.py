"""The format registry: one typed descriptor per wire format, everything that differs between them.

The shell (addon, routes, CLI, contentview) asks the registry and knows no format by name. A format
is two modules — its stream reader/writer and its body codec — and one :class:`Format` line in
``formats/__init__.py``; the test suite, parametrised over :data:`FORMATS`, covers it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..events import ApiError, Message, Request
from ..options import Options
from .base import StreamReader, StreamWriter, Warn


def _always(body: Any) -> bool:
    return True


def _no_target(path: str) -> tuple[str | None, bool | None]:
    return None, None


def _same_path(base: str, model: str, stream: bool) -> str:
    return base


def _plain_model(name: str) -> dict[str, Any]:
    return {"id": name}


def _plain_models(models: list[dict[str, Any]]) -> dict[str, Any]:
    return {"data": models}


def _never(event: str, data: str, parsed: Any) -> bool:
    return False


def _no_error(parsed: Any) -> bool:
    return False  # the default of the predicates on parsed JSON: a format claims nothing


@dataclass(frozen=True)
class SubEndpoint:
    """A path under a format's endpoint that is not a generation: crosswire answers it itself.

    pattern: segments after the endpoint path (for a format with the model in the path, after
        the collection): literals, ``{id}`` (any one segment), ``{id}:method`` (a method of any
        resource) and a last ``*`` (any rest); ``""`` is the endpoint itself.
    methods: the HTTP methods it takes.
    kind: ``count_tokens`` (answered with a local estimate), ``stored`` (a stored object:
        crosswire stores nothing, 404) or ``unsupported`` (501).
    what: what it is, for the error message (``message batches``).
    """

    pattern: str
    methods: frozenset[str]
    kind: str
    what: str

    def matches(self, method: str, rest: list[str]) -> bool:
        if method not in self.methods:
            return False
        parts = [p for p in self.pattern.split("/") if p]
        if parts and parts[-1] == "*":
            return len(rest) >= len(parts) - 1 and _segments_match(parts[:-1], rest[: len(parts) - 1])
        return len(rest) == len(parts) and _segments_match(parts, rest)


def _segments_match(pattern: list[str], rest: list[str]) -> bool:
    return all(_segment_matches(p, r) for p, r in zip(pattern, rest, strict=True))


def _segment_matches(pattern: str, segment: str) -> bool:
    """``{id}`` is any segment; ``{id}:method`` a method of any resource (``gemini-pro:countTokens``)."""
    if pattern.startswith("{id}"):
        method = pattern[len("{id}") :]
        return not method or (segment.endswith(method) and len(segment) > len(method))
    return pattern == segment


GENERIC_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-goog-api-key"})
# Query parameters a client may carry a key in, whatever its format (Google-style ``?key=``, …).
GENERIC_CREDENTIAL_QUERY = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token", "x-api-key"})
# Request headers every upstream gets from the client (the rest stays behind unless the route
# forwards it): what describes the body and the client, nothing that identifies a user or a tool.
FORWARDED_HEADERS = frozenset({"content-type", "accept", "user-agent"})


@dataclass(frozen=True)
class Format:
    """What crosswire needs to know about one wire format.

    name: the format's name everywhere (CLI, config, code, docs).
    stream_reader, stream_writer: its SSE stream reader (wire -> canonical) and writer.
    read_request … write_error: its body codec (requests, whole responses, errors), from
        ``formats/<format>_body.py``; ``read_error`` returns None for a body not shaped like its errors.
    path_suffixes: endpoint paths a request of this format ends with (``/chat/completions``,
        ``:generateContent``); a route's formats are told from its URLs by these.
    route_suffixes: further route URLs the format is told from, for a format whose endpoints hold
        the model in the path: a route names the collection above them (``/models``).
    key_env: the environment variable that holds an upstream key by default.
    auth_header, auth_prefix: how the upstream key is sent (``authorization: Bearer <key>``).
    credential_headers, credential_query: where a client of this format may carry its own
        credential (every format's are removed from every matched request).
    default_headers: set on every request to an upstream of this format unless the route sets them.
    request_id_header: the response header carrying the provider's request id.
    id_prefix: the prefix of this format's message ids; ids are re-prefixed, never invented.
    stream_frame: whether one SSE frame (event name, raw data, parsed JSON or None) can only be
        this format's (sniffing a recorded stream).
    stream_error_frame: whether an error frame has this format's shape (several may claim one).
    response_body: whether a whole JSON answer (not an error) is this format's (sniffing recordings).
    official_host: the host the provider's own API answers on (a recording of it, converted, is
        addressed to the target's); empty when there is none.
    client_wants_usage: whether a client request asks for usage in the answer (openai-chat only
        gets the usage chunk with ``stream_options.include_usage``).
    read_target: what the client's URL path says about the request: (model, stream), each None when
        the path says nothing (a format whose model lives in the URL).
    request_target: the path (and query) an upstream of this format receives, from the route's
        upstream path, the upstream model and whether the request streams.
    forward_headers: request headers a client of this format sends that an upstream of the same
        format needs (``anthropic-version``, ``anthropic-beta``); no other upstream gets them.
    sub_endpoints: paths under the endpoint crosswire answers itself on a converting route
        (token counting, stored objects, batches); anything else under it is a 404.
    read_count_request: reads a token-counting request body (the counting sub-endpoint's) into
        a canonical request; None when the format has no counting endpoint.
    write_token_count: the counting endpoint's answer for a number of input tokens.
    write_model, write_models: a models-list entry for one model name, and the list of entries
        (``GET …/models`` beside the endpoint, answered from the route's model map).
    """

    name: str
    stream_reader: type[StreamReader]
    stream_writer: type[StreamWriter]
    read_request: Callable[[dict[str, Any], Options, Warn], Request]
    write_request: Callable[[Request, Options, Warn], dict[str, Any]]
    read_response: Callable[[dict[str, Any], Options, Warn], Message]
    write_response: Callable[[Message, Options, Warn], dict[str, Any]]
    read_error: Callable[[Any, int | None], ApiError | None]
    write_error: Callable[[ApiError, int], tuple[dict[str, Any], int]]
    path_suffixes: tuple[str, ...]
    key_env: str
    auth_header: str
    id_prefix: str
    auth_prefix: str = ""
    credential_headers: frozenset[str] = frozenset()
    credential_query: frozenset[str] = frozenset()
    route_suffixes: tuple[str, ...] = ()
    default_headers: Mapping[str, str] = field(default_factory=dict)
    request_id_header: str = ""
    stream_frame: Callable[[str, str, Any], bool] = _never
    stream_error_frame: Callable[[Any], bool] = _no_error
    response_body: Callable[[Any], bool] = _no_error
    official_host: str = ""
    client_wants_usage: Callable[[Any], bool] = _always
    read_target: Callable[[str], tuple[str | None, bool | None]] = _no_target
    request_target: Callable[[str, str, bool], str] = _same_path
    forward_headers: frozenset[str] = frozenset()
    sub_endpoints: tuple[SubEndpoint, ...] = ()
    read_count_request: Callable[[dict[str, Any], Options, Warn], Request] | None = None
    write_token_count: Callable[[int], dict[str, Any]] | None = None
    write_model: Callable[[str], dict[str, Any]] = _plain_model
    write_models: Callable[[list[dict[str, Any]]], dict[str, Any]] = _plain_models

    def claims_path(self, path: str) -> bool:
        """Whether an endpoint path (query ignored) is this format's."""
        path = path.split("?", 1)[0].rstrip("/")
        return path.endswith(self.path_suffixes)

    @property
    def model_in_path(self) -> bool:
        """Whether the endpoints are methods of a model's resource (``…/models/{model}:generateContent``):
        each request's path names the model, and a route names the collection above them."""
        return any(not suffix.startswith("/") for suffix in self.path_suffixes)

    def claims_route(self, path: str) -> bool:
        """Whether a route URL's path (an endpoint, or a collection of them) is this format's."""
        return self.claims_path(path) or path.split("?", 1)[0].rstrip("/").endswith(self.route_suffixes)

    def credential(self, key: str) -> tuple[str, str]:
        """The header that carries ``key`` to an upstream of this format."""
        return self.auth_header, self.auth_prefix + key


class Registry:
    """The registered formats, by name, in registration order."""

    def __init__(self, *formats: Format) -> None:
        self._formats = {f.name: f for f in formats}
        if len(self._formats) != len(formats):
            raise ValueError("two formats share a name")

    def __iter__(self) -> Iterator[Format]:
        return iter(self._formats.values())

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def __len__(self) -> int:
        return len(self._formats)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._formats)

    def get(self, name: str) -> Format:
        try:
            return self._formats[name]
        except KeyError:
            raise ValueError(f"unknown format {name!r}: expected one of {', '.join(self._formats)}") from None

    def for_path(self, path: str) -> Format | None:
        """The format an endpoint path implies (``/v1/messages`` -> anthropic), or None."""
        return next((f for f in self._formats.values() if f.claims_path(path)), None)

    def for_route(self, path: str) -> Format | None:
        """The format a route URL's path implies: an endpoint's, else a collection's (``/models``)."""
        return self.for_path(path) or next((f for f in self._formats.values() if f.claims_route(path)), None)

    @property
    def id_prefixes(self) -> tuple[str, ...]:
        return tuple(f.id_prefix for f in self._formats.values() if f.id_prefix)

    @property
    def credential_headers(self) -> frozenset[str]:
        """Every header any client may carry a credential in (plus the generic ones)."""
        names = set(GENERIC_CREDENTIAL_HEADERS)
        for f in self._formats.values():
            names |= f.credential_headers
        return frozenset(names)

    @property
    def credential_query(self) -> frozenset[str]:
        """Every query parameter any client may carry a credential in (plus the generic ones)."""
        names = set(GENERIC_CREDENTIAL_QUERY)
        for f in self._formats.values():
            names |= f.credential_query
        return frozenset(names)
