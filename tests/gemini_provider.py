"""A loopback fake Gemini API as strict as the real one, playing a two-turn agent script: the
upstream of the agent-CLI tests that route a tool to ``gemini``.

Every request is checked the way the API checks it, each rule from the API reference or the
official google-genai SDK: the endpoint (``/v1beta/models/{model}:generateContent`` or
``:streamGenerateContent?alt=sse``), the key in ``x-goog-api-key``, a known model, the body
through the SDK's own types with unknown fields forbidden and the conversation rules
(``formats_support.check_gemini_request``), and, as Gemini 3 enforces, the signature it gave each
step's first function call sent back on it. A refused request gets the API's error envelope and is
kept in :attr:`GeminiProvider.rejections`.

The script: a request whose declarations include the tool ``pick`` chooses, and whose function
responses do not yet carry ``expect``, is answered with a call of that tool (no call id, as
Gemini 2.5 sends it, and a fresh thought signature); once the output is back, with
``final_text``; requests without that tool (side requests) get a short text.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crosswire.fakeupstream import FakeUpstream, Received, Reply, sse
from formats_support import check_gemini_request

ENDPOINT = re.compile(r"/v1beta/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)")
MODELS = {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview"}


@dataclass
class GeminiCall:
    name: str
    args: dict[str, Any]


@dataclass
class GeminiScript:
    pick: Callable[[list[dict[str, Any]]], GeminiCall | None]
    expect: str
    final_text: str
    calls_made: int = 0
    outputs_seen: list[str] = field(default_factory=list)


class Refused(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def declarations(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations") or []]


def function_outputs(body: dict[str, Any]) -> list[str]:
    out = []
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            response = (part.get("functionResponse") or {}).get("response")
            if isinstance(response, dict):
                out.append(json.dumps(response))
    return out


class GeminiProvider:
    """``with GeminiProvider(script, key) as p``: the fake at ``p.url()`` (its ``/v1beta/models``)."""

    def __init__(self, script: GeminiScript, key: str) -> None:
        self.script = script
        self.key = key
        self.rejections: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.issued: set[str] = set()  # the thought signatures given out, which must come back
        self._numbers = itertools.count(1)
        self.server = FakeUpstream(respond=self._respond)

    def url(self, path: str = "/v1beta/models") -> str:
        return self.server.url(path)

    def __enter__(self) -> GeminiProvider:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def requests(self) -> list[Received]:
        return self.server.requests

    def _respond(self, received: Received) -> Reply:
        try:
            model, stream, body = self._check(received)
        except Refused as refused:
            self.rejections.append(f"{refused.code} {refused.status}: {refused.message}")
            error = {"error": {"code": refused.code, "message": refused.message, "status": refused.status}}
            return Reply(error, status=refused.code)
        self.bodies.append(body)
        outputs = function_outputs(body)
        self.script.outputs_seen += outputs
        if any(self.script.expect in o for o in outputs):
            return self._answer(model, stream, [{"text": self.script.final_text}])
        call = self.script.pick(declarations(body))
        if call is None or outputs:
            return self._answer(model, stream, [{"text": "(fake gemini: nothing to do)"}])
        self.script.calls_made += 1
        signature = base64.b64encode(f"fake gemini signature {next(self._numbers)}".encode()).decode()
        self.issued.add(signature)
        part = {"functionCall": {"name": call.name, "args": call.args}, "thoughtSignature": signature}
        return self._answer(model, stream, [part])

    def _answer(self, model: str, stream: bool, parts: list[dict[str, Any]]) -> Reply:
        number = next(self._numbers)
        usage = {"promptTokenCount": 50, "candidatesTokenCount": 10, "totalTokenCount": 60}
        final = {
            "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": f"fakeResponse{number}",
        }
        if not stream:
            return Reply(final)
        return Reply(sse([(None, final)]), split_frames=True)

    def _check(self, received: Received) -> tuple[str, bool, dict[str, Any]]:
        path, _, query = received.path.partition("?")
        match = ENDPOINT.fullmatch(path)
        if received.method != "POST" or match is None:
            raise Refused(404, "NOT_FOUND", f"fake gemini: no endpoint {received.method} {received.path}")
        stream = match["method"] == "streamGenerateContent"
        if stream and "alt=sse" not in query.split("&"):
            raise Refused(400, "INVALID_ARGUMENT", "fake gemini: this fake streams only as SSE (alt=sse)")
        if received.headers.get("x-goog-api-key") != self.key:
            raise Refused(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
        if match["model"] not in MODELS:
            raise Refused(404, "NOT_FOUND", f"models/{match['model']} is not found for API version v1beta")
        try:
            body = json.loads(received.body)
            check_gemini_request(body)
        except Exception as exc:  # what the API would refuse, said as its 400
            raise Refused(400, "INVALID_ARGUMENT", f"Invalid request: {exc}") from None
        self._check_signatures(body)
        return match["model"], stream, body

    def _check_signatures(self, body: dict[str, Any]) -> None:
        """Gemini 3's rule: in the current turn (since the last user text), each model step's first
        function call carries the signature the API gave it."""
        contents = body["contents"]
        start = max(
            (i for i, c in enumerate(contents) if c["role"] == "user" and any("text" in p for p in c["parts"])),
            default=0,
        )
        for content in contents[start:]:
            calls = [p for p in content["parts"] if "functionCall" in p] if content["role"] == "model" else []
            if calls and calls[0].get("thoughtSignature") not in self.issued:
                name = calls[0]["functionCall"]["name"]
                raise Refused(400, "INVALID_ARGUMENT", f"Function call `{name}` is missing a `thought_signature`.")
