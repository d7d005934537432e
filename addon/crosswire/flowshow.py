"""``crosswire flows show``: the LLM API calls of a recording, one line each, or one of them in full.

The recording is read one flow at a time (:mod:`crosswire.flowfile`), so a line is printed as soon as
its flow is read, whatever the file's size. ``--detail N`` renders call N's answer with the same
code as mitmweb's "LLM stream" view (:func:`crosswire.contentview.render_text`).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import orjson

from . import contentview, formats
from .addon import METADATA_KEY
from .flowfacts import Call, call_of, read_answer
from .flowfile import Recording
from .options import Options

# (title, width): the last columns may run over; a converted call's route follows them.
COLUMNS = (
    ("#", 4),
    ("time", 20),
    ("method", 6),
    ("host/path", 40),
    ("format", 32),
    ("model", 22),
    ("status", 6),
    ("stop", 24),
    ("in/out/cached", 14),
    ("duration", 8),
    ("ttfb", 7),
)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def cells(call: Call) -> list[str]:
    """The columns of :data:`COLUMNS` for ``call``."""
    req = call.flow.request
    msg = call.message
    fmt = call.format if call.upstream_format in (None, call.format) else f"{call.format}<-{call.upstream_format}"
    stop = msg.stop_reason or ""
    if msg.error:
        stop = f"error: {msg.error[0]}"
    usage = msg.usage
    tokens = "-"
    if usage:
        keys = ("input_tokens", "output_tokens", "cache_read_input_tokens")
        tokens = "/".join(str(usage.get(k, 0)) for k in keys)
    return [
        str(call.number),
        datetime.fromtimestamp(call.started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        req.method,
        f"{req.pretty_host}{'' if req.port in (80, 443) else f':{req.port}'}{req.path.split('?', 1)[0]}",
        fmt,
        call.model or "-",
        str(call.status) if call.status is not None else "-",
        stop or "-",
        tokens,
        _seconds(call.duration),
        _seconds(call.first_byte),
    ]


def line(values: list[str]) -> str:
    out = "  ".join(value.ljust(width) for value, (_, width) in zip(values, COLUMNS, strict=True))
    return out.rstrip()


def header() -> str:
    return line([title for title, _ in COLUMNS])


def row(call: Call) -> str:
    text = line(cells(call))
    if not call.route:
        return text
    # route names read "route 'claude'"; a one-line route's is its quoted line; offline ones say what they are
    return text + "  " + (f"route {call.route}" if call.route.startswith(("'", '"')) else call.route)


def _request_summary(call: Call) -> str:
    """What was asked: model, turns, tools, streaming (read with the format's request reader)."""
    body = call.flow.request.get_content(strict=False) or b""
    try:
        request = formats.get(call.format).read_request(orjson.loads(body), Options(), lambda _: None)
    except Exception as exc:
        return f"request: not readable as {call.format} ({exc})"
    facts = [
        request.model or "no model",
        f"{len(request.messages)} message" + ("s" if len(request.messages) != 1 else ""),
    ]
    if request.system:
        facts.append("system prompt")
    if request.tools:
        facts.append(
            f"{len(request.tools)} tool"
            + ("s" if len(request.tools) != 1 else "")
            + ": "
            + ", ".join(t.name for t in request.tools)
        )
    facts.append("streamed" if request.stream else "not streamed")
    return "request: " + ", ".join(facts)


def detail(call: Call) -> str:
    """Call ``call`` in full: its line, the request, the answer as the content view renders it."""
    parts = [header(), row(call), "", _request_summary(call), ""]
    if call.answer is None:
        parts.append("no answer recorded")
    else:
        parts.append(contentview.render_text(call.answer))
    record = call.flow.metadata.get(METADATA_KEY)
    upstream = record.get("upstream_response") if isinstance(record, dict) else None
    if isinstance(upstream, dict) and call.upstream_format and call.upstream_format != call.format:
        headers = {str(k).lower(): str(v) for k, v in upstream.get("headers", [])}
        answer = read_answer(
            call.upstream_format,
            call.flow.request.path,
            int(upstream.get("status_code", 0)),
            headers.get("content-type", ""),
            upstream.get("body") or b"",
        )
        parts += ["", f"── the provider's answer ({call.upstream_format}, kept in the flow's metadata) ──"]
        parts.append(contentview.render_text(answer) if answer else "no answer recorded")
    if call.warnings:  # crosswire's, recorded with the flow (the rendered answer lists the reader's)
        parts += ["", *(f"warning: {w}" for w in call.warnings)]
    return "\n".join(parts)


def show_file(path: Path, out: TextIO, detail_number: int | None = None, err: TextIO | None = None) -> int:
    """Print the calls of ``path`` (or call ``detail_number`` in full); 1 when part of it could not be read."""
    err = err or sys.stderr
    recording = Recording(path)
    calls = 0
    flows = 0
    if detail_number is None:
        out.write(header() + "\n")
    for flows, flow in enumerate(recording.flows(), 1):
        call = call_of(flow, calls + 1, flows)
        if call is None:
            continue
        calls += 1
        if detail_number is None:
            out.write(row(call) + "\n")
            out.flush()
        elif call.number == detail_number:
            out.write(detail(call) + "\n")
            break
    else:
        if detail_number is not None:
            raise ValueError(f"there is no call {detail_number}: {path} holds {calls} LLM API calls")
    if detail_number is None:
        err.write(
            f"crosswire: {calls} LLM API call{'s' if calls != 1 else ''} in {flows} flow{'s' if flows != 1 else ''}\n"
        )
    for part in recording.unreadable:
        err.write(f"crosswire: unreadable: {part}\n")
    return 1 if recording.unreadable else 0
