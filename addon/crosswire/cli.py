"""The `crosswire` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import BinaryIO

from . import __version__, formats
from .convert import StreamConverter
from .options import THINKING_MODES, Options

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
        return convert_stream(args.source, args.target, options, src, dst)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crosswire",
        description="Translate LLM API traffic between anthropic, openai-chat and openai-responses.",
    )
    parser.add_argument("--version", action="version", version=f"crosswire {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = list(formats.FORMATS)
    conv = sub.add_parser(
        "convert",
        help="convert an SSE stream or a JSON body from one format to another",
        description="Convert an SSE stream from one format to another, frame by frame.",
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
    conv.add_argument("input", nargs="?", help="input file (default: stdin)")
    conv.add_argument("output", nargs="?", help="output file (default: stdout)")
    conv.set_defaults(func=cmd_convert)
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
