"""End-to-end helpers: a real mitmdump process with crosswire loaded, on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from conftest import ROOT

MITMDUMP = Path(sys.executable).parent / "mitmdump"
ENTRY = ROOT / "addon" / "crosswire" / "mitm.py"

# Upstream keys the routes inject; tests search recordings and logs for them.
ANTHROPIC_KEY = "sk-ant-UPSTREAM-SECRET-0123456789"
OPENAI_KEY = "sk-proj-UPSTREAM-SECRET-9876543210"
# What the SDK clients send: they must never reach an upstream.
CLIENT_OPENAI_KEY = "sk-CLIENT-openai-key"
CLIENT_ANTHROPIC_KEY = "sk-ant-CLIENT-anthropic-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mitmdump:
    """``mitmdump`` (or ``program``: ``mitmweb``) with the crosswire entry script; stopped by
    :meth:`stop` (tests use fixtures)."""

    def __init__(
        self,
        tmp: Path,
        *args: str,
        listen: bool = True,
        env: dict[str, str] | None = None,
        program: str = "mitmdump",
    ) -> None:
        self.port = free_port() if listen else 0
        self.log_path = tmp / f"mitmdump-{self.port}-{time.monotonic_ns()}.log"
        confdir = tmp / "confdir"
        confdir.mkdir(exist_ok=True)
        cmd = [str(MITMDUMP.with_name(program)), "--set", f"confdir={confdir}", "-s", str(ENTRY), *args]
        if listen:
            cmd += ["--listen-host", "127.0.0.1", "--listen-port", str(self.port)]
        full_env = {**os.environ, "ANTHROPIC_API_KEY": ANTHROPIC_KEY, "OPENAI_API_KEY": OPENAI_KEY, **(env or {})}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env)
        if listen:
            self._wait_listening()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_listening(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mitmdump exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mitmdump did not listen within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self._log.closed:
            self._log.close()
        return self.log_path.read_text(errors="replace")


def run_mitmdump(tmp: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str]:
    """A mitmdump that exits by itself (``-nr file``): its status and output."""
    m = Mitmdump(tmp, *args, listen=False, env=env)
    code = m.wait(timeout)
    return code, m.log_path.read_text(errors="replace")


def route_args(*routes: str, extra: Sequence[str] = ()) -> list[str]:
    out: list[str] = []
    for r in routes:
        out += ["--set", f"crosswire_route={r}"]
    return out + list(extra)


@contextlib.contextmanager
def proxy_with_routes(confdir: Path, *routes: str) -> Iterator[Mitmdump]:
    """A regular-mode mitmdump with crosswire and ``routes``; on exit its log must hold no upstream key."""
    m = Mitmdump(confdir, *route_args(*routes))
    try:
        yield m
    finally:
        out = m.stop()
    assert ANTHROPIC_KEY not in out and OPENAI_KEY not in out, "an upstream key reached the log"
