"""Responses text deltas in each shape OpenAI sends (not a test): converter-only cost per frame.

    python bench/bench_shapes.py [REF] [--events N] [--rounds N]

The same text stream from a Responses upstream with its deltas in three shapes: ``item-first``
(gpt-4o: the ids, then the delta), ``sequence-first`` (gpt-5: the sequence number first, the
delta's empty logprobs and obfuscation after it) and ``sorted`` (gpt-5.5: every field after the
type sorted by name, the content index before the delta and the item id after it). Each round times
the parse floor (split the frames, ``orjson.loads`` each), REF (default ``main``, from ``git
archive``) and the working tree, one right after the other, fed a frame per chunk (a live stream)
and in 16 KiB chunks (batched writes), for an anthropic and an openai-chat client. The table gives
CPU ns per frame (medians) and each version's ratio to the floor of the same round.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_stream import WORDS, chunked, parse_floor  # noqa: E402
from bench_versions import export, load  # noqa: E402

ITEM = "msg_0fabc13af1ee0049006a691dfebdc881a1ae18d027c313d8ce"


def _event(type: str, data: dict[str, object]) -> bytes:
    return b"event: " + type.encode() + b"\ndata: " + orjson.dumps({"type": type, **data}) + b"\n\n"


def _delta(shape: str, seq: int, word: str) -> dict[str, object]:
    obfuscation = "RvoJ43TaUvnCS8e"[: 3 + seq % 12]
    if shape == "item-first":
        return {"item_id": ITEM, "output_index": 0, "content_index": 0, "delta": word}
    if shape == "sequence-first":
        return {"sequence_number": seq, "item_id": ITEM, "output_index": 0, "content_index": 0, "delta": word,
                "logprobs": [], "obfuscation": obfuscation}  # fmt: skip
    return {"content_index": 0, "delta": word, "item_id": ITEM, "logprobs": [], "obfuscation": obfuscation,
            "output_index": 0, "sequence_number": seq}  # fmt: skip


def stream(shape: str, n: int) -> list[bytes]:
    """A Responses text stream of ``n`` deltas in ``shape``, one frame per item."""
    response = {"id": "resp_1", "object": "response", "created_at": 1735689600, "model": "gpt-5.5", "output": []}
    item = {"id": ITEM, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    frames = [
        _event("response.created", {"response": {**response, "status": "in_progress"}}),
        _event("response.output_item.added", {"output_index": 0, "item": item}),
        _event("response.content_part.added", {"item_id": ITEM, "output_index": 0, "content_index": 0, "part": part}),
    ]
    frames += [_event("response.output_text.delta", _delta(shape, 3 + i, WORDS[i % len(WORDS)])) for i in range(n)]
    done = {**item, "status": "completed", "content": [part]}
    usage = {"input_tokens": 25, "output_tokens": n, "total_tokens": n + 25}
    frames.append(_event("response.output_item.done", {"output_index": 0, "item": done}))
    completed = {**response, "status": "completed", "output": [done], "usage": usage}
    frames.append(_event("response.completed", {"response": completed}))
    return frames


def cpu(run: Callable[[], None]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def converting(converter: type, chunks: list[bytes], target: str) -> Callable[[], None]:
    def run() -> None:
        conv = converter("openai-responses", target)
        feed = conv.feed
        for chunk in chunks:
            feed(chunk)
        conv.close()

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ref", nargs="?", default="main")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        versions = {args.ref: load(export(args.ref, Path(tmp))), "working tree": load(ROOT / "addon")}
    print(
        f"Python {sys.version.split()[0]}, openai-responses text, {args.events} deltas, CPU ns per frame, medians of"
        f" {args.rounds} rounds (floor, then each version), × the floor of the same round"
    )
    print(f"{'shape':15} {'chunks':7} {'client':12} {'floor':>6} {args.ref:>14} {'working tree':>16}")
    for shape in ("item-first", "sequence-first", "sorted"):
        frames = stream(shape, args.events)
        for chunking, chunks in (("frame", frames), ("16 KiB", list(chunked(frames)))):
            for target in ("anthropic", "openai-chat"):
                floors: list[float] = []
                ratios: dict[str, list[float]] = {name: [] for name in versions}
                times: dict[str, list[float]] = {name: [] for name in versions}
                for _ in range(args.rounds):
                    floor = cpu(lambda c=chunks: parse_floor(c))
                    floors.append(floor)
                    for name, converter in versions.items():
                        took = cpu(converting(converter, chunks, target))
                        times[name].append(took)
                        ratios[name].append(took / floor)
                per = len(frames) / 1e9
                cells = [
                    f"{statistics.median(times[n]) / per:6.0f} {statistics.median(ratios[n]):5.2f}×" for n in versions
                ]
                print(
                    f"{shape:15} {chunking:7} {target:12} {statistics.median(floors) / per:6.0f}"
                    f" {cells[0]:>14} {cells[1]:>16}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
