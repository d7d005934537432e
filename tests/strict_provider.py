"""A loopback fake LLM provider as strict as the real APIs, playing a two-turn agent script.

It serves one format (``anthropic``, ``openai-chat`` or ``openai-responses``) on a
:class:`~crosswire.fakeupstream.FakeUpstream` and answers every request the way the real API
would: a request the real API refuses gets the real API's 4xx in its own error envelope, and
the refusal is kept in :attr:`StrictProvider.rejections` so a test names it. What "strict"
means here, each rule grounded in the API references and the official SDKs' request types:

- top-level fields: only those of the SDK's request ``TypedDict`` (``CompletionCreateParams``,
  ``ResponseCreateParams``, anthropic ``MessageCreateParams``; the beta one when an
  ``anthropic-beta`` header is sent) plus ``stream``; the API answers an unknown one with 400
  ("Unrecognized request argument supplied" / "Extra inputs are not permitted").
- roles: Chat takes system, developer, user, assistant, tool, function; Responses messages take
  user, assistant, system, developer; Anthropic messages take only user and assistant.
- item, content-block and tool types: the literals of the SDK's unions.
- tool results: each must answer a call of the turn before (an orphan is a 400), and every call
  must be answered before the conversation goes on (Chat and Anthropic refuse unanswered calls).
- tool names: ``^[a-zA-Z0-9_-]{1,64}$`` for OpenAI functions, 1-128 characters for Anthropic.
- models: an unknown model is a 404; a model without reasoning refuses ``reasoning_effort``,
  ``reasoning``, ``include: ["reasoning.encrypted_content"]`` and ``thinking``; every model has
  an output limit (gpt-4o: 16384) and refuses more; reasoning models refuse Chat ``max_tokens``
  ("Use 'max_completion_tokens' instead"); gpt-4o-class models take only ``verbosity: medium``.
- credentials: the route's key in the header the provider expects, else 401.

The script: a request whose tools include the one ``script.pick`` chooses, and that does not
yet carry the command's output in a tool result, is answered with a call of that tool; once
the output is back, with ``script.final_text``. Requests without that tool (a CLI's side
requests: titles, summaries) get a short text.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from crosswire.fakeupstream import FakeUpstream, Received, Reply, sse

# ---------------------------------------------------------------------------- the APIs' vocabulary


def _sdk_keys(typed_dict: Any) -> set[str]:
    keys: set[str] = set()
    for cls in getattr(typed_dict, "__mro__", (typed_dict,)):
        keys.update(getattr(cls, "__annotations__", {}))
    return keys


def _sdk_type_literals(union: Any) -> set[str]:
    """The ``type`` literals of a union of SDK TypedDicts (the SDK writes them as forward refs)."""
    out: set[str] = set()
    for member in typing.get_args(union):
        annotation = getattr(member, "__annotations__", {}).get("type")
        if annotation is not None:
            out.update(re.findall(r"'([a-z0-9_]+)'", str(annotation)))
    return out


def _vocabulary() -> dict[str, set[str]]:
    from anthropic.types import message_create_params as anthropic_params
    from anthropic.types.beta import message_create_params as anthropic_beta_params
    from openai.types.chat import completion_create_params as chat_params
    from openai.types.responses import ResponseInputItemParam
    from openai.types.responses import ToolParam as ResponsesToolParam
    from openai.types.responses import response_create_params as responses_params

    return {
        "chat": _sdk_keys(chat_params.CompletionCreateParamsBase) | {"stream"},
        "responses": _sdk_keys(responses_params.ResponseCreateParamsBase) | {"stream"},
        "anthropic": _sdk_keys(anthropic_params.MessageCreateParamsBase) | {"stream"},
        "anthropic-beta": _sdk_keys(anthropic_beta_params.MessageCreateParamsBase) | {"stream"},
        "responses-items": _sdk_type_literals(ResponseInputItemParam) | {"message"},
        "responses-tools": _sdk_type_literals(ResponsesToolParam),
    }


VOCAB = _vocabulary()
CHAT_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
CHAT_USER_PARTS = {"text", "image_url", "input_audio", "file"}
RESPONSES_ROLES = {"user", "assistant", "system", "developer"}
ANTHROPIC_USER_BLOCKS = {"text", "image", "document", "tool_result", "search_result"}
ANTHROPIC_ASSISTANT_BLOCKS = {"text", "thinking", "redacted_thinking", "tool_use"}
OPENAI_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ANTHROPIC_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")


@dataclass(frozen=True)
class Model:
    reasoning: bool  # takes reasoning_effort / reasoning / thinking
    max_output: int  # the most output tokens a request may ask for
    sampling: bool = True  # anthropic: takes temperature / top_p / top_k (models before Opus 4.7)


# anthropic SDK 1.0 dropped the sampling parameters from its types (models from Opus 4.7 reject
# them); the API still takes them for the older models (tests/bodies_judge.py says the same).
ANTHROPIC_SAMPLING = {"temperature", "top_p", "top_k"}


MODELS = {
    "gpt-4o": Model(False, 16384),
    "gpt-4o-mini": Model(False, 16384),
    "gpt-4.1": Model(False, 32768),
    "gpt-5": Model(True, 128000),
    "o3": Model(True, 100000),
    "claude-sonnet-4-5": Model(True, 64000),
    "claude-3-5-haiku": Model(False, 8192),
}


class Refused(Exception):
    """What the real API would answer: a status and a message (in the format's envelope)."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


def _bad(message: str, param: str | None = None) -> Refused:
    return Refused(400, message, param)


def _model(body: dict[str, Any]) -> Model:
    name = body.get("model")
    if name not in MODELS:
        raise Refused(404, f"The model `{name}` does not exist or you do not have access to it.", "model")
    return MODELS[name]


def _unknown_keys(body: dict[str, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise _bad(f"Unrecognized request argument supplied: {key}", key)


def _limit(value: Any, model: Model, name: str) -> None:
    if value is not None and (not isinstance(value, int) or value > model.max_output):
        raise _bad(
            f"{name} is too large: {value}. This model supports at most {model.max_output} completion tokens, "
            f"whereas you provided {value}.",
            name,
        )


# ---------------------------------------------------------------------------- validators


def check_chat(body: dict[str, Any]) -> None:
    _unknown_keys(body, VOCAB["chat"])
    model = _model(body)
    if not model.reasoning:
        for key in ("reasoning_effort",):
            if key in body:
                raise _bad(f"Unsupported parameter: '{key}' is not supported with this model.", key)
        if body.get("verbosity") not in (None, "medium"):
            raise _bad(f"Unsupported value: '{body['verbosity']}' is not supported with this model.", "verbosity")
    elif "max_tokens" in body:
        raise _bad(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' "
            "instead.",
            "max_tokens",
        )
    _limit(body.get("max_tokens"), model, "max_tokens")
    _limit(body.get("max_completion_tokens"), model, "max_completion_tokens")
    if "stream_options" in body and not body.get("stream"):
        raise _bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    for i, tool in enumerate(body.get("tools") or []):
        if tool.get("type") != "function" or set(tool) - {"type", "function"}:
            raise _bad(f"Invalid value for 'tools[{i}]': only function tools are supported here.", f"tools[{i}]")
        fn = tool["function"]
        if set(fn) - {"name", "description", "parameters", "strict"}:
            raise _bad(f"tools[{i}].function: unknown field {sorted(set(fn) - {'name'})}", f"tools[{i}].function")
        if not OPENAI_TOOL_NAME.fullmatch(str(fn.get("name"))):
            raise _bad(f"Invalid 'tools[{i}].function.name': string does not match pattern.", f"tools[{i}]")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("'messages' must be a non-empty array", "messages")
    pending: set[str] = set()  # calls of the last assistant message not yet answered
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        role = m.get("role")
        if role not in CHAT_ROLES:
            raise _bad(f"Invalid value: '{role}'. Supported values are: {sorted(CHAT_ROLES)}.", f"{where}.role")
        if role == "tool":
            if m.get("tool_call_id") not in pending:
                raise _bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with "
                    "'tool_calls'.",
                    where,
                )
            pending.discard(m["tool_call_id"])
            continue
        if pending:
            raise _bad(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {sorted(pending)}",
                where,
            )
        content = m.get("content")
        if isinstance(content, list):
            allowed = CHAT_USER_PARTS if role == "user" else {"text", "refusal"} if role == "assistant" else {"text"}
            for j, part in enumerate(content):
                if part.get("type") not in allowed:
                    raise _bad(
                        f"Invalid content part type {part.get('type')!r} for role {role}", f"{where}.content[{j}]"
                    )
        elif content is None and not (role == "assistant" and m.get("tool_calls")):
            raise _bad(f"Invalid value for '{where}.content': expected a string or an array.", f"{where}.content")
        if role == "assistant":
            pending = {c["id"] for c in m.get("tool_calls") or []}


def check_responses(body: dict[str, Any]) -> None:
    _unknown_keys(body, VOCAB["responses"])
    model = _model(body)
    if not model.reasoning:
        if "reasoning" in body:
            raise _bad("Unsupported parameter: 'reasoning.effort' is not supported with this model.", "reasoning")
        if "reasoning.encrypted_content" in (body.get("include") or []):
            raise _bad("Encrypted content is not supported with this model.", "include")
        verbosity = (body.get("text") or {}).get("verbosity")
        if verbosity not in (None, "medium"):
            raise _bad(f"Unsupported value: '{verbosity}' is not supported with this model.", "text.verbosity")
    _limit(body.get("max_output_tokens"), model, "max_output_tokens")
    for i, tool in enumerate(body.get("tools") or []):
        if tool.get("type") not in VOCAB["responses-tools"]:
            raise _bad(f"Invalid value: '{tool.get('type')}'.", f"tools[{i}].type")
        if tool.get("type") in ("function", "custom") and not OPENAI_TOOL_NAME.fullmatch(str(tool.get("name"))):
            raise _bad(f"Invalid 'tools[{i}].name': string does not match pattern.", f"tools[{i}].name")
    items = body.get("input")
    if isinstance(items, str):
        return
    if not isinstance(items, list):
        raise _bad("'input' must be a string or an array", "input")
    calls: set[str] = set()
    for i, item in enumerate(items):
        where = f"input[{i}]"
        kind = item.get("type", "message")
        if kind not in VOCAB["responses-items"]:
            raise _bad(f"Invalid value: '{kind}'.", f"{where}.type")
        if kind == "message" and item.get("role") not in RESPONSES_ROLES:
            raise _bad(f"Invalid value: '{item.get('role')}'.", f"{where}.role")
        if kind in ("function_call", "custom_tool_call"):
            calls.add(item.get("call_id"))
        if kind in ("function_call_output", "custom_tool_call_output") and item.get("call_id") not in calls:
            raise _bad(f"No tool call found for function call output with call_id {item.get('call_id')}.", where)
        if kind == "reasoning" and body.get("store") is False and item.get("id") and not item.get("encrypted_content"):
            raise Refused(
                404,
                f"Item with id '{item['id']}' not found. Items are not persisted when `store` is set to false.",
                where,
            )


def check_anthropic(body: dict[str, Any], headers: dict[str, str]) -> None:
    if not headers.get("anthropic-version"):
        raise _bad("anthropic-version: header is required")
    model = _model(body)
    vocabulary = VOCAB["anthropic-beta" if headers.get("anthropic-beta") else "anthropic"]
    _unknown_keys(body, vocabulary | (ANTHROPIC_SAMPLING if model.sampling else set()))
    for key in ANTHROPIC_SAMPLING & body.keys():
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (key != "top_k" and value > 1):
            raise _bad(f"{key}: Input should be a number between 0 and 1", key)
    if "temperature" in body and "top_p" in body:
        raise _bad("`temperature` and `top_p` cannot both be specified for this model. Please use only one.")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int):
        raise _bad("max_tokens: Field required", "max_tokens")
    if max_tokens > model.max_output:
        raise _bad(f"max_tokens: {max_tokens} > {model.max_output}, which is the maximum allowed for {body['model']}")
    thinking = body.get("thinking")
    if thinking and thinking.get("type") != "disabled":
        if not model.reasoning:
            raise _bad(f"thinking: not supported by model {body['model']}", "thinking")
        budget = thinking.get("budget_tokens")
        if thinking.get("type") == "enabled" and (not isinstance(budget, int) or not 1024 <= budget < max_tokens):
            raise _bad("thinking.budget_tokens: must be at least 1024 and less than max_tokens", "thinking")
    for i, tool in enumerate(body.get("tools") or []):
        custom = not tool.get("type") or tool.get("type") == "custom"
        if custom and not ANTHROPIC_TOOL_NAME.fullmatch(str(tool.get("name"))):
            raise _bad(f"tools.{i}.custom.name: String should match pattern", f"tools.{i}.name")
    pending: set[str] = set()
    for i, m in enumerate(body.get("messages") or []):
        role = m.get("role")
        if role not in ("user", "assistant"):
            raise _bad(f"messages.{i}.role: Input should be 'user' or 'assistant'", f"messages.{i}.role")
        blocks = m["content"] if isinstance(m.get("content"), list) else [{"type": "text"}]
        allowed = ANTHROPIC_USER_BLOCKS if role == "user" else ANTHROPIC_ASSISTANT_BLOCKS
        answered = set()
        for j, block in enumerate(blocks):
            if block.get("type") not in allowed:
                raise _bad(f"messages.{i}.content.{j}.type: {block.get('type')!r} is not valid here")
            if block["type"] == "tool_result":
                if block.get("tool_use_id") not in pending:
                    raise _bad(
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message."
                    )
                answered.add(block["tool_use_id"])
        if pending - answered:
            raise _bad(
                f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(sorted(pending - answered))}"
            )
        pending = {b["id"] for b in blocks if b.get("type") == "tool_use"} if role == "assistant" else set()


# ---------------------------------------------------------------------------- the script


@dataclass
class Call:
    """The tool call the script makes: which tool and its input (a JSON object or, for a
    Responses custom tool, a string)."""

    name: str
    input: dict[str, Any] | str


@dataclass
class Script:
    """Two turns: call ``pick(tools)`` with the command; once ``expect`` is in a tool result, answer
    ``final_text``. ``pick`` gets the request's tools (in the upstream's format, as dicts with
    ``name``, ``parameters`` and ``kind``) and returns the call, or None for a side request."""

    pick: Callable[[list[dict[str, Any]]], Call | None]
    expect: str
    final_text: str
    calls_made: int = 0
    outputs_seen: list[str] = field(default_factory=list)


def _tools(fmt: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for tool in body.get("tools") or []:
        if fmt == "openai-chat":
            fn = tool.get("function") or {}
            out.append({"name": fn.get("name"), "parameters": fn.get("parameters") or {}, "kind": "function"})
        elif fmt == "openai-responses":
            out.append({"name": tool.get("name"), "parameters": tool.get("parameters") or {}, "kind": tool.get("type")})
        else:
            out.append({"name": tool.get("name"), "parameters": tool.get("input_schema") or {}, "kind": "function"})
    return out


def _text(value: Any) -> str:
    """Every string inside a tool result (they come as strings or lists of parts)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(_text(v) for k, v in value.items() if k in ("text", "content", "output"))
    return ""


def tool_outputs(fmt: str, body: dict[str, Any]) -> list[str]:
    """The tool results in a request, as text."""
    if fmt == "openai-chat":
        return [_text(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "tool"]
    if fmt == "openai-responses":
        items = body.get("input") if isinstance(body.get("input"), list) else []
        return [
            _text(i.get("output"))
            for i in items
            if i.get("type") in ("function_call_output", "custom_tool_call_output")
        ]
    return [
        _text(b.get("content"))
        for m in body.get("messages") or []
        if isinstance(m.get("content"), list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]


# ---------------------------------------------------------------------------- answers, per format


def _answer(fmt: str, model: str, stream: bool, text: str | None, call: Call | None, n: int) -> Reply:
    call_id = f"call_fake{n}"
    args = None if call is None else call.input if isinstance(call.input, str) else orjson.dumps(call.input).decode()
    if fmt == "anthropic":
        return Reply(_anthropic(model, stream, text, call, call_id, args), split_frames=stream)
    if fmt == "openai-chat":
        return Reply(_chat(model, stream, text, call, call_id, args), split_frames=stream)
    return Reply(_responses(model, stream, text, call, call_id, args), split_frames=stream)


def _anthropic(model: str, stream: bool, text: str | None, call: Call | None, cid: str, args: str | None) -> Any:
    content: list[dict[str, Any]] = []
    if text:
        content.append({"type": "text", "text": text})
    if call:
        content.append(
            {"type": "tool_use", "id": "toolu_" + cid, "name": call.name, "input": orjson.loads(args or "{}")}
        )
    usage = {"input_tokens": 50, "output_tokens": 10}
    stop = "tool_use" if call else "end_turn"
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
               "stop_reason": stop, "stop_sequence": None, "usage": usage}  # fmt: skip
    if not stream:
        return message
    ev: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": {**message, "content": [], "stop_reason": None,
                                                                 "usage": {**usage, "output_tokens": 1}}}),
    ]  # fmt: skip
    for i, block in enumerate(content):
        empty = {**block, "text": ""} if block["type"] == "text" else {**block, "input": {}}
        delta = (
            {"type": "text_delta", "text": block["text"]}
            if block["type"] == "text"
            else {"type": "input_json_delta", "partial_json": args}
        )
        ev += [
            ("content_block_start", {"type": "content_block_start", "index": i, "content_block": empty}),
            ("content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": i}),
        ]
    ev += [
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                           "usage": {"output_tokens": 10}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return sse(ev)


def _chat(model: str, stream: bool, text: str | None, call: Call | None, cid: str, args: str | None) -> Any:
    calls = [{"id": cid, "type": "function", "function": {"name": call.name, "arguments": args}}] if call else None
    finish = "tool_calls" if call else "stop"
    usage = {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}
    base = {"id": "chatcmpl-fake", "created": 1700000000, "model": model}
    if not stream:
        message = {"role": "assistant", "content": text, "refusal": None, **({"tool_calls": calls} if calls else {})}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return {**base, "object": "chat.completion", "choices": [choice], "usage": usage}

    def chunk(delta: dict[str, Any], fin: str | None = None) -> dict[str, Any]:
        return {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": fin}],
        }

    ev: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", "content": ""}))]
    if text:
        ev.append((None, chunk({"content": text})))
    if calls:
        ev.append((None, chunk({"tool_calls": [{"index": 0, **calls[0]}]})))
    ev += [(None, chunk({}, finish)), (None, {**chunk({}), "choices": [], "usage": usage}), (None, "[DONE]")]
    return sse(ev)


def _responses(model: str, stream: bool, text: str | None, call: Call | None, cid: str, args: str | None) -> Any:
    output: list[dict[str, Any]] = []
    if text:
        part = {"type": "output_text", "text": text, "annotations": []}
        output.append(
            {"type": "message", "id": "msg_fake", "status": "completed", "role": "assistant", "content": [part]}
        )
    if call:
        output.append({"type": "function_call", "id": "fc_fake", "call_id": cid, "name": call.name, "arguments": args,
                       "status": "completed"})  # fmt: skip
    usage = {"input_tokens": 50, "output_tokens": 10, "total_tokens": 60, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens_details": {"reasoning_tokens": 0}}  # fmt: skip
    response = {"id": "resp_fake", "object": "response", "created_at": 1700000000, "status": "completed",
                "model": model, "output": output, "usage": usage}  # fmt: skip
    if not stream:
        return response
    ev: list[tuple[str | None, Any]] = [
        ("response.created", {"type": "response.created", "response": {**response, "status": "in_progress",
                                                                         "output": [], "usage": None}}),
    ]  # fmt: skip
    for i, item in enumerate(output):
        ev.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": i,
                   "item": {**item, "status": "in_progress", **({"content": []} if item["type"] == "message" else
                                                                 {"arguments": ""})}}))  # fmt: skip
        if item["type"] == "message":
            ev.append(("response.output_text.delta", {"type": "response.output_text.delta", "item_id": item["id"],
                       "output_index": i, "content_index": 0, "delta": text}))  # fmt: skip
        else:
            ev.append(("response.function_call_arguments.delta", {"type": "response.function_call_arguments.delta",
                       "item_id": item["id"], "output_index": i, "delta": args}))  # fmt: skip
        ev.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": i, "item": item}))
    ev.append(("response.completed", {"type": "response.completed", "response": response}))
    return sse(ev)


def _refusal(fmt: str, refused: Refused) -> Reply:
    kind = {401: "authentication_error", 404: "not_found_error"}.get(refused.status, "invalid_request_error")
    if fmt == "anthropic":
        return Reply({"type": "error", "error": {"type": kind, "message": refused.message}}, status=refused.status)
    error = {"message": refused.message, "type": "invalid_request_error", "param": refused.param, "code": None}
    return Reply({"error": error}, status=refused.status)


# ---------------------------------------------------------------------------- the server


class StrictProvider:
    """The strict fake for one format, on loopback: ``with StrictProvider(fmt, script, auth) as p``."""

    PATHS: typing.ClassVar = {
        "anthropic": "/v1/messages",
        "openai-chat": "/v1/chat/completions",
        "openai-responses": "/v1/responses",
    }

    def __init__(self, fmt: str, script: Script, auth: tuple[str, str], path: str | None = None) -> None:
        self.fmt = fmt
        self.script = script
        self.auth = (auth[0].lower(), auth[1])  # the header and value the route must send
        self.path = path or self.PATHS[fmt]
        self.rejections: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.upstream = FakeUpstream(respond=self._respond)

    def url(self, path: str | None = None) -> str:
        return self.upstream.url(path or self.path)

    def __enter__(self) -> StrictProvider:
        self.upstream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.upstream.stop()

    @property
    def requests(self) -> list[Received]:
        return self.upstream.requests

    def _respond(self, received: Received) -> Reply:
        try:
            body = self._check(received)
        except Refused as refused:
            self.rejections.append(f"{refused.status} {refused.message}")
            return _refusal(self.fmt, refused)
        self.bodies.append(body)
        outputs = tool_outputs(self.fmt, body)
        self.script.outputs_seen += outputs
        stream = bool(body.get("stream"))
        model = str(body.get("model"))
        n = len(self.bodies)
        if any(self.script.expect in o for o in outputs):
            return _answer(self.fmt, model, stream, self.script.final_text, None, n)
        call = self.script.pick(_tools(self.fmt, body))
        if call is None or outputs:  # a side request, or a tool result without the expected output
            return _answer(self.fmt, model, stream, "(fake provider: nothing to do)", None, n)
        self.script.calls_made += 1
        return _answer(self.fmt, model, stream, None, call, n)

    def _bearer_for_anthropic(self, received: Received) -> bool:
        """Anthropic takes its key as a bearer token too (the anthropic SDK 1.x sends it so)."""
        bearer = received.headers.get("authorization") == f"Bearer {self.auth[1]}"
        return self.fmt == "anthropic" and self.auth[0] == "x-api-key" and bearer

    def _check(self, received: Received) -> dict[str, Any]:
        if received.method != "POST" or received.path.split("?")[0] != self.path:
            raise Refused(404, f"fake provider: no endpoint {received.method} {received.path}")
        if received.headers.get(self.auth[0]) != self.auth[1] and not self._bearer_for_anthropic(received):
            raise Refused(401, f"Incorrect API key provided (expected in the {self.auth[0]} header).")
        try:
            body = orjson.loads(received.body)
        except orjson.JSONDecodeError:
            raise _bad("We could not parse the JSON body of your request.") from None
        if not isinstance(body, dict):
            raise _bad("The body must be a JSON object.")
        if self.fmt == "openai-chat":
            check_chat(body)
        elif self.fmt == "openai-responses":
            check_responses(body)
        else:
            check_anthropic(body, received.headers)
        return body
