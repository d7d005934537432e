"""The stream adapter's cost per frame, and what redacting the route's key adds (not a test).

    python bench/bench_adapter.py [--events N] [--rounds N]

``flow.response.stream`` is crosswire's StreamAdapter: decode, convert, redact, record. Measured in
one run, interleaved round by round, one frame per call as providers flush them:
  converting  anthropic -> openai-chat, with the route's key (one search per call) and without
  identity    anthropic -> anthropic, with the key (a search and a held-back tail) and without
Medians of the rounds, in µs per frame, and the ratio with/without.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench_stream import anthropic_text
from crosswire.addon import StreamAdapter
from crosswire.convert import StreamConverter
from crosswire.options import Options

KEY = "sk-ant-api03-" + "x" * 95  # the length of a real Anthropic key


def per_frame(frames: list[bytes], converting: bool, secret: str) -> float:
    options = Options(created=1)
    converter = StreamConverter("anthropic", "openai-chat", options) if converting else None
    adapter = StreamAdapter(converter, "", "openai-chat", options, 1 << 30, secret, "$ANTHROPIC_API_KEY")
    start = time.perf_counter()
    for frame in frames:
        adapter(frame)
    adapter(b"")
    return (time.perf_counter() - start) / len(frames) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    frames = list(anthropic_text(args.events))
    for converting in (True, False):
        with_key: list[float] = []
        without: list[float] = []
        per_frame(frames, converting, KEY)  # warm up
        for _ in range(args.rounds):
            with_key.append(per_frame(frames, converting, KEY))
            without.append(per_frame(frames, converting, ""))
        a, b = statistics.median(with_key), statistics.median(without)
        name = "converting" if converting else "identity  "
        print(f"{name}  with the key {a:6.3f} µs/frame   without {b:6.3f} µs/frame   ratio {a / b:5.3f}")


if __name__ == "__main__":
    main()
