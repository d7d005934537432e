"""What one recorded LLM API call says: its format, model, status, stop reason, usage and timings,
and the answer assembled (for ``crosswire flows show`` and ``crosswire flows export``).

The answer is read with crosswire's own readers: a stream through the contentview's
:func:`~crosswire.contentview.assemble` (the same reading mitmweb's "LLM stream" view shows), a
whole body or an error through the body readers; stop reasons and usage are therefore in the
canonical vocabulary whatever the format (docs/flows.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from mitmproxy import http

from . import bodies, contentview, flowformats, formats
from .addon import METADATA_KEY
from .contentview import Assembled
from .events import Message
from .options import Options


@dataclass
class Call:
    """One LLM API call of a recording, as the flow shows it (for a converted flow: the client's side)."""

    number: int  # among the calls of the file, from 1
    position: int  # the flow's place in the file, from 1
    flow: http.HTTPFlow
    format: str
    streamed: bool
    answer: Assembled | None  # None: no answer recorded
    warnings: list[str]
    route: str | None = None  # crosswire converted it: the route's name ...
    upstream_format: str | None = None  # ... and the format the provider spoke

    @property
    def status(self) -> int | None:
        return self.flow.response.status_code if self.flow.response else None

    @property
    def request_model(self) -> str | None:
        data = _json(self.flow.request.get_content(strict=False) or b"")
        model = data.get("model") if isinstance(data, dict) else None
        return model if isinstance(model, str) else None

    @property
    def model(self) -> str | None:
        """The model the answer names, else the one the request asked for."""
        return (self.answer.message.model if self.answer else None) or self.request_model

    @property
    def message(self) -> Message:
        return self.answer.message if self.answer else Message()

    @property
    def started(self) -> float:
        return self.flow.request.timestamp_start

    @property
    def duration(self) -> float | None:
        resp = self.flow.response
        return resp.timestamp_end - self.started if resp and resp.timestamp_end else None

    @property
    def first_byte(self) -> float | None:
        """Seconds from the request's end to the answer's headers (flow files keep no time per frame)."""
        resp, req = self.flow.response, self.flow.request
        if resp is None or not resp.timestamp_start or not req.timestamp_end:
            return None
        return max(0.0, resp.timestamp_start - req.timestamp_end)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def read_answer(fmt: str, path: str, status: int, content_type: str, body: bytes) -> Assembled | None:
    """The answer in canonical form: an SSE stream assembled, a whole body, or an error."""
    if not body:
        return None
    if flowformats.is_sse(content_type) and status < 400:
        assembled = contentview.assemble(body, path)
        if assembled is not None:
            return assembled
        return Assembled(fmt, Message(), 0, [f"the stream is not one crosswire reads as {fmt}"])
    if status >= 400:
        error = bodies.read_error(fmt, body, status)
        return Assembled(fmt, Message(error=(error.type, error.message)), 0, streamed=False)
    warnings: list[str] = []

    def warn(message: str) -> None:
        if message not in warnings:
            warnings.append(message)

    data = _json(body)
    try:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        message = formats.get(fmt).read_response(data, Options(), warn)
    except Exception as exc:
        return Assembled(fmt, Message(), 0, [f"the answer could not be read as {fmt}: {exc}"], streamed=False)
    return Assembled(fmt, message, 0, warnings, streamed=False)


def call_of(flow: Any, number: int, position: int) -> Call | None:
    """The call ``flow`` is, or None when it is no LLM API call."""
    if not isinstance(flow, http.HTTPFlow):
        return None
    req, resp = flow.request, flow.response
    md = flow.metadata.get(METADATA_KEY)
    record = md if isinstance(md, dict) and md.get("client_format") in formats.FORMATS else None
    content_type = resp.headers.get("content-type", "") if resp else ""
    body = (resp.get_content(strict=False) or b"") if resp else b""
    if record is not None:
        fmt: str | None = str(record["client_format"])
    else:
        fmt = flowformats.flow_format(req.method, req.path, resp.status_code if resp else 0, content_type, body)
    if fmt is None:
        return None
    answer = read_answer(fmt, req.path, resp.status_code, content_type, body) if resp else None
    warnings = list(record.get("warnings") or []) if record else []
    warnings += [w for w in (answer.warnings if answer else []) if w not in warnings]
    return Call(
        number,
        position,
        flow,
        fmt,
        flowformats.is_sse(content_type),
        answer,
        warnings,
        route=str(record.get("route")) if record and record.get("route") else None,
        upstream_format=str(record.get("upstream_format")) if record else None,
    )
