"""OpenAI Responses (`POST /v1/responses`) whole bodies: request, response and error reader/writer.

Items map as in the stream (docs/responses.md): a ``function_call``'s ``call_id`` is the canonical
tool id (its ``fc_`` item id never is), a ``reasoning`` item is a ``thinking`` block whose
``encrypted_content`` is the signature, and one marked with :data:`REDACTED_PREFIX` is a
``redacted_thinking`` block. What only a Responses upstream can do (built-in tools, stored
responses, ``store``, ``metadata``…) is kept in ``Request.native`` for one and listed in
``Request.foreign`` for any other: fatal ones reject the request naming the field, the rest are
dropped with a warning.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from ..events import (
    CUSTOM_TOOL_PARAMETER,
    Block,
    Citation,
    Message,
    Native,
    Request,
    SearchResult,
    Tool,
    ToolOrigin,
    Turn,
    WebSearch,
    parse_tool_input,
)
from ..options import Options
from . import openai_responses
from .base import SEARCH_ID_PREFIXES, Warn, derive_id, extra_fields, merge_native, own_native
from .body_common import (
    RequestRejected,
    budget_effort,
    data_url,
    flat_tool_name,
    get,
    json_schema_spec,
    objects,
    openai_user_id,
    parse_data_url,
    read_function_tool,
    tool_result_texts,
)
from .openai_common import read_error, usage_extras, write_error, write_model, write_models
from .openai_responses import (
    INCOMPLETE_TO_STOP,
    REDACTED_PREFIX,
    RESPONSE_FIELDS,
    SUMMARY_SEPARATOR,
    USAGE_FIELDS,
    call_item,
    call_item_id,
    read_usage,
    response_object,
    write_usage,
)
from .registry import Format, SubEndpoint

__all__ = ["read_error", "read_request", "read_response", "write_error", "write_request", "write_response"]

NAME = "openai-responses"

MIN_OUTPUT_TOKENS = 16  # the API rejects a smaller max_output_tokens
ENCRYPTED_REASONING = "reasoning.encrypted_content"

# Read into the canonical request (or handled below); any other field is native.
_READ_FIELDS = {
    "model", "input", "instructions", "max_output_tokens", "temperature", "top_p", "stream", "user",
    "safety_identifier", "parallel_tool_calls", "tools", "tool_choice", "reasoning", "text",
    "previous_response_id", "conversation", "store", "include", "stream_options", "truncation",
    "prompt_cache_key",
}  # fmt: skip
# Server-side state only an openai-responses upstream holds, and only with pass_previous_response_id.
_STATE_FIELDS = ("previous_response_id", "conversation")
# Native fields an upstream of another format cannot do without.
_NEEDS_RESPONSES = {
    "prompt": "a stored prompt template can only be resolved by an openai-responses upstream",
    "background": "a background response can only run on an openai-responses upstream",
}
_TOOL_CHOICES = {"auto": "auto", "none": "none", "required": "any"}
WEB_SEARCH_TOOLS = ("web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11")
HISTORY_SEARCH_DROPPED = (
    "hosted web search calls in the history of another format are not sent to openai-responses "
    "(it cannot replay another provider's search): dropped, the answer text is kept"
)


# --- requests: read ----------------------------------------------------------------------------


def read_request(body: dict[str, Any], options: Options, warn: Warn) -> Request:
    req = Request(
        model=get(body, "model", str, "", required=True),
        max_tokens=get(body, "max_output_tokens", int, ""),
        temperature=get(body, "temperature", float, ""),
        top_p=get(body, "top_p", float, ""),
        stream=bool(get(body, "stream", bool, "")),
        user=get(body, "user", str, "") or get(body, "safety_identifier", str, ""),
        parallel_tool_calls=get(body, "parallel_tool_calls", bool, ""),
        prompt_cache_key=get(body, "prompt_cache_key", str, ""),
    )
    _read_state(body, req, options)
    _read_native(body, req)
    instructions = get(body, "instructions", str, "")
    if instructions:
        req.system.append(instructions)
    _read_reasoning(body, req)
    _read_text(body, req)  # before the input: its configuration_update items override these
    stateful = any(key in req.native for key in (*_STATE_FIELDS, "prompt"))
    items = get(body, "input", (str, list), "", required=not stateful)
    if isinstance(items, str):
        req.messages.append(Turn("user", [Block("text", text=items)]))
    elif items is not None:
        _read_input(objects(items, "input"), req, options, warn)
    _read_tools(body, req, options)
    return req


def _read_state(body: dict[str, Any], req: Request, options: Options) -> None:
    for key in _STATE_FIELDS:
        if body.get(key) is None:
            continue
        if not options.pass_previous_response_id:
            raise RequestRejected(
                f"{key}: crosswire is a stateless proxy and cannot resolve a stored response or conversation; "
                "send the whole conversation in `input` (with store: false), or set pass_previous_response_id "
                "on a route whose upstream is openai-responses",
                key,
            )
        req.native[key] = body[key]
        req.foreign.append((key, f"{key}: only an openai-responses upstream can continue a stored response", True))


def _read_native(body: dict[str, Any], req: Request) -> None:
    """Fields with no canonical equivalent: kept for a Responses upstream, noted for any other."""
    store = get(body, "store", bool, "")
    if store is not None:
        req.native["store"] = store
        if store:  # store: false asks for nothing another upstream would not do anyway
            req.foreign.append(("store", "store: crosswire keeps no responses for another upstream: dropped", False))
    include = get(body, "include", list, "")
    if include is not None:
        req.native["include"] = include
        lost = [value for value in include if value != ENCRYPTED_REASONING]  # always carried: the signature
        if lost:
            req.foreign.append(
                ("include", f"include {lost} has no equivalent in the upstream's format: dropped", False)
            )
    truncation = get(body, "truncation", str, "")
    if truncation is not None:
        req.native["truncation"] = truncation
        if truncation == "auto":
            req.foreign.append(("truncation", "truncation 'auto' has no equivalent: dropped", False))
    if body.get("stream_options") is not None:
        req.native["stream_options"] = body["stream_options"]
    for key in sorted(body.keys() - _READ_FIELDS):
        if body[key] is None:
            continue
        req.native[key] = body[key]
        if key in _NEEDS_RESPONSES and body[key] is not False:
            req.foreign.append((key, f"{key}: {_NEEDS_RESPONSES[key]}", True))
        else:
            req.foreign.append((key, f"openai-responses request field {key!r} has no equivalent: dropped", False))


def _turn(req: Request, role: str) -> Turn:
    """The last turn when it has ``role`` (consecutive items of one side share a turn), else a new one."""
    if not req.messages or req.messages[-1].role != role:
        req.messages.append(Turn(role))
    return req.messages[-1]


def _read_input(items: list[dict[str, Any]], req: Request, options: Options, warn: Warn) -> None:
    for i, raw in enumerate(items):
        path = f"input[{i}]"
        kind = get(raw, "type", str, path) or "message"
        if kind == "message":
            _read_message(raw, path, req, warn)
        elif kind in ("function_call", "custom_tool_call"):
            call = _read_call(raw, path, warn, arguments_required=True)
            _origin(req, get(raw, "namespace", str, path), call.name, kind)
            call.name = flat_tool_name(get(raw, "namespace", str, path), call.name)
            _turn(req, "assistant").content.append(call)
        elif kind == "additional_tools":  # Codex: tools announced inside the conversation
            _read_tool_list(get(raw, "tools", list, path, required=True), f"{path}.tools", req, options)
        elif kind == "configuration_update":  # Codex: request settings changed inside the conversation
            _read_configuration_update(raw, path, req, warn)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            result = Block("tool_result", id=get(raw, "call_id", str, path, required=True))
            output = get(raw, "output", (str, list), path, required=True)
            if isinstance(output, str):
                result.content = [Block("text", text=output)] if output else []
            else:
                result.content = _parts(objects(output, f"{path}.output"), f"{path}.output", warn)
            _turn(req, "user").content.append(result)
        elif kind == "reasoning":
            _turn(req, "assistant").content.append(_reasoning(raw, path))
        elif kind == "web_search_call":
            _turn(req, "assistant").content.extend(_search_blocks(raw))
        elif kind == "item_reference":
            req.foreign.append(
                (path, f"{path}: an item_reference can only be resolved by an openai-responses upstream", True)
            )
            warn(f"{path}: item_reference dropped (crosswire cannot resolve stored items)")
        else:  # kept for a Responses upstream, in the turn it came in
            req.foreign.append((path, f"openai-responses {kind!r} input item has no equivalent: dropped", False))
            turn = req.messages[-1] if req.messages else _turn(req, "user")
            turn.content.append(Block("native", native=Native(NAME, {"item": raw})))


def _search_blocks(item: dict[str, Any]) -> list[Block]:
    """A web_search_call item: the search (its action) and its result (the sources), which carry the
    item itself for a Responses upstream or client."""
    action = item.get("action") if isinstance(item.get("action"), dict) else {}
    assert isinstance(action, dict)
    sources = [s for s in action.get("sources") or () if isinstance(s, dict) and isinstance(s.get("url"), str)]
    search = Block("web_search", id=str(item.get("id", "")), name="web_search", native=Native(NAME, {"item": item}))
    search.input = {k: v for k, v in action.items() if k not in ("type", "sources")}
    result = Block("web_search_result", id=search.id, data="unavailable" if item.get("status") == "failed" else "")
    result.results = [SearchResult(url=s["url"]) for s in sources if s.get("type") == "url"]
    result.native = Native(NAME, {})  # written with its search's item
    return [search, result]


def _read_configuration_update(raw: dict[str, Any], path: str, req: Request, warn: Warn) -> None:
    """The settings a ``configuration_update`` item carries apply to the request (a later one wins)."""
    for key, value in raw.items():
        if key in ("type", "id"):
            continue
        if key == "reasoning" and isinstance(value, dict) and set(value) <= {"effort", "summary", "context"}:
            effort = get(value, "effort", str, f"{path}.reasoning")
            if effort is not None:
                req.reasoning_effort = effort
        elif key == "text" and isinstance(value, dict) and set(value) <= {"verbosity"}:
            req.verbosity = get(value, "verbosity", str, f"{path}.text")
        else:
            warn(f"{path}: configuration_update setting {key!r} has no equivalent: dropped")


def _read_message(raw: dict[str, Any], path: str, req: Request, warn: Warn) -> None:
    role = get(raw, "role", str, path, required=True)
    content = get(raw, "content", (str, list), path, required=True)
    if isinstance(content, str):
        blocks = [Block("text", text=content)]
    else:
        blocks = _parts(objects(content, f"{path}.content"), f"{path}.content", warn)
    if role in ("system", "developer"):
        if any(b.kind != "text" for b in blocks):
            raise RequestRejected(f"{path}.content: a {role} message may only hold text", f"{path}.content")
        if req.messages:  # an instruction inside the conversation stays where it is
            req.messages.append(Turn("system", blocks))
        else:
            req.system.extend(b.text for b in blocks)  # several text parts stay several system texts
    elif role == "user":
        _turn(req, "user").content.extend(blocks)
    elif role == "assistant":
        _turn(req, "assistant").content.extend(b for b in blocks if b.kind in ("text", "refusal"))
    else:
        raise RequestRejected(
            f"{path}.role: expected user, assistant, system or developer, got {role!r}", f"{path}.role"
        )


def _parts(parts: list[dict[str, Any]], path: str, warn: Warn) -> list[Block]:
    blocks = []
    for j, part in enumerate(parts):
        part_path = f"{path}[{j}]"
        kind = get(part, "type", str, part_path, required=True)
        if kind in ("input_text", "output_text", "text"):
            blocks.append(Block("text", text=get(part, "text", str, part_path, required=True)))
        elif kind == "refusal":
            blocks.append(Block("refusal", text=get(part, "refusal", str, part_path, required=True)))
        elif kind == "input_image":
            url = get(part, "image_url", str, part_path)
            if url is None:
                warn("input_image without image_url (file_id) cannot be converted: dropped")
            elif url.startswith(("http://", "https://")):
                blocks.append(Block("image", url=url))
            elif (parsed := parse_data_url(url)) is not None:
                blocks.append(Block("image", media_type=parsed[0], data=parsed[1]))
            else:
                where = f"{part_path}.image_url"
                raise RequestRejected(f"{where}: expected an http(s) URL or a base64 data: URL", where)
        elif kind == "input_file":
            parsed = parse_data_url(get(part, "file_data", str, part_path) or "")
            if parsed is None:
                warn("input_file without inline base64 file_data (file_id, file_url) cannot be converted: dropped")
                continue
            name = get(part, "filename", str, part_path) or ""
            blocks.append(Block("document", media_type=parsed[0], data=parsed[1], name=name))
        else:
            warn(f"openai-responses {kind!r} content part has no equivalent: dropped")
    return blocks


def _reasoning(raw: dict[str, Any], path: str) -> Block:
    encrypted = get(raw, "encrypted_content", str, path) or ""
    if encrypted.startswith(REDACTED_PREFIX):
        return Block("redacted_thinking", data=encrypted[len(REDACTED_PREFIX) :])
    texts = []
    for key in ("summary", "content"):
        for j, part in enumerate(objects(get(raw, key, list, path) or [], f"{path}.{key}")):
            texts.append(get(part, "text", str, f"{path}.{key}[{j}]", required=True))
    text = SUMMARY_SEPARATOR.join(t for t in texts if t)
    return Block("thinking", text=text, signature=encrypted, id=get(raw, "id", str, path) or "")


def _origin(req: Request, namespace: str | None, name: str, kind: str) -> None:
    """Remember a tool that reaches the upstream under another name or shape."""
    custom = kind in ("custom", "custom_tool_call")
    if namespace or custom:
        origin = ToolOrigin(name, namespace, "custom" if custom else "function")
        req.tool_origins[flat_tool_name(namespace, name)] = origin


def _custom_tool(raw: dict[str, Any], path: str, namespace: str | None) -> Tool:
    """A freeform tool as a function taking its raw text in one string parameter."""
    name = get(raw, "name", str, path, required=True)
    description = get(raw, "description", str, path) or ""
    fmt = get(raw, "format", dict, path) or {}
    text = "The raw text input of the tool."
    if fmt.get("type") == "grammar" and isinstance(fmt.get("definition"), str):
        text += f" It must match this {fmt.get('syntax', '')} grammar:\n{fmt['definition']}"
    schema = {"type": "object", "properties": {CUSTOM_TOOL_PARAMETER: {"type": "string", "description": text}}}
    schema["required"] = [CUSTOM_TOOL_PARAMETER]
    return Tool(name=flat_tool_name(namespace, name), description=description or None, parameters=schema)


def _read_tool_list(tools: list[Any], path: str, req: Request, options: Options, namespace: str | None = None) -> None:
    for i, raw in enumerate(objects(tools, path)):
        where = f"{path}[{i}]"
        kind = get(raw, "type", str, where, required=True)
        if kind == "function":
            tool = read_function_tool(raw, where)
            _origin(req, namespace, tool.name, kind)
            tool.name = flat_tool_name(namespace, tool.name)
            req.tools.append(tool)
        elif kind == "custom":
            tool = _custom_tool(raw, where, namespace)
            _origin(req, namespace, get(raw, "name", str, where, required=True), kind)
            req.tools.append(tool)
        elif kind == "namespace" and namespace is None:
            inner = get(raw, "name", str, where, required=True)
            _read_tool_list(get(raw, "tools", list, where, required=True), f"{where}.tools", req, options, inner)
        elif kind in WEB_SEARCH_TOOLS:  # an anthropic upstream runs its own; for others, the writer says
            req.native.setdefault("tools", []).append(raw)  # as it was, for a Responses upstream
            req.web_search = _read_web_search(raw, where)
        else:
            req.native.setdefault("tools", []).append(raw)
            name = raw.get("name") or raw.get("server_label")
            label = f"{kind!r} ({name!r})" if isinstance(name, str) else repr(kind)
            if options.hosted_tools == "reject":
                message = f"{where}: the hosted tool {label} can only run on an openai-responses upstream"
                req.foreign.append((where, message + " (the route has hosted_tools = 'reject')", True))
            else:
                message = f"{where}: the hosted tool {label} can only run on an openai-responses upstream: dropped"
                req.foreign.append((where, message, False))


def _read_tools(body: dict[str, Any], req: Request, options: Options) -> None:
    _read_tool_list(get(body, "tools", list, "") or [], "tools", req, options)
    choice = body.get("tool_choice")
    if choice is None:
        return
    if isinstance(choice, str) and choice in _TOOL_CHOICES:
        req.tool_choice = {"type": _TOOL_CHOICES[choice]}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        req.tool_choice = {"type": "tool", "name": get(choice, "name", str, "tool_choice", required=True)}
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        mode = "any" if choice.get("mode") == "required" else "auto"
        req.tool_choice = {"type": mode}
        req.native["tool_choice"] = choice
        req.foreign.append(("tool_choice", f"tool_choice allowed_tools approximated as {mode}", False))
    elif isinstance(choice, dict) and isinstance(choice.get("type"), str):
        req.native["tool_choice"] = choice
        message = f"tool_choice: the built-in tool {choice['type']!r} can only run on an openai-responses upstream"
        req.foreign.append(("tool_choice", message, True))
    else:
        raise RequestRejected("tool_choice: expected auto, none, required or a function choice", "tool_choice")


def _read_web_search(raw: dict[str, Any], path: str) -> WebSearch:
    filters = get(raw, "filters", dict, path) or {}
    allowed = get(filters, "allowed_domains", list, f"{path}.filters")
    location = get(raw, "user_location", dict, path)
    return WebSearch(
        allowed_domains=[d for d in allowed if isinstance(d, str)] if allowed else None,
        user_location={k: v for k, v in location.items() if k != "type" and isinstance(v, str)} if location else None,
        context_size=get(raw, "search_context_size", str, path),
    )


def _write_web_search(search: WebSearch, warn: Warn) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "web_search"}
    if search.allowed_domains:
        out["filters"] = {"allowed_domains": search.allowed_domains}
    if search.blocked_domains:
        warn("web search blocked_domains has no openai-responses equivalent: dropped")
    if search.user_location:
        out["user_location"] = {"type": "approximate", **search.user_location}
    if search.context_size is not None:
        out["search_context_size"] = search.context_size
    return out


def _read_reasoning(body: dict[str, Any], req: Request) -> None:
    reasoning = get(body, "reasoning", dict, "")
    if reasoning is None:
        return
    req.reasoning_effort = get(reasoning, "effort", str, "reasoning")
    # the summary setting only means something to a Responses upstream (others always show thinking)
    req.native["reasoning"] = {k: reasoning[k] for k in ("summary", "generate_summary") if k in reasoning}


def _read_text(body: dict[str, Any], req: Request) -> None:
    text = get(body, "text", dict, "")
    if text is None:
        return
    req.verbosity = get(text, "verbosity", str, "text")
    fmt = get(text, "format", dict, "text")
    if fmt is None:
        return
    path = "text.format"
    kind = get(fmt, "type", str, path, required=True)
    if kind == "json_object":
        req.response_format = {"type": "json_object"}
    elif kind == "json_schema":
        req.response_format = {
            "type": "json_schema",
            "schema": get(fmt, "schema", dict, path, required=True),
            "name": get(fmt, "name", str, path, required=True),
            "description": get(fmt, "description", str, path),
            "strict": get(fmt, "strict", bool, path),
        }
    elif kind != "text":
        raise RequestRejected(f"{path}.type: expected text, json_object or json_schema, got {kind}", f"{path}.type")


# --- requests: write ---------------------------------------------------------------------------


def write_request(req: Request, options: Options, warn: Warn) -> dict[str, Any]:
    out: dict[str, Any] = {"model": options.map_model(req.model)}
    if req.system:
        out["instructions"] = "\n\n".join(req.system)
    out["input"] = _write_input(req.messages, warn)
    if req.max_tokens is not None:
        if req.max_tokens < MIN_OUTPUT_TOKENS:
            warn(f"max_output_tokens {req.max_tokens} below the API's minimum: sent as {MIN_OUTPUT_TOKENS}")
        out["max_output_tokens"] = max(req.max_tokens, MIN_OUTPUT_TOKENS)
    if req.temperature is not None:
        out["temperature"] = req.temperature
    if req.top_p is not None:
        out["top_p"] = req.top_p
    if req.stop:
        warn("stop sequences have no openai-responses equivalent: dropped")
    if req.stream:
        out["stream"] = True
    tools = [_write_tool(tool) for tool in req.tools]
    native_tools = req.native.get("tools") or []
    if req.web_search and not any(tool.get("type") in WEB_SEARCH_TOOLS for tool in native_tools):
        tools.append(_write_web_search(req.web_search, warn))
        if req.web_search.max_uses is not None:  # web search is the only built-in tool crosswire sends
            out["max_tool_calls"] = req.web_search.max_uses
    if tools or native_tools:
        out["tools"] = tools
        if req.tool_choice is not None:
            kind = req.tool_choice["type"]
            out["tool_choice"] = (
                {"type": "function", "name": req.tool_choice["name"]}
                if kind == "tool"
                else ("required" if kind == "any" else kind)
            )
            forced = req.tool_choice.get("name")
            if req.web_search and forced == "web_search" and all(t.name != forced for t in req.tools):
                out["tool_choice"] = "required"  # Responses can force a function, not its web search
                warn("a forced web search is sent as tool_choice 'required' (openai-responses cannot force it)")
        if req.parallel_tool_calls is not None:
            out["parallel_tool_calls"] = req.parallel_tool_calls
    effort = req.reasoning_effort
    if effort is None and req.thinking_budget is not None:
        effort = budget_effort(req.thinking_budget)
    if effort is not None:
        # a client of another format reads thinking text: ask for the summaries that carry it
        out["reasoning"] = {"effort": effort, "summary": "auto"}
    rf = req.response_format
    if rf and rf["type"] == "json_object":
        out["text"] = {"format": {"type": "json_object"}}
    elif rf:
        out["text"] = {"format": {"type": "json_schema", **json_schema_spec(rf)}}
    if req.verbosity is not None:
        out.setdefault("text", {})["verbosity"] = req.verbosity
    if req.prompt_cache_key is not None:
        out["prompt_cache_key"] = req.prompt_cache_key
    if req.user is not None:
        out["user"] = openai_user_id(req.user, warn)
    # crosswire is stateless: nothing is stored, and reasoning comes back encrypted (the signature)
    out["store"] = False
    if effort is not None and effort != "none":
        out["include"] = [ENCRYPTED_REASONING]
    _merge_native(out, req.native)
    return out


def _merge_native(out: dict[str, Any], native: dict[str, Any]) -> None:
    """The client's own Responses fields, as it sent them (objects merge, tool lists extend)."""
    for key, value in native.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "tool_choice":
            out[key] = {k: v for k, v in {**out[key], **value}.items() if v is not None}
        elif isinstance(value, list) and isinstance(out.get(key), list) and key == "tools":
            out[key] = out[key] + value
        else:
            out[key] = value


def _write_tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    out["parameters"] = tool.parameters or {"type": "object", "properties": {}}
    # Responses tools are strict unless told otherwise; the other formats' are not
    out["strict"] = bool(tool.strict)
    return out


def _write_input(turns: list[Turn], warn: Warn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for turn in turns:
        if turn.role == "assistant":
            _write_assistant(turn.content, items, warn)
        elif turn.role == "system":  # an instruction inside the conversation: a developer item, in place
            text = "".join(b.text for b in turn.content)
            items.append({"type": "message", "role": "developer", "content": text})
        else:
            _write_user(turn.content, items, warn)
    return items


def _write_user(blocks: list[Block], items: list[dict[str, Any]], warn: Warn) -> None:
    """Tool results first (they answer the calls just before), then one user message with the rest."""
    rest: list[dict[str, Any]] = []
    for block in blocks:
        if block.kind == "native":
            _write_native(block, items, warn)
            continue
        if block.kind != "tool_result":
            rest.append(_write_part(block))
            continue
        texts = iter(tool_result_texts(block, warn))  # the error prefix, if any, is in the first
        parts = [_write_part(b) if b.kind != "text" else {"type": "input_text", "text": next(texts, b.text)}
                 for b in block.content] or [{"type": "input_text", "text": t} for t in texts]  # fmt: skip
        output: str | list[dict[str, Any]] = (
            "".join(p["text"] for p in parts) if all(p["type"] == "input_text" for p in parts) else parts
        )
        items.append({"type": "function_call_output", "call_id": block.id, "output": output})
    if rest:
        plain = len(rest) == 1 and rest[0]["type"] == "input_text"
        items.append({"type": "message", "role": "user", "content": rest[0]["text"] if plain else rest})


def _write_part(block: Block) -> dict[str, Any]:
    if block.kind == "image":
        url = block.url or data_url(block.media_type, block.data)
        return {"type": "input_image", "image_url": url, "detail": "auto"}
    if block.kind == "document":
        name = block.name or ("document.pdf" if block.media_type == "application/pdf" else "document")
        return {"type": "input_file", "filename": name, "file_data": data_url(block.media_type, block.data)}
    return {"type": "input_text", "text": block.text}


def _write_assistant(blocks: list[Block], items: list[dict[str, Any]], warn: Warn) -> None:
    text: list[str] = []

    def flush() -> None:
        if text:
            items.append({"type": "message", "role": "assistant", "content": "".join(text)})
            text.clear()

    for block in blocks:
        if block.kind in ("text", "refusal"):
            text.append(block.text)
            continue
        flush()
        if block.kind == "tool_use":
            arguments = block.input if isinstance(block.input, str) else orjson.dumps(block.input).decode()
            items.append({"type": "function_call", "call_id": block.id, "name": block.name, "arguments": arguments})
        elif block.kind == "thinking":
            # A reasoning item needs its own rs_ id (the API requires one); an invented one names
            # an item the API never made (with store: false it looks the id up and fails).
            if not block.id.startswith("rs_"):
                warn("thinking without its openai-responses reasoning item id cannot be sent back: dropped")
                continue
            item: dict[str, Any] = {"type": "reasoning", "id": block.id}
            item["summary"] = [{"type": "summary_text", "text": block.text}] if block.text else []
            if block.signature:
                item["encrypted_content"] = block.signature
            items.append(item)
        elif block.kind in ("web_search", "native"):
            _write_native(block, items, warn)
        elif block.kind == "web_search_result":
            pass  # written with its search (a Responses client's item), or dropped with it
        elif block.kind == "redacted_thinking":
            warn("redacted_thinking cannot be sent to openai-responses (it has no reasoning item id): dropped")
        else:
            warn(f"{block.kind} in an assistant message has no openai-responses equivalent: dropped")
    flush()


def _write_native(block: Block, items: list[dict[str, Any]], warn: Warn) -> None:
    """A Responses client's own item, as it sent it; another format's web search is dropped."""
    own = own_native(block.native, NAME, warn)
    if own and isinstance(own.get("item"), dict):
        items.append(own["item"])
    elif block.kind == "web_search":
        warn(HISTORY_SEARCH_DROPPED)


def _read_call(item: dict[str, Any], path: str, warn: Warn, arguments_required: bool) -> Block:
    """A ``function_call`` item: its ``call_id`` (never the fc_ item id) is the tool id. A
    ``custom_tool_call``'s raw text input becomes the one string parameter of its function."""
    if item.get("type") == "custom_tool_call":
        text = get(item, "input", str, path, required=True)
        return Block(
            "tool_use",
            id=get(item, "call_id", str, path, required=True),
            name=get(item, "name", str, path, required=True),
            input={CUSTOM_TOOL_PARAMETER: text},
        )
    arguments = get(item, "arguments", str, path, required=arguments_required) or ""
    call = Block(
        "tool_use",
        id=get(item, "call_id", str, path, required=True),
        name=get(item, "name", str, path, required=True),
        input=parse_tool_input(arguments),
    )
    if not isinstance(call.input, dict):
        warn(f"{path}.arguments is not a JSON object: passed through as a string")
    return call


# --- responses ---------------------------------------------------------------------------------


def read_response(body: dict[str, Any], options: Options, warn: Warn) -> Message:
    status = get(body, "status", str, "") or "completed"
    if status == "failed":
        raw_error = body.get("error")
        error = raw_error if isinstance(raw_error, dict) else {}
        raise RequestRejected(f"the upstream response failed: {error.get('message') or error}", "status")
    if status not in ("completed", "incomplete"):
        raise RequestRejected(f"the upstream response is {status!r}, not finished", "status")
    created = get(body, "created_at", (int, float), "")
    msg = Message(
        id=get(body, "id", str, "") or "",
        model=get(body, "model", str, "") or "",
        usage=read_usage(body.get("usage")),
        created=int(created) if created is not None else None,
    )
    extras = extra_fields(body, RESPONSE_FIELDS)  # the request's settings it repeats
    usage = body.get("usage")
    if isinstance(usage, dict) and (usage_rest := usage_extras(usage, USAGE_FIELDS)):
        extras["usage"] = usage_rest
    if extras:
        msg.native.append(Native(NAME, {"response": extras}))
    refused = calls = False
    searches = 0
    for i, item in enumerate(objects(get(body, "output", list, "", required=True), "output")):
        path = f"output[{i}]"
        kind = get(item, "type", str, path, required=True)
        blocks: list[Block] = []
        if kind == "message":
            blocks = _message_blocks(item, path, warn)
            refused |= any(b.kind == "refusal" for b in blocks)
        elif kind in ("function_call", "custom_tool_call"):
            calls = True
            call = _read_call(item, path, warn, arguments_required=False)
            call.name = flat_tool_name(get(item, "namespace", str, path), call.name)  # as the request named it
            blocks = [call]
        elif kind == "reasoning":
            block = _reasoning(item, path)
            block.id = ""  # an item name of this response, not a part of the answer
            blocks = [block]
        elif kind == "web_search_call":
            blocks = _search_blocks(item)
            searches += (item.get("action") or {}).get("type") == "search"
        else:
            what = f"openai-responses {kind!r} output item"
            msg.content.append(Block("native", native=Native(NAME, {"item": item}, what)))
            continue
        if blocks and blocks[0].native is None:
            blocks[0].native = Native(NAME, {"item": item}, _item_loss(item))
        msg.content.extend(blocks)
    if searches:
        msg.usage["web_search_requests"] = searches
    if status == "incomplete":
        details = body.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        msg.stop_reason = INCOMPLETE_TO_STOP.get(str(reason), "max_tokens")
    else:
        msg.stop_reason = "refusal" if refused else "tool_use" if calls else "end_turn"
    return msg


def _message_blocks(item: dict[str, Any], path: str, warn: Warn) -> list[Block]:
    blocks = []
    for j, part in enumerate(objects(get(item, "content", list, path) or [], f"{path}.content")):
        part_path = f"{path}.content[{j}]"
        part_kind = get(part, "type", str, part_path, required=True)
        if part_kind == "output_text":
            text = Block("text", text=get(part, "text", str, part_path, required=True))
            annotations = get(part, "annotations", list, part_path) or []
            text.citations = [c for c in map(_read_annotation, annotations) if c is not None]
            blocks.append(text)
        elif part_kind == "refusal":
            blocks.append(Block("refusal", text=get(part, "refusal", str, part_path, required=True)))
        else:
            warn(f"openai-responses {part_kind!r} content part has no equivalent: dropped")
    return blocks


def _read_annotation(raw: Any) -> Citation | None:
    if not isinstance(raw, dict) or raw.get("type") != "url_citation":
        return None
    title, start, end = raw.get("title"), raw.get("start_index"), raw.get("end_index")
    return Citation(
        url=str(raw.get("url", "")),
        title=title if isinstance(title, str) else None,
        start=start if isinstance(start, int) else None,
        end=end if isinstance(end, int) else None,
    )


def _item_loss(item: dict[str, Any]) -> str:
    """What an item holds that a client of another format loses: annotations other than url citations."""
    kinds = sorted(
        {
            str(a.get("type"))
            for part in item.get("content") or ()
            if isinstance(part, dict)
            for a in part.get("annotations") or ()
            if isinstance(a, dict) and a.get("type") != "url_citation"
        }
    )
    return f"openai-responses {', '.join(map(repr, kinds))} annotations" if kinds else ""


def write_response(msg: Message, options: Options, warn: Warn) -> dict[str, Any]:
    """The object the stream writer's ``response.completed`` carries for the same message; a
    Responses source's own items and fields are written back as they were."""
    rid = derive_id(msg.id, "resp_")
    stem = rid[len("resp_") :]
    reason = msg.stop_reason or "end_turn"
    in_band_refusal = any(b.kind == "refusal" for b in msg.content)
    incomplete = (
        "max_output_tokens"
        if reason == "max_tokens"
        else "content_filter"
        if reason == "refusal" and not in_band_refusal
        else None
    )
    status = "incomplete" if incomplete else "completed"
    output: list[dict[str, Any]] = []
    message: dict[str, Any] | None = None
    search: dict[str, Any] | None = None
    for block in msg.content:
        position = len(output)
        own = own_native(block.native, NAME, warn)
        source_item = own.get("item") if own else None
        if block.kind in ("text", "refusal"):
            if message is None or source_item is not None:
                message = {"id": f"msg_{stem}_{position}", "type": "message", "status": "completed"}
                message.update(content=[], role="assistant")
                output.append(source_item or message)
            if block.kind == "refusal":
                message["content"].append({"type": "refusal", "refusal": block.text})
            else:
                annotations = [_annotation(c, len(block.text)) for c in block.citations]
                message["content"].append(
                    {"type": "output_text", "annotations": annotations, "logprobs": [], "text": block.text}
                )
            continue
        message = None
        item: dict[str, Any] | None = None
        if block.kind == "tool_use":
            arguments = block.input if isinstance(block.input, str) else orjson.dumps(block.input).decode()
            origin = options.tool_origins.get(block.name)
            item = call_item(call_item_id(block.id), block.id, block.name, arguments or "{}", "completed", origin)
        elif block.kind == "thinking":
            item = {"id": f"rs_{stem}_{position}", "type": "reasoning"}
            item["summary"] = [{"type": "summary_text", "text": block.text}] if block.text else []
            item["status"] = "completed"
            if block.signature:
                item["encrypted_content"] = block.signature
        elif block.kind == "redacted_thinking":
            item = {
                "id": f"rs_{stem}_{position}",
                "type": "reasoning",
                "summary": [],
                "encrypted_content": REDACTED_PREFIX + block.data,
                "status": "completed",
            }
        elif block.kind == "web_search":
            action = {"type": "search", **(block.input if isinstance(block.input, dict) else {})}
            search_id = derive_id(block.id, "ws_", SEARCH_ID_PREFIXES)
            item = search = {"id": search_id, "type": "web_search_call", "status": "in_progress", "action": action}
        elif block.kind == "web_search_result":
            if search is not None and own is None:  # a search of another format: its sources and status
                if block.results:
                    search["action"]["sources"] = [{"type": "url", "url": r.url} for r in block.results]
                search["status"] = "failed" if block.data else "completed"
            search = None
            continue
        written = source_item or item
        if written is not None:
            output.append(written)
    if message is not None:
        message["status"] = status  # the last item is the one the stop reason cut short
    response = response_object(
        rid,
        options.created or msg.created or int(time.time()),
        options.model or msg.model,
        status,
        incomplete_details={"reason": incomplete} if incomplete else None,
        output=output,
        usage=write_usage(msg.usage),
    )
    for carrier in msg.native:
        own = own_native(carrier, NAME, warn)
        if own:
            merge_native(response, own.get("response") or {})
    return response


def _annotation(citation: Citation, length: int) -> dict[str, Any]:
    """A url_citation annotation; a citation without a span covers its whole part."""
    start = citation.start if citation.start is not None else 0
    end = citation.end if citation.end is not None else length
    return {
        "type": "url_citation",
        "start_index": start,
        "end_index": end,
        "url": citation.url,
        "title": citation.title or "",
    }


def write_token_count(tokens: int) -> dict[str, Any]:
    return {"object": "response.input_tokens", "input_tokens": tokens}


# crosswire sends ``store: false``: no response is ever stored upstream, so none can be read back.
SUB_ENDPOINTS = (
    SubEndpoint("input_tokens", frozenset({"POST"}), "count_tokens", "token counting"),
    SubEndpoint("compact", frozenset({"POST"}), "unsupported", "remote compaction"),
    SubEndpoint("{id}", frozenset({"GET", "DELETE"}), "stored", "stored responses"),
    SubEndpoint("{id}/cancel", frozenset({"POST"}), "stored", "stored responses"),
    SubEndpoint("{id}/input_items", frozenset({"GET"}), "stored", "stored responses"),
)


def is_response_body(body: Any) -> bool:
    """A whole answer of this format (the field only its answers carry)."""
    return isinstance(body, dict) and body.get("object") == "response"


FORMAT = Format(
    name=NAME,
    stream_reader=openai_responses.OpenAIResponsesStreamReader,
    stream_writer=openai_responses.OpenAIResponsesStreamWriter,
    read_request=read_request,
    write_request=write_request,
    read_response=read_response,
    write_response=write_response,
    read_error=read_error,
    write_error=write_error,
    path_suffixes=("/responses",),
    key_env="OPENAI_API_KEY",
    auth_header="authorization",
    auth_prefix="Bearer ",
    credential_headers=frozenset({"authorization", "api-key"}),
    forward_headers=frozenset({"openai-beta"}),
    request_id_header="x-request-id",
    id_prefix="resp_",
    stream_frame=openai_responses.is_stream_frame,
    response_body=is_response_body,
    official_host="api.openai.com",
    stream_error_frame=openai_responses.is_error_frame,
    sub_endpoints=SUB_ENDPOINTS,
    read_count_request=read_request,
    write_token_count=write_token_count,
    write_model=write_model,
    write_models=write_models,
)
