"""Running the real agent CLIs (installed by ``.ci/install-clis``) through a real mitmdump.

Each run gets a throwaway HOME (and CODEX_HOME), a dummy client key, telemetry and auto-update
off, and an environment built from nothing (the developer's proxy variables, keys and config
never leak in). By proxy, the CLI trusts the mitmproxy CA of the run's confdir and mitmdump
answers every host other than the routed API with 403 (``block_list``), so nothing leaves the
machine; by base URL, the CLI talks to mitmdump in reverse mode.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e import UPSTREAM_KEYS, Mitmdump

CLI_DIR = Path(os.environ.get("CROSSWIRE_CLI_DIR") or Path.home() / ".cache" / "crosswire-clis")
BIN = CLI_DIR / "node_modules" / ".bin"
INSTALL_HINT = "run .ci/install-clis (or set CROSSWIRE_CLI_DIR to where it installed them)"

# What the CLIs send as their own key: it must never reach the provider.
CLIENT_KEY_CLAUDE = "sk-ant-CLIENT-claude-code-key"
CLIENT_KEY_CODEX = "sk-CLIENT-codex-key"

# The command the fake provider asks the agent to run: its output exists only if a shell ran it.
COMMAND = "echo crosswire-$((6*7))-ok"
OUTPUT = "crosswire-42-ok"
FINAL_TEXT = "All done: the command printed crosswire-42-ok."


def cli(name: str) -> Path:
    """The installed CLI, or a visible skip saying how to install it."""
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in {CLI_DIR}: {INSTALL_HINT}")
    return path


def version(name: str) -> str:
    manifest = {"claude": "@anthropic-ai/claude-code", "codex": "@openai/codex", "gemini": "@google/gemini-cli"}[name]
    return str(json.loads((CLI_DIR / "node_modules" / manifest / "package.json").read_text())["version"])


def block_others(url: str) -> tuple[str, ...]:
    """mitmdump options answering 403 to every request but one to ``url`` (the routed endpoint,
    whose every request crosswire converts or answers itself, a WebSocket upgrade with 426):
    nothing else the CLI tries (its other endpoints, telemetry) leaves the machine, and each
    attempt is in mitmdump's log."""
    keep = f'~u "^{re.escape(url)}"'
    return ("--set", f"block_list=#!({keep})#403", "--set", "flow_detail=1")  # "#": the URL has colons


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)


def base_env(home: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir())
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1"}


def proxy_env(proxy: Mitmdump) -> dict[str, str]:
    ca = str(ca_file(proxy))
    url = proxy.url
    return {
        "HTTPS_PROXY": url,
        "HTTP_PROXY": url,
        "https_proxy": url,
        "http_proxy": url,
        "NO_PROXY": "",
        "NODE_EXTRA_CA_CERTS": ca,
        "SSL_CERT_FILE": ca,
        "CODEX_CA_CERTIFICATE": ca,
    }


def ca_file(proxy: Mitmdump) -> Path:
    ca = proxy.log_path.parent / "confdir" / "mitmproxy-ca-cert.pem"
    deadline = time.monotonic() + 10
    while not ca.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return ca


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 180) -> Run:
    start = time.monotonic()
    try:
        p = subprocess.run(
            cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        return Run(-1, out, err + f"\n[timed out after {timeout}s]", time.monotonic() - start)
    return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - start)


def judge(run: Run, provider: Any, log: str, client_key: str, final_in: str) -> None:
    """A completed agent loop: the provider refused nothing, saw the shell tool called and its output
    come back, the CLI exited 0 with the final text in ``final_in``; the client's key reached no
    request the provider saw (body, path, headers) and no upstream key reached mitmdump's log."""
    detail = (
        f"\n--- CLI stdout:\n{run.stdout[-3000:]}\n--- CLI stderr:\n{run.stderr[-3000:]}\n--- mitmdump:\n{log[-4000:]}"
    )
    assert provider.rejections == [], f"the provider refused a request: {provider.rejections}{detail}"
    assert provider.script.calls_made >= 1, f"the provider never saw the shell tool{detail}"
    assert any(OUTPUT in o for o in provider.script.outputs_seen), (
        f"the command's output never came back: {provider.script.outputs_seen}{detail}"
    )
    assert run.code == 0, f"the CLI exited {run.code}{detail}"
    assert FINAL_TEXT in final_in, f"the final text did not reach the CLI's output{detail}"
    for r in provider.requests:
        seen = r.body.decode(errors="replace") + r.path + str(r.header_list)
        assert client_key not in seen, "the client's key reached the provider"
    assert not any(key in log for key in UPSTREAM_KEYS.values()), "an upstream key reached the log"


def claude_env(tmp: Path) -> dict[str, str]:
    """Claude Code's environment: a throwaway HOME, telemetry and updates off, a dummy key."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    (tmp / "work").mkdir(exist_ok=True)
    return {
        **base_env(home),
        "ANTHROPIC_API_KEY": CLIENT_KEY_CLAUDE,
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }


def claude_command(prompt: str, *args: str) -> list[str]:
    return [str(cli("claude")), "-p", prompt, "--output-format", "json", *args]


def claude(tmp: Path, prompt: str, env: dict[str, str], *args: str) -> Run:
    """``claude -p PROMPT --output-format json`` with a throwaway HOME and telemetry off."""
    return run(claude_command(prompt, *args), {**claude_env(tmp), **env}, tmp / "work")


def codex(tmp: Path, prompt: str, env: dict[str, str], config: str = "", *args: str) -> Run:
    """``codex exec PROMPT`` with a throwaway HOME/CODEX_HOME holding ``config`` as config.toml."""
    home, work = tmp / "home", tmp / "work"
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    work.mkdir(exist_ok=True)
    (codex_home / "config.toml").write_text(config)
    full = {**base_env(home), "CODEX_HOME": str(codex_home), "OPENAI_API_KEY": CLIENT_KEY_CODEX, **env}
    return run([str(cli("codex")), "exec", "--skip-git-repo-check", *args, prompt], full, work)


def remove_home(tmp: Path) -> None:
    """Throwaway homes can be large (caches): remove them once a run is judged."""
    shutil.rmtree(tmp / "home", ignore_errors=True)
