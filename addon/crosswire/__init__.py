"""crosswire: translate LLM API traffic between Anthropic Messages, OpenAI Chat and OpenAI Responses."""

from __future__ import annotations

from .convert import StreamConverter
from .options import Options

__version__ = "0.1.0"

__all__ = ["Options", "StreamConverter", "__version__"]
