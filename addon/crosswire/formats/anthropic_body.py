"""Anthropic Messages (`POST /v1/messages`) whole bodies: request, response and error reader/writer.

Readers turn a parsed JSON body into the canonical :class:`Request`, :class:`Message` or
:class:`ApiError`; writers do the reverse and enforce what the API requires of a request
(alternating roles starting with ``user``, ``max_tokens``, thinking rules).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from .. import errors
from ..events import ERROR_STATUS, ApiError, Block, Message, Native, Request, Tool, Turn, WebSearch
from ..options import Options
from . import anthropic
from .anthropic import (
    BLOCK_DEFAULTS,
    BLOCK_FIELDS,
    MESSAGE_FIELDS,
    WEB_SEARCH,
    message_native,
    read_citation,
    read_results,
    read_usage,
    write_citation,
    write_results,
    write_usage,
)
from .base import SEARCH_ID_PREFIXES, Warn, derive_id, extra_fields, merge_native, native_fields, own_native
from .body_common import EFFORT_BUDGET, RequestRejected, budget_effort, get, objects, strings
from .registry import Format, SubEndpoint

NAME = "anthropic"

MIN_THINKING_BUDGET = 1024
WEB_SEARCH_TOOL = "web_search_20250305"  # the version every model with web search takes
CACHE_CONTROL_DROPPED = "cache_control markers dropped (openai caches prompts automatically)"
JSON_OBJECT_INSTRUCTION = "Respond with a single valid JSON object and nothing else."
# Claude Opus 4.7 and every later generation reject the sampling parameters (a 400: "`temperature`
# is deprecated for this model") and think only adaptively (no budget_tokens). Matched anywhere in
# the name, so dated and provider-prefixed ids (Bedrock, Vertex) count too; not Opus 4's dated id.
ADAPTIVE_ONLY = re.compile(r"claude-(?:opus-4-(?:[7-9]|[1-9]\d)|(?:opus|sonnet|haiku)-(?:[5-9]|[1-9]\d))(?!\d)")
CONTINUE_PLACEHOLDER = "(continue)"
BILLING_HEADER = "x-anthropic-billing-header:"

# Read into the canonical request, and kept as they were for an anthropic upstream (their details:
# tool cache_control, adaptive thinking, metadata beyond the user id).
_AS_SENT = ("tools", "tool_choice", "thinking", "output_config", "metadata")
# Top-level request fields this module reads; anything else is reported as dropped.
_REQUEST_FIELDS = {
    "model", "messages", "max_tokens", "system", "stop_sequences", "temperature", "top_p", "top_k",
    "stream", "metadata", "tools", "tool_choice", "thinking", "output_config", "output_format",
}  # fmt: skip


# --- requests: read ----------------------------------------------------------------------------


def read_request(body: dict[str, Any], options: Options, warn: Warn) -> Request:
    req = Request(
        model=get(body, "model", str, "", required=True),
        max_tokens=get(body, "max_tokens", int, "", required=True),
        temperature=get(body, "temperature", float, ""),
        top_p=get(body, "top_p", float, ""),
        stream=bool(get(body, "stream", bool, "")),
    )
    for key in sorted(body.keys() - _REQUEST_FIELDS):  # kept for an anthropic upstream
        req.native[key] = body[key]
        req.foreign.append((key, f"anthropic request field {key!r} has no equivalent: dropped", False))
    if get(body, "top_k", int, "") is not None:
        req.native["top_k"] = body["top_k"]
        req.foreign.append(("top_k", "top_k has no openai equivalent: dropped", False))
    for key in _AS_SENT:  # read below into the canonical request; an anthropic upstream gets them as sent
        if body.get(key) is not None:
            req.native[key] = body[key]
    system = get(body, "system", (str, list), "")
    if isinstance(system, str):
        req.system = [system] if system else []
    elif system is not None:
        billing = False
        for i, block in enumerate(objects(system, "system")):
            if block.get("type") != "text":
                raise RequestRejected(f"system[{i}].type: expected 'text'", f"system[{i}].type")
            text = get(block, "text", str, f"system[{i}]", required=True)
            if text.startswith(BILLING_HEADER):
                billing = True
                message = (
                    "Claude Code's in-band x-anthropic-billing-header system block not sent (it is for Anthropic "
                    "only, and changes on every request, which defeats the upstream's prompt caching)"
                )
                req.foreign.append((f"system[{i}]", message, False))
                continue
            req.system.append(text)
        if billing or any(block.keys() - {"type", "text"} for block in system):
            req.native["system"] = system  # as sent (cache_control, billing header), for an anthropic upstream
    stop = get(body, "stop_sequences", list, "")
    req.stop = strings(stop, "stop_sequences") if stop else []
    metadata = get(body, "metadata", dict, "")
    if metadata:
        req.user = get(metadata, "user_id", str, "metadata")
    messages = objects(get(body, "messages", list, "", required=True), "messages")
    if not messages:
        raise RequestRejected("messages: at least one message is required", "messages")
    cache_control = citations = False
    for i, raw in enumerate(messages):
        path = f"messages[{i}]"
        role = get(raw, "role", str, path, required=True)
        if role not in ("user", "assistant", "system"):  # system: mid-conversation instructions (a beta)
            raise RequestRejected(
                f"{path}.role: expected 'user', 'assistant' or 'system', got {role!r}", f"{path}.role"
            )
        content = get(raw, "content", (str, list), path, required=True)
        turn = Turn(role)
        if isinstance(content, str):
            turn.content.append(Block("text", text=content))
        else:
            for j, block in enumerate(objects(content, f"{path}.content")):
                cache_control |= "cache_control" in block
                citations |= bool(block.get("citations"))
                read = _read_block(block, f"{path}.content[{j}]", req, warn)
                if read is not None:
                    turn.content.append(read)
        if role == "system" and any(b.kind != "text" for b in turn.content):
            raise RequestRejected(f"{path}.content: a system message may only hold text", f"{path}.content")
        req.messages.append(turn)
    if cache_control or (isinstance(system, list) and any("cache_control" in b for b in system)):
        req.foreign.append(("cache_control", CACHE_CONTROL_DROPPED, False))
    if citations:
        req.foreign.append(("citations", "text citations dropped (the other formats take none in a request)", False))
    _read_tools(body, req, warn)
    _read_thinking(body, req, warn)
    _read_output_format(body, req)
    return req


_KNOWN_BLOCKS = {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}


def _read_block(block: dict[str, Any], path: str, req: Request | None, warn: Warn) -> Block | None:
    """A content block of a request (``req``) or a response. What the canonical model does not hold
    of it is its native carrier, for an anthropic upstream or client (a request warns at conversion,
    through ``req.foreign``; a response where a writer drops it)."""
    kind = get(block, "type", str, path, required=True)
    read = _read_known(block, kind, path, warn)
    if read is None:
        if kind in _KNOWN_BLOCKS:
            return None  # a source it cannot convert: warned
        what = f"anthropic {kind!r} content block"
        if req is not None:
            req.foreign.append((path, f"{what} has no equivalent: dropped", False))
        return Block("native", native=Native(NAME, block, "" if req is not None else what))
    if kind not in BLOCK_FIELDS:
        return read
    extras = extra_fields(block, BLOCK_FIELDS[kind])
    cited = block.get("citations")
    if kind == "text" and "citations" in block and (not read.citations or len(read.citations) != len(cited or ())):
        extras["citations"] = cited  # null, empty or not all web citations: kept as they were
    if extras or read.kind in ("web_search", "web_search_result"):  # a web search only anthropic can replay
        carrier = native_fields(NAME, extras, "content block", BLOCK_DEFAULTS)
        read.native = Native(NAME, extras, carrier.what if carrier and req is None else "")
    return read


def _read_known(block: dict[str, Any], kind: str, path: str, warn: Warn) -> Block | None:
    if kind == "text":
        text = Block("text", text=get(block, "text", str, path, required=True))
        raw = get(block, "citations", list, path) or []
        text.citations = [c for c in map(read_citation, raw) if c is not None]
        return text
    if kind == "image":
        return _read_image(block, path, warn)
    if kind == "document":
        source = get(block, "source", dict, path, required=True)
        if source.get("type") == "base64":
            return Block(
                "document",
                data=get(source, "data", str, f"{path}.source", required=True),
                media_type=get(source, "media_type", str, f"{path}.source", required=True),
                name=get(block, "title", str, path) or "",
            )
        if source.get("type") == "text":
            return Block("text", text=get(source, "data", str, f"{path}.source", required=True))
        warn(f"document source {source.get('type')!r} cannot be converted: dropped")
        return None
    if kind == "tool_use" or (kind == "server_tool_use" and block.get("name") == WEB_SEARCH):
        return Block(
            "tool_use" if kind == "tool_use" else "web_search",
            id=get(block, "id", str, path, required=True),
            name=get(block, "name", str, path, required=True),
            input=block.get("input") if block.get("input") is not None else {},
        )
    if kind == "web_search_tool_result":
        results, error = read_results(block.get("content"))
        return Block(
            "web_search_result", id=get(block, "tool_use_id", str, path, required=True), results=results, data=error
        )
    if kind == "tool_result":
        result = Block(
            "tool_result",
            id=get(block, "tool_use_id", str, path, required=True),
            is_error=bool(get(block, "is_error", bool, path)),
        )
        content = get(block, "content", (str, list), path)
        if isinstance(content, str):
            if content:
                result.content.append(Block("text", text=content))
        elif content:
            for j, inner in enumerate(objects(content, f"{path}.content")):
                inner_path = f"{path}.content[{j}]"
                inner_kind = get(inner, "type", str, inner_path, required=True)
                if inner_kind == "text":
                    result.content.append(Block("text", text=get(inner, "text", str, inner_path, required=True)))
                elif inner_kind == "image":
                    image = _read_image(inner, inner_path, warn)
                    if image is not None:
                        result.content.append(image)
                elif inner_kind == "tool_reference":  # Claude Code's tool search found a deferred tool
                    name = get(inner, "tool_name", str, inner_path, required=True)
                    result.content.append(Block("text", text=f"Tool {name} is now available."))
                else:
                    warn(f"{inner_kind!r} block inside a tool_result cannot be converted: dropped")
        return result
    if kind == "thinking":
        return Block(
            "thinking",
            text=get(block, "thinking", str, path, required=True),
            signature=get(block, "signature", str, path) or "",
        )
    if kind == "redacted_thinking":
        return Block("redacted_thinking", data=get(block, "data", str, path, required=True))
    return None


def _read_image(block: dict[str, Any], path: str, warn: Warn) -> Block | None:
    source = get(block, "source", dict, path, required=True)
    kind = source.get("type")
    if kind == "base64":
        return Block(
            "image",
            data=get(source, "data", str, f"{path}.source", required=True),
            media_type=get(source, "media_type", str, f"{path}.source", required=True),
        )
    if kind == "url":
        return Block("image", url=get(source, "url", str, f"{path}.source", required=True))
    warn(f"image source {kind!r} cannot be converted: dropped")
    return None


def _read_tools(body: dict[str, Any], req: Request, warn: Warn) -> None:
    tools = get(body, "tools", list, "")
    for i, raw in enumerate(objects(tools or [], "tools")):
        path = f"tools[{i}]"
        kind = raw.get("type")
        if isinstance(kind, str) and kind.startswith("web_search_") and raw.get("name") == WEB_SEARCH:
            req.web_search = _read_web_search(raw, path)
            continue
        if kind not in (None, "custom"):
            req.foreign.append((path, f"anthropic server tool {kind!r} has no equivalent: dropped", False))
            continue
        req.tools.append(
            Tool(
                name=get(raw, "name", str, path, required=True),
                description=get(raw, "description", str, path),
                parameters=get(raw, "input_schema", dict, path, required=True),
                strict=get(raw, "strict", bool, path),
            )
        )
    choice = get(body, "tool_choice", dict, "")
    if choice is not None:
        kind = get(choice, "type", str, "tool_choice", required=True)
        if kind not in ("auto", "any", "tool", "none"):
            raise RequestRejected(f"tool_choice.type: unknown value {kind!r}", "tool_choice.type")
        req.tool_choice = {"type": kind}
        if kind == "tool":
            req.tool_choice["name"] = get(choice, "name", str, "tool_choice", required=True)
        if get(choice, "disable_parallel_tool_use", bool, "tool_choice"):
            req.parallel_tool_calls = False


def _read_web_search(raw: dict[str, Any], path: str) -> WebSearch:
    location = get(raw, "user_location", dict, path)
    return WebSearch(
        allowed_domains=strings(raw["allowed_domains"], f"{path}.allowed_domains")
        if raw.get("allowed_domains")
        else None,
        blocked_domains=strings(raw["blocked_domains"], f"{path}.blocked_domains")
        if raw.get("blocked_domains")
        else None,
        user_location={k: v for k, v in location.items() if k != "type" and isinstance(v, str)} if location else None,
        max_uses=get(raw, "max_uses", int, path),
    )


def _write_web_search(search: WebSearch, warn: Warn) -> dict[str, Any]:
    out: dict[str, Any] = {"type": WEB_SEARCH_TOOL, "name": WEB_SEARCH}
    if search.allowed_domains:
        out["allowed_domains"] = search.allowed_domains
    if search.blocked_domains:
        out["blocked_domains"] = search.blocked_domains
    if search.user_location:
        out["user_location"] = {"type": "approximate", **search.user_location}
    if search.max_uses is not None:
        out["max_uses"] = search.max_uses
    if search.context_size is not None:
        warn(f"web search context size {search.context_size!r} has no anthropic equivalent: dropped")
    return out


def _read_thinking(body: dict[str, Any], req: Request, warn: Warn) -> None:
    thinking = get(body, "thinking", dict, "")
    config = get(body, "output_config", dict, "") or {}
    kind = get(thinking, "type", str, "thinking", required=True) if thinking is not None else None
    if config.get("effort") is not None and kind != "adaptive":
        message = "output_config.effort without adaptive thinking has no equivalent: dropped"
        req.foreign.append(("output_config.effort", message, False))
    if thinking is None:
        return
    if kind == "enabled":
        req.thinking_budget = get(thinking, "budget_tokens", int, "thinking", required=True)
    elif kind == "adaptive":
        req.reasoning_effort = get(config, "effort", str, "output_config") or "medium"
        message = f"adaptive thinking approximated as reasoning_effort {req.reasoning_effort!r}"
        req.foreign.append(("thinking", message, False))
    elif kind != "disabled":
        req.foreign.append(("thinking", f"thinking type {kind!r} has no equivalent: dropped", False))


def _read_output_format(body: dict[str, Any], req: Request) -> None:
    config = get(body, "output_config", dict, "") or {}
    fmt = get(config, "format", dict, "output_config")
    path = "output_config.format"
    if fmt is None:  # the beta spelling, still accepted by the API
        fmt, path = get(body, "output_format", dict, ""), "output_format"
    if fmt is None:
        return
    if fmt.get("type") != "json_schema":
        raise RequestRejected(f"{path}.type: expected 'json_schema'", f"{path}.type")
    req.response_format = {"type": "json_schema", "schema": get(fmt, "schema", dict, path, required=True)}


# --- requests: write ---------------------------------------------------------------------------


def write_request(req: Request, options: Options, warn: Warn) -> dict[str, Any]:
    system = list(req.system)
    rf = req.response_format
    if rf and rf["type"] == "json_object":
        system.append(JSON_OBJECT_INSTRUCTION)
        warn("response_format json_object approximated by a system instruction (anthropic has no JSON mode)")
    max_tokens = req.max_tokens if req.max_tokens is not None else options.max_tokens
    out: dict[str, Any] = {"model": options.map_model(req.model), "max_tokens": max_tokens}
    turns = [t for t in req.messages if t.role != "system"]
    if len(turns) < len(req.messages):
        warn("system messages inside the conversation were folded into the system prompt (anthropic has none)")
        system += ["".join(b.text for b in t.content) for t in req.messages if t.role == "system"]
    if len(system) == 1:
        out["system"] = system[0]
    elif system:  # the parts stay parts (several system messages or a message of several text parts)
        out["system"] = [{"type": "text", "text": text} for text in system]
    out["messages"] = _write_turns(turns, warn)
    if req.stop:
        out["stop_sequences"] = list(req.stop)
    temperature, top_p = req.temperature, req.top_p
    if temperature is not None and temperature > 1:
        warn(f"temperature {temperature} above anthropic's maximum of 1: sent as 1")
        temperature = 1.0
    adaptive_only = ADAPTIVE_ONLY.search(out["model"]) is not None
    if adaptive_only and (temperature is not None or top_p is not None):
        warn(f"{out['model']} takes no temperature or top_p (Claude models from Opus 4.7 on): dropped")
        temperature = top_p = None
    if temperature is not None and top_p is not None:
        # current models reject both together ("cannot both be specified for this model")
        warn("anthropic takes temperature or top_p, not both: top_p dropped")
        top_p = None
    # an anthropic client's own thinking settings go as it sent them
    thinking = None
    if "thinking" not in req.native and adaptive_only:
        effort = _adaptive_effort(req, out, warn)
        if effort is not None:
            out["thinking"] = {"type": "adaptive"}
            out["output_config"] = {"effort": effort}
    elif "thinking" not in req.native:
        thinking = _thinking_budget(req, out, warn)
    if thinking is not None:
        out["thinking"] = {"type": "enabled", "budget_tokens": thinking}
        # The API rejects sampling changes while thinking (top_p only from 0.95).
        if temperature is not None and temperature != 1:
            warn("temperature cannot be set together with anthropic extended thinking: dropped")
            temperature = None
        if top_p is not None and top_p < 0.95:
            warn("top_p below 0.95 cannot be set together with anthropic extended thinking: dropped")
            top_p = None
    cap = options.max_output_tokens
    if cap is not None and out["max_tokens"] > cap:  # the default, or raised to make room for thinking
        out["max_tokens"] = cap
        if thinking is not None and thinking >= cap:
            warn(f"max_output_tokens {cap} leaves no room for anthropic extended thinking: not enabled")
            del out["thinking"]
    if temperature is not None:
        out["temperature"] = temperature
    if top_p is not None:
        out["top_p"] = top_p
    if req.stream:
        out["stream"] = True
    if req.user is not None:
        out["metadata"] = {"user_id": req.user}
    if req.verbosity is not None:
        warn("verbosity has no anthropic equivalent: dropped")
    if req.prompt_cache_key is not None:
        warn("prompt_cache_key has no anthropic equivalent (anthropic caches by cache_control): dropped")
    if req.tools or req.web_search:
        out["tools"] = [_write_tool(tool) for tool in req.tools]
        if req.web_search:
            out["tools"].append(_write_web_search(req.web_search, warn))
        choice = dict(req.tool_choice or {"type": "auto"})
        if req.parallel_tool_calls is False and choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
        if req.tool_choice is not None or len(choice) > 1:
            out["tool_choice"] = choice
    if rf and rf["type"] == "json_schema":
        out.setdefault("output_config", {})["format"] = {"type": "json_schema", "schema": rf["schema"]}
    out.update(req.native)  # an anthropic client's own fields, as it sent them
    return out


def _write_tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    out["input_schema"] = tool.parameters or {"type": "object", "properties": {}}
    if tool.strict:  # strict: false is the default, and some anthropic-compatible servers refuse the field
        out["strict"] = True
    return out


def _thinking_budget(req: Request, out: dict[str, Any], warn: Warn) -> int | None:
    """The budget_tokens to send, adjusting max_tokens, or ``None`` for no thinking."""
    if req.thinking_budget is not None:
        budget = req.thinking_budget
    elif req.reasoning_effort in EFFORT_BUDGET:
        budget = EFFORT_BUDGET[req.reasoning_effort]
    else:
        if req.reasoning_effort not in (None, "none"):
            warn(f"reasoning_effort {req.reasoning_effort!r} has no thinking budget: thinking not enabled")
        return None
    if not _thinking_allowed(req, out, warn):
        return None
    budget = max(budget, MIN_THINKING_BUDGET)
    if req.max_tokens is None:
        out["max_tokens"] += budget  # no cap from the client: room for the answer after the thinking
    elif budget >= out["max_tokens"]:
        if out["max_tokens"] <= MIN_THINKING_BUDGET:
            warn(f"max_tokens {out['max_tokens']} leaves no room for anthropic extended thinking: not enabled")
            return None
        warn(f"thinking budget {budget} lowered to {out['max_tokens'] - 1} to stay below max_tokens")
        budget = out["max_tokens"] - 1
    return budget


def _adaptive_effort(req: Request, out: dict[str, Any], warn: Warn) -> str | None:
    """The ``output_config.effort`` of adaptive thinking for a model that has no budgets, or ``None``."""
    if req.thinking_budget is not None:
        effort = budget_effort(req.thinking_budget)
    elif req.reasoning_effort in EFFORT_BUDGET:
        effort = "low" if req.reasoning_effort == "minimal" else req.reasoning_effort
    else:
        if req.reasoning_effort not in (None, "none"):
            warn(f"reasoning_effort {req.reasoning_effort!r} has no anthropic effort: thinking not enabled")
        return None
    return effort if _thinking_allowed(req, out, warn) else None


def _thinking_allowed(req: Request, out: dict[str, Any], warn: Warn) -> bool:
    if req.tool_choice and req.tool_choice["type"] in ("any", "tool"):
        warn("anthropic extended thinking cannot be combined with a forced tool_choice: thinking not enabled")
        return False
    if _unsigned_tool_turn(out["messages"]):
        warn(
            "anthropic extended thinking needs the signed thinking of the assistant turn that called the tools "
            "(use thinking=xml to carry signatures): thinking not enabled for this request"
        )
        return False
    return True


def _unsigned_tool_turn(messages: list[dict[str, Any]]) -> bool:
    """True when the request continues a tool loop whose assistant turn does not start with thinking:
    the API then rejects a request that enables thinking."""
    if len(messages) < 2 or messages[-1]["role"] != "user":
        return False
    last_user, assistant = messages[-1]["content"], messages[-2]["content"]
    if isinstance(last_user, str) or not any(b["type"] == "tool_result" for b in last_user):
        return False
    return isinstance(assistant, str) or assistant[0]["type"] not in ("thinking", "redacted_thinking")


def _write_turns(turns: list[Turn], warn: Warn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for turn in turns:
        content = [b for b in (_write_block(block, warn) for block in turn.content) if b is not None]
        if not content:
            continue
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"].extend(content)  # the API wants roles to alternate
        else:
            messages.append({"role": turn.role, "content": content})
    for message in messages:
        if message["role"] == "user":  # tool results must open the user turn that answers the calls
            message["content"].sort(key=lambda b: 0 if b["type"] == "tool_result" else 1)
        else:  # the API wants thinking to open an assistant turn
            message["content"].sort(key=lambda b: 0 if b["type"] in ("thinking", "redacted_thinking") else 1)
    if not messages or messages[0]["role"] != "user":
        warn("the conversation does not start with a user message: a placeholder user turn was added")
        messages.insert(0, {"role": "user", "content": [{"type": "text", "text": CONTINUE_PLACEHOLDER}]})
    for message in messages:
        content = message["content"]
        if len(content) == 1 and content[0].keys() == {"type", "text"} and content[0]["type"] == "text":
            message["content"] = content[0]["text"]  # a block with more to it (cache_control) stays one
    return messages


HISTORY_SEARCH_DROPPED = (
    "hosted web search calls in the history of another format cannot be replayed to anthropic "
    "(their encrypted results are not in the request): dropped, the answer text is kept"
)


def _write_block(block: Block, warn: Warn) -> dict[str, Any] | None:
    kind = block.kind
    if kind in ("text", "refusal"):
        if not block.text:
            return None
        out: dict[str, Any] = {"type": "text", "text": block.text}
        if block.citations:  # only ever an anthropic client's, whose encrypted indexes they carry
            out["citations"] = [write_citation(c) for c in block.citations]
        return _with_native(out, block, warn)
    if kind == "image":
        return _with_native(_write_image(block), block, warn)
    if kind == "document":
        out = {
            "type": "document",
            "source": {"type": "base64", "media_type": block.media_type, "data": block.data},
        }
        if block.name:
            out["title"] = block.name
        return _with_native(out, block, warn)
    if kind == "tool_use":
        if not isinstance(block.input, dict):
            warn(f"tool call {block.id} has arguments that are not a JSON object: passed through as a string")
        return _with_native({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}, block, warn)
    if kind == "tool_result":
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": block.id}
        inner = [_write_image(b) if b.kind == "image" else {"type": "text", "text": b.text} for b in block.content]
        inner = [b for b in inner if b["type"] != "text" or b["text"]]
        if len(inner) == 1 and inner[0]["type"] == "text":
            result["content"] = inner[0]["text"]
        elif inner:
            result["content"] = inner
        if block.is_error:
            result["is_error"] = True
        return _with_native(result, block, warn)
    if kind == "thinking":
        if not block.signature:
            warn("thinking without a signature cannot be sent to anthropic (it requires one): dropped")
            return None
        return _with_native({"type": "thinking", "thinking": block.text, "signature": block.signature}, block, warn)
    if kind == "redacted_thinking":
        return _with_native({"type": "redacted_thinking", "data": block.data}, block, warn)
    if kind in ("web_search", "web_search_result"):
        if block.native is None or block.native.format != NAME:
            warn(HISTORY_SEARCH_DROPPED)
            return None
        return _write_server_block(block, warn)
    if kind == "native":
        return own_native(block.native, NAME, warn)
    raise AssertionError(f"unknown canonical block kind {kind!r}")


def _write_image(block: Block) -> dict[str, Any]:
    if block.url:
        return {"type": "image", "source": {"type": "url", "url": block.url}}
    return {"type": "image", "source": {"type": "base64", "media_type": block.media_type, "data": block.data}}


# --- responses ---------------------------------------------------------------------------------


def read_response(body: dict[str, Any], options: Options, warn: Warn) -> Message:
    msg = Message(
        id=get(body, "id", str, "") or "",
        model=get(body, "model", str, "") or "",
        stop_reason=get(body, "stop_reason", str, ""),
        stop_sequence=get(body, "stop_sequence", str, ""),
        usage=read_usage(body.get("usage")),
    )
    native = message_native(extra_fields(body, MESSAGE_FIELDS), body.get("usage"), "message")
    if native is not None:
        msg.native.append(native)
    for i, block in enumerate(objects(get(body, "content", list, "", required=True), "content")):
        read = _read_block(block, f"content[{i}]", None, warn)
        if read is not None:
            msg.content.append(read)
    return msg


def write_response(msg: Message, options: Options, warn: Warn) -> dict[str, Any]:
    content = [out for out in (_write_answer_block(block, warn) for block in msg.content) if out is not None]
    out = {
        "id": derive_id(msg.id, "msg_"),
        "type": "message",
        "role": "assistant",
        "model": options.model or msg.model,
        "content": content,
        "stop_reason": msg.stop_reason or "end_turn",
        "stop_sequence": msg.stop_sequence,
        "usage": {"input_tokens": 0, "output_tokens": 0, **write_usage(msg.usage)},
    }
    for carrier in msg.native:
        own = own_native(carrier, NAME, warn)
        if own:
            merge_native(out, own)
    return out


def _write_answer_block(block: Block, warn: Warn) -> dict[str, Any] | None:
    kind = block.kind
    out: dict[str, Any]
    if kind in ("text", "refusal"):
        out = {"type": "text", "text": block.text}
        if block.citations:
            out["citations"] = [write_citation(c) for c in block.citations]
    elif kind == "tool_use":
        if not isinstance(block.input, dict):
            warn(f"tool call {block.id} has arguments that are not a JSON object: passed through as a string")
        out = {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    elif kind == "thinking":
        out = {"type": "thinking", "thinking": block.text, "signature": block.signature}
    elif kind == "redacted_thinking":
        out = {"type": "redacted_thinking", "data": block.data}
    elif kind in ("web_search", "web_search_result", "native"):
        return _write_server_block(block, warn)
    else:
        return None
    return _with_native(out, block, warn)


def _write_server_block(block: Block, warn: Warn) -> dict[str, Any] | None:
    """A hosted web search call, its result, or a block of anthropic's own the model does not hold."""
    out: dict[str, Any]
    if block.kind == "web_search":
        search_id = derive_id(block.id, "srvtoolu_", SEARCH_ID_PREFIXES)
        out = {"type": "server_tool_use", "id": search_id, "name": WEB_SEARCH, "input": block.input or {}}
    elif block.kind == "web_search_result":
        out = {"type": "web_search_tool_result", "tool_use_id": derive_id(block.id, "srvtoolu_", SEARCH_ID_PREFIXES)}
        out["content"] = write_results(block.results, block.data)
    else:
        return own_native(block.native, NAME, warn)
    return _with_native(out, block, warn)


def _with_native(out: dict[str, Any], block: Block, warn: Warn) -> dict[str, Any]:
    own = own_native(block.native, NAME, warn)
    return merge_native(out, own) if own else out


# --- errors ------------------------------------------------------------------------------------


def read_error(body: Any, status: int | None) -> ApiError | None:
    """The canonical error in an anthropic error body; ``None`` when the body is not one."""
    if not isinstance(body, dict) or body.get("type") != "error" or not isinstance(body.get("error"), dict):
        return None
    err = body["error"]
    kind = err.get("type")
    if not isinstance(kind, str) or kind not in ERROR_STATUS:
        kind = errors.from_status(status)
    message = err.get("message")
    return ApiError(kind, message if isinstance(message, str) else orjson.dumps(err).decode())


def write_error(error: ApiError, status: int) -> tuple[dict[str, Any], int]:
    return {"type": "error", "error": {"type": error.type, "message": error.message}}, status


# --- what crosswire answers itself: token counts, the models list -----------------------------


def read_count_request(body: dict[str, Any], options: Options, warn: Warn) -> Request:
    """A ``/v1/messages/count_tokens`` body: a messages request without ``max_tokens``."""
    return read_request({"max_tokens": 1, **body}, options, warn)


def write_token_count(tokens: int) -> dict[str, Any]:
    return {"input_tokens": tokens}


def write_model(name: str) -> dict[str, Any]:
    return {"type": "model", "id": name, "display_name": name, "created_at": "1970-01-01T00:00:00Z"}


def write_models(models: list[dict[str, Any]]) -> dict[str, Any]:
    first, last = (models[0]["id"], models[-1]["id"]) if models else (None, None)
    return {"data": models, "has_more": False, "first_id": first, "last_id": last}


SUB_ENDPOINTS = (
    SubEndpoint("count_tokens", frozenset({"POST"}), "count_tokens", "token counting"),
    SubEndpoint("batches/*", frozenset({"GET", "POST", "DELETE"}), "unsupported", "message batches"),
)


def is_response_body(body: Any) -> bool:
    """A whole answer of this format (the field only its answers carry)."""
    return isinstance(body, dict) and body.get("type") == "message"


FORMAT = Format(
    name=NAME,
    stream_reader=anthropic.AnthropicStreamReader,
    stream_writer=anthropic.AnthropicStreamWriter,
    read_request=read_request,
    write_request=write_request,
    read_response=read_response,
    write_response=write_response,
    read_error=read_error,
    write_error=write_error,
    path_suffixes=("/messages",),
    key_env="ANTHROPIC_API_KEY",
    auth_header="x-api-key",
    credential_headers=frozenset({"x-api-key"}),
    forward_headers=frozenset({"anthropic-version", "anthropic-beta"}),
    default_headers={"anthropic-version": "2023-06-01"},
    request_id_header="request-id",
    id_prefix="msg_",
    stream_frame=anthropic.is_stream_frame,
    response_body=is_response_body,
    official_host="api.anthropic.com",
    stream_error_frame=anthropic.is_error_frame,
    sub_endpoints=SUB_ENDPOINTS,
    read_count_request=read_count_request,
    write_token_count=write_token_count,
    write_model=write_model,
    write_models=write_models,
)
