"""Error vocabulary: canonical (Anthropic) error types <-> OpenAI error types, codes and statuses."""

from __future__ import annotations

from .events import ERROR_STATUS

# canonical type -> (openai type, openai code). Authentication mirrors what OpenAI itself
# returns for a bad key; the overloaded code lets the reverse mapping recover the type.
_TO_OPENAI: dict[str, tuple[str, str | None]] = {
    "invalid_request_error": ("invalid_request_error", None),
    "authentication_error": ("invalid_request_error", "invalid_api_key"),
    "billing_error": ("insufficient_quota", "insufficient_quota"),
    "permission_error": ("permission_error", None),
    "not_found_error": ("invalid_request_error", "not_found"),
    "request_too_large": ("invalid_request_error", "request_too_large"),
    "rate_limit_error": ("rate_limit_error", "rate_limit_exceeded"),
    "api_error": ("server_error", None),
    "timeout_error": ("server_error", "timeout"),
    "overloaded_error": ("server_error", "overloaded"),
}

_FROM_OPENAI_CODE = {
    "invalid_api_key": "authentication_error",
    "insufficient_quota": "billing_error",
    "rate_limit_exceeded": "rate_limit_error",
    "overloaded": "overloaded_error",
    "request_too_large": "request_too_large",
    "not_found": "not_found_error",
    "model_not_found": "not_found_error",
    "timeout": "timeout_error",
}

_FROM_OPENAI_TYPE = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "not_found_error",
    "rate_limit_error": "rate_limit_error",
    "requests": "rate_limit_error",
    "tokens": "rate_limit_error",
    "insufficient_quota": "billing_error",
    "server_error": "api_error",
}

_FROM_STATUS = {status: type for type, status in ERROR_STATUS.items()}
_FROM_STATUS.update({422: "invalid_request_error", 502: "api_error", 503: "overloaded_error"})


def to_openai(type: str) -> tuple[str, str | None]:
    return _TO_OPENAI.get(type, (type, None))


def openai_status(type: str) -> int:
    """The HTTP status an OpenAI client should see: 529 is not an OpenAI status, 503 is."""
    status = ERROR_STATUS.get(type, 500)
    return 503 if status == 529 else status


def from_openai(type: object, code: object = None, status: int | None = None) -> str:
    """Canonical type for an OpenAI error, by code first, then type, then HTTP status."""
    if isinstance(code, str) and code in _FROM_OPENAI_CODE:
        return _FROM_OPENAI_CODE[code]
    if isinstance(type, str) and type in _FROM_OPENAI_TYPE:
        return _FROM_OPENAI_TYPE[type]
    return from_status(status)


def from_status(status: int | None) -> str:
    if status is None:
        return "api_error"
    if status in _FROM_STATUS:
        return _FROM_STATUS[status]
    return "invalid_request_error" if 400 <= status < 500 else "api_error"
