"""The `crosswire` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import BinaryIO

import orjson

from . import __version__, bodies, formats, run
from .convert import StreamConverter
from .options import THINKING_MODES, Options
from .routes import parse_model_map

READ_SIZE = 65536


def _open_in(path: str | None) -> BinaryIO:
    return open(path, "rb") if path and path != "-" else sys.stdin.buffer


def _open_out(path: str | None) -> BinaryIO:
    return open(path, "wb") if path and path != "-" else sys.stdout.buffer


def _read_some(stream: BinaryIO) -> bytes:
    """What is available now (a pipe's ``read`` would wait for a whole buffer)."""
    try:
        return os.read(stream.fileno(), READ_SIZE)
    except (AttributeError, OSError, ValueError):
        return stream.read(READ_SIZE)


def convert_stream(source: str, target: str, options: Options, src: BinaryIO, dst: BinaryIO, first: bytes = b"") -> int:
    """Convert an SSE stream, writing and flushing each output frame as soon as it is ready."""
    conv = StreamConverter(source, target, options)
    chunk = first
    while True:
        if chunk:
            out = conv.feed(chunk)
            if out:
                dst.write(out)
                dst.flush()
        chunk = _read_some(src)
        if not chunk:
            break
    dst.write(conv.close())
    dst.flush()
    for warning in conv.warnings:
        print(f"crosswire: warning: {warning}", file=sys.stderr)
    return 1 if conv.errored else 0


def cmd_convert(args: argparse.Namespace) -> int:
    options = Options(thinking=args.thinking, model=args.model)
    with _open_in(args.input) as src, _open_out(args.output) as dst:
        first = _read_some(src)
        while first and not first.strip():  # sniff past leading whitespace
            more = _read_some(src)
            if not more:
                break
            first += more
        if args.request or args.status is not None or first.lstrip()[:1] in (b"{", b"["):
            return convert_body(args, options, first + src.read(), dst)
        return convert_stream(args.source, args.target, options, src, dst, first)


def convert_body(args: argparse.Namespace, options: Options, body: bytes, dst: BinaryIO) -> int:
    """Convert a JSON body: a request (``--request``), an error (``--status`` or an error-shaped
    body) or a whole response."""
    status = args.status if args.status is not None else bodies.error_status(args.source, body)
    try:
        if args.request:
            result = bodies.convert_request(args.source, args.target, body, options)
        elif status is not None:
            result = bodies.convert_error(args.source, args.target, body, status, options)
        else:
            result = bodies.convert_response(args.source, args.target, body, options)
    except bodies.RequestRejected as exc:
        print(f"crosswire: request rejected: {exc.message}", file=sys.stderr)
        return 1
    dst.write(orjson.dumps(result.body, option=orjson.OPT_INDENT_2) + b"\n")
    dst.flush()
    for warning in result.warnings:
        print(f"crosswire: warning: {warning}", file=sys.stderr)
    if result.status != 200:
        print(f"crosswire: HTTP status {result.status}", file=sys.stderr)
    # a response that could not be read became an error: say so in the exit status
    return 1 if status is None and result.status != 200 else 0


def cmd_flows_convert(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .flows import convert_file  # imports mitmproxy: only for this command

    summary = convert_file(
        Path(args.input),
        Path(args.output),
        args.route,
        args.config,
        args.thinking,
        target=args.target,
        source=args.source,
        model_map=parse_model_map(args.model),
    )
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0 if summary.ok else 1


def cmd_flows_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .flowexport import export_file

    summary = export_file(Path(args.input), Path(args.directory))
    for line in summary.lines():
        print(line, file=sys.stderr)
    return 0 if not summary.unreadable else 1


def cmd_flows_show(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .flowshow import show_file

    return show_file(Path(args.input), sys.stdout, args.detail)


def add_flows_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    flows = sub.add_parser(
        "flows",
        help="work on recorded mitmproxy flow files",
        description="Work on recorded mitmproxy flow files (mitmdump -w, mitmweb's save).",
    )
    flows_sub = flows.add_subparsers(dest="flows_command", metavar="COMMAND", required=True)
    conv = flows_sub.add_parser(
        "convert",
        help="convert the LLM API calls of a recording into another format, offline",
        description="With --to FORMAT: rewrite every LLM API call of a recording (a mitmproxy flow file or a HAR "
        "file, recorded with or without crosswire) into FORMAT, both sides, as if a FORMAT client had asked and a "
        "FORMAT provider had answered; the original stays in the flow's metadata. With --route: convert flows "
        "recorded through crosswire again from the upstream answer they keep (the same as `mitmdump -nr IN -s "
        "mitm.py --set crosswire_route=... -w OUT`). Every readable flow is written to OUT. Exits 1 when a flow "
        "failed or part of IN could not be read, 2 on bad arguments or a file that is no recording.",
    )
    conv.add_argument("input", metavar="IN", help="recording to read: a mitmproxy flow file or a HAR file")
    conv.add_argument("output", metavar="OUT", help="flow file to write (may be IN: replaced when done)")
    conv.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="'MATCH -> UPSTREAM'",
        help="a route, as crosswire_route (repeatable; after the --config routes, first match wins)",
    )
    conv.add_argument("--config", metavar="FILE", help="a TOML routes file, as crosswire_config")
    names = list(formats.FORMATS.names)
    conv.add_argument("--to", dest="target", choices=names, help="rewrite every LLM API call into this format")
    conv.add_argument(
        "--from",
        dest="source",
        choices=names,
        help="with --to: the recorded calls are in this format (default: told from each flow's path and bodies)",
    )
    conv.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="MAP",
        help="with --to: NAME (every model) or FROM=TO (repeatable; * for the rest): the model the converted "
        "requests name, and the answers report",
    )
    conv.add_argument(
        "--thinking",
        choices=THINKING_MODES,
        default="reasoning_content",
        help="how thinking reaches an openai-chat client (with --route: for routes that set no 'thinking')",
    )
    conv.set_defaults(func=cmd_flows_convert)

    export = flows_sub.add_parser(
        "export",
        help="write each LLM API call of a recording as fixture files",
        description="Write each LLM API call of IN (a flow file or a HAR file) into DIR as NNN-request.json, "
        "NNN-response.sse or NNN-response.json, NNN-meta.json (URL, status, formats, model, usage, warnings), "
        "plus index.json; see docs/flows.md for the layout. DIR must be new or empty.",
    )
    export.add_argument("input", metavar="IN", help="recording to read: a mitmproxy flow file or a HAR file")
    export.add_argument("directory", metavar="DIR", help="directory to write (created; must be empty)")
    export.set_defaults(func=cmd_flows_export)

    show = flows_sub.add_parser(
        "show",
        help="list the LLM API calls of a recording, one line each",
        description="One line per LLM API call of IN: number, time, method, host/path, format (and route when "
        "crosswire converted it), model, status, stop reason, tokens in/out/cached, duration, time to the first "
        "byte of the answer. --detail N prints call N's answer assembled (as mitmweb's LLM stream view shows it).",
    )
    show.add_argument("input", metavar="IN", help="recording to read: a mitmproxy flow file or a HAR file")
    show.add_argument("--detail", type=int, metavar="N", help="print call N (the first column) in full")
    show.set_defaults(func=cmd_flows_show)


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .demo import run_demo

    return run_demo(record=Path(args.record) if args.record else None)


def add_demo_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser(
        "demo",
        help="watch crosswire convert a stream, on this machine alone (no network, no API key)",
        description="Start a fake Anthropic API and mitmdump with crosswire on 127.0.0.1, stream an OpenAI "
        "Chat Completions request through them and print the converted answer as it arrives; then stop both.",
    )
    demo.add_argument(
        "--record",
        metavar="DIR",
        help="also record the demo and one flow per scenario (text, tool call, thinking, error) into DIR",
    )
    demo.set_defaults(func=cmd_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crosswire",
        description=f"Translate LLM API traffic between {', '.join(formats.FORMATS.names)}.",
    )
    parser.add_argument("--version", action="version", version=f"crosswire {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = list(formats.FORMATS.names)
    conv = sub.add_parser(
        "convert",
        help="convert an SSE stream or a JSON body from one format to another",
        description="Convert an SSE stream (frame by frame) or a JSON body from one format to another. "
        "A JSON input is read as a whole response, or as an error when it is shaped like one or --status is given.",
    )
    conv.add_argument("--from", dest="source", required=True, choices=names, help="format of the input")
    conv.add_argument("--to", dest="target", required=True, choices=names, help="format to write")
    conv.add_argument(
        "--thinking",
        choices=THINKING_MODES,
        default="reasoning_content",
        help="how thinking reaches an openai-chat client (default: reasoning_content)",
    )
    conv.add_argument("--model", help="report this model name instead of the source's")
    conv.add_argument("--request", action="store_true", help="the input is a request body (client -> upstream)")
    conv.add_argument("--status", type=int, metavar="N", help="the input is an error body sent with HTTP status N")
    conv.add_argument("input", nargs="?", help="input file (default: stdin)")
    conv.add_argument("output", nargs="?", help="output file (default: stdout)")
    conv.set_defaults(func=cmd_convert)
    add_flows_parser(sub)
    add_demo_parser(sub)
    run.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except (OSError, ValueError) as exc:
        print(f"crosswire: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
