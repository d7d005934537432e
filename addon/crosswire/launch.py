"""Start ``mitmdump`` or ``mitmweb`` with crosswire, know for certain when it listens, stop it cleanly.

The one way the demo, the benchmarks, the tests and ``crosswire run``/``proxy`` start mitmproxy::

    with launch.start(["--set", "crosswire_route=..."], env=env, log=path) as proxy:
        proxy.url            # http://127.0.0.1:PORT, accepting connections
    # stopped: SIGTERM (mitmproxy writes its -w recording and crosswire its summary), then SIGKILL

Readiness does not depend on mitmproxy's output or on anything in the environment: mitmproxy listens
on a port the OS picks (``--listen-port 0``, so no other process can race for it), and the
:mod:`crosswire.ready` script writes the bound addresses to a file in mitmproxy's ``running`` hook,
which comes only after every server listens and never when startup failed; one connection to the
port confirms it. When mitmproxy exits instead, :class:`LaunchError` carries its own error output
(an ``OptionsError`` line for a bad route). The child runs in a session of its own, so a Ctrl-C meant
for a tool in the same terminal does not reach it, and it shuts itself down when its parent is gone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
ENTRY = HERE / "mitm.py"  # the crosswire entry script
READY_SCRIPT = HERE / "ready.py"
START_TIMEOUT = 60.0  # a first start also creates the CA; a loaded machine takes seconds
STOP_TIMEOUT = 10.0
POLL = 0.02
TAIL_LINES = 30
_OPTIONS_ERROR = re.compile(r"OptionsError: (.+)")
# crosswire's own startup error: one line naming the option (crosswire_route, crosswire_config, …)
_CROSSWIRE_ERROR = re.compile(r"^(?:\[[\d:.]+\] )?crosswire: (crosswire_\w+ .+)$", re.M)


class LaunchError(RuntimeError):
    """mitmproxy did not start: the message names why, with mitmproxy's own output."""


def command(tool: str, args: Sequence[str]) -> list[str]:
    """``mitmdump``/``mitmweb`` run by this interpreter: no dependence on PATH or on where pip put
    the console scripts; ``-P`` keeps the working directory off ``sys.path``."""
    if tool not in ("mitmdump", "mitmweb"):
        raise ValueError(f"tool must be mitmdump or mitmweb, not {tool!r}")
    code = f"import sys; from mitmproxy.tools.main import {tool}; sys.exit({tool}())"
    return [sys.executable, "-P", "-c", code, *args]


class Mitmproxy:
    """A started mitmdump/mitmweb child; :func:`start` makes one and waits until it is ready."""

    def __init__(self, proc: subprocess.Popen[bytes], workdir: Path, log: Path | None) -> None:
        self.proc = proc
        self.log = log  # mitmproxy's stdout and stderr; None: they go to this process's
        self.host = "127.0.0.1"
        self.port = 0
        self.web_url: str | None = None
        self._workdir = workdir

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"http://{host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        """Everything mitmproxy has written so far (empty when its output is not a file)."""
        if self.log is None:
            return ""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM (a clean shutdown: recordings and summaries are written), SIGKILL after ``timeout``.
        Returns mitmproxy's exit status (negative: the signal that ended it)."""
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)
        return self.proc.returncode

    def __enter__(self) -> Mitmproxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- startup -----------------------------------------------------------------------------

    def _wait_ready(self, ready_file: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if ready_file.exists():
                state = json.loads(ready_file.read_text(encoding="utf-8"))
                self.host, self.port = _pick_address(state["listen"])
                self.web_url = state.get("web_url")
                self._confirm_listening(deadline)
                return
            code = self.proc.poll()
            if code is not None:
                raise LaunchError(self._failure(f"exited with status {code} before it listened"))
            if time.monotonic() > deadline:
                raise LaunchError(self._failure(f"did not listen within {timeout:.0f} s"))
            time.sleep(POLL)

    def _confirm_listening(self, deadline: float) -> None:
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise LaunchError(
                        self._failure(f"reported {self.url} but it refuses connections ({exc})")
                    ) from None
                time.sleep(POLL)

    def _failure(self, what: str) -> str:
        output = self.output()
        head = f"mitmproxy {what}"
        if self.log is None:
            return head + " (its output is above)"
        reason = _reason(output)
        if reason:
            head += ": " + reason
        tail = "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])
        return f"{head}\nmitmproxy's output ({self.log}):\n{tail}" if tail else f"{head} (it wrote nothing)"


def _reason(output: str) -> str | None:
    """The line of mitmproxy's output that says why it stopped: crosswire's configuration error (a bad
    route), an addon's OptionsError, else the last line that is not part of a traceback."""
    for pattern in (_CROSSWIRE_ERROR, _OPTIONS_ERROR):
        found = pattern.findall(output)
        if found:
            return str(found[-1]).strip()
    lines = [line for line in output.splitlines() if line.strip() and not line[0].isspace()]
    return lines[-1].strip() if lines else None


def _pick_address(listen: list[list[object]]) -> tuple[str, int]:
    """The loopback address to connect to, from what mitmproxy bound (``::``/``0.0.0.0`` mean any)."""
    if not listen:
        raise LaunchError("mitmproxy started without a proxy server (was it given -n?)")
    host, port = str(listen[0][0]), int(str(listen[0][1]))
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return host, port


def start(
    args: Sequence[str] = (),
    *,
    web: bool = False,
    crosswire: bool = True,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    confdir: Path | None = None,
    listen_host: str = "127.0.0.1",
    listen_port: int = 0,
    timeout: float = START_TIMEOUT,
) -> Mitmproxy:
    """Start mitmdump (``web``: mitmweb) with ``args``, return it once it accepts connections.

    ``crosswire`` loads the crosswire entry script (False: a plain mitmproxy, for comparisons).
    ``env``: the child's environment (default: this process's). ``log``: a file for mitmproxy's
    output (None: it shares this process's stdout and stderr). ``confdir``: where mitmproxy keeps its
    CA (default ``~/.mitmproxy``). Raises :class:`LaunchError` with mitmproxy's output when it exits
    or does not listen within ``timeout`` seconds; the child is stopped by then.
    """
    workdir = Path(tempfile.mkdtemp(prefix="crosswire-launch-"))
    ready_file = workdir / "ready.json"
    cmd_args = [
        "--listen-host",
        listen_host,
        "--listen-port",
        str(listen_port),
        *(["--set", f"confdir={confdir}"] if confdir is not None else []),
        *(["-s", str(ENTRY)] if crosswire else []),
        "-s",
        str(READY_SCRIPT),  # after crosswire's: its running hook comes last
        "--set",
        f"crosswire_ready_file={ready_file}",
        "--set",
        f"crosswire_parent_pid={os.getpid()}",
        *args,
    ]
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONUNBUFFERED"] = "1"  # not for readiness: so the log file shows each line as it happens
    out: IO[bytes] | None = None
    try:
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            out = open(log, "wb")  # noqa: SIM115 (the child keeps its own descriptor; ours closes below)
        proc = subprocess.Popen(
            command("mitmweb" if web else "mitmdump", cmd_args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out is not None else None,
            env=child_env,
            start_new_session=True,  # the terminal's Ctrl-C is for the tool, not for mitmproxy
        )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        if out is not None:
            out.close()
    mitm = Mitmproxy(proc, workdir, log)
    try:
        mitm._wait_ready(ready_file, timeout)
    except BaseException:  # a failed start, or Ctrl-C while waiting: never leave the child behind
        mitm.stop()
        raise
    return mitm
