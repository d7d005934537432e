"""``crosswire run -- TOOL``, ``crosswire proxy`` and ``crosswire env``: mitmproxy with crosswire around a
tool in one command.

``run`` starts mitmdump (``--web``: mitmweb) with the routes the options describe on a free loopback
port (:mod:`crosswire.launch`), then the tool, attached to this terminal, with the proxy variables and
mitmproxy's CA in every variable common tools read (:mod:`crosswire.ca`). It passes the tool's exit
status through, forwards SIGTERM (and Ctrl-C when the terminal did not already deliver it), stops
mitmdump however the tool ends, and prints the usage summary the addon wrote (``crosswire_summary``).
``proxy`` is the same mitmdump without a tool; ``env`` prints the CA variables.

:func:`run_tool` is ``run`` for a caller that already parsed its arguments; tests run the real
command in a subprocess with ``tests/crosswire_run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from . import ca, launch, presets, stats
from .routes import ConfigError, build_route, dump_routes, load_config, parse_line, parse_model_map

LOOPBACK = "localhost,127.0.0.1,::1"
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
KEEP_LOGS = 20  # run logs kept in the state directory
# Signals a terminal sends to its whole foreground group, and every one run handles (those the platform has).
FOREGROUND_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGQUIT", "SIGHUP") if hasattr(signal, name))
HANDLED_SIGNALS = (*FOREGROUND_SIGNALS, signal.SIGTERM)


# --- routes ---------------------------------------------------------------------------------------


@dataclass
class RouteOptions:
    """The route options ``run`` and ``proxy`` share."""

    to: str | None = None
    models: list[str] = field(default_factory=list)
    key_env: str | None = None
    routes: list[str] = field(default_factory=list)
    config: str | None = None
    tool: str | None = None  # whose endpoints --to routes (default: the command's name)
    max_output_tokens: int | None = None
    reasoning: bool | None = None

    def shortcut_options(self) -> dict[str, Any]:
        """The route options --to's routes get on top of the preset's."""
        options: dict[str, Any] = {}
        if self.max_output_tokens is not None:
            options["max_output_tokens"] = self.max_output_tokens
        if self.reasoning is not None:
            options["reasoning"] = self.reasoning
        return options


def route_tables(options: RouteOptions, environ: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every route the options describe, validated, in the order they match: the routes file's, then
    each --route, then the --to shortcut's. Returns the tables and notes for the user."""
    env = dict(environ)
    tables: list[dict[str, Any]] = []
    notes: list[str] = []
    if options.config:
        load_config(options.config, environ=env)  # its own errors name the file, the route and the field
        with open(os.path.expanduser(options.config), "rb") as f:
            for i, table in enumerate(tomllib.load(f).get("route", []), 1):
                tables.append({"name": f"{Path(options.config).name} route {i}", **table})
    for line in options.routes:
        tables.append({"name": line.strip(), **parse_line(line)})
    if options.models and not options.to:
        raise ConfigError("--model goes with --to (a routes file sets model_map on each route)")
    if options.key_env is not None and not options.to:
        raise ConfigError("--key-env goes with --to (a routes file sets api_key_env on each route)")
    if options.shortcut_options() and not options.to:
        raise ConfigError("--max-output-tokens and --reasoning go with --to (a routes file sets them on each route)")
    if options.to:
        target = presets.parse_target(options.to, env)
        shortcut, notes = presets.shortcut_routes(
            options.tool or "", target, parse_model_map(options.models), options.key_env, options.shortcut_options()
        )
        tables += shortcut
    if not tables:
        raise ConfigError("no route: give --to PRESET (or FORMAT@URL), --route 'MATCH -> UPSTREAM' or --config FILE")
    for table in tables:
        build_route(table, source="crosswire", name=repr(table["name"]), environ=env)
    return tables, notes


def add_route_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("routes (first match wins: --config's, then each --route, then --to's)")
    group.add_argument(
        "--to",
        metavar="PRESET|FORMAT@URL",
        help="where the tool's requests go: a preset (" + ", ".join(presets.PROVIDERS) + "), a preset on "
        "another host (ollama@http://gpu-box:11434/v1) or a format at a base URL "
        "(openai-chat@http://localhost:8000/v1); e.g. --to openrouter",
    )
    group.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="[CLIENT=]UPSTREAM",
        help="with --to: send model UPSTREAM when the tool asks for CLIENT ('*' or no CLIENT: any other); "
        "repeatable; e.g. --model qwen3-coder or --model claude-haiku-4-5=qwen3-coder",
    )
    group.add_argument(
        "--key-env",
        metavar="NAME",
        help="with --to: the variable holding the upstream's key, instead of the preset's ('' sends none); "
        "e.g. --key-env MY_OPENROUTER_KEY",
    )
    group.add_argument(
        "--max-output-tokens",
        type=int,
        metavar="N",
        help="with --to: the most output tokens the upstream model takes (a larger request is clamped); "
        "e.g. --max-output-tokens 16384 for gpt-4o",
    )
    group.add_argument(
        "--reasoning",
        choices=("on", "off"),
        help="with --to: whether the upstream model takes reasoning requests (default: on, off for the local "
        "and deepseek presets); e.g. --reasoning off for gpt-4o",
    )
    group.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="'MATCH -> UPSTREAM'",
        help="a route, as crosswire_route; repeatable; "
        "e.g. --route 'https://api.openai.com/v1/chat/completions -> https://api.anthropic.com/v1/messages'",
    )
    group.add_argument(
        "--config", metavar="FILE", help="a TOML routes file, as crosswire_config; e.g. --config routes.toml"
    )
    group.add_argument(
        "--tool",
        metavar="NAME",
        help="route the endpoints of this known tool (" + ", ".join(presets.TOOLS) + ") whatever the command is "
        "called; e.g. --tool claude for a wrapper script",
    )


def _route_options(args: argparse.Namespace) -> RouteOptions:
    reasoning = None if args.reasoning is None else args.reasoning == "on"
    return RouteOptions(
        args.to, args.model, args.key_env, args.route, args.config, args.tool, args.max_output_tokens, reasoning
    )


# --- mitmproxy --------------------------------------------------------------------------------------


def add_mitmproxy_options(parser: argparse.ArgumentParser, *, log_default: str) -> None:
    group = parser.add_argument_group("mitmproxy")
    group.add_argument("--web", action="store_true", help="run mitmweb to watch the flows in the browser; e.g. --web")
    group.add_argument("--record", metavar="FILE", help="record every flow to FILE (mitmdump -w); e.g. --record s.flow")
    group.add_argument(
        "--log",
        metavar="FILE|-",
        help=f"where mitmproxy's own output goes ('-': this terminal; default: {log_default}); e.g. --log mitm.log",
    )
    group.add_argument(
        "--confdir",
        metavar="DIR",
        help="mitmproxy's configuration directory, where its CA lives (default: ~/.mitmproxy); "
        "e.g. --confdir ~/.crosswire-ca",
    )
    group.add_argument(
        "--set",
        dest="mitm_set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="a mitmproxy option; repeatable; e.g. --set web_port=8082",
    )
    group = parser.add_argument_group("summary")
    group.add_argument("--quiet", action="store_true", help="print no summary (nor the start line); e.g. --quiet")
    group.add_argument(
        "--summary-json", metavar="FILE", help="also write the summary as JSON to FILE; e.g. --summary-json use.json"
    )


def _state_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "crosswire"


def _run_log(environ: Mapping[str, str]) -> Path:
    """A new log file for this run; older ones beyond the newest KEEP_LOGS are removed."""
    logs = _state_dir(environ) / "logs"
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in sorted(logs.glob("run-*.log"))[: -KEEP_LOGS + 1]:
        old.unlink(missing_ok=True)
    return logs / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


@dataclass
class Session:
    """What ``run`` and ``proxy`` start: the routes file, the summary file, mitmproxy's log."""

    workdir: Path
    confdir: Path
    summary: Path
    log: Path | None
    notes: list[str]
    routes: list[dict[str, Any]]


def _mitmproxy_args(args: argparse.Namespace, session: Session) -> list[str]:
    routes_file = session.workdir / "routes.toml"
    routes_file.write_text(dump_routes(session.routes), encoding="utf-8")
    out = [
        # mitmproxy must not connect to the original host at CONNECT: crosswire sends matched flows elsewhere
        "--set",
        "connection_strategy=lazy",
        "--set",
        f"crosswire_config={routes_file}",
        "--set",
        f"crosswire_summary={session.summary}",
    ]
    if args.record:
        out += ["-w", str(Path(args.record).expanduser().resolve())]
    if args.web:
        out += ["--set", "web_open_browser=false"] if not sys.stdout.isatty() else []
    for item in args.mitm_set:
        out += ["--set", item]
    return out


@contextmanager
def _session(args: argparse.Namespace, environ: Mapping[str, str], *, log_to_file: bool) -> Iterator[Session]:
    """``log_to_file``: mitmproxy's output goes to a new run log unless --log says otherwise."""
    tables, notes = route_tables(_route_options(args), environ)
    if args.log == "-" or (args.log is None and not log_to_file):
        log = None
    else:
        log = Path(args.log).expanduser() if args.log else _run_log(environ)
    workdir = Path(tempfile.mkdtemp(prefix="crosswire-"))
    try:
        yield Session(
            workdir=workdir,
            confdir=Path(args.confdir).expanduser() if args.confdir else ca.default_confdir(),
            summary=Path(args.summary_json).expanduser().resolve() if args.summary_json else workdir / "summary.json",
            log=log,
            notes=notes,
            routes=tables,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def tool_environment(environ: Mapping[str, str], proxy_url: str, ca_variables: Mapping[str, str]) -> dict[str, str]:
    """The tool's environment: every proxy variable on crosswire, loopback direct, the CA variables.

    NO_PROXY is loopback only: a host the user excluded from their own proxy still has to pass
    crosswire, or its requests would not be converted. NODE_USE_ENV_PROXY makes Node 24+ apply the
    proxy variables to its built-in fetch as well.
    """
    env = dict(environ)
    env.update(dict.fromkeys(PROXY_VARIABLES, proxy_url))
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
    env["NODE_USE_ENV_PROXY"] = "1"
    env.update(ca_variables)
    return env


# --- signals --------------------------------------------------------------------------------------


class Interrupted(Exception):
    """A signal that ends ``run`` before the tool started, or ends ``proxy``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _terminal_sent_it_to_the_group() -> bool:
    """Whether this process is in the foreground group of its terminal: then the terminal's Ctrl-C,
    Ctrl-\\ and hangup reached the tool (same group) directly, and forwarding would deliver them twice."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp():  # (POSIX; run is not for Windows)
                return True
        except OSError:
            continue
    return False


class _Signals:
    """Until a tool runs, INT/TERM/HUP/QUIT raise :class:`Interrupted`; while it runs, they go to the tool
    (a second SIGTERM kills it); while mitmproxy stops, they are ignored."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self._launching = False
        self._pending: list[int] = []
        self._terms = 0
        self._previous: dict[int, Any] = {}

    def start(self, command: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
        """Start the tool; a signal that arrives meanwhile is passed to it once it runs (never lost)."""
        self._launching = True
        try:
            self.child = subprocess.Popen(list(command), env=dict(env))
        finally:
            self._launching = False
        for signum in self._pending:
            self._handle(signum, None)
        return self.child

    def __enter__(self) -> _Signals:
        for signum in HANDLED_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return
        if self._launching:
            self._pending.append(signum)
            return
        child = self.child
        if child is None:
            raise Interrupted(signum)
        if child.poll() is not None:
            return
        if signum in FOREGROUND_SIGNALS and _terminal_sent_it_to_the_group():
            return
        if signum == signal.SIGTERM:
            self._terms += 1
            if self._terms > 1:
                child.kill()
                return
        child.send_signal(signum)


def exit_status(returncode: int) -> int:
    """A child's status as a shell reports it: killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


# --- the commands -------------------------------------------------------------------------------


def _say(quiet: bool, *lines: str) -> None:
    if not quiet:
        for line in lines:
            print(line, file=sys.stderr, flush=True)


def _start(
    args: argparse.Namespace, session: Session, environ: Mapping[str, str], extra: Sequence[str] = (), **listen: Any
) -> launch.Mitmproxy:
    """mitmdump or mitmweb for the session, ready (``listen``: host and port; default a free loopback port)."""
    return launch.start(
        [*_mitmproxy_args(args, session), *extra],
        web=args.web,
        env=environ,
        log=session.log,
        confdir=session.confdir,
        **listen,
    )


def _finish(args: argparse.Namespace, session: Session, status: int) -> None:
    """After mitmproxy stopped: its summary, and what went wrong with it, if anything."""
    where = f"; its log: {session.log}" if session.log else ""
    if status not in (0, -signal.SIGTERM):
        print(f"crosswire: mitmproxy ended with status {status}{where}", file=sys.stderr)
    try:
        summary = json.loads(session.summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"crosswire: no summary: mitmproxy did not shut down cleanly{where}", file=sys.stderr)
        return
    _say(args.quiet, *stats.lines(summary))


def _route_lines(session: Session) -> list[str]:
    return [f"  {t['match']} -> {t['upstream']}" for t in session.routes] + [f"  note: {n}" for n in session.notes]


Body = Callable[[Session, _Signals, launch.Mitmproxy], int]


def _with_mitmproxy(
    command: str,
    args: argparse.Namespace,
    environ: Mapping[str, str],
    body: Body,
    *,
    log_to_file: bool,
    extra: Sequence[str] = (),
    **listen: Any,
) -> int:
    """Routes checked, mitmproxy started, ``body`` run, mitmproxy stopped however ``body`` ends, the
    summary printed. Returns ``body``'s status (2: crosswire could not start; 128 + N: signal N before
    ``body`` began)."""
    try:
        with _session(args, environ, log_to_file=log_to_file) as session, _Signals() as signals:
            try:
                mitm = _start(args, session, environ, extra, **listen)
            except launch.LaunchError as exc:
                print(f"crosswire {command}: {exc}", file=sys.stderr)
                return 2
            try:
                code = body(session, signals, mitm)
            finally:
                signals.stopping = True
                status = mitm.stop()
            _finish(args, session, status)
            return code
    except Interrupted as stop:
        print(f"crosswire {command}: {stop} while starting; stopped", file=sys.stderr)
        return 128 + stop.signum
    except ConfigError as exc:
        print(f"crosswire {command}: {exc}", file=sys.stderr)
        return 2


def cmd_run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("crosswire run: name the tool after --, e.g. crosswire run --to ollama -- claude", file=sys.stderr)
        return 2
    args.tool = args.tool or command[0]
    return run_tool(args, command, dict(os.environ))


def run_tool(args: argparse.Namespace, command: Sequence[str], environ: dict[str, str]) -> int:
    """``crosswire run`` with the parsed arguments of its parser (:func:`add_parsers`): mitmproxy, then
    ``command`` in ``environ`` plus the proxy and CA variables. Returns the tool's exit status (2 when
    crosswire could not start, 127 when the command is not found, 128 + N after signal N arrived before
    the tool started)."""

    def tool(session: Session, signals: _Signals, mitm: launch.Mitmproxy) -> int:
        child_env = tool_environment(environ, mitm.url, ca.variables(session.confdir, environ))
        web = [f"  mitmweb: {mitm.web_url}"] if mitm.web_url else []
        log = f"; mitmproxy log: {session.log}" if session.log else ""
        _say(args.quiet, f"crosswire: proxy {mitm.url}{log}", *_route_lines(session), *web)
        try:
            child = signals.start(command, child_env)
        except OSError as exc:
            print(f"crosswire run: cannot start {command[0]}: {exc.strerror or exc}", file=sys.stderr)
            return 127
        return exit_status(child.wait())

    return _with_mitmproxy("run", args, environ, tool, log_to_file=True)


def cmd_proxy(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    extra = list(args.mitmproxy_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]

    def serve(session: Session, signals: _Signals, mitm: launch.Mitmproxy) -> int:
        variables = {
            **dict.fromkeys(PROXY_VARIABLES[:3], mitm.url),
            "NO_PROXY": LOOPBACK,
            **ca.variables(session.confdir, environ),
        }
        print(f"# crosswire proxy at {mitm.url}; Ctrl-C stops it and prints the summary", flush=True)
        for line in _route_lines(session):
            print("#" + line, flush=True)
        if mitm.web_url:
            print(f"# mitmweb: {mitm.web_url}", flush=True)
        print("\n".join(ca.export_lines(variables)), flush=True)
        try:
            status = mitm.proc.wait()
        except Interrupted:  # Ctrl-C or SIGTERM: the way to stop it
            return 0
        return 0 if status in (0, -signal.SIGTERM) else 1  # it stopped by itself: say so in the status

    return _with_mitmproxy(
        "proxy", args, environ, serve, log_to_file=False, extra=extra, listen_host=args.host, listen_port=args.port
    )


def cmd_env(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    confdir = Path(args.confdir).expanduser() if args.confdir else ca.default_confdir()
    variables = ca.variables(confdir, environ)
    print(f"# mitmproxy CA {confdir / ca.CA_CERT}, with the trust store {ca.trust_store(environ)}")
    if args.proxy:
        print("\n".join(ca.export_lines({**dict.fromkeys(PROXY_VARIABLES[:3], args.proxy), "NO_PROXY": LOOPBACK})))
    print("\n".join(ca.export_lines(variables)))
    return 0


# --- the parsers ------------------------------------------------------------------------------------

RUN_EXAMPLES = """examples:
  crosswire run --to ollama --model '*=qwen3-coder' -- claude
  crosswire run --to openrouter --model '*=anthropic/claude-sonnet-4.5' -- codex
  crosswire run --to openai-chat@http://localhost:8000/v1 --key-env '' -- llm 'hello'
  crosswire run --route 'api.openai.com/v1/chat/completions -> https://api.anthropic.com/v1/messages' -- python app.py
  crosswire run --web --record session.flow --to deepseek -- aider

The tool gets HTTPS_PROXY/HTTP_PROXY/ALL_PROXY (and lower case) on crosswire, NO_PROXY for loopback,
and mitmproxy's CA in SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS,
CODEX_CA_CERTIFICATE, GIT_SSL_CAINFO and more (docs/tools.md). Its exit status is crosswire's.
"""

PROXY_EXAMPLES = """examples:
  crosswire proxy --to ollama --model '*=qwen3-coder' --tool claude
  crosswire proxy --port 0 --config routes.toml
  crosswire proxy --to anthropic --tool codex -- --mode upstream:http://corporate-proxy:3128

It prints the proxy address and the export lines for the proxy and CA variables (eval them in the
shell that runs your tool), then runs until Ctrl-C or SIGTERM and prints the summary.
"""


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``run``, ``proxy`` and ``env``, for cli.py."""
    fmt = argparse.RawDescriptionHelpFormatter
    run = sub.add_parser(
        "run",
        help="run a tool through crosswire: crosswire run --to PRESET -- TOOL [ARGS...]",
        description="Start mitmdump with crosswire on a free loopback port, run TOOL through it with the proxy "
        "and CA variables set, stop mitmdump when TOOL ends and print a usage summary per route and model.",
        epilog=RUN_EXAMPLES,
        formatter_class=fmt,
    )
    add_route_options(run)
    add_mitmproxy_options(run, log_default="a new file in ~/.local/state/crosswire/logs, named at start")
    run.add_argument(
        "command", nargs=argparse.REMAINDER, metavar="-- TOOL [ARGS...]", help="the tool and its arguments"
    )
    run.set_defaults(func=cmd_run)

    proxy = sub.add_parser(
        "proxy",
        help="run crosswire's mitmdump for tools you point at it yourself",
        description="Start mitmdump with crosswire and the given routes, print the proxy address and the export "
        "lines for the proxy and CA variables, and run until Ctrl-C or SIGTERM; then print the usage summary.",
        epilog=PROXY_EXAMPLES,
        formatter_class=fmt,
    )
    add_route_options(proxy)
    add_mitmproxy_options(proxy, log_default="this terminal")
    listen = proxy.add_argument_group("listening")
    listen.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1); e.g. --host ::1")
    listen.add_argument(
        "--port", type=int, default=8080, help="port to listen on (default 8080; 0: any free port); e.g. --port 0"
    )
    proxy.add_argument(
        "mitmproxy_args", nargs=argparse.REMAINDER, metavar="-- MITMPROXY ARGS", help="passed to mitmdump as they are"
    )
    proxy.set_defaults(func=cmd_proxy)

    env = sub.add_parser(
        "env",
        help="print the export lines that make tools trust mitmproxy's CA",
        description="Print export lines for every CA variable common tools read, for the CA in mitmproxy's confdir "
        '(created if there is none yet): eval "$(crosswire env)".',
    )
    env.add_argument("--confdir", metavar="DIR", help="mitmproxy's configuration directory (default: ~/.mitmproxy)")
    env.add_argument(
        "--proxy", metavar="URL", help="also export the proxy variables for URL; e.g. --proxy http://127.0.0.1:8080"
    )
    env.set_defaults(func=cmd_env)
