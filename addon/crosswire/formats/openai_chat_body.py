"""OpenAI Chat Completions (`POST /v1/chat/completions`) whole bodies: request, response and error
reader/writer.

Thinking follows ``Options.thinking`` as in the stream writer: ``reasoning_content`` (a field of
the assistant message), ``xml`` (``<thinking signature="…">`` spans inside the content, which carry
Anthropic signatures through an openai client and back) or ``drop``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from .. import thinking_xml
from ..events import Block, Citation, Message, Native, Request, Tool, Turn, parse_tool_input
from ..options import Options
from . import openai_chat, openai_common
from .base import Warn, derive_id, extra_fields, merge_native, native_fields, own_native
from .body_common import (
    RequestRejected,
    budget_effort,
    data_url,
    get,
    json_schema_spec,
    objects,
    openai_user_id,
    parse_data_url,
    read_function_tool,
    strings,
    tool_result_texts,
)
from .openai_chat import (
    FINISH_TO_STOP,
    HOSTED_SEARCH_DROPPED,
    OTHER_CHOICES,
    STOP_TO_FINISH,
    USAGE_FIELDS,
    read_usage,
    write_usage,
)
from .openai_common import usage_extras
from .registry import Format, SubEndpoint

NAME = "openai-chat"

MAX_STOP = 4  # the API accepts at most four stop sequences
WEB_SEARCH_TOOL_DROPPED = (
    "the hosted tool 'web_search' has no equivalent in openai-chat: dropped (the model answers without it)"
)

# The fields of a completion, its first choice and that choice's message the canonical model holds.
COMPLETION_FIELDS = frozenset(("id", "object", "created", "model", "choices", "usage"))
CHOICE_FIELDS = frozenset(("index", "message", "finish_reason"))
MESSAGE_FIELDS = frozenset(
    ("role", "content", "refusal", "tool_calls", "reasoning_content", "reasoning", "annotations")
)

_REQUEST_FIELDS = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "stream",
    "stream_options", "n", "tools", "tool_choice", "parallel_tool_calls", "functions", "function_call",
    "reasoning_effort", "response_format", "user", "safety_identifier", "verbosity", "prompt_cache_key",
}  # fmt: skip
_DROPPED_FIELDS = ("logprobs", "top_logprobs", "seed", "frequency_penalty", "presence_penalty", "logit_bias")


# --- requests: read ----------------------------------------------------------------------------


def read_request(body: dict[str, Any], options: Options, warn: Warn) -> Request:
    legacy_max = get(body, "max_tokens", int, "")  # checked even when max_completion_tokens is the one used
    max_tokens = get(body, "max_completion_tokens", int, "")
    if max_tokens is None:
        max_tokens = legacy_max
    req = Request(
        model=get(body, "model", str, "", required=True),
        max_tokens=max_tokens,
        temperature=get(body, "temperature", float, ""),
        top_p=get(body, "top_p", float, ""),
        stream=bool(get(body, "stream", bool, "")),
        reasoning_effort=get(body, "reasoning_effort", str, ""),
        user=get(body, "user", str, "") or get(body, "safety_identifier", str, ""),
        verbosity=get(body, "verbosity", str, ""),
        prompt_cache_key=get(body, "prompt_cache_key", str, ""),
    )
    n = get(body, "n", int, "")
    if n is not None and n > 1:
        raise RequestRejected("n: only n=1 can be converted (the target returns one answer)", "n")
    for key in _DROPPED_FIELDS:
        if body.get(key) not in (None, False):
            warn(f"{key} has no anthropic equivalent: dropped")
    for key in body.keys() - _REQUEST_FIELDS - set(_DROPPED_FIELDS):
        warn(f"openai-chat request field {key!r} has no equivalent: dropped")
    stop = get(body, "stop", (str, list), "")
    req.stop = strings(stop, "stop") if stop else []
    _read_messages(objects(get(body, "messages", list, "", required=True), "messages"), req, options, warn)
    _read_tools(body, req, warn)
    _read_response_format(body, req)
    return req


def _read_messages(messages: list[dict[str, Any]], req: Request, options: Options, warn: Warn) -> None:
    if not messages:
        raise RequestRejected("messages: at least one message is required", "messages")
    for i, raw in enumerate(messages):
        path = f"messages[{i}]"
        role = get(raw, "role", str, path, required=True)
        if raw.get("name") is not None:
            warn("message names have no anthropic equivalent: dropped")
        if role in ("system", "developer"):
            parts = _text_parts(raw, path, required=True)  # several text parts stay several texts
            if req.messages:  # an instruction inside the conversation stays where it is
                req.messages.append(Turn("system", [Block("text", text=text) for text in parts]))
            else:
                req.system.extend(parts)
        elif role == "user":
            _turn(req, "user").content.extend(_user_content(raw, path, warn))
        elif role == "assistant":
            req.messages.append(Turn("assistant", _assistant_content(raw, path, options, warn)))
        elif role == "tool":
            result = Block("tool_result", id=get(raw, "tool_call_id", str, path, required=True))
            result.content = [Block("text", text=t) for t in _text_parts(raw, path, required=False) if t]
            _turn(req, "user").content.append(result)
        else:
            raise RequestRejected(
                f"{path}.role: expected system, developer, user, assistant or tool, got {role!r}", f"{path}.role"
            )


def _turn(req: Request, role: str) -> Turn:
    """The last turn when it has ``role`` (consecutive tool and user messages share one), else a new one."""
    if not req.messages or req.messages[-1].role != role:
        req.messages.append(Turn(role))
    return req.messages[-1]


def _text_parts(raw: dict[str, Any], path: str, required: bool) -> list[str]:
    """A content that may only hold text: a string or an array of text parts."""
    content = get(raw, "content", (str, list), path, required=required)
    if content is None or isinstance(content, str):
        return [content] if content else []
    parts = []
    for j, part in enumerate(objects(content, f"{path}.content")):
        part_path = f"{path}.content[{j}]"
        if get(part, "type", str, part_path, required=True) != "text":
            raise RequestRejected(f"{part_path}.type: only text parts are allowed here", f"{part_path}.type")
        parts.append(get(part, "text", str, part_path, required=True))
    return parts


def _user_content(raw: dict[str, Any], path: str, warn: Warn) -> list[Block]:
    content = get(raw, "content", (str, list), path, required=True)
    if isinstance(content, str):
        return [Block("text", text=content)]
    blocks = []
    for j, part in enumerate(objects(content, f"{path}.content")):
        part_path = f"{path}.content[{j}]"
        kind = get(part, "type", str, part_path, required=True)
        if kind == "text":
            blocks.append(Block("text", text=get(part, "text", str, part_path, required=True)))
        elif kind == "image_url":
            image = get(part, "image_url", dict, part_path, required=True)
            url = get(image, "url", str, f"{part_path}.image_url", required=True)
            if url.startswith(("http://", "https://")):
                blocks.append(Block("image", url=url))
            elif (parsed := parse_data_url(url)) is not None:
                blocks.append(Block("image", media_type=parsed[0], data=parsed[1]))
            else:
                raise RequestRejected(
                    f"{part_path}.image_url.url: expected an http(s) URL or a base64 data: URL",
                    f"{part_path}.image_url.url",
                )
        elif kind == "file":
            file = get(part, "file", dict, part_path, required=True)
            parsed = parse_data_url(get(file, "file_data", str, f"{part_path}.file") or "")
            if parsed is None:
                warn("file parts without inline file_data (file_id) cannot be converted: dropped")
                continue
            name = get(file, "filename", str, f"{part_path}.file") or ""
            blocks.append(Block("document", media_type=parsed[0], data=parsed[1], name=name))
        else:
            warn(f"openai-chat {kind!r} content part has no anthropic equivalent: dropped")
    return blocks


def _assistant_content(raw: dict[str, Any], path: str, options: Options, warn: Warn) -> list[Block]:
    blocks: list[Block] = []
    reasoning = get(raw, "reasoning_content", str, path)
    if reasoning:
        blocks.append(Block("thinking", text=reasoning))  # no signature: openai clients never had one
    content = get(raw, "content", (str, list), path)
    parts: list[str] = []
    if isinstance(content, list):
        for j, part in enumerate(objects(content, f"{path}.content")):
            part_path = f"{path}.content[{j}]"
            kind = get(part, "type", str, part_path, required=True)
            if kind not in ("text", "refusal"):
                raise RequestRejected(f"{part_path}.type: expected 'text' or 'refusal'", f"{part_path}.type")
            parts.append(get(part, kind, str, part_path, required=True))
    elif content:
        parts.append(content)
    refusal = get(raw, "refusal", str, path)
    if refusal:
        parts.append(refusal)
    text = "".join(parts)
    if options.thinking == "xml":
        blocks.extend(thinking_xml.split(text))
    elif text:
        blocks.append(Block("text", text=text))
    calls = get(raw, "tool_calls", list, path)
    if calls is None and isinstance(raw.get("function_call"), dict):  # the pre-tools API
        calls = [{"id": "call_0", "type": "function", "function": raw["function_call"]}]
    blocks.extend(_tool_calls(calls or [], path, warn))
    return blocks


def _tool_calls(calls: list[Any], path: str, warn: Warn) -> list[Block]:
    blocks = []
    for j, call in enumerate(objects(calls, f"{path}.tool_calls")):
        call_path = f"{path}.tool_calls[{j}]"
        function = get(call, "function", dict, call_path, required=True)
        arguments = get(function, "arguments", str, f"{call_path}.function") or ""
        parsed = parse_tool_input(arguments)
        if not isinstance(parsed, dict):
            warn(f"{call_path}.function.arguments is not a JSON object: passed through as a string")
        block = Block(
            "tool_use",
            id=get(call, "id", str, call_path, required=True),
            name=get(function, "name", str, f"{call_path}.function", required=True),
            input=parsed,
        )
        if isinstance(parsed, dict) and orjson.dumps(parsed).decode() != arguments:
            block.native = Native(NAME, {"arguments": arguments})  # its spelling, for an openai-chat end
        blocks.append(block)
    return blocks


def _read_tools(body: dict[str, Any], req: Request, warn: Warn) -> None:
    tools = get(body, "tools", list, "")
    if tools is None and get(body, "functions", list, "") is not None:  # the pre-tools API
        tools = [{"type": "function", "function": f} for f in objects(body["functions"], "functions")]
    for i, raw in enumerate(objects(tools or [], "tools")):
        path = f"tools[{i}]"
        if raw.get("type", "function") != "function":
            warn(f"openai-chat {raw.get('type')!r} tool has no anthropic equivalent: dropped")
            continue
        function = get(raw, "function", dict, path, required=True)
        req.tools.append(read_function_tool(function, f"{path}.function"))
    choice = body.get("tool_choice", body.get("function_call"))
    if choice is None:
        pass
    elif choice in ("auto", "none", "required"):
        req.tool_choice = {"type": "any" if choice == "required" else choice}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        req.tool_choice = {"type": "tool", "name": get(choice["function"], "name", str, "tool_choice.function", True)}
    elif isinstance(choice, dict) and isinstance(choice.get("name"), str):  # function_call: {"name": …}
        req.tool_choice = {"type": "tool", "name": choice["name"]}
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        warn("tool_choice allowed_tools approximated as auto")
        req.tool_choice = {"type": "auto"}
    else:
        raise RequestRejected("tool_choice: expected 'auto', 'none', 'required' or a function choice", "tool_choice")
    req.parallel_tool_calls = get(body, "parallel_tool_calls", bool, "")


def _read_response_format(body: dict[str, Any], req: Request) -> None:
    fmt = get(body, "response_format", dict, "")
    if fmt is None:
        return
    kind = get(fmt, "type", str, "response_format", required=True)
    if kind == "json_object":
        req.response_format = {"type": "json_object"}
    elif kind == "json_schema":
        spec = get(fmt, "json_schema", dict, "response_format", required=True)
        path = "response_format.json_schema"
        req.response_format = {
            "type": "json_schema",
            "schema": get(spec, "schema", dict, path) or {},
            "name": get(spec, "name", str, path, required=True),
            "description": get(spec, "description", str, path),
            "strict": get(spec, "strict", bool, path),
        }
    elif kind != "text":
        raise RequestRejected(f"response_format.type: unknown value {kind!r}", "response_format.type")


# --- requests: write ---------------------------------------------------------------------------


def write_request(req: Request, options: Options, warn: Warn) -> dict[str, Any]:
    out: dict[str, Any] = {"model": options.map_model(req.model)}
    messages: list[dict[str, Any]] = [{"role": "system", "content": text} for text in req.system]
    for turn in req.messages:
        if turn.role == "assistant":
            messages.append(_assistant_message(turn.content, options, warn, separate_refusal=False))
        elif turn.role == "system":  # Chat takes instructions anywhere in the conversation
            messages.append({"role": "system", "content": "".join(b.text for b in turn.content)})
        else:
            messages.extend(_write_user(turn.content, warn))
    out["messages"] = messages
    if req.max_tokens is not None:
        out["max_completion_tokens"] = req.max_tokens
    if req.temperature is not None:
        out["temperature"] = req.temperature
    if req.top_p is not None:
        out["top_p"] = req.top_p
    if req.stop:
        if len(req.stop) > MAX_STOP:
            warn(f"openai accepts at most {MAX_STOP} stop sequences: the rest were dropped")
        out["stop"] = req.stop[:MAX_STOP]
    if req.stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}  # the usage the client's format reports
    if req.tools:
        out["tools"] = [_write_tool(tool) for tool in req.tools]
        choice = req.tool_choice
        if choice is not None:
            kind = choice["type"]
            out["tool_choice"] = (
                {"type": "function", "function": {"name": choice["name"]}}
                if kind == "tool"
                else ("required" if kind == "any" else kind)
            )
        if req.parallel_tool_calls is not None:
            out["parallel_tool_calls"] = req.parallel_tool_calls
    if req.web_search is not None:
        if options.hosted_tools == "reject":
            message = "tools: the hosted tool 'web_search' can only run on an anthropic or openai-responses upstream"
            raise RequestRejected(message + " (the route has hosted_tools = 'reject')", "tools")
        warn(WEB_SEARCH_TOOL_DROPPED)
    if req.reasoning_effort is not None:
        out["reasoning_effort"] = req.reasoning_effort
    elif req.thinking_budget is not None:
        out["reasoning_effort"] = budget_effort(req.thinking_budget)
    if req.verbosity is not None:
        out["verbosity"] = req.verbosity
    if req.prompt_cache_key is not None:
        out["prompt_cache_key"] = req.prompt_cache_key
    rf = req.response_format
    if rf and rf["type"] == "json_object":
        out["response_format"] = {"type": "json_object"}
    elif rf:
        out["response_format"] = {"type": "json_schema", "json_schema": json_schema_spec(rf)}
    if req.user is not None:
        out["user"] = openai_user_id(req.user, warn)
    return out


def _write_tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def _write_user(blocks: list[Block], warn: Warn) -> list[dict[str, Any]]:
    """One user turn -> its tool results as ``tool`` messages first (they must follow the assistant
    message that made the calls), then one ``user`` message with the rest."""
    out: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for block in blocks:
        if block.kind != "tool_result":
            rest.append(_write_part(block))
            continue
        texts = tool_result_texts(block, warn)
        content: str | list[dict[str, str]] = (
            [{"type": "text", "text": text} for text in texts] if len(texts) > 1 else "".join(texts)
        )
        out.append({"role": "tool", "tool_call_id": block.id, "content": content})
        images = [b for b in block.content if b.kind == "image"]
        if images:
            warn("openai tool messages cannot carry images: moved into the user message that follows")
            rest.append({"type": "text", "text": f"Image(s) returned by tool call {block.id}:"})
            rest.extend(_write_part(image) for image in images)
    if rest:
        plain = all(part["type"] == "text" for part in rest) and len(rest) == 1
        out.append({"role": "user", "content": rest[0]["text"] if plain else rest})
    return out


def _write_part(block: Block) -> dict[str, Any]:
    if block.kind == "image":
        url = block.url or data_url(block.media_type, block.data)
        return {"type": "image_url", "image_url": {"url": url}}
    if block.kind == "document":
        file: dict[str, Any] = {"file_data": data_url(block.media_type, block.data)}
        if block.name:
            file["filename"] = block.name
        return {"type": "file", "file": file}
    return {"type": "text", "text": block.text}


def _assistant_message(blocks: list[Block], options: Options, warn: Warn, separate_refusal: bool) -> dict[str, Any]:
    """An assistant message's blocks as a chat ``message`` object (thinking by ``options.thinking``).

    A refusal is its own field in an answer (``separate_refusal``); in history it is plain content.
    """
    mode = options.thinking
    content: list[str] = []
    reasoning: list[str] = []
    refusal: list[str] = []
    calls: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for block in blocks:
        if block.kind == "text" or (block.kind == "refusal" and not separate_refusal):
            if block.citations and separate_refusal:  # an answer's: the message's url citations
                offset = sum(map(len, content))
                annotations += [_annotation(c, offset, len(block.text)) for c in block.citations]
            content.append(block.text)
        elif block.kind == "refusal":
            refusal.append(block.text)
        elif block.kind == "tool_use":
            own = own_native(block.native, NAME, warn) or {}
            arguments = own.get("arguments") or (
                block.input if isinstance(block.input, str) else orjson.dumps(block.input).decode()
            )
            calls.append({"id": block.id, "type": "function", "function": {"name": block.name, "arguments": arguments}})
        elif block.kind == "thinking":
            if mode == "xml":
                content.append(thinking_xml.render_thinking(block.text, block.signature))
            elif mode == "reasoning_content":
                reasoning.append(block.text)
            else:
                warn("thinking dropped (thinking=drop)")
        elif block.kind == "redacted_thinking":
            if mode == "xml":
                content.append(thinking_xml.render_redacted(block.data))
            else:
                warn(f"redacted_thinking dropped (thinking={mode}; only xml carries it)")
        elif block.kind in ("web_search", "web_search_result"):
            warn(HOSTED_SEARCH_DROPPED)
        elif block.kind == "native":
            own_native(block.native, NAME, warn)
        else:
            warn(f"{block.kind} in an assistant message has no openai equivalent: dropped")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) if content or not calls else None}
    if annotations:
        message["annotations"] = annotations
    if separate_refusal:
        message["content"] = "".join(content) if content else None
        message["refusal"] = "".join(refusal) if refusal else None
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = calls
    return message


# --- responses ---------------------------------------------------------------------------------


def read_response(body: dict[str, Any], options: Options, warn: Warn) -> Message:
    choices = objects(get(body, "choices", list, "", required=True), "choices")
    if not choices:
        raise RequestRejected("choices: the completion has no choices", "choices")
    created = get(body, "created", int, "")
    msg = Message(
        id=get(body, "id", str, "") or "",
        model=get(body, "model", str, "") or "",
        usage=read_usage(body.get("usage")),
        created=created,
    )
    choice = choices[0]
    raw = get(choice, "message", dict, "choices[0]", required=True)
    path = "choices[0].message"
    reasoning = raw.get("reasoning_content") or raw.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        msg.content.append(Block("thinking", text=reasoning))
    content = get(raw, "content", str, path)
    if content:
        text = Block("text", text=content)
        text.citations = _read_annotations(get(raw, "annotations", list, path) or [])
        msg.content.append(text)
    refusal = get(raw, "refusal", str, path)
    if refusal:
        msg.content.append(Block("refusal", text=refusal))
    msg.content.extend(_tool_calls(get(raw, "tool_calls", list, path) or [], path, warn))
    finish = get(choice, "finish_reason", str, "choices[0]")
    msg.stop_reason = "refusal" if refusal else FINISH_TO_STOP.get(finish or "stop", "end_turn")
    native = _completion_native(body, choice, raw, choices[1:])
    if native is not None:
        msg.native.append(native)
    if len(choices) > 1:
        msg.native.append(Native(NAME, {}, OTHER_CHOICES))
    return msg


def _completion_native(
    body: dict[str, Any], choice: dict[str, Any], message: dict[str, Any], rest: list[dict[str, Any]]
) -> Native | None:
    """What a chat completion holds beyond the canonical message, kept for an openai-chat client."""
    fields = extra_fields(body, COMPLETION_FIELDS)
    for key, obj, modelled in (("choice", choice, CHOICE_FIELDS), ("message", message, MESSAGE_FIELDS)):
        extras = extra_fields(obj, modelled)
        if key == "message" and "annotations" in message and not _all_url_citations(message["annotations"]):
            extras["annotations"] = message["annotations"]  # null, empty or not all url citations
        if extras:
            fields[key] = extras
    usage = body.get("usage")
    extras = usage_extras(usage, USAGE_FIELDS) if isinstance(usage, dict) else {}
    if extras:
        fields["usage"] = extras
    described = native_fields(NAME, dict(fields), "completion")  # the other choices warn on their own
    if rest:
        fields["choices"] = rest
    return Native(NAME, fields, described.what if described else "") if fields else None


def _all_url_citations(annotations: Any) -> bool:
    return bool(annotations) and all(isinstance(a, dict) and a.get("type") == "url_citation" for a in annotations)


def _read_annotations(annotations: list[Any]) -> list[Citation]:
    citations = []
    for annotation in annotations:
        cited = annotation.get("url_citation") if isinstance(annotation, dict) else None
        if annotation.get("type") == "url_citation" and isinstance(cited, dict):
            title, start, end = cited.get("title"), cited.get("start_index"), cited.get("end_index")
            citations.append(
                Citation(
                    url=str(cited.get("url", "")),
                    title=title if isinstance(title, str) else None,
                    start=start if isinstance(start, int) else None,
                    end=end if isinstance(end, int) else None,
                )
            )
    return citations


def _annotation(citation: Citation, offset: int, length: int) -> dict[str, Any]:
    """A url citation of a span of the message content (a citation without one spans its block)."""
    start = citation.start if citation.start is not None else 0
    end = citation.end if citation.end is not None else length
    cited = {
        "end_index": offset + end,
        "start_index": offset + start,
        "title": citation.title or "",
        "url": citation.url,
    }
    return {"type": "url_citation", "url_citation": cited}


def write_response(msg: Message, options: Options, warn: Warn) -> dict[str, Any]:
    message = _assistant_message(msg.content, options, warn, separate_refusal=True)
    refusal = message["refusal"]
    reason = msg.stop_reason or "end_turn"
    # a refusal carried in `message.refusal` is already marked; OpenAI finishes it with "stop"
    finish = "stop" if reason == "refusal" and refusal else STOP_TO_FINISH.get(reason, "stop")
    choice: dict[str, Any] = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    out = {
        "id": derive_id(msg.id, "chatcmpl-"),
        "object": "chat.completion",
        "created": options.created or msg.created or int(time.time()),
        "model": options.model or msg.model,
        "choices": [choice],
        "usage": write_usage(msg.usage),
    }
    for carrier in msg.native:
        own = own_native(carrier, NAME, warn)
        if not own:
            continue
        own = dict(own)
        merge_native(choice, own.pop("choice", {}))
        merge_native(message, own.pop("message", {}))
        out["choices"] += own.pop("choices", [])
        merge_native(out, own)
    return out


# --- errors: the OpenAI envelope, shared with openai-responses ----------------------------------

read_error = openai_common.read_error
write_error = openai_common.write_error


# Stored chat completions (``store: true``) live at the provider crosswire routed away from.
SUB_ENDPOINTS = (
    SubEndpoint("", frozenset({"GET"}), "stored", "stored chat completions"),
    SubEndpoint("{id}", frozenset({"GET", "POST", "DELETE"}), "stored", "stored chat completions"),
    SubEndpoint("{id}/messages", frozenset({"GET"}), "stored", "stored chat completions"),
)


def is_response_body(body: Any) -> bool:
    """A whole answer of this format (the field only its answers carry)."""
    return isinstance(body, dict) and body.get("object") == "chat.completion"


FORMAT = Format(
    name=NAME,
    stream_reader=openai_chat.OpenAIChatStreamReader,
    stream_writer=openai_chat.OpenAIChatStreamWriter,
    read_request=read_request,
    write_request=write_request,
    read_response=read_response,
    write_response=write_response,
    read_error=read_error,
    write_error=write_error,
    path_suffixes=("/chat/completions",),
    key_env="OPENAI_API_KEY",
    auth_header="authorization",
    auth_prefix="Bearer ",
    credential_headers=frozenset({"authorization", "api-key"}),
    forward_headers=frozenset({"openai-beta"}),
    request_id_header="x-request-id",
    id_prefix="chatcmpl-",
    stream_frame=openai_chat.is_stream_frame,
    response_body=is_response_body,
    official_host="api.openai.com",
    stream_error_frame=openai_common.is_error_frame,
    client_wants_usage=openai_chat.wants_usage,
    sub_endpoints=SUB_ENDPOINTS,
    write_model=openai_common.write_model,
    write_models=openai_common.write_models,
)
