"""Recording (-w): four bodies per converted flow, no API key in the file or the log, offline
reconversion byte-identical to the live conversion, and --server-replay answering an SDK client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from canned import anthropic_error, anthropic_message, anthropic_stream
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import (
    ANTHROPIC_KEY,
    CLIENT_OPENAI_KEY,
    OPENAI_KEY,
    Mitmdump,
    refused_port,
    route_args,
    run_mitmdump,
)
from mitmproxy import http, io

pytestmark = pytest.mark.e2e

try:
    import httpx2 as httpx
except ImportError:
    import httpx  # type: ignore[no-redef]

HOST = "http://api.example.test"
STREAM = anthropic_stream(["Rec", "orded", " stream"], thinking=("hmm", "sig_1"))
MSG = [{"role": "user", "content": "record me"}]


def client(proxy_url: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{HOST}/v1",
        api_key=CLIENT_OPENAI_KEY,
        http_client=httpx.Client(proxy=proxy_url),
        max_retries=0,
        timeout=20,
    )


def raw_stream(c: openai.OpenAI, model: str) -> tuple[int, bytes]:
    """Exactly the bytes the client received."""
    with c.chat.completions.with_streaming_response.create(model=model, messages=MSG, stream=True) as resp:  # type: ignore[arg-type]
        return resp.status_code, b"".join(resp.iter_bytes())


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("rec")
    rec = tmp / "rec.flow"
    with refused_port() as refused, FakeUpstream() as up:
        routes = [
            f"{HOST}/v1/chat/completions -> {up.url('/v1/messages')}",
            f"http://refused.test/v1/chat/completions -> http://127.0.0.1:{refused}/v1/messages",
        ]
        m = Mitmdump(
            tmp, *route_args(*routes), "-w", str(rec), "--set", "flow_detail=4", "--set", "crosswire_debug=true"
        )
        seen: dict[str, Any] = {}
        try:
            c = client(m.url)
            up.push(Reply(STREAM, split_frames=True, pieces=2))
            seen["stream"] = raw_stream(c, "m-stream")
            up.push(Reply(anthropic_message("Whole recorded.")))
            resp = c.chat.completions.with_raw_response.create(model="m-whole", messages=MSG)  # type: ignore[arg-type]
            seen["whole"] = (resp.status_code, resp.http_response.content)
            up.push(Reply(anthropic_error("rate_limit_error", "slow down"), status=429))
            r = httpx.Client(proxy=m.url).post(
                f"{HOST}/v1/chat/completions", json={"model": "m-429", "messages": MSG, "stream": True}
            )
            seen["429"] = (r.status_code, r.content)
            up.push(Reply(STREAM, split_frames=True, drop_after=5))
            with pytest.raises((openai.APIError, httpx.HTTPError)):
                raw_stream(c, "m-drop")
            r = httpx.Client(proxy=m.url).post(
                "http://refused.test/v1/chat/completions", json={"model": "m-refused", "messages": MSG}
            )
            seen["refused"] = r.status_code
            seen["upstream_requests"] = list(up.requests)
        finally:
            log = m.stop()
    flows = {orjson.loads(f.request.content or b"{}")["model"]: f for f in io.FlowReader(rec.open("rb")).stream()}
    yield {"tmp": tmp, "file": rec, "log": log, "flows": flows, "seen": seen, "routes": routes}


def test_no_key_in_the_recording_or_the_log(recording: dict[str, Any]) -> None:
    data = recording["file"].read_bytes()
    assert set(recording["flows"]) == {"m-stream", "m-whole", "m-429", "m-drop", "m-refused"}
    for key in (ANTHROPIC_KEY, OPENAI_KEY):
        assert key.encode() not in data
        assert key not in recording["log"]
    assert CLIENT_OPENAI_KEY.encode() not in data  # the client's own credential is redacted too
    assert "internal error" not in recording["log"]
    assert "openai-chat -> anthropic" in recording["log"]  # crosswire_debug logged each flow, keys redacted


def test_streamed_flow_keeps_four_bodies(recording: dict[str, Any]) -> None:
    f: http.HTTPFlow = recording["flows"]["m-stream"]
    md = f.metadata["crosswire"]
    status, client_bytes = recording["seen"]["stream"]
    # the request as the client sent it
    assert f.request.url == f"{HOST}/v1/chat/completions" and orjson.loads(f.request.content)["messages"] == MSG
    # the request as the upstream received it
    (received, *_) = recording["seen"]["upstream_requests"]
    assert md["upstream_request"]["body"] == received.body
    assert orjson.loads(md["upstream_request"]["body"])["max_tokens"] == 8192
    assert md["upstream_request"]["url"].endswith("/v1/messages")
    # the response as the upstream sent it, and as the client received it
    assert md["upstream_response"]["body"] == STREAM and md["streamed"] is True
    assert f.response is not None and f.response.content == client_bytes and status == 200
    assert b"chat.completion.chunk" in client_bytes
    assert f.marked and md["client_format"] == "openai-chat" and md["upstream_format"] == "anthropic"


def test_error_and_failed_flows_are_recorded(recording: dict[str, Any]) -> None:
    flows = recording["flows"]
    err = flows["m-429"]
    assert err.response.status_code == 429 == recording["seen"]["429"][0]
    assert err.response.content == recording["seen"]["429"][1]
    assert err.metadata["crosswire"]["upstream_response"]["status_code"] == 429
    drop = flows["m-drop"]
    assert drop.error is not None and drop.metadata["crosswire"]["error"]
    assert STREAM.startswith(drop.metadata["crosswire"]["upstream_response"]["body"])
    refused = flows["m-refused"]
    assert recording["seen"]["refused"] == 502 and refused.response is None and refused.error is not None
    assert refused.metadata["crosswire"]["upstream_response"] is None


def test_offline_reconversion_equals_live(recording: dict[str, Any]) -> None:
    tmp: Path = recording["tmp"]
    out = tmp / "out.flow"
    code, log = run_mitmdump(
        tmp, "-n", "-r", str(recording["file"]), *route_args(recording["routes"][0]), "-w", str(out)
    )
    assert code == 0, log
    again = {orjson.loads(f.request.content or b"{}")["model"]: f for f in io.FlowReader(out.open("rb")).stream()}
    for model in ("m-stream", "m-whole", "m-429"):
        live, offline = recording["flows"][model], again[model]
        assert offline.response.content == live.response.content, model
        assert offline.response.status_code == live.response.status_code
        assert "reconverted" in offline.comment
    assert ANTHROPIC_KEY.encode() not in out.read_bytes()


def test_offline_reconversion_follows_the_route_options(recording: dict[str, Any]) -> None:
    tmp: Path = recording["tmp"]
    out = tmp / "out-drop.flow"
    code, log = run_mitmdump(
        tmp,
        "-n",
        "-r",
        str(recording["file"]),
        *route_args(recording["routes"][0]),
        "--set",
        "crosswire_thinking=drop",
        "-w",
        str(out),
    )
    assert code == 0, log
    again = {orjson.loads(f.request.content or b"{}")["model"]: f for f in io.FlowReader(out.open("rb")).stream()}
    live, offline = recording["flows"]["m-stream"].response.content, again["m-stream"].response.content
    assert b"reasoning_content" in live and b"reasoning_content" not in offline and b"orded" in offline


def test_server_replay_answers_an_sdk_client(recording: dict[str, Any]) -> None:
    m = Mitmdump(recording["tmp"], "--server-replay", str(recording["file"]), "--set", "server_replay_extra=kill")
    try:
        c = client(m.url)
        with c.chat.completions.stream(model="m-stream", messages=MSG) as s:  # type: ignore[arg-type]
            final = s.get_final_completion()
        assert final.choices[0].message.content == "Recorded stream"
        whole = c.chat.completions.create(model="m-whole", messages=MSG)  # type: ignore[arg-type]
        assert whole.choices[0].message.content == "Whole recorded."
    finally:
        m.stop()
