"""What the body readers and writers of every format share: strict field access with the field's
path in every error, data URLs, and the thinking-budget table."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from html import unescape
from typing import Any

from ..events import Block, Tool

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
}


class RequestRejected(ValueError):
    """A body cannot be converted (bad JSON, a missing field, a wrong type, an unsupported feature).

    ``param`` names the offending field (``messages[2].content``). For a request the addon answers
    with a 400 in the client's format (see :func:`crosswire.bodies.error_body`).
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def _is(value: Any, kind: type) -> bool:
    if kind is float:  # JSON numbers: ints count, booleans do not
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def get(obj: dict[str, Any], key: str, kinds: type | tuple[type, ...], path: str, required: bool = False) -> Any:
    """``obj[key]`` checked against ``kinds``; ``None`` when absent (or JSON null) and not required."""
    where = f"{path}.{key}" if path else key
    value = obj.get(key)
    if value is None:
        if required:
            raise RequestRejected(f"{where}: required field missing", where)
        return None
    options = kinds if isinstance(kinds, tuple) else (kinds,)
    if not any(_is(value, kind) for kind in options):
        expected = " or ".join(_TYPE_NAMES[kind] for kind in options)
        raise RequestRejected(f"{where}: expected {expected}, got {type(value).__name__}", where)
    return value


def objects(value: list[Any], path: str) -> list[dict[str, Any]]:
    """The items of a JSON array that must all be objects."""
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise RequestRejected(f"{path}[{i}]: expected an object, got {type(item).__name__}", f"{path}[{i}]")
    return value


def strings(value: str | list[Any], path: str) -> list[str]:
    """A string or an array of strings, as a list."""
    if isinstance(value, str):
        return [value]
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise RequestRejected(f"{path}[{i}]: expected a string, got {type(item).__name__}", f"{path}[{i}]")
    return value


_DATA_URL = re.compile(r"data:(?P<type>[^;,]+)(?:;[^,]*)?;base64,(?P<data>.*)", re.DOTALL)


def parse_data_url(url: str) -> tuple[str, str] | None:
    """``data:<media type>;base64,<data>`` -> (media type, data); ``None`` for anything else."""
    match = _DATA_URL.fullmatch(url)
    return (match.group("type"), match.group("data")) if match else None


def data_url(media_type: str, data: str) -> str:
    return f"data:{media_type};base64,{data}"


# reasoning_effort <-> Anthropic thinking budget_tokens. low/medium/high are the documented table;
# minimal and xhigh extend it at both ends (1024 is Anthropic's smallest budget).
EFFORT_BUDGET = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384, "xhigh": 32768}
_BUDGET_EFFORTS = (("low", 1024), ("medium", 4096), ("high", 16384))


def budget_effort(budget: int) -> str:
    """The effort whose budget is nearest on a log scale (the table's steps are powers of four)."""
    scale = math.log2(max(budget, 1))
    return min(_BUDGET_EFFORTS, key=lambda pair: abs(math.log2(pair[1]) - scale))[0]


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.DOTALL | re.IGNORECASE)
ERROR_TEXT_LIMIT = 500


def readable_text(body: bytes) -> str:
    """An unexpected error body as one line a person can read: HTML tags gone, whitespace
    collapsed, cut at ERROR_TEXT_LIMIT characters."""
    text = body.decode("utf-8", errors="replace")
    if "<" in text and ">" in text:
        text = unescape(_TAG.sub(" ", text))
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT] + "…"


DEFAULT_SCHEMA_NAME = "response"


def json_schema_spec(response_format: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI json_schema spec (``name``, ``description``, ``schema``, ``strict``) from the
    canonical response format; both OpenAI formats carry the same fields, nested differently."""
    spec: dict[str, Any] = {"name": response_format.get("name") or DEFAULT_SCHEMA_NAME}
    if response_format.get("description") is not None:
        spec["description"] = response_format["description"]
    spec["schema"] = response_format["schema"]
    if "name" not in response_format:  # from anthropic, whose structured outputs are always strict
        spec["strict"] = True
    elif response_format.get("strict") is not None:
        spec["strict"] = response_format["strict"]
    return spec


def read_function_tool(spec: dict[str, Any], path: str) -> Tool:
    """A function tool's ``name``, ``description``, ``parameters`` and ``strict``: the fields both
    OpenAI formats use (chat nests them under ``function``, Responses keeps them flat)."""
    return Tool(
        name=get(spec, "name", str, path, required=True),
        description=get(spec, "description", str, path),
        parameters=get(spec, "parameters", dict, path) or {},
        strict=get(spec, "strict", bool, path),
    )


# OpenAI function names: ^[a-zA-Z0-9_-]{1,64}$.
MAX_TOOL_NAME = 64
NAMESPACE_SEPARATOR = "__"


def flat_tool_name(namespace: str | None, name: str) -> str:
    """One function name for a namespaced tool, within the 64-character limit: ``ns__name``, or a
    shortened one ending in a hash of the whole when that is longer (the request's tool origins map
    it back, so it only has to be unique and stable)."""
    flat = f"{namespace}{NAMESPACE_SEPARATOR}{name}" if namespace else name
    if len(flat) <= MAX_TOOL_NAME:
        return flat
    digest = hashlib.sha256(flat.encode()).hexdigest()[:10]
    return f"{flat[: MAX_TOOL_NAME - len(digest) - 1]}_{digest}"


MAX_USER_ID = 64  # OpenAI's user / safety_identifier


def openai_user_id(user: str, warn: Callable[[str], None]) -> str:
    """A user id OpenAI accepts (at most 64 characters): a longer one (Claude Code sends a JSON
    object with a device id) is replaced by a stable hash of it, so it still identifies the user
    without sending the client's internals to another provider."""
    if len(user) <= MAX_USER_ID:
        return user
    warn(f"metadata.user_id longer than {MAX_USER_ID} characters: sent as a hash of it")
    return "sha256-" + hashlib.sha256(user.encode()).hexdigest()[: MAX_USER_ID - 7]


ERROR_PREFIX = "Error: "


def tool_result_texts(result: Block, warn: Callable[[str], None]) -> list[str]:
    """A tool result's text parts for an OpenAI format, which has no error flag: a failed call's
    output says so in its first words instead (unless it already does)."""
    texts = [b.text for b in result.content if b.kind == "text"]
    if result.is_error:
        warn("tool_result is_error carried as an 'Error: ' prefix of the tool output (openai has no error flag)")
        if not texts or not texts[0].lstrip().lower().startswith(("error", "<tool_use_error>")):
            texts = [ERROR_PREFIX + (texts[0] if texts else "the tool call failed"), *texts[1:]]
    return texts
