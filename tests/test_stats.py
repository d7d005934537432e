"""The usage summary: flows grouped by route and model, errors by status, tokens summed, median TTFT."""

from __future__ import annotations

import json
from pathlib import Path

from crosswire import stats


def test_flows_are_grouped_by_route_and_model_and_summed() -> None:
    summary = stats.Summary()
    summary.add(stats.FlowStats("r1", "m", usage={"input_tokens": 10, "output_tokens": 3}, ttft=0.5))
    summary.add(stats.FlowStats("r1", "m", usage={"input_tokens": 5, "cache_read_input_tokens": 7}, ttft=0.1))
    summary.add(stats.FlowStats("r1", "m", error="429", ttft=0.3, warnings=["dropped x", "dropped y"]))
    summary.add(stats.FlowStats("r1", "other", error=stats.NO_ANSWER, warnings=["dropped x"]))
    summary.add(stats.FlowStats("r2", "m", usage={"cache_creation_input_tokens": 2, "reasoning_tokens": 9}))
    data = summary.to_json()
    assert data["version"] == 1
    first, other, second = data["routes"]
    assert first == {
        "route": "r1",
        "model": "m",
        "requests": 3,
        "errors": {"429": 1},
        "input_tokens": 15,
        "output_tokens": 3,
        "cache_read_input_tokens": 7,
        "cache_creation_input_tokens": 0,
        "median_ttft_s": 0.3,
        "timed_streams": 3,
        "warnings": {"dropped x": 1, "dropped y": 1},
    }
    assert (other["model"], other["errors"], other["median_ttft_s"]) == ("other", {"no answer": 1}, None)
    assert second["cache_creation_input_tokens"] == 2


def test_error_keys() -> None:
    assert stats.error_key(200) is None
    assert stats.error_key(200, stream_failed=True) == "error mid-stream"
    assert stats.error_key(529) == "529"
    assert stats.error_key(400, answered_locally=True) == "400 (answered by crosswire)"
    assert stats.error_key(None) == "no answer"


def test_the_text_a_person_reads(tmp_path: Path) -> None:
    summary = stats.Summary()
    summary.add(stats.FlowStats("route 'claude -> ollama'", "qwen3", usage={"input_tokens": 1234, "output_tokens": 5}))
    summary.add(stats.FlowStats("route 'claude -> ollama'", "qwen3", error="500", ttft=0.25, warnings=["w"]))
    path = tmp_path / "s.json"
    stats.write(str(path), summary)
    assert stats.lines(json.loads(path.read_text(encoding="utf-8"))) == [
        "crosswire: 2 requests converted or routed",
        "  route 'claude -> ollama', model qwen3",
        "    requests 2, errors: 500 ×1",
        "    tokens: input 1,234, output 5, cache read 0, cache write 0",
        "    time to first token: median 0.250 s over 1 stream",
        "    warning ×1: w",
    ]
    assert stats.lines({"version": 1, "routes": []}) == ["crosswire: no request matched a route"]


def test_usage_of_answers_that_passed_unchanged() -> None:
    body = b'{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":"end_turn",'
    body += b'"usage":{"input_tokens":4,"output_tokens":2,"cache_read_input_tokens":1}}'
    assert stats.upstream_usage("anthropic", body, streamed=False) == {
        "input_tokens": 4,
        "output_tokens": 2,
        "cache_read_input_tokens": 1,
    }
    stream = b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],'
    stream += b'"usage":{"prompt_tokens":9,"completion_tokens":3}}\n\ndata: [DONE]\n\n'
    usage = stats.upstream_usage("openai-chat", stream, streamed=True)
    assert usage == {"input_tokens": 9, "output_tokens": 3, "cache_read_input_tokens": 0}
    assert stats.upstream_usage("anthropic", b"not json", streamed=False) == {}
