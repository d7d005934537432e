"""Fault injection through a real mitmdump (issue 10, "Must show"): every step of crosswire's
matched-request path is made to raise in turn (``scripts/faults.py`` wraps each one), and each ends
in a local error answer in the client's format (or, once the answer is on its way, an error event
or an intact answer), the original host untouched, no key anywhere the client, the log or the
recording can see, and no exception escaping into mitmproxy.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from canned import anthropic_message, anthropic_stream
from conftest import ROOT
from crosswire.fakeupstream import FakeUpstream, Reply
from e2e import ANTHROPIC_KEY, CLIENT_OPENAI_KEY, OPENAI_KEY, Mitmdump, route_args
from leaks import Sentinel, recording_client
from mitmproxy import io

pytestmark = pytest.mark.e2e

SCRIPT = ROOT / "tests" / "scripts" / "faults.py"
MESSAGES = [{"role": "user", "content": "q"}]

# Steps before the request leaves: the upstream is never contacted.
BEFORE = [
    "match",
    "client_view",
    "include_usage",
    "convert_request",
    "serialise",
    "upstream_path",
    "forward_rule",
    "upstream_headers",
    "strip_query",
    "request_view",
    "send",
    "credential",
]
# Steps on the answer, and what the client gets when one fails, for a streamed and a whole answer:
# "error" (crosswire's error in the client's format, never a byte of the upstream's answer), or
# "intact" (the answer does not take that step, takes it only once the client has it all, or has a
# fallback: a request whose key cannot be redacted loses its credential headers outright).
ANSWER = {
    "redact_request": ("intact", "intact"),
    "redact_headers": ("error", "error"),
    "adapter": ("error", "intact"),
    "client_headers": ("error", "error"),
    "framing": ("error", "intact"),
    "convert_answer": ("intact", "error"),
    "convert_body": ("intact", "error"),
    "response_view": ("intact", "error"),
    "metadata": ("intact", "intact"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("faults")
    fault = tmp / "fault"
    fault.write_text("")
    with Sentinel() as origin, FakeUpstream() as up:
        proxy = Mitmdump(
            tmp,
            *route_args(f"http://{origin.origin}/v1/chat/completions -> {up.url('/v1/messages')}"),
            "-s",
            str(SCRIPT),
            "-w",
            str(tmp / "rec.flow"),
            "--set",
            "termlog_verbosity=debug",
            "--set",
            "flow_detail=4",
            env={"CROSSWIRE_TEST_FAULT_FILE": str(fault)},
        )
        try:
            yield {"origin": origin, "up": up, "proxy": proxy, "fault": fault, "tmp": tmp}
        finally:
            proxy.stop()


def request(world: dict[str, Any], stream: bool) -> tuple[int, dict[str, Any] | None, str, bytes]:
    """The status, error body (if any) and assembled text the SDK got, and every byte it received."""
    http, recorder = recording_client(world["proxy"].url)
    sdk = openai.OpenAI(
        base_url=f"http://{world['origin'].origin}/v1",
        api_key=CLIENT_OPENAI_KEY,
        http_client=http,
        max_retries=0,
        timeout=20,
    )
    text = ""
    try:
        if stream:
            for chunk in sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True):  # type: ignore[arg-type]
                text += chunk.choices[0].delta.content or "" if chunk.choices else ""
        else:
            text = sdk.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content or ""  # type: ignore[arg-type]
    except openai.APIStatusError as exc:
        return exc.status_code, exc.body if isinstance(exc.body, dict) else None, text, bytes(recorder.raw)
    except openai.APIError as exc:  # an error event inside a 200 stream
        return 200, {"message": exc.message}, text, bytes(recorder.raw)
    return 200, None, text, bytes(recorder.raw)


def arm(world: dict[str, Any], step: str) -> Iterator[None]:
    world["fault"].write_text(step)
    try:
        yield
    finally:
        world["fault"].write_text("")


def run(world: dict[str, Any], step: str, stream: bool) -> tuple[int, dict[str, Any] | None, str, bytes]:
    up: FakeUpstream = world["up"]
    up.reset()
    body = anthropic_stream(["All ", "fine."]) if stream else anthropic_message("All fine.")
    up.push(Reply(body, split_frames=stream))
    for _ in arm(world, step):
        result = request(world, stream)
    world["origin"].assert_untouched()
    assert ANTHROPIC_KEY.encode() not in result[3] and OPENAI_KEY.encode() not in result[3]
    return result


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("step", BEFORE)
def test_a_step_before_the_request_leaves(world: dict[str, Any], step: str, stream: bool) -> None:
    status, error, text, _ = run(world, step, stream)
    assert status == 500 and error is not None, (status, error)
    assert f"injected fault: {step}" in error["message"] and "crosswire" in error["message"]
    assert text == "" and world["up"].requests == []  # answered locally: the upstream never saw it


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("step", list(ANSWER))
def test_a_step_on_the_answer(world: dict[str, Any], step: str, stream: bool) -> None:
    status, error, text, raw = run(world, step, stream)
    assert len(world["up"].requests) == 1
    if ANSWER[step][0 if stream else 1] == "intact":
        assert (status, error, text) == (200, None, "All fine.")
        return
    assert error is not None and "crosswire" in error["message"] and f"injected fault: {step}" in error["message"]
    assert status == 502 and text == "", (status, error, text)
    assert b"msg_01Fake" not in raw and b"content_block_delta" not in raw  # never the upstream's raw answer


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_a_step_inside_the_stream(world: dict[str, Any], stream: bool) -> None:
    status, error, text, _ = run(world, "stream_feed", stream)
    if not stream:  # a whole JSON answer is not read by the stream converter
        assert (status, error, text) == (200, None, "All fine.")
        return
    assert status == 200 and error is not None and "injected fault: stream_feed" in error["message"]


def test_nothing_escaped_and_nothing_leaked(world: dict[str, Any]) -> None:
    """Last: stops mitmdump, then reads its log and the recording."""
    log = world["proxy"].stop()
    assert "Addon error" not in log, log[log.find("Addon error") - 2000 : log.find("Addon error") + 2000]
    assert ANTHROPIC_KEY not in log and OPENAI_KEY not in log
    raw = (world["tmp"] / "rec.flow").read_bytes()
    assert ANTHROPIC_KEY.encode() not in raw and CLIENT_OPENAI_KEY.encode() not in raw
    with (world["tmp"] / "rec.flow").open("rb") as f:
        flows = list(io.FlowReader(f).stream())
    assert len(flows) >= 2 * (len(BEFORE) + len(ANSWER) + 1)
    world["origin"].assert_untouched()


def test_every_step_is_a_real_attribute() -> None:
    """The script wraps what it names: a renamed step would make its test pass vacuously."""
    tree = ast.parse(SCRIPT.read_text())
    (value,) = [n.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "STEPS"]
    steps: dict[str, tuple[str, str]] = ast.literal_eval(value)
    assert set(steps) == {*BEFORE, *ANSWER, "stream_feed"}
    for module, path in steps.values():
        owner: Any = importlib.import_module(module)
        for part in path.split("."):
            owner = getattr(owner, part)
        assert callable(owner)
