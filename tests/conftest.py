"""Shared test helpers: where the conformance corpus lives; an environment that is not the developer's;
the event grammar every reader is checked against for the whole session (tests/grammar.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grammar
import pytest
from crosswire.formats import FORMATS

ROOT = Path(__file__).resolve().parents[1]
WIRE = ROOT.parent / "shared" / "wire"
NO_WIRE_REASON = f"conformance corpus not found at {WIRE} (it lives in ../shared/wire beside the checkout)"

# What a developer's shell may set that must change nothing: gone for every test and every process a
# test starts, so the suite behaves here as on a machine without them (some set PYTHONUNBUFFERED=1
# globally, which once hid a demo that waited on a block-buffered pipe). A test that needs one sets it.
# HOME and locale are not touched here: every mitmproxy a test starts gets its own confdir, and CI runs
# the suite with a fresh HOME and a plain LANG.
ENVIRONMENT_NOT_RELIED_ON = (
    "PYTHONUNBUFFERED",
    *(name for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy") for name in (base, base.upper())),
)
for _name in ENVIRONMENT_NOT_RELIED_ON:
    os.environ.pop(_name, None)


def wire_files(pattern: str) -> list[Path]:
    """Corpus files matching ``pattern``; empty when the corpus is absent."""
    return sorted(WIRE.glob(pattern)) if WIRE.is_dir() else []


def wire_params(pattern: str) -> list:
    """``pytest.mark.parametrize`` values over corpus files, or one visible skip without the corpus."""
    files = wire_files(pattern)
    if files:
        return [pytest.param(f, id=f.name) for f in files]
    return [pytest.param(None, marks=pytest.mark.skip(reason=NO_WIRE_REASON), id="no-corpus")]


@pytest.fixture(scope="session", autouse=True)
def checked_readers() -> Iterator[None]:
    """Every registered format's stream reader sends through the grammar checker."""
    originals = {fmt.name: fmt.stream_reader for fmt in FORMATS}
    for fmt in FORMATS:
        object.__setattr__(fmt, "stream_reader", grammar.checked(fmt.stream_reader))
    yield
    for fmt in FORMATS:
        object.__setattr__(fmt, "stream_reader", originals[fmt.name])


@pytest.fixture(autouse=True)
def grammar_kept() -> Iterator[None]:
    """A test during which any reader broke the grammar fails, even when the error was swallowed
    (a converter turns it into an error frame)."""
    grammar.VIOLATIONS.clear()
    yield
    found, grammar.VIOLATIONS[:] = list(grammar.VIOLATIONS), []
    assert not found, f"a stream reader broke the event grammar of events.py: {found}"
