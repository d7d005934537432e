"""Conversion options shared by stream and body converters."""

from __future__ import annotations

from dataclasses import dataclass, field

THINKING_MODES = ("reasoning_content", "xml", "drop")


@dataclass(frozen=True)
class Options:
    """What a conversion may need beyond the bytes.

    thinking: how thinking reaches an openai-chat client: ``reasoning_content`` (the
        ``delta.reasoning_content`` field), ``xml`` (a ``<thinking signature="…">`` span in the
        content, which round-trips signatures) or ``drop``.
    model: report this model name to the client instead of the upstream's.
    created: the ``created`` timestamp written into openai objects that lack one (defaults
        to the time the conversion starts; the addon passes the flow's timestamp so offline
        conversion reproduces live bytes).
    max_tokens: ``max_tokens`` for an anthropic upstream when the client set none.
    model_map: request model names to upstream names; ``*`` is the default.
    pass_previous_response_id: let ``previous_response_id`` through to a Responses upstream.
    include_usage: end an openai-chat stream with the usage chunk (``choices: []``); the addon
        follows the client's own ``stream_options.include_usage``.
    """

    thinking: str = "reasoning_content"
    model: str | None = None
    created: int | None = None
    max_tokens: int = 8192
    model_map: dict[str, str] = field(default_factory=dict)
    pass_previous_response_id: bool = False
    include_usage: bool = True

    def __post_init__(self) -> None:
        if self.thinking not in THINKING_MODES:
            raise ValueError(f"thinking must be one of {', '.join(THINKING_MODES)}, not {self.thinking!r}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, not {self.max_tokens!r}")

    def map_model(self, model: str) -> str:
        return self.model_map.get(model) or self.model_map.get("*") or model
