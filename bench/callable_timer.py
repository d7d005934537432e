"""A mitmproxy addon for the benchmarks (not part of crosswire): time ``flow.response.stream``.

Loaded after crosswire (``-s bench/callable_timer.py``), its ``responseheaders`` hook runs after
crosswire's and wraps the callable crosswire installed. Each call is timed with
``time.perf_counter_ns`` beside a :class:`MinimalCallable` fed the same chunk in the same call (the
order alternates from call to call), so both see the same traffic in the same process at the same
moment. When the flow ends, one JSON line per flow goes to the file named by ``bench_timings``:
its ``x-bench-label`` header and, per call, the complete frames the chunk finished and the
nanoseconds of each callable.

``bench_split`` also times the converter's ``feed`` inside crosswire's callable (``feed`` per call),
so the adapter's own share is what is left.

Without crosswire, ``bench_floor = SOURCE>TARGET`` makes every SSE answer go through a
:class:`MinimalCallable` instead: the template floor of a whole mitmdump process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import orjson
from mitmproxy import ctx, http

# --- the minimal useful callable: split frames, orjson.loads, write the target's frame from a template ---

Extract = Callable[[Any], "tuple[str, bool] | None"]  # parsed data -> (string, is tool arguments)


def _anthropic(obj: Any) -> tuple[str, bool] | None:
    delta = obj.get("delta")
    if type(delta) is dict:
        text = delta.get("text")
        if text is not None:
            return text, False
        args = delta.get("partial_json")
        if args is not None:
            return args, True
    return None


def _chat(obj: Any) -> tuple[str, bool] | None:
    choices = obj.get("choices")
    if choices:
        delta = choices[0].get("delta") or {}
        text = delta.get("content")
        if text:
            return text, False
        calls = delta.get("tool_calls")
        if calls:
            args = (calls[0].get("function") or {}).get("arguments")
            if args is not None:
                return args, True
    return None


def _responses(obj: Any) -> tuple[str, bool] | None:
    kind = obj.get("type")
    if kind == "response.output_text.delta":
        return obj["delta"], False
    if kind == "response.function_call_arguments.delta":
        return obj["delta"], True
    return None


EXTRACT: dict[str, Extract] = {"anthropic": _anthropic, "openai-chat": _chat, "openai-responses": _responses}

_CHAT = b'data: {"id":"chatcmpl-floor","object":"chat.completion.chunk","created":1735689600,"model":"m","choices":[{'
_TEMPLATES: dict[str, tuple[tuple[bytes, bytes], tuple[bytes, bytes]]] = {  # (text, tool arguments): prefix, suffix
    "anthropic": (
        (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":',
            b"}}\n\n",
        ),
        (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,'
            b'"delta":{"type":"input_json_delta","partial_json":',
            b"}}\n\n",
        ),
    ),
    "openai-chat": (
        (_CHAT + b'"index":0,"delta":{"content":', b'},"logprobs":null,"finish_reason":null}]}\n\n'),
        (
            _CHAT + b'"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":',
            b'}}]},"logprobs":null,"finish_reason":null}]}\n\n',
        ),
    ),
    "openai-responses": (
        (
            b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":%d,'
            b'"item_id":"msg_floor","output_index":0,"content_index":0,"delta":',
            b',"logprobs":[]}\n\n',
        ),
        (
            b'event: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta",'
            b'"sequence_number":%d,"item_id":"fc_floor","output_index":1,"delta":',
            b"}\n\n",
        ),
    ),
}


class MinimalCallable:
    """What any useful stream callable must do, and nothing more: split the SSE frames of each
    chunk, ``orjson.loads`` each frame's data, and write the target's text or tool-argument frame
    from a template. No validation, no state beyond the held-back partial frame."""

    def __init__(self, source: str, target: str) -> None:
        self._extract = EXTRACT[source]
        self._templates = _TEMPLATES[target]
        self._numbered = target == "openai-responses"  # its frames carry a sequence number
        self._rest = b""
        self._seq = 0

    def __call__(self, data: bytes) -> bytes | list[bytes]:
        if not data:
            return b""
        frames = (self._rest + data if self._rest else data).split(b"\n\n")
        self._rest = frames.pop()
        out = []
        loads, dumps, extract, templates = orjson.loads, orjson.dumps, self._extract, self._templates
        for frame in frames:
            at = frame.find(b"data: ")
            if at < 0:
                continue
            payload = frame[at + 6 :]
            if payload == b"[DONE]":
                continue
            found = extract(loads(payload))
            if found is not None:
                prefix, suffix = templates[found[1]]
                if self._numbered:
                    self._seq += 1
                    prefix = prefix % self._seq
                out.append(prefix + dumps(found[0]) + suffix)
        return b"".join(out) if out else []


def passthrough(data: bytes) -> bytes:
    """The floor of a route that converts nothing."""
    return data


# --- the addon -----------------------------------------------------------------------------


class CallableTimer:
    def load(self, loader: Any) -> None:
        loader.add_option("bench_timings", str, "", "Append one JSON line of call timings per flow to this file.")
        loader.add_option("bench_floor", str, "", "SOURCE>TARGET: every SSE answer through the minimal callable.")
        loader.add_option("bench_split", bool, False, "Also time the converter's feed inside the callable.")

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        resp = flow.response
        if resp is None or not resp.headers.get("content-type", "").startswith("text/event-stream"):
            return
        if ctx.options.bench_floor:
            source, target = ctx.options.bench_floor.split(">")
            resp.headers.pop("content-length", None)
            resp.stream = MinimalCallable(source, target)
            return
        installed = resp.stream
        label = flow.request.headers.get("x-bench-label", "")
        if not callable(installed) or not label or not ctx.options.bench_timings:
            return
        source, target = label.split(":")[0].split(">")
        floor: Callable[[bytes], Any] = passthrough if source == target else MinimalCallable(source, target)
        frames: list[int] = []
        ours: list[int] = []
        floors: list[int] = []
        feeds: list[int] = []
        clock = time.perf_counter_ns
        if ctx.options.bench_split:
            self._split(installed, feeds, clock)

        def timed(data: bytes) -> Any:
            if len(ours) % 2:
                t0 = clock()
                floor(data)
                t1 = clock()
                out = installed(data)
                t2 = clock()
                ours.append(t2 - t1)
                floors.append(t1 - t0)
            else:
                t0 = clock()
                out = installed(data)
                t1 = clock()
                floor(data)
                t2 = clock()
                ours.append(t1 - t0)
                floors.append(t2 - t1)
            frames.append(data.count(b"\n\n"))
            return out

        flow.metadata["bench_timings"] = {
            "label": label,
            "frames": frames,
            "ours": ours,
            "floor": floors,
            "feed": feeds,
        }
        resp.stream = timed

    @staticmethod
    def _split(installed: Any, feeds: list[int], clock: Callable[[], int]) -> None:
        """Time the converter's ``feed`` inside crosswire's callable, so the adapter's own share is the
        rest: the adapter's bound ``_feed`` (this version) or its converter's ``feed`` (older ones)."""
        owner, name = (installed, "_feed") if hasattr(installed, "_feed") else (installed.converter, "feed")
        inner = getattr(owner, name)

        def timed_feed(data: bytes) -> Any:
            t0 = clock()
            out = inner(data)
            feeds.append(clock() - t0)
            return out

        setattr(owner, name, timed_feed)

    def response(self, flow: http.HTTPFlow) -> None:
        self._write(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._write(flow)

    def _write(self, flow: http.HTTPFlow) -> None:
        timings = flow.metadata.pop("bench_timings", None)
        if timings is not None:
            with open(ctx.options.bench_timings, "a") as f:
                f.write(json.dumps(timings) + "\n")


addons = [CallableTimer()]
