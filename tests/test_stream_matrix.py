"""Every stream of every registered format (hand-written fixtures and the conformance corpus),
converted to every format, judged by the SDKs on both sides.

The source's own SDK says what the stream holds; what of that the target format can carry
(tests/formats_support.py, ``keep``) must be what the target's SDK makes of the converted stream.
Source and target the same: a format read and written back to itself comes out equivalent.
"""

from __future__ import annotations

import pytest
from crosswire.convert import StreamConverter
from crosswire.formats import FORMATS
from formats_support import ADAPTERS, UNDECODABLE, View, project

CASES = [
    pytest.param(source, name, target, id=f"{source}:{name}->{target}")
    for source in FORMATS.names
    for name in ADAPTERS[source].streams()
    for target in FORMATS.names
]


def convert(source: str, target: str, body: bytes) -> tuple[bytes, StreamConverter]:
    conv = StreamConverter(source, target, created=1_700_000_000)
    return conv.feed(body) + conv.close(), conv


def sdk_view(fmt: str, body: bytes) -> View:
    """The SDK decoders drop a last event that lacks its blank line; crosswire's decoder dispatches
    it (a proxy must not lose a final error event): the source is judged as crosswire reads it."""
    return ADAPTERS[fmt].stream_view(body if body.endswith(b"\n\n") else body + b"\n\n")


@pytest.mark.parametrize(("source", "name", "target"), CASES)
def test_stream_reaches_every_format(source: str, name: str, target: str) -> None:
    body = ADAPTERS[source].streams()[name]
    expected = sdk_view(source, body)
    out, conv = convert(source, target, body)
    got = ADAPTERS[target].stream_view(out)
    if expected.error is None and expected.stop is None:  # cut short: the client must see an error, not an end
        assert got.error is not None and "incomplete" in got.error and conv.errored
        return
    if expected.error == UNDECODABLE:
        assert got.error is not None and "not valid JSON" in got.error and conv.errored
        return
    assert project(got, target) == project(project(expected, source), target)
    assert conv.errored == (expected.error is not None)
