"""Per-event cost of crosswire's SSE decoder against a minimal split-on-blank-lines baseline.

Run: ``python bench/bench_sse.py [--events N] [--reps N]``. Not a test: it prints figures.

Both sides do the work a converter needs, ending in ``orjson.loads`` of every data field:
(a) ``SSEDecoder.feed`` + ``orjson.loads(event.data)``;
(b) the baseline: append the chunk, ``split(b"\\n\\n")``, slice after ``data: ``, ``orjson.loads``.
The baseline knows nothing of CR line ends, comments, multi-line data, ids or frame limits; it is
the floor any decoder pays. Runs of (a) and (b) are interleaved and medians reported, because
this machine is noisy.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import time
from collections.abc import Callable

import orjson
from crosswire.sse import SSEDecoder

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "it",
    "for",
    "on",
    "with",
    "as",
    "was",
    "at",
    "by",
    "this",
    "be",
    "from",
    "or",
    "an",
    "are",
    "not",
    "have",
    "but",
    "proxy",
    "stream",
    "token",
    "model",
    "request",
    "response",
    "delta",
    "content",
    "block",
    "message",
    "tool",
    "input",
    "output",
    "function",
    "weather",
    "temperature",
    "San",
    "Francisco",
    "currently",
    "partly",
    "cloudy",
    "humidity",
    "wind",
]


def _fragment(rng: random.Random) -> str:
    # Streaming deltas are a few tokens long; some carry newlines, quotes or non-ASCII.
    words = rng.choices(WORDS, k=rng.randint(1, 4))
    text = " " + " ".join(words)
    roll = rng.random()
    if roll < 0.05:
        text += "\n\n"
    elif roll < 0.08:
        text += ' "quoted" — ünïcode'
    return text


def anthropic_stream(n: int, rng: random.Random) -> bytes:
    frames = []
    for _ in range(n):
        data = orjson.dumps(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": _fragment(rng)}}
        )
        frames.append(b"event: content_block_delta\ndata: " + data + b"\n\n")
    return b"".join(frames)


def openai_chat_stream(n: int, rng: random.Random) -> bytes:
    frames = []
    for _ in range(n):
        data = orjson.dumps(
            {
                "id": "chatcmpl-Dx0Xq5Xx9rHB2ehcHZCRDsnuymUXc",
                "object": "chat.completion.chunk",
                "created": 1782955818,
                "model": "gpt-4o-mini-2024-07-18",
                "service_tier": "default",
                "system_fingerprint": "fp_d0469e1700",
                "choices": [
                    {"index": 0, "delta": {"content": _fragment(rng)}, "logprobs": None, "finish_reason": None}
                ],
                "usage": None,
                "obfuscation": "auU6fTns",
            }
        )
        frames.append(b"data: " + data + b"\n\n")
    return b"".join(frames)


def random_pieces(stream: bytes, rng: random.Random) -> list[bytes]:
    """1–4 KiB pieces, cut anywhere (mid-line, mid-CRLF, mid-UTF-8), as a TCP reader delivers them."""
    out, pos = [], 0
    while pos < len(stream):
        step = rng.randint(1024, 4096)
        out.append(stream[pos : pos + step])
        pos += step
    return out


def frame_pieces(stream: bytes) -> list[bytes]:
    """One frame per chunk, as a provider that flushes after each event delivers them."""
    return [frame + b"\n\n" for frame in stream.split(b"\n\n") if frame]


def run_crosswire(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    feed, loads = decoder.feed, orjson.loads
    n = 0
    for chunk in chunks:
        for event in feed(chunk):
            loads(event.data)
            n += 1
    for event in decoder.close():
        loads(event.data)
        n += 1
    return n


def run_baseline(chunks: list[bytes]) -> int:
    loads = orjson.loads
    buf = b""
    n = 0
    for chunk in chunks:
        buf += chunk
        frames = buf.split(b"\n\n")
        buf = frames.pop()
        for frame in frames:
            loads(frame[frame.index(b"data: ") + 6 :])
            n += 1
    return n


def timed(fn: Callable[[list[bytes]], int], chunks: list[bytes], expected: int) -> float:
    """Nanoseconds per event for one pass."""
    gc.collect()
    start = time.perf_counter_ns()
    n = fn(chunks)
    elapsed = time.perf_counter_ns() - start
    if n != expected:
        raise SystemExit(f"{fn.__name__} produced {n} events, expected {expected}")
    return elapsed / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()

    print(
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs, {platform.machine()}, orjson {orjson.__version__}"
    )
    print(f"{args.events} events per stream, median of {args.reps} interleaved repetitions, ns per event\n")
    print(f"{'stream':<12} {'chunking':<16} {'crosswire':>10} {'baseline':>10} {'ratio':>7}")

    rng = random.Random(1234)
    ratios = []
    for name, build in (("anthropic", anthropic_stream), ("openai-chat", openai_chat_stream)):
        stream = build(args.events, rng)
        for chunking, chunks in (
            ("1-4 KiB pieces", random_pieces(stream, rng)),
            ("frame per chunk", frame_pieces(stream)),
        ):
            ours, base = [], []
            timed(run_crosswire, chunks, args.events)  # warm-up
            timed(run_baseline, chunks, args.events)
            for rep in range(args.reps):
                # Alternate which side goes first so drift in machine load hits both alike.
                pair = ((run_crosswire, ours), (run_baseline, base))
                for fn, sink in pair if rep % 2 == 0 else reversed(pair):
                    sink.append(timed(fn, chunks, args.events))
            # The ratio is the median of each repetition's own ratio: the two runs of a
            # repetition are adjacent in time, so load from other processes mostly cancels.
            ratio = statistics.median(o / b for o, b in zip(ours, base, strict=True))
            ratios.append(ratio)
            print(
                f"{name:<12} {chunking:<16} {statistics.median(ours):>10.0f} "
                f"{statistics.median(base):>10.0f} {ratio:>6.2f}x"
            )
    print(f"\nworst ratio {max(ratios):.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
