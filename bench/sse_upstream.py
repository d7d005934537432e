"""A loopback Anthropic-style streaming upstream for bench_proxy.py, run in a process of its own.

    python bench/sse_upstream.py            # prints the port it listens on (127.0.0.1), then serves

Unlike crosswire.fakeupstream (a canned body held in memory), it generates its stream while
sending, so a 1 GB answer costs no memory, and it runs in its own interpreter so its CPU time and
GIL stay out of the client's and mitmdump's figures. What to send is asked for in request headers
(which crosswire passes through):

    x-bench-stream: long:N        bench_stream.anthropic_text(N): N short text deltas
                    seeded:S:N    N text deltas, a tool call and usage, all derived from seed S
                                  (see `seeded_expected` for what the client must end up with)
                    text:F:N      bench_stream's text stream of N deltas in format F (anthropic,
                                  openai-chat, openai-responses)
                    tools:F:N     bench_stream's tool-heavy stream in format F: parallel tool calls
                                  streamed as N small argument fragments
                    big:F:B       format F's text stream with one text delta of B bytes (a large frame)
    x-bench-batch:  B             bytes per write (a chunk of B bytes or more); 0: one write per frame
    x-bench-pace-us: U            sleep U µs after each write (paced traffic, as live tokens arrive)
"""

from __future__ import annotations

import http.server
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stream import GENERATORS, STREAMS, anthropic_text
from bench_stream import WORDS as WORDS_TEXT

WORDS = ["alpha", "beta", "gamma", "delta", "café", "naïve", "🌍", "\n", '"q"', "tab\t", "end."]
MODEL = "claude-sonnet-4-5"


def _frame(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps({"type": event, **data}) + b"\n\n"


def seeded_expected(seed: int, n: int) -> dict[str, Any]:
    """What a client must assemble from ``seeded:S:N``: computed here, never by crosswire."""
    rng = random.Random(seed)
    deltas = [" " + rng.choice(WORDS) + str(i) for i in range(n)]
    return {
        "deltas": deltas,
        "text": "".join(deltas),
        "tool_id": f"toolu_bench_{seed}",
        "tool_name": "lookup",
        "tool_args": {"seed": seed, "city": f"Zürich-{seed}", "tags": ["a", "b"]},
        "input_tokens": 100 + seed,
        "output_tokens": n + seed,
    }


def seeded_stream(seed: int, n: int) -> Iterator[bytes]:
    exp = seeded_expected(seed, n)
    usage = {"input_tokens": exp["input_tokens"], "output_tokens": 1}
    message = {"id": f"msg_bench_{seed}", "type": "message", "role": "assistant", "model": MODEL, "content": []}
    yield _frame("message_start", {"message": {**message, "stop_reason": None, "stop_sequence": None, "usage": usage}})
    yield _frame("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    for text in exp["deltas"]:
        yield _frame("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": text}})
    yield _frame("content_block_stop", {"index": 0})
    block = {"type": "tool_use", "id": exp["tool_id"], "name": exp["tool_name"], "input": {}}
    yield _frame("content_block_start", {"index": 1, "content_block": block})
    args = orjson.dumps(exp["tool_args"]).decode()
    for part in (args[:5], args[5:17], args[17:]):
        yield _frame("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": part}})
    yield _frame("content_block_stop", {"index": 1})
    yield _frame(
        "message_delta",
        {"delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": exp["output_tokens"]}},
    )
    yield _frame("message_stop", {})


def big_frame(fmt: str, size: int) -> Iterator[bytes]:
    """Format ``fmt``'s text stream of one delta, that delta a frame of about ``size`` bytes."""
    small = orjson.dumps(WORDS_TEXT[0])  # the text of the one delta, as the frame spells it
    for frame in GENERATORS[fmt](1):
        if small in frame:
            frame = frame.replace(small, orjson.dumps("x" * max(0, size - len(frame))), 1)
        yield frame


def frames_for(spec: str) -> Iterator[bytes]:
    kind, *args = spec.split(":")
    if kind == "long":
        return anthropic_text(int(args[0]))
    if kind == "seeded":
        return seeded_stream(int(args[0]), int(args[1]))
    if kind == "text" and args[0] in GENERATORS:
        return GENERATORS[args[0]](int(args[1]))
    if kind == "tools" and args[0] in STREAMS["tools"]:
        return STREAMS["tools"][args[0]](int(args[1]))
    if kind == "big" and args[0] in GENERATORS:
        return big_frame(args[0], int(args[1]))
    raise ValueError(f"unknown x-bench-stream {spec!r}")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        try:
            frames = frames_for(self.headers.get("x-bench-stream", "long:100"))
        except ValueError as exc:
            self.send_error(400, str(exc))
            return
        batch = int(self.headers.get("x-bench-batch", "0"))
        pace = int(self.headers.get("x-bench-pace-us", "0")) / 1e6
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", "req_bench")
        self.end_headers()
        write = self.wfile.write
        try:
            buf = bytearray()
            for frame in frames:
                buf += frame
                if len(buf) >= batch:
                    write(b"%x\r\n%s\r\n" % (len(buf), buf))
                    buf.clear()
                    if pace:
                        time.sleep(pace)
            if buf:
                write(b"%x\r\n%s\r\n" % (len(buf), buf))
            write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # socketserver's default backlog of 5 drops connections under load
    daemon_threads = True


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
