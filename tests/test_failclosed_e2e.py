"""Fail closed, through a real mitmdump on loopback (issue 10): the official SDKs as clients, a fake
"original host" that records anything reaching it, and byte searches for the keys in every byte the
client received, in the full log and in the ``-w`` recording.

The client's original hosts are two loopback :class:`~leaks.Sentinel` listeners (an OpenAI-like and
an Anthropic-like origin): the routes match them, so a matched flow that leaked would land there.
mitmdump runs with every verbosity mitmproxy has (``termlog_verbosity=debug``, ``flow_detail=4``,
``proxy_debug``, ``crosswire_debug``) and with ``stream_large_bodies=1``, so every body is one that
mitmproxy would stream past an addon. The last test stops it and searches the log and the recording.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import crosswire
import openai
import orjson
import pytest
from canned import anthropic_error, anthropic_message, anthropic_stream, openai_chat_completion, openai_chat_stream
from crosswire.fakeupstream import JSON, SSE, FakeUpstream, Reply, sse
from e2e import ANTHROPIC_KEY, CLIENT_ANTHROPIC_KEY, CLIENT_OPENAI_KEY, OPENAI_KEY, Mitmdump
from leaks import Sentinel, httpx, recording_client
from mitmproxy import io

pytestmark = pytest.mark.e2e

MARK_A = b"[redacted by crosswire: $ANTHROPIC_API_KEY]"
MARK_O = b"[redacted by crosswire: $OPENAI_API_KEY]"
CLIENT_SECRETS = ["sk-CLIENT", "CLIENT-query-key", "session=CLIENT", "azure-CLIENT", "goog-CLIENT"]
MESSAGES = [{"role": "user", "content": "hi"}]


@dataclass
class World:
    oai_origin: Sentinel  # where openai clients think they go
    ant_origin: Sentinel  # where anthropic clients think they go
    up: FakeUpstream
    up6: FakeUpstream  # on [::1]
    proxy: Mitmdump
    recording: Path

    def oai(self, prefix: str = "", **kw: Any) -> tuple[openai.OpenAI, Any]:
        client, recorder = recording_client(self.proxy.url)
        sdk = openai.OpenAI(
            base_url=f"http://{self.oai_origin.origin}{prefix}/v1",
            api_key=CLIENT_OPENAI_KEY,
            http_client=client,
            max_retries=0,
            **kw,
        )
        return sdk, recorder

    def ant(self, prefix: str = "", **kw: Any) -> tuple[anthropic.Anthropic, Any]:
        client, recorder = recording_client(self.proxy.url)
        sdk = anthropic.Anthropic(
            base_url=f"http://{self.ant_origin.origin}{prefix}",
            api_key=CLIENT_ANTHROPIC_KEY,
            http_client=client,
            max_retries=0,
            **kw,
        )
        return sdk, recorder

    def untouched(self) -> None:
        self.oai_origin.assert_untouched()
        self.ant_origin.assert_untouched()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("failclosed")
    with Sentinel() as oai_origin, Sentinel() as ant_origin, FakeUpstream() as up, FakeUpstream(host="::1") as up6:
        o, a = oai_origin.origin, ant_origin.origin
        config = tmp / "routes.toml"
        config.write_text(
            f"""
[[route]]
name = "chat"
match = "http://{o}/v1/chat/completions"
upstream = "{up.url("/v1/messages")}"
model_map = {{ "gpt-4o" = "claude-sonnet-4-5", "gpt-4o-mini" = "claude-haiku-4-5" }}

[[route]]
name = "responses"
match = "http://{o}/v1/responses"
upstream = "{up.url("/v1/messages")}"

[[route]]
name = "ipv6"
match = "http://{o}/ipv6/v1/chat/completions"
upstream = "{up6.url("/v1/messages")}"

[[route]]
name = "fwd"
match = "http://{o}/fwd/v1/chat/completions"
upstream = "{up.url("/v1/messages")}"
forward_headers = ["x-trace-id", "x-stainless-*"]

[[route]]
name = "messages"
match = "http://{a}/v1/messages"
upstream = "{up.url("/v1/chat/completions")}"
model_map = {{ "claude-sonnet-4-5" = "gpt-4o" }}

[[route]]
name = "ident"
match = "http://{a}/ident/v1/messages"
upstream = "{up.url("/v1/messages")}"
"""
        )
        recording = tmp / "rec.flow"
        proxy = Mitmdump(
            tmp,
            "--set",
            f"crosswire_config={config}",
            "-w",
            str(recording),
            "--set",
            "termlog_verbosity=debug",
            "--set",
            "flow_detail=4",
            "--set",
            "proxy_debug=true",
            "--set",
            "crosswire_debug=true",
            "--set",
            "stream_large_bodies=1",
        )
        world = World(oai_origin, ant_origin, up, up6, proxy, recording)
        try:
            yield world
        finally:
            proxy.stop()


@pytest.fixture(autouse=True)
def fresh(world: World) -> Iterator[None]:
    world.up.reset()
    world.up6.reset()
    yield
    world.untouched()


def no_key(raw: bytes | bytearray) -> None:
    raw = bytes(raw)
    assert ANTHROPIC_KEY.encode() not in raw and OPENAI_KEY.encode() not in raw, "an upstream key reached the client"


# --- item 1: bodies stay whole and converted, whatever stream_large_bodies says -------------------


def test_openai_client_stream_is_converted_and_the_echoed_key_redacted(world: World) -> None:
    body = anthropic_stream(["Your key is ", f"{ANTHROPIC_KEY}", "."])
    world.up.push(Reply(body, split_frames=True, headers={"x-echo": f"key={ANTHROPIC_KEY}"}))
    sdk, rec = world.oai()
    with sdk.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:  # type: ignore[arg-type]
        final = stream.get_final_completion()
    assert final.choices[0].message.content == f"Your key is {MARK_A.decode()}."
    no_key(rec.raw)
    assert b"x-echo: key=" + MARK_A in bytes(rec.raw) and b"transfer-encoding: chunked" in bytes(rec.raw)
    (req,) = world.up.requests
    assert req.path == "/v1/messages" and req.json()["model"] == "claude-sonnet-4-5" and req.json()["stream"]
    assert req.headers["x-api-key"] == ANTHROPIC_KEY


def test_anthropic_client_whole_answer_with_the_key_in_it(world: World) -> None:
    world.up.push(Reply(openai_chat_completion(f"echo {OPENAI_KEY}"), framing="length"))
    sdk, rec = world.ant()
    msg = sdk.messages.create(model="claude-sonnet-4-5", max_tokens=20, messages=MESSAGES)  # type: ignore[arg-type]
    assert msg.content[0].text == f"echo {MARK_O.decode()}"  # type: ignore[union-attr]
    no_key(rec.raw)
    (req,) = world.up.requests
    assert req.path == "/v1/chat/completions" and req.headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_responses_client_stream(world: World) -> None:
    world.up.push(Reply(anthropic_stream(["Hel", "lo"]), split_frames=True))
    sdk, rec = world.oai()
    with sdk.responses.stream(model="gpt-4o", input="hi") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Hello"
    no_key(rec.raw)


def test_upstream_errors_echoing_the_key_are_redacted(world: World) -> None:
    world.up.push(Reply(anthropic_error("authentication_error", f"invalid x-api-key {ANTHROPIC_KEY}"), status=401))
    sdk, rec = world.oai()
    with pytest.raises(openai.AuthenticationError) as info:
        sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert MARK_A.decode() in str(info.value) and ANTHROPIC_KEY not in str(info.value)
    no_key(rec.raw)

    body = anthropic_stream(["so far"], error=("overloaded_error", f"key {ANTHROPIC_KEY} is overloaded"))
    world.up.push(Reply(body, split_frames=True))
    sdk, rec = world.oai()
    with pytest.raises(openai.APIError, match="is overloaded") as stream_info:
        for _ in sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):  # type: ignore[arg-type]
            pass
    assert ANTHROPIC_KEY not in str(stream_info.value)
    no_key(rec.raw)


def test_a_chunked_request_body_over_stream_large_bodies_is_still_converted(world: World) -> None:
    """stream_large_bodies decides in the middle of a chunked body: the request must not leave."""
    world.up.push(Reply(anthropic_message("whole")))
    body = orjson.dumps({"model": "gpt-4o", "messages": MESSAGES * 50})
    client, rec = recording_client(world.proxy.url)
    pieces = iter([body[:10], body[10:1000], body[1000:]])  # no Content-Length: chunked
    resp = client.post(f"http://{world.oai_origin.origin}/v1/chat/completions", content=pieces)
    assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"] == "whole"
    (req,) = world.up.requests
    assert req.json()["max_tokens"] == 8192 and len(req.json()["messages"]) == 1  # converted: 50 turns merged
    no_key(rec.raw)


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_a_json_answer_over_stream_large_bodies_is_still_converted(world: World, framing: str) -> None:
    world.up.push(Reply(anthropic_message("x" * 5000), framing=framing))
    sdk, rec = world.oai()
    result = sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert result.object == "chat.completion" and result.choices[0].message.content == "x" * 5000
    no_key(rec.raw)


def test_json_nested_too_deep_to_write_back_is_answered_locally(world: World) -> None:
    schema: Any = {"type": "string"}
    for _ in range(140):  # 280 levels: orjson reads 1024, writes 254
        schema = {"type": "object", "properties": {"x": schema}}
    tool = {"type": "function", "function": {"name": "deep", "parameters": schema}}
    client, rec = recording_client(world.proxy.url)
    resp = client.post(
        f"http://{world.oai_origin.origin}/v1/chat/completions",
        content=json.dumps({"model": "gpt-4o", "messages": MESSAGES, "tools": [tool]}).encode(),
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["type"] == "invalid_request_error" and "cannot be written as JSON" in error["message"]
    assert world.up.requests == []  # the upstream was never contacted
    no_key(rec.raw)


def test_an_ipv6_upstream(world: World) -> None:
    world.up6.push(Reply(anthropic_stream(["over ", "v6"]), split_frames=True))
    sdk, rec = world.oai("/ipv6")
    with sdk.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:  # type: ignore[arg-type]
        assert stream.get_final_completion().choices[0].message.content == "over v6"
    no_key(rec.raw)
    (req,) = world.up6.requests
    assert req.headers["host"] == f"[::1]:{world.up6.port}" and req.headers["x-api-key"] == ANTHROPIC_KEY


# --- item 2: only what the upstream needs crosses --------------------------------------------------

TOOL_HEADERS = {
    "x-api-key": "sk-CLIENT-x",
    "api-key": "azure-CLIENT",
    "x-goog-api-key": "goog-CLIENT",
    "cookie": "session=CLIENT",
    "openai-organization": "org-internal",
    "openai-project": "proj-internal",
    "x-claude-code-session-id": "c0ffee",
    "x-codex-turn-metadata": "/home/user/secret-workspace",
    "x-stainless-os": "Linux",
    "x-trace-id": "trace-1",
    "anthropic-beta": "interleaved-thinking-2025-05-14",
    "anthropic-version": "2023-06-01",
}


def test_a_converting_route_forwards_an_allow_list(world: World) -> None:
    world.up.push(Reply(anthropic_message("ok")))
    client, rec = recording_client(world.proxy.url)
    resp = client.post(
        f"http://{world.oai_origin.origin}/v1/chat/completions?key=CLIENT-query-key&api_key=CLIENT-query-key&beta=true",
        json={"model": "gpt-4o", "messages": MESSAGES},
        headers={**TOOL_HEADERS, "authorization": "Bearer sk-CLIENT-openai"},
    )
    assert resp.status_code == 200
    no_key(rec.raw)
    (req,) = world.up.requests
    names = {name.lower() for name, _ in req.header_list}
    assert names == {
        "content-type",
        "accept",
        "user-agent",
        "anthropic-version",
        "x-api-key",
        "content-length",
        "accept-encoding",
        "host",
    }, names
    assert req.headers["x-api-key"] == ANTHROPIC_KEY and req.headers["anthropic-version"] == "2023-06-01"
    assert req.path == "/v1/messages"  # a converting upstream gets none of the client's query
    for secret in CLIENT_SECRETS:
        assert secret not in json.dumps(req.header_list) + req.path


def test_a_route_forwards_the_headers_it_lists(world: World) -> None:
    world.up.push(Reply(anthropic_message("ok")))
    client, _ = recording_client(world.proxy.url)
    client.post(
        f"http://{world.oai_origin.origin}/fwd/v1/chat/completions",
        json={"model": "gpt-4o", "messages": MESSAGES},
        headers=TOOL_HEADERS,
    )
    (req,) = world.up.requests
    assert req.headers["x-trace-id"] == "trace-1" and req.headers["x-stainless-os"] == "Linux"
    assert "x-claude-code-session-id" not in req.headers and "x-codex-turn-metadata" not in req.headers
    assert req.headers["x-api-key"] == ANTHROPIC_KEY  # a listed prefix never lets a credential through


def test_an_identity_route_forwards_what_its_format_needs(world: World) -> None:
    world.up.push(Reply(anthropic_message("same format")))
    sdk, rec = world.ant("/ident", default_headers={k: v for k, v in TOOL_HEADERS.items() if k != "x-api-key"})
    msg = sdk.messages.create(model="claude", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
    assert msg.content[0].text == "same format"  # type: ignore[union-attr]
    (req,) = world.up.requests
    assert req.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert req.headers["x-api-key"] == ANTHROPIC_KEY
    assert not any(k.startswith(("x-stainless", "x-claude-code", "x-codex")) for k in req.headers)
    for secret in [*CLIENT_SECRETS, CLIENT_ANTHROPIC_KEY]:
        assert secret not in json.dumps(req.header_list)
    no_key(rec.raw)


def test_an_identity_route_keeps_the_clients_query_but_not_its_credentials(world: World) -> None:
    world.up.push(Reply(anthropic_message("same format")))
    client, rec = recording_client(world.proxy.url)
    resp = client.post(
        f"http://{world.ant_origin.origin}/ident/v1/messages?key=CLIENT-query-key&beta=true&Api_Key=CLIENT-query-key",
        json={"model": "claude", "max_tokens": 5, "messages": MESSAGES},
    )
    assert resp.status_code == 200
    (req,) = world.up.requests
    assert req.path == "/v1/messages?beta=true"  # the credential parameters stayed behind
    no_key(rec.raw)


# --- item 5: endpoints, not prefixes -------------------------------------------------------------


def test_token_counting_is_answered_locally(world: World) -> None:
    sdk, _ = world.ant()
    count = sdk.messages.count_tokens(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "x" * 400}])
    assert count.input_tokens == 100 + 4  # 400 characters at 4 a token, plus one message
    osdk, _ = world.oai()
    counted = osdk.responses.input_tokens.count(model="gpt-4o", input="y" * 40)
    assert counted.input_tokens == 10 + 4
    assert world.up.requests == []


def test_models_are_answered_from_the_model_map(world: World) -> None:
    osdk, _ = world.oai()
    assert [m.id for m in osdk.models.list()] == ["gpt-4o", "gpt-4o-mini"]
    assert osdk.models.retrieve("gpt-4o").id == "gpt-4o"
    with pytest.raises(openai.NotFoundError, match="not in crosswire route 'chat'"):
        osdk.models.retrieve("o3")
    asdk, _ = world.ant()
    assert [m.id for m in asdk.models.list()] == ["claude-sonnet-4-5"]
    assert world.up.requests == []


def test_stored_objects_batches_and_unknown_paths_get_clear_answers(world: World) -> None:
    osdk, _ = world.oai()
    for call in (
        lambda: osdk.responses.retrieve("resp_123"),
        lambda: osdk.responses.delete("resp_123"),
        lambda: osdk.responses.cancel("resp_123"),
        lambda: osdk.chat.completions.retrieve("chatcmpl-1"),
    ):
        with pytest.raises(openai.NotFoundError, match="which stores nothing"):
            call()
    with pytest.raises(openai.InternalServerError, match="remote compaction: not supported") as info:
        osdk.responses.compact(model="gpt-4o", input="x")
    assert info.value.status_code == 501
    asdk, _ = world.ant()
    with pytest.raises(anthropic.APIStatusError, match="message batches: not supported") as ainfo:
        asdk.messages.batches.list()
    assert ainfo.value.status_code == 501
    client, _ = recording_client(world.proxy.url)
    resp = client.post(f"http://{world.oai_origin.origin}/v1/chat/completions/what/ever", json={})
    assert resp.status_code == 404 and "route 'chat' converts POST /v1/chat/completions" in resp.text
    assert world.up.requests == []


def test_a_websocket_upgrade_is_refused_so_the_client_falls_back(world: World) -> None:
    client, rec = recording_client(world.proxy.url)
    resp = client.get(
        f"http://{world.oai_origin.origin}/v1/responses",
        headers={
            "connection": "Upgrade",
            "upgrade": "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            "authorization": f"Bearer {CLIENT_OPENAI_KEY}",
        },
    )
    assert resp.status_code == 426 and "WebSocket" in resp.json()["error"]["message"]
    assert world.up.requests == []
    no_key(rec.raw)


# --- item 7: the upstream's shape, whatever it is --------------------------------------------------


def test_keep_alives_reach_the_client_in_its_format(world: World) -> None:
    start = anthropic_stream(["late"]).split(b"\n\n")
    frames = [f + b"\n\n" for f in start if f]
    pings = [b'event: ping\ndata: {"type": "ping"}\n\n', b": keep-alive\n\n"] * 4
    world.up.push(Reply(b"".join(frames[:1] + pings + frames[1:]), split_frames=True, delay=0.4))
    sdk, rec = world.oai(timeout=httpx.Timeout(10, read=1.5))  # silent for 3 s without the pings
    with sdk.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:  # type: ignore[arg-type]
        assert stream.get_final_completion().choices[0].message.content == "late"
    assert bytes(rec.raw).count(b": ping\n\n") >= 8

    comments = [b": OPENROUTER PROCESSING\n\n"] * 6
    chat = [f + b"\n\n" for f in openai_chat_stream(["late"]).split(b"\n\n") if f]
    world.up.push(Reply(b"".join(chat[:1] + comments + chat[1:]), split_frames=True, delay=0.4))
    asdk, arec = world.ant(timeout=httpx.Timeout(10, read=1.5))
    with asdk.messages.stream(model="claude", max_tokens=5, messages=MESSAGES) as s:  # type: ignore[arg-type]
        assert s.get_final_text() == "late"
    assert bytes(arec.raw).count(b"event: ping\n") >= 6


def test_a_json_answer_to_a_stream_request_becomes_a_stream(world: World) -> None:
    world.up.push(Reply(anthropic_message("not streamed", tool=("toolu_1", "f", {"a": 1}))))
    sdk, _ = world.oai()
    with sdk.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:  # type: ignore[arg-type]
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.message.content == "not streamed" and choice.finish_reason == "tool_calls"
    assert json.loads((choice.message.tool_calls or [])[0].function.arguments) == {"a": 1}


def test_a_stream_to_a_plain_request_becomes_one_json_body(world: World) -> None:
    world.up.push(Reply(openai_chat_stream(["stre", "amed"]), split_frames=True))
    sdk, _ = world.ant()
    msg = sdk.messages.create(model="claude", max_tokens=5, messages=MESSAGES)  # type: ignore[arg-type]
    assert msg.content[0].text == "streamed" and msg.stop_reason == "end_turn"  # type: ignore[union-attr]


def test_a_200_with_an_error_body_is_an_error(world: World) -> None:
    world.up.push(Reply(anthropic_error("overloaded_error", "try later"), status=200))
    sdk, _ = world.oai()
    with pytest.raises(openai.InternalServerError, match="try later") as info:
        sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.status_code == 503
    world.up.push(Reply(sse([(None, {"error": {"message": "quota gone", "type": "insufficient_quota"}})]), status=200))
    asdk, _ = world.ant()
    with pytest.raises(anthropic.APIStatusError, match="quota gone"):
        asdk.messages.create(model="claude", max_tokens=5, messages=MESSAGES, stream=False)  # type: ignore[arg-type]
    world.up.push(Reply(b'{"error": "upstream exploded"}', status=200, content_type=JSON))
    with pytest.raises(openai.APIStatusError, match="upstream exploded"):
        sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    world.up.push(Reply(b"", status=200, content_type=SSE))
    with pytest.raises(openai.APIError, match="ended before"):
        for _ in sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True):  # type: ignore[arg-type]
            pass


# --- the log and the recording ------------------------------------------------------------------


def test_no_key_in_the_log_or_the_recording(world: World) -> None:
    """Last in the module: stops mitmdump, so the log and the flow file are complete."""
    time.sleep(0.2)
    log = world.proxy.stop()
    assert ANTHROPIC_KEY not in log and OPENAI_KEY not in log, "an upstream key reached the log"
    assert "Addon error" not in log  # no hook of crosswire's raised into mitmproxy
    # (mitmproxy itself logs a cancelled task's traceback while it shuts down; none goes through crosswire)
    # a frame is crosswire's by its file, not by a "crosswire" somewhere in the checkout's path
    package = str(Path(crosswire.__file__).parent)
    assert not [ln for ln in log.splitlines() if ln.strip().startswith(f'File "{package}')]
    assert "[redacted by crosswire: $ANTHROPIC_API_KEY]" in log  # the echoes were logged, redacted
    raw = world.recording.read_bytes()
    assert ANTHROPIC_KEY.encode() not in raw and OPENAI_KEY.encode() not in raw, "an upstream key was recorded"
    for secret in [*CLIENT_SECRETS, CLIENT_OPENAI_KEY, CLIENT_ANTHROPIC_KEY]:
        assert secret.encode() not in raw, f"a client credential was recorded: {secret}"
    with world.recording.open("rb") as f:
        flows = list(io.FlowReader(f).stream())
    assert len(flows) >= 20 and all("crosswire" in f.metadata for f in flows)
    queried = [f for f in flows if "beta=true" in f.request.url]
    assert len(queried) == 2
    for flow in queried:
        assert "key=%5Bredacted+by+crosswire%3A+client+credential%5D" in flow.request.url
    world.untouched()
