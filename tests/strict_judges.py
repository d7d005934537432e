"""The official SDKs as strict judges: every stream and body crosswire writes is parsed by the SDK
of its format with ``_strict_response_validation=True`` (each event validated against the SDK's
pydantic types, not merely constructed) and accumulated by the SDK's own stream helpers
(anthropic ``messages.stream`` -> ``get_final_message``, openai ``chat.completions.stream`` and
``responses.stream``), over an in-memory HTTP transport.

On the 3.12 leg these are the newest releases (built on httpx2); on 3.11 the last releases built on
httpx (pyproject explains the pin). Real captures from older API versions do not always satisfy the
newest types (a field added since, a value the types do not list yet): :func:`schema_errors` lists
what an SDK type rejects per event, so a same-format conversion can be held to "no error the source
did not have".
"""

from __future__ import annotations

import importlib
import json
import typing
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

import anthropic
import openai
import pydantic

FORMATS = ("anthropic", "openai-chat", "openai-responses")


def _http(sdk: ModuleType) -> ModuleType:
    """The HTTP library this SDK release is built on (httpx2 for the newest, else httpx)."""
    base = importlib.import_module(sdk.__name__ + "._base_client")
    return getattr(base, "httpx2", None) or importlib.import_module("httpx")


def client(fmt: str, body: bytes | Any, *, status: int = 200, strict: bool = True, stream: bool = True) -> Any:
    """An SDK client of ``fmt`` that every request answers with ``body`` (SSE bytes or a JSON value)."""
    sdk = anthropic if fmt == "anthropic" else openai
    http = _http(sdk)
    if isinstance(body, bytes):
        kind = "text/event-stream" if stream else "application/json"

        def handler(request: Any) -> Any:
            return http.Response(status, headers={"content-type": kind}, content=body)

    else:

        def handler(request: Any) -> Any:
            return http.Response(status, json=body)

    cls = anthropic.Anthropic if sdk is anthropic else openai.OpenAI
    return cls(
        api_key="test-key",
        base_url="http://127.0.0.1:9" + ("" if sdk is anthropic else "/v1"),
        max_retries=0,
        timeout=30,
        http_client=http.Client(transport=http.MockTransport(handler)),
        _strict_response_validation=strict,
    )


def accumulate(fmt: str, body: bytes, *, strict: bool = True, beta: bool = False) -> Any:
    """What the SDK's own stream helper makes of a stream: the final Message (``beta``: the beta
    Message, whose types know the beta blocks), ChatCompletion snapshot or Response (a
    ``response.incomplete`` one too). Raises what the SDK raises."""
    c = client(fmt, body, strict=strict)
    if fmt == "anthropic":
        messages = c.beta.messages if beta else c.messages
        with messages.stream(model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}]) as s:
            return s.get_final_message()
    if fmt == "openai-chat":
        with c.chat.completions.stream(model="m", messages=[{"role": "user", "content": "hi"}]) as s:
            for _ in s:
                pass
            return s.current_completion_snapshot
    final = None
    with c.responses.stream(model="m", input="hi") as s:
        for event in s:
            if event.type in ("response.completed", "response.incomplete"):
                final = event.response
    if final is None:
        raise RuntimeError("the stream ended without response.completed or response.incomplete")
    return final


def raw_events(fmt: str, body: bytes, *, strict: bool = True) -> list[Any]:
    """The events of a stream as the SDK's plain ``Stream`` parses them (each validated when strict)."""
    c = client(fmt, body, strict=strict)
    if fmt == "anthropic":
        return list(
            c.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}], stream=True)
        )
    if fmt == "openai-chat":
        return list(c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True))
    return list(c.responses.create(model="m", input="hi", stream=True))


def parse_body(fmt: str, body: Any, *, strict: bool = True) -> Any:
    """What ``create`` returns for a whole (non-streamed) response body."""
    c = client(fmt, body, strict=strict)
    if fmt == "anthropic":
        return c.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}])
    if fmt == "openai-chat":
        return c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    return c.responses.create(model="m", input="hi")


# --- per-event schema check --------------------------------------------------------------------


def _union_members(union: Any) -> dict[str, pydantic.TypeAdapter[Any]]:
    """Each member of a discriminated event union by its ``type`` literal."""
    while typing.get_origin(union) is typing.Annotated:
        union = typing.get_args(union)[0]
    members: dict[str, pydantic.TypeAdapter[Any]] = {}
    for member in typing.get_args(union):
        field = getattr(member, "model_fields", {}).get("type")
        for value in typing.get_args(field.annotation) if field is not None else ():
            members[value] = pydantic.TypeAdapter(member)
    return members


@cache
def _validators(fmt: str) -> Callable[[dict[str, Any]], pydantic.TypeAdapter[Any] | None]:
    if fmt == "openai-chat":
        from openai.types.chat import ChatCompletionChunk

        chunk = pydantic.TypeAdapter(ChatCompletionChunk)
        return lambda data: chunk
    if fmt == "anthropic":
        members = _union_members(anthropic.types.RawMessageStreamEvent)
    else:
        members = _union_members(openai.types.responses.ResponseStreamEvent)
    return lambda data: members.get(data.get("type"))


def sse_data(body: bytes) -> list[dict[str, Any]]:
    """The JSON data of each SSE event (``[DONE]`` left out)."""
    out = []
    for block in body.decode(errors="replace").replace("\r\n", "\n").split("\n\n"):
        lines = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if lines and lines != ["[DONE]"]:
            try:
                out.append(json.loads("\n".join(lines)))
            except json.JSONDecodeError:
                out.append({"type": "invalid JSON"})
    return out


def schema_errors(fmt: str, body: bytes) -> set[tuple[str, str, str]]:
    """(event type, field path, error) for every event the SDK's type for it rejects; error events
    (validated by the SDK's error path, not its event types) and pings are left out."""
    found = set()
    validator = _validators(fmt)
    for data in sse_data(body):
        kind = str(data.get("type", "chunk"))
        if kind in ("ping", "error") or ("error" in data and fmt == "openai-chat"):
            continue
        adapter = validator(data) if kind != "invalid JSON" else None
        if adapter is None:
            found.add((kind, "", "unknown event type"))
            continue
        try:
            adapter.validate_python(data)
        except pydantic.ValidationError as exc:
            for err in exc.errors():
                found.add((kind, ".".join(str(p) for p in err["loc"]), err["type"]))
    return found


def sdk_is_newest() -> bool:
    """The 3.12 leg's SDKs (anthropic 2.x on httpx2), whose types are the newest."""
    return _http(anthropic).__name__ == "httpx2"


# --- comparing what two SDK objects hold ---------------------------------------------------------


def dump(model: Any) -> Any:
    """An SDK object as plain data, with only the fields its JSON had (so a field absent from an
    older capture is absent here, not None)."""
    return model.model_dump(mode="json", exclude_unset=True, warnings=False)


def covers(got: Any, want: Any, path: str = "") -> list[str]:
    """Where ``got`` differs from ``want``, except that ``got`` may carry a key ``want`` lacks
    (listed separately by :func:`additions`): every value ``want`` has, ``got`` has equal."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not an object"]
        problems = []
        for key, value in want.items():
            if key not in got:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += covers(got[key], value, f"{path}.{key}")
        return problems
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: {len(got) if isinstance(got, list) else got!r} items, want {len(want)}"]
        return [p for i, (g, w) in enumerate(zip(got, want, strict=True)) for p in covers(g, w, f"{path}[{i}]")]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def additions(got: Any, want: Any, path: str = "") -> set[str]:
    """The keys ``got`` has that ``want`` lacks, as dotted paths with list positions left out."""
    found: set[str] = set()
    if isinstance(want, dict) and isinstance(got, dict):
        for key, value in got.items():
            found |= {f"{path}.{key}"} if key not in want else additions(value, want[key], f"{path}.{key}")
    elif isinstance(want, list) and isinstance(got, list):
        for g, w in zip(got, want, strict=False):
            found |= additions(g, w, path)
    return found
