"""One module per wire format; each exposes its readers and writers."""

from __future__ import annotations

from types import ModuleType

from . import anthropic, openai_chat, openai_responses

FORMATS: dict[str, ModuleType] = {
    "anthropic": anthropic,
    "openai-chat": openai_chat,
    "openai-responses": openai_responses,
}


def get(name: str) -> ModuleType:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}: expected one of {', '.join(FORMATS)}") from None
