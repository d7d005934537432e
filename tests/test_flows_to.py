"""``crosswire flows convert --to``: plain provider traffic recorded with a plain ``mitmdump -w`` (and the
same calls in a HAR shaped like a browser's export) rewritten into each other format, both sides.

Judges: the target format's official SDK parses the converted answer, and what it gets equals (per the
documented mapping, ``project``) what the source format's SDK got from the original; the converted
request passes the target SDK's request types and the API's rules; a real ``mitmdump --server-replay``
of the converted file answers the target SDK client making the converted request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bodies_judge import check_anthropic_request, check_openai_request
from crosswire import cli
from crosswire.flowfile import Recording
from e2e import CLIENT_ANTHROPIC_KEY, CLIENT_OPENAI_KEY, Mitmdump
from formats_support import project
from mitmproxy import io
from plain_recording import FORMATS, Scenario, har, har_entry, record, scenarios, sdk_client, sdk_view
from test_responses_bodies import check_responses_request

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore::UserWarning")]

BIN = Path(sys.executable).parent
ENDPOINT = {"anthropic": "/v1/messages", "openai-chat": "/v1/chat/completions", "openai-responses": "/v1/responses"}
REQUEST_JUDGE = {
    "anthropic": check_anthropic_request,
    "openai-chat": check_openai_request,
    "openai-responses": check_responses_request,
}
CREDENTIALS = ("authorization", "x-api-key", "api-key")
SCENARIOS = scenarios()
PAIRS = [(i, target) for i, s in enumerate(SCENARIOS) for target in FORMATS if target != s.format]


def read(path: Path) -> list[Any]:
    with open(path, "rb") as f:
        return list(io.FlowReader(f).stream())


@dataclass
class Converted:
    path: Path
    code: int
    stderr: str
    flows: list[Any]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, list[Any]]:
    path, port = record(tmp_path_factory.mktemp("plain"), SCENARIOS)
    return path, port, read(path)


def convert(src: Path, dst: Path, *args: str) -> Converted:
    run = subprocess.run(
        [BIN / "crosswire", "flows", "convert", src, dst, *args], capture_output=True, text=True, timeout=120
    )
    return Converted(dst, run.returncode, run.stderr, read(dst) if dst.exists() else [])


@pytest.fixture(scope="module")
def converted(recording: tuple[Path, int, list[Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Converted]:
    tmp = tmp_path_factory.mktemp("converted")
    return {target: convert(recording[0], tmp / f"{target}.flow", "--to", target) for target in FORMATS}


def judge_pair(scenario: Scenario, original: Any, conv: Any, target: str) -> None:
    """The converted flow against the original: answer (SDK-judged), request, kept original, no key."""
    src_status, src_view = sdk_view(
        scenario.format,
        original.response.status_code,
        original.response.headers["content-type"],
        original.response.content,
    )
    assert src_view.error is not None or src_view.stop is not None, "the source SDK accepted the original"
    status, view = sdk_view(
        target, conv.response.status_code, conv.response.headers["content-type"], conv.response.content
    )
    assert status == src_status
    assert project(view, target) == project(src_view, target)
    if scenario.streamed and original.response.status_code == 200:
        assert conv.response.headers["content-type"] == "text/event-stream"

    assert conv.request.method == "POST" and conv.request.path == ENDPOINT[target]
    assert (conv.request.host, conv.request.port) == (original.request.host, original.request.port)
    body = json.loads(conv.request.content)
    REQUEST_JUDGE[target](body)
    assert body.get("stream", False) is scenario.streamed
    assert not [h for h in conv.request.headers if h.lower() in CREDENTIALS]
    state = repr(conv.get_state()).encode()
    assert CLIENT_ANTHROPIC_KEY.encode() not in state and CLIENT_OPENAI_KEY.encode() not in state

    md = conv.metadata["crosswire"]
    assert (md["upstream_format"], md["client_format"]) == (scenario.format, target)
    assert md["upstream_request"]["body"] == original.request.raw_content
    assert md["upstream_request"]["url"] == original.request.url
    assert md["upstream_response"]["body"] == original.response.raw_content  # the fake sends identity
    assert md["upstream_response"]["status_code"] == original.response.status_code
    assert [k for k, _ in md["upstream_request"]["headers"]] == list(original.request.headers.keys())


def test_the_recording_is_plain_provider_traffic(recording: tuple[Path, int, list[Any]]) -> None:
    _, _, flows = recording
    assert len(flows) == len(SCENARIOS)
    for scenario, flow in zip(SCENARIOS, flows, strict=True):
        assert "crosswire" not in flow.metadata
        assert flow.request.path == ENDPOINT[scenario.format]
        assert {CLIENT_ANTHROPIC_KEY, CLIENT_OPENAI_KEY} & {
            v.removeprefix("Bearer ") for v in flow.request.headers.values()
        }


@pytest.mark.parametrize("target", FORMATS)
def test_every_call_of_another_format_is_converted_and_summarised(converted: dict[str, Converted], target: str) -> None:
    result = converted[target]
    assert result.code == 0, result.stderr
    others = [f for f in FORMATS if f != target]
    assert "crosswire: 15 flows: 10 converted, 5 skipped, 0 failed" in result.stderr
    for source in others:
        assert f"  converted 5: {source} -> {target}\n" in result.stderr
    assert f"  skipped 5: already {target}\n" in result.stderr
    assert len(result.flows) == len(SCENARIOS)


@pytest.mark.parametrize(("index", "target"), PAIRS, ids=[f"{SCENARIOS[i].name}-to-{t}" for i, t in PAIRS])
def test_converted_flow_is_what_a_target_client_and_provider_exchange(
    recording: tuple[Path, int, list[Any]], converted: dict[str, Converted], index: int, target: str
) -> None:
    judge_pair(SCENARIOS[index], recording[2][index], converted[target].flows[index], target)


@pytest.mark.parametrize("target", FORMATS)
def test_flows_already_in_the_target_format_are_copied_unchanged(
    recording: tuple[Path, int, list[Any]], converted: dict[str, Converted], target: str
) -> None:
    for scenario, original, out in zip(SCENARIOS, recording[2], converted[target].flows, strict=True):
        if scenario.format == target:
            assert out.get_state() == original.get_state()


def test_route_mode_converts_the_result_again_from_the_original(
    recording: tuple[Path, int, list[Any]], converted: dict[str, Converted], tmp_path: Path
) -> None:
    """The converted file keeps the original in the addon's recording layout: --route re-converts it to the
    same client bytes, from the original provider's answer."""
    _, port, _ = recording
    again = convert(
        converted["openai-chat"].path,
        tmp_path / "again.flow",
        "--route",
        f"/v1/chat/completions -> http://127.0.0.1:{port}/v1/messages",
    )
    assert again.code == 0, again.stderr
    assert "converted 5: anthropic -> openai-chat" in again.stderr
    for scenario, before, after in zip(SCENARIOS, converted["openai-chat"].flows, again.flows, strict=True):
        if scenario.format == "anthropic":
            assert after.response.content == before.response.content
            assert after.response.status_code == before.response.status_code


def _replay_call(target: str, client: Any, body: dict[str, Any]) -> tuple[int, bytes]:
    """The converted request made by the target SDK client, as an application makes it; what it received."""
    api = {
        "anthropic": lambda: client.messages,
        "openai-chat": lambda: client.chat.completions,
        "openai-responses": lambda: client.responses,
    }[target]()
    try:
        raw = api.with_raw_response.create(**body)
    except Exception as exc:  # an error answer: the SDK raised the status error it documents
        response = exc.response  # type: ignore[attr-defined]
        assert exc.status_code == response.status_code  # type: ignore[attr-defined]
        return response.status_code, response.content
    content = raw.http_response.read()
    parsed = raw.parse()
    if body.get("stream"):
        assert list(parsed), "the SDK read events from the replayed stream"
    else:
        assert parsed.id
    return raw.http_response.status_code, content


@pytest.mark.parametrize("target", FORMATS)
def test_server_replay_answers_the_target_sdk_client(
    recording: tuple[Path, int, list[Any]], converted: dict[str, Converted], target: str, tmp_path: Path
) -> None:
    """mitmdump --server-replay OUT, the fake provider gone: each converted request, made by the target
    SDK, gets the converted answer. Replay matches the body byte for byte unless told not to, and an SDK
    serialises its parameters in its own key order, so the documented option is
    server_replay_ignore_content (answers go in recorded order per endpoint)."""
    _, port, _ = recording
    result = converted[target]
    replayed = tmp_path / "replayed.flow"
    proxy = Mitmdump(
        tmp_path,
        "--server-replay",
        str(result.path),
        "--set",
        "server_replay_ignore_content=true",
        "--set",
        "server_replay_extra=kill",
        "-w",
        str(replayed),
        script=False,
    )
    try:
        for flow in result.flows:
            body = json.loads(flow.request.content)
            client = sdk_client(target, f"http://127.0.0.1:{port}", proxy.url)
            status, content = _replay_call(target, client, body)
            assert (status, content) == (flow.response.status_code, flow.response.content)
    finally:
        log = proxy.stop()
    sent = read(replayed)
    assert len(sent) == len(result.flows), log
    for flow, replay in zip(result.flows, sent, strict=True):
        assert replay.request.path == flow.request.path
        assert json.loads(replay.request.content) == json.loads(flow.request.content)  # the request the SDK sends


# --- HAR -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("base64_bodies", [False, True], ids=["text", "base64"])
@pytest.mark.parametrize("target", FORMATS)
def test_har_is_converted_the_same_way(
    recording: tuple[Path, int, list[Any]], target: str, base64_bodies: bool, tmp_path: Path
) -> None:
    _, _, flows = recording
    src = tmp_path / "devtools.har"
    src.write_bytes(har([har_entry(f, base64_bodies) for f in flows]))
    result = convert(src, tmp_path / "out.flow", "--to", target)
    assert result.code == 0, result.stderr
    assert "crosswire: 15 flows: 10 converted, 5 skipped, 0 failed" in result.stderr
    for scenario, original, out in zip(SCENARIOS, flows, result.flows, strict=True):
        if scenario.format != target:
            src_status, src_view = sdk_view(
                scenario.format,
                original.response.status_code,
                original.response.headers["content-type"],
                original.response.content,
            )
            status, view = sdk_view(
                target, out.response.status_code, out.response.headers["content-type"], out.response.content
            )
            assert status == src_status
            assert project(view, target) == project(src_view, target)
            assert out.metadata["crosswire"]["upstream_response"]["body"] == original.response.content
            REQUEST_JUDGE[target](json.loads(out.request.content))
            assert not [h for h in out.request.headers if h.lower() in CREDENTIALS or h.startswith(":")]


def test_har_streams_are_read_as_utf8(recording: tuple[Path, int, list[Any]], tmp_path: Path) -> None:
    """A streamed answer in a HAR is its whole text; mitmproxy's own reader encodes a text/event-stream
    without a charset as latin-1, ours as UTF-8 (what an SSE stream is)."""
    _, _, flows = recording
    # latin-1 can encode this one's text (17 × 24): mitmproxy then uses it (with ☀ it falls back to UTF-8)
    stream = flows[[s.name for s in SCENARIOS].index("anthropic-stream-thinking")]
    assert "×".encode() in stream.response.content
    src = tmp_path / "one.har"
    src.write_bytes(har([har_entry(stream)]))
    with open(src, "rb") as f:
        (theirs,) = io.FlowReader(f).stream()
    (ours,) = Recording(src).flows()
    assert ours.response.content == stream.response.content
    assert theirs.response.content != stream.response.content  # why crosswire reads HAR entries itself
    assert "×".encode("latin-1") in theirs.response.content


def test_cli_in_process_and_console_script_agree(
    recording: tuple[Path, int, list[Any]],
    converted: dict[str, Converted],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["flows", "convert", str(recording[0]), str(tmp_path / "x.flow"), "--to", "anthropic"])
    assert code == 0
    assert (tmp_path / "x.flow").read_bytes() == converted["anthropic"].path.read_bytes()
    assert capsys.readouterr().err == converted["anthropic"].stderr
