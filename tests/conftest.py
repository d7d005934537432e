"""Shared test helpers: where the conformance corpus lives."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIRE = ROOT.parent / "shared" / "wire"
NO_WIRE_REASON = f"conformance corpus not found at {WIRE} (it lives in ../shared/wire beside the checkout)"


def wire_files(pattern: str) -> list[Path]:
    """Corpus files matching ``pattern``; empty when the corpus is absent."""
    return sorted(WIRE.glob(pattern)) if WIRE.is_dir() else []


def wire_params(pattern: str) -> list:
    """``pytest.mark.parametrize`` values over corpus files, or one visible skip without the corpus."""
    files = wire_files(pattern)
    if files:
        return [pytest.param(f, id=f.name) for f in files]
    return [pytest.param(None, marks=pytest.mark.skip(reason=NO_WIRE_REASON), id="no-corpus")]
