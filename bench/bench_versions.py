"""Two versions of crosswire side by side (not a test): µs per text event for every stream pair.

    python bench/bench_versions.py [REF] [--events N] [--rounds N]

REF (default ``main``) is checked out with ``git archive`` into a temporary directory; the working
tree's ``addon/`` is the other version. Each round measures every pair in a fresh process per
version (alternating, so both see the same machine load) with ``bench_stream.converter_costs`` on
the same generated streams; the table gives the medians over rounds and their ratio. Use it to see
what a change costs on the hot path (text deltas) before it lands.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEASURE = """
import json, sys
sys.path.insert(0, {bench!r})
from bench_stream import converter_costs
costs = converter_costs(events={events}, repeat=3)
print(json.dumps({{f"{{s}} -> {{t}}": c for (s, t), c in costs.items()}}))
"""


def export(ref: str, into: Path) -> Path:
    """The ``addon/`` directory of ``ref``, extracted under ``into``."""
    archive = subprocess.run(["git", "archive", ref, "addon"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "addon"


def measure(addon: Path, events: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(addon)}
    code = MEASURE.format(bench=str(ROOT / "bench"), events=events)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ref", nargs="?", default="main")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        versions = {args.ref: export(args.ref, Path(tmp)), "working tree": ROOT / "addon"}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
        for _ in range(args.rounds):
            for name, addon in versions.items():
                runs[name].append(measure(addon, args.events))
    base, this = runs[args.ref], runs["working tree"]
    print(f"µs per text event, median of {args.rounds} rounds ({args.events} events, best of 3 per round)")
    print(f"{'pair':36} {args.ref:>12} {'working tree':>14} {'ratio':>7}")
    for pair in base[0]:
        a = statistics.median(r[pair] for r in base)
        b = statistics.median(r[pair] for r in this)
        print(f"{pair:36} {a:12.3f} {b:14.3f} {b / a:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
