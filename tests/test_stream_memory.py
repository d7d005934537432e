"""What a long stream keeps in memory while it converts, measured in a process of its own (RSS)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from crosswire import formats

# A gemini source reads every event the careful way, so each target's writer gets decoded fragments
# (the path every source takes for a frame its reader's fast path does not describe).
CHILD = r"""
import json, resource, sys
import orjson
from crosswire.convert import StreamConverter

target, n = sys.argv[1], int(sys.argv[2])
words = [" the", " café", " 🌍", "\n", ' "q"']

def chunks():
    for at in range(0, n, 100):
        yield b"".join(
            b'data: {"candidates":[{"content":{"parts":[{"text":' + orjson.dumps(words[i % 5] + str(i))
            + b'}],"role":"model"},"index":0}],"responseId":"r1"}\n\n'
            for i in range(at, min(n, at + 100))
        )

conv = StreamConverter("gemini", target)
conv.feed(next(chunks()))  # everything imported and set up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
written = sum(len(conv.feed(chunk)) for chunk in chunks())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"grew_kib": after - before, "written": written, "errored": conv.errored}))
"""


@pytest.mark.parametrize("target", formats.FORMATS.names)
def test_a_long_stream_of_decoded_fragments_keeps_what_it_must_and_no_more(target: str) -> None:
    n = 30_000
    done = subprocess.run([sys.executable, "-c", CHILD, target, str(n)], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    assert result["written"] > n * 20 and not result["errored"]
    # the Responses writer keeps the block's text for its .done events (a few hundred KiB here); a
    # kept orjson.dumps result each would hold a page apiece (4 KiB x 30,000 = 117 MiB)
    assert result["grew_kib"] < 12 * 1024, result
