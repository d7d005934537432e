"""Google Gemini (`POST /v1beta/models/{model}:generateContent`) whole bodies: request, response and
error reader/writer, and the format's descriptor.

The model and streaming live in the URL (:func:`read_target`, :func:`request_target`), not the
body. Answers are read by the stream reader (a whole answer is one GenerateContentResponse) and
written by the stream writer collecting its parts, so bodies and streams map alike; the parts of
history turns go through the same :class:`~crosswire.formats.gemini.PartReader`. Gemini's REST
API takes both spellings of field names (``systemInstruction``, ``system_instruction``): so does
the reader. See docs/gemini.md.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import orjson

from ..events import ApiError, Block, Message, MessageBuilder, Request, Tool, Turn, replay
from ..options import Options
from . import base, gemini
from .base import Warn
from .body_common import EFFORT_BUDGET, RequestRejected, get, objects, strings
from .gemini import INVENTED_ID_PREFIX, GeminiStreamReader, GeminiStreamWriter, PartReader, error_code
from .registry import Format, SubEndpoint

NAME = "gemini"

MAX_STOP = 5  # the API takes at most five stop sequences
_METHODS = {"generateContent": False, "streamGenerateContent": True}
_REQUEST_FIELDS = {
    "contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings",
    "cachedContent", "model", "labels",
}  # fmt: skip
_GENERATION_FIELDS = {
    "maxOutputTokens", "temperature", "topP", "topK", "stopSequences", "candidateCount", "responseMimeType",
    "responseSchema", "responseJsonSchema", "thinkingConfig",
}  # fmt: skip
_LEVELS = {"MINIMAL": "minimal", "LOW": "low", "MEDIUM": "medium", "HIGH": "high"}
_MODES = {"AUTO": "auto", "ANY": "any", "NONE": "none", "VALIDATED": "auto", "MODE_UNSPECIFIED": "auto"}
_CAMEL = re.compile(r"_([a-z])")


def _proto(obj: dict[str, Any]) -> dict[str, Any]:
    """A message object's field names in camelCase (the REST API takes snake_case too). Only for
    the API's own objects: never for arguments, responses or schemas, whose keys are the user's."""
    return {_CAMEL.sub(lambda m: m.group(1).upper(), k) if "_" in k else k: v for k, v in obj.items()}


# --- the URL -----------------------------------------------------------------------------------


def read_target(path: str) -> tuple[str | None, bool | None]:
    """(model, stream) from a client's ``…/models/{model}:{method}[?alt=sse]``."""
    path, _, query = path.partition("?")
    last = path.rstrip("/").rsplit("/", 1)[-1]
    model, sep, method = unquote(last).partition(":")
    if not sep:
        return None, None
    if method not in _METHODS:
        raise RequestRejected(
            f"{method}: crosswire converts generateContent and streamGenerateContent, not {method}", "method"
        )
    if _METHODS[method] and parse_qs(query).get("alt") != ["sse"]:
        raise RequestRejected(
            "streamGenerateContent without alt=sse answers a JSON array, which crosswire does not write: "
            "add ?alt=sse to the URL (the Gemini SDKs do)",
            "alt",
        )
    return model, _METHODS[method]


def request_target(base_path: str, model: str, stream: bool) -> str:
    """The upstream path: the route's ``…/models`` (or an endpoint under it, whose model and method
    are replaced, or the API root), the model, the method."""
    base_path = base_path.rstrip("/")
    if ":" in base_path.rsplit("/", 1)[-1]:
        base_path = base_path.rsplit("/", 1)[0]
    elif not base_path.endswith("/models"):
        base_path += "/models"
    name = quote(model.removeprefix("models/"), safe="")  # one path segment, whatever the model is called
    return f"{base_path}/{name}:streamGenerateContent?alt=sse" if stream else f"{base_path}/{name}:generateContent"


# --- requests: read ----------------------------------------------------------------------------


def read_request(body: dict[str, Any], options: Options, warn: Warn) -> Request:
    body = _proto(body)
    model = get(body, "model", str, "") or ""
    req = Request(model=model.removeprefix("models/"))
    for key in sorted(body.keys() - _REQUEST_FIELDS):
        warn(f"gemini request field {key!r} has no equivalent: dropped")
    system = get(body, "systemInstruction", dict, "")
    if system is not None:
        for i, part in enumerate(_parts(_proto(system), "systemInstruction")):
            if isinstance(part.get("text"), str):
                req.system.append(part["text"])
            else:
                warn(f"systemInstruction.parts[{i}]: only text can be a system instruction: dropped")
    contents = objects(get(body, "contents", list, "", required=True), "contents")
    if not contents:
        raise RequestRejected("contents: at least one content is required", "contents")
    for i, raw in enumerate(contents):
        _read_content(_proto(raw), f"contents[{i}]", i, req, warn)
    _read_generation(body, req, warn)
    _read_tools(body, req, options, warn)
    for key, message, fatal in (
        ("safetySettings", "safetySettings have no equivalent: dropped", False),
        ("labels", "labels have no equivalent: dropped", False),
        ("cachedContent", "cachedContent: a cached content can only be resolved by a gemini upstream", True),
    ):
        if body.get(key) is not None:
            req.native[key] = body[key]
            req.foreign.append((key, message, fatal))
    return req


def _parts(content: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [_proto(p) for p in objects(get(content, "parts", list, path, required=True), f"{path}.parts")]


def _read_content(content: dict[str, Any], path: str, position: int, req: Request, warn: Warn) -> None:
    role = get(content, "role", str, path) or "user"
    parts = _parts(content, path)
    if role == "model":
        req.messages.append(Turn("assistant", _model_blocks(parts, path, f"t{position}", warn)))
    elif role in ("user", "function"):  # "function": the older spelling of a turn of function responses
        turn = req.messages[-1] if req.messages and req.messages[-1].role == "user" else None
        if turn is None:
            turn = Turn("user")
            req.messages.append(turn)
        turn.content.extend(_user_blocks(parts, path, req, warn))
    else:
        raise RequestRejected(f"{path}.role: expected user or model, got {role!r}", f"{path}.role")


class _Turn(base.StreamReader):
    """The block lifecycle for one history turn's parts (read by the stream's PartReader)."""

    def event(self, name: str, data: str) -> None:
        raise AssertionError("history turns are read part by part")


def _model_blocks(parts: list[dict[str, Any]], path: str, stem: str, warn: Warn) -> list[Block]:
    builder = MessageBuilder()
    turn = _Turn(builder, warn)
    reader = PartReader(turn, warn, gemini_signatures=False)
    reader.stem = stem  # invented call ids: unique per turn, the same on every request of the conversation
    builder.message_start("", "", {})
    for j, part in enumerate(parts):
        where = f"{path}.parts[{j}]"
        get(part, "text", str, where)
        get(part, "thought", bool, where)
        get(part, "thoughtSignature", str, where)
        call = get(part, "functionCall", dict, where)
        if call is not None:
            call = _proto(call)
            get(call, "name", str, f"{where}.functionCall", required=True)
            get(call, "args", dict, f"{where}.functionCall")
            get(call, "id", str, f"{where}.functionCall")
            part = {**part, "functionCall": call}
        if "functionResponse" in part or "inlineData" in part or "fileData" in part:
            warn(f"{where}: a model turn's {next(iter(part))} part has no equivalent: dropped")
            continue
        reader.part(part)
    turn._close_block()
    return builder.message.content


def _user_blocks(parts: list[dict[str, Any]], path: str, req: Request, warn: Warn) -> list[Block]:
    blocks: list[Block] = []
    answered: list[str] = []
    for j, part in enumerate(parts):
        where = f"{path}.parts[{j}]"
        text = get(part, "text", str, where)
        if text is not None:
            if text:
                blocks.append(Block("text", text=text))
        elif "inlineData" in part or "fileData" in part:
            block = _media(part, where, req, warn)
            if block is not None:
                blocks.append(block)
        elif "functionResponse" in part:
            response = _proto(get(part, "functionResponse", dict, where, required=True))
            blocks.append(_function_response(response, f"{where}.functionResponse", req, answered, warn))
        elif "functionCall" in part:
            raise RequestRejected(f"{where}: a functionCall belongs to a model turn", f"{where}.functionCall")
        elif part:
            warn(f"gemini {next(iter(part))!r} part has no equivalent: dropped")
    return blocks


def _media(part: dict[str, Any], where: str, req: Request, warn: Warn) -> Block | None:
    if "inlineData" in part:
        data = _proto(get(part, "inlineData", dict, where, required=True))
        media_type = get(data, "mimeType", str, f"{where}.inlineData", required=True)
        payload = get(data, "data", str, f"{where}.inlineData", required=True)
        if media_type.startswith("image/"):
            return Block("image", media_type=media_type, data=payload)
        if media_type == "application/pdf":
            return Block("document", media_type=media_type, data=payload)
        warn(f"{where}: inline {media_type} data has no equivalent: dropped")
        return None
    data = _proto(get(part, "fileData", dict, where, required=True))
    uri = get(data, "fileUri", str, f"{where}.fileData", required=True)
    media_type = get(data, "mimeType", str, f"{where}.fileData") or ""
    if uri.startswith(("http://", "https://")) and media_type.startswith("image/"):
        return Block("image", url=uri, media_type=media_type)
    req.foreign.append(
        (f"{where}.fileData", f"{where}.fileData: the file {uri!r} can only be read by a gemini upstream", True)
    )
    return None


def _function_response(response: dict[str, Any], path: str, req: Request, answered: list[str], warn: Warn) -> Block:
    """A functionResponse -> a tool_result for its call: by id, else the turn before's first
    unanswered call of that name (Gemini may send neither call ids nor response ids)."""
    name = get(response, "name", str, path, required=True)
    call_id = get(response, "id", str, path)
    if not call_id:
        calls = [b for b in (req.messages[-2].content if len(req.messages) > 1 else []) if b.kind == "tool_use"]
        match = next((b.id for b in calls if b.name == name and b.id not in answered), None)
        if match is None:
            raise RequestRejected(f"{path}: no functionCall {name!r} of the turn before is left to answer", path)
        call_id = match
    answered.append(call_id)
    result = Block("tool_result", id=call_id)
    value = get(response, "response", dict, path) or {}
    if set(value) == {"error"}:
        result.is_error = True
    text = next((v for k in ("output", "error", "result", "content") if isinstance(v := value.get(k), str)), None)
    if text is None and value:
        text = orjson.dumps(value).decode()
    if text:
        result.content.append(Block("text", text=text))
    for k, raw in enumerate(objects(get(response, "parts", list, path) or [], f"{path}.parts")):
        block = _media(_proto(raw), f"{path}.parts[{k}]", req, warn)
        if block is not None and block.kind == "image":
            result.content.append(block)
    return result


def json_schema(schema: Any) -> Any:
    """A Gemini schema (the OpenAPI subset: ``type: STRING``, ``nullable``) as plain JSON Schema;
    a JSON Schema comes through unchanged."""
    if isinstance(schema, list):
        return [json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, str):
            if value.upper() != "TYPE_UNSPECIFIED":
                out["type"] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties", "not"):
            out[key] = json_schema(value)
        elif key in ("nullable", "propertyOrdering"):
            continue
        else:
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _read_generation(body: dict[str, Any], req: Request, warn: Warn) -> None:
    raw = get(body, "generationConfig", dict, "")
    if raw is None:
        return
    config, path = _proto(raw), "generationConfig"
    req.max_tokens = get(config, "maxOutputTokens", int, path)
    req.temperature = get(config, "temperature", float, path)
    req.top_p = get(config, "topP", float, path)
    if get(config, "topK", (int, float), path) is not None:
        warn("topK has no equivalent: dropped")
    stop = get(config, "stopSequences", list, path)
    req.stop = strings(stop, f"{path}.stopSequences") if stop else []
    count = get(config, "candidateCount", int, path)
    if count is not None and count > 1:
        raise RequestRejected(f"{path}.candidateCount: only 1 can be converted (the target returns one answer)", path)
    mime = get(config, "responseMimeType", str, path)
    schema = get(config, "responseJsonSchema", dict, path) or get(config, "responseSchema", dict, path)
    if mime == "application/json":
        req.response_format = {"type": "json_object"}
        if schema is not None:
            req.response_format = {"type": "json_schema", "schema": json_schema(schema)}
    elif mime not in (None, "text/plain"):
        raise RequestRejected(f"{path}.responseMimeType: {mime!r} can only be produced by a gemini upstream", path)
    thinking = get(config, "thinkingConfig", dict, path)
    if thinking is not None:
        thinking = _proto(thinking)
        budget = get(thinking, "thinkingBudget", int, f"{path}.thinkingConfig")
        level = get(thinking, "thinkingLevel", str, f"{path}.thinkingConfig")
        if level is not None:
            if level.upper() not in _LEVELS:
                raise RequestRejected(f"{path}.thinkingConfig.thinkingLevel: unknown level {level!r}", path)
            req.reasoning_effort = _LEVELS[level.upper()]
        elif budget == 0:
            req.reasoning_effort = "none"
        elif budget == -1:
            req.reasoning_effort = "medium"
            warn("thinkingBudget -1 (dynamic) approximated as reasoning_effort 'medium'")
        elif budget is not None:
            req.thinking_budget = budget
    for key in sorted(config.keys() - _GENERATION_FIELDS):
        if config[key] is not None:
            req.native.setdefault("generationConfig", {})[key] = config[key]
            req.foreign.append((f"{path}.{key}", f"{path}.{key} has no equivalent: dropped", False))


def _read_tools(body: dict[str, Any], req: Request, options: Options, warn: Warn) -> None:
    for i, raw in enumerate(objects(get(body, "tools", list, "") or [], "tools")):
        tool, path = _proto(raw), f"tools[{i}]"
        for j, spec in enumerate(
            objects(get(tool, "functionDeclarations", list, path) or [], f"{path}.functionDeclarations")
        ):
            spec, where = _proto(spec), f"{path}.functionDeclarations[{j}]"
            schema = get(spec, "parametersJsonSchema", dict, where)
            if schema is None:
                schema = json_schema(get(spec, "parameters", dict, where) or {})
            req.tools.append(
                Tool(
                    name=get(spec, "name", str, where, required=True),
                    description=get(spec, "description", str, where),
                    parameters=schema or {"type": "object", "properties": {}},
                )
            )
        for kind in sorted(tool.keys() - {"functionDeclarations"}):
            req.native.setdefault("tools", []).append({kind: tool[kind]})
            message = f"{path}: the built-in tool {kind!r} can only run on a gemini upstream"
            if options.hosted_tools == "reject":
                req.foreign.append((f"{path}.{kind}", message + " (the route has hosted_tools = 'reject')", True))
            else:
                req.foreign.append((f"{path}.{kind}", message + ": dropped", False))
    config = get(body, "toolConfig", dict, "")
    calling = get(_proto(config), "functionCallingConfig", dict, "toolConfig") if config is not None else None
    if calling is None:
        return
    calling, path = _proto(calling), "toolConfig.functionCallingConfig"
    mode = (get(calling, "mode", str, path) or "AUTO").upper()
    if mode not in _MODES:
        raise RequestRejected(f"{path}.mode: expected AUTO, ANY, NONE or VALIDATED, got {mode!r}", f"{path}.mode")
    if mode == "VALIDATED":
        warn("functionCallingConfig mode VALIDATED approximated as AUTO")
    names = strings(get(calling, "allowedFunctionNames", list, path) or [], f"{path}.allowedFunctionNames")
    if mode == "ANY" and len(names) == 1:
        req.tool_choice = {"type": "tool", "name": names[0]}
        return
    if names:
        warn("allowedFunctionNames has no equivalent beside one forced function: every tool stays allowed")
    req.tool_choice = {"type": _MODES[mode]}


# --- requests: write ---------------------------------------------------------------------------


def write_request(req: Request, options: Options, warn: Warn) -> dict[str, Any]:
    if not options.map_model(req.model):
        raise RequestRejected(
            "model: a gemini upstream needs a model name (it goes in the URL): set model_map", "model"
        )
    system = list(req.system)
    turns = [t for t in req.messages if t.role != "system"]
    if len(turns) < len(req.messages):
        warn("system messages inside the conversation were folded into the system instruction (gemini has none)")
        system += ["".join(b.text for b in t.content) for t in req.messages if t.role == "system"]
    out: dict[str, Any] = {"contents": _write_contents(turns, warn)}
    if system:
        out["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    if req.tools:
        declarations = [_write_tool(tool) for tool in req.tools]
        out["tools"] = [{"functionDeclarations": declarations}]
        choice = req.tool_choice
        if choice is not None:
            calling: dict[str, Any] = {
                "mode": {"auto": "AUTO", "any": "ANY", "none": "NONE", "tool": "ANY"}[choice["type"]]
            }
            if choice["type"] == "tool":
                calling["allowedFunctionNames"] = [choice["name"]]
            out["toolConfig"] = {"functionCallingConfig": calling}
        if req.parallel_tool_calls is False:
            warn("parallel_tool_calls false has no gemini equivalent: dropped")
    if req.web_search is not None:
        if options.hosted_tools == "reject":
            message = "tools: the hosted tool 'web_search' can only run on an anthropic or openai-responses upstream"
            raise RequestRejected(message + " (the route has hosted_tools = 'reject')", "tools")
        warn("the hosted tool 'web_search' is not carried to gemini: dropped (the model answers without it)")
    out["tools"] = out.get("tools", []) + req.native.get("tools", [])
    if not out["tools"]:
        del out["tools"]
    config = _write_generation(req, warn)
    config.update(req.native.get("generationConfig", {}))
    if config:
        out["generationConfig"] = config
    for key in ("safetySettings", "labels", "cachedContent"):
        if key in req.native:
            out[key] = req.native[key]
    if req.user is not None:
        warn("the end-user id has no gemini equivalent: dropped")
    if req.verbosity is not None:
        warn("verbosity has no gemini equivalent: dropped")
    if req.prompt_cache_key is not None:
        warn("prompt_cache_key has no gemini equivalent (gemini caches implicitly): dropped")
    return out


def _write_tool(tool: Tool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    schema = {k: v for k, v in (tool.parameters or {}).items() if k != "$schema"}
    out["parametersJsonSchema"] = schema or {"type": "object", "properties": {}}
    return out


def _write_generation(req: Request, warn: Warn) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if req.max_tokens is not None:
        config["maxOutputTokens"] = req.max_tokens
    if req.temperature is not None:
        config["temperature"] = req.temperature
    if req.top_p is not None:
        config["topP"] = req.top_p
    if req.stop:
        if len(req.stop) > MAX_STOP:
            warn(f"gemini accepts at most {MAX_STOP} stop sequences: the rest were dropped")
        config["stopSequences"] = req.stop[:MAX_STOP]
    rf = req.response_format
    if rf:
        config["responseMimeType"] = "application/json"
        if rf["type"] == "json_schema":
            config["responseJsonSchema"] = rf["schema"]
    budget = req.thinking_budget
    if budget is None and req.reasoning_effort is not None:
        budget = 0 if req.reasoning_effort == "none" else EFFORT_BUDGET.get(req.reasoning_effort)
        if budget is None:
            warn(f"reasoning_effort {req.reasoning_effort!r} has no thinking budget: the model's default is used")
    if budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": budget != 0}
    return config


def _write_contents(turns: list[Turn], warn: Warn) -> list[dict[str, Any]]:
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # call id -> function name, for the functionResponses that answer them
    for turn in turns:
        if turn.role == "assistant":
            parts = _write_model_parts(turn.content, names, warn)
        else:
            parts = _write_user_parts(turn.content, names, warn)
        if not parts:
            continue
        role = "model" if turn.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    if not contents or contents[0]["role"] != "user":
        warn("the conversation does not start with a user turn: a placeholder user turn was added")
        contents.insert(0, {"role": "user", "parts": [{"text": "(continue)"}]})
    return contents


def _call_id(block_id: str) -> dict[str, str]:
    """A call id to send Gemini: its own, never one crosswire made up."""
    return {"id": block_id} if block_id and not block_id.startswith(INVENTED_ID_PREFIX) else {}


def _write_model_parts(blocks: list[Block], names: dict[str, str], warn: Warn) -> list[dict[str, Any]]:
    """A model turn's parts. Thought text is not sent (Gemini reads none back); a signature goes on
    the part after its thinking (where Gemini put it), else on the part before."""
    parts: list[dict[str, Any]] = []
    pending: list[str] = []
    for block in blocks:
        part: dict[str, Any] | None = None
        if block.kind in ("text", "refusal"):
            part = {"text": block.text} if block.text or pending else None
        elif block.kind == "tool_use":
            args = block.input if isinstance(block.input, dict) else {"arguments": block.input}
            if not isinstance(block.input, dict):
                warn(f"tool call {block.id} has arguments that are not a JSON object: sent under 'arguments'")
            names[block.id] = block.name
            part = {"functionCall": {**_call_id(block.id), "name": block.name, "args": args}}
        elif block.kind == "thinking":
            if block.signature:
                pending.append(block.signature)
        elif block.kind == "redacted_thinking":
            warn("redacted_thinking cannot be sent to gemini: dropped")
        elif block.kind in ("web_search", "web_search_result"):
            warn(gemini.HOSTED_SEARCH_DROPPED)
        elif block.kind == "native":
            base.own_native(block.native, NAME, warn)
        if part is not None:
            if pending:  # the nearest signature is this part's; any earlier ones go on empty parts before it
                parts.extend({"text": "", "thoughtSignature": s} for s in pending[:-1])
                part["thoughtSignature"] = pending[-1]
                pending = []
            parts.append(part)
    for signature in pending:  # thinking last: the part before carries it
        if parts and "thoughtSignature" not in parts[-1]:
            parts[-1]["thoughtSignature"] = signature
        else:
            parts.append({"text": "", "thoughtSignature": signature})
    return parts


def _write_user_parts(blocks: list[Block], names: dict[str, str], warn: Warn) -> list[dict[str, Any]]:
    """Function responses first (they answer the calls of the turn before), then the rest."""
    responses: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    for block in blocks:
        if block.kind != "tool_result":
            rest.append(_write_media(block))
            continue
        if block.id not in names:
            raise RequestRejected(
                f"tool result {block.id!r} answers no tool call of the conversation: gemini needs the function's name",
                "messages",
            )
        text = "".join(b.text for b in block.content if b.kind == "text")
        value = {"error": text} if block.is_error else {"output": text}
        responses.append({"functionResponse": {**_call_id(block.id), "name": names[block.id], "response": value}})
        images = [b for b in block.content if b.kind == "image"]
        if images:
            warn("gemini function responses carry no images here: they follow as parts of the same turn")
            rest.extend(_write_media(image) for image in images)
    return responses + rest


def _write_media(block: Block) -> dict[str, Any]:
    if block.kind in ("image", "document") and not block.url:
        return {"inlineData": {"mimeType": block.media_type, "data": block.data}}
    if block.kind == "image":
        media_type = block.media_type or mimetypes.guess_type(block.url)[0] or "image/png"
        return {"fileData": {"mimeType": media_type, "fileUri": block.url}}
    return {"text": block.text}


# --- responses ---------------------------------------------------------------------------------


def read_response(body: dict[str, Any], options: Options, warn: Warn) -> Message:
    body = _proto(body)
    if not isinstance(body.get("candidates"), list) and not isinstance(body.get("promptFeedback"), dict):
        raise RequestRejected("candidates: the response has no candidates", "candidates")
    for i, candidate in enumerate(objects(body.get("candidates") or [], "candidates")):
        content = get(candidate, "content", dict, f"candidates[{i}]")
        if content is not None:
            objects(get(content, "parts", list, f"candidates[{i}].content") or [], f"candidates[{i}].content.parts")
    builder = MessageBuilder()
    reader = GeminiStreamReader(builder, warn)
    reader.chunk(body)
    reader.finish_whole()
    return builder.message


def write_response(msg: Message, options: Options, warn: Warn) -> dict[str, Any]:
    writer = GeminiStreamWriter(options, warn, whole=True)
    replay(msg, writer)
    return writer.response


def is_response_body(body: Any) -> bool:
    """A whole GenerateContentResponse: candidates, or a blocked prompt's feedback; not an error."""
    return (
        isinstance(body, dict)
        and "error" not in body
        and (isinstance(body.get("candidates"), list) or isinstance(body.get("promptFeedback"), dict))
    )


# --- errors ------------------------------------------------------------------------------------


def read_error(body: Any, status: int | None) -> ApiError | None:
    """The canonical error in a Gemini error body (also the one-element array a JSON stream sends)."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict) or not gemini.is_error_frame(body):
        return None
    err = body["error"]
    message = err.get("message")
    return ApiError(gemini.error_type(err, status), message if isinstance(message, str) else str(err))


def write_error(error: ApiError, status: int) -> tuple[dict[str, Any], int]:
    return {"error": gemini.error_object(error.type, error.message, status)}, error_code(status)


# --- what a route answers itself: token counting, the models list -----------------------------


def read_count_request(body: dict[str, Any], options: Options, warn: Warn) -> Request:
    """A ``{model}:countTokens`` body: ``contents``, or a whole ``generateContentRequest``."""
    body = _proto(body)
    whole = body.get("generateContentRequest")
    if isinstance(whole, dict):
        return read_request(whole, options, warn)
    return read_request({k: v for k, v in body.items() if k in _REQUEST_FIELDS}, options, warn)


def write_token_count(tokens: int) -> dict[str, Any]:
    return {"totalTokens": tokens}


def write_model(name: str) -> dict[str, Any]:
    name = name.removeprefix("models/")
    return {
        "name": f"models/{name}",
        "displayName": name,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }


def write_models(models: list[dict[str, Any]]) -> dict[str, Any]:
    return {"models": models}


SUB_ENDPOINTS = (
    SubEndpoint("{id}:countTokens", frozenset({"POST"}), "count_tokens", "token counting"),
    SubEndpoint("{id}:embedContent", frozenset({"POST"}), "unsupported", "embeddings"),
    SubEndpoint("{id}:batchEmbedContents", frozenset({"POST"}), "unsupported", "embeddings"),
    SubEndpoint("{id}:batchGenerateContent", frozenset({"POST"}), "unsupported", "batch generation"),
)


FORMAT = Format(
    name=NAME,
    stream_reader=GeminiStreamReader,
    stream_writer=GeminiStreamWriter,
    read_request=read_request,
    write_request=write_request,
    read_response=read_response,
    write_response=write_response,
    read_error=read_error,
    write_error=write_error,
    path_suffixes=(":generateContent", ":streamGenerateContent"),
    route_suffixes=("/v1beta/models", "/v1alpha/models"),
    key_env="GEMINI_API_KEY",
    auth_header="x-goog-api-key",
    credential_headers=frozenset({"x-goog-api-key"}),
    credential_query=frozenset({"key"}),
    id_prefix="",
    stream_frame=gemini.is_stream_frame,
    stream_error_frame=gemini.is_error_frame,
    response_body=is_response_body,
    official_host="generativelanguage.googleapis.com",
    read_target=read_target,
    request_target=request_target,
    sub_endpoints=SUB_ENDPOINTS,
    read_count_request=read_count_request,
    write_token_count=write_token_count,
    write_model=write_model,
    write_models=write_models,
)
