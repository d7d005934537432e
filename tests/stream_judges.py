"""The official SDKs as judges of SSE streams: each stream is served over an in-memory HTTP
transport to the SDK's own client and accumulated by the SDK's own stream helpers.

Works with both dev environments: the SDKs built on httpx (Python 3.11) and on httpx2 (3.12).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import anthropic
import anthropic._base_client
import openai
import openai._base_client
from openai.lib.streaming.chat import ChatCompletionStreamState


def _http(sdk_base: ModuleType) -> ModuleType:
    """The HTTP library this SDK release is built on (httpx2 for the newest, else httpx)."""
    return getattr(sdk_base, "httpx2", None) or importlib.import_module("httpx")


def _client_kwargs(sdk_base: ModuleType, body: bytes) -> dict[str, Any]:
    http = _http(sdk_base)

    def handler(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return {
        "api_key": "test-key",
        "base_url": "http://127.0.0.1:9",
        "max_retries": 0,
        "http_client": http.Client(transport=http.MockTransport(handler)),
    }


@dataclass
class AnthropicResult:
    message: Any  # the SDK's accumulated Message
    tool_json: dict[int, str] = field(default_factory=dict)  # block index -> raw partial_json fragments joined
    pings: int = 0
    events: list[Any] = field(default_factory=list)  # raw stream events, as the SDK parsed them


def anthropic_accumulate(body: bytes) -> AnthropicResult:
    """Accumulate an Anthropic stream with ``client.messages.stream``; raises what the SDK raises."""
    client = anthropic.Anthropic(**_client_kwargs(anthropic._base_client, body))
    result = AnthropicResult(message=None)
    with client.messages.stream(model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}]) as stream:
        for event in stream:
            if event.type in ("message_start", "content_block_start", "content_block_delta"):
                result.events.append(event)
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                result.tool_json[event.index] = result.tool_json.get(event.index, "") + event.delta.partial_json
            elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                result.tool_json.setdefault(event.index, "")
        result.message = stream.get_final_message()
    return result


def anthropic_raw(body: bytes) -> list[Any]:
    """The raw events of an Anthropic stream as the SDK's ``Stream`` yields them (pings included)."""
    client = anthropic.Anthropic(**_client_kwargs(anthropic._base_client, body))
    stream = client.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "hi"}], stream=True)
    return list(stream)


def openai_accumulate(body: bytes) -> Any:
    """Accumulate an OpenAI chat stream with ``ChatCompletionStreamState``; raises what the SDK raises."""
    client = openai.OpenAI(**_client_kwargs(openai._base_client, body))
    state = ChatCompletionStreamState()
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        state.handle_chunk(chunk)
    # Not get_final_completion(): it raises for the length and content_filter finishes.
    return state.current_completion_snapshot


def openai_chunks(body: bytes) -> list[Any]:
    """The chunks of an OpenAI chat stream as the SDK's ``Stream`` yields them."""
    client = openai.OpenAI(**_client_kwargs(openai._base_client, body))
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True)
    return list(stream)
