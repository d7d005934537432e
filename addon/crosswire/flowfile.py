"""Recordings read one flow at a time: mitmproxy flow files and HAR files, salvaging what can be read.

mitmproxy's own ``io.FlowReader`` stops at the first bad byte (a file cut off while it was being
written ends with a ``FlowReadException`` after the complete flows) and reads a HAR file with one
``json.loads`` of the whole file (so a HAR cut short yields nothing, and a large one is held whole).
This reader keeps mitmproxy's formats and conversions and changes only how the bytes are walked:

- A flow file is a sequence of tnetstring dicts, one per flow. Each is framed (``LENGTH:``, the
  bytes, ``}``) and parsed on its own, then upgraded from any flow format version mitmproxy reads
  (``mitmproxy.io.compat``) and built with ``Flow.from_state``. A flow whose bytes do not parse is
  skipped; where the framing itself is broken, reading resumes at the next offset where a whole,
  readable flow starts. A file that ends inside a flow is reported as cut off there.
- A HAR file is scanned for the entries of ``log.entries`` without parsing the rest; each entry's
  JSON text is parsed alone and turned into a flow by mitmproxy's ``io.har.request_to_flow``. An
  entry that does not parse or convert is skipped; a file that ends inside an entry is reported.
  A streamed answer in a HAR is the whole stream as one text. HAR text is Unicode and SSE is
  UTF-8 by definition, but mitmproxy encodes the text of a ``text/event-stream`` without a
  charset as latin-1 (its fallback for ``text/*``): such entries are handed over as UTF-8 bytes.

Memory stays bounded by the largest flow (or HAR entry) plus a read buffer, whatever the file's size.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from mitmproxy import flow as mflow
from mitmproxy.io import compat, har, tnetstring

CHUNK = 1 << 20
BOM = b"\xef\xbb\xbf"
_LENGTH = re.compile(rb"(\d{1,12}):")
_CANDIDATE = re.compile(rb"(?<![0-9])(\d{1,12}):")
# In a HAR: a whole JSON string, a bracket, or a lone quote (a string that continues past the buffer).
_HAR_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]|"')
_COLON = re.compile(rb"\s*:")
NOT_A_FLOW = "not the start of a flow"


class NotARecording(ValueError):
    """Neither a flow file nor a HAR file: nothing in it could be read as a flow."""


@dataclass
class Unreadable:
    """A part of the file no flow could be read from."""

    start: int
    end: int
    reason: str

    def __str__(self) -> str:
        return f"bytes {self.start}-{self.end}: {self.reason}"


class Recording:
    """The flows of ``path``, in order (:meth:`flows`), with what could not be read (:attr:`unreadable`).

    ``position`` is how far reading has got, in bytes (for progress); :meth:`count` counts the flows
    beforehand by walking the framing only (None when the framing is broken somewhere).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.unreadable: list[Unreadable] = []
        self.position = 0
        with open(path, "rb") as f:
            head = f.read(64)
        self._start = len(BOM) if head.startswith(BOM) else 0
        self.kind = "HAR" if head[self._start :].lstrip()[:1] == b"{" else "flow file"

    def count(self) -> int | None:
        with open(self.path, "rb") as fo:
            if self.kind == "HAR":
                return sum(1 for _ in _HarEntries(fo, self._start, self.size).raw(quiet=True))
            return _count_flow_items(fo, self.size)

    def flows(self) -> Iterator[mflow.Flow]:
        """Every readable flow. Raises :class:`NotARecording` when the file holds none but is not empty."""
        found = False
        with open(self.path, "rb") as fo:
            items = self._har(fo) if self.kind == "HAR" else self._flow_file(fo)
            for item in items:
                found = True
                yield item
        first = self.unreadable[0] if self.unreadable else None
        if not found and first is not None and first.start == 0 and first.reason == NOT_A_FLOW:
            raise NotARecording(f"{self.path}: not a mitmproxy flow file or a HAR file (it does not start like one)")

    # --- flow files -------------------------------------------------------------------------

    def _flow_file(self, fo: BinaryIO) -> Iterator[mflow.Flow]:
        pos, number = 0, 0
        while pos < self.size:
            self.position = pos
            fo.seek(pos)
            head = fo.read(13)
            match = _LENGTH.match(head)
            if match is None:
                pos = self._resync(fo, pos, number, NOT_A_FLOW)
                continue
            data_start = pos + match.end()
            end = data_start + int(match.group(1)) + 1  # after the closing '}'
            if end > self.size:
                pos = self._resync(fo, pos, number, "", cut=end)
                continue
            fo.seek(data_start)
            item = head[: match.end()] + fo.read(end - data_start)
            if item[-1:] != b"}":
                pos = self._resync(fo, pos, number, NOT_A_FLOW)
                continue
            number += 1
            try:
                flow = _flow_from_item(item)
            except Exception as exc:  # the framing is sound: only this flow is lost
                self.unreadable.append(Unreadable(pos, end, f"flow {number} could not be read: {_reason(exc)}"))
            else:
                yield flow
            pos = end
        self.position = self.size

    def _resync(self, fo: BinaryIO, pos: int, number: int, reason: str, cut: int | None = None) -> int:
        """Where the next readable flow after the broken bytes at ``pos`` starts (or the end)."""
        found = _next_flow_start(fo, pos + 1, self.size)
        if found is None and cut is not None:
            missing = cut - self.size
            reason = f"the file ends inside flow {number + 1} ({missing} bytes of it are missing: cut off?)"
        elif cut is not None:
            reason = "a flow's length runs past the end of the file"
        self.unreadable.append(Unreadable(pos, found if found is not None else self.size, reason))
        return found if found is not None else self.size

    # --- HAR --------------------------------------------------------------------------------

    def _har(self, fo: BinaryIO) -> Iterator[mflow.Flow]:
        entries = _HarEntries(fo, self._start, self.size)
        for number, (start, end, raw) in enumerate(entries.raw(), 1):
            self.position = end
            try:
                flow = _flow_from_har_entry(orjson.loads(raw))
            except Exception as exc:
                self.unreadable.append(Unreadable(start, end, f"HAR entry {number} could not be read: {_reason(exc)}"))
            else:
                yield flow
        self.unreadable.extend(entries.problems)
        self.position = self.size


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _flow_from_item(item: bytes) -> mflow.Flow:
    state = tnetstring.loads(item)
    if not isinstance(state, dict):
        raise ValueError("not a flow")
    return mflow.Flow.from_state(compat.migrate_flow(state))


def _looks_like_flow(fo: BinaryIO, pos: int, size: int) -> bool:
    fo.seek(pos)
    head = fo.read(13)
    match = _LENGTH.match(head)
    if match is None:
        return False
    end = pos + match.end() + int(match.group(1)) + 1
    if end > size:
        return False
    fo.seek(end - 1)
    if fo.read(1) != b"}":
        return False
    fo.seek(pos)
    try:
        flow = _flow_from_item(fo.read(end - pos))
    except Exception:
        return False
    return flow is not None


def _next_flow_start(fo: BinaryIO, start: int, size: int) -> int | None:
    """The first offset from ``start`` on where a whole readable flow begins."""
    pos = start
    while pos < size:
        fo.seek(pos)
        window = fo.read(CHUNK + 13)
        for match in _CANDIDATE.finditer(window):
            if match.start() >= CHUNK:
                break
            if _looks_like_flow(fo, pos + match.start(), size):
                return pos + match.start()
        pos += CHUNK
    return None


def _count_flow_items(fo: BinaryIO, size: int) -> int | None:
    pos, count = 0, 0
    while pos < size:
        fo.seek(pos)
        match = _LENGTH.match(fo.read(13))
        if match is None:
            return None
        pos += match.end() + int(match.group(1)) + 1
        if pos > size:
            return None
        fo.seek(pos - 1)
        if fo.read(1) != b"}":
            return None
        count += 1
    return count


def _flow_from_har_entry(entry: Any) -> mflow.Flow:
    if not isinstance(entry, dict):
        raise ValueError("not an object")
    content = entry.get("response", {}).get("content", {})
    text = content.get("text")
    headers = entry.get("response", {}).get("headers", [])
    content_type = next(
        (h.get("value", "") for h in headers if isinstance(h, dict) and h.get("name", "").lower() == "content-type"),
        content.get("mimeType", ""),
    )
    if isinstance(text, str) and content.get("encoding") != "base64" and "charset" not in content_type.lower():
        # UTF-8 bytes, not mitmproxy's latin-1 fallback for text/* (an SSE stream is UTF-8 by definition)
        entry = {**entry, "response": {**entry["response"], "content": {**content, "encoding": "base64"}}}
        entry["response"]["content"]["text"] = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
    return har.request_to_flow(entry)


class _HarEntries:
    """The JSON text of each element of ``log.entries``, found by walking strings and brackets."""

    def __init__(self, fo: BinaryIO, start: int, size: int) -> None:
        self.fo = fo
        self.start = start
        self.size = size
        self.problems: list[Unreadable] = []

    def raw(self, quiet: bool = False) -> Iterator[tuple[int, int, bytes]]:
        """(start offset, end offset, bytes) per entry; problems go to :attr:`problems`."""
        fo = self.fo
        fo.seek(self.start)
        buf = b""
        base = self.start  # file offset of buf[0]
        pos = 0
        eof = False
        stack: list[bytes] = []  # open brackets
        keys: list[str | None] = []  # per open object: the last key read in it
        entry_start: int | None = None
        in_entries = False
        seen_entries = False
        while True:
            match = _HAR_TOKEN.search(buf, pos)
            if match is None or (match.group() == b'"' and not eof):
                if eof:
                    break
                keep = entry_start if entry_start is not None else pos
                buf, base, pos = buf[keep:], base + keep, pos - keep
                if entry_start is not None:
                    entry_start = 0
                more = fo.read(CHUNK)
                eof = not more
                buf += more
                continue
            token = match.group()
            pos = match.end()
            if token == b'"':  # a string still open at the end of the file
                break
            first = token[:1]
            if first == b'"':
                if stack and stack[-1] == b"{" and len(stack) <= 2:
                    colon = _COLON.match(buf, pos)
                    if colon is None and not eof and len(buf) - pos < 64:
                        pos = match.start()  # the colon may be in the next chunk
                        more = fo.read(CHUNK)
                        eof = not more
                        buf += more
                        continue
                    if colon is not None:
                        keys[-1] = orjson.loads(token) if len(token) < 64 else None
                continue
            if first in b"{[":
                if in_entries and len(stack) == 3 and first == b"{":
                    entry_start = match.start()
                if len(stack) == 2 and first == b"[" and keys[-1] == "entries" and keys[0] == "log":
                    in_entries = seen_entries = True
                stack.append(first)
                keys.append(None)
                continue
            if not stack or {b"}": b"{", b"]": b"["}[first] != stack[-1]:
                if not quiet:
                    self.problems.append(Unreadable(base + match.start(), self.size, "the HAR's brackets do not match"))
                return
            stack.pop()
            keys.pop()
            if in_entries and len(stack) == 3 and first == b"}" and entry_start is not None:
                yield base + entry_start, base + pos, buf[entry_start:pos]
                entry_start = None
            elif in_entries and len(stack) == 2:
                return  # the entries are complete; nothing after them is needed
        if quiet:
            return
        if not seen_entries:
            raise NotARecording("a JSON file without a HAR log.entries list (or cut off before it)")
        if entry_start is not None:
            self.problems.append(
                Unreadable(base + entry_start, self.size, "the file ends inside a HAR entry (cut off?)")
            )
        else:
            self.problems.append(Unreadable(self.size, self.size, "the file ends before the HAR's entries list closes"))
