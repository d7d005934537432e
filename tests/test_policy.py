"""The pure pieces of the security model: header allow-list, query credentials, redaction of the
key (whole values, streams cut anywhere, logs at any level), the recording record, framing."""

from __future__ import annotations

import logging

import pytest
from crosswire import logs, policy, record
from crosswire.convert import StreamConverter
from crosswire.events import Block, Message, MessageBuilder, replay
from crosswire.formats import FORMATS
from crosswire.options import Options
from crosswire.sse import SSEDecoder

KEY = "sk-ant-UPSTREAM-SECRET-0123456789"
MARK = "[redacted by crosswire: $ANTHROPIC_API_KEY]"
REDACTOR = policy.Redactor({KEY: "$ANTHROPIC_API_KEY"})

CLIENT = [
    ("Content-Type", "application/json"),
    ("Accept", "text/event-stream"),
    ("User-Agent", "tool/1"),
    ("Authorization", "Bearer sk-client"),
    ("x-api-key", "sk-client"),
    ("api-key", "azure"),
    ("x-goog-api-key", "goog"),
    ("Cookie", "s=1"),
    ("Proxy-Authorization", "Basic eA=="),
    ("anthropic-beta", "b1"),
    ("anthropic-version", "2023-06-01"),
    ("OpenAI-Organization", "org"),
    ("x-stainless-os", "Linux"),
    ("X-Claude-Code-Session-Id", "s"),
    ("x-codex-turn-metadata", "/home/u/work"),
    ("x-trace-id", "t1"),
]


def names(pairs: list[tuple[str, str]]) -> list[str]:
    return [name.lower() for name, _ in pairs]


def test_a_converting_route_forwards_only_the_allow_list_and_its_own_headers() -> None:
    allowed, prefixes = policy.forward_rule(())
    out = policy.upstream_headers(CLIENT, allowed, prefixes, {"anthropic-version": "2023-06-01"})
    assert names(out) == ["content-type", "accept", "user-agent", "anthropic-version"]


def test_a_same_format_upstream_gets_the_headers_its_api_needs() -> None:
    anthropic = FORMATS.get("anthropic").forward_headers
    allowed, prefixes = policy.forward_rule((), anthropic)
    out = policy.upstream_headers(CLIENT, allowed, prefixes, {})
    assert names(out) == ["content-type", "accept", "user-agent", "anthropic-beta", "anthropic-version"]


def test_a_route_extends_the_list_but_never_with_a_credential() -> None:
    allowed, prefixes = policy.forward_rule(("x-trace-id", "x-*", "openai-organization"))
    out = policy.upstream_headers(CLIENT, allowed, prefixes, {})
    assert "x-trace-id" in names(out) and "x-stainless-os" in names(out) and "openai-organization" in names(out)
    for credential in ("x-api-key", "x-goog-api-key", "authorization", "api-key", "cookie", "proxy-authorization"):
        assert credential not in names(out)


@pytest.mark.parametrize(
    ("query", "stripped"),
    [
        ("", ""),
        ("beta=true", "beta=true"),
        ("key=AIza&beta=true", "beta=true"),
        ("api_key=1&api-key=2&apikey=3&access_token=4&x-api-key=5&api-version=2024", "api-version=2024"),
        ("KEY=1&Key=2&a=%2F", "a=%2F"),
        ("%6Bey=encoded&b", "b"),  # %6B is "k"
    ],
)
def test_credentials_leave_the_query(query: str, stripped: str) -> None:
    assert policy.strip_query(query) == stripped


def test_credentials_in_a_recorded_query_are_redacted() -> None:
    out = policy.redact_query("key=AIza-secret&beta=true")
    assert "AIza-secret" not in out and out.startswith("key=%5Bredacted+by+crosswire") and out.endswith("&beta=true")


def test_client_credentials_are_redacted_in_the_client_view() -> None:
    view = dict(policy.client_view_headers(CLIENT))
    assert view["Authorization"] == view["x-api-key"] == "[redacted by crosswire: client credential]"
    assert view["User-Agent"] == "tool/1"


def test_the_redactor_replaces_the_key_in_text_bytes_and_headers() -> None:
    assert REDACTOR.text(f"a {KEY} b {KEY}") == f"a {MARK} b {MARK}"
    assert REDACTOR.bytes(KEY.encode()) == MARK.encode()
    assert REDACTOR.headers([("x-echo", KEY)]) == [("x-echo", MARK)]
    assert not policy.Redactor({"": "$EMPTY"}) and REDACTOR


def test_a_stream_redactor_catches_a_key_cut_at_every_offset() -> None:
    data = f'data: {{"text":"the key is {KEY} ok"}}\n\n'.encode() * 2
    for cut in range(len(data) + 1):
        for cut2 in (cut, min(cut + 7, len(data))):
            red = policy.StreamRedactor(KEY, "$ANTHROPIC_API_KEY")
            out = red.feed(data[:cut]) + red.feed(data[cut:cut2]) + red.feed(data[cut2:]) + red.close()
            assert out == data.replace(KEY.encode(), MARK.encode()), cut


def test_a_stream_redactor_holds_back_only_what_could_start_the_key() -> None:
    red = policy.StreamRedactor(KEY, "$A")
    assert red.feed(b"hello sk-an") == b"hello "
    assert red.feed(b"other") == b"sk-another"
    assert red.feed(b"text\n\n") == b"text\n\n"


def test_every_log_record_is_redacted_whoever_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    logs.install(REDACTOR)
    try:
        caplog.set_level(logging.DEBUG)
        other = logging.getLogger("mitmproxy.proxy.server")
        other.debug("SendData(server, b'...x-api-key: %s\\r\\n')", KEY)
        other.info("cut short: x-api-key: %s…", KEY[:20])
        try:
            raise ValueError(f"bad header {KEY}")
        except ValueError:
            logging.getLogger("crosswire").exception("with a traceback")
    finally:
        logs.uninstall()
    text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert KEY not in text and KEY[:20] not in text and MARK in text
    assert "ValueError: bad header [redacted" in caplog.text
    assert logging.getLogRecordFactory() is logging.LogRecord


def test_uninstall_finds_the_factory_under_another() -> None:
    logs.install(REDACTOR)
    ours = logging.getLogRecordFactory()

    class Outer:
        def __init__(self, previous: object) -> None:
            self.previous = previous

        def __call__(self, *a: object, **k: object) -> logging.LogRecord:
            return self.previous(*a, **k)  # type: ignore[operator, no-any-return]

    outer = Outer(ours)
    logging.setLogRecordFactory(outer)  # type: ignore[arg-type]
    logs.uninstall()
    assert outer.previous is logging.LogRecord
    logging.setLogRecordFactory(logging.LogRecord)


def test_the_record_redacts_every_view() -> None:
    req = record.request_view(REDACTOR, "POST", f"https://h/v1?k={KEY}", "HTTP/1.1", [("x-api-key", KEY)], KEY.encode())
    resp = record.response_view(REDACTOR, 200, "OK", "HTTP/1.1", [("x-echo", KEY)], KEY.encode(), False, KEY.encode())
    assert KEY not in repr(req) and KEY not in repr(resp) and MARK in req["url"]


@pytest.mark.parametrize(
    ("version", "sets", "removes"),
    [
        ("HTTP/1.1", {"transfer-encoding": "chunked"}, "content-length"),
        ("HTTP/1.0", {"connection": "close"}, "transfer-encoding"),
        ("HTTP/2.0", {}, "transfer-encoding"),
        ("HTTP/3", {}, "connection"),
    ],
)
def test_framing_follows_the_client(version: str, sets: dict[str, str], removes: str) -> None:
    set_, remove = policy.client_framing(version)
    assert set_ == sets and removes in remove and "content-length" in remove


# --- keep-alives and replayed messages: every format --------------------------------------------


@pytest.mark.parametrize("source", FORMATS.names)
@pytest.mark.parametrize("target", FORMATS.names)
def test_an_upstream_comment_is_the_clients_keep_alive(source: str, target: str) -> None:
    conv = StreamConverter(source, target)
    out = conv.feed(b": keep-alive\n\n") + conv.feed(b":\n\n")
    if target == "gemini":  # the google-genai SDKs parse every non-data line as JSON: none is written
        assert out == b"" and not conv.errored
        return
    events = SSEDecoder().feed(out)
    assert out and out.count(b"\n\n") == 2
    if target == "anthropic":
        assert [e.event for e in events] == ["ping", "ping"]
    else:
        assert events == [] and out == b": ping\n\n" * 2  # comments: every client ignores them


def test_no_keep_alive_after_the_end() -> None:
    conv = StreamConverter("anthropic", "openai-chat")
    conv.feed(b'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"x"}}\n\n')
    assert conv.feed(b": ping\n\n") == b""


MESSAGE = Message(
    id="msg_1",
    model="m",
    content=[
        Block("thinking", text="hmm", signature="sig"),
        Block("text", text="Hello"),
        Block("tool_use", id="toolu_1", name="f", input={"a": [1, 2]}),
    ],
    stop_reason="tool_use",
    usage={"input_tokens": 3, "output_tokens": 5},
)


def test_a_replayed_message_assembles_back_to_itself() -> None:
    builder = MessageBuilder()
    replay(MESSAGE, builder)
    assert builder.message == MESSAGE


@pytest.mark.parametrize("target", FORMATS.names)
def test_a_replayed_message_reads_back_in_every_format(target: str) -> None:
    fmt = FORMATS.get(target)
    writer = fmt.stream_writer(Options(created=1))
    replay(MESSAGE, writer)
    builder = MessageBuilder()
    reader = fmt.stream_reader(builder, lambda m: None)
    for sse in SSEDecoder().feed(b"".join(writer.out)):
        reader.event(sse.event, sse.data)
    message = builder.message
    texts = [b.text for b in message.content if b.kind == "text"]
    calls = [b for b in message.content if b.kind == "tool_use"]
    assert texts == ["Hello"] and calls[0].input == {"a": [1, 2]} and message.stop_reason == "tool_use"
