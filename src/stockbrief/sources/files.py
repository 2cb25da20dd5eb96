"""Files as sources: CSV, Parquet and JSON (an array of records, or JSON lines)."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import polars as pl

from stockbrief import calendar
from stockbrief.errors import InputError, NotFoundError
from stockbrief.sources.base import Parsed, Source
from stockbrief.sources.validate import (
    ACTIONS_OPTIONAL,
    ACTIONS_REQUIRED,
    BARS_OPTIONAL,
    BARS_REQUIRED,
    ROW,
    ExchangeOf,
    ParsedBars,
    check_header,
    parse_actions,
    parse_bars,
)

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


SNIFF_BYTES: Final = 1 << 20
"""How much of a file is looked at before it is read: a header line and a first row fit in it
many times over (a news body is a few kilobytes), and reading it takes a millisecond."""

HeaderCheck = Callable[[pl.DataFrame], None]
"""Checks the columns of a file (an empty frame with its header) before its rows are read."""

_GZIP: Final = b"\x1f\x8b"
_ZSTD: Final = b"\x28\xb5\x2f\xfd"
_JSON_START: Final[dict[FileFormat, str]] = {"json": "[{", "jsonl": "{"}
_NAMES: Final[dict[FileFormat, str]] = {
    "csv": "CSV",
    "parquet": "Parquet",
    "json": "JSON",
    "jsonl": "JSON lines",
}


def _head(path: Path) -> bytes:
    """The first :data:`SNIFF_BYTES` of a file, decompressed when it is gzip."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.startswith(_GZIP):
        return head
    try:
        with gzip.open(path) as unpacked:
            return unpacked.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error):
        raise InputError("not a readable gzip file; check that it is complete", file=path) from None


def _text(head: bytes, path: Path, fmt: FileFormat) -> str:
    """The head as UTF-8 text, or an error saying the file is not text."""
    if b"\x00" in head:
        raise InputError(
            f"binary data, not a {_NAMES[fmt]} file (a NUL byte within its first MiB);"
            " check that this is the file you meant",
            file=path,
        )
    try:
        # An incremental decoder accepts a character cut in two at the end of the head.
        return codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start} cannot be decoded), so not a {_NAMES[fmt]} file;"
            " save it as UTF-8, or check that this is the file you meant",
            file=path,
        ) from None


def sniff(path: Path, fmt: FileFormat) -> str:
    """Look at the start of a file and refuse at once what cannot be a table of this format.

    Reading a large file of junk to the end before failing costs seconds and gigabytes; its
    first bytes tell: Parquet begins with ``PAR1``, JSON with ``[`` or ``{``, text is UTF-8
    without NUL bytes, and a CSV file's header line and first row end within the first MiB.
    Returns the head as text (empty for Parquet and zstd-compressed files, which are left to
    the reader).
    """
    head = _head(path)
    if fmt == "parquet":
        if head and not head.startswith(b"PAR1"):
            raise InputError("not a Parquet file (it does not begin with PAR1)", file=path)
        return ""
    if head.startswith(_ZSTD):
        return ""
    text = _text(head, path, fmt)
    if fmt in _JSON_START and text.strip() and text.lstrip()[0] not in _JSON_START[fmt]:
        expected = " or ".join(_JSON_START[fmt])
        raise InputError(f"not JSON: it does not begin with {expected}", file=path)
    lines = max(len(text.split(end, 2)) for end in "\n\r")
    if fmt == "csv" and len(head) == SNIFF_BYTES and lines < 3:
        raise InputError(
            "no header line and first row within the first MiB: a line that long is not a row"
            " of a CSV table; check that this is the file you meant",
            file=path,
        )
    return text


def _header(path: Path, fmt: FileFormat, text: str) -> pl.DataFrame | None:
    """The file's columns as an empty frame, when they can be known without reading it."""
    if fmt == "parquet":
        return pl.DataFrame(schema=pl.read_parquet_schema(path))
    if fmt == "csv" and text.strip():
        line = text.split("\n", 1)[0].rstrip("\r")
        return pl.read_csv(io.StringIO(line + "\n"), infer_schema=False)
    return None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def read_table(path: Path, check_columns: HeaderCheck | None = None) -> pl.DataFrame:
    """Read a file as the user wrote it, text cells kept as text, plus a 1-based ``_row`` column.

    CSV is read without type inference so that a bad cell is reported where it is rather than
    turning a whole column into strings or nulls. ``check_columns`` sees the header before the
    rows are read (CSV and Parquet), so a file with the wrong columns fails at once.
    """
    if path.is_dir():
        raise InputError("is a folder; name the files in it (e.g. folder/*.csv)", file=path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such file")
    fmt = file_format(path)
    try:
        text = sniff(path, fmt)
        header = _header(path, fmt, text) if check_columns is not None else None
        if header is not None and check_columns is not None:
            check_columns(header)
        if fmt == "csv":
            frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False, glob=False)
        elif fmt == "parquet":
            frame = pl.read_parquet(path, glob=False)
        elif fmt == "jsonl":
            frame = pl.read_ndjson(path, infer_schema_length=None)
        else:
            frame = pl.read_json(path, infer_schema_length=None)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read as {fmt}: {_first_line(exc)}", file=path) from None
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


@dataclass
class PriceFile(Source[pl.DataFrame]):
    """Daily bars from one file: one ticker per file or a long file with a ticker column."""

    path: Path
    ticker: str | None = None
    exchange_of: ExchangeOf = field(default=calendar.exchange_for)
    start: dt.date | None = None
    end: dt.date | None = None
    allow_unfinished: bool = False

    def fetch_raw(self) -> pl.DataFrame:
        file = str(self.path)
        return read_table(self.path, lambda h: check_header(h, file, BARS_REQUIRED, BARS_OPTIONAL))

    def parse(self, raw: pl.DataFrame) -> ParsedBars:
        """The file's bars; those of a session not closed yet are left out unless allowed.

        A file cannot say when it was downloaded, so "not closed yet" is judged now
        (:func:`stockbrief.calendar.now`), when the file is read.
        """
        return parse_bars(
            raw,
            str(self.path),
            ticker=self.ticker,
            exchange_of=self.exchange_of,
            start=self.start,
            end=self.end,
            allow_unfinished=self.allow_unfinished,
        )

    def load(self) -> ParsedBars:
        return self.parse(self.fetch_raw())


@dataclass
class ActionFile(Source[pl.DataFrame]):
    """Splits and dividends from one file (columns ``[ticker,] date, kind, value``)."""

    path: Path
    ticker: str | None = None
    exchange_of: ExchangeOf = field(default=calendar.exchange_for)

    def fetch_raw(self) -> pl.DataFrame:
        file = str(self.path)
        return read_table(
            self.path, lambda h: check_header(h, file, ACTIONS_REQUIRED, ACTIONS_OPTIONAL)
        )

    def parse(self, raw: pl.DataFrame) -> Parsed:
        return parse_actions(raw, str(self.path), ticker=self.ticker, exchange_of=self.exchange_of)
