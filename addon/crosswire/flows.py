"""Offline conversion of recordings (``crosswire flows convert``).

Two modes. ``--route`` does what ``mitmdump -nr IN -s mitm.py --set crosswire_route=… -w OUT``
does, through the same code (:func:`crosswire.addon.reconvert`, which the addon's ``response``
hook runs for flows read from a file), without starting mitmproxy: flows crosswire recorded are
converted again from the upstream answer in their metadata. ``--to FORMAT`` converts any recording
(plain provider traffic, a HAR) both sides into FORMAT (:func:`crosswire.flowconvert.convert_to`).

Either way the input is read one flow at a time (:mod:`crosswire.flowfile`: flow files and HAR,
salvaging what a cut-off or damaged file still holds), every readable flow is written, converted
or not, in its original order, progress goes to stderr and a summary ends the run: what was
converted (per format pair), skipped (and why), what failed, the warnings, and what could not be read.

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

from mitmproxy import http, io

from .addon import METADATA_KEY, reconvert
from .flowconvert import convert_to
from .flowfile import NotARecording, Recording
from .options import Options
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
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (from, to) -> flows converted
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> flows
    failed: list[str] = field(default_factory=list)  # "flow N (METHOD URL): reason"
    warnings: Counter[str] = field(default_factory=Counter)  # warning -> flows
    unreadable: list[str] = field(default_factory=list)  # parts of the input no flow could be read from

    @property
    def total(self) -> int:
        return self.converted + sum(self.skipped.values()) + len(self.failed)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unreadable

    def add_converted(self, warnings: list[str], pair: tuple[str, str]) -> None:
        self.converted += 1
        self.with_warnings += bool(warnings)
        self.warnings.update(set(warnings))
        self.pairs[pair] += 1

    def lines(self) -> list[str]:
        out = [
            f"crosswire: {self.total} flow{'s' if self.total != 1 else ''}: {self.converted} converted"
            + (f" ({self.with_warnings} with warnings)" if self.with_warnings else "")
            + f", {sum(self.skipped.values())} skipped, {len(self.failed)} failed"
            + (f", {len(self.unreadable)} unreadable" if self.unreadable else "")
        ]
        out += [f"  converted {n}: {a} -> {b}" for (a, b), n in self.pairs.most_common()]
        out += [f"  skipped {n}: {reason}" for reason, n in self.skipped.most_common()]
        out += [f"  warning ({n} flow{'s' if n != 1 else ''}): {w}" for w, n in self.warnings.most_common()]
        out += [f"  failed: {failure}" for failure in self.failed]
        out += [f"  unreadable: {part}" for part in self.unreadable]
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


def _label(flow: Any, number: int) -> str:
    label = f"flow {number}"
    if isinstance(flow, http.HTTPFlow):
        label += f" ({flow.request.method} {flow.request.pretty_url})"
    return label


def convert_flow(flow: Any, routes: list[Route], summary: Summary, number: int) -> None:
    """Convert one flow in place (when a route applies) and count the outcome."""
    label = _label(flow, number)
    if isinstance(flow, http.HTTPFlow):
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
        md = flow.metadata[METADATA_KEY]
        summary.add_converted(md.get("warnings") or [], (md["upstream_format"], md["client_format"]))
    else:
        warned = capture.messages(logging.WARNING)
        summary.skipped[warned[0] if warned else _skip_reason(flow, routes)] += 1


def convert_flow_to(
    flow: Any, target: str, options: Options, source: str | None, summary: Summary, number: int
) -> None:
    """Convert one flow of any recording into ``target`` (both sides) and count the outcome."""
    with _captured() as capture:
        try:
            outcome = convert_to(flow, target, options, source)
        except Exception as exc:  # one bad flow must not end the whole run; it is written as it was
            summary.failed.append(f"{_label(flow, number)}: {exc!r}")
            return
    errors = capture.messages(logging.ERROR)
    if outcome.status == "converted" and errors:
        outcome.warnings.extend(errors)
    if outcome.status == "converted":
        assert outcome.pair is not None
        summary.add_converted(outcome.warnings, outcome.pair)
    elif outcome.status == "skipped":
        summary.skipped[outcome.reason] += 1
    else:
        summary.failed.append(f"{_label(flow, number)}: {outcome.reason}")


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f}"


class Progress:
    """Flows done (of how many) and bytes read on stderr: one line redrawn on a terminal, a line
    every few seconds otherwise."""

    def __init__(self, total_bytes: int, stream: TextIO, total_flows: int | None = None) -> None:
        self.total_bytes = max(total_bytes, 1)
        self.total_flows = total_flows
        self.stream = stream
        self.tty = stream.isatty()
        self.last = time.monotonic()

    def update(self, flows: int, position: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (REDRAW_EVERY if self.tty else PROGRESS_EVERY):
            return
        if final and not self.tty:
            return  # the summary follows
        self.last = now
        done = f"{flows}/{self.total_flows}" if self.total_flows is not None else str(flows)
        text = (
            f"crosswire: {done} flows, {_megabytes(position)} of {_megabytes(self.total_bytes)} MB"
            f" ({min(100, position * 100 // self.total_bytes)}%)"
        )
        if self.tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def convert_file(
    src: Path,
    dst: Path,
    route_lines: list[str] | None = None,
    config: str | None = None,
    thinking: str = "reasoning_content",
    stderr: TextIO | None = None,
    *,
    target: str | None = None,
    source: str | None = None,
    model_map: dict[str, str] | None = None,
) -> Summary:
    """Convert every flow of ``src`` into ``dst`` (written whole or not at all; ``dst`` may be ``src``).

    With ``target``, every LLM API call is rewritten into that format (``source`` forces the
    recorded format); otherwise the routes convert flows crosswire recorded. Raises
    ``routes.ConfigError`` for bad routes and ``ValueError`` for bad arguments or a file that is
    neither a flow file nor a HAR file.
    """
    stderr = stderr or sys.stderr
    routes: list[Route] = []
    if target is not None:
        if route_lines or config:
            raise ValueError("--to converts any recording, --route re-converts crosswire's: use one of them")
        options = Options(thinking=thinking, model_map=dict(model_map or {}))
    else:
        if source is not None or model_map:
            raise ValueError("--from and --model go with --to FORMAT")
        routes = load_routes(config, route_lines or [], thinking=thinking, environ=_NoKeyNeeded())
        if not routes:
            raise ValueError(
                "nothing to do: pass --to FORMAT (any recording), or --route 'MATCH -> UPSTREAM' / "
                "--config FILE (flows recorded through crosswire)"
            )
    recording = Recording(src)
    progress = Progress(recording.size, stderr, recording.count())
    summary = Summary()
    tmp = dst.with_name(f".{dst.name}.crosswire-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fout:
            writer = io.FlowWriter(fout)
            number = 0
            try:
                for number, flow in enumerate(recording.flows(), 1):
                    if target is not None:
                        convert_flow_to(flow, target, options, source, summary, number)
                    else:
                        convert_flow(flow, routes, summary, number)
                    writer.add(flow)
                    progress.update(number, recording.position)
            except NotARecording as exc:
                raise ValueError(str(exc)) from None
            progress.update(number, recording.size, final=True)
        summary.unreadable = [str(part) for part in recording.unreadable]
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return summary
