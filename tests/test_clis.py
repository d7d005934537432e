"""The real agent CLIs, at their pinned versions and with their default model and settings, complete
an agent loop (tool call -> tool result -> answer) through a real mitmdump + crosswire against the
strict fake provider, by proxy and by base URL.

A scenario passes when the CLI ran the command (its output exists only if a shell ran it), that
output went back to the provider, the provider's final text reached the CLI's output, the CLI
exited 0, the provider refused nothing, and the CLI's own key never reached the provider.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import clis
import pytest
from crosswire_run import crosswire_run
from e2e import ANTHROPIC_KEY, OPENAI_KEY, Mitmdump
from strict_provider import Call, Script, StrictProvider

pytestmark = pytest.mark.clis


def claude_pick(tools: list[dict[str, Any]]) -> Call | None:
    """Claude Code's shell tool is ``Bash`` with a ``command``."""
    if any(t["name"] == "Bash" for t in tools):
        return Call("Bash", {"command": clis.COMMAND, "description": "Print a test line"})
    return None


def codex_pick(tools: list[dict[str, Any]]) -> Call | None:
    """Codex's default model gets one freeform ``exec`` tool (JavaScript that calls
    ``tools.exec_command``): crosswire makes it a function with one string parameter."""
    for t in tools:
        props = (t["parameters"] or {}).get("properties") or {}
        if str(t["name"]).endswith("exec") and len(props) == 1:
            (param,) = props
            js = f"const r = await tools.exec_command({{cmd: {clis.COMMAND!r}}});\ntext(r.output);"
            return Call(t["name"], js if t["kind"] == "custom" else {param: js})
    for t in tools:
        if str(t["name"]).endswith("exec_command"):
            return Call(t["name"], {"cmd": clis.COMMAND})
    return None


def routes_file(tmp: Path, match: str, upstream: str, **fields: Any) -> Path:
    lines = ["[[route]]", 'name = "cli"', f"match = {match!r}", f"upstream = {upstream!r}"]
    for key, value in fields.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k!r} = {v!r}" for k, v in value.items())
            lines.append(f"{key} = {{ {inner} }}")
        elif isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        else:
            lines.append(f"{key} = {value!r}")
    path = tmp / "routes.toml"
    path.write_text("\n".join(lines).replace("'", '"') + "\n")
    return path


def auth_for(fmt: str) -> tuple[str, str]:
    return ("x-api-key", ANTHROPIC_KEY) if fmt == "anthropic" else ("authorization", f"Bearer {OPENAI_KEY}")


# ---------------------------------------------------------------------------- Claude Code


CLAUDE_UPSTREAMS = {"openai-chat": "gpt-5", "openai-responses": "gpt-5"}


def claude_scenario(tmp: Path, upstream: str, mode: str, model: str, **route: Any) -> None:
    clis.cli("claude")
    with StrictProvider(upstream, Script(claude_pick, clis.OUTPUT, clis.FINAL_TEXT), auth_for(upstream)) as p:
        match = "https://api.anthropic.com/v1/messages" if mode == "proxy" else "/v1/messages"
        config = routes_file(tmp, match, p.url(), model_map={"*": model}, **route)
        if mode == "proxy":
            proxy = Mitmdump(tmp, "--set", f"crosswire_config={config}", *clis.block_others(match))
            env = clis.proxy_env(proxy)
        else:
            proxy = Mitmdump(tmp, "--mode", f"reverse:{p.upstream.url()}", "--set", f"crosswire_config={config}")
            env = {"ANTHROPIC_BASE_URL": proxy.url}
        try:
            result = clis.claude(tmp, "Run the test command and tell me what it printed.", env)
        finally:
            proxy.stop()
        out = result.json().get("result", "") if result.stdout.strip().startswith("{") else result.stdout
        clis.judge(result, p, proxy.stop(), clis.CLIENT_KEY_CLAUDE, out)
    clis.remove_home(tmp)


@pytest.mark.parametrize("upstream", ["openai-chat", "openai-responses"])
def test_claude_code_by_proxy(tmp_path: Path, upstream: str) -> None:
    claude_scenario(tmp_path, upstream, "proxy", CLAUDE_UPSTREAMS[upstream])


def test_claude_code_by_base_url(tmp_path: Path) -> None:
    claude_scenario(tmp_path, "openai-chat", "base_url", "gpt-5")


def test_claude_code_to_gpt_4o(tmp_path: Path) -> None:
    """A non-reasoning model with a 16384-token output limit: the route says so."""
    claude_scenario(tmp_path, "openai-chat", "proxy", "gpt-4o", reasoning=False, max_output_tokens=16384)


def test_claude_code_under_crosswire_run(tmp_path: Path) -> None:
    """The one-command way (issue 12): ``crosswire run --to openai-chat@URL --model gpt-5 -- claude -p …``
    sets the proxy and CA variables itself; the tool's exit status and the provider's usage come back."""
    clis.cli("claude")
    script = Script(claude_pick, clis.OUTPUT, clis.FINAL_TEXT)
    with StrictProvider("openai-chat", script, auth_for("openai-chat")) as p:
        env = {**clis.claude_env(tmp_path), "OPENAI_API_KEY": OPENAI_KEY}
        run_args = ["--to", f"openai-chat@{p.url('/v1')}", "--model", "gpt-5", "--key-env", "OPENAI_API_KEY"]
        # Claude Code's settings and policy fetches are not routed: answered 403 on the machine, as in the
        # other proxy scenarios, instead of trying to leave it.
        blocked = clis.block_others("https://api.anthropic.com/v1/messages")
        run_args += [arg for i, arg in enumerate(blocked[1::2]) for arg in ("--set", arg)]
        prompt = "Run the test command and tell me what it printed."
        result = crosswire_run(tmp_path, run_args, clis.claude_command(prompt), env, timeout=240, cwd=tmp_path / "work")
        detail = "".join(
            f"\n--- {name}:\n{text[-3000:]}"
            for name, text in (("stdout", result.stdout), ("stderr", result.stderr), ("log", result.log))
        )
        assert result.returncode == 0, detail
        assert result.leftovers == [], "a process of the run was left behind"
        assert p.rejections == [], f"the provider refused a request: {p.rejections}{detail}"
        assert any(clis.OUTPUT in o for o in p.script.outputs_seen), detail
        assert clis.FINAL_TEXT in result.stdout, detail
        for r in p.requests:
            assert clis.CLIENT_KEY_CLAUDE not in r.body.decode(errors="replace")
            assert all(clis.CLIENT_KEY_CLAUDE not in v for _, v in r.header_list)
        assert OPENAI_KEY not in result.log + result.stdout + result.stderr
        group = result.group("")
        assert group["requests"] == len(p.requests) >= 2
    clis.remove_home(tmp_path)


# ---------------------------------------------------------------------------- Codex


# No analytics, no update check: nothing but the model API (what the CLI still tries is blocked).
CODEX_QUIET = """check_for_update_on_startup = false
[analytics]
enabled = false
"""
CODEX_PROVIDER = """model_provider = "crosswire"
[model_providers.crosswire]
name = "crosswire"
base_url = "{url}/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
"""


def codex_scenario(tmp: Path, upstream: str, mode: str, model: str, **route: Any) -> None:
    clis.cli("codex")
    with StrictProvider(upstream, Script(codex_pick, clis.OUTPUT, clis.FINAL_TEXT), auth_for(upstream)) as p:
        match = "https://api.openai.com/v1/responses" if mode == "proxy" else "/v1/responses"
        config = routes_file(tmp, match, p.url(), model_map={"*": model}, **route)
        if mode == "proxy":
            proxy = Mitmdump(tmp, "--set", f"crosswire_config={config}", *clis.block_others(match))
            env, toml = clis.proxy_env(proxy), CODEX_QUIET
        else:
            proxy = Mitmdump(tmp, "--mode", f"reverse:{p.upstream.url()}", "--set", f"crosswire_config={config}")
            env, toml = {}, CODEX_PROVIDER.format(url=proxy.url) + CODEX_QUIET
        try:
            result = clis.codex(tmp, "Run the test command and tell me what it printed.", env, toml)
        finally:
            proxy.stop()
        clis.judge(result, p, proxy.stop(), clis.CLIENT_KEY_CODEX, result.stdout)
    clis.remove_home(tmp)


def test_codex_to_anthropic_by_proxy(tmp_path: Path) -> None:
    codex_scenario(tmp_path, "anthropic", "proxy", "claude-sonnet-4-5")


def test_codex_to_anthropic_by_base_url(tmp_path: Path) -> None:
    codex_scenario(tmp_path, "anthropic", "base_url", "claude-sonnet-4-5")


def test_codex_to_openai_chat(tmp_path: Path) -> None:
    codex_scenario(tmp_path, "openai-chat", "base_url", "gpt-5")
