"""Error responses anthropic <-> openai-chat: the converted body and status make the target SDK
raise its matching exception class, carrying the original message."""

from __future__ import annotations

import json
from pathlib import Path

import anthropic
import openai
import pytest
from bodies_judge import anthropic_parses, openai_parses
from conftest import wire_params
from crosswire import Options, convert_error, error_body

# canonical type, anthropic status, status an openai client sees, openai SDK class, anthropic SDK class
TABLE = [
    ("invalid_request_error", 400, 400, openai.BadRequestError, anthropic.BadRequestError),
    ("authentication_error", 401, 401, openai.AuthenticationError, anthropic.AuthenticationError),
    ("permission_error", 403, 403, openai.PermissionDeniedError, anthropic.PermissionDeniedError),
    ("not_found_error", 404, 404, openai.NotFoundError, anthropic.NotFoundError),
    ("request_too_large", 413, 413, openai.APIStatusError, anthropic.RequestTooLargeError),
    ("rate_limit_error", 429, 429, openai.RateLimitError, anthropic.RateLimitError),
    ("api_error", 500, 500, openai.InternalServerError, anthropic.InternalServerError),
    ("overloaded_error", 529, 503, openai.InternalServerError, anthropic.OverloadedError),
]
# Statuses of the corpus bodies, from wire/SOURCES.md.
CORPUS_STATUS = {
    "anthropic_error_invalid_request.json": 400,
    "anthropic_error_rate_limit.json": 429,
    "anthropic_error_overloaded.json": 529,
    "anthropic_error_overloaded_docs.json": 529,
    "openai_error_invalid_request.json": 400,
    "openai_error_rate_limit.json": 429,
}
OPENAI_STATUS_CLASS = {400: openai.BadRequestError, 429: openai.RateLimitError, 503: openai.InternalServerError}
ANTHROPIC_STATUS_CLASS = {400: anthropic.BadRequestError, 429: anthropic.RateLimitError}


@pytest.mark.parametrize(("kind", "status", "openai_status", "openai_cls", "anthropic_cls"), TABLE)
def test_anthropic_error_reaches_an_openai_client(
    kind: str, status: int, openai_status: int, openai_cls: type, anthropic_cls: type
) -> None:
    body = json.dumps({"type": "error", "error": {"type": kind, "message": f"the {kind}"}}).encode()
    assert isinstance(anthropic_parses(json.loads(body), status), anthropic_cls)  # the source is what we think
    out = convert_error("anthropic", "openai-chat", body, status, Options())
    assert out.status == openai_status
    exc = openai_parses(out.body, out.status)
    assert isinstance(exc, openai_cls) and exc.status_code == openai_status
    assert f"the {kind}" in exc.message


@pytest.mark.parametrize(("kind", "status", "openai_status", "openai_cls", "anthropic_cls"), TABLE)
def test_openai_error_reaches_an_anthropic_client(
    kind: str, status: int, openai_status: int, openai_cls: type, anthropic_cls: type
) -> None:
    upstream = error_body("openai-chat", kind, f"the {kind}")
    assert upstream.status == openai_status
    out = convert_error("openai-chat", "anthropic", json.dumps(upstream.body).encode(), upstream.status, Options())
    assert out.status == openai_status  # the status is kept
    exc = anthropic_parses(out.body, out.status)
    expected = anthropic.InternalServerError if openai_status == 503 else anthropic_cls
    assert isinstance(exc, expected) and exc.status_code == openai_status
    assert exc.body["error"]["type"] == kind  # the openai code brings the anthropic type back
    assert f"the {kind}" in exc.message


@pytest.mark.parametrize("path", wire_params("anthropic_error_*.json"))
def test_corpus_anthropic_errors(path: Path) -> None:
    status = CORPUS_STATUS[path.name]
    source = json.loads(path.read_bytes())
    out = convert_error("anthropic", "openai-chat", path.read_bytes(), status, Options())
    exc = openai_parses(out.body, out.status)
    assert isinstance(exc, OPENAI_STATUS_CLASS[out.status])
    assert source["error"]["message"] in exc.message
    assert out.body["error"]["message"] == source["error"]["message"]


@pytest.mark.parametrize("path", wire_params("openai_error_*.json"))
def test_corpus_openai_errors(path: Path) -> None:
    status = CORPUS_STATUS[path.name]
    source = json.loads(path.read_bytes())["error"]
    out = convert_error("openai-chat", "anthropic", path.read_bytes(), status, Options())
    exc = anthropic_parses(out.body, out.status)
    assert isinstance(exc, ANTHROPIC_STATUS_CLASS[status])
    assert out.body["error"]["message"] == source["message"]
    assert out.body["error"]["type"] == {400: "invalid_request_error", 429: "rate_limit_error"}[status]


HTML_502 = b"""<html>
<head><title>502 Bad Gateway</title><style>body { color: red }</style></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body>
</html>"""


@pytest.mark.parametrize("source", ["anthropic", "openai-chat"])
def test_html_gateway_error_becomes_a_well_formed_error(source: str) -> None:
    for target, judge, cls in (
        ("openai-chat", openai_parses, openai.InternalServerError),
        ("anthropic", anthropic_parses, anthropic.InternalServerError),
    ):
        out = convert_error(source, target, HTML_502, 502, Options())
        assert out.status == 502
        exc = judge(out.body, out.status)
        assert isinstance(exc, cls)
        assert "502 Bad Gateway 502 Bad Gateway nginx/1.25.3" in exc.message
        assert "color" not in exc.message and "<" not in exc.message


def test_long_and_empty_bodies() -> None:
    out = convert_error("openai-chat", "anthropic", b"x" * 100_000, 500, Options())
    assert len(out.body["error"]["message"]) < 600 and out.body["error"]["message"].endswith("…")
    out = convert_error("openai-chat", "anthropic", b"", 503, Options())
    assert out.body == {"type": "error", "error": {"type": "overloaded_error", "message": "upstream returned HTTP 503"}}


def test_unexpected_json_error_keeps_its_message_and_status() -> None:
    out = convert_error("openai-chat", "anthropic", b'{"detail": "Model not found"}', 404, Options())
    exc = anthropic_parses(out.body, out.status)
    assert isinstance(exc, anthropic.NotFoundError) and "Model not found" in exc.message


def test_an_error_in_the_other_format_is_still_understood() -> None:
    body = b'{"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}'
    out = convert_error("openai-chat", "openai-chat", body, 429, Options())
    assert out.body["error"]["message"] == "slow down" and out.body["error"]["code"] == "rate_limit_exceeded"


def test_openai_404_with_a_generic_type_is_not_found() -> None:
    body = b'{"error": {"message": "No such model", "type": "invalid_request_error", "param": null, "code": null}}'
    out = convert_error("openai-chat", "anthropic", body, 404, Options())
    assert out.body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize("target", ["anthropic", "openai-chat"])
def test_error_body_for_a_rejected_request(target: str) -> None:
    out = error_body(target, "invalid_request_error", "messages[0].role: bad", "messages[0].role")
    assert out.status == 400
    judge = openai_parses if target == "openai-chat" else anthropic_parses
    exc = judge(out.body, out.status)
    assert isinstance(exc, openai.BadRequestError | anthropic.BadRequestError)
    assert "messages[0].role: bad" in exc.message
    if target == "openai-chat":
        assert exc.param == "messages[0].role"
