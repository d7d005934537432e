"""The readiness signal of crosswire's launcher (:mod:`crosswire.launch`), loaded as a second ``-s`` script.

Not for users: :func:`crosswire.launch.start` loads it beside (or, for a plain mitmproxy, instead of) the
crosswire entry script. It does two things mitmproxy's output cannot be trusted for:

- ``crosswire_ready_file``: in the ``running`` hook, which mitmproxy calls only after every proxy
  server is bound and listening (and never when startup failed), it writes the real listen addresses
  (``--listen-port 0`` lets the OS pick a free port, so nothing can race for it) to this file,
  atomically. Reading mitmproxy's "listening at" log line instead fails when its output is
  block-buffered in a pipe, and that line is also logged when startup then fails.
- ``crosswire_parent_pid``: mitmproxy shuts down cleanly (recordings and summaries written) as soon as
  this process is no longer its parent, so it never outlives the launcher, even one that was killed.

Imports only mitmproxy and the standard library: mitmproxy loads it by path.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from mitmproxy import ctx

PARENT_POLL = 0.5  # seconds between checks that the launcher is still there


class Ready:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def load(self, loader: Any) -> None:
        loader.add_option(
            "crosswire_ready_file", str, "", "Launcher use: write the listen addresses here once listening."
        )
        loader.add_option(
            "crosswire_parent_pid", int, 0, "Launcher use: shut down when this process is no longer the parent."
        )

    def running(self) -> None:
        path = ctx.options.crosswire_ready_file
        if path:
            proxyserver: Any = ctx.master.addons.get("proxyserver")
            listen = [[addr[0], addr[1]] for addr in proxyserver.listen_addrs()]
            state = {"pid": os.getpid(), "listen": listen, "web_url": _web_url()}
            partial = f"{path}.partial"
            with open(partial, "w", encoding="utf-8") as f:
                json.dump(state, f)
            os.replace(partial, path)  # the launcher never sees a half-written file
        parent = ctx.options.crosswire_parent_pid
        if parent and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, args=(parent,), name="crosswire-parent", daemon=True)
            self._watcher.start()

    def _watch(self, parent: int) -> None:
        while not self._stop.wait(PARENT_POLL):
            if os.getppid() != parent:
                ctx.master.shutdown()  # thread-safe; the same clean shutdown as SIGTERM
                return

    def done(self) -> None:
        self._stop.set()


def _web_url() -> str | None:
    """mitmweb's address (with its token on mitmproxy 12); None for mitmdump."""
    url = getattr(ctx.master, "web_url", None)
    if isinstance(url, str):
        return url
    if hasattr(ctx.options, "web_port"):  # mitmweb 11 has no web_url and no token
        return f"http://{ctx.options.web_host or '127.0.0.1'}:{ctx.options.web_port}/"
    return None


addons = [Ready()]
