"""What the mitmproxy shell around the converter costs, measured in a real mitmdump (not a test).

    python bench/bench_shell.py [--quick] [--before DIR] [--only callable|adapter|cpu|memory] [--json PATH]

Sections:
  callable  crosswire's ``flow.response.stream`` timed inside a running mitmdump: bench/callable_timer.py,
            loaded after crosswire, wraps the callable crosswire installed and times each call
            (perf_counter_ns) beside a minimal useful callable (split frames, orjson.loads, write the
            target's frame from a template) fed the same chunk in the same call. Every pair the addon
            runs live (the six converting pairs, and the three identity routes against a bare
            pass-through), on text and tool-heavy streams, one frame per upstream write. Per round:
            the median ns per frame of each; reported: the medians over the rounds and their ratio.
  adapter   (with --before) the adapter's own share of that callable: each one-frame call's time less
            the time of the converter's ``feed`` inside it, this version beside the older one.
  cpu       the whole mitmdump process's CPU (its threads' schedstat) over one stream, anthropic ->
            openai-chat: crosswire against plain mitmdump (streaming, no callable) and against the
            template floor (plain mitmdump streaming every answer through the minimal callable):
            one frame per write back to back, paced (frames --pace-us apart), and 16 KiB writes.
            Runs interleaved, medians.
  memory    a stream with one large frame (--frame-mb) in flight: the peak memory the stream
            callable allocates while it passes (tracemalloc, in this process: crosswire's adapter
            with recording on and off, the minimal callable), and the peak RSS growth (VmHWM) of a
            fresh mitmdump + crosswire against plain mitmdump over the same stream, in 64 KiB writes.

The upstream (bench/sse_upstream.py) runs in its own process; everything listens on 127.0.0.1 and
is stopped before the script exits.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_stream  # noqa: E402
import sse_upstream  # noqa: E402
from bench_proxy import BENCH_KEYS, Mitmdump, Upstream, machine  # noqa: E402
from callable_timer import MinimalCallable  # noqa: E402

FORMATS = ["anthropic", "openai-chat", "openai-responses"]
PATHS = {"anthropic": "/v1/messages", "openai-chat": "/v1/chat/completions", "openai-responses": "/v1/responses"}
BODIES = {
    "anthropic": {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]},
    "openai-chat": {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream_options": {"include_usage": True},
    },
    "openai-responses": {"model": "gpt-4o", "input": "hi"},
}
PAIRS = [(s, t) for s in FORMATS for t in FORMATS]
TIMER = HERE / "callable_timer.py"


def host(source: str, target: str) -> str:
    return f"{source}-to-{target}.bench.test"


def pair_routes(upstream_port: int) -> list[tuple[str, str, str]]:
    """One route per pair: the client's endpoint on a host naming the pair, the upstream's format."""
    return [
        (f"{s}>{t}", f"http://{host(s, t)}{PATHS[t]}", f"http://127.0.0.1:{upstream_port}{PATHS[s]}") for s, t in PAIRS
    ]


# --- the client, and what it must have received ----------------------------------------------


def fetch(port: int, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST through the proxy at 127.0.0.1:``port``; the whole body, read as it arrives."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", url, body, {"content-type": "application/json", "authorization": "Bearer client", **headers})
    resp = conn.getresponse()
    parts = []
    while piece := resp.read1(1 << 16):
        parts.append(piece)
    conn.close()
    return resp.status, b"".join(parts)


def assemble(fmt: str, body: bytes) -> tuple[str, list[str], bool]:
    """The text, each tool call's arguments, and whether the stream ended properly, as a client of
    ``fmt`` reads them (a judge independent of crosswire's readers)."""
    text: list[str] = []
    args: dict[int, list[str]] = {}
    ended = False
    for frame in body.split(b"\n\n"):
        data = b"\n".join(line[6:] for line in frame.split(b"\n") if line.startswith(b"data: "))
        if not data:
            continue
        if data == b"[DONE]":
            ended = True
            continue
        obj = orjson.loads(data)
        kind = obj.get("type")
        if fmt == "anthropic":
            delta = obj.get("delta") or {}
            if delta.get("type") == "text_delta":
                text.append(delta["text"])
            elif delta.get("type") == "input_json_delta":
                args.setdefault(obj["index"], []).append(delta["partial_json"])
            ended = ended or kind == "message_stop"
        elif fmt == "openai-chat":
            for choice in obj.get("choices") or []:
                delta = choice.get("delta") or {}
                text.append(delta.get("content") or "")
                for call in delta.get("tool_calls") or []:
                    args.setdefault(call["index"], []).append(call.get("function", {}).get("arguments") or "")
        else:
            if kind == "response.output_text.delta":
                text.append(obj["delta"])
            elif kind == "response.function_call_arguments.delta":
                args.setdefault(obj["output_index"], []).append(obj["delta"])
            ended = ended or kind == "response.completed"
    return "".join(text), ["".join(parts) for _, parts in sorted(args.items())], ended


def expected(kind: str, n: int) -> tuple[str, list[str]]:
    if kind == "text":
        words = bench_stream.WORDS
        return "".join(words[i % len(words)] for i in range(n)), []
    return "", ["".join(bench_stream.fragments(n // bench_stream.CALLS))] * bench_stream.CALLS


def stream(port: int, source: str, target: str, kind: str, n: int, **hdrs: str) -> bytes:
    """One stream of ``kind`` (text, tools) from a ``source`` upstream to a ``target`` client,
    checked against what the upstream was told to send."""
    headers = {"x-bench-stream": f"{kind}:{source}:{n}", "x-bench-label": f"{source}>{target}:{kind}"}
    headers.update({"x-bench-" + k.replace("_", "-"): v for k, v in hdrs.items()})
    body = orjson.dumps({**BODIES[target], "stream": True})
    status, out = fetch(port, f"http://{host(source, target)}{PATHS[target]}", body, headers)
    got = assemble(target, out)
    if status != 200 or got != (*expected(kind, n), True):
        raise AssertionError(f"{source} -> {target} ({kind}): status {status}, wrong answer: {out[:400]!r}")
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# --- callable ------------------------------------------------------------------------------


def per_frame_medians(record: dict[str, Any]) -> tuple[float, float]:
    """Median ns per frame of crosswire's callable and of the floor, over the calls that completed frames."""
    ours, floor = [], []
    for frames, a, b in zip(record["frames"], record["ours"], record["floor"], strict=True):
        if frames:
            ours.append(a / frames)
            floor.append(b / frames)
    return median(ours), median(floor)


def section_callable(
    tmp: Path, up: Upstream, n: int, rounds: int, kinds: list[str], before: Path | None
) -> dict[str, Any]:
    versions = {"now": None, **({"before": before / "addon/crosswire/mitm.py"} if before else {})}
    procs, files = {}, {}
    for version, entry in versions.items():
        files[version] = tmp / f"timings-{version}.jsonl"
        args = ["-s", str(TIMER), "--set", f"bench_timings={files[version]}"]
        procs[version] = Mitmdump(tmp, up.port, True, *args, routes=pair_routes(up.port), entry=entry)
    labels = [(s, t, k) for k in kinds for s, t in PAIRS]
    try:
        for proc in procs.values():
            for s, t, k in labels:  # warm-up, and a check of every answer
                stream(proc.port, s, t, k, n)
        time.sleep(0.2)
        for path in files.values():
            path.write_text("")
        for r in range(rounds):
            for s, t, k in labels[r % len(labels) :] + labels[: r % len(labels)]:  # a different order each round
                for version in sorted(procs, reverse=r % 2 == 1):
                    stream(procs[version].port, s, t, k, n)
        time.sleep(0.2)
    finally:
        for proc in procs.values():
            proc.stop()
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for version, path in files.items():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            samples.setdefault(record["label"], {}).setdefault(version, []).append(per_frame_medians(record))
    rows = []
    for label, by_version in samples.items():
        pair, kind = label.split(":")
        source, target = pair.split(">")
        row: dict[str, Any] = {"source": source, "target": target, "kind": kind}
        for version, xs in by_version.items():
            row[version] = {
                "rounds": len(xs),
                "ours_ns": median([x[0] for x in xs]),
                "floor_ns": median([x[1] for x in xs]),
                "ratio": median([a / b for a, b in xs]),
            }
        rows.append(row)
    return {"events": n, "rounds": rounds, "rows": rows}


def section_adapter(tmp: Path, up: Upstream, n: int, rounds: int, before: Path) -> dict[str, Any]:
    """The adapter's own share of crosswire's callable inside mitmdump: each call's time less the
    time of the converter's ``feed`` within it, this version and ``before``, alternating."""
    versions = {"now": None, "before": before / "addon/crosswire/mitm.py"}
    procs, files = {}, {}
    for version, entry in versions.items():
        files[version] = tmp / f"split-{version}.jsonl"
        args = ["-s", str(TIMER), "--set", f"bench_timings={files[version]}", "--set", "bench_split=true"]
        procs[version] = Mitmdump(tmp, up.port, True, *args, routes=pair_routes(up.port), entry=entry)
    labels = [("anthropic", "openai-chat", "text"), ("openai-chat", "anthropic", "tools")]
    try:
        for proc in procs.values():
            for s, t, k in labels:
                stream(proc.port, s, t, k, n)
        time.sleep(0.2)
        for path in files.values():
            path.write_text("")
        for r in range(rounds):
            for s, t, k in labels:
                for version in sorted(procs, reverse=r % 2 == 1):
                    stream(procs[version].port, s, t, k, n)
        time.sleep(0.2)
    finally:
        for proc in procs.values():
            proc.stop()
    rows: dict[str, dict[str, Any]] = {}
    for version, path in files.items():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            calls = [
                (a, f)
                for frames, a, f in zip(record["frames"], record["ours"], record["feed"], strict=False)
                if frames == 1
            ]
            own = median([a - f for a, f in calls])
            feed = median([f for _, f in calls])
            rows.setdefault(record["label"], {}).setdefault(version, []).append((own, feed))
    out = []
    for label, by_version in rows.items():
        row: dict[str, Any] = {"label": label}
        for version, xs in by_version.items():
            row[version] = {"own_ns": median([x[0] for x in xs]), "feed_ns": median([x[1] for x in xs])}
        out.append(row)
    return {"events": n, "rounds": rounds, "rows": out}


# --- cpu -----------------------------------------------------------------------------------


def section_cpu(
    tmp: Path, up: Upstream, name: str, n: int, reps: int, batch: int, pace_us: int, before: Path | None
) -> dict[str, Any]:
    kind = "text"
    source, target = "anthropic", "openai-chat"
    routes = [(f"{source}>{target}", f"http://{host(source, target)}{PATHS[target]}", f"http://127.0.0.1:{up.port}")]
    routes = [(a, b, c + PATHS[source]) for a, b, c in routes]
    procs = {
        "plain mitmdump": Mitmdump(tmp, up.port, False),
        "template floor": Mitmdump(tmp, up.port, False, "-s", str(TIMER), "--set", f"bench_floor={source}>{target}"),
        "crosswire": Mitmdump(tmp, up.port, True, routes=routes),
    }
    if before is not None:
        procs["crosswire before"] = Mitmdump(
            tmp, up.port, True, routes=routes, entry=before / "addon/crosswire/mitm.py"
        )
    hdrs = {"x-bench-stream": f"{kind}:{source}:{n}", "x-bench-batch": str(batch), "x-bench-pace-us": str(pace_us)}
    direct_body = orjson.dumps({**BODIES[source], "stream": True})

    def run(mode: str) -> float:
        proc = procs[mode]
        cpu0 = proc.cpu_ns()
        if mode.startswith("crosswire"):
            stream(proc.port, source, target, kind, n, batch=str(batch), pace_us=str(pace_us))
        else:
            url = f"http://127.0.0.1:{up.port}{PATHS[source]}"
            status, out = fetch(proc.port, url, direct_body, hdrs)
            # the floor writes text and every call's arguments as one call's: its text is the judge
            fmt = target if mode == "template floor" else source
            if status != 200 or assemble(fmt, out)[0] != expected(kind, n)[0]:
                raise AssertionError(f"{mode}: wrong answer {out[:300]!r}")
        time.sleep(0.05)  # let mitmdump finish the flow's hooks before reading its CPU time
        return (proc.cpu_ns() - cpu0) / 1e6

    samples: dict[str, list[float]] = {m: [] for m in procs}
    try:
        for mode in procs:
            run(mode)
        for r in range(reps):
            order = list(procs)[r % len(procs) :] + list(procs)[: r % len(procs)]
            for mode in order:
                samples[mode].append(run(mode))
    finally:
        for proc in procs.values():
            proc.stop()
    ms = {m: median(xs) for m, xs in samples.items()}
    extra = {}
    if before is not None:
        extra["before_over_plain_pct"] = (ms["crosswire before"] / ms["plain mitmdump"] - 1) * 100
        extra["before_over_floor"] = ms["crosswire before"] / ms["template floor"]
    return {
        **extra,
        "name": name,
        "events": n,
        "reps": reps,
        "batch": batch,
        "pace_us": pace_us,
        "cpu_ms": ms,
        "over_plain_pct": (ms["crosswire"] / ms["plain mitmdump"] - 1) * 100,
        "floor_over_plain_pct": (ms["template floor"] / ms["plain mitmdump"] - 1) * 100,
        "over_floor": ms["crosswire"] / ms["template floor"],
    }


# --- memory --------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def child_peak(source: str, target: str, callable_: str, size: int, chunk: int) -> None:
    """In a fresh interpreter: the peak RSS growth (VmHWM over VmRSS before) while a stream with
    one ``size``-byte frame passes through ``callable_`` (a record limit for crosswire's adapter,
    or ``minimal``) in ``chunk``-byte calls, each chunk a new object as mitmproxy hands them over.
    RSS, not tracemalloc: orjson reserves buffers many times a string's size that it never touches."""
    data = b"".join(sse_upstream.big_frame(source, size))
    if callable_.startswith("before="):  # the adapter of another copy of crosswire
        where, callable_ = callable_[7:].rsplit("=", 1)
        sys.path.insert(0, str(Path(where) / "addon"))
        for name in [name for name in sys.modules if name.split(".")[0] == "crosswire"]:
            del sys.modules[name]  # bench_proxy imported this tree's (for launch): the other copy's from here on

    def make() -> Callable[[bytes], Any]:
        if callable_ == "minimal":
            return MinimalCallable(source, target)
        if callable_ == "decoder":  # the SSE decoder alone: the shell's part of what a frame costs
            from crosswire.sse import SSEDecoder

            decoder = SSEDecoder()
            return lambda data: decoder.feed_pairs(data) and b""
        return adapter_factory(source, target, int(callable_))()

    call = make()
    for frame in sse_upstream.big_frame(source, 1000):  # warm-up: the code paths, small
        call(frame)
    call = make()
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    base = _status_kb("VmRSS")
    sent = 0
    for at in range(0, len(data), chunk):
        out = call(data[at : at + chunk])
        sent += len(out) if isinstance(out, bytes) else sum(map(len, out))
        del out
    sent += len(call(b""))
    print(json.dumps({"growth": (_status_kb("VmHWM") - base) * 1024, "sent": sent}))


def adapter_factory(source: str, target: str, record_limit: int) -> Callable[[], Callable[[bytes], Any]]:
    from crosswire.addon import StreamAdapter
    from crosswire.convert import StreamConverter
    from crosswire.options import Options

    def make() -> Callable[[bytes], Any]:
        options = Options(created=1)
        conv = None if source == target else StreamConverter(source, target, options)
        key = BENCH_KEYS["ANTHROPIC_API_KEY"]
        return StreamAdapter(conv, "", target, options, record_limit, key, "$ANTHROPIC_API_KEY")

    return make


MEMORY_PAIRS = [("anthropic", "openai-chat"), ("openai-chat", "anthropic"), ("openai-responses", "anthropic")]
MEMORY_CALLABLES = {
    "crosswire, recording on (8 MiB limit)": str(8 << 20),
    "crosswire, recording off": "0",
    "minimal callable": "minimal",
    "crosswire's SSE decoder alone": "decoder",
}


def section_memory_callable(frame_mb: float, chunk: int, reps: int, before: Path | None) -> dict[str, Any]:
    size = int(frame_mb * 1024 * 1024)
    rows = []
    callables = dict(MEMORY_CALLABLES)
    if before is not None:
        for name, which in MEMORY_CALLABLES.items():
            if name.startswith("crosswire,"):
                callables[name.replace("crosswire,", "crosswire before,")] = f"before={before}={which}"
        callables["crosswire before's SSE decoder alone"] = f"before={before}=decoder"
    for source, target in MEMORY_PAIRS:
        largest = max(map(len, sse_upstream.big_frame(source, size)))
        peaks: dict[str, list[int]] = {name: [] for name in callables}
        for _ in range(reps):
            for name, which in callables.items():
                cmd = [sys.executable, __file__, "--child-memory", source, target, which, str(size), str(chunk)]
                done = subprocess.run(cmd, check=True, capture_output=True, text=True)
                peaks[name].append(json.loads(done.stdout)["growth"])
        rows.append(
            {"source": source, "target": target, "frame": largest, "peaks": {k: median(v) for k, v in peaks.items()}}
        )
    return {"frame_mb": frame_mb, "chunk": chunk, "reps": reps, "rows": rows}


def section_memory_rss(tmp: Path, up: Upstream, frame_mb: float, record: bool, before: Path | None) -> dict[str, Any]:
    source, target = "anthropic", "openai-chat"
    size = int(frame_mb * 1024 * 1024)
    routes = [
        (
            f"{source}>{target}",
            f"http://{host(source, target)}{PATHS[target]}",
            f"http://127.0.0.1:{up.port}{PATHS[source]}",
        )
    ]
    extra = ["-w", str(tmp / "big.flow")] if record else ["--set", "crosswire_record_limit=0"]
    out: dict[str, Any] = {"frame_mb": frame_mb, "record": record}
    hdrs = {"x-bench-stream": f"big:{source}:{size}", "x-bench-batch": "65536"}
    entries = {"crosswire": None, **({"crosswire before": before / "addon/crosswire/mitm.py"} if before else {})}
    for mode in ("plain mitmdump", *entries):
        if mode == "plain mitmdump":
            proc = Mitmdump(tmp, up.port, False)
        else:
            proc = Mitmdump(tmp, up.port, True, *extra, routes=routes, entry=entries[mode])
        try:
            if mode != "plain mitmdump":
                stream(proc.port, source, target, "text", 200)  # warm-up
            else:
                fetch(
                    proc.port,
                    f"http://127.0.0.1:{up.port}{PATHS[source]}",
                    b"{}",
                    {"x-bench-stream": "text:anthropic:200"},
                )
            time.sleep(0.3)
            base = proc.status_kb("VmRSS")
            proc.reset_peak()
            if mode != "plain mitmdump":
                body = orjson.dumps({**BODIES[target], "stream": True})
                status, got = fetch(proc.port, f"http://{host(source, target)}{PATHS[target]}", body, hdrs)
                ok = status == 200 and assemble(target, got)[2]
            else:
                status, got = fetch(proc.port, f"http://127.0.0.1:{up.port}{PATHS[source]}", b"{}", hdrs)
                ok = status == 200 and assemble(source, got)[2]
            del got
            time.sleep(0.3)
            out[mode] = {"growth_mb": (proc.status_kb("VmHWM") - base) / 1024, "complete": ok}
        finally:
            proc.stop()
    return out


# --- report --------------------------------------------------------------------------------


def report(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, mitmproxy {m['mitmproxy']}", ""]
    if "callable" in res:
        c = res["callable"]
        versions = [v for v in ("now", "before") if v in c["rows"][0]]
        lines += [
            f"In-mitmdump callable, {c['events']} events per stream, one frame per upstream write, "
            f"medians of {c['rounds']} rounds (ns per frame; identity routes against a bare pass-through):",
            "",
            "| source → target | stream | "
            + " | ".join(f"{v}: crosswire | {v}: minimal | {v}: ratio" for v in versions)
            + " |",
            "|---|---|" + "---:|---:|---:|" * len(versions),
        ]
        for row in c["rows"]:
            cells = " | ".join(
                f"{row[v]['ours_ns']:.0f} | {row[v]['floor_ns']:.0f} | {row[v]['ratio']:.2f}×" for v in versions
            )
            lines.append(f"| {row['source']} → {row['target']} | {row['kind']} | {cells} |")
        for v in versions:
            worst = max((r for r in c["rows"] if r["source"] != r["target"]), key=lambda r: r[v]["ratio"])
            lines.append(
                f"{v}: worst converting pair {worst['source']} → {worst['target']} ({worst['kind']}) "
                f"{worst[v]['ratio']:.2f}×"
            )
        lines.append("")
    if "adapter" in res:
        a = res["adapter"]
        lines.append(
            f"The adapter's own share inside mitmdump (call less the converter's feed, one-frame calls, "
            f"medians of {a['rounds']} rounds of {a['events']} events):"
        )
        for row in a["rows"]:
            cells = ", ".join(
                f"{v}: own {row[v]['own_ns']:.0f} ns beside feed {row[v]['feed_ns']:.0f} ns" for v in ("now", "before")
            )
            lines.append(f"  {row['label']}: {cells}")
        lines.append("")
    for cpu in res.get("cpu", []):
        ms = cpu["cpu_ms"]
        lines.append(
            f"CPU, {cpu['name']} ({cpu['events']} events, median of {cpu['reps']}): "
            f"plain {ms['plain mitmdump']:.1f} ms, "
            f"template floor {ms['template floor']:.1f} ms ({cpu['floor_over_plain_pct']:+.1f}%), "
            f"crosswire {ms['crosswire']:.1f} ms ({cpu['over_plain_pct']:+.1f}% over plain, "
            f"{cpu['over_floor']:.2f}× the floor)"
            + (
                f"; before: {ms['crosswire before']:.1f} ms ({cpu['before_over_plain_pct']:+.1f}%, "
                f"{cpu['before_over_floor']:.2f}× the floor)"
                if "crosswire before" in ms
                else ""
            )
        )
    if "cpu" in res:
        lines.append("")
    if "memory_callable" in res:
        mt = res["memory_callable"]
        lines += [
            f"Peak RSS growth of a fresh interpreter while one {mt['frame_mb']:g} MiB frame passes through the "
            f"callable in {mt['chunk']}-byte chunks, median of {mt['reps']}, × the frame:",
            "",
        ]
        for row in mt["rows"]:
            peaks = ", ".join(f"{k} {v / 1e6:.1f} MB ({v / row['frame']:.2f}×)" for k, v in row["peaks"].items())
            lines.append(f"  {row['source']} → {row['target']}: {peaks}")
        lines.append("")
    for mem in res.get("memory_rss", []):
        lines.append(
            f"Peak RSS growth of a fresh mitmdump over a stream with one {mem['frame_mb']:g} MiB frame "
            f"(recording {'on, -w' if mem['record'] else 'off'}): plain {mem['plain mitmdump']['growth_mb']:.1f} MB, "
            + ", ".join(
                f"{mode} {v['growth_mb']:.1f} MB" + ("" if v["complete"] else " (INCOMPLETE)")
                for mode, v in mem.items()
                if mode.startswith("crosswire")
            )
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a check that it all runs")
    parser.add_argument("--events", type=int, help="events per stream in the callable section (default 2000)")
    parser.add_argument("--rounds", type=int, help="rounds of every pair in the callable section (default 7)")
    parser.add_argument("--kind", action="append", choices=["text", "tools"], help="streams to time (default both)")
    parser.add_argument("--reps", type=int, help="interleaved runs per mode in the cpu section (default 7)")
    parser.add_argument("--pace-us", type=int, default=2000, help="µs between frames of the paced stream (2000)")
    parser.add_argument("--frame-mb", type=float, default=16 - 1 / 64, help="the large frame, MiB (just under 16)")
    parser.add_argument("--only", action="append", choices=["callable", "adapter", "cpu", "memory"])
    parser.add_argument("--before", type=Path, help="a checkout of an older crosswire to measure beside this one")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--child-memory", nargs=5, help=argparse.SUPPRESS)  # the memory section's subprocess
    args = parser.parse_args()
    if args.child_memory:
        source, target, which, size, chunk = args.child_memory
        child_peak(source, target, which, int(size), int(chunk))
        return 0
    q = args.quick
    only = set(args.only or ["callable", "adapter", "cpu", "memory"])
    res: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="crosswire-bench-") as d:
        tmp = Path(d)
        up = Upstream()
        try:
            if "callable" in only:
                res["callable"] = section_callable(
                    tmp,
                    up,
                    args.events or (300 if q else 2000),
                    args.rounds or (2 if q else 7),
                    args.kind or ["text", "tools"],
                    args.before,
                )
            if "adapter" in only and args.before:
                res["adapter"] = section_adapter(
                    tmp, up, args.events or (300 if q else 2000), 2 if q else 5, args.before
                )
            if "cpu" in only:
                reps = args.reps or (2 if q else 7)
                res["cpu"] = [
                    section_cpu(
                        tmp, up, "one frame per write, back to back", 1000 if q else 5000, reps, 0, 0, args.before
                    ),
                    section_cpu(
                        tmp,
                        up,
                        f"paced, a frame every {args.pace_us} µs",
                        100 if q else 500,
                        reps,
                        0,
                        args.pace_us,
                        args.before,
                    ),
                    section_cpu(tmp, up, "16 KiB writes", 5000 if q else 20000, reps, 16384, 0, args.before),
                ]
            if "memory" in only:
                frame_mb = 1.0 if q else args.frame_mb
                res["memory_callable"] = section_memory_callable(frame_mb, 65536, 1 if q else 3, args.before)
                res["memory_rss"] = [section_memory_rss(tmp, up, frame_mb, rec, args.before) for rec in (False, True)]
        finally:
            up.stop()
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
