"""The stream adapter's own cost per frame, beside the converter it wraps (not a test).

    python bench/bench_adapter.py [--before REF] [--events N] [--rounds N]

``flow.response.stream`` is crosswire's StreamAdapter: decode, convert, redact, record. Measured in
one run, interleaved round by round, on anthropic -> openai-chat text streams, one frame per call
(as providers flush them) and in 16 KiB chunks (batched upstream writes):
  feed        the StreamConverter's ``feed`` alone: the converter, no adapter
  adapter     the adapter around it with the route's key (one search per call) and a recording
  unrecorded  the same without a recording (a mitmdump that cannot save the flow keeps no tape)
  no key      the same with a recording and no key (a route with ``api_key_env = ""``)
The adapter's own cost is its time less ``feed``'s. ``--before REF`` loads that version's code
(``git archive``, as bench_versions.py does) into the same process and times it alternately.
Medians of the rounds, in ns of this thread's CPU time per frame (the machine is shared).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_stream import anthropic_text, chunked
from bench_versions import ROOT, export

KEY = "sk-ant-api03-" + "x" * 95  # the length of a real Anthropic key
MODES = ("feed", "adapter", "unrecorded", "no key")


def load(addon: Path) -> tuple[Any, Any, Any]:
    """StreamAdapter, StreamConverter and Options of the crosswire under ``addon``."""
    for name in [m for m in sys.modules if m == "crosswire" or m.startswith("crosswire.")]:
        del sys.modules[name]
    sys.path.insert(0, str(addon))
    try:
        modules = [importlib.import_module(f"crosswire.{m}") for m in ("addon", "convert", "options")]
        return modules[0].StreamAdapter, modules[1].StreamConverter, modules[2].Options
    finally:
        sys.path.remove(str(addon))


def per_frame(version: tuple[Any, Any, Any], mode: str, chunks: list[bytes], frames: int) -> float:
    adapter_class, converter_class, options_class = version
    options = options_class(created=1)
    converter = converter_class("anthropic", "openai-chat", options)
    call: Callable[[bytes], Any] = converter.feed
    if mode != "feed":
        limit = 0 if mode == "unrecorded" else 1 << 30
        key = "" if mode == "no key" else KEY
        call = adapter_class(converter, "", "openai-chat", options, limit, key, "$ANTHROPIC_API_KEY")
    gc.collect()
    start = time.thread_time_ns()  # CPU time: another process on the same core does not count
    for chunk in chunks:
        call(chunk)
    return (time.thread_time_ns() - start) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="a git ref to time beside the working tree")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        versions = {}
        if args.before:
            versions[args.before] = load(export(args.before, Path(tmp)))
        versions["working tree"] = load(ROOT / "addon")
    frames = list(anthropic_text(args.events))
    shapes = {"one frame per call": frames, "16 KiB chunks": list(chunked(frames))}
    for shape, chunks in shapes.items():
        times: dict[tuple[str, str], list[float]] = {}
        for r in range(args.rounds + 1):  # the first round warms up
            for name, version in versions.items():
                for mode in MODES:
                    t = per_frame(version, mode, chunks, len(frames))
                    if r:
                        times.setdefault((name, mode), []).append(t)
        print(f"{shape}, ns per frame, median of {args.rounds} rounds of {args.events} text deltas:")
        for name in versions:
            m = {mode: statistics.median(times[(name, mode)]) for mode in MODES}
            own = {mode: m[mode] - m["feed"] for mode in MODES[1:]}
            print(
                f"  {name:>14}: feed {m['feed']:6.0f}"
                + "".join(f"  {mode} {m[mode]:6.0f} (own {own[mode]:+5.0f})" for mode in MODES[1:])
            )


if __name__ == "__main__":
    main()
