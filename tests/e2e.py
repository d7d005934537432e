"""End-to-end helpers: a real mitmdump process with crosswire loaded, on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from crosswire import launch
from crosswire.formats import FORMATS

# Upstream keys the routes inject, one per registered format's key variable; tests search
# recordings and logs for them.
ANTHROPIC_KEY = "sk-ant-UPSTREAM-SECRET-0123456789"
OPENAI_KEY = "sk-proj-UPSTREAM-SECRET-9876543210"
UPSTREAM_KEYS = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "OPENAI_API_KEY": OPENAI_KEY}
for _fmt in FORMATS:
    UPSTREAM_KEYS.setdefault(_fmt.key_env, f"{_fmt.name}-UPSTREAM-SECRET-{len(UPSTREAM_KEYS)}")
# What the SDK clients send: they must never reach an upstream.
CLIENT_OPENAI_KEY = "sk-CLIENT-openai-key"
CLIENT_ANTHROPIC_KEY = "sk-ant-CLIENT-anthropic-key"


def processes_with(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (``NAME=VALUE``): a command a test started and every
    process that inherited it (Linux: reads /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or not ours to read
            continue
        if marker.encode() in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def unused_port() -> int:
    """A loopback port free right now, for what mitmproxy must be told a port for besides its own
    listener (a second proxy mode, mitmweb's UI); the launcher's listener needs none."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port nothing answers on: bound by this socket but not listening, so no other process
    can take it meanwhile (a port found free and released could be)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


class Mitmdump:
    """``mitmdump`` (``web``: ``mitmweb``) with the crosswire entry script (``script=False``: a plain
    one), started by :func:`crosswire.launch.start` (ready when constructed, on a port the OS chose);
    stopped by :meth:`stop` (tests use fixtures). ``listen=False`` runs one that exits by itself
    (``-nr file``)."""

    def __init__(
        self,
        tmp: Path,
        *args: str,
        listen: bool = True,
        env: dict[str, str] | None = None,
        script: bool = True,
        web: bool = False,
    ) -> None:
        self.log_path = tmp / f"mitmdump-{time.monotonic_ns()}.log"
        confdir = tmp / "confdir"
        confdir.mkdir(exist_ok=True)
        full_env = {**os.environ, **UPSTREAM_KEYS, **(env or {})}
        self._launched: launch.Mitmproxy | None = None
        if listen:
            self._launched = launch.start(
                args, web=web, crosswire=script, env=full_env, log=self.log_path, confdir=confdir
            )
            self.proc = self._launched.proc
            self.port = self._launched.port
        else:
            entry = ["-s", str(launch.ENTRY)] if script else []
            cmd = launch.command("mitmdump", ["--set", f"confdir={confdir}", *entry, *args])
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
            self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> str:
        if self._launched is not None:
            self._launched.stop(15)
        elif self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        return self.output()


def run_mitmdump(tmp: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str]:
    """A mitmdump that exits by itself (``-nr file``): its status and output."""
    m = Mitmdump(tmp, *args, listen=False, env=env)
    try:
        code = m.wait(timeout)
    finally:
        m.stop()
    return code, m.output()


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
    assert not any(key in out for key in UPSTREAM_KEYS.values()), "an upstream key reached the log"
