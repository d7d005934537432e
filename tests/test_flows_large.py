"""A recording of 10,000 flows: converted with progress on stderr and memory flat (flows are read,
converted and written one at a time). Peak resident memory is measured per process (``wait4``) and
compared with the same command on a tenth of the flows: were the flows held, the difference would be
at least the 23 MB the extra flows take on disk."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from llm_flows import write_many

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent


def peak_kib(args: list[str | Path], stderr: Path) -> tuple[int, int]:
    """(exit status, peak resident set in KiB) of a command."""
    with open(stderr, "wb") as err:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss


def test_ten_thousand_flows_convert_with_progress_and_flat_memory(tmp_path: Path) -> None:
    small = write_many(tmp_path / "1k.flow", 1_000)
    large = write_many(tmp_path / "10k.flow", 10_000)
    assert large.stat().st_size > 9 * small.stat().st_size > 20_000_000
    command = [BIN / "crosswire", "flows", "convert"]
    code, small_peak = peak_kib([*command, small, tmp_path / "1k-out.flow", "--to", "openai-chat"], tmp_path / "1k.err")
    assert code == 0, (tmp_path / "1k.err").read_text()
    code, large_peak = peak_kib(
        [*command, large, tmp_path / "10k-out.flow", "--to", "openai-chat"], tmp_path / "10k.err"
    )
    err = (tmp_path / "10k.err").read_text()
    assert code == 0, err
    assert (
        "crosswire: 10000 flows: 10000 converted, 0 skipped, 0 failed\n  converted 10000: anthropic -> openai-chat\n"
        in err
    )
    progress = re.findall(r"crosswire: (\d+)/10000 flows, ([\d.]+) of ([\d.]+) MB \((\d+)%\)", err)
    assert progress, err  # a line every two seconds off a terminal; the run takes longer
    done = [int(flows) for flows, *_ in progress]
    assert done == sorted(done) and 0 < done[0] < 10_000
    assert {total for *_, total, _ in progress} == {f"{large.stat().st_size / 1e6:.1f}"}
    grown = large_peak - small_peak
    print(f"peak RSS: 1,000 flows {small_peak / 1024:.1f} MiB, 10,000 flows {large_peak / 1024:.1f} MiB")
    assert grown < 8 * 1024, f"memory grew by {grown / 1024:.1f} MiB from 1,000 to 10,000 flows"
    assert (tmp_path / "10k-out.flow").stat().st_size > large.stat().st_size / 2
