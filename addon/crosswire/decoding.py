"""Content decoding, chunk by chunk, for streamed bodies (pure: no mitmproxy import).

mitmproxy does not undo ``Content-Encoding`` for a streamed body, and crosswire asks upstreams for
``identity``; an upstream that compresses anyway is decoded here as the chunks arrive.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any


def _same(data: bytes) -> bytes:
    return data


class Decoder:
    """Undoes a Content-Encoding chunk by chunk (gzip, deflate, br, zstd; identity passes)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding = encoding.strip().lower()
        self._feed: Callable[[bytes], bytes]
        if encoding in ("", "identity"):
            self._feed = _same
        elif encoding in ("gzip", "x-gzip"):
            self._feed = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
        elif encoding == "deflate":
            self._deflate: Any = None
            self._feed = self._inflate
        elif encoding == "br":
            import brotli

            self._feed = brotli.Decompressor().process
        elif encoding == "zstd":
            self._feed = _zstd_decompressor()
        else:
            raise ValueError(f"unsupported content-encoding {encoding!r}")

    def _inflate(self, data: bytes) -> bytes:
        # "deflate" is zlib-wrapped by the spec, raw deflate in practice often: tell by the first bytes.
        if self._deflate is None:
            wrapped = len(data) >= 2 and (data[0] & 0x0F) == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._deflate = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return self._deflate.decompress(data)

    def feed(self, data: bytes) -> bytes:
        return self._feed(data) if data else b""


def _zstd_decompressor() -> Callable[[bytes], bytes]:
    """mitmproxy 12 ships ``backports.zstd`` (``compression.zstd`` on 3.14), mitmproxy 11 ``zstandard``."""
    try:
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        return zstd.ZstdDecompressor().decompress  # type: ignore[no-any-return]
    except ImportError:
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress  # type: ignore[no-any-return]
