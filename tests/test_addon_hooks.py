"""The addon's hooks on in-memory flows (mitmproxy's test helpers), and the stream adapter."""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from canned import anthropic_message, anthropic_stream
from crosswire.addon import Crosswire, StreamAdapter
from crosswire.convert import StreamConverter
from crosswire.fakeupstream import compress
from crosswire.options import Options
from crosswire.sse import SSEDecoder
from mitmproxy import exceptions, http
from mitmproxy.test import taddons, tflow

AKEY = "sk-ant-unit-UPSTREAM"
OKEY = "sk-openai-unit-UPSTREAM"
ROUTE = "https://api.openai.com/v1/chat/completions -> https://api.anthropic.com/v1/messages"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
WHOLE_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def addon(monkeypatch: pytest.MonkeyPatch) -> Iterator[Crosswire]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", AKEY)
    monkeypatch.setenv("OPENAI_API_KEY", OKEY)
    a = Crosswire()
    with taddons.context(a) as tctx:
        tctx.configure(a, crosswire_route=[ROUTE, "http://ident.test/v1/messages -> http://up.test/v1/messages"])
        yield a


def client_flow(url: str = "https://api.openai.com/v1/chat/completions", body: bytes | None = None) -> http.HTTPFlow:
    f = tflow.tflow()
    f.request = http.Request.make(
        "POST",
        url,
        orjson.dumps(CHAT_BODY) if body is None else body,
        {
            "content-type": "application/json",
            "authorization": "Bearer sk-CLIENT",
            "x-api-key": "sk-CLIENT-2",
            "api-key": "azure-CLIENT",
            "cookie": "session=CLIENT",
            "openai-organization": "org-CLIENT",
            "user-agent": "tool/1.0",
        },
    )
    f.response = None
    f.live = True
    return f


def send(addon: Crosswire, flow: http.HTTPFlow) -> None:
    """What mitmproxy does with a request: requestheaders, then request (and the key carrier's update)."""
    addon.requestheaders(flow)
    addon.request(flow)


def upstream_answer(flow: http.HTTPFlow, body: bytes, content_type: str, status: int = 200) -> None:
    flow.response = http.Response.make(status, body, {"content-type": content_type, "request-id": "req_123"})
    flow.response.timestamp_start = 1700000000.5


def test_bad_options_at_startup_are_one_error_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """At startup an error is logged (mitmproxy's errorcheck then exits); no route is in force."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    a = Crosswire()
    with taddons.context(a) as tctx:
        tctx.configure(a, crosswire_route=[ROUTE])
        assert a.routes == []
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == 1 and "ANTHROPIC_API_KEY is not set" in errors[0]


def test_bad_options_at_runtime_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", AKEY)
    a = Crosswire()
    with taddons.context(a) as tctx:
        tctx.configure(a, crosswire_route=[ROUTE])
        a.running()
        routes = a.routes
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        with pytest.raises(exceptions.OptionsError, match="ANTHROPIC_API_KEY is not set"):
            tctx.configure(a, crosswire_route=[ROUTE, "http://x.test/v1/messages -> http://y.test/v1/messages"])
        monkeypatch.setenv("ANTHROPIC_API_KEY", AKEY)
        with pytest.raises(exceptions.OptionsError, match="crosswire_record_limit"):
            tctx.configure(a, crosswire_record_limit=-1)
        with pytest.raises(exceptions.OptionsError, match="cannot read the file"):
            tctx.configure(a, crosswire_config="/nonexistent/routes.toml")
        assert a.routes == routes


def test_request_is_converted_rerouted_and_gets_only_the_route_key(addon: Crosswire) -> None:
    f = client_flow("https://api.openai.com/v1/chat/completions?x=1")
    send(addon, f)
    req = f.request
    assert req.url == "https://api.anthropic.com/v1/messages"  # the client query belongs to its own API
    assert req.host_header == "api.anthropic.com"
    assert req.headers["x-api-key"] == AKEY and req.headers["anthropic-version"] == "2023-06-01"
    for name in ("authorization", "api-key", "cookie", "openai-organization"):
        assert name not in req.headers
    assert "CLIENT" not in str(req.headers) and req.headers["user-agent"] == "tool/1.0"
    body = orjson.loads(req.content or b"")
    assert body["messages"] == [{"role": "user", "content": "hi"}] and body["max_tokens"] == 8192
    assert req.headers["content-length"] == str(len(req.raw_content or b""))
    assert req.headers["accept-encoding"] == "identity"


def test_azure_style_route_sends_its_query_and_the_key_in_api_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An upstream URL with ?api-version=…, the key in an api-key header, never as a bearer token;
    the redaction that follows finds it there too."""
    monkeypatch.setenv("AZURE_KEY", "azure-UPSTREAM-key")
    config = tmp_path / "routes.toml"
    config.write_text(
        '[[route]]\nmatch = "https://api.anthropic.com/v1/messages"\n'
        'upstream = "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21"\n'
        'api_key_env = "AZURE_KEY"\napi_key_header = "api-key"\n'
    )
    a = Crosswire()
    with taddons.context(a) as tctx:
        tctx.configure(a, crosswire_config=str(config))
        body = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
        f = client_flow("https://api.anthropic.com/v1/messages?beta=true", orjson.dumps(body))
        send(a, f)
        assert (
            f.request.url == "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21"
        )
        assert f.request.headers["api-key"] == "azure-UPSTREAM-key" and "authorization" not in f.request.headers
        upstream_answer(f, b'{"error": {"message": "no", "type": "invalid_request_error"}}', "application/json", 400)
        a.responseheaders(f)
        assert "azure-UPSTREAM-key" not in str(f.request.headers)


def test_key_is_redacted_at_response_headers_and_views_are_swapped(addon: Crosswire) -> None:
    f = client_flow(body=orjson.dumps(WHOLE_BODY))
    send(addon, f)
    upstream_body = f.request.content
    upstream_answer(f, orjson.dumps(anthropic_message("Hello")), "application/json")
    addon.responseheaders(f)
    assert AKEY not in str(f.request.headers)  # before Save or anything else can see it
    addon.response(f)
    assert f.request.url == "https://api.openai.com/v1/chat/completions"  # the client's view
    assert orjson.loads(f.request.content or b"") == WHOLE_BODY
    assert "sk-CLIENT" not in str(f.request.headers)
    out = orjson.loads(f.response.content or b"")
    assert out["object"] == "chat.completion" and out["choices"][0]["message"]["content"] == "Hello"
    assert f.response.headers["x-request-id"] == "req_123"
    md = f.metadata["crosswire"]
    assert (md["client_format"], md["upstream_format"]) == ("openai-chat", "anthropic")
    assert md["upstream_request"]["body"] == upstream_body
    assert md["upstream_request"]["url"] == "https://api.anthropic.com/v1/messages"
    assert AKEY not in str(md["upstream_request"]["headers"])
    assert orjson.loads(md["upstream_response"]["body"]) == anthropic_message("Hello")
    assert f.marked and "openai-chat -> anthropic" in f.comment


def test_error_before_response_redacts_the_key(addon: Crosswire) -> None:
    f = client_flow()
    send(addon, f)
    f.error = tflow.terr("connection refused")
    addon.error(f)
    md = f.metadata["crosswire"]
    assert AKEY not in str(f.get_state()) and AKEY not in str(md)
    assert md["upstream_response"] is None and md["error"] == "connection refused"


def test_done_redacts_flows_in_flight(addon: Crosswire) -> None:
    f = client_flow()
    send(addon, f)
    addon.done()
    assert AKEY not in str(f.get_state())


def test_rejected_request_is_answered_in_the_client_format(addon: Crosswire) -> None:
    f = client_flow(body=b"{not json")
    send(addon, f)
    assert f.response is not None and f.response.status_code == 400
    err = orjson.loads(f.response.content or b"")["error"]
    assert err["type"] == "invalid_request_error" and err["message"]
    assert f.request.host == "api.openai.com"  # never re-routed


def test_identity_route_forwards_the_body_byte_for_byte(addon: Crosswire) -> None:
    raw = b'{"model": "claude",   "messages": []}'
    f = client_flow("http://ident.test/v1/messages", raw)
    send(addon, f)
    assert f.request.raw_content == raw
    assert f.request.url == "http://up.test/v1/messages"
    assert f.request.headers["x-api-key"] == AKEY and "authorization" not in f.request.headers


def test_unmatched_flow_is_untouched(addon: Crosswire) -> None:
    f = client_flow("https://example.com/v1/chat/completions")
    before = f.get_state()
    send(addon, f)
    upstream_answer(f, b"{}", "application/json")
    after_response = f.response.get_state()
    addon.responseheaders(f)
    addon.response(f)
    assert f.request.get_state() == before["request"]
    assert f.response.get_state() == after_response and "crosswire" not in f.metadata


def test_sse_answer_is_streamed_with_fixed_headers(addon: Crosswire) -> None:
    f = client_flow()
    send(addon, f)
    f.response = http.Response.make(
        200, b"", {"content-type": "text/event-stream", "content-length": "5", "content-encoding": "gzip"}
    )
    addon.responseheaders(f)
    assert callable(f.response.stream)
    h = f.response.headers
    assert "content-length" not in h and "content-encoding" not in h and h["content-type"] == "text/event-stream"


# --- the stream adapter ----------------------------------------------------------------------

STREAM = anthropic_stream(["Hel", "lo"])


def adapter(encoding: str = "") -> StreamAdapter:
    options = Options(created=1)
    return StreamAdapter(
        StreamConverter("anthropic", "openai-chat", options), encoding, "openai-chat", options, 1 << 20
    )


def run(ad: StreamAdapter, chunks: list[bytes]) -> bytes:
    out = b""
    for c in chunks:
        r = ad(c)
        assert r != b"", "b'' mid-stream would end an HTTP/1.1 chunked response"
        out += r if isinstance(r, bytes) else b"".join(r)
    end = ad(b"")
    return out + (end if isinstance(end, bytes) else b"".join(end))


def reference() -> bytes:
    c = StreamConverter("anthropic", "openai-chat", Options(created=1))
    return c.feed(STREAM) + c.close()


def test_adapter_byte_by_byte_equals_whole_conversion() -> None:
    assert run(adapter(), [STREAM[i : i + 1] for i in range(len(STREAM))]) == reference()


def test_adapter_emits_a_frame_in_the_call_that_completes_it() -> None:
    ad = adapter()
    first_frame_end = STREAM.index(b"\n\n") + 2
    assert ad(STREAM[: first_frame_end - 1]) == []
    out = ad(STREAM[first_frame_end - 1 : first_frame_end])
    assert isinstance(out, bytes) and out.startswith(b"data: ")


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_adapter_decodes_compressed_streams_incrementally(encoding: str) -> None:
    data = compress(STREAM, encoding)
    assert run(adapter(encoding), [data[i : i + 7] for i in range(0, len(data), 7)]) == reference()


def test_adapter_decodes_raw_deflate() -> None:
    z = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = z.compress(STREAM) + z.flush()
    assert run(adapter("deflate"), [data]) == reference()


def test_adapter_turns_undecodable_input_into_one_error_frame() -> None:
    out = run(adapter("gzip"), [gzip.compress(STREAM)[:20], b"\x00garbage" * 10, b"more"])
    events = SSEDecoder().feed(out) + SSEDecoder().close()
    errors = [e for e in events if '"error"' in e.data]
    assert len(errors) == 1 and "could not be decoded" in errors[0].data


def test_adapter_unknown_encoding_becomes_an_error_frame() -> None:
    out = run(adapter("compress"), [STREAM])
    assert b"unsupported content-encoding" in out and out.count(b'"error"') == 1


def test_adapter_records_both_sides_within_the_limit() -> None:
    options = Options(created=1)
    ad = StreamAdapter(StreamConverter("anthropic", "openai-chat", options), "", "openai-chat", options, 100)
    out = run(ad, [STREAM])
    assert bytes(ad.upstream.buf) == STREAM[:100] and ad.upstream.truncated
    assert bytes(ad.client.buf) == out[:100] and ad.client.truncated


def test_identity_adapter_passes_bytes_through() -> None:
    ad = StreamAdapter(None, "", "anthropic", Options(), 1 << 20)
    assert run(ad, [b"abc", b"def"]) == b"abcdef" and bytes(ad.upstream.buf) == b"abcdef"


def test_a_credential_in_the_query_reaches_no_upstream_and_no_recording(addon: Crosswire) -> None:
    f = client_flow("https://api.openai.com/v1/chat/completions?key=sk-QUERY-CLIENT&beta=true&api_key=sk-Q2")
    send(addon, f)
    assert f.request.url == "https://api.anthropic.com/v1/messages"  # a converting route forwards no client query
    upstream_answer(f, orjson.dumps(anthropic_message("Hello")), "application/json")
    addon.responseheaders(f)
    addon.response(f)
    recorded = f.request.url  # the client's view, as a recording keeps it
    assert "sk-QUERY-CLIENT" not in recorded and "sk-Q2" not in recorded and "beta=true" in recorded
    assert f.request.query["key"] == "[redacted by crosswire: client credential]"
    assert "sk-Q" not in str(f.metadata["crosswire"])


def test_identity_adapter_decodes_what_the_upstream_compressed() -> None:
    data = gzip.compress(STREAM)
    ad = StreamAdapter(None, "gzip", "anthropic", Options(), 1 << 20)
    assert run(ad, [data[:10], data[10:]]) == STREAM and ad.decodes


def test_an_answer_from_an_addon_after_crosswire_is_not_converted(addon: Crosswire) -> None:
    """A later addon (server replay, map_local) answered before the key carrier sent the request:
    that answer is already the client's."""
    addon._carrier_in_chain = True  # the carrier, last in mitmproxy's chain, would send it
    f = client_flow(body=orjson.dumps(WHOLE_BODY))
    send(addon, f)
    recorded = orjson.dumps({"object": "chat.completion", "choices": []})
    f.response = http.Response.make(200, recorded, {"content-type": "application/json"})
    addon.responseheaders(f)
    addon.response(f)
    assert f.response.content == recorded and AKEY not in str(f.get_state())
    assert f.metadata["crosswire"]["answered_by"] == "another addon"


def test_the_carrier_sends_only_to_the_routes_upstream(addon: Crosswire) -> None:
    addon._carrier_in_chain = True
    f = client_flow(body=orjson.dumps(WHOLE_BODY))
    send(addon, f)
    assert "x-api-key" not in f.request.headers  # not yet: the carrier sets it in `update`
    f.request.host = "elsewhere.example"  # what map_remote or another script could do
    addon._carrier.update([f])
    assert f.response is not None and f.response.status_code == 502
    assert "crosswire" in orjson.loads(f.response.content or b"")["error"]["message"]
    assert "x-api-key" not in f.request.headers

    ok = client_flow(body=orjson.dumps(WHOLE_BODY))
    send(addon, ok)
    addon._carrier.update([ok])
    assert ok.response is None and ok.request.headers["x-api-key"] == AKEY


# --- the summary (crosswire_summary) ---------------------------------------------------------------


def _streamed(addon: Crosswire, f: http.HTTPFlow, chunks: list[bytes]) -> None:
    """The upstream's SSE answer through the hooks, chunk by chunk, as mitmproxy streams it."""
    send(addon, f)
    f.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
    addon.responseheaders(f)
    assert callable(f.response.stream)
    for chunk in chunks:
        f.response.stream(chunk)


def test_the_summary_counts_each_flow_by_how_it_ended(addon: Crosswire, tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    with taddons.context(addon) as tctx:
        tctx.configure(addon, crosswire_route=[ROUTE], crosswire_summary=str(path))
        whole = client_flow(body=orjson.dumps({**CHAT_BODY, "stream": False}))
        send(addon, whole)
        upstream_answer(whole, orjson.dumps(anthropic_message("Hi.")), "application/json")
        addon.responseheaders(whole)
        addon.response(whole)  # usage 30 in, 12 out
        complete = client_flow()
        _streamed(addon, complete, [STREAM, b""])
        complete.error = tflow.terr("client disconnected")  # it hung up after the end: no failure
        addon.error(complete)
        cut = client_flow()
        _streamed(addon, cut, [STREAM[: len(STREAM) // 2]])
        cut.error = tflow.terr("server disconnected")
        addon.error(cut)
        rejected = client_flow(body=b"{not json")
        send(addon, rejected)
        addon.response(rejected)
        addon.done()
    group, unreadable = orjson.loads(path.read_bytes())["routes"]
    assert (group["model"], group["requests"], group["errors"]) == ("gpt-4o", 3, {"error mid-stream": 1})
    assert (unreadable["model"], unreadable["errors"]) == ("", {"400 (answered by crosswire)": 1})
    # what the upstream reported: the whole body (30 in, 12 out), the complete stream (25 in, 15 out) and
    # the cut one's message_start (25 in, 1 out)
    assert (group["input_tokens"], group["output_tokens"]) == (30 + 25 + 25, 12 + 15 + 1)
    assert group["timed_streams"] == 2


def test_no_summary_is_kept_without_the_option(addon: Crosswire) -> None:
    f = client_flow()
    _streamed(addon, f, [STREAM, b""])
    addon.response(f)
    assert addon.summary is None


# --- a gemini client: the google-genai SDK over a transport that runs the addon -----------------

GKEY = "AIza-unit-UPSTREAM-gemini-key"
GEMINI_ROUTES = [
    "https://generativelanguage.googleapis.com/v1beta/models -> https://api.anthropic.com/v1/messages",
    "https://api.openai.com/v1/chat/completions -> https://generativelanguage.googleapis.com/v1beta/models",
]


@pytest.fixture
def gemini_addon(monkeypatch: pytest.MonkeyPatch) -> Iterator[Crosswire]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", AKEY)
    monkeypatch.setenv("GEMINI_API_KEY", GKEY)
    a = Crosswire()
    with taddons.context(a) as tctx:
        tctx.configure(a, crosswire_route=GEMINI_ROUTES)
        yield a


def _genai_over(addon: Crosswire, upstream: Callable[[http.HTTPFlow], None] | None = None) -> tuple[Any, list]:
    """A google-genai client whose every request runs through the addon's hooks; ``upstream``
    answers what the addon sends on (the flow is then finished as mitmproxy would)."""
    import httpx
    from google import genai
    from google.genai import types

    flows: list[http.HTTPFlow] = []

    def handle(request: httpx.Request) -> httpx.Response:
        f = tflow.tflow()
        f.request = http.Request.make(request.method, str(request.url), request.read(), dict(request.headers))
        f.response, f.live = None, True
        send(addon, f)
        flows.append(f)
        if f.response is None:
            assert upstream is not None, f"crosswire sent {f.request.url} upstream"
            upstream(f)
            addon.responseheaders(f)
        addon.response(f)  # (mitmproxy calls it for an answer set in the request hook too)
        assert f.response is not None
        return httpx.Response(f.response.status_code, headers=dict(f.response.headers), content=f.response.content)

    options = types.HttpOptions(
        base_url="https://generativelanguage.googleapis.com",
        api_version="v1beta",
        httpx_client=httpx.Client(transport=httpx.MockTransport(handle)),
    )
    return genai.Client(api_key="CLIENT-gemini-key", http_options=options), flows


def test_a_gemini_clients_token_count_is_answered_locally(gemini_addon: Crosswire) -> None:
    client, flows = _genai_over(gemini_addon)
    counted = client.models.count_tokens(model="gemini-2.5-pro", contents="How many tokens is this sentence?")
    assert counted.total_tokens is not None and counted.total_tokens > 0  # the SDK's own type parsed it
    (f,) = flows
    assert f.metadata["crosswire"]["answered_by"] == "crosswire"


def test_a_gemini_clients_models_list_comes_from_the_model_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", AKEY)
    a = Crosswire()
    with taddons.context(a) as tctx:
        tctx.configure(a, crosswire_route=[GEMINI_ROUTES[0]])
        a.routes[0] = dataclasses.replace(
            a.routes[0], model_map={"gemini-2.5-pro": "claude-sonnet-4-5", "*": "claude-haiku-4-5"}
        )
        client, _ = _genai_over(a)
        assert [m.name for m in client.models.list()] == ["models/gemini-2.5-pro"]
        assert client.models.get(model="gemini-2.5-flash").name == "models/gemini-2.5-flash"  # "*" knows it


def test_a_gemini_clients_embeddings_are_refused_in_its_format(gemini_addon: Crosswire) -> None:
    from google.genai import errors

    client, _ = _genai_over(gemini_addon)
    with pytest.raises(errors.APIError) as info:
        client.models.embed_content(model="text-embedding-004", contents="x")
    assert info.value.code == 501 and "embeddings" in (info.value.message or "")


def test_a_gemini_clients_keys_stay_behind_and_the_upstream_gets_only_its_route(gemini_addon: Crosswire) -> None:
    """The client's key (header, and a ?key= in the URL) reaches no upstream and no recording."""

    def anthropic(f: http.HTTPFlow) -> None:
        assert f.request.url == "https://api.anthropic.com/v1/messages"  # no client query, no key in it
        assert "x-goog-api-key" not in f.request.headers and "CLIENT" not in str(f.request.headers)
        assert f.request.headers["x-api-key"] == AKEY
        upstream_answer(f, orjson.dumps(anthropic_message(f"Hello, echo {AKEY}")), "application/json")

    client, flows = _genai_over(gemini_addon, anthropic)
    answer = client.models.generate_content(model="gemini-2.5-pro", contents="hi")
    assert answer.text == "Hello, echo [redacted by crosswire: $ANTHROPIC_API_KEY]"
    f = tflow.tflow()
    url = "https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key=CLIENT-query-key&x=1"
    f.request = http.Request.make("POST", url, b'{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}', {})
    f.response, f.live = None, True
    send(gemini_addon, f)
    anthropic(f)
    gemini_addon.responseheaders(f)
    gemini_addon.response(f)
    for flow in [*flows, f]:
        state = str(flow.get_state())
        assert "CLIENT-gemini-key" not in state and "CLIENT-query-key" not in state and AKEY not in state
    assert "key=%5Bredacted+by+crosswire%3A+client+credential%5D&x=1" in f.request.url  # the client's view


def test_a_gemini_upstream_gets_its_key_in_x_goog_api_key_and_never_echoes_it(gemini_addon: Crosswire) -> None:
    f = client_flow(body=orjson.dumps({**WHOLE_BODY, "model": "gemini-2.5-pro"}))
    send(gemini_addon, f)
    req = f.request
    assert req.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"
    assert req.headers["x-goog-api-key"] == GKEY and "authorization" not in req.headers
    echo = {"error": {"code": 400, "message": f"API key {GKEY} not valid", "status": "INVALID_ARGUMENT"}}
    upstream_answer(f, orjson.dumps(echo), "application/json", status=400)
    gemini_addon.responseheaders(f)
    gemini_addon.response(f)
    assert f.response is not None and f.response.status_code == 400
    message = orjson.loads(f.response.content or b"")["error"]["message"]
    assert message == "API key [redacted by crosswire: $GEMINI_API_KEY] not valid"
    assert GKEY not in str(f.get_state())
