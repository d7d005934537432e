"""Whole bodies over every pair of registered formats, judged by the SDKs on both sides:
responses, errors, and requests (any valid conversation in one format becomes a request the other
provider accepts, and comes back with its tool calls and results in order)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from crosswire import Options, RequestRejected, convert_error, convert_request, convert_response, error_body
from crosswire.formats import FORMATS
from formats_support import ADAPTERS, TOOL_NAME, Answer, Conversation, project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PAIRS = [pytest.param(s, t, id=f"{s}->{t}") for s in FORMATS.names for t in FORMATS.names]
KINDS = [
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
]
NO_SETUP = [HealthCheck.function_scoped_fixture]

TEXT = st.text(alphabet='abc <>&"\n', min_size=1, max_size=6)
ident = st.from_regex(r"[A-Za-z0-9]{6,12}", fullmatch=True)


# --- responses ---------------------------------------------------------------------------------


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    parts: list[tuple[Any, ...]] = []
    if draw(st.booleans()):
        parts.append(("text", [draw(TEXT)]))
    for _ in range(draw(st.integers(0 if parts else 1, 3))):
        parts.append(("tool", "call_" + draw(ident), TOOL_NAME, [json.dumps({"city": draw(TEXT)})]))
    stop = "tool_use" if len(parts) > 1 or parts[0][0] == "tool" else draw(st.sampled_from(["end_turn", "max_tokens"]))
    usage = draw(st.fixed_dictionaries({k: st.integers(0, 10**5) for k in ("input", "cache", "output")}))
    return Answer(id=draw(ident), parts=parts, usage=usage, stop=stop)


@pytest.mark.parametrize(("source", "target"), PAIRS)
@settings(max_examples=15, deadline=None, suppress_health_check=NO_SETUP)
@given(a=answers())
def test_response_reaches_every_format(source: str, target: str, a: Answer) -> None:
    body = ADAPTERS[source].render_body(a)
    expected = ADAPTERS[source].body_view(body)
    out = convert_response(source, target, body, Options(created=1_700_000_000))
    assert out.status == 200, out.body
    got = ADAPTERS[target].body_view(out.body)
    assert project(got, target) == project(project(expected, source), target)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_error_reaches_every_format(source: str, target: str, kind: str) -> None:
    src, dst = ADAPTERS[source], ADAPTERS[target]
    body, status = src.render_error(kind, f"the upstream says {kind}")
    seen = src.error_seen(body, status)
    meant = src.expressible(kind)  # what the source's own vocabulary can say
    assert (seen.status, seen.kind) == (status, meant), "the source judge must read the rendered error as meant"
    out = convert_error(source, target, body, status, Options())
    got = dst.error_seen(out.body, out.status)
    assert got.status == out.status == dst.client_status(status)
    assert f"the upstream says {kind}" in got.message
    assert got.kind == dst.expressible(meant)


# --- requests ----------------------------------------------------------------------------------

IMAGE = "https://example.com/a.png"


@st.composite
def conversations(draw: st.DrawFn) -> Conversation:
    """A valid conversation: it opens with the user, every call is answered in the next turn, and
    it ends with a user turn (the one the request asks the model to answer)."""
    turns: list[tuple[Any, ...]] = [("user", [("text", draw(TEXT))])]
    counter = 0
    for _ in range(draw(st.integers(0, 3))):
        calls = [(f"call_{counter + i}", TOOL_NAME, {"city": draw(TEXT)}) for i in range(draw(st.integers(0, 3)))]
        counter += len(calls)
        text = draw(TEXT) if draw(st.booleans()) or not calls else ""
        turns.append(("assistant", text, calls))
        if calls:
            turns.append(("results", [(i, draw(TEXT)) for i, _, _ in calls], draw(TEXT) if draw(st.booleans()) else ""))
        if not calls or draw(st.booleans()):
            user: list[tuple[str, str]] = [("text", draw(TEXT))]
            if draw(st.booleans()):
                user.append(("image", IMAGE))
            if turns[-1][0] == "results":
                turns.append(("assistant", draw(TEXT), []))
            turns.append(("user", user))
    system = draw(st.lists(TEXT, max_size=2))
    return Conversation(system=system, turns=turns, stream=draw(st.booleans()))


@pytest.mark.parametrize(("source", "target"), PAIRS)
@settings(max_examples=20, deadline=None, suppress_health_check=NO_SETUP)
@given(conv=conversations())
def test_request_becomes_a_valid_request_of_every_format(source: str, target: str, conv: Conversation) -> None:
    src, dst = ADAPTERS[source], ADAPTERS[target]
    body = src.render_request(conv)
    src.check_request(body)  # the generator writes requests the source provider accepts
    out = convert_request(source, target, body, Options(), path=src.request_path(conv.stream))
    dst.check_request(out.body)
    assert [kind for kind, _ in dst.trace(out.body)] == [kind for kind, _ in src.trace(body)]
    back = convert_request(target, source, out.body, Options(), path=dst.request_path(out.stream))
    src.check_request(back.body)
    assert src.trace(back.body) == src.trace(body)


RICH = Conversation(
    system=["Be brief."],
    turns=[
        ("user", [("text", "Weather in Paris?"), ("image", IMAGE)]),
        (
            "assistant",
            "Let me check.",
            [("call_1", TOOL_NAME, {"city": "Paris"}), ("call_2", TOOL_NAME, {"city": "Rome"})],
        ),
        ("results", [("call_1", "sunny"), ("call_2", "rain")], "And tomorrow?"),
    ],
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


@pytest.mark.parametrize(("source", "target"), PAIRS)
@settings(max_examples=40, deadline=None, suppress_health_check=[*NO_SETUP, HealthCheck.too_slow])
@given(data=st.data(), replacement=JSON)
def test_any_mutation_is_converted_or_rejected(source: str, target: str, data: st.DataObject, replacement: Any) -> None:
    body = copy.deepcopy(ADAPTERS[source].render_request(RICH))  # renderers share constants (the tool schema)
    path = data.draw(st.sampled_from(_paths(body)[1:]))
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    try:
        convert_request(source, target, body, Options(), path=ADAPTERS[source].request_path(False))
    except RequestRejected as exc:
        assert exc.message
        assert not exc.message.startswith("crosswire could not convert"), "an internal error, not a clear rejection"


@pytest.mark.parametrize("source", FORMATS.names)
def test_the_rich_request_is_valid_everywhere(source: str) -> None:
    body = ADAPTERS[source].render_request(RICH)
    ADAPTERS[source].check_request(body)
    for target in FORMATS.names:
        out = convert_request(source, target, body, Options(), path=ADAPTERS[source].request_path(False))
        ADAPTERS[target].check_request(out.body)


@pytest.mark.parametrize("target", FORMATS.names)
def test_a_rejected_request_is_answered_in_the_clients_format(target: str) -> None:
    out = error_body(target, "invalid_request_error", "messages[0].role: bad", "messages[0].role")
    seen = ADAPTERS[target].error_seen(out.body, out.status)
    assert (seen.status, seen.kind) == (400, "invalid_request_error") and "messages[0].role: bad" in seen.message


HTML_502 = b"""<html>
<head><title>502 Bad Gateway</title><style>body { color: red }</style></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body>
</html>"""


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_a_gateway_page_becomes_a_well_formed_error(source: str, target: str) -> None:
    out = convert_error(source, target, HTML_502, 502, Options())
    seen = ADAPTERS[target].error_seen(out.body, out.status)
    assert seen.status == 502 and "502 Bad Gateway 502 Bad Gateway nginx/1.25.3" in seen.message
    assert "color" not in seen.message and "<" not in seen.message


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"[1, 2]", b"{}", b'{"id": 3}'])
@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_an_unreadable_response_becomes_a_502_in_the_clients_format(source: str, target: str, body: bytes) -> None:
    out = convert_response(source, target, body, Options())
    seen = ADAPTERS[target].error_seen(out.body, out.status)
    assert out.status == seen.status == 502 and f"upstream {source} response" in seen.message
