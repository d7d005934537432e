"""Stream conversion benchmark (not a test): µs per event on long text streams.

    python bench/bench_stream.py [--events N] [--no-ccproxy] [--no-venv] [--memory-events N]

Three figures per direction (every pair of registered formats), measured in one run on the same
bytes, fed in 16 KiB chunks:
  ours     crosswire's StreamConverter (SSE decode, reader, writer, output bytes)
  floor    the least any converter must do: split the frames and orjson.loads each one
  ccproxy  ccproxy-api's converters, for the two directions it has (anthropic -> openai-chat:
           OpenAIStreamProcessor; openai-chat -> anthropic: OpenAIChatToAnthropicStreamAdapter),
           fed the same frames parsed the same way, output serialised to SSE, in a Python 3.12
           venv of its own (/work/bench-ccproxy; created when missing unless --no-venv).
The text streams are hand-written in the shapes each provider sends; a registered format without
one gets the anthropic stream as crosswire writes it in that format.
Then the peak memory growth of crosswire on a long stream (RSS), and `converter_costs`, which a
later benchmark can import: the converter-only cost per event for every registered format pair.

    python bench/bench_stream.py --pairs [--pair-events N] [--rounds R] [--json FILE]

The converter-only table: every (source, target) pair on text, tool-heavy (parallel calls, many
argument fragments) and thinking streams, crosswire's StreamConverter against the parse floor on
the same chunks, alternated round by round (floor, converter, floor), medians; CPU µs per frame
(process time, so that other work on a shared machine counts less) and the ratio.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
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


def gemini_text(n: int) -> Iterator[bytes]:
    """streamGenerateContent?alt=sse: every chunk a whole GenerateContentResponse, usage at the end."""
    tail = b'],"role":"model"},"index":0}],"modelVersion":"gemini-2.5-flash","responseId":"BenchStream"}\n\n'
    for i in range(n):
        word = orjson.dumps(WORDS[i % len(WORDS)])
        yield b'data: {"candidates":[{"content":{"parts":[{"text":' + word + b"}" + tail
    yield (
        b'data: {"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],'
        b'"usageMetadata":{"promptTokenCount":25,"candidatesTokenCount":%d,"totalTokenCount":%d},'
        b'"modelVersion":"gemini-2.5-flash","responseId":"BenchStream"}\n\n' % (n, n + 25)
    )


GENERATORS: dict[str, Callable[[int], Iterator[bytes]]] = {
    "anthropic": anthropic_text,
    "openai-chat": chat_text,
    "openai-responses": responses_text,
    "gemini": gemini_text,
}


def text_stream(fmt: str, n: int) -> Iterator[bytes]:
    """A text stream of ``n`` deltas in ``fmt`` (see :func:`stream_of`)."""
    return stream_of("text", fmt, n)


def stream_of(kind: str, fmt: str, n: int) -> Iterator[bytes]:
    """A ``kind`` stream of ``n`` deltas in ``fmt``: hand-written, or the anthropic one as crosswire
    writes it in ``fmt``."""
    own = STREAMS[kind].get(fmt)
    if own is not None:
        yield from own(n)
        return
    conv = StreamConverter("anthropic", fmt)
    for frame in STREAMS[kind]["anthropic"](n):
        yield conv.feed(frame)
    yield conv.close()


# --- tool-heavy and thinking streams, in the providers' current shapes (anthropic's padding,
# Chat's usage/obfuscation fields, Responses' sequence_number and obfuscation) -------------------

CALLS = 4  # parallel tool calls per tool-heavy stream
# Argument text cut into model-sized fragments: escaped quotes in almost every one, newlines, non-ASCII.
ARGUMENTS = orjson.dumps(
    {"path": "src/app/main.py", "content": 'def main():\n    print("héllo, wörld")\n    return 0\n', "mode": "w"}
).decode()
THOUGHTS = [" Let", " me", " think", " about", " this", ":", " the", " user", " wants", "\n", " café"]


def fragments(n: int) -> list[str]:
    """``n`` argument fragments (3-6 characters each), the JSON object repeated as needed."""
    out: list[str] = []
    text, at = ARGUMENTS, 0
    while len(out) < n:
        size = 3 + len(out) % 4
        if at + size > len(text):
            text, at = text[at:] + ARGUMENTS, 0
        out.append(text[at : at + size])
        at += size
    return out


def _pad(i: int) -> bytes:
    return b" " * (i % 13)  # anthropic pads its frames with spaces before the last brace


def _anthropic_start() -> bytes:
    return (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01BenchStream","type":"message",'
        b'"role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,'
        b'"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n'
    )


def _anthropic_end(reason: bytes, n: int) -> bytes:
    return (
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"%s","stop_sequence":null},'
        b'"usage":{"output_tokens":%d}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n' % (reason, n)
    )


def _anthropic_delta(index: int, delta: bytes, i: int) -> bytes:
    return b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":%s%s}\n\n' % (
        index,
        delta,
        _pad(i),
    )


def anthropic_tools(n: int) -> Iterator[bytes]:
    yield _anthropic_start()
    per_call = n // CALLS
    for call in range(CALLS):
        yield (
            b'event: content_block_start\ndata: {"type":"content_block_start","index":%d,"content_block":'
            b'{"type":"tool_use","id":"toolu_01Bench%d","name":"write_file","input":{}}}\n\n' % (call, call)
        )
        for i, fragment in enumerate(fragments(per_call)):
            partial = b'{"type":"input_json_delta","partial_json":' + orjson.dumps(fragment) + b"}"
            yield _anthropic_delta(call, partial, i)
        yield b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n' % call
    yield _anthropic_end(b"tool_use", n)


def anthropic_thinking(n: int) -> Iterator[bytes]:
    yield _anthropic_start()
    yield (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
    )
    for i in range(n // 2):
        thought = b'{"type":"thinking_delta","thinking":' + orjson.dumps(THOUGHTS[i % len(THOUGHTS)]) + b"}"
        yield _anthropic_delta(0, thought, i)
    yield _anthropic_delta(0, b'{"type":"signature_delta","signature":"RXVnZW5lIGlzIHRoaW5raW5n"}', 0)
    yield b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    yield (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
        b'"content_block":{"type":"text","text":""}}\n\n'
    )
    for i in range(n - n // 2):
        yield _anthropic_delta(1, b'{"type":"text_delta","text":' + orjson.dumps(WORDS[i % len(WORDS)]) + b"}", i)
    yield b'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n'
    yield _anthropic_end(b"end_turn", n)


_CHAT_HEAD = (
    b'data: {"id":"chatcmpl-BenchStream","object":"chat.completion.chunk","created":1735689600,'
    b'"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":'
)


def _chat(delta: bytes, i: int, finish: bytes = b"null") -> bytes:
    obfuscation = b"QpK3qslFTUGILk1"[: 3 + i % 12]
    return (
        _CHAT_HEAD
        + delta
        + b',"logprobs":null,"finish_reason":%s}],"usage":null,"obfuscation":"%s"}\n\n' % (finish, obfuscation)
    )


def _chat_end(n: int, finish: bytes) -> bytes:
    return (
        _chat(b"{}", 0, finish)
        + b'data: {"id":"chatcmpl-BenchStream","object":"chat.completion.chunk","created":1735689600,'
        b'"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_bench","choices":[],'
        b'"usage":{"prompt_tokens":25,"completion_tokens":%d,"total_tokens":%d}}\n\ndata: [DONE]\n\n' % (n, n + 25)
    )


def chat_tools(n: int) -> Iterator[bytes]:
    yield _chat(b'{"role":"assistant","content":null}', 0)
    per_call = n // CALLS
    for call in range(CALLS):
        start = {"index": call, "id": f"call_Bench{call}", "type": "function",
                 "function": {"name": "write_file", "arguments": ""}}  # fmt: skip
        yield _chat(b'{"tool_calls":[' + orjson.dumps(start) + b"]}", call)
        for i, fragment in enumerate(fragments(per_call)):
            arguments = b'{"tool_calls":[{"index":%d,"function":{"arguments":%s}}]}' % (call, orjson.dumps(fragment))
            yield _chat(arguments, i)
    yield _chat_end(n, b'"tool_calls"')


def chat_thinking(n: int) -> Iterator[bytes]:
    yield _chat(b'{"role":"assistant","content":""}', 0)
    for i in range(n // 2):
        yield _chat(b'{"reasoning_content":' + orjson.dumps(THOUGHTS[i % len(THOUGHTS)]) + b"}", i)
    for i in range(n - n // 2):
        yield _chat(b'{"content":' + orjson.dumps(WORDS[i % len(WORDS)]) + b"}", i)
    yield _chat_end(n, b'"stop"')


class _ResponsesFrames:
    """Responses events numbered as the API numbers them, each delta with its obfuscation."""

    def __init__(self) -> None:
        self.seq = 0
        self.response = {"id": "resp_BenchStream", "object": "response", "created_at": 1735689600, "model": "gpt-5"}

    def event(self, event: str, data: dict[str, object]) -> bytes:
        payload = orjson.dumps({"type": event, "sequence_number": self.seq, **data})
        self.seq += 1
        return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"

    def delta(self, event: str, ids: dict[str, object], delta: str, **extra: object) -> bytes:
        return self.event(event, {**ids, "delta": delta, **extra, "obfuscation": "4VkOTC7I2BlX"[: 3 + self.seq % 9]})

    def created(self) -> bytes:
        return self.event("response.created", {"response": {**self.response, "status": "in_progress", "output": []}})

    def completed(self, output: list[dict[str, object]], n: int) -> bytes:
        usage = {"input_tokens": 25, "output_tokens": n, "total_tokens": n + 25}
        return self.event(
            "response.completed",
            {"response": {**self.response, "status": "completed", "output": output, "usage": usage}},
        )


def responses_tools(n: int) -> Iterator[bytes]:
    frames = _ResponsesFrames()
    yield frames.created()
    per_call, output = n // CALLS, []
    for call in range(CALLS):
        item = {"id": f"fc_Bench{call}", "type": "function_call", "status": "in_progress", "arguments": "",
                "call_id": f"call_Bench{call}", "name": "write_file"}  # fmt: skip
        yield frames.event("response.output_item.added", {"output_index": call, "item": item})
        ids = {"item_id": item["id"], "output_index": call}
        pieces = fragments(per_call)
        for fragment in pieces:
            yield frames.delta("response.function_call_arguments.delta", ids, fragment)
        arguments = "".join(pieces)
        yield frames.event("response.function_call_arguments.done", {**ids, "arguments": arguments})
        done = {**item, "status": "completed", "arguments": arguments}
        output.append(done)
        yield frames.event("response.output_item.done", {"output_index": call, "item": done})
    yield frames.completed(output, n)


def responses_thinking(n: int) -> Iterator[bytes]:
    frames = _ResponsesFrames()
    yield frames.created()
    reasoning = {"id": "rs_Bench", "type": "reasoning", "summary": []}
    yield frames.event("response.output_item.added", {"output_index": 0, "item": reasoning})
    ids = {"item_id": "rs_Bench", "output_index": 0, "summary_index": 0}
    yield frames.event("response.reasoning_summary_part.added", {**ids, "part": {"type": "summary_text", "text": ""}})
    thoughts = [THOUGHTS[i % len(THOUGHTS)] for i in range(n // 2)]
    for thought in thoughts:
        yield frames.delta("response.reasoning_summary_text.delta", ids, thought)
    summary = {"type": "summary_text", "text": "".join(thoughts)}
    yield frames.event("response.reasoning_summary_text.done", {**ids, "text": summary["text"]})
    yield frames.event("response.reasoning_summary_part.done", {**ids, "part": summary})
    reasoning_done = {**reasoning, "summary": [summary]}
    yield frames.event("response.output_item.done", {"output_index": 0, "item": reasoning_done})
    item = {"id": "msg_Bench", "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    yield frames.event("response.output_item.added", {"output_index": 1, "item": item})
    part_ids = {"item_id": "msg_Bench", "output_index": 1, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    yield frames.event("response.content_part.added", {**part_ids, "part": part})
    words = [WORDS[i % len(WORDS)] for i in range(n - n // 2)]
    for word in words:
        yield frames.delta("response.output_text.delta", part_ids, word, logprobs=[])
    part = {**part, "text": "".join(words)}
    yield frames.event("response.output_text.done", {**part_ids, "text": part["text"], "logprobs": []})
    yield frames.event("response.content_part.done", {**part_ids, "part": part})
    done = {**item, "status": "completed", "content": [part]}
    yield frames.event("response.output_item.done", {"output_index": 1, "item": done})
    yield frames.completed([reasoning_done, done], n)


# Every stream kind the converter-only benchmark measures, per source format.
STREAMS: dict[str, dict[str, Callable[[int], Iterator[bytes]]]] = {
    "text": GENERATORS,
    "tools": {"anthropic": anthropic_tools, "openai-chat": chat_tools, "openai-responses": responses_tools},
    "thinking": {"anthropic": anthropic_thinking, "openai-chat": chat_thinking, "openai-responses": responses_thinking},
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
        chunks = list(chunked(text_stream(source, events)))
        costs[(source, target)] = best_of(lambda c=chunks, s=source, t=target: ours(c, s, t), repeat) / events * 1e6
    return costs


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time of one call: what the converter costs, whatever else the shared machine is running."""
    gc.collect()
    start = time.process_time()
    fn()
    return time.process_time() - start


def converter_table(
    kinds: Iterable[str] = STREAMS, events: int = 5000, rounds: int = 21
) -> dict[str, dict[tuple[str, str], tuple[float, float, float]]]:
    """Per stream kind and (source, target) pair: (median µs of CPU per frame of StreamConverter,
    median µs per frame of the parse floor on the same chunks, median ratio of the two). Each round
    times the floor, the converter and the floor again, back to back, and takes the converter over
    the mean of the two floors, so that a change of load on the machine hits both alike."""
    names = formats.FORMATS.names
    table: dict[str, dict[tuple[str, str], tuple[float, float, float]]] = {}
    for kind in kinds:
        table[kind] = {}
        for source in names:
            data = b"".join(stream_of(kind, source, events))
            chunks = list(chunked([data]))
            scale = 1e6 / data.count(b"\n\n")
            for target in names:
                ours_t, floor_t, ratios = [], [], []
                for _ in range(rounds):
                    before = cpu_seconds(lambda c=chunks: parse_floor(c))
                    mine = cpu_seconds(lambda c=chunks, s=source, t=target: ours(c, s, t))
                    floor = (before + cpu_seconds(lambda c=chunks: parse_floor(c))) / 2
                    ours_t.append(mine)
                    floor_t.append(floor)
                    ratios.append(mine / floor)
                table[kind][(source, target)] = (
                    statistics.median(ours_t) * scale,
                    statistics.median(floor_t) * scale,
                    statistics.median(ratios),
                )
    return table


def print_table(table: dict[str, dict[tuple[str, str], tuple[float, float, float]]]) -> None:
    kinds = list(table)
    header = f"{'source -> target':<38}" + "".join(f"{k + ' µs':>12}{'floor':>8}{'ratio':>8}" for k in kinds)
    print(header)
    print("-" * len(header))
    for pair in table[kinds[0]]:
        row = f"{pair[0] + ' -> ' + pair[1]:<38}"
        for kind in kinds:
            mine, floor, ratio = table[kind][pair]
            row += f"{mine:12.3f}{floor:8.3f}{ratio:7.2f}x"
        print(row)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_growth(source: str, target: str, events: int) -> tuple[int, int]:
    """(RSS growth, output bytes) converting a stream of ``events`` deltas generated on the fly."""
    gc.collect()
    before = rss_bytes()
    peak, written = before, 0
    conv = StreamConverter(source, target)
    for i, chunk in enumerate(chunked(text_stream(source, events))):
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


CCPROXY_DIRECTIONS = ("anthropic->openai-chat", "openai-chat->anthropic")


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
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="only the converter-only table: every pair on text, tool-heavy and thinking streams",
    )
    parser.add_argument("--pair-events", type=int, default=5000, help="deltas per stream in the pair table")
    parser.add_argument("--rounds", type=int, default=21, help="alternating rounds per pair in the table (median)")
    parser.add_argument("--json", type=Path, help="also write the pair table to this file")
    args = parser.parse_args()
    if args.pairs:
        print(
            f"Python {sys.version.split()[0]}, converter only (StreamConverter, no mitmproxy) vs the parse floor,"
            f" {args.pair_events} deltas per stream, {CHUNK}-byte chunks, medians of {args.rounds} alternating"
            " rounds; CPU µs per frame"
        )
        table = converter_table(events=args.pair_events, rounds=args.rounds)
        print_table(table)
        if args.json:
            rows = [
                {"kind": kind, "source": s, "target": t, "ours_us": mine, "floor_us": floor, "ratio": ratio}
                for kind, pairs in table.items()
                for (s, t), (mine, floor, ratio) in pairs.items()
            ]
            args.json.write_text(json.dumps({"python": sys.version.split()[0], "rows": rows}, indent=1))
        return 0
    n = args.events
    python = None if args.no_ccproxy else ensure_ccproxy_venv(not args.no_venv)

    # Memory first, before the throughput runs leave freed memory behind for the process to reuse.
    print(f"Memory, {args.memory_events} text deltas generated on the fly (RSS growth; target < 10 MB):")
    for source, target in (("anthropic", "openai-chat"), ("openai-chat", "anthropic")):
        growth, written = memory_growth(source, target, args.memory_events)
        print(f"  {source}->{target}: {growth / 1e6:.2f} MB growth, {written / 1e6:.0f} MB written")

    print(f"\nPython {sys.version.split()[0]}, {n} text deltas per stream, {CHUNK}-byte chunks, best of {args.repeat}")
    header = f"{'direction':<38}{'ours µs/ev':>11}{'floor':>8}{'ccproxy':>9}{'ours/floor':>12}{'vs ccproxy':>12}"
    print(header)
    print("-" * len(header))
    for source, target in ((s, t) for s in formats.FORMATS.names for t in formats.FORMATS.names):
        data = b"".join(text_stream(source, n))
        chunks = list(chunked([data]))
        # Alternate the two so that load from elsewhere on the machine hits both alike.
        mine = floor = float("inf")
        for _ in range(args.repeat):
            mine = min(mine, best_of(lambda c=chunks, s=source, t=target: ours(c, s, t), 1) / n * 1e6)
            floor = min(floor, best_of(lambda c=chunks: parse_floor(c), 1) / n * 1e6)
        direction = f"{source}->{target}"
        cc = None
        if python is not None and direction in CCPROXY_DIRECTIONS:
            cc = ccproxy_seconds(python, direction, data, max(1, args.repeat // 2)) / n * 1e6
        cc_text = f"{cc:9.2f}" if cc is not None else f"{'n/a':>9}"
        speedup = f"{cc / mine:11.1f}x" if cc is not None else f"{'n/a':>12}"
        print(f"{direction:<38}{mine:11.3f}{floor:8.3f}{cc_text}{mine / floor:11.2f}x{speedup}")

    print("\nconverter_costs() — µs/event, StreamConverter alone, every registered pair:")
    for (source, target), cost in converter_costs().items():
        print(f"  {source:>17} -> {target:<17}{cost:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
