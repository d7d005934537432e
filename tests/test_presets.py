"""What `crosswire run`'s route options become: presets, known tools, the generated routes file."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest
from crosswire import presets
from crosswire.formats import FORMATS
from crosswire.routes import ConfigError, build_route, dump_routes, load_config, parse_model_map
from crosswire.run import RouteOptions, route_tables

ENV = {"OPENROUTER_API_KEY": "sk-or", "ANTHROPIC_API_KEY": "sk-ant", "OPENAI_API_KEY": "sk-oa"}


@pytest.mark.parametrize(
    ("text", "endpoint", "fmt", "key"),
    [
        ("anthropic", "https://api.anthropic.com/v1/messages", "anthropic", "ANTHROPIC_API_KEY"),
        ("openai", "https://api.openai.com/v1/responses", "openai-responses", "OPENAI_API_KEY"),
        ("gemini", "https://generativelanguage.googleapis.com/v1beta", "gemini", "GEMINI_API_KEY"),
        ("openrouter", "https://openrouter.ai/api/v1/chat/completions", "openai-chat", "OPENROUTER_API_KEY"),
        ("deepseek", "https://api.deepseek.com/chat/completions", "openai-chat", "DEEPSEEK_API_KEY"),
        ("groq", "https://api.groq.com/openai/v1/chat/completions", "openai-chat", "GROQ_API_KEY"),
        ("mistral", "https://api.mistral.ai/v1/chat/completions", "openai-chat", "MISTRAL_API_KEY"),
        ("together", "https://api.together.ai/v1/chat/completions", "openai-chat", "TOGETHER_API_KEY"),
        ("fireworks", "https://api.fireworks.ai/inference/v1/chat/completions", "openai-chat", "FIREWORKS_API_KEY"),
        ("xai", "https://api.x.ai/v1/chat/completions", "openai-chat", "XAI_API_KEY"),
        ("ollama", "http://localhost:11434/v1/chat/completions", "openai-chat", ""),
        ("lmstudio", "http://localhost:1234/v1/chat/completions", "openai-chat", ""),
        ("vllm", "http://localhost:8000/v1/chat/completions", "openai-chat", ""),
        ("ollama@http://gpu:11434/v1", "http://gpu:11434/v1/chat/completions", "openai-chat", ""),
        (
            "openai-chat@http://localhost:9000/v1",
            "http://localhost:9000/v1/chat/completions",
            "openai-chat",
            "OPENAI_API_KEY",
        ),
        ("anthropic@http://h/v1/messages", "http://h/v1/messages", "anthropic", "ANTHROPIC_API_KEY"),
    ],
)
def test_targets(text: str, endpoint: str, fmt: str, key: str) -> None:
    target = presets.parse_target(text, {})
    assert (target.endpoint(), target.format, target.key_env) == (endpoint, fmt, key)


def test_every_preset_is_in_the_table_the_docs_describe() -> None:
    assert list(presets.PROVIDERS) == [
        *("anthropic", "openai", "gemini", "openrouter", "deepseek", "groq", "mistral", "together", "fireworks", "xai"),
        *("ollama", "lmstudio", "vllm", "azure"),
    ]
    docs = (Path(__file__).resolve().parents[1] / "docs" / "tools.md").read_text(encoding="utf-8")
    for name, provider in presets.PROVIDERS.items():
        assert f"| `{name}` |" in docs and f"`{provider.format}`" in docs


def test_azure_takes_its_host_from_the_standard_variable() -> None:
    target = presets.parse_target("azure", {"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com/"})
    assert target.endpoint() == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert target.key_env == "AZURE_OPENAI_API_KEY"
    with pytest.raises(ConfigError, match="set AZURE_OPENAI_ENDPOINT"):
        presets.parse_target("azure", {})


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("nowhere", "not a preset or a format"),
        ("openai-chat", "a format needs the upstream's base URL"),
        ("ollama@gpu-box", "after '@' comes a base URL"),
    ],
)
def test_bad_targets_say_what_to_write(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        presets.parse_target(text, {})


def test_a_known_tool_implies_the_match_and_a_preset_the_upstream() -> None:
    target = presets.parse_target("ollama", {})
    tables, notes = presets.shortcut_routes("/usr/local/bin/claude", target, {"*": "qwen3-coder"})
    assert tables == [
        {
            "name": "claude: api.anthropic.com/v1/messages -> ollama",
            "match": "https://api.anthropic.com/v1/messages",
            "upstream": "http://localhost:11434/v1/chat/completions",
            "client_format": "anthropic",
            "upstream_format": "openai-chat",
            "api_key_env": "",
            "reasoning": False,  # the local presets' default (no reasoning request for a local model)
            "model_map": {"*": "qwen3-coder"},
        }
    ]
    assert notes == []
    route = build_route(tables[0], source="test", name="r", environ={})
    assert route.matches("POST", "https", "api.anthropic.com", 443, "/v1/messages")
    assert not route.matches("POST", "https", "api.openai.com", 443, "/v1/messages")


def test_codex_routes_both_of_its_endpoints() -> None:
    tables, _ = presets.shortcut_routes("codex", presets.parse_target("openrouter", {}), {})
    assert [t["match"] for t in tables] == [
        "https://api.openai.com/v1/responses",
        "https://chatgpt.com/backend-api/codex/responses",
    ]
    assert {t["client_format"] for t in tables} == {"openai-responses"}


def test_an_unknown_tool_gets_the_official_endpoints_and_a_model_map_only_where_it_converts() -> None:
    tables, notes = presets.shortcut_routes("python3", presets.parse_target("anthropic", {}), {"*": "claude-x"})
    assert [(t["match"], "model_map" in t) for t in tables] == [
        ("https://api.anthropic.com/v1/messages", False),  # anthropic to anthropic: bodies pass unchanged
        ("https://api.openai.com/v1/chat/completions", True),
        ("https://api.openai.com/v1/responses", True),
        ("https://generativelanguage.googleapis.com/v1beta/models", True),
    ]
    assert notes == [
        "python3: api.anthropic.com/v1/messages -> anthropic: anthropic on both sides, bodies pass unchanged "
        "(--model and the route options do not apply)"
    ]


def test_route_options_override_the_presets_on_converting_routes() -> None:
    target = presets.parse_target("ollama@http://gpu:11434/v1", {})
    tables, _ = presets.shortcut_routes("claude", target, {}, None, {"reasoning": True, "max_output_tokens": 8192})
    assert (tables[0]["reasoning"], tables[0]["max_output_tokens"]) == (True, 8192)
    (openai,) = presets.shortcut_routes("claude", presets.parse_target("openai", {}), {})[0]
    assert "reasoning" not in openai and "max_output_tokens" not in openai
    route = build_route(tables[0], source="test", name="r", environ={})
    assert route.max_output_tokens == 8192 and route.reasoning is True


def test_a_tool_in_a_format_crosswire_does_not_convert_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    tool = presets.Tool("cohere-cli", (("https://api.cohere.com/v2/chat", "cohere"),))
    monkeypatch.setitem(presets.TOOLS, "cohere-cli", tool)
    with pytest.raises(
        ConfigError, match=re.escape("cohere-cli calls https://api.cohere.com/v2/chat in the cohere format")
    ):
        presets.shortcut_routes("cohere-cli", presets.parse_target("openai", {}), {})


def test_gemini_cli_on_claude_and_claude_code_on_gemini() -> None:
    env = {"ANTHROPIC_API_KEY": "a", "GEMINI_API_KEY": "g"}
    (table,), _ = presets.shortcut_routes("gemini", presets.parse_target("anthropic", {}), {"*": "claude-x"})
    route = build_route(table, source="test", name="r", environ=env)
    assert (route.client_format, route.upstream_format) == ("gemini", "anthropic")
    assert route.matches("POST", "https", "generativelanguage.googleapis.com", 443, "/v1beta/models/m:generateContent")
    (table,), _ = presets.shortcut_routes("claude", presets.parse_target("gemini", {}), {"*": "gemini-2.5-pro"})
    route = build_route(table, source="test", name="r", environ=env)
    assert (route.upstream.host, route.upstream_format, route.api_key_env) == (
        "generativelanguage.googleapis.com",
        "gemini",
        "GEMINI_API_KEY",
    )
    assert route.upstream_path("/v1/messages?beta=true", "gemini-2.5-pro", True) == (
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    )


@pytest.mark.parametrize(
    ("items", "expected"),
    [(["*=a"], {"*": "a"}), (["qwen3"], {"*": "qwen3"}), (["gpt-4o = b", "*=c"], {"gpt-4o": "b", "*": "c"})],
)
def test_models(items: list[str], expected: dict[str, str]) -> None:
    assert parse_model_map(items) == expected


def test_a_model_map_without_a_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="write NAME"):
        parse_model_map(["gpt-4o="])


# --- all route options together --------------------------------------------------------------------


def test_config_then_routes_then_the_shortcut_in_one_routes_file(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text(
        '[[route]]\nmatch = "api.example.test/v1/messages"\nupstream = "https://api.anthropic.com/v1/messages"\n'
        'model_map = { "*" = "claude-haiku-4-5" }\n',
        encoding="utf-8",
    )
    options = RouteOptions(
        to="openrouter",
        models=["*=z-ai/glm-4.6"],
        routes=["https://api.openai.com/v1/chat/completions -> https://api.anthropic.com/v1/messages"],
        config=str(config),
        tool="claude",
    )
    tables, _ = route_tables(options, ENV)
    written = tmp_path / "all.toml"
    written.write_text(dump_routes(tables), encoding="utf-8")
    assert tomllib.loads(written.read_text(encoding="utf-8"))["route"] == tables
    routes = load_config(str(written), environ=ENV)  # what the addon loads
    assert [r.name for r in routes] == [
        "route 'mine.toml route 1'",
        "route 'https://api.openai.com/v1/chat/completions -> https://api.anthropic.com/v1/messages'",
        "route 'claude: api.anthropic.com/v1/messages -> openrouter'",
    ]
    assert routes[0].model_map == {"*": "claude-haiku-4-5"}
    assert routes[2].model_map == {"*": "z-ai/glm-4.6"} and routes[2].api_key == "sk-or"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (RouteOptions(), "no route: give --to"),
        (RouteOptions(models=["*=x"], routes=["/v1/messages -> https://a.test/v1/messages"]), "--model goes with --to"),
        (RouteOptions(to="mistral"), "environment variable MISTRAL_API_KEY is not set"),
        (RouteOptions(to="ollama", key_env="MY_OLLAMA_KEY"), "environment variable MY_OLLAMA_KEY is not set"),
        (RouteOptions(config="/nonexistent/routes.toml"), "crosswire_config /nonexistent/routes.toml: cannot read"),
    ],
)
def test_route_option_errors_name_the_problem(options: RouteOptions, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        route_tables(options, ENV)


@pytest.mark.parametrize("command", ["run", "proxy"])
def test_help_shows_every_option_with_an_example(command: str) -> None:
    from crosswire.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    options = [a for a in sub._actions if a.option_strings and a.dest != "help"]
    docs = (Path(__file__).resolve().parents[1] / "docs" / "tools.md").read_text(encoding="utf-8")
    for action in options:
        assert action.help and "e.g." in action.help, action.option_strings
        assert f"`{action.option_strings[0]}" in docs, action.option_strings  # and documented
    text = sub.format_help()
    assert "examples:" in text and "crosswire " + command in text.split("examples:")[1]


def test_the_official_endpoints_are_on_the_registrys_official_hosts() -> None:
    assert [fmt for _, fmt in presets.OFFICIAL_ENDPOINTS] == [f.name for f in FORMATS if f.official_host]
    for url, fmt in presets.OFFICIAL_ENDPOINTS:
        assert url.split("/")[2] == FORMATS.get(fmt).official_host
        assert FORMATS.get(fmt).claims_route("/" + url.split("/", 3)[3])
