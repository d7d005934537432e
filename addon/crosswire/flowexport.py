"""``crosswire flows export IN DIR``: each LLM API call of a recording as fixture files a test suite loads.

Layout (docs/flows.md), NNN the call's number zero-padded (three digits, more for larger files):

- ``NNN-request.json``: the request body as sent (content-encoding undone);
- ``NNN-response.sse`` (a stream) or ``NNN-response.json`` (a whole body or an error), the answer's
  body as received (``NNN-response.txt`` for an answer in neither shape, e.g. a proxy's HTML page);
  none when the recording holds no answer;
- ``NNN-upstream-request.json`` and ``NNN-upstream-response.sse``/``.json``: for a call crosswire
  converted, the other side (what the provider received and sent, from the flow's metadata);
- ``NNN-meta.json``: where the call went and what it carried (see :func:`meta`);
- ``index.json``: the source file and every call's number, files and summary, in order.

Credentials are never written: headers that carry one are replaced, as in crosswire's recordings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from . import flowformats
from .addon import METADATA_KEY
from .flowfacts import Call, call_of
from .flowfile import Recording

INDEX = "index.json"
LAYOUT_VERSION = 1


@dataclass
class ExportSummary:
    calls: int = 0
    flows: int = 0
    unreadable: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"crosswire: {self.calls} LLM API call{'s' if self.calls != 1 else ''} exported"
            f" (of {self.flows} flow{'s' if self.flows != 1 else ''})"
        ]
        return out + [f"  unreadable: {part}" for part in self.unreadable]


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def _answer_suffix(content_type: str, body: bytes) -> str:
    if flowformats.is_sse(content_type):
        return "sse"
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return "txt"
    return "json"


def _headers(pairs: Any) -> list[list[str]]:
    return [list(h) for h in flowformats.redact_headers([(str(k), str(v)) for k, v in pairs])]


def meta(call: Call, files: dict[str, str]) -> dict[str, Any]:
    """What ``NNN-meta.json`` holds about a call (every key always present; null when unknown)."""
    req, resp = call.flow.request, call.flow.response
    msg = call.message
    record = call.flow.metadata.get(METADATA_KEY)
    converted = None
    if call.upstream_format is not None and isinstance(record, dict):
        upstream_request = record.get("upstream_request") or {}
        converted = {
            "route": call.route,
            "client_format": call.format,
            "upstream_format": call.upstream_format,
            "upstream_url": flowformats.redact_url(str(upstream_request.get("url", ""))) or None,
            "upstream_status": (record.get("upstream_response") or {}).get("status_code"),
        }
    return {
        "layout": LAYOUT_VERSION,
        "number": call.number,
        "flow": call.position,
        "id": call.flow.id,
        "time": datetime.fromtimestamp(call.started, UTC).isoformat().replace("+00:00", "Z"),
        "method": req.method,
        "url": flowformats.redact_url(req.url),
        "http_version": req.http_version,
        "request_headers": _headers(req.headers.items(multi=True)),
        "status": resp.status_code if resp else None,
        "reason": resp.reason if resp else None,
        "response_headers": _headers(resp.headers.items(multi=True)) if resp else None,
        "format": call.format,
        "streamed": call.streamed,
        "crosswire": converted,
        "model": {"request": call.request_model, "response": msg.model or None},
        "stop_reason": msg.stop_reason,
        "usage": msg.usage or None,
        "error": {"type": msg.error[0], "message": msg.error[1]} if msg.error else None,
        "warnings": call.warnings,
        "duration": call.duration,
        "first_byte": call.first_byte,
        "files": files,
    }


def _write(directory: Path, name: str, data: bytes) -> str:
    (directory / name).write_bytes(data)
    return name


def export_call(call: Call, directory: Path, width: int) -> dict[str, Any]:
    """Write one call's files; its entry in the index."""
    stem = str(call.number).zfill(width)
    req, resp = call.flow.request, call.flow.response
    files = {"request": _write(directory, f"{stem}-request.json", req.get_content(strict=False) or b"")}
    if resp is not None and resp.raw_content:
        body = resp.get_content(strict=False) or b""
        suffix = _answer_suffix(resp.headers.get("content-type", ""), body)
        files["response"] = _write(directory, f"{stem}-response.{suffix}", body)
    record = call.flow.metadata.get(METADATA_KEY)
    if call.upstream_format is not None and isinstance(record, dict):
        up_req, up_resp = record.get("upstream_request"), record.get("upstream_response")
        if isinstance(up_req, dict):
            files["upstream_request"] = _write(directory, f"{stem}-upstream-request.json", up_req.get("body") or b"")
        if isinstance(up_resp, dict) and up_resp.get("body"):
            content_type = next((str(v) for k, v in up_resp["headers"] if str(k).lower() == "content-type"), "")
            suffix = _answer_suffix(content_type, up_resp["body"])
            files["upstream_response"] = _write(directory, f"{stem}-upstream-response.{suffix}", up_resp["body"])
    files["meta"] = f"{stem}-meta.json"
    facts = meta(call, files)
    _write(directory, files["meta"], _dumps(facts))
    keys = ("number", "flow", "method", "url", "status", "format", "streamed", "stop_reason")
    return {
        **{k: facts[k] for k in keys},
        "model": facts["model"]["response"] or facts["model"]["request"],
        "files": files,
    }


def export_file(src: Path, directory: Path) -> ExportSummary:
    """Export every call of ``src`` into ``directory`` (created; it must be empty).

    Raises ``ValueError`` for a directory that is not empty or a file that is no recording.
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ValueError(f"{directory} is not an empty directory: export into a new one (or empty it first)")
    recording = Recording(src)
    total = recording.count()
    width = max(3, len(str(total or 0)))
    directory.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary()
    index_entries: list[dict[str, Any]] = []
    try:
        for position, flow in enumerate(recording.flows(), 1):
            summary.flows = position
            call = call_of(flow, summary.calls + 1, position)
            if call is not None:
                summary.calls += 1
                index_entries.append(export_call(call, directory, width))
    except Exception:
        if not any(directory.iterdir()):
            os.rmdir(directory)
        raise
    summary.unreadable = [str(part) for part in recording.unreadable]
    index = {
        "layout": LAYOUT_VERSION,
        "source": str(src),
        "source_kind": recording.kind,
        "flows": summary.flows,
        "calls": index_entries,
        "unreadable": summary.unreadable,
    }
    _write(directory, INDEX, _dumps(index))
    return summary
