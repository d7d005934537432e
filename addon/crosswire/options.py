"""Conversion options shared by stream and body converters."""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import ToolOrigin

THINKING_MODES = ("reasoning_content", "xml", "drop")
HOSTED_TOOL_MODES = ("drop", "reject")


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
    max_output_tokens: the most output tokens the upstream model takes; a request asking for more
        is clamped (with a warning).
    reasoning: whether the upstream model takes reasoning parameters; ``False`` (or
        ``thinking="drop"``) never sends ``reasoning_effort``/``reasoning``/``thinking`` (nor
        ``verbosity``, which only reasoning-era models take).
    hosted_tools: what to do with a Responses hosted tool (``web_search``, ``file_search``…) or a
        Gemini built-in tool (``googleSearch``…) on an upstream of another format: ``drop`` it with
        a warning or ``reject`` the request.
    tool_origins: flattened tool name -> the client's tool (from the request conversion), so the
        answer's calls get the client's own call shape back.
    """

    thinking: str = "reasoning_content"
    model: str | None = None
    created: int | None = None
    max_tokens: int = 8192
    model_map: dict[str, str] = field(default_factory=dict)
    pass_previous_response_id: bool = False
    include_usage: bool = True
    max_output_tokens: int | None = None
    reasoning: bool = True
    hosted_tools: str = "drop"
    tool_origins: dict[str, ToolOrigin] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.thinking not in THINKING_MODES:
            raise ValueError(f"thinking must be one of {', '.join(THINKING_MODES)}, not {self.thinking!r}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, not {self.max_tokens!r}")
        if self.hosted_tools not in HOSTED_TOOL_MODES:
            raise ValueError(f"hosted_tools must be one of {', '.join(HOSTED_TOOL_MODES)}, not {self.hosted_tools!r}")

    @property
    def sends_reasoning(self) -> bool:
        """Whether reasoning parameters may reach the upstream at all."""
        return self.reasoning and self.thinking != "drop"

    def map_model(self, model: str) -> str:
        return self.model_map.get(model) or self.model_map.get("*") or model
