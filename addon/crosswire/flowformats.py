"""What the flow-file tools (``crosswire flows convert --to``, ``export``, ``show``) ask about formats.

All of it comes from the format registry (:data:`crosswire.formats.FORMATS`: endpoint suffixes,
default and credential headers, official hosts, how an answer tells its format, whether a request
asks for usage, the upstream path a format wants); this module applies it to recorded exchanges.
"""

from __future__ import annotations

from typing import Any

import orjson

from . import contentview, policy
from .formats import FORMATS

API_VERSION_PREFIX = "/v1"  # where an endpoint lives when the recorded path does not say


def path_format(path: str) -> str | None:
    """The format a request path's endpoint implies (query ignored), or None."""
    fmt = FORMATS.for_path(path)
    return fmt.name if fmt else None


def endpoint_path(source_path: str, source: str, target: str, model: str = "", stream: bool = False) -> str:
    """The target's endpoint in place of the source's, keeping the prefix before it (``/v1``, a
    gateway's ``/openai/v1``); the source's query is not kept: it belongs to the source's API.

    An endpoint that is a method of a model's resource (``…/models/{model}:generateContent``) has
    no prefix to keep (its path is the model's, its version its own API's): the target's endpoint
    is under :data:`API_VERSION_PREFIX`. A target with such endpoints builds the model's path from
    the prefix alone.
    """
    path = source_path.split("?", 1)[0].rstrip("/")
    source_format, target_format = FORMATS.get(source), FORMATS.get(target)
    suffix = next((s for s in source_format.path_suffixes if path.endswith(s)), None)
    prefix = path[: -len(suffix)] if suffix and not source_format.model_in_path else API_VERSION_PREFIX
    base = prefix if target_format.model_in_path else prefix + target_format.path_suffixes[0]
    return target_format.request_target(base, model, stream)


def target_host(host: str, source: str, target: str) -> str:
    """A recording of the source's official API is addressed to the target's; any other host (a
    local server, a gateway, a fake) is kept."""
    official, target_official = FORMATS.get(source).official_host, FORMATS.get(target).official_host
    return target_official if official and target_official and host.lower() == official else host


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
    return next((f.name for f in FORMATS if f.response_body(data)), None)


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
    """Headers with every credential's value replaced (recordings keep no key): the addon's policy."""
    return policy.client_view_headers(headers)


def redact_url(url: str) -> str:
    """``url`` with credential query parameters' values replaced (the addon's policy)."""
    base, sep, query = url.partition("?")
    return f"{base}?{policy.redact_query(query)}" if sep else url


def client_request_headers(target: str, authority: str, stream: bool, http1: bool) -> list[tuple[str, str]]:
    """The headers a ``target`` client sends with a JSON request (no credential: none is recorded)."""
    headers = [("host", authority)] if http1 else []
    headers += [
        ("content-type", "application/json"),
        ("accept", "text/event-stream" if stream else "application/json"),
    ]
    headers += list(FORMATS.get(target).default_headers.items())
    return headers


def include_usage(target: str, body: dict[str, Any]) -> bool:
    """Whether the converted request asks for usage in the answer (openai-chat: stream_options)."""
    return FORMATS.get(target).client_wants_usage(body)
