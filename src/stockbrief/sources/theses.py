"""A user's own theses on tickers: Markdown notes with a front matter, or a table of them.

A thesis is what its writer thought on a day, kept as written; a brief quotes the newest one
written by its date as the user's view. Two forms are read:

- a Markdown file (``.md``, ``.markdown``) per thesis, the way notes are kept in a folder::

      ---
      ticker: BABA
      date: 2025-03-03
      author: Jane Doe
      ---
      Cloud growth is re-accelerating; the market still prices a retailer.

  The front matter holds ``key: value`` lines (``ticker`` and ``date``, or ``written_on``,
  required; ``author`` optional; values may be quoted); the body is the thesis.
- a CSV, Parquet or JSON table with columns ``ticker``, ``written_on`` (or ``date``),
  ``text`` (or ``thesis``) and an optional ``author``, one thesis per row.

Errors name the file and the line of a Markdown note, or the data row of a table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

import polars as pl

from stockbrief import calendar, model
from stockbrief.errors import InputError, NotFoundError
from stockbrief.sources.base import Parsed
from stockbrief.sources.files import read_table
from stockbrief.sources.validate import (
    FILE,
    ROW,
    Check,
    TableSpec,
    future_checks,
    parse_table,
    run_checks,
)

T = TypeVar("T")

MARKDOWN_SUFFIXES: Final = (".md", ".markdown")
MAX_THESIS_CHARS: Final = 5_000
"""A brief quotes a thesis whole; longer texts are notes, not a thesis."""
FRONT_MATTER_KEYS: Final = {"ticker": "ticker", "date": "written_on", "written_on": "written_on"}
OPTIONAL_KEYS: Final = ("author",)
MAX_NOTE_BYTES: Final = 1 << 20

SPEC: Final = TableSpec(
    model.THESES,
    model.THESES_KEY,
    ("ticker", "written_on", "text"),
    {"date": "written_on", "thesis": "text", "note": "text"},
    checks=(
        Check(
            "text",
            pl.col("text").str.len_chars() > MAX_THESIS_CHARS,
            f"longer than {MAX_THESIS_CHARS:,} characters; a brief quotes the thesis whole,"
            " so keep it to a few paragraphs",
        ),
    ),
    dated="written_on",
)
"""A table of theses: one per row."""


def read_theses(path: Path, ticker: str | None = None) -> Parsed:
    """The theses of one file, validated: a Markdown note or a table of them.

    ``ticker`` names the ticker of every thesis of the file (``--ticker``), over the file's own.
    Whether each ticker is stored is checked by the caller, against the store.
    """
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        return _markdown_note(path, ticker)
    file = str(path)
    raw = read_table(path, lambda header: SPEC.check_header(header, file))
    # A thesis has no session: it is refused only when dated after today everywhere on Earth.
    return parse_table(raw, file, SPEC, ticker=ticker, exchange_of=lambda _ticker: "")


def _markdown_note(path: Path, ticker: str | None) -> Parsed:
    """One thesis from a Markdown file with a ``---`` front matter."""
    if path.is_dir():
        raise InputError("is a folder; name the notes in it (e.g. notes/*.md)", file=path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    if path.stat().st_size > MAX_NOTE_BYTES:
        raise InputError(
            f"larger than {MAX_NOTE_BYTES >> 20} MB; a thesis is a few paragraphs", file=path
        )
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the note as UTF-8", file=path) from None
    fields, body_start = _front_matter(path, lines)
    text = "\n".join(lines[body_start:]).strip()
    if ticker is not None:
        fields["ticker"] = (ticker, 0)
    for key in ("ticker", "written_on"):
        if key not in fields:
            shown = "ticker" if key == "ticker" else "date"
            raise InputError(
                f"the front matter has no {shown}: line; add '{shown}: ...' between the"
                " '---' lines",
                file=path,
                field=key,
            )
    symbol = _line_value(path, fields, "ticker", calendar.normalize_ticker)
    day = _line_value(path, fields, "written_on", _iso_date)
    if not text:
        raise InputError(
            f"line {body_start + 1}: no text after the front matter; write the thesis below it",
            file=path,
            field="text",
        )
    if len(text) > MAX_THESIS_CHARS:
        raise InputError(
            f"line {body_start + 1}: the thesis is longer than {MAX_THESIS_CHARS:,} characters;"
            " a brief quotes it whole, so keep it to a few paragraphs",
            file=path,
            field="text",
        )
    author = fields.get("author", ("", 0))[0] or None
    frame = pl.DataFrame(
        # The row of a note is the line of its ticker, where an unknown ticker is reported.
        {
            "ticker": [symbol],
            "written_on": [day],
            "author": [author],
            "text": [text],
            ROW: [fields["ticker"][1] or 1],
        },
        schema={**model.THESES, ROW: pl.Int64()},
    )
    future = future_checks({symbol: ""}, "written_on")
    try:
        run_checks(frame, str(path), future)
    except InputError as exc:
        line = fields["written_on"][1]
        raise InputError(f"line {line}: {exc.reason}", file=path, field="written_on") from None
    return Parsed(frame.with_columns(pl.lit(str(path), dtype=pl.Categorical).alias(FILE)), 0)


def _front_matter(path: Path, lines: list[str]) -> tuple[dict[str, tuple[str, int]], int]:
    """The ``key: value`` lines between the opening and closing ``---`` (each with its line
    number), and the index of the first body line."""
    if not lines or lines[0].strip() != "---":
        raise InputError(
            "line 1: a note starts with a front matter: a '---' line, 'ticker: ...' and"
            " 'date: YYYY-MM-DD' lines, and another '---' line before the thesis",
            file=path,
        )
    fields: dict[str, tuple[str, int]] = {}
    known = sorted({*FRONT_MATTER_KEYS, *OPTIONAL_KEYS})
    for index, raw in enumerate(lines[1:], start=1):
        number = index + 1
        line = raw.strip()
        if line == "---":
            return fields, index + 1
        if not line or line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or not key:
            raise InputError(
                f"line {number}: {raw.strip()!r} is not a 'key: value' line of the front"
                " matter; is the '---' line that ends it missing?",
                file=path,
            )
        name = FRONT_MATTER_KEYS.get(key, key if key in OPTIONAL_KEYS else None)
        if name is None:
            raise InputError(
                f"line {number}: unknown key {key!r}; use {', '.join(known)}", file=path, field=key
            )
        if name in fields:
            raise InputError(
                f"line {number}: {key} is given twice (first on line {fields[name][1]})",
                file=path,
                field=name,
            )
        fields[name] = (_unquoted(value.strip()), number)
    raise InputError(
        "the front matter is not closed; add a '---' line after it", file=path, field=None
    )


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date; expected YYYY-MM-DD") from None


def _line_value(
    path: Path, fields: dict[str, tuple[str, int]], name: str, parse: Callable[[str], T]
) -> T:
    """A front matter value parsed, or an error naming its line."""
    value, number = fields[name]
    where = f"line {number}: " if number else ""
    if not value:
        raise InputError(f"{where}{name} is empty", file=path, field=name)
    try:
        return parse(value)
    except InputError as exc:
        raise InputError(f"{where}{exc.reason}", file=path, field=name) from None
