"""Files as sources: CSV, Parquet and JSON (an array of records, or JSON lines)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import polars as pl

from stockbrief import calendar
from stockbrief.errors import InputError, NotFoundError
from stockbrief.sources.base import Parsed, Source
from stockbrief.sources.validate import ROW, ExchangeOf, parse_actions, parse_bars

FileFormat = Literal["csv", "parquet", "json", "jsonl"]

SUFFIX_FORMATS: Final[dict[str, FileFormat]] = {
    ".csv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def file_format(path: Path) -> FileFormat:
    """The format a file name implies (``.csv.gz`` counts as CSV)."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".zst")]
    fmt = SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        known = ", ".join(sorted(SUFFIX_FORMATS))
        raise InputError(f"unrecognised file type; use one of {known}", file=path)
    return fmt


def read_table(path: Path) -> pl.DataFrame:
    """Read a file as the user wrote it, text cells kept as text, plus a 1-based ``_row`` column.

    CSV is read without type inference so that a bad cell is reported where it is rather than
    turning a whole column into strings or nulls.
    """
    if path.is_dir():
        raise InputError("is a folder; name the files in it (e.g. folder/*.csv)", file=path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    fmt = file_format(path)
    try:
        if fmt == "csv":
            frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False, glob=False)
        elif fmt == "parquet":
            frame = pl.read_parquet(path, glob=False)
        elif fmt == "jsonl":
            frame = pl.read_ndjson(path, infer_schema_length=None)
        else:
            frame = pl.read_json(path, infer_schema_length=None)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read as {fmt}: {first_line}", file=path) from None
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


@dataclass
class PriceFile(Source[pl.DataFrame]):
    """Daily bars from one file: one ticker per file or a long file with a ticker column."""

    path: Path
    ticker: str | None = None
    exchange_of: ExchangeOf = field(default=calendar.exchange_for)
    start: dt.date | None = None
    end: dt.date | None = None

    def fetch_raw(self) -> pl.DataFrame:
        return read_table(self.path)

    def parse(self, raw: pl.DataFrame) -> Parsed:
        return parse_bars(
            raw,
            str(self.path),
            ticker=self.ticker,
            exchange_of=self.exchange_of,
            start=self.start,
            end=self.end,
        )


@dataclass
class ActionFile(Source[pl.DataFrame]):
    """Splits and dividends from one file (columns ``[ticker,] date, kind, value``)."""

    path: Path
    ticker: str | None = None
    exchange_of: ExchangeOf = field(default=calendar.exchange_for)

    def fetch_raw(self) -> pl.DataFrame:
        return read_table(self.path)

    def parse(self, raw: pl.DataFrame) -> Parsed:
        return parse_actions(raw, str(self.path), ticker=self.ticker, exchange_of=self.exchange_of)
