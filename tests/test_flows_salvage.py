"""Recordings that are cut off, damaged, old, HAR, or hold other traffic: ``crosswire flows convert --to``
converts every flow that can be read, copies the rest, and says exactly what it skipped and why.

mitmproxy's own reader (what ``mitmdump -nr`` uses) is the reference for what a cut-off file still
holds: every flow before the cut. Where it gives up (a damaged flow in the middle, a HAR cut short)
crosswire reads on.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from bodies_judge import openai_parses
from canned import anthropic_message, anthropic_stream
from conftest import ROOT
from crosswire import cli
from crosswire.flowfile import Recording
from formats_support import project
from llm_flows import ANTHROPIC_REQUEST, CLIENT_KEY, T0, anthropic_calls, chat_calls, llm_flow, read, write
from mitmproxy import exceptions, io
from mitmproxy.io import tnetstring
from mitmproxy.test import tflow
from plain_recording import har, har_entry, sdk_view
from stream_judges import openai_chunks


def convert(capsys: pytest.CaptureFixture[str], src: Path, dst: Path, *args: str) -> tuple[int, str]:
    code = cli.main(["flows", "convert", str(src), str(dst), *args])
    return code, capsys.readouterr().err


def six_calls() -> list[Any]:
    return anthropic_calls() + [llm_flow("anthropic", ANTHROPIC_REQUEST, anthropic_message(f"n{i}")) for i in (5, 6)]


def flow_offsets(path: Path) -> list[int]:
    """Where each flow of a file starts, and the end: walked with mitmproxy's own tnetstring reader."""
    offsets = []
    with open(path, "rb") as f:
        while f.tell() < path.stat().st_size:
            offsets.append(f.tell())
            tnetstring.load(f)
        offsets.append(f.tell())
    return offsets


def mitmproxy_salvage(path: Path) -> int:
    """How many flows mitmproxy's reader yields before it gives up (what ``mitmdump -nr`` converts)."""
    count = 0
    with open(path, "rb") as f:
        try:
            for _ in io.FlowReader(f).stream():
                count += 1
        except (exceptions.FlowReadException, AttributeError):  # 11 raises AttributeError for a non-dict item
            pass
    return count


def assert_converted_to_chat(flow: Any) -> None:
    assert flow.request.path == "/v1/chat/completions"
    assert flow.metadata["crosswire"]["upstream_format"] == "anthropic"


# --- flow files cut off or damaged ------------------------------------------------------------------


@pytest.mark.parametrize("where", [0.03, 0.2, 0.35, 0.5, 0.64, 0.8, 0.99])
def test_a_file_cut_anywhere_converts_every_complete_flow(
    where: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = write(tmp_path / "whole.flow", six_calls())
    offsets = flow_offsets(whole)
    cut = int(offsets[-1] * where)
    data = whole.read_bytes()[:cut]
    src = tmp_path / "cut.flow"
    src.write_bytes(data)
    complete = sum(1 for end in offsets[1:] if end <= cut)
    assert mitmproxy_salvage(src) == complete  # the reference

    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 1, err
    assert f"crosswire: {complete} flow{'s' if complete != 1 else ''}: {complete} converted" in err
    start = offsets[complete]
    missing = offsets[complete + 1] - cut
    assert (
        f"unreadable: bytes {start}-{cut}: the file ends inside flow {complete + 1} "
        f"({missing} bytes of it are missing: cut off?)"
    ) in err
    out = read(tmp_path / "out.flow")
    assert len(out) == complete
    for flow in out:
        assert_converted_to_chat(flow)


def test_a_file_cut_between_flows_is_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = write(tmp_path / "whole.flow", six_calls())
    src = tmp_path / "three.flow"
    src.write_bytes(whole.read_bytes()[: flow_offsets(whole)[3]])
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 0
    assert err.startswith("crosswire: 3 flows: 3 converted, 0 skipped, 0 failed\n") and "unreadable" not in err


def _damage(path: Path, flow: int, edit: Any) -> Path:
    data = bytearray(path.read_bytes())
    start, end = flow_offsets(path)[flow - 1 : flow + 1]
    data[start:end] = edit(bytes(data[start:end]))
    out = path.with_name("damaged.flow")
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda item: b"x" + item[1:], "not the start of a flow"),  # the length prefix
        (lambda item: item[:-1] + b"]", "not the start of a flow"),  # the closing tag
        (lambda item: item[: len(item) // 2] + b"\x00" * 40 + item[len(item) // 2 + 40 :], None),  # inside: any
        (lambda item: item.replace(b"4:type;4:http;", b"4:type;4:nope;"), "flow 3 could not be read"),
        (lambda item: item.replace(b"7:version;2:21#", b"7:version;2:99#"), "please update mitmproxy"),
    ],
    ids=["length-prefix", "closing-tag", "zeroed-middle", "unknown-type", "newer-version"],
)
def test_a_damaged_flow_in_the_middle_is_skipped_and_the_rest_converted(
    edit: Any, reason: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _damage(write(tmp_path / "whole.flow", six_calls()), 3, edit)
    assert mitmproxy_salvage(src) == 2  # mitmproxy's reader stops at the damaged flow
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 1
    assert "crosswire: 5 flows: 5 converted, 0 skipped, 0 failed, 1 unreadable" in err
    if reason:
        assert reason in err
    out = read(tmp_path / "out.flow")
    assert len(out) == 5
    originals = six_calls()
    assert [f.response.status_code for f in out] == [f.response.status_code for i, f in enumerate(originals) if i != 2]


def test_garbage_between_and_before_flows_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = write(tmp_path / "whole.flow", six_calls())
    data = whole.read_bytes()
    middle = flow_offsets(whole)[2]
    src = tmp_path / "garbage.flow"
    head, junk = b"PK\x03\x04 12: not flows", b"\n\n99999999:junk"
    src.write_bytes(head + data[:middle] + junk + data[middle:])
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 1
    assert "crosswire: 6 flows: 6 converted, 0 skipped, 0 failed, 2 unreadable" in err
    assert f"unreadable: bytes 0-{len(head)}: not the start of a flow" in err
    junk_at = len(head) + middle
    assert f"unreadable: bytes {junk_at}-{junk_at + len(junk)}: not the start of a flow" in err


def test_an_old_flow_format_version_is_upgraded_as_mitmproxy_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = anthropic_calls()[0].get_state()
    state["version"] = 19  # mitmproxy 9: connections still had a "state"
    state["client_conn"]["state"] = 0
    state["server_conn"]["state"] = 0
    src = tmp_path / "old.flow"
    src.write_bytes(tnetstring.dumps(state))
    assert mitmproxy_salvage(src) == 1
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 0, err
    assert_converted_to_chat(read(tmp_path / "out.flow")[0])


@pytest.mark.parametrize("content", [b"these are not flows\n", b"{not json at all", b'{"log": {"pages": []}}'])
def test_a_file_that_is_no_recording_exits_2_and_writes_nothing(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes(content)
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 2
    assert "crosswire: error: " in err and ("not a mitmproxy flow file or a HAR file" in err or "HAR" in err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_empty_file_has_no_flows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "empty.flow"
    src.write_bytes(b"")
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 0
    assert err == "crosswire: 0 flows: 0 converted, 0 skipped, 0 failed\n"


# --- HAR --------------------------------------------------------------------------------------------


def test_a_har_cut_inside_an_entry_converts_the_entries_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = har([har_entry(f) for f in six_calls()])
    keys = [i for i in range(len(data)) if data.startswith(b'"_initiator"', i)]
    positions = [data.rindex(b"{", 0, i) for i in keys]  # where each entry starts
    cut = positions[3] + 200  # inside the fourth entry
    src = tmp_path / "cut.har"
    src.write_bytes(data[:cut])
    with open(src, "rb") as f, pytest.raises(exceptions.FlowReadException):
        list(io.FlowReader(f).stream())  # mitmproxy reads a HAR whole, or nothing of it
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 1
    assert "crosswire: 3 flows: 3 converted, 0 skipped, 0 failed, 1 unreadable" in err
    assert f"unreadable: bytes {positions[3]}-{cut}: the file ends inside a HAR entry (cut off?)" in err


def test_har_entries_that_cannot_be_read_are_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = [har_entry(f) for f in six_calls()]
    del entries[1]["startedDateTime"]
    entries[4]["response"]["status"] = 0  # what a browser saves for a request that got no answer
    entries[4]["response"]["_error"] = "net::ERR_CONNECTION_REFUSED"
    data = har(entries)
    # one entry that is not JSON: a bare word where a value goes (its brackets still match)
    third = [i for i in range(len(data)) if data.startswith(b'"_priority": "High"', i)][2]
    data = data[:third] + b'"_priority": High' + data[third + len(b'"_priority": "High"') :]
    src = tmp_path / "bad.har"
    src.write_bytes(b"\xef\xbb\xbf\n  " + data)  # a BOM and whitespace, as Fiddler and editors leave them
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 1
    assert "crosswire: 4 flows: 3 converted, 1 skipped, 0 failed, 2 unreadable" in err
    assert "HAR entry 2 could not be read: missing 'startedDateTime'" in err
    assert "HAR entry 3 could not be read: " in err
    assert "skipped 1: no response" in err


def test_har_page_titles_and_strings_do_not_confuse_the_scanner(tmp_path: Path) -> None:
    flows = chat_calls()
    entry = har_entry(flows[0])
    entry["request"]["postData"]["text"] = json.dumps(
        {**json.loads(entry["request"]["postData"]["text"]), "user": '"entries": [{'}
    )
    src = tmp_path / "tricky.har"
    src.write_bytes(har([entry]))
    (flow,) = Recording(src).flows()
    assert json.loads(flow.request.content)["user"] == '"entries": [{'


def test_har_entries_are_read_one_at_a_time(tmp_path: Path) -> None:
    """Each entry is parsed alone: the reader's buffer never holds the whole file."""
    src = tmp_path / "many.har"
    src.write_bytes(har([har_entry(f) for f in six_calls() * 40]))
    recording = Recording(src)
    assert recording.count() == 240
    positions = []
    for _ in recording.flows():
        positions.append(recording.position)
    assert len(positions) == 240 and positions == sorted(positions) and positions[0] < src.stat().st_size / 100


# --- what is converted, what is copied ----------------------------------------------------------------


def test_other_traffic_is_copied_unchanged_and_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tflow.tflow(resp=True)  # GET http://address:22/path
    tcp = tflow.ttcpflow()
    count = llm_flow("anthropic", ANTHROPIC_REQUEST, {"input_tokens": 12})
    count.request.path = "/v1/messages/count_tokens"
    unanswered = llm_flow("anthropic", ANTHROPIC_REQUEST, b"")
    unanswered.response = None
    flows = [page, tcp, count, unanswered, *chat_calls()]
    src = write(tmp_path / "mixed.flow", flows)
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 0, err
    assert "crosswire: 5 flows: 0 converted, 5 skipped, 0 failed" in err
    assert "skipped 2: not an LLM API call" in err
    assert "skipped 1: not an HTTP flow (tcp)" in err
    assert "skipped 1: no response" in err
    assert "skipped 1: already openai-chat" in err
    assert [f.get_state() for f in read(tmp_path / "out.flow")] == [f.get_state() for f in flows]


def test_from_forces_the_format_of_a_gateway_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://gateway.example.test/api/generate"
    whole = llm_flow("anthropic", ANTHROPIC_REQUEST, anthropic_message("Sunny."), url=url)
    error = llm_flow(
        "anthropic",
        ANTHROPIC_REQUEST,
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
        status=529,
        url=url,
    )
    src = write(tmp_path / "gateway.flow", [whole, error])
    code, err = convert(capsys, src, tmp_path / "told.flow", "--to", "openai-chat")
    assert "converted 1: anthropic -> openai-chat" in err and "skipped 1: not an LLM API call" in err  # by the answer
    code, err = convert(capsys, src, tmp_path / "forced.flow", "--to", "openai-chat", "--from", "anthropic")
    assert code == 0 and "converted 2: anthropic -> openai-chat" in err
    converted = read(tmp_path / "forced.flow")
    assert [f.request.url for f in converted] == ["https://gateway.example.test/api/generate"] * 0 + [
        "https://gateway.example.test/v1/chat/completions"
    ] * 2
    status, view = sdk_view(
        "openai-chat", converted[1].response.status_code, "application/json", converted[1].response.content
    )
    assert status == 503 and view.error == "busy"  # 529 has no OpenAI equivalent: 503, as documented


def test_model_map_names_the_models_on_both_sides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "in.flow", anthropic_calls()[:3])
    code, err = convert(
        capsys, src, tmp_path / "out.flow", "--to", "openai-chat", "--model", "claude-sonnet-4-5=gpt-4o"
    )
    assert code == 0, err
    for flow in read(tmp_path / "out.flow"):
        assert json.loads(flow.request.content)["model"] == "gpt-4o"
        if flow.response.headers["content-type"] == "text/event-stream":  # what the SDK reads
            models = {chunk.model for chunk in openai_chunks(flow.response.content)}
        else:
            models = {openai_parses(json.loads(flow.response.content)).model}
        assert models == {"gpt-4o"}
    code, err = convert(capsys, src, tmp_path / "all.flow", "--to", "openai-chat", "--model", "gpt-4.1")
    assert {json.loads(f.request.content)["model"] for f in read(tmp_path / "all.flow")} == {"gpt-4.1"}


def test_official_hosts_become_the_target_providers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    official = llm_flow(
        "anthropic", ANTHROPIC_REQUEST, anthropic_message("Hi."), url="https://api.anthropic.com/v1/messages?beta=true"
    )
    local = llm_flow(
        "anthropic", ANTHROPIC_REQUEST, anthropic_message("Hi."), url="http://127.0.0.1:8000/proxy/v1/messages"
    )
    src = write(tmp_path / "in.flow", [official, local])
    convert(capsys, src, tmp_path / "chat.flow", "--to", "openai-chat")
    convert(capsys, src, tmp_path / "anthropic.flow", "--to", "anthropic")  # identity: untouched
    chat = read(tmp_path / "chat.flow")
    assert [f.request.url for f in chat] == [
        "https://api.openai.com/v1/chat/completions",
        "http://127.0.0.1:8000/proxy/v1/chat/completions",
    ]
    assert chat[0].request.headers["host"] == "api.openai.com"
    assert chat[0].metadata["crosswire"]["upstream_request"]["url"] == "https://api.anthropic.com/v1/messages?beta=true"


def test_credentials_are_nowhere_in_a_converted_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = llm_flow(
        "anthropic",
        {**ANTHROPIC_REQUEST, "stream": True},
        anthropic_stream(["Hi."]),
        url="https://gw.example.test/v1/messages?key=QUERY-SECRET&x=1",
        request_headers={"authorization": "Bearer BEARER-SECRET", "cookie": "session=COOKIE-SECRET"},
    )
    src = write(tmp_path / "in.flow", [flow])
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-responses")
    assert code == 0, err
    data = (tmp_path / "out.flow").read_bytes()
    for secret in (CLIENT_KEY, "QUERY-SECRET", "BEARER-SECRET", "COOKIE-SECRET"):
        assert secret.encode() not in data
    (out,) = read(tmp_path / "out.flow")
    assert out.metadata["crosswire"]["upstream_request"]["url"].endswith(
        "?key=%5Bredacted+by+crosswire%3A+client+credential%5D&x=1"
    )


def test_a_compressed_answer_is_converted_and_kept_decoded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stream = anthropic_stream(["Zipped", " answer."])
    flow = llm_flow(
        "anthropic", {**ANTHROPIC_REQUEST, "stream": True}, stream, response_headers={"content-encoding": "gzip"}
    )
    flow.response.raw_content = gzip.compress(stream)
    src = write(tmp_path / "in.flow", [flow])
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "openai-chat")
    assert code == 0, err
    (out,) = read(tmp_path / "out.flow")
    assert "content-encoding" not in out.response.headers
    _, view = sdk_view("openai-chat", 200, "text/event-stream", out.response.raw_content)
    assert view.parts == [("text", "Zipped answer.")]
    upstream = out.metadata["crosswire"]["upstream_response"]
    assert upstream["body"] == stream and upstream["content_encoding"] == "gzip"


def test_a_request_the_target_cannot_express_fails_and_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a stored prompt template only OpenAI can resolve (a hosted tool would be dropped, not fail)
    request = {"model": "gpt-5", "input": "news?", "prompt": {"id": "pmpt_1"}}
    flow = llm_flow("openai-responses", request, {"id": "resp_1", "object": "response", "output": []})
    src = write(tmp_path / "in.flow", [flow])
    code, err = convert(capsys, src, tmp_path / "out.flow", "--to", "anthropic")
    assert code == 1
    assert (
        "failed: flow 1 (POST https://api.example.test/v1/responses): the request cannot be made in anthropic:" in err
    )
    assert "prompt template" in err
    assert read(tmp_path / "out.flow")[0].get_state() == flow.get_state()


@pytest.mark.parametrize("name", ["tool_call", "thinking", "rate_limited"])
def test_a_crosswire_recording_is_converted_from_its_provider_side(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """flows/ holds openai-chat clients answered by an anthropic provider: --to openai-responses converts
    the provider's own answer (not the openai-chat one made from it) and keeps the old client side."""
    (recorded,) = read(ROOT / "flows" / f"{name}.flow")
    code, err = convert(capsys, ROOT / "flows" / f"{name}.flow", tmp_path / "out.flow", "--to", "openai-responses")
    assert code == 0, err
    assert "converted 1: anthropic -> openai-responses" in err
    (out,) = read(tmp_path / "out.flow")
    md = out.metadata["crosswire"]
    up = md["upstream_response"]
    content_type = dict((k.lower(), v) for k, v in up["headers"])["content-type"]
    src_status, src_view = sdk_view("anthropic", up["status_code"], content_type, up["body"])
    status, view = sdk_view(
        "openai-responses", out.response.status_code, out.response.headers["content-type"], out.response.content
    )
    assert status == src_status
    assert project(view, "openai-responses") == project(src_view, "openai-responses")
    assert out.request.path == "/v1/responses"
    assert md["previous_client"]["format"] == "openai-chat"
    assert md["previous_client"]["response"]["body"] == recorded.response.raw_content
    assert md["previous_client"]["request"]["body"] == recorded.request.raw_content


def test_timestamps_make_the_conversion_deterministic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write(tmp_path / "in.flow", anthropic_calls())
    convert(capsys, src, tmp_path / "a.flow", "--to", "openai-chat")
    convert(capsys, src, tmp_path / "b.flow", "--to", "openai-chat")
    assert (tmp_path / "a.flow").read_bytes() == (tmp_path / "b.flow").read_bytes()
    first = read(tmp_path / "a.flow")[0].response.content.decode().splitlines()[0]
    assert orjson.loads(first[6:])["created"] == int(T0 + 0.26)


def test_a_crosswire_recording_asked_for_in_its_providers_format_is_the_providers_exchange(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (recorded,) = read(ROOT / "flows" / "tool_call.flow")
    upstream = recorded.metadata["crosswire"]
    code, err = convert(capsys, ROOT / "flows" / "tool_call.flow", tmp_path / "out.flow", "--to", "anthropic")
    assert code == 0, err
    assert "converted 1: anthropic -> anthropic" in err
    (out,) = read(tmp_path / "out.flow")
    assert out.request.url == upstream["upstream_request"]["url"] and out.request.path == "/v1/messages"
    assert out.request.raw_content == upstream["upstream_request"]["body"]
    assert out.response.raw_content == upstream["upstream_response"]["body"]
    status, view = sdk_view(
        "anthropic", out.response.status_code, out.response.headers["content-type"], out.response.content
    )
    assert status == 200 and view.calls and view.calls[0][1] == "get_weather"
    assert out.metadata["crosswire"]["previous_client"]["response"]["body"] == recorded.response.raw_content
    assert "sk-" not in repr(out.get_state())  # the route's key stays redacted
