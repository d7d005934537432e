"""Recording conversion benchmark (not a test): time and peak memory of ``crosswire flows convert --to``.

    python bench/bench_flows.py [--flows 1000,10000] [--runs 3]

For each size, a recording of plain anthropic calls (streamed text, streamed tool call, whole answer,
rate-limit error, in turn; a few KB each) is made, then measured side by side, ``--runs`` times each,
medians reported:
  crosswire  crosswire flows convert IN OUT --to openai-chat   (read, convert both sides, write)
  mitmdump   mitmdump -n -r IN -w OUT                          (mitmproxy reading and writing the same
                                                                flows through its addons, converting nothing)
and the peak resident set of each process (``wait4``), which stays flat as the file grows: flows are
read, converted and written one at a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tests")]

from llm_flows import write_many  # noqa: E402

BIN = Path(sys.executable).parent


def measure(args: list[str | Path]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args[0]} failed")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", default="1000,10000", help="comma-separated recording sizes")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    columns = ("flows", 7), ("MB", 6), ("crosswire s", 12), ("mitmdump s", 10), ("ratio", 6), ("flows/s", 8)
    columns += ("RSS MiB", 8), ("mitmdump RSS", 12)
    print(" ".join(f"{name:>{width}}" for name, width in columns))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for count in (int(n) for n in args.flows.split(",")):
            src = write_many(tmp / f"{count}.flow", count)
            ours, floor = [], []
            for _ in range(args.runs):  # alternated, so both see the same machine load
                ours.append(
                    measure([BIN / "crosswire", "flows", "convert", src, tmp / "out.flow", "--to", "openai-chat"])
                )
                floor.append(
                    measure(
                        [BIN / "mitmdump", "-q", "-n", "-r", src, "-w", tmp / "floor.flow", "--set", f"confdir={tmp}"]
                    )
                )
            ours_s = statistics.median(t for t, _ in ours)
            floor_s = statistics.median(t for t, _ in floor)
            peak, floor_peak = max(r for _, r in ours) / 1024, max(r for _, r in floor) / 1024
            print(
                f"{count:>7} {src.stat().st_size / 1e6:>6.1f} {ours_s:>12.2f} {floor_s:>10.2f} {ours_s / floor_s:>6.2f}"
                f" {count / ours_s:>8.0f} {peak:>8.1f} {floor_peak:>12.1f}"
            )


if __name__ == "__main__":
    main()
