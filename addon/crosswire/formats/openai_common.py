"""What the two OpenAI formats share: the error envelope (``{"error": {message, type, param, code}}``),
in bodies and in stream error frames, the input-token arithmetic of their usage, and the models
list (``GET /v1/models``)."""

from __future__ import annotations

from typing import Any

import orjson

from .. import errors
from ..events import ApiError, Usage


def error_object(type: str, message: str) -> dict[str, Any]:
    """The ``error`` object OpenAI sends for canonical error ``type``."""
    openai_type, code = errors.to_openai(type)
    return {"message": message, "type": openai_type, "param": None, "code": code}


def read_error(body: Any, status: int | None) -> ApiError | None:
    """The canonical error in an openai error body; ``None`` when the body is not one."""
    if not isinstance(body, dict) or "error" not in body:
        return None
    err = body["error"]
    if isinstance(err, str):
        return ApiError(errors.from_status(status), err)
    if not isinstance(err, dict):
        return None
    kind, code, param, message = err.get("type"), err.get("code"), err.get("param"), err.get("message")
    canonical = errors.from_openai(kind, code, status)
    if canonical in ("invalid_request_error", "api_error") and status not in (None, 400, 500):
        canonical = errors.from_status(status)  # the status says more than a generic type (403, 404, 413…)
    return ApiError(
        canonical,
        message if isinstance(message, str) else orjson.dumps(err).decode(),
        param if isinstance(param, str) else None,
        code if isinstance(code, str) else None,
    )


def write_error(error: ApiError, status: int) -> tuple[dict[str, Any], int]:
    kind, code = errors.to_openai(error.type)
    body = {"message": error.message, "type": kind, "param": error.param, "code": error.code or code}
    return {"error": body}, 503 if status == 529 else status


def is_error_frame(parsed: Any) -> bool:
    """A bare ``{"error": …}`` frame, as Chat Completions streams end with."""
    return isinstance(parsed, dict) and bool(parsed.get("error")) and parsed.get("type") != "error"


# --- usage: OpenAI input (or prompt) tokens include the cache reads (cached_tokens) and the cache
# writes (cache_write_tokens); canonical input_tokens, like Anthropic's, include neither.


def read_input(total: Any, details: Any, usage: Usage) -> None:
    """OpenAI input tokens and their details object -> canonical input, cache read and cache write."""
    details = details if isinstance(details, dict) else {}
    cached, written = details.get("cached_tokens"), details.get("cache_write_tokens")
    cached = cached if isinstance(cached, int) else 0
    if isinstance(total, int):
        usage["input_tokens"] = total - cached - (written if isinstance(written, int) else 0)
        usage["cache_read_input_tokens"] = cached
    if isinstance(written, int):
        usage["cache_creation_input_tokens"] = written


def write_input(usage: Usage) -> tuple[int, dict[str, int]]:
    """Canonical usage -> OpenAI input tokens (reads and writes included) and their details object."""
    cache_read = usage.get("cache_read_input_tokens", 0)
    cache_write = usage.get("cache_creation_input_tokens", 0)
    total = usage.get("input_tokens", 0) + cache_read + cache_write
    return total, {"cached_tokens": cache_read, "cache_write_tokens": cache_write}


# Usage fields the canonical model holds, per details object: the rest of a usage object is native.
MODELLED_DETAILS = {"cached_tokens", "cache_write_tokens", "reasoning_tokens"}


def usage_extras(raw: dict[str, Any], top: frozenset[str]) -> dict[str, Any]:
    """The fields of an OpenAI usage object the canonical model does not hold (details objects
    keep only their unmodelled keys)."""
    extras: dict[str, Any] = {}
    for key, value in raw.items():
        if key in top:
            continue
        if key.endswith("_details") and isinstance(value, dict):
            rest = {k: v for k, v in value.items() if k not in MODELLED_DETAILS}
            if rest:
                extras[key] = rest
        else:
            extras[key] = value
    return extras


def write_model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "crosswire"}


def write_models(models: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": models}
