"""The format registry: every format is one descriptor, and formats share code only through shared modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from crosswire import formats
from crosswire.formats import FORMATS
from crosswire.formats.base import derive_id
from crosswire.policy import CREDENTIAL_HEADERS
from crosswire.routes import build_route, format_for_path

FORMATS_DIR = Path(formats.__file__).parent
# Modules every format may use; a format's own modules are named after it (<format>.py, <format>_body.py).
SHARED = {"base", "registry", "body_common", "openai_common"}


def _module_stem(name: str) -> str:
    return name.replace("-", "_")


def _format_modules() -> dict[str, set[str]]:
    """format module stem -> the formats package modules it imports."""
    out: dict[str, set[str]] = {}
    for path in FORMATS_DIR.glob("*.py"):
        if path.stem in SHARED or path.stem == "__init__":
            continue
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    imported.add(node.module.split(".")[0])
                else:
                    imported.update(alias.name for alias in node.names)
        out[path.stem] = imported
    return out


def test_every_format_module_belongs_to_a_registered_format() -> None:
    stems = {_module_stem(f.name) for f in FORMATS}
    for module in _format_modules():
        assert module.removesuffix("_body") in stems, f"formats/{module}.py is no registered format's"


@pytest.mark.parametrize("module", sorted(_format_modules()))
def test_a_format_imports_no_other_format(module: str) -> None:
    own = module.removesuffix("_body")
    for imported in _format_modules()[module]:
        assert imported in SHARED or imported.removesuffix("_body") == own, (
            f"formats/{module}.py imports formats/{imported}.py: share code through a shared module instead"
        )


@pytest.mark.parametrize("fmt", list(FORMATS), ids=FORMATS.names)
def test_descriptor_is_complete(fmt: formats.Format) -> None:
    assert formats.get(fmt.name) is fmt
    # an endpoint path ends with a segment (/messages) or a method of one (:generateContent)
    assert fmt.path_suffixes and all(s.startswith(("/", ":")) for s in fmt.path_suffixes)
    for suffix in fmt.path_suffixes:
        assert FORMATS.for_path("/v1/x" + suffix) is fmt
        assert format_for_path(f"/v1/x{suffix}?x=1") == fmt.name
    for suffix in fmt.route_suffixes:
        assert suffix.startswith("/") and FORMATS.for_path(suffix) is None  # a collection, not an endpoint
        assert format_for_path(f"{suffix}/") == fmt.name
    assert fmt.key_env.isupper()
    header, value = fmt.credential("KEY")
    assert value.endswith("KEY") and header == header.lower()
    assert fmt.id_prefix in (*FORMATS.id_prefixes, "")
    assert fmt.credential_headers <= CREDENTIAL_HEADERS
    assert fmt.credential_query <= FORMATS.credential_query


@pytest.mark.parametrize(
    ("source", "prefix", "expected"),
    [
        ("msg_01abc", "chatcmpl-", "chatcmpl-01abc"),
        ("msg_01abc", "msg_", "msg_01abc"),
        ("chatcmpl-xyz", "", "xyz"),  # a format whose ids have no prefix takes the others' off
        ("resp_xyz", "", "xyz"),
        ("plain", "", "plain"),
        ("plain", "resp_", "resp_plain"),
        ("", "", "crosswire"),
    ],
)
def test_ids_are_re_prefixed(source: str, prefix: str, expected: str) -> None:
    assert derive_id(source, prefix) == expected


def test_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        formats.get("cohere")
    assert str(info.value) == f"unknown format 'cohere': expected one of {', '.join(FORMATS.names)}"
    assert len(FORMATS) >= 3 and all(name in str(info.value) for name in ("anthropic", "openai-chat"))


@pytest.mark.parametrize("fmt", list(FORMATS), ids=FORMATS.names)
def test_a_route_takes_its_upstream_defaults_from_the_descriptor(fmt: formats.Format) -> None:
    client = next(f for f in FORMATS if f is not fmt)
    route = build_route(
        {"match": f"/v1{client.path_suffixes[0]}", "upstream": f"https://up.example/v1{fmt.path_suffixes[0]}"},
        source="test",
        name="r",
        environ={fmt.key_env: "k"},
    )
    assert (route.client_format, route.upstream_format) == (client.name, fmt.name)
    assert route.api_key_env == fmt.key_env
    for name, value in fmt.default_headers.items():
        assert route.headers[name] == value


@pytest.mark.parametrize("fmt", list(FORMATS), ids=FORMATS.names)
def test_what_a_converting_route_answers_itself_is_complete(fmt: formats.Format) -> None:
    kinds = {sub.kind for sub in fmt.sub_endpoints}
    assert kinds <= {"count_tokens", "stored", "unsupported"}
    assert ("count_tokens" in kinds) == (fmt.read_count_request is not None) == (fmt.write_token_count is not None)
    if fmt.write_token_count is not None:
        assert 7 in fmt.write_token_count(7).values()
    model = fmt.write_model("m-1")
    assert "m-1" in model.values() and [model] in fmt.write_models([model]).values()
    assert not (fmt.forward_headers & CREDENTIAL_HEADERS)


@pytest.mark.parametrize("fmt", list(FORMATS), ids=FORMATS.names)
def test_a_whole_answer_is_claimed_by_its_own_format_only(fmt: formats.Format) -> None:
    from crosswire.events import ApiError, Block, Message
    from crosswire.options import Options

    answer = fmt.write_response(
        Message(id="msg_1", model="m", content=[Block("text", text="hi")]), Options(), lambda _: None
    )
    assert [f.name for f in FORMATS if f.response_body(answer)] == [fmt.name]
    error, _ = fmt.write_error(ApiError("api_error", "boom"), 500)
    assert not any(f.response_body(error) for f in FORMATS)


@pytest.mark.parametrize("target", list(FORMATS), ids=FORMATS.names)
@pytest.mark.parametrize("source", list(FORMATS), ids=FORMATS.names)
def test_a_recorded_endpoint_becomes_the_target_formats(source: formats.Format, target: formats.Format) -> None:
    """Converting a recording addresses the target's endpoint (flowformats.endpoint_path), whatever
    the two formats put in their paths; a format that reads the model and streaming from its path
    reads back the ones the request has."""
    from crosswire.flowformats import endpoint_path

    def official(fmt: formats.Format, model: str, stream: bool) -> str:
        first = fmt.path_suffixes[0]
        return fmt.request_target("/v1" + first if first.startswith("/") else "/v1", model, stream)

    recorded = official(source, "model-1", True)
    path = endpoint_path(recorded, source.name, target.name, "model-2", True)
    assert path == official(target, "model-2", True)
    assert FORMATS.for_path(path) is target, path
    assert target.read_target(path) in ((None, None), ("model-2", True))
    if source.path_suffixes[0].startswith("/"):  # a path prefix of the source's (a gateway's) is kept
        gateway = endpoint_path("/gw" + recorded, source.name, target.name, "model-2", False)
        assert gateway.startswith("/gw/v1"), gateway
