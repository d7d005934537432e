"""One recorded LLM API call rewritten into another format, both sides (``crosswire flows convert --to``).

The flow is made to look as if a client of the target format had made the request and a provider
of that format had answered it: the request's URL (the target's endpoint), headers (what such a
client sends, no credential) and body (:func:`bodies.convert_request`); the answer's status,
headers and body, converted by :func:`addon.convert_body` (JSON, errors with their status, SSE
streams frame by frame), the same function the live addon and ``--route`` re-conversion use.

What was recorded is kept in ``flow.metadata["crosswire"]`` in the addon's recording layout
(docs/addon.md): the original request and answer are the ``upstream_request`` and
``upstream_response`` (the converted flow is a target-format client talking, through crosswire,
to the recorded provider), so ``--route`` can convert the result again from the original bytes.
A flow recorded through crosswire is converted from its recorded upstream side, and the client
side it had is kept as ``previous_client``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import orjson
from mitmproxy import http

from . import bodies, flowformats
from .addon import MARKER, METADATA_KEY, convert_body
from .options import Options
from .routes import DEFAULT_PORTS, Route, Upstream, URLPattern


@dataclass
class Outcome:
    """What happened to one flow: ``converted`` (``pair`` is source, target), ``skipped`` or ``failed``."""

    status: str
    reason: str = ""
    pair: tuple[str, str] | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Exchange:
    """One side pair as recorded: the request as sent, the answer with its body decoded."""

    method: str
    url: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes
    status: int
    reason: str
    response_http_version: str
    response_headers: list[tuple[str, str]]
    response_body: bytes


def _pairs(headers: http.Headers) -> list[tuple[str, str]]:
    return list(headers.items(multi=True))


def _headers(pairs: list[tuple[str, str]] | list[list[str]]) -> http.Headers:
    return http.Headers([(str(k).encode(), str(v).encode("utf-8", "surrogateescape")) for k, v in pairs])


def _request_view(ex: _Exchange) -> dict[str, Any]:
    return {
        "method": ex.method,
        "url": flowformats.redact_url(ex.url),
        "http_version": ex.http_version,
        "headers": [list(h) for h in flowformats.redact_headers(ex.headers)],
        "body": ex.body,
        "truncated": False,
    }


def _response_view(ex: _Exchange) -> dict[str, Any]:
    encoding = next((v for k, v in ex.response_headers if k.lower() == "content-encoding"), "")
    return {
        "status_code": ex.status,
        "reason": ex.reason,
        "http_version": ex.response_http_version,
        "headers": [list(h) for h in ex.response_headers],
        "body": ex.response_body,
        "content_encoding": encoding,
        "truncated": False,
        "undecoded": b"",
    }


def _from_flow(flow: http.HTTPFlow) -> _Exchange:
    req, resp = flow.request, flow.response
    assert resp is not None
    return _Exchange(
        req.method,
        req.url,
        req.http_version,
        _pairs(req.headers),
        req.get_content(strict=False) or b"",
        resp.status_code,
        resp.reason,
        resp.http_version,
        _pairs(resp.headers),
        resp.get_content(strict=False) or b"",
    )


def _from_metadata(md: dict[str, Any]) -> _Exchange:
    """The upstream side of a flow crosswire recorded (KeyError/TypeError when malformed)."""
    up_req, up_resp = md["upstream_request"], md["upstream_response"]
    if up_resp.get("truncated") or up_req.get("truncated"):
        raise ValueError("the recorded upstream body was cut at crosswire_record_limit; record with a higher limit")
    return _Exchange(
        up_req["method"],
        up_req["url"],
        up_req["http_version"],
        [(k, v) for k, v in up_req["headers"]],
        up_req["body"],
        up_resp["status_code"],
        up_resp["reason"],
        up_resp["http_version"],
        [(k, v) for k, v in up_resp["headers"]],
        up_resp["body"],
    )


def _client_view(flow: http.HTTPFlow) -> dict[str, Any]:
    req, resp = flow.request, flow.response
    md = flow.metadata[METADATA_KEY]
    return {
        "format": md.get("client_format"),
        "route": md.get("route"),
        "warnings": md.get("warnings"),
        "request": {
            "method": req.method,
            "url": req.url,
            "http_version": req.http_version,
            "headers": [list(h) for h in _pairs(req.headers)],
            "body": req.raw_content or b"",
        },
        "response": None
        if resp is None
        else {
            "status_code": resp.status_code,
            "reason": resp.reason,
            "http_version": resp.http_version,
            "headers": [list(h) for h in _pairs(resp.headers)],
            "body": resp.raw_content or b"",
        },
    }


def _content_type(headers: list[tuple[str, str]]) -> str:
    return next((v for k, v in headers if k.lower() == "content-type"), "")


def convert_to(flow: Any, target: str, options: Options, source: str | None = None) -> Outcome:
    """Rewrite ``flow`` (in place) into ``target``; ``source`` forces the recorded format.

    Flows that are no LLM API call, or already in ``target``, are left as they are (``skipped``);
    a flow that cannot be converted is left as it is too (``failed``, with the reason).
    """
    if not isinstance(flow, http.HTTPFlow):
        return Outcome("skipped", f"not an HTTP flow ({flow.type})")
    if flow.response is None:
        return Outcome("skipped", "no response")
    md = flow.metadata.get(METADATA_KEY)
    through_crosswire = isinstance(md, dict) and "upstream_response" in md
    try:
        if through_crosswire:
            assert isinstance(md, dict)
            if md["upstream_response"] is None:
                return Outcome("skipped", "recorded through crosswire, but no upstream answer was recorded")
            ex = _from_metadata(md)
        else:
            ex = _from_flow(flow)
    except Exception as exc:
        return Outcome("failed", f"unusable crosswire recording: {exc if isinstance(exc, ValueError) else repr(exc)}")

    url = urlsplit(ex.url)
    path = url.path + (f"?{url.query}" if url.query else "")
    if source is None and through_crosswire:
        assert isinstance(md, dict)
        source = md.get("upstream_format")
    if source is None:
        source = flowformats.flow_format(
            ex.method, path, ex.status, _content_type(ex.response_headers), ex.response_body
        )
        if source is None:
            return Outcome("skipped", "not an LLM API call")
    elif ex.method.upper() != "POST":
        return Outcome("skipped", "not an LLM API call")
    if source == target and through_crosswire:  # the provider already spoke it: its exchange is the answer
        assert isinstance(md, dict)
        return _restore_provider_side(flow, ex, md)
    if source == target:
        return Outcome("skipped", f"already {target}")
    if ex.status == 0:  # a HAR entry for a request that got no answer
        return Outcome("skipped", "no response")
    if not ex.response_body:
        return Outcome("failed", "the answer's body is not in the recording", (source, target))

    try:
        request = bodies.convert_request(source, target, ex.body, options, path)
    except bodies.RequestRejected as exc:
        return Outcome("failed", f"the request cannot be made in {target}: {exc.message}", (source, target))
    warnings = list(request.warnings)

    original_model = _model(ex.body)
    model = request.body.get("model")
    answer_options = Options(
        thinking=options.thinking,
        model=model if isinstance(model, str) and options.model_map and model != original_model else None,
        created=int(flow.response.timestamp_start or flow.request.timestamp_start or 0) or None,
        include_usage=flowformats.include_usage(target, request.body),
    )
    target_path = flowformats.endpoint_path(url.path, source, target, request.model, request.stream)
    route = _route(source, target, url, target_path)
    status, headers, body, answer_warnings, _ = convert_body(
        route, ex.status, _headers(ex.response_headers), ex.response_body, answer_options
    )
    if ex.status < 400 and status >= 400:
        reason = orjson.loads(body).get("error", {}).get("message", "") if body[:1] == b"{" else ""
        return Outcome("failed", f"the answer could not be read as {source}: {reason}", (source, target))
    warnings += [w for w in answer_warnings if w not in warnings]

    previous = _client_view(flow) if through_crosswire else None
    _rewrite_request(flow, url, source, target, target_path, request)
    resp = flow.response
    if status != resp.status_code:
        resp.reason = http.status_codes.RESPONSES.get(status, "") if resp.http_version.startswith("HTTP/1") else ""
    resp.status_code = status
    headers["content-length"] = str(len(body))
    resp.headers = headers
    resp.raw_content = body

    record: dict[str, Any] = dict(md) if through_crosswire and isinstance(md, dict) else {}
    if not through_crosswire:
        record.update(
            upstream_request=_request_view(ex),
            upstream_response=_response_view(ex),
            client_body_truncated=False,
            error=flow.error.msg if flow.error else None,
        )
    record.update(
        version=1,
        route=route.name,
        client_format=target,
        upstream_format=source,
        streamed=flowformats.is_sse(_content_type(ex.response_headers)),
        warnings=warnings,
        converted_offline=True,
    )
    if previous is not None:
        record["previous_client"] = previous
    flow.metadata[METADATA_KEY] = record
    flow.marked = MARKER
    flow.comment = f"crosswire flows convert: {source} -> {target}"
    return Outcome("converted", pair=(source, target), warnings=warnings)


def _restore_provider_side(flow: http.HTTPFlow, ex: _Exchange, md: dict[str, Any]) -> Outcome:
    """A flow crosswire recorded, asked for in its provider's format: the provider's exchange as it was
    recorded (key redacted), the client side it had kept as ``previous_client``."""
    previous = _client_view(flow)
    req, resp = flow.request, flow.response
    assert resp is not None
    req.method = ex.method
    req.url = ex.url
    req.headers = _headers(ex.headers)
    req.raw_content = ex.body
    resp.status_code, resp.reason = ex.status, ex.reason
    resp.headers = _headers(ex.response_headers)
    resp.headers.pop("content-encoding", None)  # the recorded body is decoded
    resp.headers.pop("transfer-encoding", None)
    resp.headers["content-length"] = str(len(ex.response_body))
    resp.raw_content = ex.response_body
    fmt = str(md.get("upstream_format"))
    record = {
        **md,
        "route": f"flows convert --to {fmt}",
        "client_format": fmt,
        "warnings": [],
        "converted_offline": True,
    }
    record["previous_client"] = previous
    flow.metadata[METADATA_KEY] = record
    flow.comment = f"crosswire flows convert: the {fmt} provider's exchange, as recorded"
    return Outcome("converted", pair=(fmt, fmt))


def _model(body: bytes) -> Any:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data.get("model") if isinstance(data, dict) else None


def _port(url: SplitResult) -> int:
    return url.port or (443 if url.scheme.lower() == "https" else 80)


def _route(source: str, target: str, url: SplitResult, target_path: str) -> Route:
    """The route a live crosswire would have used: a ``target`` client sent to the recorded upstream."""
    scheme = url.scheme.lower()
    upstream = Upstream(scheme, (url.hostname or "").lower(), _port(url), url.path)
    return Route(
        name=f"flows convert --to {target}",
        match=URLPattern(None, "", None, target_path.split("?", 1)[0]),
        upstream=upstream,
        client_format=target,
        upstream_format=source,
        api_key_env="",
    )


def _rewrite_request(
    flow: http.HTTPFlow, url: SplitResult, source: str, target: str, path: str, request: bodies.Converted
) -> None:
    """The request a ``target`` client sends for ``body`` to the recorded provider's host (or, for a
    format's official API, the target's)."""
    req = flow.request
    host = flowformats.target_host((url.hostname or "").lower(), source, target)
    scheme = url.scheme.lower()
    port = _port(url) if host == (url.hostname or "").lower() else 443
    authority = host if port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    req.url = f"{scheme}://{authority}{path}"
    req.host_header = authority
    http1 = req.http_version.startswith("HTTP/1")
    req.headers = _headers(flowformats.client_request_headers(target, authority, request.stream, http1))
    req.raw_content = orjson.dumps(request.body)
    req.headers["content-length"] = str(len(req.raw_content))
