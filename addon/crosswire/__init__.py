"""crosswire: translate LLM API traffic between Anthropic Messages, OpenAI Chat and OpenAI Responses."""

from __future__ import annotations

from .bodies import Converted, RequestRejected, convert_error, convert_request, convert_response, error_body
from .convert import StreamConverter
from .options import Options

__version__ = "0.1.0"

__all__ = [
    "Converted",
    "Options",
    "RequestRejected",
    "StreamConverter",
    "__version__",
    "convert_error",
    "convert_request",
    "convert_response",
    "error_body",
]
