"""Provider presets and known tools: what ``crosswire run --to PRESET -- TOOL`` turns into routes. Pure.

A preset is where one provider answers: a base URL, the one format crosswire sends it, and the variable
that holds its key. A known tool is the endpoints it calls, so a route's MATCH follows from the tool's
name. :func:`shortcut_routes` combines the two into ordinary route tables, the same ones a routes file
holds (``routes.build_route`` validates them). Endpoints are as each provider and tool documents them
(docs/tools.md lists the sources).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .formats import FORMATS, Format
from .routes import ConfigError


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str  # the format's endpoint path is appended (its first path suffix: /chat/completions)
    format: str
    key_env: str  # "" for a local server that needs no key
    base_url_env: str = ""  # a variable naming the host, when there is no fixed one (azure)
    base_url_path: str = ""  # appended to that variable's value
    # Route options its usual models need (docs/addon.md, "Route options for real upstream models"):
    # local servers and DeepSeek's models take no reasoning request.
    route_options: Mapping[str, Any] = field(default_factory=dict)


NO_REASONING: Mapping[str, Any] = {"reasoning": False}


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("anthropic", "https://api.anthropic.com/v1", "anthropic", "ANTHROPIC_API_KEY"),
        Provider("openai", "https://api.openai.com/v1", "openai-responses", "OPENAI_API_KEY"),
        Provider("gemini", "https://generativelanguage.googleapis.com/v1beta", "gemini", "GEMINI_API_KEY"),
        Provider("openrouter", "https://openrouter.ai/api/v1", "openai-chat", "OPENROUTER_API_KEY"),
        Provider("deepseek", "https://api.deepseek.com", "openai-chat", "DEEPSEEK_API_KEY", route_options=NO_REASONING),
        Provider("groq", "https://api.groq.com/openai/v1", "openai-chat", "GROQ_API_KEY"),
        Provider("mistral", "https://api.mistral.ai/v1", "openai-chat", "MISTRAL_API_KEY"),
        Provider("together", "https://api.together.ai/v1", "openai-chat", "TOGETHER_API_KEY"),
        Provider("fireworks", "https://api.fireworks.ai/inference/v1", "openai-chat", "FIREWORKS_API_KEY"),
        Provider("xai", "https://api.x.ai/v1", "openai-chat", "XAI_API_KEY"),
        Provider("ollama", "http://localhost:11434/v1", "openai-chat", "", route_options=NO_REASONING),
        Provider("lmstudio", "http://localhost:1234/v1", "openai-chat", "", route_options=NO_REASONING),
        Provider("vllm", "http://localhost:8000/v1", "openai-chat", "", route_options=NO_REASONING),
        Provider("azure", "", "openai-chat", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "/openai/v1"),
    )
}


def _official_endpoint(fmt: Format) -> str:
    """Where a format's own vendor serves it: its endpoint under /v1, or (for a format with the
    model in the path) the collection a route names."""
    path = fmt.route_suffixes[0] if fmt.model_in_path and fmt.route_suffixes else "/v1" + fmt.path_suffixes[0]
    return f"https://{fmt.official_host}{path}"


# The endpoint each format is served at by its own vendor: what a tool crosswire does not know calls.
OFFICIAL_ENDPOINTS: tuple[tuple[str, str], ...] = tuple(
    (_official_endpoint(fmt), fmt.name) for fmt in FORMATS if fmt.official_host
)


@dataclass(frozen=True)
class Tool:
    name: str
    endpoints: tuple[tuple[str, str], ...]  # (MATCH, the format the tool speaks there)


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        # Claude Code: the Messages API (and /v1/messages/count_tokens under the same prefix).
        Tool("claude", (("https://api.anthropic.com/v1/messages", "anthropic"),)),
        # Codex CLI: Responses, at the API with an API key, at the ChatGPT backend when signed in with ChatGPT.
        Tool(
            "codex",
            (
                ("https://api.openai.com/v1/responses", "openai-responses"),
                ("https://chatgpt.com/backend-api/codex/responses", "openai-responses"),
            ),
        ),
        # Gemini CLI: the Gemini API (generateContent / streamGenerateContent).
        Tool("gemini", (("https://generativelanguage.googleapis.com/v1beta/models", "gemini"),)),
        # llm: the OpenAI SDK's Chat Completions; Claude through the llm-anthropic plugin.
        Tool(
            "llm",
            (("https://api.openai.com/v1/chat/completions", "openai-chat"), OFFICIAL_ENDPOINTS[0]),
        ),
        # aider and opencode go through libraries (litellm, the AI SDK) that use all three.
        Tool("aider", OFFICIAL_ENDPOINTS),
        Tool("opencode", OFFICIAL_ENDPOINTS),
    )
}


@dataclass(frozen=True)
class Target:
    """Where ``--to`` sends a tool's requests."""

    label: str  # the preset's name, or FORMAT@URL
    base_url: str
    format: str
    key_env: str
    route_options: Mapping[str, Any] = field(default_factory=dict)

    def endpoint(self) -> str:
        fmt = FORMATS.get(self.format)
        base = self.base_url.rstrip("/")
        if fmt.model_in_path:  # the route names the API; its format's request_target builds each
            return base  # request's model path under it
        path = fmt.path_suffixes[0]
        return base if base.endswith(path) else base + path


def parse_target(text: str, environ: Mapping[str, str] | None = None) -> Target:
    """``PRESET``, ``PRESET@BASE_URL`` (the preset on another host) or ``FORMAT@BASE_URL``."""
    env = os.environ if environ is None else environ
    name, at, url = text.strip().partition("@")
    if at and not urlsplit(url).scheme:
        raise ConfigError(f"--to {text!r}: after '@' comes a base URL, e.g. openai-chat@http://localhost:8000/v1")
    if name in PROVIDERS:
        p = PROVIDERS[name]
        if url:  # the preset on another host: say which
            return Target(f"{name}@{urlsplit(url).netloc}", url, p.format, p.key_env, p.route_options)
        base = p.base_url
        if not base:  # the host comes from a variable
            host = env.get(p.base_url_env, "").rstrip("/")
            if not host:
                raise ConfigError(
                    f"--to {name}: set {p.base_url_env} to your resource's endpoint "
                    f"(e.g. https://RESOURCE.openai.azure.com) or write --to {name}@https://RESOURCE.openai.azure.com"
                    f"{p.base_url_path}"
                )
            base = host + p.base_url_path
        return Target(name, base, p.format, p.key_env, p.route_options)
    if name in FORMATS:
        if not at:
            raise ConfigError(f"--to {text!r}: a format needs the upstream's base URL: --to {name}@URL")
        return Target(text.strip(), url, name, FORMATS.get(name).key_env)
    raise ConfigError(
        f"--to {text!r}: not a preset or a format; presets: {', '.join(PROVIDERS)}; "
        f"formats (with @BASE_URL): {', '.join(FORMATS.names)}"
    )


def tool_endpoints(tool: str) -> tuple[tuple[str, str], ...]:
    """The endpoints ``tool`` (a command name) calls; the official ones when crosswire does not know it."""
    known = TOOLS.get(os.path.basename(tool))
    return known.endpoints if known else OFFICIAL_ENDPOINTS


def shortcut_routes(
    tool: str,
    target: Target,
    model_map: Mapping[str, str],
    key_env: str | None = None,
    route_options: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """One route table per endpoint ``tool`` calls, to ``target``; and notes for the user.

    A route whose two sides speak the same format passes bodies unchanged, so a model map does not
    apply to it (a note says so). ``key_env`` overrides the preset's key variable ("" sends no key);
    ``route_options`` (max_output_tokens, reasoning) override the preset's on converting routes.
    """
    tables: list[dict[str, Any]] = []
    notes: list[str] = []
    name = os.path.basename(tool)
    for match, fmt in tool_endpoints(tool):
        if fmt not in FORMATS:
            raise ConfigError(
                f"{name} calls {match} in the {fmt} format, which crosswire does not convert yet; "
                "write the route yourself with --route if the tool can use another endpoint"
            )
        table: dict[str, Any] = {
            "name": f"{name}: {match.split('://', 1)[-1]} -> {target.label}",
            "match": match,
            "upstream": target.endpoint(),
            "client_format": fmt,
            "upstream_format": target.format,
            "api_key_env": target.key_env if key_env is None else key_env,
        }
        if fmt == target.format:
            if model_map or route_options:
                notes.append(
                    f"{table['name']}: {fmt} on both sides, bodies pass unchanged (--model and the "
                    "route options do not apply)"
                )
        else:
            table.update({**target.route_options, **(route_options or {})})
            if model_map:
                table["model_map"] = dict(model_map)
        tables.append(table)
    return tables, notes
