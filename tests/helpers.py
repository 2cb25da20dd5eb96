"""Small builders shared by tests."""

from __future__ import annotations

from pathlib import Path

HEADER = "date,open,high,low,close,volume"

# Five consecutive NYSE sessions.
SESSIONS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    """Write a CSV file with a header and the given data lines."""
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def good_rows() -> list[str]:
    """Five valid bars."""
    return [
        f"{d},{100 + i},{102 + i},{99 + i},{101 + i},{1000 * (i + 1)}"
        for i, d in enumerate(SESSIONS)
    ]
