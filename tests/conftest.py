"""Shared fixtures: where the real market data lives, and fresh stores."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Path under ``../shared/data``; skips the calling test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real market data not available: {path} is missing (expected ../shared/data)")
    return path


@pytest.fixture
def yahoo30() -> Path:
    """The folder of 30 real Yahoo daily-bar files."""
    return shared_path("yahoo-30")
