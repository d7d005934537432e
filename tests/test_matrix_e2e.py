"""End to end over every pair of registered formats: each format's official SDK as the tool, one
real mitmdump with a route per pair, the fake upstream answering in the route's upstream format.

Per pair: a tool loop (the question with the weather tool answered by a call, streamed and whole;
the next turn's tool result reaching the upstream tied to that call) and an upstream error
reaching the client as its SDK's error with the mapped status. Expected values come from the
upstream format's SDK reading the canned answer and what the client's format keeps of it
(tests/formats_support.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from crosswire.fakeupstream import FakeUpstream, Reply
from crosswire.formats import FORMATS
from e2e import UPSTREAM_KEYS, Mitmdump, proxy_with_routes
from formats_support import ADAPTERS, CLIENT_KEYS, TOOL_NAME, Answer, project

pytestmark = pytest.mark.e2e

PAIRS = [pytest.param(s, t, id=f"{s}->{t}") for s in FORMATS.names for t in FORMATS.names]
CALL = Answer(
    id="e2eCall01",
    parts=[("text", ["Let me ", "check."]), ("tool", "call_e2e01", TOOL_NAME, ['{"ci', 'ty": "Paris"}'])],
    usage={"input": 20, "cache": 5, "output": 9},
    stop="tool_use",
)
FINAL = Answer(
    id="e2eFinal01",
    parts=[("text", ["It is ", "sunny."])],
    usage={"input": 40, "cache": 0, "output": 4},
    stop="end_turn",
)
RESULT = "sunny, 24C"


def host(source: str, target: str) -> str:
    return f"{source}.to.{target}.test"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def proxy(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mitmdump]:
    routes = [
        f"http://{host(s, t)}{ADAPTERS[s].route_path} -> {upstream.url(ADAPTERS[t].route_path)}"
        for s in FORMATS.names
        for t in FORMATS.names
    ]
    with proxy_with_routes(tmp_path_factory.mktemp("mitm"), *routes) as m:
        yield m


@pytest.fixture(autouse=True)
def fresh(upstream: FakeUpstream) -> None:
    upstream.reset()


def received(up: FakeUpstream, source: str, target: str) -> dict:
    """The one request the upstream got: at its endpoint, with the route's key, no client key."""
    (req,) = up.requests
    fmt = FORMATS.get(target)
    assert req.path.split("?")[0].startswith(ADAPTERS[target].route_path)
    name, value = fmt.credential(UPSTREAM_KEYS[fmt.key_env])
    assert req.headers[name] == value
    assert CLIENT_KEYS[source] not in str(req.header_list) + req.path
    body: dict = req.json()
    ADAPTERS[target].check_request(body)
    return body


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_tool_loop(proxy: Mitmdump, upstream: FakeUpstream, source: str, target: str, stream: bool) -> None:
    client, provider = ADAPTERS[source], ADAPTERS[target]
    base = client.base_url(host(source, target))
    if stream:
        answer = provider.render_stream(CALL)
        upstream.push(Reply(answer, split_frames=True, pieces=2))
        expected = provider.stream_view(answer)
    else:
        whole = provider.render_body(CALL)
        upstream.push(Reply(whole))
        expected = provider.body_view(whole)
    first = client.ask(base, proxy.url, stream)
    assert project(first, source) == project(project(expected, target), source)
    assert [(n, args) for _, n, args in first.calls] == [(TOOL_NAME, {"city": "Paris"})]
    assert provider.trace(received(upstream, source, target)) == []

    upstream.reset()
    upstream.push(Reply(provider.render_body(FINAL)))
    second = client.follow_up(base, proxy.url, first, RESULT)
    assert "".join(t for _, t in second.parts) == "It is sunny." and second.stop == "end_turn"
    body = received(upstream, source, target)
    # the result answers the very call the upstream made, by the id it gave it
    assert provider.trace(body) == [("use", "call_e2e01"), ("result", "call_e2e01")]
    assert RESULT in json.dumps(body)


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_upstream_error(proxy: Mitmdump, upstream: FakeUpstream, source: str, target: str) -> None:
    body, status = ADAPTERS[target].render_error("rate_limit_error", "slow down, please")
    upstream.push(Reply(body, status=status))
    seen = ADAPTERS[source].fail(ADAPTERS[source].base_url(host(source, target)), proxy.url, True)
    assert seen.status == ADAPTERS[source].client_status(status) and "slow down, please" in seen.message
    assert seen.kind == "rate_limit_error"


@pytest.mark.parametrize("target", [t for t in FORMATS.names if t != "gemini"])
def test_a_gemini_route_answers_its_other_methods_itself(proxy: Mitmdump, upstream: FakeUpstream, target: str) -> None:
    """Through mitmdump, the google-genai client's token count, models list and embeddings on a
    converting gemini route are crosswire's answers, in the shapes the SDK's types read; nothing
    reaches the upstream or the original host."""
    import httpx
    from google import genai
    from google.genai import errors, types

    options = types.HttpOptions(
        base_url=ADAPTERS["gemini"].base_url(host("gemini", target)),
        api_version="v1beta",
        httpx_client=httpx.Client(proxy=proxy.url),
        timeout=20_000,
    )
    client = genai.Client(api_key=CLIENT_KEYS["gemini"], http_options=options)
    counted = client.models.count_tokens(model="gemini-x", contents="How many tokens is this?")
    assert counted.total_tokens is not None and counted.total_tokens > 0
    assert list(client.models.list()) == []  # the route has no model_map: no names to list
    with pytest.raises(errors.APIError) as info:
        client.models.embed_content(model="text-embedding-004", contents="x")
    assert info.value.code == 501
    assert upstream.requests == []
