"""Two versions of crosswire side by side (not a test): µs per text event for every stream pair.

    python bench/bench_versions.py [REF] [--events N] [--rounds N]

REF (default ``main``) is checked out with ``git archive`` into a temporary directory; the working
tree's ``addon/`` is the other version. Both are imported into this one process (the second after
the first's modules are set aside), and every round times each pair once with each version, one
right after the other, on the same chunked bytes of ``bench_stream``'s generated text streams: both
see the same machine load. The table gives the medians over rounds and their ratio. Use it to see
what a change costs on the hot path (text deltas) before it lands.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def export(ref: str, into: Path) -> Path:
    """The ``addon/`` directory of ``ref``, extracted under ``into``."""
    archive = subprocess.run(["git", "archive", ref, "addon"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "addon"


def load(addon: Path) -> Any:
    """``StreamConverter`` of the crosswire under ``addon``, imported beside any other one."""
    for name in [m for m in sys.modules if m == "crosswire" or m.startswith("crosswire.")]:
        del sys.modules[name]
    sys.path.insert(0, str(addon))
    try:
        return importlib.import_module("crosswire.convert").StreamConverter
    finally:
        sys.path.remove(str(addon))


def timed(converter: Any, chunks: list[bytes], source: str, target: str) -> float:
    gc.collect()
    start = time.perf_counter()
    conv = converter(source, target)
    feed = conv.feed
    for chunk in chunks:
        feed(chunk)
    conv.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ref", nargs="?", default="main")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        versions = {args.ref: load(export(args.ref, Path(tmp))), "working tree": load(ROOT / "addon")}
    from bench_stream import GENERATORS, chunked  # its generators need no crosswire

    names = list(GENERATORS)
    pairs = [(s, t) for s in names for t in names]
    streams = {s: list(chunked(GENERATORS[s](args.events))) for s in names}
    times: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(args.rounds):
        for source, target in pairs:
            for name, converter in versions.items():
                times.setdefault((name, source, target), []).append(timed(converter, streams[source], source, target))
    print(f"µs per text event, median of {args.rounds} rounds of {args.events} events, the two versions alternating")
    print(f"{'pair':38} {args.ref:>10} {'working tree':>13} {'ratio':>7}")
    for source, target in pairs:
        base, this = (statistics.median(times[(n, source, target)]) / args.events * 1e6 for n in versions)
        print(f"{source + ' -> ' + target:38} {base:10.3f} {this:13.3f} {this / base:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
