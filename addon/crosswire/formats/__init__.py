"""The wire formats: per format a stream module (reader + writer) and a body module (codec + descriptor).

A new format is its two modules and one line in :data:`FORMATS`.
"""

from __future__ import annotations

from . import anthropic_body, base, gemini_body, openai_chat_body, openai_responses_body
from .registry import Format, Registry

FORMATS = Registry(
    anthropic_body.FORMAT,
    openai_chat_body.FORMAT,
    openai_responses_body.FORMAT,
    gemini_body.FORMAT,
)

base.ID_PREFIXES = FORMATS.id_prefixes


def get(name: str) -> Format:
    return FORMATS.get(name)


__all__ = ["FORMATS", "Format", "get"]
