"""Offline conversion of recorded flow files (``crosswire flows convert``).

It does what ``mitmdump -nr IN -s mitm.py --set crosswire_route=… -w OUT`` does, through the same
code (:func:`crosswire.addon.reconvert`, which the addon's ``response`` hook runs for flows read
from a file), without starting mitmproxy: flows are read and written with ``mitmproxy.io``, and
every flow is written, converted or not, in its original order. On top of that it shows progress
and ends with a summary of what was converted, skipped (and why) and what failed.

Like addon.py this is part of the mitmproxy shell; the CLI imports it only for this command.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mitmproxy import exceptions, http, io

from .addon import METADATA_KEY, reconvert
from .routes import Route, find_route, load_routes

PROGRESS_EVERY = 2.0  # seconds between progress lines when stderr is not a terminal
REDRAW_EVERY = 0.1  # seconds between redraws of the progress line on a terminal


class _NoKeyNeeded(dict[str, str]):
    """The environment, but every API key is 'set': converting a recording sends nothing upstream."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return os.environ.get(key) or "unused: offline conversion"


@dataclass
class Summary:
    converted: int = 0
    with_warnings: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> flows
    failed: list[str] = field(default_factory=list)  # "flow N (METHOD URL): reason"
    warnings: Counter[str] = field(default_factory=Counter)  # warning -> flows

    @property
    def total(self) -> int:
        return self.converted + sum(self.skipped.values()) + len(self.failed)

    def lines(self) -> list[str]:
        out = [
            f"crosswire: {self.total} flow{'s' if self.total != 1 else ''}: {self.converted} converted"
            + (f" ({self.with_warnings} with warnings)" if self.with_warnings else "")
            + f", {sum(self.skipped.values())} skipped, {len(self.failed)} failed"
        ]
        out += [f"  skipped {n}: {reason}" for reason, n in self.skipped.most_common()]
        out += [f"  warning ({n} flow{'s' if n != 1 else ''}): {w}" for w, n in self.warnings.most_common()]
        out += [f"  failed: {failure}" for failure in self.failed]
        return out


class _Capture(logging.Handler):
    """What the addon logs while it converts one flow: its warnings and errors explain the outcome."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int) -> list[str]:
        return [r.getMessage().removeprefix("crosswire: ") for r in self.records if r.levelno == level]


@contextmanager
def _captured() -> Iterator[_Capture]:
    logger = logging.getLogger("crosswire")
    capture = _Capture()
    logger.addHandler(capture)
    propagate, logger.propagate = logger.propagate, False  # the summary reports it; no traceback on stderr
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate


def _skip_reason(flow: Any, routes: list[Route]) -> str:
    """Why :func:`reconvert` left a flow as it was (the checks it makes, in its order)."""
    if not isinstance(flow, http.HTTPFlow):
        return f"not an HTTP flow ({flow.type})"
    if flow.response is None:
        return "no response"
    md = flow.metadata.get(METADATA_KEY)
    if not isinstance(md, dict) or not isinstance(md.get("upstream_response"), dict):
        return "not recorded through crosswire (no upstream answer in the flow's metadata)"
    req = flow.request
    route = find_route(routes, req.method, req.scheme, req.host, req.port, req.path)
    if route is None:
        return "no route matches the client request"
    if route.identity:
        return f"{route.name} is an identity route: nothing to convert"
    return "left as it is"


def convert_flow(flow: Any, routes: list[Route], summary: Summary, number: int) -> None:
    """Convert one flow in place (when a route applies) and count the outcome."""
    label = f"flow {number}"
    if isinstance(flow, http.HTTPFlow):
        label += f" ({flow.request.method} {flow.request.pretty_url})"
        md = flow.metadata.get(METADATA_KEY)
        upstream = md.get("upstream_response") if isinstance(md, dict) else None
        if isinstance(upstream, dict) and upstream.get("truncated"):
            summary.failed.append(
                f"{label}: the recorded upstream body was cut at crosswire_record_limit; record with a higher limit"
            )
            return
    with _captured() as capture:
        try:
            changed = isinstance(flow, http.HTTPFlow) and reconvert(flow, routes)
        except Exception as exc:  # a malformed recording must not end the whole run
            summary.failed.append(f"{label}: {exc!r}")
            return
    errors = capture.messages(logging.ERROR)
    if errors:  # the addon answered the client with an error body: the recording could not be converted
        summary.failed.append(f"{label}: {errors[0]}")
    elif changed:
        summary.converted += 1
        warnings = flow.metadata[METADATA_KEY].get("warnings") or []
        summary.with_warnings += bool(warnings)
        summary.warnings.update(set(warnings))
    else:
        warned = capture.messages(logging.WARNING)
        summary.skipped[warned[0] if warned else _skip_reason(flow, routes)] += 1


class Progress:
    """A count and percentage on stderr: one line redrawn on a terminal, a line every few seconds otherwise."""

    def __init__(self, total_bytes: int, stream: TextIO) -> None:
        self.total_bytes = max(total_bytes, 1)
        self.stream = stream
        self.tty = stream.isatty()
        self.last = time.monotonic()
        self.drawn = False

    def update(self, flows: int, position: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (REDRAW_EVERY if self.tty else PROGRESS_EVERY):
            return
        if final and not self.tty:
            return  # the summary follows
        self.last = now
        text = f"crosswire: {flows} flows read, {min(100, position * 100 // self.total_bytes)}%"
        if self.tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def convert_file(
    src: Path,
    dst: Path,
    route_lines: list[str],
    config: str | None = None,
    thinking: str = "reasoning_content",
    stderr: TextIO | None = None,
) -> Summary:
    """Convert every flow of ``src`` into ``dst`` (written whole or not at all; ``dst`` may be ``src``).

    Raises ``routes.ConfigError`` for bad routes and ``ValueError`` for a file that is not a flow file.
    """
    stderr = stderr or sys.stderr
    routes = load_routes(config, route_lines, thinking=thinking, environ=_NoKeyNeeded())
    if not routes:
        raise ValueError("no route given: pass --route 'MATCH -> UPSTREAM' or --config FILE")
    summary = Summary()
    tmp = dst.with_name(f".{dst.name}.crosswire-{os.getpid()}.tmp")
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            progress = Progress(os.fstat(fin.fileno()).st_size, stderr)
            writer = io.FlowWriter(fout)
            number = 0
            try:
                for number, flow in enumerate(io.FlowReader(fin).stream(), 1):
                    convert_flow(flow, routes, summary, number)
                    writer.add(flow)
                    progress.update(number, fin.tell())
            except exceptions.FlowReadException as exc:
                raise ValueError(f"{src}: not a readable flow file after {number} flows: {exc}") from None
            progress.update(number, fin.tell(), final=True)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return summary
