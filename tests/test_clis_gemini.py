"""The real agent CLIs and the gemini format, through a real mitmdump + crosswire: Gemini CLI (its
default model and settings) routed to an anthropic upstream, and Claude Code routed to a gemini
upstream, each completing an agent loop (tool call -> tool result -> answer), by base URL and by
proxy.

Built on the real-CLI harness (tests/clis.py: pinned CLIs installed by .ci/install-clis, a
throwaway HOME, an environment built from nothing; tests/strict_provider.py: the strict loopback
anthropic provider) and on tests/gemini_provider.py (the strict loopback Gemini API). A scenario
passes when the CLI ran the command (its output exists only if a shell ran it), that output went
back to the provider, the provider's final text reached the CLI's output, the CLI exited 0, the
provider refused nothing, and no client key reached the provider nor any upstream key the log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import clis
import pytest
import strict_provider
from e2e import UPSTREAM_KEYS, Mitmdump
from gemini_provider import GeminiCall, GeminiProvider, GeminiScript

pytestmark = pytest.mark.clis

GEMINI_HOST = "generativelanguage.googleapis.com"
CLIENT_KEY_GEMINI = "CLIENT-gemini-cli-key"
# Gemini CLI refuses `$(…)` in a shell command: this one prints the marker only when a shell runs it.
GEMINI_COMMAND = "printf 'crosswire-%d-ok\\n' 42"


def routes_file(tmp: Path, match: str, upstream: str, model: str) -> Path:
    path = tmp / "routes.toml"
    path.write_text(
        f'[[route]]\nname = "cli"\nmatch = "{match}"\nupstream = "{upstream}"\nmodel_map = {{ "*" = "{model}" }}\n'
    )
    return path


def gemini_cli(tmp: Path, prompt: str, env: dict[str, str]) -> Any:
    """``gemini -p PROMPT --yolo`` with a throwaway HOME: API-key auth, no folder trust prompt, no
    telemetry, no update check."""
    home, work = tmp / "home", tmp / "work"
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    work.mkdir(exist_ok=True)
    settings = {
        "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
        "privacy": {"usageStatisticsEnabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
        "telemetry": {"enabled": False},
    }
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    full = {**clis.base_env(home), "GEMINI_API_KEY": CLIENT_KEY_GEMINI, **env}
    return clis.run([str(clis.cli("gemini")), "-p", prompt, "--yolo"], full, work)


# ---------------------------------------------------------------------------- Gemini CLI -> anthropic


def gemini_cli_pick(tools: list[dict[str, Any]]) -> Any:
    """Gemini CLI's shell tool is ``run_shell_command`` with a ``command``."""
    if any(t["name"] == "run_shell_command" for t in tools):
        return strict_provider.Call("run_shell_command", {"command": GEMINI_COMMAND, "description": "Print a line"})
    return None


@pytest.mark.parametrize("mode", ["base_url", "proxy"])
def test_gemini_cli_on_anthropic(tmp_path: Path, mode: str) -> None:
    clis.cli("gemini")
    script = strict_provider.Script(gemini_cli_pick, clis.OUTPUT, clis.FINAL_TEXT)
    auth = ("x-api-key", UPSTREAM_KEYS["ANTHROPIC_API_KEY"])
    with strict_provider.StrictProvider("anthropic", script, auth) as p:
        match = f"https://{GEMINI_HOST}/v1beta/models" if mode == "proxy" else "/v1beta/models"
        config = routes_file(tmp_path, match, p.url(), "claude-sonnet-4-5")
        if mode == "proxy":
            proxy = Mitmdump(tmp_path, "--set", f"crosswire_config={config}", *clis.block_others(match))
            env = clis.proxy_env(proxy)
        else:
            proxy = Mitmdump(tmp_path, "--mode", f"reverse:{p.upstream.url()}", "--set", f"crosswire_config={config}")
            env = {"GOOGLE_GEMINI_BASE_URL": proxy.url}
        try:
            result = gemini_cli(tmp_path, "Run the test command and tell me what it printed.", env)
        finally:
            log = proxy.stop()
        clis.judge(result, p, log, CLIENT_KEY_GEMINI, result.stdout)
    clis.remove_home(tmp_path)


# ---------------------------------------------------------------------------- Claude Code -> gemini


def claude_pick(tools: list[dict[str, Any]]) -> GeminiCall | None:
    """Claude Code's shell tool is ``Bash`` with a ``command``."""
    if any(t["name"] == "Bash" for t in tools):
        return GeminiCall("Bash", {"command": clis.COMMAND, "description": "Print a test line"})
    return None


@pytest.mark.parametrize("mode", ["base_url", "proxy"])
def test_claude_code_on_gemini(tmp_path: Path, mode: str) -> None:
    """Gemini 3's signature rule holds: the model the route names is a gemini-3 one."""
    clis.cli("claude")
    script = GeminiScript(claude_pick, clis.OUTPUT, clis.FINAL_TEXT)
    with GeminiProvider(script, UPSTREAM_KEYS["GEMINI_API_KEY"]) as p:
        match = "https://api.anthropic.com/v1/messages" if mode == "proxy" else "/v1/messages"
        config = routes_file(tmp_path, match, p.url(), "gemini-3-pro-preview")
        if mode == "proxy":
            proxy = Mitmdump(tmp_path, "--set", f"crosswire_config={config}", *clis.block_others(match))
            env = clis.proxy_env(proxy)
        else:
            proxy = Mitmdump(tmp_path, "--mode", f"reverse:{p.server.url()}", "--set", f"crosswire_config={config}")
            env = {"ANTHROPIC_BASE_URL": proxy.url}
        try:
            result = clis.claude(tmp_path, "Run the test command and tell me what it printed.", env)
        finally:
            log = proxy.stop()
        out = result.json().get("result", "") if result.stdout.strip().startswith("{") else result.stdout
        clis.judge(result, p, log, clis.CLIENT_KEY_CLAUDE, out)
    clis.remove_home(tmp_path)
