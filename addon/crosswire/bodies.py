"""Whole-body converters: requests, non-streamed responses and error responses.

Stub: the signatures the addon and the CLI build on; the implementation lands with the body
readers and writers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .options import Options


@dataclass
class Converted:
    """A converted body, what could not be carried over, and the HTTP status to answer with."""

    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    status: int = 200


class RequestRejected(ValueError):
    """The request cannot be converted (bad JSON, a missing field, an unsupported feature).

    The addon answers it with a 400 in the client's format (see :func:`error_body`).
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def convert_request(source: str, target: str, body: bytes | dict[str, Any], options: Options) -> Converted:
    """A client request in ``source`` format -> the request the ``target`` upstream accepts."""
    raise NotImplementedError


def convert_response(source: str, target: str, body: bytes | dict[str, Any], options: Options) -> Converted:
    """A whole (non-streamed) upstream response in ``source`` format -> ``target`` format."""
    raise NotImplementedError


def convert_error(source: str, target: str, body: bytes, status: int, options: Options) -> Converted:
    """An upstream error response (any body, JSON or not) -> a well-formed ``target`` error and status."""
    raise NotImplementedError


def error_body(target: str, type: str, message: str, param: str | None = None) -> Converted:
    """A fresh error in ``target`` format for canonical error ``type`` (e.g. invalid_request_error)."""
    raise NotImplementedError
