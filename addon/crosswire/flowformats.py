"""What the flow-file tools (``crosswire flows convert --to``, ``export``, ``show``) know about formats.

Kept in this one module so it moves to the format registry in one step: each format's endpoint, the
host its official API answers on, the headers its own client sends, and how a recorded exchange
tells which format it is in (path first, then the answer's shape, then the request's).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from . import contentview
from .routes import ANTHROPIC_VERSION, CREDENTIAL_HEADERS, format_for_path

ENDPOINTS = {
    "anthropic": "/v1/messages",
    "openai-chat": "/v1/chat/completions",
    "openai-responses": "/v1/responses",
}
# A recording of a format's official API, converted, is addressed to the target's official API;
# any other host (a local server, a gateway, a fake) is kept.
OFFICIAL_HOSTS = {
    "anthropic": "api.anthropic.com",
    "openai-chat": "api.openai.com",
    "openai-responses": "api.openai.com",
}
# What that format's own client sends besides content-type and accept.
CLIENT_HEADERS: dict[str, dict[str, str]] = {"anthropic": {"anthropic-version": ANTHROPIC_VERSION}}
# Query parameters that carry a key (Gemini's ``key``, Azure-style gateways' ``api-key``...).
CREDENTIAL_PARAMS = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token"})
REDACTED = "[redacted by crosswire: client credential]"

_ANSWER_OBJECTS = {"chat.completion": "openai-chat", "response": "openai-responses"}


def path_format(path: str) -> str | None:
    """The format a request path's endpoint implies (query ignored), or None."""
    return format_for_path(path.split("?", 1)[0])


def endpoint_path(source_path: str, source: str, target: str) -> str:
    """The target's endpoint in place of the source's, keeping any prefix before it (a gateway's
    ``/openai/v1/chat/completions`` becomes ``/openai/v1/messages``); the query is not kept: it
    belongs to the source's API."""
    path = source_path.split("?", 1)[0].rstrip("/")
    src, dst = ENDPOINTS[source], ENDPOINTS[target]
    if path.endswith(src):
        return path[: -len(src)] + dst
    src_tail, dst_tail = src.removeprefix("/v1"), dst.removeprefix("/v1")
    if path.endswith(src_tail):
        return path[: -len(src_tail)] + dst_tail
    return dst


def target_host(host: str, source: str, target: str) -> str:
    return OFFICIAL_HOSTS[target] if host.lower() == OFFICIAL_HOSTS[source] else host


def is_sse(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "text/event-stream"


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def answer_format(body: bytes, content_type: str, path: str = "") -> str | None:
    """The format of a successful answer (an SSE stream or a whole JSON body), or None."""
    if is_sse(content_type) or (not content_type and body.lstrip()[:5] in (b"event", b"data:")):
        return contentview.detect_format(body, path)
    data = _json_object(body)
    if data is None:
        return None
    if data.get("type") == "message" and isinstance(data.get("content"), list):
        return "anthropic"
    return _ANSWER_OBJECTS.get(str(data.get("object")))


def flow_format(method: str, path: str, status: int, content_type: str, body: bytes) -> str | None:
    """The format of a recorded exchange, or None when it is no LLM API call.

    An LLM API call is a POST to a known endpoint, or a POST answered with a stream or body in a
    known format (a gateway with a path of its own): the path decides, then the answer.
    """
    if method.upper() != "POST":
        return None
    by_path = path_format(path)
    if by_path is not None:
        return by_path
    if 200 <= status < 300:
        return answer_format(body, content_type, path)
    return None


def redact_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers with every credential's value replaced (recordings keep no key)."""
    return [(k, REDACTED if k.lower() in CREDENTIAL_HEADERS else v) for k, v in headers]


def redact_url(url: str) -> str:
    """``url`` with credential query parameters' values replaced."""
    base, sep, query = url.partition("?")
    if not sep:
        return url
    params = parse_qsl(query, keep_blank_values=True)
    if not any(k.lower() in CREDENTIAL_PARAMS for k, _ in params):
        return url
    return base + "?" + urlencode([(k, REDACTED if k.lower() in CREDENTIAL_PARAMS else v) for k, v in params])


def client_request_headers(target: str, authority: str, stream: bool, http1: bool) -> list[tuple[str, str]]:
    """The headers a ``target`` client sends with a JSON request (no credential: none is recorded)."""
    headers = [("host", authority)] if http1 else []
    headers += [
        ("content-type", "application/json"),
        ("accept", "text/event-stream" if stream else "application/json"),
    ]
    headers += list(CLIENT_HEADERS.get(target, {}).items())
    return headers


def request_streams(body: dict[str, Any]) -> bool:
    return body.get("stream") is True


def include_usage(target: str, body: dict[str, Any]) -> bool:
    """An openai-chat answer carries the usage chunk only when the request asked for it."""
    if target != "openai-chat":
        return True
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))
