"""Stream conversion benchmark (not a test): µs per event on long text streams.

    python bench/bench_stream.py [--events N] [--no-ccproxy] [--no-venv] [--memory-events N]

Three figures per direction, measured in one run on the same bytes, fed in 16 KiB chunks:
  ours     crosswire's StreamConverter (SSE decode, reader, writer, output bytes)
  floor    the least any converter must do: split the frames and orjson.loads each one
  ccproxy  ccproxy-api's converters (anthropic -> openai-chat: OpenAIStreamProcessor;
           openai-chat -> anthropic: OpenAIChatToAnthropicStreamAdapter), fed the same frames
           parsed the same way, output serialised to SSE, in a Python 3.12 venv of its own
           (/work/bench-ccproxy; created when missing unless --no-venv).
Then the peak memory growth of crosswire on a long stream (RSS), and `converter_costs`, which a
later benchmark can import: the converter-only cost per event for every registered format pair.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson
from crosswire import formats
from crosswire.convert import StreamConverter

CHUNK = 16384
CCPROXY_VENV = Path("/work/bench-ccproxy")
WORDS = [" the", " stream", " of", " tokens", ",", " café", " naïve", " 🌍", "\n", ' "quoted"']


# --- text streams in each format, in the shapes the providers send -----------------------


def anthropic_text(n: int) -> Iterator[bytes]:
    yield (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01BenchStream","type":"message",'
        b'"role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,'
        b'"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n'
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
    )
    for i in range(n):
        text = orjson.dumps(WORDS[i % len(WORDS)])
        yield (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":' + text + b"}}\n\n"
        )
    yield (
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
        b'"usage":{"output_tokens":%d}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n' % n
    )


def chat_text(n: int) -> Iterator[bytes]:
    head = (
        b'data: {"id":"chatcmpl-BenchStream","object":"chat.completion.chunk","created":1735689600,'
        b'"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":'
    )
    yield head + b'{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}\n\n'
    for i in range(n):
        yield (
            head
            + b'{"content":'
            + orjson.dumps(WORDS[i % len(WORDS)])
            + b'},"logprobs":null,"finish_reason":null}]}\n\n'
        )
    yield head + b'{},"logprobs":null,"finish_reason":"stop"}]}\n\n'
    yield (
        b'data: {"id":"chatcmpl-BenchStream","object":"chat.completion.chunk","created":1735689600,'
        b'"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":25,"completion_tokens":%d,'
        b'"total_tokens":%d}}\n\ndata: [DONE]\n\n' % (n, n + 25)
    )


def responses_text(n: int) -> Iterator[bytes]:
    def frame(event: str, data: dict[str, object]) -> bytes:
        return b"event: " + event.encode() + b"\ndata: " + orjson.dumps({"type": event, **data}) + b"\n\n"

    response = {"id": "resp_BenchStream", "object": "response", "created_at": 1735689600, "model": "gpt-4o"}
    yield frame("response.created", {"response": {**response, "status": "in_progress", "output": []}})
    item = {"id": "msg_bench", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    yield frame("response.output_item.added", {"output_index": 0, "item": item})
    part = {"type": "output_text", "text": "", "annotations": []}
    yield frame(
        "response.content_part.added", {"item_id": "msg_bench", "output_index": 0, "content_index": 0, "part": part}
    )
    for i in range(n):
        yield frame(
            "response.output_text.delta",
            {"item_id": "msg_bench", "output_index": 0, "content_index": 0, "delta": WORDS[i % len(WORDS)]},
        )
    done = {**item, "status": "completed", "content": [part]}
    yield frame("response.output_item.done", {"output_index": 0, "item": done})
    usage = {"input_tokens": 25, "output_tokens": n, "total_tokens": n + 25}
    yield frame(
        "response.completed", {"response": {**response, "status": "completed", "output": [done], "usage": usage}}
    )


GENERATORS: dict[str, Callable[[int], Iterator[bytes]]] = {
    "anthropic": anthropic_text,
    "openai-chat": chat_text,
    "openai-responses": responses_text,
}


def chunked(frames: Iterable[bytes], size: int = CHUNK) -> Iterator[bytes]:
    """Frames regrouped into network-sized chunks that cut frames anywhere."""
    buf = bytearray()
    for frame in frames:
        buf += frame
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


# --- the measured loops --------------------------------------------------------------------


def parse_floor(chunks: list[bytes]) -> None:
    """Split frames and parse each one's JSON: what any converter has to do."""
    rest = b""
    loads = orjson.loads
    for chunk in chunks:
        frames = (rest + chunk).split(b"\n\n")
        rest = frames.pop()
        for frame in frames:
            data = frame[frame.find(b"data: ") + 6 :]
            if data != b"[DONE]":
                loads(data)


def ours(chunks: list[bytes], source: str, target: str) -> None:
    conv = StreamConverter(source, target)
    feed = conv.feed
    for chunk in chunks:
        feed(chunk)
    conv.close()


def best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def converter_costs(
    pairs: Iterable[tuple[str, str]] | None = None, events: int = 20000, repeat: int = 3
) -> dict[tuple[str, str], float]:
    """µs per event of StreamConverter alone (whole chunked input ready in memory) on a text
    stream of ``events`` deltas, for each (source, target) pair; all registered pairs by default."""
    if pairs is None:
        pairs = [(s, t) for s in formats.FORMATS.names for t in formats.FORMATS.names]
    costs: dict[tuple[str, str], float] = {}
    for source, target in pairs:
        chunks = list(chunked(GENERATORS[source](events)))
        costs[(source, target)] = best_of(lambda c=chunks, s=source, t=target: ours(c, s, t), repeat) / events * 1e6
    return costs


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_growth(source: str, target: str, events: int) -> tuple[int, int]:
    """(RSS growth, output bytes) converting a stream of ``events`` deltas generated on the fly."""
    gc.collect()
    before = rss_bytes()
    peak, written = before, 0
    conv = StreamConverter(source, target)
    for i, chunk in enumerate(chunked(GENERATORS[source](events))):
        written += len(conv.feed(chunk))
        if i % 256 == 0:
            peak = max(peak, rss_bytes())
    written += len(conv.close())
    return max(peak, rss_bytes()) - before, written


# --- ccproxy, in its own interpreter -------------------------------------------------------

CCPROXY_WORKER = textwrap.dedent(
    """
    import asyncio, gc, json, sys, time
    import orjson
    from ccproxy.core.logging import setup_logging
    setup_logging(log_level_name="WARNING")
    from ccproxy.llms.streaming.processors import OpenAIStreamProcessor
    from ccproxy.llms.formatters.openai_to_anthropic import OpenAIChatToAnthropicStreamAdapter

    direction, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = open(path, "rb").read()
    chunks = [data[i : i + 16384] for i in range(0, len(data), 16384)]

    async def parsed():
        rest = b""
        for chunk in chunks:
            frames = (rest + chunk).split(b"\\n\\n")
            rest = frames.pop()
            for frame in frames:
                payload = frame[frame.find(b"data: ") + 6 :]
                if payload != b"[DONE]":
                    yield orjson.loads(payload)

    async def to_chat():
        proc = OpenAIStreamProcessor(
            message_id="chatcmpl-bench", model="claude-sonnet-4-5", created=1735689600,
            enable_thinking_serialization=False,
        )
        out = 0
        async for piece in proc.process_stream(parsed()):
            out += len(piece.encode() if isinstance(piece, str) else orjson.dumps(piece))
        return out

    async def to_anthropic():
        out = 0
        async for event in OpenAIChatToAnthropicStreamAdapter().run(parsed()):
            payload = event.model_dump_json(exclude_none=True).encode()
            out += len(b"event: " + event.type.encode() + b"\\ndata: " + payload + b"\\n\\n")
        return out

    run = to_chat if direction == "anthropic->openai-chat" else to_anthropic
    best, out = float("inf"), 0
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        out = asyncio.run(run())
        best = min(best, time.perf_counter() - t)
    print(json.dumps({"seconds": best, "output_bytes": out}))
    """
)


def ensure_ccproxy_venv(create: bool) -> Path | None:
    python = CCPROXY_VENV / "bin" / "python"
    if python.exists():
        return python
    if not create:
        return None
    env = {**os.environ, "PYENV_VERSION": "3.12.1"}
    subprocess.run(["python3.12", "-m", "venv", str(CCPROXY_VENV)], check=True, env=env)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "ccproxy-api", "orjson"], check=True)
    return python


def ccproxy_seconds(python: Path, direction: str, data: bytes, repeat: int) -> float:
    path = Path(f"/tmp/crosswire-bench-{os.getpid()}.sse")
    path.write_bytes(data)
    try:
        done = subprocess.run(
            [str(python), "-c", CCPROXY_WORKER, direction, str(path), str(repeat)],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        path.unlink()
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="text deltas per stream (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs (default 5)")
    parser.add_argument("--memory-events", type=int, default=1_000_000, help="stream length for the memory check")
    parser.add_argument("--no-ccproxy", action="store_true", help="skip the ccproxy baseline")
    parser.add_argument("--no-venv", action="store_true", help="do not create the ccproxy venv when it is missing")
    args = parser.parse_args()
    n = args.events
    python = None if args.no_ccproxy else ensure_ccproxy_venv(not args.no_venv)

    # Memory first, before the throughput runs leave freed memory behind for the process to reuse.
    print(f"Memory, {args.memory_events} text deltas generated on the fly (RSS growth; target < 10 MB):")
    for source, target in (("anthropic", "openai-chat"), ("openai-chat", "anthropic")):
        growth, written = memory_growth(source, target, args.memory_events)
        print(f"  {source}->{target}: {growth / 1e6:.2f} MB growth, {written / 1e6:.0f} MB written")

    print(f"\nPython {sys.version.split()[0]}, {n} text deltas per stream, {CHUNK}-byte chunks, best of {args.repeat}")
    header = f"{'direction':<26}{'ours µs/ev':>11}{'floor':>8}{'ccproxy':>9}{'ours/floor':>12}{'vs ccproxy':>12}"
    print(header)
    print("-" * len(header))
    for source, target in (("anthropic", "openai-chat"), ("openai-chat", "anthropic")):
        data = b"".join(GENERATORS[source](n))
        chunks = list(chunked([data]))
        # Alternate the two so that load from elsewhere on the machine hits both alike.
        mine = floor = float("inf")
        for _ in range(args.repeat):
            mine = min(mine, best_of(lambda c=chunks, s=source, t=target: ours(c, s, t), 1) / n * 1e6)
            floor = min(floor, best_of(lambda c=chunks: parse_floor(c), 1) / n * 1e6)
        direction = f"{source}->{target}"
        cc = ccproxy_seconds(python, direction, data, max(1, args.repeat // 2)) / n * 1e6 if python else None
        cc_text = f"{cc:9.2f}" if cc is not None else f"{'n/a':>9}"
        speedup = f"{cc / mine:11.1f}x" if cc is not None else f"{'n/a':>12}"
        print(f"{direction:<26}{mine:11.3f}{floor:8.3f}{cc_text}{mine / floor:11.2f}x{speedup}")

    print("\nconverter_costs() — µs/event, StreamConverter alone, every registered pair:")
    for (source, target), cost in converter_costs().items():
        print(f"  {source:>17} -> {target:<17}{cost:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
