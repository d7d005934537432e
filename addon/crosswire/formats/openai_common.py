"""What the two OpenAI formats share: the error envelope (``{"error": {message, type, param, code}}``),
in bodies and in stream error frames, and the models list (``GET /v1/models``)."""

from __future__ import annotations

from typing import Any

import orjson

from .. import errors
from ..events import ApiError


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


def write_model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "crosswire"}


def write_models(models: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": models}
