"""``crosswire run -- TOOL`` with a real child: the official SDKs, run as the tool, call the real API hosts
over HTTPS through the proxy (verifying its certificates with the CA variables crosswire set), the fake
upstream answers in another format; the answer is converted, the exit status comes back, the summary's
tokens are the upstream's, and no process is left, however the run ends."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crosswire import ca
from crosswire.fakeupstream import FakeUpstream, Reply, sse
from crosswire_run import crosswire_run, finished, start_crosswire_run

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="finding leftover processes reads /proc (Linux)"),
]

UPSTREAM_KEY = "sk-UPSTREAM-run-test-0123"
CLIENT_KEY = "sk-CLIENT-run-test"


def _anthropic_stream(text: list[str], usage_start: dict[str, int], output_tokens: int) -> bytes:
    message = {
        "id": "msg_run",
        "type": "message",
        "role": "assistant",
        "model": "claude-upstream",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_start,
    }
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        *[
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
            )
            for t in text
        ],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sse(events)


ANTHROPIC_WHOLE = {
    "id": "msg_run_whole",
    "type": "message",
    "role": "assistant",
    "model": "claude-upstream",
    "content": [{"type": "text", "text": "Whole answer."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 30, "output_tokens": 12},
}

# The child: the openai SDK as a tool would use it, no base URL, no proxy or CA settings of its own.
OPENAI_CHILD = textwrap.dedent(
    """
    import json, os, ssl, sys
    import certifi, openai
    try:
        import httpx2 as httpx
    except ImportError:
        import httpx

    client = openai.OpenAI(api_key="%(key)s", max_retries=0, timeout=30)
    messages = [{"role": "user", "content": "hi"}]
    with client.chat.completions.stream(
        model="gpt-4o", messages=messages, stream_options={"include_usage": True}
    ) as stream:
        streamed = stream.get_final_completion()
    whole = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    # Without crosswire's CA variables the proxy's certificate is not trusted: verification is on.
    try:
        httpx.get("https://api.openai.com/v1/models", verify=ssl.create_default_context(cafile=certifi.where()))
        untrusted = "accepted"
    except httpx.ConnectError as exc:
        untrusted = "CERTIFICATE_VERIFY_FAILED" in str(exc)
    names = ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CODEX_CA_CERTIFICATE", "HTTPS_PROXY",
             "NO_PROXY"]
    print(json.dumps({
        "streamed": streamed.choices[0].message.content,
        "usage": streamed.usage.model_dump() if streamed.usage else None,
        "whole": whole.choices[0].message.content,
        "untrusted_without_ca": untrusted,
        "env": {name: os.environ.get(name) for name in names},
    }))
    sys.exit(7)
    """
) % {"key": CLIENT_KEY}


@pytest.fixture
def anthropic_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


def test_openai_sdk_under_run_gets_the_converted_answer_and_the_summary_counts_the_upstreams_tokens(
    tmp_path: Path, anthropic_upstream: FakeUpstream
) -> None:
    up = anthropic_upstream
    usage = {
        "input_tokens": 1200,
        "cache_read_input_tokens": 300,
        "cache_creation_input_tokens": 40,
        "output_tokens": 1,
    }
    up.push(
        Reply(_anthropic_stream(["Hello ", "through ", "crosswire."], usage, 77), split_frames=True, delay=0.02),
        Reply(ANTHROPIC_WHOLE),
    )
    child = tmp_path / "child.py"
    child.write_text(OPENAI_CHILD, encoding="utf-8")
    result = crosswire_run(
        tmp_path,
        ["--to", f"anthropic@{up.url('/v1')}", "--key-env", "CW_RUN_KEY", "--model", "*=claude-mapped"],
        [sys.executable, str(child)],
        env={"CW_RUN_KEY": UPSTREAM_KEY},
    )
    assert result.returncode == 7, result.stderr + result.log
    assert result.leftovers == []
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["streamed"] == "Hello through crosswire."
    assert seen["whole"] == "Whole answer."
    assert seen["untrusted_without_ca"] is True
    # what the upstream received: its own format, the mapped model, the route's key and not the client's
    assert [r.path for r in up.requests] == ["/v1/messages", "/v1/messages"]
    assert [r.json()["model"] for r in up.requests] == ["claude-mapped", "claude-mapped"]
    assert all(r.headers["x-api-key"] == UPSTREAM_KEY for r in up.requests)
    assert not any(CLIENT_KEY in v for r in up.requests for _, v in r.header_list)
    # the summary: the upstream's usage, both requests summed (1200 + 30 input, 77 + 12 output)
    group = result.group("api.openai.com/v1/chat/completions")
    assert group["model"] == "claude-mapped"
    assert group["requests"] == 2 and group["errors"] == {}
    assert group["input_tokens"] == 1230
    assert group["output_tokens"] == 89
    assert group["cache_read_input_tokens"] == 300
    assert group["cache_creation_input_tokens"] == 40
    assert group["timed_streams"] == 1 and 0 < group["median_ttft_s"] < 10
    assert "requests 2, no errors" in result.stderr
    assert "tokens: input 1,230, output 89, cache read 300, cache write 40" in result.stderr
    # the variables crosswire gave the child: the proxy, loopback direct, both CA files
    env = seen["env"]
    assert env["HTTPS_PROXY"].startswith("http://127.0.0.1:")
    assert env["NO_PROXY"] == "localhost,127.0.0.1,::1"
    assert env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == str(tmp_path / "confdir" / ca.BUNDLE)
    assert env["NODE_EXTRA_CA_CERTS"] == env["CODEX_CA_CERTIFICATE"] == str(tmp_path / "confdir" / ca.EXTRA)


ANTHROPIC_CHILD = textwrap.dedent(
    """
    import json, sys
    import anthropic

    client = anthropic.Anthropic(api_key="%(key)s", max_retries=0, timeout=30)
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        message = stream.get_final_message()
    print(json.dumps({"text": message.content[0].text, "usage": message.usage.model_dump()}))
    """
) % {"key": CLIENT_KEY}


def _openai_stream(texts: list[str], usage: dict[str, Any]) -> bytes:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {
            "id": "chatcmpl-run",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [choice],
        }

    events: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", "content": ""}))]
    events += [(None, chunk({"content": t})) for t in texts]
    events += [(None, chunk({}, "stop")), (None, {**chunk({}), "choices": [], "usage": usage}), (None, "[DONE]")]
    return sse(events)


def test_anthropic_sdk_under_run_reaches_an_openai_chat_upstream(tmp_path: Path) -> None:
    usage = {"prompt_tokens": 500, "completion_tokens": 60, "prompt_tokens_details": {"cached_tokens": 200}}
    with FakeUpstream() as up:
        up.push(Reply(_openai_stream(["Chat ", "upstream."], usage), split_frames=True))
        child = tmp_path / "child.py"
        child.write_text(ANTHROPIC_CHILD, encoding="utf-8")
        result = crosswire_run(
            tmp_path,
            ["--quiet", "--to", f"openai-chat@{up.url('/v1')}", "--key-env", ""],
            [sys.executable, str(child)],
        )
    assert result.returncode == 0, result.stderr + result.log
    assert result.leftovers == []
    assert result.stderr == ""  # --quiet: the tool's output only; the summary is still in --summary-json
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["text"] == "Chat upstream."
    assert up.requests[0].path == "/v1/chat/completions"
    assert "authorization" not in up.requests[0].headers  # --key-env '': no key for a local server
    group = result.group("api.anthropic.com/v1/messages")
    # OpenAI counts cached tokens inside prompt_tokens; the summary's input is the part not read from cache
    assert (group["input_tokens"], group["cache_read_input_tokens"], group["output_tokens"]) == (300, 200, 60)


def test_an_identity_route_counts_the_usage_it_passed_through(tmp_path: Path) -> None:
    usage = {"input_tokens": 41, "cache_read_input_tokens": 5, "output_tokens": 1}
    with FakeUpstream() as up:
        up.push(Reply(_anthropic_stream(["Same ", "format."], usage, 9), split_frames=True))
        child = tmp_path / "child.py"
        child.write_text(ANTHROPIC_CHILD, encoding="utf-8")
        result = crosswire_run(
            tmp_path,
            ["--to", f"anthropic@{up.url('/v1')}", "--key-env", "CW_RUN_KEY"],
            [sys.executable, str(child)],
            env={"CW_RUN_KEY": UPSTREAM_KEY},
        )
    assert result.returncode == 0, result.stderr + result.log
    assert json.loads(result.stdout.splitlines()[-1])["text"] == "Same format."
    group = result.group("api.anthropic.com/v1/messages")
    assert (group["input_tokens"], group["cache_read_input_tokens"], group["output_tokens"]) == (41, 5, 9)
    assert up.requests[0].headers["x-api-key"] == UPSTREAM_KEY


# --- how a run ends ---------------------------------------------------------------------------------

WAITING_CHILD = textwrap.dedent(
    r"""
    import os, signal, sys, time
    def leave(signum, frame):  # os.write, not print: this may run inside another write
        os.write(1, f"child got {signal.Signals(signum).name}\n".encode())
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, leave)
    try:
        os.write(1, f"child {os.getpid()}\n".encode())
        time.sleep(60)
    except KeyboardInterrupt:
        os.write(1, b"child got SIGINT\n")
        sys.exit(130)
    """
)


def _started_child(tmp_path: Path, run_args: list[str] | None = None) -> tuple[Any, int]:
    child = tmp_path / "child.py"
    child.write_text(WAITING_CHILD, encoding="utf-8")
    run = start_crosswire_run(
        tmp_path,
        run_args or ["--route", "/v1/messages -> http://127.0.0.1:9/v1/messages"],
        [sys.executable, str(child)],
        env={"ANTHROPIC_API_KEY": "unused"},
    )
    assert run.proc.stdout is not None
    line = run.proc.stdout.readline()  # crosswire run's stdout is the child's
    assert line.startswith("child "), line + (run.proc.stderr.read() if run.proc.stderr else "")
    return run, int(line.split()[1])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_crosswire_run_reaches_the_tool_and_stops_mitmdump(tmp_path: Path, signum: int) -> None:
    run, _ = _started_child(tmp_path)
    run.proc.send_signal(signum)  # not from a terminal: crosswire forwards it
    result = finished(run)
    assert f"child got {signal.Signals(signum).name}" in result.stdout, result.stderr
    assert result.returncode == 128 + signum
    assert result.leftovers == []
    assert "no request matched a route" in result.stderr  # the summary still comes


def test_a_killed_tool_ends_the_run_with_its_status_and_stops_mitmdump(tmp_path: Path) -> None:
    run, child_pid = _started_child(tmp_path)
    os.kill(child_pid, signal.SIGKILL)
    result = finished(run)
    assert result.returncode == 128 + signal.SIGKILL
    assert result.leftovers == []


def test_a_bad_route_stops_before_anything_starts(tmp_path: Path) -> None:
    result = crosswire_run(tmp_path, ["--route", "no arrow"], [sys.executable, "-c", "print('never')"])
    assert result.returncode == 2
    assert "write 'MATCH -> UPSTREAM'" in result.stderr
    assert "never" not in result.stdout and result.leftovers == []


def test_a_missing_key_is_named_before_mitmdump_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENROUTER_API_KEY"}
    result = crosswire_run(tmp_path, ["--to", "openrouter"], [sys.executable, "-c", "print('never')"], env=env)
    assert result.returncode == 2
    assert "environment variable OPENROUTER_API_KEY is not set" in result.stderr


def test_a_command_that_does_not_exist_is_127(tmp_path: Path) -> None:
    result = crosswire_run(tmp_path, ["--to", "ollama"], [str(tmp_path / "no-such-tool")])
    assert result.returncode == 127
    assert "cannot start" in result.stderr and result.leftovers == []


def test_record_and_web(tmp_path: Path) -> None:
    """--web runs mitmweb (its UI on a port the OS picks here), --record writes the converted flows."""
    with FakeUpstream() as up:
        up.push(Reply(_openai_stream(["Recorded."], {"prompt_tokens": 3, "completion_tokens": 2})))
        child = tmp_path / "child.py"
        child.write_text(ANTHROPIC_CHILD, encoding="utf-8")
        flows = tmp_path / "session.flow"
        result = crosswire_run(
            tmp_path,
            ["--web", "--set", "web_port=0", "--record", str(flows), "--to", f"openai-chat@{up.url('/v1')}"],
            [sys.executable, str(child)],
            env={"OPENAI_API_KEY": UPSTREAM_KEY},
        )
    assert result.returncode == 0, result.stderr + result.log
    assert "mitmweb:" in result.stderr
    from mitmproxy import io

    with open(flows, "rb") as f:
        (flow,) = io.FlowReader(f).stream()
    assert flow.request.pretty_url == "https://api.anthropic.com/v1/messages"
    assert flow.metadata["crosswire"]["upstream_format"] == "openai-chat"
    assert UPSTREAM_KEY.encode() not in flows.read_bytes()


# --- crosswire proxy --------------------------------------------------------------------------------


def test_proxy_prints_the_exports_and_the_summary_after_ctrl_c(tmp_path: Path) -> None:
    with FakeUpstream() as up:
        up.push(Reply(_openai_stream(["Via ", "proxy."], {"prompt_tokens": 8, "completion_tokens": 4})))
        run = start_crosswire_run(
            tmp_path, ["--port", "0", "--to", f"openai-chat@{up.url('/v1')}", "--key-env", ""], [], command="proxy"
        )
        assert run.proc.stdout is not None
        exports: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while "CODEX_CA_CERTIFICATE" not in exports and time.monotonic() < deadline:
            line = run.proc.stdout.readline()
            assert line, "crosswire proxy ended early"
            if line.startswith("export "):
                name, _, value = line[7:].strip().partition("=")
                exports[name] = value
        # a tool set up from the printed lines alone
        child = tmp_path / "child.py"
        child.write_text(ANTHROPIC_CHILD, encoding="utf-8")
        import subprocess

        clean = {k: v for k, v in os.environ.items() if k not in exports}
        tool = subprocess.run(
            [sys.executable, str(child)], env={**clean, **exports}, capture_output=True, text=True, timeout=60
        )
        run.proc.send_signal(signal.SIGINT)
        result = finished(run)
    assert tool.returncode == 0, tool.stderr
    assert json.loads(tool.stdout)["text"] == "Via proxy."
    assert exports["HTTPS_PROXY"].startswith("http://127.0.0.1:") and exports["NO_PROXY"] == "localhost,127.0.0.1,::1"
    assert result.returncode == 0 and result.leftovers == []
    assert "requests 1, no errors" in result.stderr
    assert result.group("api.anthropic.com/v1/messages")["output_tokens"] == 4
