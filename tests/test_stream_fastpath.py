"""The readers' per-token fast paths must read exactly what their careful paths read.

Each case is an event the fast path does not take (a missing key, a wrong type, an unknown
block) beside the common shape: the canonical text must be the same as the source says.
"""

from __future__ import annotations

import orjson
from crosswire import formats
from crosswire.events import EventLog


def read(fmt: str, events: list[tuple[str, dict[str, object]]]) -> list[tuple[object, ...]]:
    log = EventLog()
    reader = formats.get(fmt).stream_reader(log, lambda message: None)
    for name, data in events:
        reader.event(name, orjson.dumps(data).decode())
    return [e for e in log.events if e[0] == "text"]


ANTHROPIC_START = [
    ("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {}}}),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
]


def anthropic_delta(**fields: object) -> tuple[str, dict[str, object]]:
    data: dict[str, object] = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "a"}}
    data.update(fields)
    return ("content_block_delta", data)


def test_anthropic_text_delta_in_every_shape() -> None:
    no_type = anthropic_delta()
    del no_type[1]["type"]  # the type only in the SSE event name
    events = [
        *ANTHROPIC_START,
        anthropic_delta(),
        no_type,
        anthropic_delta(delta={"type": "text_delta", "text": 7}),  # not a string: an empty fragment
        anthropic_delta(index=5),  # a block that never started: nothing
        anthropic_delta(delta="oops"),  # not an object: nothing
        anthropic_delta(delta={"type": "text_delta", "text": "b"}),
    ]
    assert read("anthropic", events) == [("text", 0, "a"), ("text", 0, "a"), ("text", 0, ""), ("text", 0, "b")]


RESPONSES_START = [
    ("response.created", {"type": "response.created", "response": {"id": "resp_1", "model": "m", "output": []}}),
    (
        "response.output_item.added",
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"id": "msg_1", "type": "message", "role": "assistant", "content": []},
        },
    ),
    (
        "response.content_part.added",
        {
            "type": "response.content_part.added",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ),
]


def responses_delta(**fields: object) -> tuple[str, dict[str, object]]:
    data: dict[str, object] = {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "a",
    }
    data.update(fields)
    return ("response.output_text.delta", data)


def test_responses_text_delta_in_every_shape() -> None:
    by_item_id = responses_delta()
    del by_item_id[1]["output_index"]  # located by item id only
    no_content_index = responses_delta()
    del no_content_index[1]["content_index"]  # content part 0 by default
    events = [
        *RESPONSES_START,
        responses_delta(),
        by_item_id,
        no_content_index,
        responses_delta(delta="b"),
    ]
    assert read("openai-responses", events) == [("text", 0, "a")] * 3 + [("text", 0, "b")]
