"""Faults through a real mitmdump with crosswire: what a broken upstream or client does to it.

For every fault: mitmdump stays up (alive, and a following normal request succeeds), a normal
stream running at the same time through the same mitmdump completes correctly, the faulty
client gets a well-formed error (the official SDK raises the matching exception class) or the
complete answer, and what the upstream sent is all in the recording (-w) within the record limit.

One mitmdump serves the module. Its flow file is only complete once it stops, so each test notes
what the recording must hold (under a model name of its own) and the last test checks it all.
"""

from __future__ import annotations

import contextlib
import json
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import crosswire
import openai
import orjson
import pytest
from canned import anthropic_stream, openai_chat_stream
from crosswire.convert import INVALID_UTF8
from crosswire.fakeupstream import SSE, FakeUpstream, Reply, compress
from e2e import CLIENT_ANTHROPIC_KEY, CLIENT_OPENAI_KEY, Mitmdump, route_args
from h2upstream import H2Reply, H2Upstream
from mitmproxy import io

pytestmark = pytest.mark.e2e

try:  # the SDK releases on Python 3.12 are built on httpx2
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]

FAULT = "http://fault.test"
NORMAL = "http://normal.test"
H2 = "https://h2.test"
RECORD_LIMIT = 8 * 1024 * 1024  # crosswire_record_limit's documented default (docs/addon.md)
TEXTS = ["The ", "answer ", "is ", "forty-", "two", "."]
ANSWER = "".join(TEXTS)
NORMAL_TEXTS = [f"n{i} " for i in range(12)]

# model name -> (the upstream's body as it sent it, decoded; how the recording must hold it)
# "all": byte for byte; "cut": a non-empty prefix of it, and the flow's error (the client hung up)
EXPECT: dict[str, tuple[bytes, str]] = {}
NORMAL_RUNS = [0]  # normal streams run during a fault, each recorded as "normal-during"


@pytest.fixture(scope="module")
def ups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("faults")
    with FakeUpstream() as fault, FakeUpstream() as normal, H2Upstream(tmp) as h2:
        yield {"fault": fault, "normal": normal, "h2": h2, "tmp": tmp}


@pytest.fixture(scope="module")
def proxy(ups: dict[str, Any]) -> Iterator[Mitmdump]:
    fault, normal, h2 = ups["fault"], ups["normal"], ups["h2"]
    m = Mitmdump(
        ups["tmp"],
        *route_args(
            f"{FAULT}/v1/chat/completions -> {fault.url('/v1/messages')}",
            f"{FAULT}/v1/messages -> {fault.url('/v1/chat/completions')}",
            f"{NORMAL}/v1/chat/completions -> {normal.url('/v1/messages')}",
            f"{H2}/v1/chat/completions -> {h2.url('/v1/messages')}",
        ),
        "--set",
        "ssl_insecure=true",
        "--set",
        "connection_strategy=lazy",  # CONNECT h2.test: no DNS lookup before crosswire reroutes
        "-w",
        str(ups["tmp"] / "faults.flow"),
    )
    yield m
    m.stop()


def oai(proxy: Mitmdump, base: str = FAULT, **http: Any) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{base}/v1",
        api_key=CLIENT_OPENAI_KEY,
        http_client=httpx.Client(proxy=proxy.url, **http),
        max_retries=0,
        timeout=30,
    )


def ant(proxy: Mitmdump) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=FAULT,
        api_key=CLIENT_ANTHROPIC_KEY,
        http_client=httpx.Client(proxy=proxy.url),
        max_retries=0,
        timeout=30,
    )


def chat_stream(client: openai.OpenAI, model: str) -> tuple[str, BaseException | None]:
    """The text an openai client assembled, and what its stream raised (None: a clean end)."""
    text = ""
    try:
        for chunk in client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "q"}], stream=True
        ):
            text += chunk.choices[0].delta.content or "" if chunk.choices else ""
    except Exception as exc:
        return text, exc
    return text, None


def messages_stream(client: anthropic.Anthropic, model: str) -> tuple[str, BaseException | None]:
    text = ""
    try:
        with client.messages.stream(model=model, max_tokens=9, messages=[{"role": "user", "content": "q"}]) as s:
            for t in s.text_stream:
                text += t
            s.get_final_message()
    except Exception as exc:
        return text, exc
    return text, None


@contextlib.contextmanager
def unaffected(proxy: Mitmdump, ups: dict[str, Any]) -> Iterator[None]:
    """A normal stream runs through the same mitmdump during the fault; after it, mitmdump is
    alive and answers a new request."""
    normal: FakeUpstream = ups["normal"]
    normal.reset()
    normal.push(Reply(anthropic_stream(NORMAL_TEXTS), split_frames=True, delay=0.03))
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(out=chat_stream(oai(proxy, NORMAL), "normal-during")))
    thread.start()
    NORMAL_RUNS[0] += 1
    yield
    thread.join(30)
    assert result.get("out") == ("".join(NORMAL_TEXTS), None), "the concurrent normal stream was affected"
    assert proxy.proc.poll() is None, "mitmdump died"
    normal.push(Reply(anthropic_stream(["still ", "up"]), split_frames=True))
    assert chat_stream(oai(proxy, NORMAL), "normal-after") == ("still up", None)


def error_frame(exc: BaseException | None) -> bool:
    """The openai SDK raised on an error frame inside a 200 stream (not on a status or the transport)."""
    return isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIStatusError | openai.APIConnectionError)


def expect_recorded(model: str, upstream_sent: bytes, how: str = "all") -> None:
    assert model not in EXPECT
    EXPECT[model] = (upstream_sent, how)


# --- the upstream breaks the stream ------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_upstream_closes_mid_frame_openai_client(proxy: Mitmdump, ups: dict[str, Any], framing: str) -> None:
    reply = Reply(anthropic_stream(TEXTS), split_frames=True, pieces=2, drop_after=9, framing=framing)
    sent = b"".join(reply.pieces_of()[:9])
    assert not sent.endswith(b"\n\n")  # the cut is inside a frame
    ups["fault"].push(reply)
    model = f"drop-mid-frame-{framing}"
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), model)
    assert ANSWER.startswith(text) and text != ANSWER
    if framing == "chunked":  # mitmproxy cuts the client's connection: the chunked body never ends
        assert isinstance(exc, httpx.RemoteProtocolError | openai.APIConnectionError), repr(exc)
    else:  # the close looks like the end of the body: the converter's error frame ends the stream
        assert error_frame(exc), repr(exc)
    expect_recorded(model, sent)


def test_upstream_closes_mid_frame_anthropic_client(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    reply = Reply(openai_chat_stream(["Bon", "jour", "!"]), split_frames=True, pieces=2, drop_after=5)
    ups["fault"].push(reply)
    with unaffected(proxy, ups):
        text, exc = messages_stream(ant(proxy), "drop-mid-frame-anthropic")
    assert "Bonjour!".startswith(text) and text != "Bonjour!"
    assert isinstance(exc, httpx.RemoteProtocolError | anthropic.APIConnectionError), repr(exc)
    expect_recorded("drop-mid-frame-anthropic", b"".join(reply.pieces_of()[:5]))


GARBAGE = b"\x00\x01\x02garbage\xff\xfe\r\n\r\n<?xml version='1.0'?>\n{not: json}\n\n"


def test_garbage_bytes_openai_client(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    ups["fault"].push(Reply(GARBAGE, content_type=SSE, pieces=3))
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), "garbage-openai")
    assert text == ""
    assert error_frame(exc), repr(exc)
    expect_recorded("garbage-openai", GARBAGE)


def test_garbage_bytes_anthropic_client(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    ups["fault"].push(Reply(GARBAGE, content_type=SSE, pieces=3))
    with unaffected(proxy, ups):
        text, exc = messages_stream(ant(proxy), "garbage-anthropic")
    assert text == ""
    # the anthropic SDK raises an `error` event as a status error carrying the stream's 200
    assert isinstance(exc, anthropic.APIStatusError) and exc.status_code == 200, repr(exc)
    expect_recorded("garbage-anthropic", GARBAGE)


def test_garbage_after_a_good_start(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    body = anthropic_stream(TEXTS, stop=False) + b'data: {"type": "content_block_delta", \xff\xff\n\n' + GARBAGE
    ups["fault"].push(Reply(body, split_frames=True))
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), "garbage-later")
    assert text == ANSWER  # everything good before the garbage arrives
    assert error_frame(exc), repr(exc)
    expect_recorded("garbage-later", body)


def test_invalid_utf8_in_a_text_delta(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    good = anthropic_stream(TEXTS)
    bad = good.replace(b'"text":"forty-"', b'"text":"fort\xff\xfe-"')
    assert bad != good
    ups["fault"].push(Reply(bad, split_frames=True))
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), "invalid-utf8")
    # Decoded as the SSE standard says (and as the SDKs' own decoders do): U+FFFD for each bad byte.
    assert (text, exc) == (ANSWER.replace("forty-", "fort\ufffd\ufffd-"), None)
    expect_recorded("invalid-utf8", bad)


def test_a_20_mb_single_frame(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    huge = "0123456789abcdef" * (20 * 1024 * 1024 // 16)
    body = anthropic_stream(["before ", huge, " after"])
    ups["fault"].push(Reply(body, pieces=64))
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), "huge-frame")
    # Over the SSE decoder's 16 MiB frame limit: the frames before it, then an error frame naming it.
    assert error_frame(exc), repr(exc)
    assert text == "before " and "exceeds the 16777216-byte limit" in str(exc)
    expect_recorded("huge-frame", body)


# --- the upstream answers something that is not a stream ---------------------------------------


def test_empty_sse_body_with_status_200(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    ups["fault"].push(Reply(b"", content_type=SSE))
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), "empty-sse")
    assert text == ""
    assert error_frame(exc), repr(exc)
    expect_recorded("empty-sse", b"")


def test_empty_json_body_with_status_200(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    ups["fault"].push(Reply(b"", content_type="application/json", framing="length"))
    with unaffected(proxy, ups), pytest.raises(openai.APIStatusError) as info:
        oai(proxy).chat.completions.create(model="empty-json", messages=[{"role": "user", "content": "q"}])
    assert info.value.status_code == 502  # crosswire could not convert what the upstream sent
    assert isinstance(info.value.body, dict) and "could not convert" in info.value.body["message"]
    expect_recorded("empty-json", b"")


HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\r\n"  # noqa: E501


def test_html_502_openai_client(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    ups["fault"].push(Reply(HTML_502, status=502, content_type="text/html"))
    with unaffected(proxy, ups), pytest.raises(openai.InternalServerError) as info:
        oai(proxy).chat.completions.create(model="html-502", messages=[{"role": "user", "content": "q"}], stream=True)
    assert info.value.status_code == 502
    assert isinstance(info.value.body, dict) and "502 Bad Gateway" in json.dumps(info.value.body)
    expect_recorded("html-502", HTML_502)


def test_html_502_anthropic_client(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    ups["fault"].push(Reply(HTML_502, status=502, content_type="text/html"))
    with unaffected(proxy, ups), pytest.raises(anthropic.InternalServerError) as info:
        ant(proxy).messages.create(
            model="html-502-anthropic", max_tokens=5, messages=[{"role": "user", "content": "q"}], stream=True
        )
    assert info.value.status_code == 502
    assert isinstance(info.value.body, dict) and info.value.body["type"] == "error"
    assert "502 Bad Gateway" in info.value.body["error"]["message"]
    expect_recorded("html-502-anthropic", HTML_502)


# --- slow parties -----------------------------------------------------------------------------


def test_upstream_stalls_then_resumes(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    body = anthropic_stream(TEXTS)
    reply = Reply(body, pieces=2, delay=2.0)
    assert not reply.pieces_of()[0].endswith(b"\n\n")  # the stall is in the middle of a frame
    ups["fault"].push(reply)
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), "stall")
    assert (text, exc) == (ANSWER, None)
    expect_recorded("stall", body)


def test_client_disconnects_mid_stream(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    body = anthropic_stream([f"w{i} " for i in range(40)])
    ups["fault"].push(Reply(body, split_frames=True, delay=0.05))
    with unaffected(proxy, ups):
        stream = oai(proxy).chat.completions.create(
            model="client-gone", messages=[{"role": "user", "content": "q"}], stream=True
        )
        got = ""
        for chunk in stream:
            got += chunk.choices[0].delta.content or "" if chunk.choices else ""
            if got:
                break
        stream.close()  # the client hangs up with most of the answer still to come
    assert got == "w0 "
    expect_recorded("client-gone", body, "cut")


# --- HTTP/2 and compression -------------------------------------------------------------------


def test_http2_upstream(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    h2: H2Upstream = ups["h2"]
    body = anthropic_stream(TEXTS, tool=("toolu_h2", "lookup", ['{"q":', ' "h2"}']))
    h2.replies.append(H2Reply(body, pieces=7))
    with unaffected(proxy, ups):
        client = oai(proxy, H2, verify=False, http2=True)  # h2 to mitmdump, so mitmdump offers h2 upstream
        with client.chat.completions.stream(model="h2", messages=[{"role": "user", "content": "q"}]) as s:
            final = s.get_final_completion()
    choice = final.choices[0]
    assert choice.message.content == ANSWER and choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.id == "toolu_h2" and json.loads(call.function.arguments) == {"q": "h2"}
    assert h2.alpn[-1] == "h2" and h2.requests[-1].headers[":path"] == "/v1/messages"
    assert h2.requests[-1].headers["x-api-key"] != CLIENT_OPENAI_KEY and orjson.loads(h2.requests[-1].body)["stream"]
    expect_recorded("h2", body)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_compressed_stream(proxy: Mitmdump, ups: dict[str, Any], encoding: str) -> None:
    body = anthropic_stream(TEXTS)
    ups["fault"].push(Reply(body, split_frames=True, pieces=2, encoding=encoding))
    with unaffected(proxy, ups):
        assert chat_stream(oai(proxy), f"compressed-{encoding}") == (ANSWER, None)
    expect_recorded(f"compressed-{encoding}", body)  # recorded decoded, as the converter read it


def test_corrupt_compressed_stream(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    good = compress(anthropic_stream(TEXTS), "gzip")
    corrupt = good[: len(good) // 2] + bytes(b ^ 0x5A for b in good[len(good) // 2 :])
    ups["fault"].push(Reply(corrupt, content_type=SSE, headers={"content-encoding": "gzip"}, pieces=2))
    with unaffected(proxy, ups):
        text, exc = chat_stream(oai(proxy), "corrupt-gzip")
    assert ANSWER.startswith(text) and text != ANSWER
    assert error_frame(exc), repr(exc)
    assert "decode" in str(exc)
    expect_recorded("corrupt-gzip", corrupt, "undecodable")


# --- the recording ----------------------------------------------------------------------------


def test_recording_kept_what_every_upstream_sent(proxy: Mitmdump, ups: dict[str, Any]) -> None:
    """Last in the module: stops mitmdump, so the flow file is complete."""
    if not EXPECT:
        pytest.skip("run with the fault tests above: they say what the recording must hold")
    log = proxy.stop()
    # Every fault took a planned path: no internal error, no traceback through crosswire's code.
    # (mitmproxy itself may log a cancelled task's traceback while it shuts down.)
    assert "internal error" not in log
    # (a frame in crosswire's own files: the checkout's path may itself contain "crosswire")
    package = str(Path(crosswire.__file__).parent)
    assert not [ln for ln in log.splitlines() if ln.strip().startswith("File ") and package in ln]
    with (ups["tmp"] / "faults.flow").open("rb") as f:
        recorded_flows = list(io.FlowReader(f).stream())
    models = [orjson.loads(fl.request.content or b"{}").get("model") for fl in recorded_flows]
    flows = dict(zip(models, recorded_flows, strict=True))
    for model, (sent, how) in EXPECT.items():
        assert model in flows, f"{model}: no flow recorded"
        md = flows[model].metadata["crosswire"]
        if model == "invalid-utf8":  # read as U+FFFD, and said so
            assert INVALID_UTF8 in md["warnings"], md["warnings"]
        up = md["upstream_response"]
        assert up is not None, f"{model}: no upstream response recorded"
        recorded: bytes = up["body"]
        if len(sent) > RECORD_LIMIT:
            assert up["truncated"] and recorded == sent[:RECORD_LIMIT], f"{model}: not the first {RECORD_LIMIT} bytes"
        elif how == "undecodable":  # decoded up to the failing chunk, then kept as it came
            undecoded: bytes = up["undecoded"]
            assert undecoded and sent.endswith(undecoded), f"{model}: {len(undecoded)} raw bytes kept"
            head = sent[: len(sent) - len(undecoded)]
            assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head) == recorded, model
        elif how == "all":
            assert not up["truncated"] and recorded == sent, f"{model}: {len(recorded)} of {len(sent)} bytes recorded"
        else:
            assert recorded and sent.startswith(recorded) and md["error"], f"{model}: {recorded[-80:]!r}"
    assert models.count("normal-during") == NORMAL_RUNS[0]  # the concurrent normal streams were recorded too
