"""Speed, load and memory of crosswire measured through a real mitmdump on loopback (not a test).

    python bench/bench_proxy.py [--quick] [--frames N] [--reps N] [--clients N] [--big-mb N] [--json PATH]

Sections (``--only`` picks some):
  ttft        time to first token: many short streams, interleaved, direct / plain mitmdump / crosswire.
  latency     one long stream (--frames text deltas, the upstream writing each frame on its own) read
              by a raw HTTP client: direct to the upstream, through plain mitmdump (streaming on:
              stream_large_bodies=1) and through mitmdump + crosswire (anthropic upstream ->
              openai-chat client). Runs interleaved, medians reported: time to first token, total
              time, mitmdump's CPU time per upstream MB (its threads' schedstat, before/after each run).
  load        --clients concurrent streaming clients through one mitmdump + crosswire, each answer a
              different seeded stream with text, a tool call and usage; every converted answer is
              accumulated by the openai SDK and compared to what the upstream was told to send.
  converter   StreamConverter alone, µs per event for every format pair, beside the parse floor
              (bench/bench_stream.py's converter_costs and parse_floor).
  memory      peak RSS (VmHWM) of a fresh mitmdump + crosswire over a --big-mb stream, recording of
              streamed bodies off (crosswire_record_limit=0) and on (the default limit, with -w).

The upstream (bench/sse_upstream.py) runs in a process of its own and generates its stream as it
sends. Everything listens on 127.0.0.1 and is stopped before the script exits.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

import bench_stream  # noqa: E402
from crosswire import launch  # noqa: E402
from sse_upstream import seeded_expected  # noqa: E402

FAKE = "http://api.example.test"  # what the client asks for; only crosswire's route knows the upstream
CHAT_BODY = orjson.dumps(
    {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "bench"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
)
ANTHROPIC_BODY = orjson.dumps(
    {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "bench"}], "stream": True}
)


# --- processes -----------------------------------------------------------------------------


class Upstream:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "sse_upstream.py")], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# A key of a real key's length: the redaction search per call costs what it costs in use.
BENCH_KEYS = {"ANTHROPIC_API_KEY": "sk-ant-api03-" + "b" * 95, "OPENAI_API_KEY": "sk-proj-" + "b" * 156}


def route_config(tmp: Path, routes: list[tuple[str, str, str]]) -> Path:
    """A routes file of ``(name, match, upstream)``; each forwards the ``x-bench-*`` headers that tell
    the upstream what to send (a converting route's allow-list drops them otherwise)."""
    text = "".join(
        f'[[route]]\nname = "{name}"\nmatch = "{match}"\nupstream = "{upstream}"\nforward_headers = ["x-bench-*"]\n\n'
        for name, match, upstream in routes
    )
    path = tmp / f"routes-{time.monotonic_ns()}.toml"
    path.write_text(text)
    return path


class Mitmdump:
    """A mitmdump on 127.0.0.1. ``crosswire``: with crosswire (``entry``: the mitm.py of another copy)
    and ``routes`` (default: the openai-chat endpoint to the upstream's anthropic one); else plain,
    streaming every body."""

    def __init__(
        self,
        tmp: Path,
        upstream_port: int,
        crosswire: bool,
        *extra: str,
        routes: list[tuple[str, str, str]] | None = None,
        entry: Path | None = None,
    ) -> None:
        args = list(extra)
        if entry is not None:  # another copy of crosswire (an older version, for before/after figures)
            args = ["-s", str(entry), *args]
        if crosswire:
            if routes is None:
                routes = [("bench", f"{FAKE}/v1/chat/completions", f"http://127.0.0.1:{upstream_port}/v1/messages")]
            args += ["--set", f"crosswire_config={route_config(tmp, routes)}"]
        else:
            args += ["--set", "stream_large_bodies=1"]  # plain mitmdump buffers whole bodies otherwise
        env = {**os.environ, **BENCH_KEYS}
        self.log = tmp / f"mitmdump-{'crosswire' if crosswire else 'plain'}-{time.monotonic_ns()}.log"
        self._mitm = launch.start(
            args, crosswire=crosswire and entry is None, env=env, log=self.log, confdir=tmp / "confdir"
        )
        self.proc = self._mitm.proc
        self.port = self._mitm.port

    def cpu_ns(self) -> int:
        """CPU time of all its threads, ns (schedstat: exact, where /proc/PID/stat counts 10 ms ticks)."""
        total = 0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                total += int((task / "schedstat").read_text().split()[0])
        return total

    def status_kb(self, field: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self._mitm.stop(20)


# --- the client ----------------------------------------------------------------------------


@dataclass
class Run:
    status: int
    ttft: float  # seconds from sending the request to the first text delta
    total: float  # seconds to the end of the body
    body: bytes


def _frames(data: bytes) -> Iterator[Any]:
    """The JSON data of each SSE frame (anthropic or openai-chat); "[DONE]" as a str."""
    for frame in data.split(b"\n\n"):
        for line in frame.split(b"\n"):
            if line.startswith(b"data:"):
                payload = line[5:].strip()
                yield "[DONE]" if payload == b"[DONE]" else orjson.loads(payload)


def _text_of(obj: Any, fmt: str) -> str:
    if not isinstance(obj, dict):
        return ""
    if fmt == "anthropic":
        delta = obj.get("delta") if obj.get("type") == "content_block_delta" else None
        return str(delta.get("text") or "") if isinstance(delta, dict) else ""
    choices = obj.get("choices") or []
    return str((choices[0].get("delta") or {}).get("content") or "") if choices else ""


def fetch(port: int, target: str, body: bytes, fmt: str, headers: dict[str, str], keep: bool = True) -> Run:
    """POST ``target`` to 127.0.0.1:``port`` (a path direct, an absolute URL through a proxy)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    hdrs = {"content-type": "application/json", "authorization": "Bearer client-key", **headers}
    t0 = time.perf_counter()
    conn.request("POST", target, body, hdrs)
    resp = conn.getresponse()
    buf = bytearray()
    ttft = 0.0
    scanned = 0
    tail = b""
    while True:
        piece = resp.read1(1 << 16)
        if not piece:
            break
        if not ttft:
            buf += piece
            end = buf.rfind(b"\n\n")
            if end > scanned:
                if any(_text_of(o, fmt) for o in _frames(bytes(buf[scanned:end]))):
                    ttft = time.perf_counter() - t0
                scanned = end
        elif keep:
            buf += piece
        else:
            tail = (tail + piece)[-8192:]
    total = time.perf_counter() - t0
    conn.close()
    return Run(resp.status, ttft, total, bytes(buf) if keep else tail)


def long_stream_text(n: int) -> str:
    words = bench_stream.WORDS
    return "".join(words[i % len(words)] for i in range(n))


def check_long(run: Run, fmt: str, n: int) -> None:
    """The stream arrived whole: every delta in order, and the format's proper end."""
    if run.status != 200:
        raise AssertionError(f"status {run.status}: {run.body[:300]!r}")
    objs = list(_frames(run.body))
    text = "".join(_text_of(o, fmt) for o in objs)
    if text != long_stream_text(n):
        raise AssertionError(f"{fmt} stream text differs ({len(text)} chars)")
    last = objs[-1]
    ok = last == "[DONE]" if fmt == "openai-chat" else isinstance(last, dict) and last.get("type") == "message_stop"
    if not ok:
        raise AssertionError(f"{fmt} stream did not end properly: {last!r}")


# --- sections ------------------------------------------------------------------------------


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def section_latency(tmp: Path, up: Upstream, frames: int, reps: int, batch: int) -> dict[str, Any]:
    upstream_bytes = sum(map(len, bench_stream.anthropic_text(frames)))
    plain = Mitmdump(tmp, up.port, crosswire=False)
    cw = Mitmdump(tmp, up.port, crosswire=True)
    hdrs = {"x-bench-stream": f"long:{frames}", "x-bench-batch": str(batch)}
    direct_url = "/v1/messages"
    plain_url = f"http://127.0.0.1:{up.port}/v1/messages"
    modes: dict[str, tuple[Mitmdump | None, Callable[[], Run], str]] = {
        "direct": (None, lambda: fetch(up.port, direct_url, ANTHROPIC_BODY, "anthropic", hdrs), "anthropic"),
        "mitmdump": (plain, lambda: fetch(plain.port, plain_url, ANTHROPIC_BODY, "anthropic", hdrs), "anthropic"),
        "mitmdump+crosswire": (
            cw,
            lambda: fetch(cw.port, f"{FAKE}/v1/chat/completions", CHAT_BODY, "openai-chat", hdrs),
            "openai-chat",
        ),
    }
    samples: dict[str, dict[str, list[float]]] = {m: {"ttft": [], "total": [], "cpu": []} for m in modes}
    try:
        for _, do, fmt in modes.values():  # warm-up: imports, connections, caches
            check_long(do(), fmt, frames)
        for _ in range(reps):
            for mode, (proc, do, fmt) in modes.items():
                cpu0 = proc.cpu_ns() if proc else 0
                run = do()
                time.sleep(0.05)  # let mitmdump finish the flow's hooks before reading its CPU time
                cpu1 = proc.cpu_ns() if proc else 0
                check_long(run, fmt, frames)
                samples[mode]["ttft"].append(run.ttft)
                samples[mode]["total"].append(run.total)
                samples[mode]["cpu"].append((cpu1 - cpu0) / 1e9)
    finally:
        plain.stop()
        cw.stop()
    mb = upstream_bytes / 1e6
    out: dict[str, Any] = {"frames": frames, "reps": reps, "batch": batch, "upstream_mb": mb, "modes": {}}
    for mode, s in samples.items():
        out["modes"][mode] = {
            "ttft_ms": median(s["ttft"]) * 1e3,
            "total_ms": median(s["total"]) * 1e3,
            "cpu_s_per_mb": median(s["cpu"]) / mb if mode != "direct" else None,
        }
    p, c = out["modes"]["mitmdump"], out["modes"]["mitmdump+crosswire"]
    out["added_ttft_ms"] = c["ttft_ms"] - p["ttft_ms"]
    out["added_us_per_frame"] = (c["total_ms"] - p["total_ms"]) * 1e3 / frames
    out["added_cpu_pct"] = (c["cpu_s_per_mb"] / p["cpu_s_per_mb"] - 1) * 100
    return out


def section_ttft(tmp: Path, up: Upstream, reps: int) -> dict[str, Any]:
    """Time to first token on its own: many short streams (20 deltas), interleaved. Inside a long
    stream the first token shares the CPU with the bulk of the transfer, which is noise here."""
    plain = Mitmdump(tmp, up.port, crosswire=False)
    cw = Mitmdump(tmp, up.port, crosswire=True)
    hdrs = {"x-bench-stream": "long:20", "x-bench-batch": "0"}
    modes: dict[str, Callable[[], Run]] = {
        "direct": lambda: fetch(up.port, "/v1/messages", ANTHROPIC_BODY, "anthropic", hdrs),
        "mitmdump": lambda: fetch(
            plain.port, f"http://127.0.0.1:{up.port}/v1/messages", ANTHROPIC_BODY, "anthropic", hdrs
        ),
        "mitmdump+crosswire": lambda: fetch(cw.port, f"{FAKE}/v1/chat/completions", CHAT_BODY, "openai-chat", hdrs),
    }
    samples: dict[str, list[float]] = {m: [] for m in modes}
    try:
        for _ in range(3):  # warm-up
            for do in modes.values():
                do()
        for _ in range(reps):
            for mode, do in modes.items():
                run = do()
                check_long(run, "openai-chat" if mode == "mitmdump+crosswire" else "anthropic", 20)
                samples[mode].append(run.ttft * 1e3)
                time.sleep(0.01)
    finally:
        plain.stop()
        cw.stop()
    out: dict[str, Any] = {"reps": reps, "modes": {}}
    for mode, xs in samples.items():
        xs.sort()
        out["modes"][mode] = {"median_ms": median(xs), "p90_ms": xs[int(len(xs) * 0.9) - 1]}
    out["added_ms"] = out["modes"]["mitmdump+crosswire"]["median_ms"] - out["modes"]["mitmdump"]["median_ms"]
    return out


def section_load(tmp: Path, up: Upstream, clients: int, frames: int) -> dict[str, Any]:
    from stream_judges import openai_accumulate

    cw = Mitmdump(tmp, up.port, crosswire=True)
    results: list[Run | BaseException | None] = [None] * clients
    barrier = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        hdrs = {"x-bench-stream": f"seeded:{i}:{frames}", "x-bench-batch": "0"}
        barrier.wait()
        try:
            results[i] = fetch(cw.port, f"{FAKE}/v1/chat/completions", CHAT_BODY, "openai-chat", hdrs)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    try:
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        alive = cw.proc.poll() is None
    finally:
        cw.stop()
    failures, corrupted = [], []
    for i, res in enumerate(results):
        if not isinstance(res, Run) or res.status != 200:
            failures.append(f"client {i}: {res!r}"[:300])
            continue
        exp = seeded_expected(i, frames)
        try:
            snap = openai_accumulate(res.body)  # the openai SDK's own accumulator is the judge
            choice = snap.choices[0]
            (call,) = choice.message.tool_calls or []
            got = (
                choice.message.content,
                choice.finish_reason,
                call.id,
                call.function.name,
                json.loads(call.function.arguments),
                snap.usage.prompt_tokens,
                snap.usage.completion_tokens,
            )
            want = (
                exp["text"],
                "tool_calls",
                exp["tool_id"],
                exp["tool_name"],
                exp["tool_args"],
                exp["input_tokens"],
                exp["output_tokens"],
            )
            if got != want:
                corrupted.append(f"client {i}: {[(g, w) for g, w in zip(got, want, strict=True) if g != w]}"[:300])
        except Exception as exc:
            corrupted.append(f"client {i}: {exc!r}"[:300])
    upstream_frames = clients * (frames + 11)
    return {
        "clients": clients,
        "frames_per_stream": frames + 11,
        "wall_s": wall,
        "frames_per_s": upstream_frames / wall,
        "failures": failures,
        "corrupted": corrupted,
        "mitmdump_alive": alive,
    }


def section_converter(events: int, repeat: int) -> dict[str, Any]:
    costs = bench_stream.converter_costs(events=events, repeat=repeat)
    floors: dict[str, float] = {}
    for source, gen in bench_stream.GENERATORS.items():
        chunks = list(bench_stream.chunked(gen(events)))
        floors[source] = bench_stream.best_of(lambda c=chunks: bench_stream.parse_floor(c), repeat) / events * 1e6
    return {
        "events": events,
        "pairs": [
            {"source": s, "target": t, "us_per_event": c, "floor": floors[s], "ratio": c / floors[s]}
            for (s, t), c in costs.items()
        ],
    }


def section_memory(tmp: Path, up: Upstream, big_mb: int, record: bool) -> dict[str, Any]:
    per_frame = sum(map(len, bench_stream.anthropic_text(1000))) / 1000
    n = int(big_mb * 1024 * 1024 / per_frame)
    extra = ["-w", str(tmp / "big.flow")] if record else ["--set", "crosswire_record_limit=0"]
    cw = Mitmdump(tmp, up.port, True, *extra)
    target = f"{FAKE}/v1/chat/completions"
    try:
        check_long(
            fetch(cw.port, target, CHAT_BODY, "openai-chat", {"x-bench-stream": "long:2000"}), "openai-chat", 2000
        )
        time.sleep(0.5)
        baseline = cw.status_kb("VmRSS")
        reset = cw.reset_peak()
        before_hwm = cw.status_kb("VmHWM")
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                with contextlib.suppress(OSError, KeyError):
                    samples.append(cw.status_kb("VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        hdrs = {"x-bench-stream": f"long:{n}", "x-bench-batch": "65536"}
        t0, cpu0 = time.perf_counter(), cw.cpu_ns()
        run = fetch(cw.port, target, CHAT_BODY, "openai-chat", hdrs, keep=False)
        wall, cpu = time.perf_counter() - t0, (cw.cpu_ns() - cpu0) / 1e9
        stop.set()
        sampler.join()
        tail = list(_frames(run.body[run.body.find(b"\n\n") + 2 :]))
        usage = next((o["usage"] for o in tail if isinstance(o, dict) and o.get("usage")), None)
        complete = run.status == 200 and tail[-1:] == ["[DONE]"] and bool(usage) and usage["completion_tokens"] == n
        peak = cw.status_kb("VmHWM")
    finally:
        cw.stop()
    return {
        "record": record,
        "stream_mb": n * per_frame / 1e6,
        "frames": n,
        "complete": complete,
        "baseline_mb": baseline / 1024,
        "peak_mb": peak / 1024,
        "growth_mb": (peak - (baseline if reset else before_hwm)) / 1024,
        "hwm_reset": reset,
        "rss_first_last_mb": (samples[0] / 1024, samples[-1] / 1024) if samples else None,
        "wall_s": wall,
        "cpu_s_per_mb": cpu / (n * per_frame / 1e6),
    }


# --- report --------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    import mitmproxy.version

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), platform.machine())
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "mitmproxy": mitmproxy.version.VERSION,
        "kernel": platform.release(),
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, mitmproxy {m['mitmproxy']}", ""]
    if "ttft" in res:
        tt = res["ttft"]
        lines += [
            f"Time to first token, short streams (20 deltas), {tt['reps']} interleaved runs per path "
            "(a new connection each, so connection setup is included):",
            "",
            "| path | median | p90 |",
            "|---|---:|---:|",
            *[f"| {m} | {v['median_ms']:.2f} ms | {v['p90_ms']:.2f} ms |" for m, v in tt["modes"].items()],
            "",
            f"crosswire vs plain mitmdump: {tt['added_ms']:+.2f} ms median ({verdict(tt['added_ms'] <= 1.0)}: ≤ 1 ms)",
            "",
        ]
    for lat in res.get("latency", []):
        lines += [
            f"Long stream: {lat['frames']} text deltas ({lat['upstream_mb']:.2f} MB), upstream writes "
            + ("one frame per write" if not lat["batch"] else f"{lat['batch']}-byte batches")
            + f", median of {lat['reps']} interleaved runs",
            "",
            "| path | time to first token | total | mitmdump CPU s/MB |",
            "|---|---:|---:|---:|",
        ]
        for mode, v in lat["modes"].items():
            cpu = f"{v['cpu_s_per_mb']:.3f}" if v["cpu_s_per_mb"] is not None else "–"
            lines.append(f"| {mode} | {v['ttft_ms']:.2f} ms | {v['total_ms']:.1f} ms | {cpu} |")
        lines += [
            "",
            f"crosswire vs plain mitmdump: {lat['added_ttft_ms']:+.2f} ms to first token inside the long stream, "
            f"{lat['added_us_per_frame']:+.1f} µs per frame, "
            f"{lat['added_cpu_pct']:+.1f}% CPU per MB ({verdict(lat['added_cpu_pct'] <= 10)}: ≤ 10%)",
            "",
        ]
    if "load" in res:
        ld = res["load"]
        ok = not ld["failures"] and not ld["corrupted"] and ld["mitmdump_alive"]
        lines += [
            f"Load: {ld['clients']} concurrent clients × {ld['frames_per_stream']} frames (text, tool call, usage): "
            f"{len(ld['failures'])} failed, {len(ld['corrupted'])} corrupted, {ld['wall_s']:.2f} s, "
            f"{ld['frames_per_s']:,.0f} upstream frames/s ({verdict(ok)}: zero failures, zero corrupted)",
            *[f"  {x}" for x in ld["failures"] + ld["corrupted"]],
            "",
        ]
    if "converter" in res:
        cv = res["converter"]
        worst = max(p["ratio"] for p in cv["pairs"])
        lines += [
            f"Converter only, {cv['events']} text deltas fed in 16 KiB chunks, best of runs:",
            "",
            "| source → target | µs/event | parse floor | ratio |",
            "|---|---:|---:|---:|",
            *[
                f"| {p['source']} → {p['target']} | {p['us_per_event']:.2f} | {p['floor']:.2f} | {p['ratio']:.2f}× |"
                for p in cv["pairs"]
            ],
            "",
            f"worst ratio {worst:.2f}× ({verdict(worst <= 2.0)}: ≤ 2.0× for every pair)",
            "",
        ]
    for mem in res.get("memory", []):
        first_last = mem["rss_first_last_mb"]
        trend = f", RSS {first_last[0]:.1f} → {first_last[1]:.1f} MB while streaming" if first_last else ""
        target = f" ({verdict(mem['growth_mb'] < 20)}: < 20 MB)" if not mem["record"] else ""
        recording = "on (default limit, -w)" if mem["record"] else "off"
        lines.append(
            f"Memory, {mem['stream_mb']:.0f} MB stream, recording {recording}: "
            f"baseline {mem['baseline_mb']:.1f} MB, peak {mem['peak_mb']:.1f} MB, growth {mem['growth_mb']:.1f} MB"
            f"{target}{trend}; {mem['wall_s']:.1f} s, {mem['cpu_s_per_mb'] * 1e3:.2f} ms CPU/MB, "
            f"{'complete' if mem['complete'] else 'INCOMPLETE'}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that it all runs (~1 min)")
    parser.add_argument("--frames", type=int, help="text deltas in the long stream (default 5000)")
    parser.add_argument("--reps", type=int, help="interleaved runs per path (default 9)")
    parser.add_argument(
        "--batch", type=int, action="append", help="upstream bytes per write, repeatable (0: per frame)"
    )
    parser.add_argument("--ttft-reps", type=int, help="short streams per path for time to first token (default 60)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--client-frames", type=int, help="text deltas per concurrent stream (default 500)")
    parser.add_argument("--events", type=int, help="events per converter-only run (default 20000)")
    parser.add_argument("--big-mb", type=int, help="size of the memory stream in MiB (default 1024)")
    parser.add_argument("--only", action="append", choices=["ttft", "latency", "load", "converter", "memory"])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    q = args.quick
    frames = args.frames or (1000 if q else 5000)
    reps = args.reps or (3 if q else 9)
    batches = args.batch or [0, 16384]
    client_frames = args.client_frames or (100 if q else 500)
    events = args.events or (5000 if q else 20000)
    big_mb = args.big_mb or (32 if q else 1024)
    ttft_reps = args.ttft_reps or (15 if q else 60)
    only = set(args.only or ["ttft", "latency", "load", "converter", "memory"])

    res: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="crosswire-bench-") as d:
        tmp = Path(d)
        up = Upstream()
        try:
            if "converter" in only:
                res["converter"] = section_converter(events, 3 if q else 5)
            if "ttft" in only:
                res["ttft"] = section_ttft(tmp, up, ttft_reps)
            if "latency" in only:
                res["latency"] = [section_latency(tmp, up, frames, reps, b) for b in batches]
            if "load" in only:
                res["load"] = section_load(tmp, up, args.clients, client_frames)
            if "memory" in only:
                res["memory"] = [section_memory(tmp, up, big_mb, rec) for rec in (False, True)]
        finally:
            up.stop()
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
