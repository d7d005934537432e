"""Usage statistics per route and model: what the addon keeps when ``crosswire_summary`` is set, and
what ``crosswire run`` and ``crosswire proxy`` print on exit. Pure: no mitmproxy import.

The addon adds one :class:`FlowStats` per matched flow when the flow ends (never per chunk); the token
counts are the canonical usage the converters already read from the upstream (see events.Usage).
"""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import bodies
from .convert import StreamConverter
from .events import Usage

VERSION = 1
# Canonical usage keys, as the summary names them.
TOKEN_KEYS = {
    "input_tokens": "input",  # neither read from nor written to a cache (OpenAI: prompt_tokens minus both)
    "output_tokens": "output",
    "cache_read_input_tokens": "cache read",
    "cache_creation_input_tokens": "cache write",
}
NO_ANSWER = "no answer"  # the upstream could not be reached, or the connection failed
MID_STREAM = "error mid-stream"  # a 2xx stream that ended in an error (upstream error event, truncation)


def error_key(status: int | None, *, answered_locally: bool = False, stream_failed: bool = False) -> str | None:
    """How a flow's outcome is counted among the errors; None for a success."""
    if status is None:
        return NO_ANSWER
    if status >= 400:
        return f"{status} (answered by crosswire)" if answered_locally else str(status)
    return MID_STREAM if stream_failed else None


@dataclass
class FlowStats:
    """One matched flow, as the addon saw it end."""

    route: str
    model: str  # as sent upstream (after the route's model_map)
    error: str | None = None  # an :func:`error_key`, None for a success
    usage: Usage = field(default_factory=dict)
    ttft: float | None = None  # seconds from the client's request to the first streamed content
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Group:
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    tokens: Counter[str] = field(default_factory=Counter)
    ttfts: list[float] = field(default_factory=list)
    warnings: Counter[str] = field(default_factory=Counter)


class Summary:
    """Flows grouped by (route, model), in the order each group was first seen."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str], _Group] = {}

    def add(self, flow: FlowStats) -> None:
        group = self._groups.setdefault((flow.route, flow.model), _Group())
        group.requests += 1
        if flow.error:
            group.errors[flow.error] += 1
        for key in TOKEN_KEYS:
            group.tokens[key] += flow.usage.get(key, 0)
        if flow.ttft is not None:
            group.ttfts.append(flow.ttft)
        group.warnings.update(flow.warnings)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "routes": [
                {
                    "route": route,
                    "model": model,
                    "requests": g.requests,
                    "errors": dict(g.errors),
                    **{key: g.tokens[key] for key in TOKEN_KEYS},
                    "median_ttft_s": round(statistics.median(g.ttfts), 4) if g.ttfts else None,
                    "timed_streams": len(g.ttfts),
                    "warnings": dict(g.warnings),
                }
                for (route, model), g in self._groups.items()
            ],
        }


def request_model(body: bytes) -> str:
    """The ``model`` of a request body (all three formats name it so); empty when there is none."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) else ""


def upstream_usage(fmt: str, body: bytes, *, streamed: bool) -> Usage:
    """The usage in an answer that passed through unconverted (an identity route), read once at its end."""
    if streamed:
        reader = StreamConverter(fmt, fmt)
        reader.feed(body)
        reader.close()
        return dict(reader.usage)
    return bodies.response_usage(fmt, body)


def write(path: str, summary: Summary) -> None:
    """Write the summary as JSON, atomically (a reader never sees half a file)."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as f:
        json.dump(summary.to_json(), f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(partial, path)


def lines(summary: dict[str, Any]) -> list[str]:
    """A summary written by the addon (:meth:`Summary.to_json`), for a person."""
    groups = summary.get("routes") or []
    if not groups:
        return ["crosswire: no request matched a route"]
    total = sum(g["requests"] for g in groups)
    out = [f"crosswire: {total} request{'s' if total != 1 else ''} converted or routed"]
    for g in groups:
        out.append(f"  {g['route']}, model {g['model'] or '(none)'}")
        errors = ", ".join(f"{key} ×{n}" for key, n in sorted(g["errors"].items()))
        out.append(f"    requests {g['requests']}" + (f", errors: {errors}" if errors else ", no errors"))
        out.append("    tokens: " + ", ".join(f"{name} {g[key]:,}" for key, name in TOKEN_KEYS.items()))
        if g["median_ttft_s"] is not None:
            n = g["timed_streams"]
            out.append(f"    time to first token: median {g['median_ttft_s']:.3f} s over {n} stream{'s' * (n != 1)}")
        for message, n in g["warnings"].items():
            out.append(f"    warning ×{n}: {message}")
    return out
