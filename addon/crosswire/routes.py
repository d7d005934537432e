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
    forward_headers = ["x-trace-id"]                          # client headers the upstream may see

A one-line route (``crosswire_route``) is ``MATCH -> UPSTREAM`` with every other field defaulted.

A converting route owns its endpoint, the paths under it and the models list beside it (for a
format with the model in the path, the collection its endpoints are methods under:
``/v1beta/models``); :meth:`Route.target` says what each request is. An identity route carries
everything it owns to the upstream.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .events import ToolOrigin
from .formats import FORMATS
from .formats.registry import SubEndpoint
from .options import HOSTED_TOOL_MODES, THINKING_MODES, Options
from .policy import CREDENTIAL_HEADERS, CREDENTIAL_QUERY

# How a route may send its key (api_key_header): the usual three, and every registered format's own.
KEY_HEADERS = tuple(dict.fromkeys(("authorization", "x-api-key", "api-key", *(f.auth_header for f in FORMATS))))
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
    "forward_headers",
    "pass_previous_response_id",
    "max_output_tokens",
    "reasoning",
    "hosted_tools",
    "api_key_header",
}
_HOST = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
# A key shorter than this is redacted wherever it appears, which alters ordinary text: say so.
SHORT_KEY = 16


class ConfigError(ValueError):
    """A route that cannot be used. The message names where (file, route, field) and what to do."""


def format_for_path(path: str) -> str | None:
    """The format a route URL's path implies (``/v1/messages`` -> anthropic), or None."""
    fmt = FORMATS.for_route(path)
    return fmt.name if fmt else None


@dataclass(frozen=True)
class URLPattern:
    """The client side of a route. ``host`` empty matches any host (a path-only match)."""

    scheme: str | None
    host: str
    port: int | None
    path: str

    def matches_origin(self, scheme: str, host: str, port: int) -> bool:
        if self.scheme is not None and scheme.lower() != self.scheme:
            return False
        if self.host and host.lower().strip("[]").rstrip(".") != self.host:
            return False
        return self.port is None or port == self.port

    def matches(self, scheme: str, host: str, port: int, path: str) -> bool:
        """The origin, and the path prefix by whole segments (/v1/messages: /v1/messages/x, not /v1/messagesX)."""
        return self.matches_origin(scheme, host, port) and _under(_norm(path), _norm(self.path))

    def covers(self, other: URLPattern) -> bool:
        """Whether every request ``other`` matches, this matches too."""
        return (
            (self.scheme is None or self.scheme == other.scheme)
            and (not self.host or self.host == other.host)
            and (self.port is None or self.port == other.port)
            and _under(_norm(other.path), _norm(self.path))
        )

    def __str__(self) -> str:
        host = _bracket(self.host) + (f":{self.port}" if self.port is not None else "")
        return (f"{self.scheme}://" if self.scheme else "") + host + self.path


def _norm(path: str) -> str:
    """A path without its query and trailing slashes ("" for the root)."""
    return path.split("?", 1)[0].rstrip("/")


def _under(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True)
class Upstream:
    scheme: str
    host: str
    port: int
    path: str
    query: str = ""  # sent on every request (Azure OpenAI: api-version=…)

    @property
    def authority(self) -> str:
        """``host[:port]`` as a URL and a Host header write it (an IPv6 literal in brackets)."""
        default = DEFAULT_PORTS.get(self.scheme)
        host = _bracket(self.host)
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost" or self.host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return f"{self.scheme}://{self.authority}{self.path}" + (f"?{self.query}" if self.query else "")


@dataclass(frozen=True)
class Target:
    """What a request to a route is.

    kind: ``generate`` (a converting route's endpoint, POST: converted), ``forward`` (anything an
        identity route carries), ``websocket`` (an upgrade: refused, the client falls back to
        HTTPS), ``models`` / ``model`` (the models list beside the endpoint, from the model map),
        or a sub-endpoint's kind (``count_tokens``, ``stored``, ``unsupported``), or ``not_found``.
    detail: the sub-endpoint's description, or the model id asked for.
    """

    route: Route
    kind: str
    detail: str = ""


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
    forward_headers: tuple[str, ...] = ()  # client headers the upstream also gets (a trailing * is a prefix)
    pass_previous_response_id: bool = False
    max_output_tokens: int | None = None
    reasoning: bool = True
    hosted_tools: str = "drop"
    api_key_header: str = "authorization"  # one of KEY_HEADERS: authorization (Bearer), x-api-key, api-key, …

    @property
    def identity(self) -> bool:
        """Same format on both sides: bodies go through byte for byte."""
        return self.client_format == self.upstream_format

    def matches(self, method: str, scheme: str, host: str, port: int, path: str) -> bool:
        """Whether the request is one this route converts (or, identity, carries): POST to its endpoint."""
        target = self.target(method, scheme, host, port, path)
        return target is not None and target.kind in ("generate", "forward") and method.upper() == "POST"

    @property
    def models_path(self) -> str | None:
        """``…/models`` beside the endpoint (``/v1/models`` for ``/v1/messages``), when the match
        path ends with the client format's endpoint; for a format with the model in the path, the
        collection the endpoints are methods under (``/v1beta/models``)."""
        return _models_path(self.match.path, self.client_format)

    @property
    def endpoint(self) -> str:
        """The path a client of this route generates at, as the route's messages name it."""
        fmt = FORMATS.get(self.client_format)
        if fmt.model_in_path and not fmt.claims_path(self.match.path):
            return f"{self.models_path}/{{model}}" + " or ".join(fmt.path_suffixes)
        return self.match.path

    def target(
        self, method: str, scheme: str, host: str, port: int, path: str, websocket: bool = False
    ) -> Target | None:
        """What the request is to this route, or None when the route does not own it.

        A route owns its endpoint and the paths under it, and the models list beside it; for a
        format with the model in the path, the collection: the endpoints are its models' methods
        (``…/models/{model}:generateContent``), the sub-endpoints too (``{model}:countTokens``).
        """
        if not self.match.matches_origin(scheme, host, port):
            return None
        fmt = FORMATS.get(self.client_format)
        method, path, models = method.upper(), _norm(path), self.models_path
        owned = models if fmt.model_in_path and models is not None else _norm(self.match.path)
        if _under(path, owned):
            if websocket:
                return Target(self, "websocket")
            if self.identity:
                return Target(self, "forward")
            if method == "POST" and self._generates(path):
                return Target(self, "generate")
            rest = [part for part in path[len(owned) :].split("/") if part]
            sub = _sub_endpoint(self.client_format, method, rest)
            if sub is not None:
                return Target(self, sub.kind, sub.what)
            if owned != models:
                return Target(self, "not_found")
        if models is None or not _under(path, models):
            return None
        if self.identity and not websocket:
            return Target(self, "forward")
        rest = [part for part in path[len(models) :].split("/") if part]
        if method == "GET" and not rest and not websocket:
            return Target(self, "models")
        if method == "GET" and len(rest) == 1 and not websocket and not (fmt.model_in_path and ":" in rest[0]):
            return Target(self, "model", rest[0])  # (with the model in the path, `m:method` is a method call)
        return Target(self, "not_found")

    def _generates(self, path: str) -> bool:
        """Whether a (normalised) path the route owns is its generation endpoint."""
        endpoint = _norm(self.match.path)
        fmt = FORMATS.get(self.client_format)
        if not fmt.model_in_path or fmt.claims_path(endpoint):
            return path == endpoint
        parent, _, name = path.rpartition("/")  # one model's method, right under the collection
        return parent == self.models_path and fmt.claims_path(name)

    def credential(self) -> tuple[str, str] | None:
        """The header that carries the route's key to its upstream, or None (no key)."""
        if not self.api_key:
            return None
        fmt = FORMATS.get(self.upstream_format)
        if self.api_key_header == fmt.auth_header:
            return fmt.credential(self.api_key)
        if self.api_key_header == "authorization":
            return "authorization", f"Bearer {self.api_key}"
        return self.api_key_header, self.api_key  # x-api-key, api-key (Azure OpenAI): the bare key

    def model_names(self) -> list[str]:
        """The model names a client of this route may ask for (``*`` in the map is not a name)."""
        return [name for name in self.model_map if name != "*"]

    def knows_model(self, name: str) -> bool:
        return name in self.model_map or "*" in self.model_map

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
            prefix, models = self.match.path.rstrip("/"), self.models_path
            upstream_models = _models_path(self.upstream.path, self.upstream_format)
            in_path = FORMATS.get(self.client_format).model_in_path  # everything is under its collection
            if (
                models
                and upstream_models
                and _under(_norm(path), models)
                and (in_path or not _under(_norm(path), prefix))
            ):
                path = upstream_models + path[len(models) :]
            else:
                rest = path[len(prefix) :] if path.startswith(prefix) else ""
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


def _models_path(path: str, format_name: str) -> str | None:
    path, fmt = _norm(path), FORMATS.get(format_name)
    if fmt.model_in_path:  # the collection: the one above an endpoint, else the path names it
        return path.rpartition("/")[0] if fmt.claims_path(path) else path
    for suffix in fmt.path_suffixes:
        if path.endswith(suffix):
            return path[: -len(suffix)] + "/models"
    return None


def _sub_endpoint(format_name: str, method: str, rest: list[str]) -> SubEndpoint | None:
    return next((sub for sub in FORMATS.get(format_name).sub_endpoints if sub.matches(method, rest)), None)


def _where(source: str, name: str, key: str | None = None) -> str:
    return f"{source}, {name}" + (f", field {key!r}" if key else "")


def parse_match(text: str, where: str) -> URLPattern:
    text = text.strip()
    if not text:
        raise ConfigError(f"{where}: the match URL is empty")
    if text.startswith("/"):
        return URLPattern(None, "", None, text)
    has_scheme = "://" in text
    parts = _split(text if has_scheme else "//" + text, text, where)
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
    if "*" in parts.hostname:
        raise ConfigError(
            f"{where}: {text!r}: wildcard hosts are not supported; name the host, "
            "or match a path alone (e.g. /v1/chat/completions) to match it on any host"
        )
    return URLPattern(scheme, _host(parts.hostname, text, where), port, parts.path or "/")


def _host(hostname: str, text: str, where: str) -> str:
    """A host name or IP literal (IPv6 without its brackets), lower-case."""
    host = hostname.lower().rstrip(".")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigError(f"{where}: {text!r}: {host!r} is not a valid IPv6 address") from None
    elif not _HOST.fullmatch(host):
        raise ConfigError(f"{where}: {text!r}: {hostname!r} is not a valid host name")
    return host


def _split(url: str, text: str, where: str) -> Any:
    try:
        return urlsplit(url)
    except ValueError as exc:  # e.g. a bracketed host that is no IPv6 address
        raise ConfigError(f"{where}: {text!r} is not a valid URL ({exc})") from None


def parse_upstream(text: str, where: str) -> Upstream:
    text = text.strip()
    parts = _split(text, text, where)
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ConfigError(
            f"{where}: {text!r} must be a full http:// or https:// URL, e.g. https://api.anthropic.com/v1/messages"
        )
    if parts.fragment:
        raise ConfigError(f"{where}: {text!r}: an upstream URL has no fragment")
    in_query = [p.partition("=")[0] for p in parts.query.split("&") if p.partition("=")[0].lower() in CREDENTIAL_QUERY]
    if parts.username is not None or parts.password is not None or in_query:
        raise ConfigError(
            f"{where}: {text!r} has credentials in the URL"
            + (f" (query parameter {in_query[0]!r})" if in_query else "")
            + "; remove them and name the environment variable that holds the key in api_key_env"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: {text!r} has an invalid port") from None
    if port == 0:
        raise ConfigError(f"{where}: {text!r} has port 0; write the port the upstream listens on")
    scheme = parts.scheme.lower()
    host = _host(parts.hostname, text, where)
    return Upstream(scheme, host, port or DEFAULT_PORTS[scheme], parts.path or "/", parts.query)


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
    warnings: list[str] | None = None,
) -> Route:
    """Validate one route table (a TOML ``[[route]]`` or a parsed one-line route); what works but
    deserves a word (a plain-http upstream off loopback, a short key) is appended to ``warnings``."""
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
            f"{_where(source, name, 'api_key_header')}: {key_header!r}; use authorization (Bearer), x-api-key, "
            f"api-key (Azure OpenAI) or another format's own ({', '.join(KEY_HEADERS[3:]) or 'none'})"
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
    forward = _forward_headers(raw.get("forward_headers", []), _where(source, name, "forward_headers"))

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
        if len(api_key) < SHORT_KEY and warnings is not None:
            warnings.append(
                f"{_where(source, name, 'api_key_env')}: the key in {key_env} is only {len(api_key)} characters; "
                "crosswire redacts it wherever it appears (answers, logs, recordings), so ordinary text "
                'containing it will be altered (set api_key_env = "" if the upstream needs no key)'
            )
    if upstream.scheme == "http" and not upstream.loopback and warnings is not None:
        warnings.append(
            f"{_where(source, name, 'upstream')}: {upstream} is plain http on a host that is not loopback: "
            "prompts, answers" + (" and the key" if key_env else "") + " cross the network unencrypted; "
            "use https:// unless this network is trusted"
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
        forward_headers=forward,
        pass_previous_response_id=pass_prev,
        max_output_tokens=cap,
        reasoning=reasoning,
        hosted_tools=hosted,
        api_key_header=key_header,
    )


def _forward_headers(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{where}: must be a list of header names, e.g. ["x-trace-id", "x-stainless-*"]')
    out = []
    for entry in value:
        name = entry.strip().lower()
        if not _HEADER_NAME.fullmatch(name.removesuffix("*")) or "*" in name[:-1]:
            raise ConfigError(f"{where}: {entry!r} is not a header name (a trailing * forwards every name it starts)")
        if name in CREDENTIAL_HEADERS:
            raise ConfigError(
                f"{where}: {entry!r} carries a credential and never reaches an upstream; "
                "the route sends its own key (api_key_env)"
            )
        out.append(name)
    return tuple(out)


def parse_line(line: str) -> dict[str, str]:
    """``MATCH -> UPSTREAM`` as a route table."""
    match, arrow, upstream = line.partition("->")
    if "->" in upstream:
        raise ConfigError(
            f"crosswire_route {line!r}: more than one '->'; a one-line route is one 'MATCH -> UPSTREAM': "
            "repeat --set crosswire_route=… for each route"
        )
    if not arrow or not match.strip() or not upstream.strip():
        raise ConfigError(
            f"crosswire_route {line!r}: write 'MATCH -> UPSTREAM', e.g. "
            "'https://api.openai.com/v1/chat/completions -> https://api.anthropic.com/v1/messages'"
        )
    return {"match": match.strip(), "upstream": upstream.strip()}


def load_config(
    path: str,
    *,
    thinking: str = "reasoning_content",
    environ: dict[str, str] | None = None,
    warnings: list[str] | None = None,
) -> list[Route]:
    source = f"crosswire_config {path}"
    try:
        with open(os.path.expanduser(path), "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{source}: not UTF-8 (byte 0x{raw[exc.start]:02x} on line {line}); save the file as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"route"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key {unknown[0]!r}; routes are [[route]] tables")
    tables = data.get("route", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{source}: 'route' must be an array of tables: write each route as [[route]]")
    return [
        build_route(t, source=source, name=f"route {i}", thinking=thinking, environ=environ, warnings=warnings)
        for i, t in enumerate(tables, 1)
    ]


def load_routes(
    config: str | None,
    lines: list[str] | tuple[str, ...],
    *,
    thinking: str = "reasoning_content",
    environ: dict[str, str] | None = None,
    warnings: list[str] | None = None,
) -> list[Route]:
    """All routes: the config file's first, then the one-line routes, in order (first match wins).

    A route an earlier one shadows (it could never match) is an error; ``warnings`` collects what
    works but deserves a word (see :func:`build_route`).
    """
    if thinking not in THINKING_MODES:
        raise ConfigError(f"crosswire_thinking: {thinking!r}; use one of {', '.join(THINKING_MODES)}")
    sources: list[str] = []
    routes = load_config(config, thinking=thinking, environ=environ, warnings=warnings) if config else []
    sources += [f"crosswire_config {config}"] * len(routes)
    for line in lines:
        raw = parse_line(line)
        routes.append(
            build_route(
                raw,
                source="crosswire_route",
                name=repr(line.strip()),
                thinking=thinking,
                environ=environ,
                warnings=warnings,
            )
        )
        sources.append("crosswire_route")
    for i, route in enumerate(routes):
        earlier = next((r for r in routes[:i] if r.match.covers(route.match)), None)
        if earlier is not None:
            raise ConfigError(
                f"{sources[i]}, {route.name}: can never match: {earlier.name} ({earlier.match}) comes first "
                f"and matches every request this one would ({route.match}); remove it, or list it first"
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
    """The route that converts (or, identity, carries) the request: a POST to its endpoint."""
    for route in routes:
        if route.matches(method, scheme, host, port, path):
            return route
    return None


def find_target(
    routes: list[Route], method: str, scheme: str, host: str, port: int, path: str, websocket: bool = False
) -> Target | None:
    """What the request is to the first route that owns it (see :meth:`Route.target`), or None."""
    for route in routes:
        target = route.target(method, scheme, host, port, path, websocket)
        if target is not None:
            return target
    return None
