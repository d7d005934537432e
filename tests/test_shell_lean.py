"""The lean stream shell: the recording tape, when the tapes are skipped, and the adapter's lean path
against its careful one (issue 14). Speed is measured in bench/bench_shell.py, never here."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from canned import anthropic_stream
from crosswire import addon as addon_module
from crosswire.addon import StreamAdapter
from crosswire.convert import StreamConverter
from crosswire.options import Options
from crosswire.record import Tape
from mitmproxy import ctx
from mitmproxy.options import Options as MitmOptions
from mitmproxy.tools.dump import DumpMaster

KEY = "sk-ant-api03-" + "k" * 95

# --- the tape --------------------------------------------------------------------------------


def test_tape_keeps_every_byte_up_to_its_limit_over_many_chunks() -> None:
    chunks = [b"%05d|" % i for i in range(3 * Tape.COMPACT // 6 + 7)]  # more than one compaction run
    whole = b"".join(chunks)
    tape = Tape(len(whole))
    for chunk in chunks:
        tape.add(chunk)
    assert tape.buf == whole and not tape.truncated and len(tape) == len(whole)


def _keep(tape: Tape, data: bytes) -> None:
    """What the stream adapter does per chunk: append while it fits, else ``add``."""
    if len(data) <= tape.room and type(data) is bytes:
        tape.room -= len(data)
        tape.parts.append(data)
    else:
        tape.add(data)


@pytest.mark.parametrize("limit", [0, 1, 100, Tape.COMPACT - 3, Tape.COMPACT * 3 + 11, 10**7])
def test_tape_appended_to_directly_keeps_the_same_bytes_and_few_parts(limit: int) -> None:
    chunks = [b"x" * (i % 7) + b"%d|" % i for i in range(40000)]  # 0.2 MB of tiny chunks, some empty-ish
    chunks[5000] = b"y" * (Tape.COMPACT + 5)  # one larger than ``room`` can ever be
    whole = b"".join(chunks)
    tape = Tape(limit)
    for i, chunk in enumerate(chunks):
        _keep(tape, chunk)
        if i == 20000:
            assert tape.buf == whole[: min(limit, len(b"".join(chunks[:20001])))]  # read halfway, then go on
    assert tape.buf == whole[:limit] and len(tape) == min(limit, len(whole))
    assert tape.truncated == (limit < len(whole))
    assert len(tape.parts) <= 1


def test_tape_joins_tiny_chunks_as_it_goes() -> None:
    tape = Tape(10**7)
    for i in range(100000):
        _keep(tape, b"%d," % i)
    # runs of COMPACT bytes joined, and less than COMPACT bytes of loose chunks (each of 2 bytes or more)
    assert len(tape.parts) <= len(tape) // Tape.COMPACT + 1 + Tape.COMPACT // 2
    assert tape.buf == b"".join(b"%d," % i for i in range(100000))


def test_tape_cuts_at_its_limit_and_says_so() -> None:
    tape = Tape(10)
    for chunk in (b"abcd", b"efgh", b"ijkl", b"mnop"):
        tape.add(chunk)
    assert tape.buf == b"abcdefghij" and tape.truncated and len(tape) == 10


def test_tape_read_then_added_to_keeps_the_order() -> None:
    tape = Tape(100)
    tape.add(b"one ")
    assert tape.buf == b"one "
    tape.add(b"two")
    assert tape.buf == b"one two"


def test_tape_copies_a_mutable_chunk_it_keeps() -> None:
    tape = Tape(100)
    chunk = bytearray(b"before")
    tape.add(chunk)
    chunk[:] = b"after!"
    assert tape.buf == b"before"


def test_tape_with_no_room_keeps_nothing() -> None:
    tape = Tape(0)
    tape.add(b"x")
    assert tape.buf == b"" and tape.truncated


# --- the lean path is the careful path's common case -----------------------------------------

STREAM = anthropic_stream(["Hel", "lo, ", KEY, " world"])


def _run(adapter: StreamAdapter, chunks: list[bytes]) -> bytes:
    out = b""
    for chunk in [*chunks, b""]:
        got = adapter(chunk)
        out += got if isinstance(got, bytes) else b"".join(got)
    return out


def _adapter(encoding: str = "", limit: int = 1 << 20) -> StreamAdapter:
    options = Options(created=1)
    conv = StreamConverter("anthropic", "openai-chat", options)
    return StreamAdapter(conv, encoding, "openai-chat", options, limit, KEY, "$ANTHROPIC_API_KEY")


def _cuts(data: bytes) -> Iterator[list[bytes]]:
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    yield [data[i : i + 17] for i in range(0, len(data), 17)]


@pytest.mark.parametrize("cut", range(3))
def test_identity_encoding_and_gzip_give_the_same_answer_and_recording(cut: int) -> None:
    lean = _adapter()
    careful = _adapter("gzip")  # a compressed stream takes the careful path for every chunk
    lean_out = _run(lean, list(_cuts(STREAM))[cut])
    careful_out = _run(careful, [gzip.compress(STREAM)])
    assert lean_out == careful_out and KEY.encode() not in lean_out
    assert b"[redacted by crosswire: $ANTHROPIC_API_KEY]" in lean_out
    assert lean.upstream.buf == careful.upstream.buf == STREAM
    assert lean.client.buf == careful.client.buf == lean_out
    assert lean.first_token_at is not None and careful.first_token_at is not None


def test_a_failure_in_the_lean_path_becomes_one_error_frame_and_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = _adapter()
    assert adapter._lean

    def broken(data: bytes) -> bytes:
        raise RuntimeError("boom")

    monkeypatch.setattr(adapter, "_feed", broken)
    first = adapter(STREAM[:40])
    assert isinstance(first, bytes) and first.count(b'"error"') == 1 and b"boom" in first
    assert not adapter._lean and adapter(STREAM[40:]) == [] and adapter(b"") == b""


def test_identity_route_lean_path_holds_back_a_split_key() -> None:
    options = Options()
    adapter = StreamAdapter(None, "", "anthropic", options, 1 << 20, KEY, "$ANTHROPIC_API_KEY")
    data = b"data: " + KEY.encode() + b"\n\n"
    out = _run(adapter, [data[i : i + 5] for i in range(0, len(data), 5)])
    assert out == b"data: [redacted by crosswire: $ANTHROPIC_API_KEY]\n\n"
    assert adapter.upstream.buf == data  # the recording is redacted when the flow is saved, not here


# --- when nothing can save the flow, no tape -------------------------------------------------


class _ForeignAddon:
    """Stands for a user's script: it could save flows, so crosswire keeps its tapes."""


@pytest.fixture
def dump_master() -> Iterator[DumpMaster]:
    saved = {name: getattr(ctx, name) for name in ("master", "options") if hasattr(ctx, name)}
    loop = asyncio.new_event_loop()
    try:
        master = DumpMaster(MitmOptions(), loop=loop, with_termlog=False, with_dumper=True)
        yield master
    finally:
        for name in ("master", "options"):  # the next test's mitmproxy context is its own
            if name in saved:
                setattr(ctx, name, saved[name])
            elif hasattr(ctx, name):
                delattr(ctx, name)
        loop.close()


def test_a_plain_mitmdump_keeps_no_tape(dump_master: DumpMaster) -> None:
    assert addon_module._flows_kept() is False


def test_a_recording_mitmdump_keeps_the_tapes(dump_master: DumpMaster, tmp_path: Path) -> None:
    dump_master.options.update(save_stream_file=str(tmp_path / "out.flow"))
    assert addon_module._flows_kept() is True


def test_a_mitmdump_printing_bodies_keeps_the_tapes(dump_master: DumpMaster) -> None:
    dump_master.options.update(flow_detail=3)
    assert addon_module._flows_kept() is True


def test_a_mitmdump_with_another_addon_keeps_the_tapes(dump_master: DumpMaster) -> None:
    dump_master.addons.add(_ForeignAddon())
    assert addon_module._flows_kept() is True


def test_any_other_host_keeps_the_tapes() -> None:
    from mitmproxy.test import taddons

    with taddons.context():
        assert addon_module._flows_kept() is True


def test_an_adapter_that_records_nothing_calls_no_tape_and_says_it_kept_nothing() -> None:
    adapter = _adapter(limit=0)
    out = _run(adapter, [STREAM])
    assert out == _run(_adapter(), [STREAM])  # the client gets the same answer
    assert adapter.upstream.buf == adapter.client.buf == b""
    assert adapter.upstream.truncated and adapter.client.truncated
