"""CONNECT, connection_strategy and WebSocket upgrades (issue 10, item 6), through a real mitmdump.

With mitmproxy's default ``connection_strategy=eager`` a CONNECT makes mitmproxy connect (and
handshake TLS) to the original host before any addon sees a request. For a host a route owns,
crosswire answers the CONNECT itself and keeps the TLS layer from connecting first: matched HTTPS
flows work when that host cannot be resolved or reached, and the provider routed away from sees no
connection at all. Other hosts are connected eagerly as before. Modes whose destination is known
when the client connects (reverse, transparent, …) need ``lazy``: crosswire sets it, in one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from canned import anthropic_stream
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import ANTHROPIC_KEY, CLIENT_OPENAI_KEY, Mitmdump, route_args
from leaks import Sentinel, recording_client

pytestmark = pytest.mark.e2e

UNRESOLVABLE = "api.openai.invalid"  # RFC 6761: never resolves
MESSAGES = [{"role": "user", "content": "hi"}]
LAZY_LINE = "crosswire: connection_strategy set to lazy"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("connect")
    with Sentinel() as routed, Sentinel() as other, FakeUpstream() as up:
        proxy = Mitmdump(
            tmp,
            *route_args(
                f"https://{routed.origin}/v1/chat/completions -> {up.url('/v1/messages')}",
                f"https://{UNRESOLVABLE}/v1/chat/completions -> {up.url('/v1/messages')}",
                f"https://{routed.origin}/v1/responses -> {up.url('/v1/messages')}",
            ),
        )  # connection_strategy: mitmproxy's default, eager
        try:
            ca = tmp / "confdir" / "mitmproxy-ca-cert.pem"
            yield {"routed": routed, "other": other, "up": up, "proxy": proxy, "ca": ca}
        finally:
            log = proxy.stop()
            assert LAZY_LINE not in log  # regular mode keeps eager for every other host
            assert ANTHROPIC_KEY not in log and "Addon error" not in log


def sdk(world: dict[str, Any], host: str, **kw: Any) -> tuple[openai.OpenAI, Any]:
    client, recorder = recording_client(world["proxy"].url, verify=str(world["ca"]))
    return openai.OpenAI(
        base_url=f"https://{host}/v1", api_key=CLIENT_OPENAI_KEY, http_client=client, max_retries=0, **kw
    ), recorder


def stream_text(client: openai.OpenAI) -> str:
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:  # type: ignore[arg-type]
        return stream.get_final_completion().choices[0].message.content or ""


def test_connect_to_a_routed_host_opens_no_connection_to_it(world: dict[str, Any]) -> None:
    world["up"].push(Reply(anthropic_stream(["over ", "TLS"]), split_frames=True))
    client, rec = sdk(world, world["routed"].origin)
    assert stream_text(client) == "over TLS"
    world["routed"].assert_untouched()  # not even the eager TCP connection or a TLS handshake
    assert ANTHROPIC_KEY.encode() not in bytes(rec.raw)


def test_an_unresolvable_routed_host_works(world: dict[str, Any]) -> None:
    world["up"].push(Reply(anthropic_stream(["offline ", "ok"]), split_frames=True))
    client, _ = sdk(world, UNRESOLVABLE)
    assert stream_text(client) == "offline ok"


def test_other_hosts_are_still_connected_eagerly(world: dict[str, Any]) -> None:
    client, _ = sdk(world, world["other"].origin, timeout=3)
    with pytest.raises(openai.APIError):  # the sentinel never completes a TLS handshake
        client.models.list()
    assert world["other"].connections, "mitmproxy no longer connects eagerly to hosts no route owns"


def test_a_websocket_upgrade_over_connect_is_refused(world: dict[str, Any]) -> None:
    client, _ = recording_client(world["proxy"].url, verify=str(world["ca"]))
    resp = client.get(
        f"https://{world['routed'].origin}/v1/responses",
        headers={
            "connection": "Upgrade",
            "upgrade": "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
            "authorization": f"Bearer {CLIENT_OPENAI_KEY}",
        },
    )
    assert resp.status_code == 426
    world["routed"].assert_untouched()


def test_reverse_mode_is_switched_to_lazy_in_one_line(tmp_path: Path) -> None:
    with Sentinel() as origin, FakeUpstream() as up:
        proxy = Mitmdump(
            tmp_path,
            "--mode",
            f"reverse:http://{origin.origin}",
            *route_args(f"/v1/chat/completions -> {up.url('/v1/messages')}"),
        )
        try:
            up.push(Reply(anthropic_stream(["rev"]), split_frames=True))
            client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=CLIENT_OPENAI_KEY, max_retries=0)
            assert stream_text(client) == "rev"
        finally:
            log = proxy.stop()
        origin.assert_untouched()  # eager would have connected there when the client connected
        assert log.count(LAZY_LINE) == 1


# --- the real Codex CLI: it opens a WebSocket first, and falls back to HTTPS at once on 426 ------

CLI_DIR = Path(os.environ.get("CROSSWIRE_CLI_DIR") or Path.home() / ".cache" / "crosswire-clis")
CODEX = CLI_DIR / "node_modules" / ".bin" / "codex"


@pytest.mark.clis
def test_codex_falls_back_from_websocket_at_once(tmp_path: Path) -> None:
    if not CODEX.exists():
        pytest.skip(f"codex is not installed in {CLI_DIR} (.ci/install-clis installs it)")
    with FakeUpstream(default=Reply(anthropic_stream(["Hi ", "there."]), split_frames=True)) as up:
        keep = r'~u "^https://api\.openai\.com/v1/responses"'
        proxy = Mitmdump(
            tmp_path,
            *route_args(f"https://api.openai.com/v1/responses -> {up.url('/v1/messages')}"),
            "--set",
            f"block_list=#!({keep})#403",  # nothing else leaves the machine
            "--set",
            "flow_detail=1",
        )
        try:
            home = tmp_path / "home"
            (home / ".codex").mkdir(parents=True)
            (tmp_path / "work").mkdir()
            ca = str(tmp_path / "confdir" / "mitmproxy-ca-cert.pem")
            env = {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "HOME": str(home),
                "CODEX_HOME": str(home / ".codex"),
                "OPENAI_API_KEY": CLIENT_OPENAI_KEY,
                "HTTPS_PROXY": proxy.url,
                "HTTP_PROXY": proxy.url,
                "SSL_CERT_FILE": ca,
                "CODEX_CA_CERTIFICATE": ca,
                "LANG": "C.UTF-8",
            }
            start = time.monotonic()
            run = subprocess.run(
                [str(CODEX), "exec", "--skip-git-repo-check", "say hi"],
                env=env,
                cwd=tmp_path / "work",
                capture_output=True,
                text=True,
                timeout=240,
                stdin=subprocess.DEVNULL,
            )
            seconds = time.monotonic() - start
        finally:
            log = proxy.stop()
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Hi there." in run.stdout and "Reconnecting" not in run.stderr, run.stderr[-3000:]
        upgrades = [ln for ln in log.splitlines() if "GET https://api.openai.com/v1/responses" in ln]
        assert len(upgrades) == 1, log[-4000:]  # one attempt, then HTTPS
        assert seconds < 120
        (req,) = up.requests
        assert CLIENT_OPENAI_KEY not in json.dumps(req.header_list)
