"""mitmweb while a matched request waits for its upstream (issue 10, item 3), through a real mitmweb.

crosswire sets the route's key in mitmproxy's ``update`` hook, after every other addon and after
mitmweb's view has broadcast the request: the live updates mitmweb pushes to the browser never
carry the key, and neither does an intercepted request (the key is set once the user resumes it).
mitmproxy offers no way to keep a header out of the flow object between the end of the request
hooks and the answer's headers while the request is being sent: in that window a *pull* (the
flows API, File › Save) shows the key. These tests pin that window down and check that it closes
the moment the response headers arrive (docs/addon.md, "Security model").
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import mitmproxy.version
import openai
import pytest
import wsproto
import wsproto.events
from canned import anthropic_stream
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import ANTHROPIC_KEY, CLIENT_OPENAI_KEY, Mitmdump, route_args, unused_port
from leaks import Sentinel, httpx, wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "crosswire-test"
MITMPROXY_12 = int(mitmproxy.version.VERSION.split(".")[0]) >= 12


class Updates:
    """Every message mitmweb pushes to a browser over its ``/updates`` WebSocket."""

    def __init__(self, port: int) -> None:
        self.messages: list[str] = []
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self._ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        target = f"/updates?token={PASSWORD}" if MITMPROXY_12 else "/updates"
        self._sock.sendall(self._ws.send(wsproto.events.Request(host=f"127.0.0.1:{port}", target=target)))
        self.accepted = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.accepted.wait(10), "mitmweb did not accept the updates WebSocket"

    def _read(self) -> None:
        text: list[str] = []
        with contextlib.suppress(OSError):
            while data := self._sock.recv(65536):
                self._ws.receive_data(data)
                for event in self._ws.events():
                    if isinstance(event, wsproto.events.AcceptConnection):
                        self.accepted.set()
                    elif isinstance(event, wsproto.events.TextMessage):
                        text.append(event.data)
                        if event.message_finished:
                            self.messages.append("".join(text))
                            text.clear()
                    elif isinstance(event, wsproto.events.Ping):
                        self._sock.sendall(self._ws.send(event.response()))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()


@pytest.fixture
def web(tmp_path: Any) -> Iterator[dict[str, Any]]:
    with Sentinel() as origin, FakeUpstream() as up:
        web_port = unused_port()
        auth = ["--set", f"web_password={PASSWORD}"] if MITMPROXY_12 else []
        proxy = Mitmdump(
            tmp_path,
            *route_args(f"http://{origin.origin}/v1/chat/completions -> {up.url('/v1/messages')}"),
            "--set",
            "web_open_browser=false",
            "--set",
            f"web_port={web_port}",
            "--set",
            "web_host=127.0.0.1",
            "--set",
            "intercept=~bq intercept-me",  # a request body crosswire converted: it still says so
            *auth,
            web=True,
        )
        api = httpx.Client(base_url=f"http://127.0.0.1:{web_port}", params={"token": PASSWORD}, timeout=10)
        assert wait_for(lambda: _up(api), 30), proxy.output()[-3000:]
        updates = Updates(web_port)
        try:
            yield {"origin": origin, "up": up, "proxy": proxy, "api": api, "updates": updates}
        finally:
            updates.close()
            log = proxy.stop()
            origin.assert_untouched()
            assert ANTHROPIC_KEY not in log


def _up(api: httpx.Client) -> bool:
    try:
        return api.get("/flows").status_code == 200
    except httpx.HTTPError:
        return False


def ask(web: dict[str, Any], text: str, out: dict[str, Any]) -> threading.Thread:
    def go() -> None:
        client = openai.OpenAI(
            base_url=f"http://{web['origin'].origin}/v1",
            api_key=CLIENT_OPENAI_KEY,
            http_client=httpx.Client(proxy=web["proxy"].url),
            max_retries=0,
            timeout=60,
        )
        with client.chat.completions.stream(model="m", messages=[{"role": "user", "content": text}]) as stream:
            out["text"] = stream.get_final_completion().choices[0].message.content

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def flows(web: dict[str, Any]) -> list[dict[str, Any]]:
    return web["api"].get("/flows").json()  # type: ignore[no-any-return]


def sent(flow: dict[str, Any]) -> bool:
    """The flow is the converted request on its way (or past it): it names the upstream's path."""
    return flow["request"]["path"].startswith("/v1/messages")


def test_the_key_window_closes_when_the_response_headers_arrive(web: dict[str, Any]) -> None:
    # the upstream takes 2 s to answer its headers, then 2 s more for the body
    reply = Reply(anthropic_stream(["slow ", "answer"]), pieces=2, delay=2.0, head_delay=2.0)
    web["up"].push(reply)
    out: dict[str, Any] = {}
    thread = ask(web, "hello", out)
    assert wait_for(lambda: any(sent(f) for f in flows(web)), 10)
    during = json.dumps(flows(web))
    dump_during = web["api"].get("/flows/dump").content
    assert wait_for(lambda: bool(web["up"].requests), 10)
    # the documented window: waiting for the answer's headers, a pull sees the request as it was sent
    assert ANTHROPIC_KEY in during and ANTHROPIC_KEY.encode() in dump_during
    assert wait_for(lambda: any(f.get("response") for f in flows(web)), 10)  # headers are in
    assert ANTHROPIC_KEY not in json.dumps(flows(web))
    assert ANTHROPIC_KEY.encode() not in web["api"].get("/flows/dump").content
    thread.join(30)
    assert out.get("text") == "slow answer"
    assert ANTHROPIC_KEY not in json.dumps(flows(web))
    assert web["up"].requests[0].headers["x-api-key"] == ANTHROPIC_KEY
    pushed = "\n".join(web["updates"].messages)
    assert "/v1/messages" in pushed  # the live updates did show the request on its way…
    assert ANTHROPIC_KEY not in pushed  # …never with the key


def test_an_intercepted_request_waits_without_the_key(web: dict[str, Any]) -> None:
    web["up"].push(Reply(anthropic_stream(["after ", "resume"]), split_frames=True))
    out: dict[str, Any] = {}
    thread = ask(web, "intercept-me please", out)
    assert wait_for(lambda: any(f["intercepted"] for f in flows(web)), 10)
    (flow,) = [f for f in flows(web) if f["intercepted"]]
    assert sent(flow) and ANTHROPIC_KEY not in json.dumps(flow)  # converted, re-routed, no key yet
    time.sleep(0.5)
    assert web["up"].requests == []  # held
    xsrf = "c0ffee" * 4  # tornado's double-submit check: the cookie and the header must agree
    for name in ("_xsrf", "_mitmproxy_xsrf"):  # mitmproxy 11's name, 12's
        web["api"].cookies.set(name, xsrf)
    resumed = web["api"].post(f"/flows/{flow['id']}/resume", headers={"X-XSRFToken": xsrf})
    assert resumed.status_code == 200, resumed.text
    thread.join(30)
    assert out.get("text") == "after resume"
    assert web["up"].requests[0].headers["x-api-key"] == ANTHROPIC_KEY  # set once it was let go
    assert ANTHROPIC_KEY not in json.dumps(flows(web)) + "\n".join(web["updates"].messages)
