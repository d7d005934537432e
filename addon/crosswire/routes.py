"""Routes: which flows crosswire touches and where they go (config parsing, validation, matching).

Pure: no mitmproxy import. The addon parses its options with :func:`load_routes` once, in
``configure``, and calls :meth:`Route.matches` per flow.

A route file is TOML::

    [[route]]
    name = "openai-to-claude"                                 # optional; default "route N"
    match = "https://api.openai.com/v1/chat/completions"      # client URL: [scheme://]host[:port]/path-prefix
    upstream = "https://api.anthropic.com/v1/messages"        # where the request really goes
    api_key_env = "ANTHROPIC_API_KEY"                         # default by upstream format
    model_map = { "gpt-4o" = "claude-sonnet-4-5", "*" = "claude-haiku-4-5" }

A one-line route (``crosswire_route``) is ``MATCH -> UPSTREAM`` with every other field defaulted.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .events import ToolOrigin
from .formats import FORMATS
from .options import HOSTED_TOOL_MODES, THINKING_MODES, Options

KEY_HEADERS = ("authorization", "x-api-key", "api-key")  # how a route may send its key (api_key_header)
DEFAULT_PORTS = {"http": 80, "https": 443}

_ROUTE_KEYS = {
    "name",
    "match",
    "upstream",
    "client_format",
    "upstream_format",
    "api_key_env",
    "model_map",
    "thinking",
    "max_tokens",
    "headers",
    "pass_previous_response_id",
    "max_output_tokens",
    "reasoning",
    "hosted_tools",
    "api_key_header",
}


class ConfigError(ValueError):
    """A route that cannot be used. The message names where (file, route, field) and what to do."""


def format_for_path(path: str) -> str | None:
    """The format an endpoint path implies (``/v1/messages`` -> anthropic), or None."""
    fmt = FORMATS.for_path(path)
    return fmt.name if fmt else None


@dataclass(frozen=True)
class URLPattern:
    """The client side of a route. ``host`` empty matches any host (a path-only match)."""

    scheme: str | None
    host: str
    port: int | None
    path: str

    def matches(self, scheme: str, host: str, port: int, path: str) -> bool:
        if self.scheme is not None and scheme.lower() != self.scheme:
            return False
        if self.host and host.lower().rstrip(".") != self.host:
            return False
        if self.port is not None and port != self.port:
            return False
        path = path.split("?", 1)[0]
        prefix = self.path.rstrip("/")
        # A prefix matches whole segments: /v1/messages matches /v1/messages/ but not /v1/messagesX.
        return not prefix or path == prefix or path.startswith(prefix + "/")

    def __str__(self) -> str:
        host = self.host + (f":{self.port}" if self.port is not None else "")
        return (f"{self.scheme}://" if self.scheme else "") + host + self.path


@dataclass(frozen=True)
class Upstream:
    scheme: str
    host: str
    port: int
    path: str
    query: str = ""  # sent on every request (Azure OpenAI: api-version=…)

    @property
    def authority(self) -> str:
        default = DEFAULT_PORTS.get(self.scheme)
        return self.host if self.port == default else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}" + (f"?{self.query}" if self.query else "")


@dataclass(frozen=True)
class Route:
    name: str
    match: URLPattern
    upstream: Upstream
    client_format: str
    upstream_format: str
    api_key_env: str  # empty: send no credential upstream (a local model server)
    api_key: str = field(default="", repr=False)  # never in repr, logs or flow files
    model_map: dict[str, str] = field(default_factory=dict)
    thinking: str = "reasoning_content"
    max_tokens: int = 8192
    headers: dict[str, str] = field(default_factory=dict)  # set on every upstream request
    pass_previous_response_id: bool = False
    max_output_tokens: int | None = None
    reasoning: bool = True
    hosted_tools: str = "drop"
    api_key_header: str = "authorization"  # authorization (Bearer) | x-api-key | api-key

    @property
    def identity(self) -> bool:
        """Same format on both sides: bodies go through byte for byte."""
        return self.client_format == self.upstream_format

    def matches(self, method: str, scheme: str, host: str, port: int, path: str) -> bool:
        return method.upper() == "POST" and self.match.matches(scheme, host, port, path)

    def upstream_path(self, client_path: str, model: str = "", stream: bool = False) -> str:
        """The path and query the upstream receives.

        A converting route sends to the upstream endpoint itself (its format may put the upstream
        ``model`` and ``stream`` in the path), with the upstream URL's own query only: the client's
        query belongs to its API (Claude Code's ``?beta=true``). An identity route maps the match
        prefix onto the upstream path and keeps the client's query after the upstream's, so one
        route can carry a whole API.
        """
        path, _, query = client_path.partition("?")
        if self.identity:
            rest = path[len(self.match.path.rstrip("/")) :] if path.startswith(self.match.path.rstrip("/")) else ""
            path = self.upstream.path.rstrip("/") + rest or "/"
            query = "&".join(q for q in (self.upstream.query, query) if q)
        else:
            target = FORMATS.get(self.upstream_format).request_target(self.upstream.path, model, stream)
            path, _, own = target.partition("?")
            query = "&".join(q for q in (own, self.upstream.query) if q)
        return path + ("?" + query if query else "")

    def options(
        self,
        *,
        created: int | None = None,
        include_usage: bool = True,
        tool_origins: dict[str, ToolOrigin] | None = None,
    ) -> Options:
        return Options(
            thinking=self.thinking,
            created=created,
            max_tokens=self.max_tokens,
            model_map=dict(self.model_map),
            pass_previous_response_id=self.pass_previous_response_id,
            include_usage=include_usage,
            max_output_tokens=self.max_output_tokens,
            reasoning=self.reasoning,
            hosted_tools=self.hosted_tools,
            tool_origins=dict(tool_origins or {}),
        )

    def describe(self) -> str:
        return f"{self.name}: {self.match} ({self.client_format}) -> {self.upstream} ({self.upstream_format})"


def _where(source: str, name: str, key: str | None = None) -> str:
    return f"{source}, {name}" + (f", field {key!r}" if key else "")


def parse_match(text: str, where: str) -> URLPattern:
    text = text.strip()
    if not text:
        raise ConfigError(f"{where}: the match URL is empty")
    if text.startswith("/"):
        return URLPattern(None, "", None, text)
    has_scheme = "://" in text
    parts = urlsplit(text if has_scheme else "//" + text)
    scheme = parts.scheme.lower() if has_scheme else None
    if scheme is not None and scheme not in DEFAULT_PORTS:
        raise ConfigError(f"{where}: {text!r} must use http or https, not {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: {text!r} has an invalid port") from None
    if not parts.hostname:
        raise ConfigError(f"{where}: {text!r} has no host (write host/path, or /path to match any host)")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: {text!r}: a match is scheme, host and path prefix, without query or fragment")
    return URLPattern(scheme, parts.hostname.lower().rstrip("."), port, parts.path or "/")


def parse_upstream(text: str, where: str) -> Upstream:
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(
            f"{where}: {text!r} must be a full http:// or https:// URL, e.g. https://api.anthropic.com/v1/messages"
        )
    if parts.fragment:
        raise ConfigError(f"{where}: {text!r}: an upstream URL has no fragment")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: {text!r} has an invalid port") from None
    scheme = parts.scheme.lower()
    return Upstream(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme], parts.path or "/", parts.query)


def _format(value: Any, inferred: str | None, where: str, key: str, url: str) -> str:
    if value is None:
        if inferred is None:
            raise ConfigError(
                f"{where}: cannot tell the format from {url!r}; set {key} to one of {', '.join(FORMATS.names)}"
            )
        return inferred
    if value not in FORMATS:
        raise ConfigError(f"{where}, field {key!r}: {value!r} is not a format; use one of {', '.join(FORMATS.names)}")
    return str(value)


def build_route(
    raw: dict[str, Any],
    *,
    source: str,
    name: str,
    thinking: str = "reasoning_content",
    environ: dict[str, str] | None = None,
) -> Route:
    """Validate one route table (a TOML ``[[route]]`` or a parsed one-line route)."""
    env = os.environ if environ is None else environ
    if "name" in raw:
        if not isinstance(raw["name"], str) or not raw["name"].strip():
            raise ConfigError(f"{_where(source, name, 'name')}: must be a non-empty string")
        name = f"route {raw['name'].strip()!r}"
    unknown = sorted(set(raw) - _ROUTE_KEYS)
    if unknown:
        raise ConfigError(
            f"{_where(source, name, unknown[0])}: unknown key; a route has {', '.join(sorted(_ROUTE_KEYS))}"
        )

    def text(key: str, required: bool = False) -> str | None:
        value = raw.get(key)
        if value is None:
            if required:
                raise ConfigError(f"{_where(source, name, key)}: missing (every route needs match and upstream)")
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{_where(source, name, key)}: must be a string, not {type(value).__name__}")
        return value

    match_text, upstream_text = text("match", True), text("upstream", True)
    assert match_text is not None and upstream_text is not None
    match = parse_match(match_text, _where(source, name, "match"))
    upstream = parse_upstream(upstream_text, _where(source, name, "upstream"))
    client_format = _format(
        text("client_format"), format_for_path(match.path), _where(source, name, "match"), "client_format", match_text
    )
    upstream_format = _format(
        text("upstream_format"),
        format_for_path(upstream.path),
        _where(source, name, "upstream"),
        "upstream_format",
        upstream_text,
    )

    thinking_value = raw.get("thinking", thinking)
    if thinking_value not in THINKING_MODES:
        raise ConfigError(
            f"{_where(source, name, 'thinking')}: {thinking_value!r}; use one of {', '.join(THINKING_MODES)}"
        )
    max_tokens = raw.get("max_tokens", 8192)
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise ConfigError(f"{_where(source, name, 'max_tokens')}: must be a positive integer, not {max_tokens!r}")
    pass_prev = raw.get("pass_previous_response_id", False)
    if not isinstance(pass_prev, bool):
        raise ConfigError(f"{_where(source, name, 'pass_previous_response_id')}: must be true or false")
    cap = raw.get("max_output_tokens")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise ConfigError(
            f"{_where(source, name, 'max_output_tokens')}: must be a positive integer (the upstream model's output "
            f"limit, e.g. 16384 for gpt-4o), not {cap!r}"
        )
    reasoning = raw.get("reasoning", True)
    if not isinstance(reasoning, bool):
        raise ConfigError(
            f"{_where(source, name, 'reasoning')}: must be true or false (false for a model without reasoning, "
            "e.g. gpt-4o)"
        )
    hosted = raw.get("hosted_tools", "drop")
    if hosted not in HOSTED_TOOL_MODES:
        raise ConfigError(
            f"{_where(source, name, 'hosted_tools')}: {hosted!r}; use one of {', '.join(HOSTED_TOOL_MODES)}"
        )
    key_header = raw.get("api_key_header", FORMATS.get(upstream_format).auth_header)
    if key_header not in KEY_HEADERS:
        raise ConfigError(
            f"{_where(source, name, 'api_key_header')}: {key_header!r}; use authorization (Bearer), x-api-key or "
            "api-key (Azure OpenAI)"
        )

    model_map = raw.get("model_map", {})
    if not isinstance(model_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in model_map.items()
    ):
        raise ConfigError(
            f"{_where(source, name, 'model_map')}: must map model names to model names, "
            'e.g. { "gpt-4o" = "claude-sonnet-4-5", "*" = "claude-haiku-4-5" }'
        )

    headers_raw = raw.get("headers", {})
    if not isinstance(headers_raw, dict) or not all(isinstance(v, str) for v in headers_raw.values()):
        raise ConfigError(f"{_where(source, name, 'headers')}: must be a table of header names to string values")
    headers = {str(k).lower(): v for k, v in headers_raw.items()}
    for k, v in headers.items():
        if not k or any(c in k for c in " :\r\n") or "\r" in v or "\n" in v:
            raise ConfigError(f"{_where(source, name, 'headers')}: {k!r} is not a valid header")
        if k in CREDENTIAL_HEADERS:
            raise ConfigError(
                f"{_where(source, name, 'headers')}: {k!r} carries a credential; "
                "name the environment variable that holds the key in api_key_env instead"
            )
    upstream_fmt = FORMATS.get(upstream_format)
    for k, v in upstream_fmt.default_headers.items():
        headers.setdefault(k, v)

    key_env = raw.get("api_key_env", upstream_fmt.key_env)
    if not isinstance(key_env, str):
        raise ConfigError(f"{_where(source, name, 'api_key_env')}: must be the name of an environment variable")
    api_key = ""
    if key_env:
        api_key = env.get(key_env, "")
        if not api_key:
            raise ConfigError(
                f"{_where(source, name, 'api_key_env')}: environment variable {key_env} is not set; "
                f"export {key_env}=<your {upstream_format} key> before starting mitmproxy "
                '(or set api_key_env = "" for an upstream that needs no key)'
            )
    return Route(
        name=name,
        match=match,
        upstream=upstream,
        client_format=client_format,
        upstream_format=upstream_format,
        api_key_env=key_env,
        api_key=api_key,
        model_map=dict(model_map),
        thinking=thinking_value,
        max_tokens=max_tokens,
        headers=headers,
        pass_previous_response_id=pass_prev,
        max_output_tokens=cap,
        reasoning=reasoning,
        hosted_tools=hosted,
        api_key_header=key_header,
    )


# Every header a client may carry a credential in; all are removed before the route's key is set.
CREDENTIAL_HEADERS = FORMATS.credential_headers


def parse_line(line: str) -> dict[str, str]:
    """``MATCH -> UPSTREAM`` as a route table."""
    match, arrow, upstream = line.partition("->")
    if not arrow or not match.strip() or not upstream.strip():
        raise ConfigError(
            f"crosswire_route {line!r}: write 'MATCH -> UPSTREAM', e.g. "
            "'https://api.openai.com/v1/chat/completions -> https://api.anthropic.com/v1/messages'"
        )
    return {"match": match.strip(), "upstream": upstream.strip()}


def load_config(
    path: str, *, thinking: str = "reasoning_content", environ: dict[str, str] | None = None
) -> list[Route]:
    source = f"crosswire_config {path}"
    try:
        with open(os.path.expanduser(path), "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"route"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key {unknown[0]!r}; routes are [[route]] tables")
    tables = data.get("route", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{source}: 'route' must be an array of tables: write each route as [[route]]")
    return [
        build_route(t, source=source, name=f"route {i}", thinking=thinking, environ=environ)
        for i, t in enumerate(tables, 1)
    ]


def load_routes(
    config: str | None,
    lines: list[str] | tuple[str, ...],
    *,
    thinking: str = "reasoning_content",
    environ: dict[str, str] | None = None,
) -> list[Route]:
    """All routes: the config file's first, then the one-line routes, in order (first match wins)."""
    if thinking not in THINKING_MODES:
        raise ConfigError(f"crosswire_thinking: {thinking!r}; use one of {', '.join(THINKING_MODES)}")
    routes = load_config(config, thinking=thinking, environ=environ) if config else []
    for line in lines:
        raw = parse_line(line)
        routes.append(
            build_route(raw, source="crosswire_route", name=repr(line.strip()), thinking=thinking, environ=environ)
        )
    return routes


def parse_model_map(values: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``--model NAME`` (every model) or ``--model FROM=TO`` (repeatable; ``*`` for any other) as a model map."""
    out: dict[str, str] = {}
    for value in values:
        source, sep, target = value.partition("=")
        if not sep:
            source, target = "*", value
        if not source.strip() or not target.strip():
            raise ConfigError(
                f"--model {value!r}: write NAME (for every model) or FROM=TO, e.g. gpt-4o=claude-sonnet-4-5"
            )
        out[source.strip()] = target.strip()
    return out


def dump_routes(tables: list[dict[str, Any]]) -> str:
    """Route tables as a routes file (the inverse of :func:`load_config` for the keys a route has)."""
    out = []
    for table in tables:
        out.append("[[route]]")
        out.extend(f"{key} = {_toml_value(value)}" for key, value in table.items())
        out.append("")
    return "\n".join(out)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(_toml_char(c) for c in value) + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_value(str(k))} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"a route holds no {type(value).__name__} values")


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _toml_char(c: str) -> str:
    """One character inside a TOML basic string."""
    if c in _TOML_ESCAPES:
        return _TOML_ESCAPES[c]
    return f"\\u{ord(c):04x}" if c < " " or c == "\x7f" else c


def find_route(routes: list[Route], method: str, scheme: str, host: str, port: int, path: str) -> Route | None:
    for route in routes:
        if route.matches(method, scheme, host, port, path):
            return route
    return None
