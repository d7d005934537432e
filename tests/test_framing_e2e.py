"""Framing follows the client, and an upstream failure is never a clean end (issue 10, item 4).

Every client HTTP version (1.0, 1.1, 2) against every upstream (HTTP/1.1, HTTP/2), through a real
mitmdump: a complete stream arrives whole, framed for the client (chunked for HTTP/1.1,
close-delimited for HTTP/1.0, frames for HTTP/2); an upstream that dies mid-stream reaches the
client as an error its SDK reports (an error event, a broken chunked body, a reset stream or a
reset connection), never as a normal end of the body.

The HTTP/1.1 client is the official OpenAI SDK. The SDKs' httpx cannot be an HTTP/2 client of
mitmproxy (it offers ``http/1.1`` first in ALPN and mitmproxy honours the client's preference; with
HTTP/1.1 disabled it sends an h2 preface to the proxy itself) and none speaks HTTP/1.0: those two
clients are an ``h2`` connection over TLS (to a reverse-mode listener of the same mitmdump) and a
raw socket, and their bodies are judged by the SDK's own SSE decoder. mitmproxy mirrors the
client's ALPN upstream, so ``scripts/offer_h2.py`` makes it offer h2 to the HTTP/2 upstream
whatever the client speaks.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest
from canned import anthropic_stream
from conftest import ROOT
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import CLIENT_OPENAI_KEY, Mitmdump, route_args, unused_port
from h2upstream import H2Answer, H2Reply, H2Upstream, h2_request
from leaks import Sentinel, httpx, recording_client
from openai._streaming import SSEDecoder

pytestmark = pytest.mark.e2e

TEXTS = [f"part{i} " for i in range(8)]
ANSWER = "".join(TEXTS)
BODY = anthropic_stream(TEXTS)
FRAMES = BODY.count(b"\n\n")
CUT = 6  # frames the upstream sends before it dies: message_start, ping, block start, three deltas


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("framing")
    with Sentinel() as origin, FakeUpstream() as h1, H2Upstream(tmp) as h2:
        reverse = unused_port()
        proxy = Mitmdump(
            tmp,
            "--mode",
            "regular",
            "--mode",
            f"reverse:http://{origin.origin}@127.0.0.1:{reverse}",
            *route_args(
                f"{origin.origin}/h1/v1/chat/completions -> {h1.url('/v1/messages')}",
                f"{origin.origin}/h2/v1/chat/completions -> {h2.url('/v1/messages')}",
            ),
            "-s",
            str(ROOT / "tests" / "scripts" / "offer_h2.py"),
            "--set",
            "ssl_insecure=true",
            env={"CROSSWIRE_TEST_H2_PORT": str(h2.port)},
        )
        try:
            ca = tmp / "confdir" / "mitmproxy-ca-cert.pem"
            yield {"origin": origin, "h1": h1, "h2": h2, "proxy": proxy, "ca": ca, "reverse": reverse}
        finally:
            log = proxy.stop()
            origin.assert_untouched()
            assert "Addon error" not in log


def queue(world: dict[str, Any], upstream: str, dies: bool) -> None:
    if upstream == "1.1":
        world["h1"].push(Reply(BODY, split_frames=True, drop_after=CUT if dies else None))
    else:
        world["h2"].replies.append(H2Reply(BODY, pieces=FRAMES, drop_after=CUT if dies else None))


def sdk_stream(world: dict[str, Any], client: str, upstream: str) -> tuple[str, BaseException | None, Any]:
    """The text the SDK assembled, what it raised, and the raw bytes and HTTP version it received."""
    http, recorder = recording_client(world["proxy"].url)
    sdk = openai.OpenAI(
        base_url=f"http://{world['origin'].origin}/h{upstream[0]}/v1",
        api_key=CLIENT_OPENAI_KEY,
        http_client=http,
        max_retries=0,
        timeout=20,
    )
    text, error, version = "", None, None
    try:
        with sdk.chat.completions.with_streaming_response.create(
            model="m", messages=[{"role": "user", "content": "q"}], stream=True
        ) as resp:
            version = resp.http_version
            for chunk in resp.parse():
                text += chunk.choices[0].delta.content or "" if chunk.choices else ""
    except Exception as exc:
        error = exc
    return text, error, (bytes(recorder.raw), version)


REQUEST = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "q"}], "stream": True})


def raw_h2(world: dict[str, Any], upstream: str) -> H2Answer:
    """An HTTP/2 request over TLS to the reverse-mode listener (whose target is the original host)."""
    headers = {"content-type": "application/json", "authorization": f"Bearer {CLIENT_OPENAI_KEY}"}
    path = f"/h{upstream[0]}/v1/chat/completions"
    return h2_request(world["reverse"], "POST", path, headers, REQUEST, world["ca"])


def raw_http10(world: dict[str, Any], upstream: str) -> tuple[bytes, bytes, bool]:
    """An HTTP/1.0 request through the proxy: the response head, body and whether it ended in a reset."""
    body = REQUEST
    url = f"http://{world['origin'].origin}/h{upstream[0]}/v1/chat/completions"
    head = (
        f"POST {url} HTTP/1.0\r\nHost: {world['origin'].origin}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {CLIENT_OPENAI_KEY}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    data, reset = bytearray(), False
    with socket.create_connection(("127.0.0.1", world["proxy"].port), timeout=20) as sock:
        sock.sendall(head + body)
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            reset = True
    response_head, _, response_body = bytes(data).partition(b"\r\n\r\n")
    return response_head, response_body, reset


def judged(body: bytes) -> tuple[str, bool, bool]:
    """Read by the OpenAI SDK's SSE decoder: the text, whether an error event came, whether [DONE] did."""
    text, error, done = "", False, False
    for sse in SSEDecoder().iter_bytes(iter([body])):
        if sse.data.startswith("[DONE]"):
            done = True
            continue
        data = json.loads(sse.data)
        if "error" in data:
            error = True
            continue
        for choice in data.get("choices", []):
            text += choice["delta"].get("content") or ""
    return text, error, done


CLIENTS = ["1.0", "1.1", "2"]
UPSTREAMS = ["1.1", "2"]


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("client", CLIENTS)
def test_a_complete_stream_is_framed_for_the_client(world: dict[str, Any], client: str, upstream: str) -> None:
    queue(world, upstream, dies=False)
    if client == "1.0":
        head, body, reset = raw_http10(world, upstream)
        headers = head.lower()
        assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0]
        assert b"transfer-encoding" not in headers and b"content-length" not in headers  # ends with the connection
        assert b"connection: close" in headers and not reset
        assert judged(body) == (ANSWER, False, True)
    elif client == "2":
        answer = raw_h2(world, upstream)
        assert answer.status == 200 and answer.ended and not answer.reset
        assert "transfer-encoding" not in answer.headers and "content-length" not in answer.headers
        assert judged(answer.body) == (ANSWER, False, True)
    else:
        text, error, (raw, version) = sdk_stream(world, client, upstream)
        assert (text, error) == (ANSWER, None)
        head = raw.split(b"data: ")[0].lower()
        assert version == "HTTP/1.1" and b"transfer-encoding: chunked" in head and b"content-length" not in head
    if upstream == "2":
        assert world["h2"].alpn[-1] == "h2"


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("client", CLIENTS)
def test_an_upstream_dying_mid_stream_is_never_a_clean_end(world: dict[str, Any], client: str, upstream: str) -> None:
    queue(world, upstream, dies=True)
    if client == "1.0":
        _, body, reset = raw_http10(world, upstream)
        text, error_event, done = judged(body)
        assert ANSWER.startswith(text) and text != ANSWER and not done
        # mitmproxy cannot send another byte once the upstream is gone: crosswire makes the close a reset
        assert reset or error_event, f"a clean end of a cut stream: {body[-200:]!r}"
        assert reset
        return
    if client == "2":
        answer = raw_h2(world, upstream)
        text, error_event, done = judged(answer.body)
        assert ANSWER.startswith(text) and text != ANSWER and not done
        assert answer.reset and not answer.ended  # RST_STREAM: every HTTP/2 client reports it
        return
    text, error, _ = sdk_stream(world, client, upstream)
    assert ANSWER.startswith(text) and text != ANSWER
    assert isinstance(error, httpx.HTTPError | openai.APIError), repr(error)  # the SDK reports it


def test_an_upstream_close_that_looks_like_an_end_is_an_error_event(world: dict[str, Any]) -> None:
    """An upstream without chunking or length: its drop looks like the end, the converter knows better."""
    world["h1"].push(Reply(BODY, split_frames=True, drop_after=CUT, framing="close"))
    text, error, _ = sdk_stream(world, "1.1", "1.1")
    assert ANSWER.startswith(text) and text != ANSWER
    assert isinstance(error, openai.APIError) and "ended before" in str(error), repr(error)
