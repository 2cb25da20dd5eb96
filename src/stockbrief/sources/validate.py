"""Row-level validation: raw tables in, model-schema frames out, or an error naming the row.

Every check is vectorised (one Polars pass per rule) and reports the first failing row, with its
field and the number of other rows failing the same rule, so a user can fix a file in one go.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, Protocol

import polars as pl

from stockbrief import calendar, model
from stockbrief.errors import InputError
from stockbrief.sources.base import Parsed

ROW: Final = "_row"
FILE: Final = "_file"

OHLC_TOLERANCE: Final = 1e-5
"""Relative slack for open/close inside [low, high]: adjusted sources round fields separately."""

_TIME_PATTERN: Final = r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?"
_DATE_PATTERN: Final = rf"^\d{{4}}-\d{{2}}-\d{{2}}([ T]{_TIME_PATTERN})?$"
_IGNORED_COLUMNS: Final = frozenset({"adj_close", "adjclose"})
_ALIASES: Final = {"symbol": "ticker", "adj_close": "adj_close", "adjclose": "adj_close"}

_PARTIAL_HINT: Final = (
    "; the last row of a download is often a partial session: --to YYYY-MM-DD leaves it out"
)

ExchangeOf = Callable[[str], str]

MAX_VOLUME: Final = 1e18
"""Volumes are stored as 64-bit integers; no session trades anywhere near this many shares."""

MAX_PRICE: Final = 1e9
"""No share trades near a billion per share in any currency; a larger number is a unit or typing
mistake, and products of such prices overflow in adjustment and volatility."""

MIN_SPLIT: Final = 1e-3
MAX_SPLIT: Final = 1e3
"""Split ratios (new shares per old share) from 1-for-1000 to 1000-for-1 cover every recorded
split and reverse split; anything outside is a mistyped value that would wreck adjusted prices."""

MAX_ANALYSTS: Final = 1000
"""No stock is covered by a thousand analysts; a larger count is not a count of analysts."""

MAX_WHOLE: Final = 2**53
"""Whole numbers above this are not exact as floats and do not fit a count."""

BARS_REQUIRED: Final = ("date", "open", "high", "low", "close", "volume")
BARS_OPTIONAL: Final = ("ticker", "adj_close")
ACTIONS_REQUIRED: Final = ("date", "kind", "value")
ACTIONS_OPTIONAL: Final = ("ticker",)


@dataclass(frozen=True)
class Check:
    """One rule: rows where ``failing`` is true are rejected with ``reason`` on ``field``."""

    field: str
    failing: pl.Expr
    reason: str


def canonical_columns(frame: pl.DataFrame, file: str = "") -> pl.DataFrame:
    """Match column names case-insensitively: ``Adj Close`` -> ``adj_close``.

    Raises
    ------
    InputError
        When two columns name the same field (``Close`` and ``close``).
    """
    renamed: dict[str, str] = {}
    for name in frame.columns:
        key = "_".join(name.strip().lower().split())
        canonical = _ALIASES.get(key, key)
        twin = next((old for old, new in renamed.items() if new == canonical), None)
        if twin is not None:
            raise InputError(
                f"columns {twin!r} and {name!r} both name the field {canonical!r}; keep one",
                file=file or None,
                field=canonical,
            )
        renamed[name] = canonical
    return frame.rename(renamed)


def check_columns(
    frame: pl.DataFrame, file: str, required: Sequence[str], optional: Sequence[str]
) -> None:
    """Refuse missing and unknown columns, naming them and the expected ones."""
    present = [c for c in frame.columns if c not in (ROW, FILE)]
    missing = [c for c in required if c not in present]
    expected = ", ".join(required) + (f" (optional: {', '.join(optional)})" if optional else "")
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected {expected}", file=file)
    unknown = [
        c for c in present if c not in required and c not in optional and c not in _IGNORED_COLUMNS
    ]
    if unknown:
        raise InputError(f"unknown column(s) {', '.join(unknown)}; expected {expected}", file=file)


def check_header(
    header: pl.DataFrame,
    file: str,
    required: Sequence[str],
    optional: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> None:
    """The column checks of a parser, run on a file's header alone before its rows are read.

    A file with the wrong columns is refused at once, however large it is.
    """
    frame = canonical_columns(header, file)
    frame = frame.rename({a: s for a, s in (aliases or {}).items() if a in frame.columns})
    check_columns(frame, file, required, optional)


_FLAT_LISTS: Final = (pl.String, pl.Null)


def check_flat(frame: pl.DataFrame, file: str, lists: Sequence[str] = ()) -> None:
    """Refuse columns of nested or binary values (a JSON object or array, a Parquet list).

    Each cell must hold one number, date or piece of text; ``lists`` names the columns that
    may hold a list of text instead (the tickers of a news item).
    """
    for name, dtype in frame.schema.items():
        if name in lists and isinstance(dtype, pl.List) and dtype.inner in _FLAT_LISTS:
            continue
        if not (dtype.is_nested() or dtype in (pl.Binary, pl.Object)):
            continue
        rows = frame.filter(pl.col(name).is_not_null())[ROW]
        allowed = f"; only {', '.join(lists)} may hold a list of text" if lists else ""
        raise InputError(
            f"holds nested or binary values ({dtype}); expected one number, date or text per"
            f" cell{allowed}",
            file=file,
            row=int(rows[0]) if rows.len() else None,
            field=name,
        )


def run_checks(frame: pl.DataFrame, file: str, checks: Sequence[Check], hint: str = "") -> None:
    """Raise for the earliest row failing any check."""
    if frame.is_empty() or not checks:
        return
    masks = frame.select(
        *(c.failing.fill_null(False).alias(f"c{i}") for i, c in enumerate(checks)), pl.col(ROW)
    )
    worst: tuple[int, int, int] | None = None
    for i, _ in enumerate(checks):
        bad = masks.filter(pl.col(f"c{i}"))
        if bad.height:
            first = int(bad[ROW].min())  # type: ignore[arg-type]
            if worst is None or first < worst[0]:
                worst = (first, i, bad.height)
    if worst is None:
        return
    row, i, count = worst
    others = f" ({count - 1} more rows fail this check)" if count > 1 else ""
    last_row = int(frame[ROW].max())  # type: ignore[arg-type]
    tail = hint if row == last_row and hint else ""
    raise InputError(checks[i].reason + others + tail, file=file, row=row, field=checks[i].field)


def parse_dates(
    frame: pl.DataFrame, file: str, column: str = "date", *, allow_empty: bool = False
) -> pl.DataFrame:
    """Turn a column into ``pl.Date``; ``YYYY-MM-DD`` with an optional time part.

    With ``allow_empty`` an empty cell becomes null instead of an error.
    """
    dtype = frame.schema[column]
    empty = pl.lit(False)
    if dtype == pl.Date:
        parsed = pl.col(column)
    elif isinstance(dtype, pl.Datetime):
        parsed = pl.col(column).dt.date()
    else:
        text = pl.col(column).cast(pl.String).str.strip_chars()
        empty = text.is_null() | (text == "")
        parsed = (
            pl.when(text.str.contains(_DATE_PATTERN))
            .then(text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
            .otherwise(None)
        )
    failing = pl.col("__date").is_null() & (~empty if allow_empty else pl.lit(True))
    out = frame.with_columns(parsed.alias("__date"))
    run_checks(out, file, [Check(column, failing, "not a date; expected YYYY-MM-DD")])
    return out.with_columns(pl.col("__date").alias(column)).drop("__date")


def parse_numbers(
    frame: pl.DataFrame, file: str, columns: Sequence[str], hint: str = ""
) -> pl.DataFrame:
    """Cast to Float64, refusing empty cells and text that is not a finite number."""
    checks = []
    casts = []
    for c in columns:
        number = pl.col(f"__{c}")
        if frame.schema[c] == pl.String:
            empty = pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")
        else:
            empty = pl.col(c).is_null()
        casts.append(pl.col(c).cast(pl.Float64, strict=False).alias(f"__{c}"))
        checks.append(Check(c, empty, "empty value"))
        checks.append(
            Check(c, ~empty & (number.is_null() | ~number.is_finite()), "not a finite number")
        )
    out = frame.with_columns(casts)
    run_checks(out, file, checks, hint)
    return out.with_columns(pl.col(f"__{c}").alias(c) for c in columns).drop(
        f"__{c}" for c in columns
    )


def attach_ticker(frame: pl.DataFrame, file: str, ticker: str | None) -> pl.DataFrame:
    """Ticker from ``--ticker``, else the ticker column, else the file name; checked."""
    if ticker is not None:
        frame = frame.with_columns(pl.lit(calendar.normalize_ticker(ticker)).alias("ticker"))
    elif "ticker" not in frame.columns:
        stem = Path(file).name.split(".csv")[0].split(".parquet")[0].split(".json")[0]
        try:
            name = calendar.normalize_ticker(stem)
        except InputError:
            raise InputError(
                f"no ticker column and the file name {stem!r} is not a ticker; pass --ticker",
                file=file,
            ) from None
        frame = frame.with_columns(pl.lit(name).alias("ticker"))
    else:
        run_checks(frame, file, [Check("ticker", pl.col("ticker").is_null(), "empty ticker")])
        raw = frame["ticker"].cast(pl.String).unique()
        mapping = {}
        for value in raw.to_list():
            try:
                mapping[value] = calendar.normalize_ticker(value)
            except InputError as exc:
                row = frame.filter(pl.col("ticker") == value)[ROW][0]
                raise InputError(exc.reason, file=file, row=row, field="ticker") from None
        frame = frame.with_columns(pl.col("ticker").cast(pl.String).replace_strict(mapping))
    return frame


def filter_dates(
    frame: pl.DataFrame, start: dt.date | None, end: dt.date | None
) -> tuple[pl.DataFrame, int]:
    """Keep rows within [start, end] and count the rest, so no row is lost silently."""
    if start is None and end is None:
        return frame, 0
    keep = pl.lit(True)
    if start is not None:
        keep = keep & (pl.col("date") >= start)
    if end is not None:
        keep = keep & (pl.col("date") <= end)
    kept = frame.filter(keep)
    return kept, frame.height - kept.height


def exchanges_of(frame: pl.DataFrame, file: str, exchange_of: ExchangeOf) -> dict[str, str]:
    """The exchange of every ticker in the frame; an unknown one is reported at its first row."""
    found = {}
    for ticker in frame["ticker"].unique(maintain_order=True).to_list():
        try:
            found[ticker] = exchange_of(ticker)
        except InputError as exc:
            row = frame.filter(pl.col("ticker") == ticker)[ROW].min()
            raise InputError(exc.reason, file=file, row=row, field="ticker") from None  # type: ignore[arg-type]
    return found


def _by_exchange(exchanges: Mapping[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for ticker, exchange in exchanges.items():
        grouped.setdefault(exchange, []).append(ticker)
    return dict(sorted(grouped.items()))


def _members(grouped: Mapping[str, list[str]], key: str) -> pl.Expr:
    return pl.col("ticker").is_in(grouped[key]) if len(grouped) > 1 else pl.lit(True)


def session_checks(exchanges: Mapping[str, str]) -> list[Check]:
    """One check per exchange: every date must be a session of that exchange's calendar."""
    grouped = _by_exchange(exchanges)
    return [
        Check(
            "date",
            _members(grouped, exchange)
            & ~pl.col("date").is_in(calendar.sessions(exchange).implode()),
            f"not a trading session of {exchange} (weekend, holiday or outside the calendar);"
            " pass --exchange if the ticker trades elsewhere",
        )
        for exchange in grouped
    ]


def future_checks(
    exchanges: Mapping[str, str],
    column: str = "date",
    why: str = "a future-dated row cannot be known yet; correct the date or leave the row out",
) -> list[Check]:
    """One check per exchange: no row may be dated after today at that exchange.

    A row dated in the future cannot be known yet: it is a typo or a wrong year, and stored it
    would leak into every brief as of a later day. Today is read from
    :func:`stockbrief.calendar.today` in the exchange's time zone, so Hong Kong's Tuesday is
    not refused while it is still Monday in New York. An exchange of ``""`` (unknown) is held
    to the latest date anywhere on Earth, which refuses only what is future everywhere.
    """
    grouped = _by_exchange(exchanges)
    checks = []
    for exchange in grouped:
        today = calendar.today(exchange) if exchange else calendar.today_anywhere()
        where = f"at {exchange}" if exchange else "anywhere"
        checks.append(
            Check(
                column,
                _members(grouped, exchange) & (pl.col(column) > today),
                f"dated after today ({today} {where}): {why}",
            )
        )
    return checks


def duplicate_check(frame: pl.DataFrame, key: Sequence[str]) -> Check:
    """Rows whose key already occurred on an earlier row of the same file.

    Files are usually sorted by ticker and date; then a strictly increasing key proves there
    are no duplicates without hashing every row.
    """
    reason = f"duplicate ({', '.join(key)}): the same key appears on an earlier row"
    if frame.height < 2:
        return Check(key[-1], pl.lit(False), reason)
    increasing = pl.lit(False)
    for i, name in enumerate(key):
        step = pl.col(name) > pl.col(name).shift(1)
        for earlier in key[:i]:
            step = step & (pl.col(earlier) == pl.col(earlier).shift(1))
        increasing = increasing | step
    if frame.select(increasing.slice(1).all()).item():
        return Check(key[-1], pl.lit(False), reason)
    ordered = frame.select(*key, ROW).sort([*key, ROW])
    same = pl.all_horizontal(pl.col(k) == pl.col(k).shift(1) for k in key).fill_null(False)
    repeated = ordered.filter(same)[ROW]
    return Check(key[-1], pl.col(ROW).is_in(repeated.implode()), reason)


@dataclass(frozen=True)
class Unfinished:
    """Bars of sessions that had not closed when the data were read: how many, and the first.

    Such a bar is a snapshot taken during trading (the last row of a download made before the
    close): stored, it would stand in every brief as the session's final bar.
    """

    count: int
    file: str
    row: int
    ticker: str
    day: dt.date
    exchange: str
    close: dt.datetime
    """When the session closes, UTC."""
    stored: bool = False
    """Stored as they stand (asked for with ``--allow-unfinished``) rather than left out."""

    def __add__(self, other: Unfinished) -> Unfinished:
        return replace(self, count=self.count + other.count)

    def describe(self) -> str:
        """Where the first one is and when its session closes, in the exchange's time."""
        first = "first: " if self.count > 1 else ""
        closes = calendar.local_time(self.exchange, self.close)
        return (
            f"{first}{self.file} row {self.row}, {self.ticker} on {self.day}, whose"
            f" {self.exchange} session closes at {closes}"
        )


@dataclass(frozen=True)
class ParsedBars(Parsed):
    """Validated bars, and the bars of unfinished sessions found among them (if any)."""

    unfinished: Unfinished | None = None


def _unfinished(
    frame: pl.DataFrame,
    file: str,
    exchanges: Mapping[str, str],
    at: dt.datetime | None,
    keep: bool,
) -> tuple[pl.DataFrame, Unfinished | None]:
    """The bars of sessions still open at ``at`` (on each ticker's calendar), left out unless
    ``keep``, with a note of the first one.

    Only the session of each exchange's current day can be open, so this is one comparison per
    exchange; later dates are future rows, which :func:`future_checks` refuses.
    """
    grouped = _by_exchange(exchanges)
    found: list[tuple[pl.Expr, str, dt.date, dt.datetime]] = []
    for exchange in grouped:
        session = calendar.unfinished_session(exchange, at)
        if session is not None:
            day, close = session
            mask = _members(grouped, exchange) & (pl.col("date") == day)
            found.append((mask, exchange, day, close))
    if not found:
        return frame, None
    masks = frame.select(*(m.alias(f"u{i}") for i, (m, *_) in enumerate(found)), pl.col(ROW))
    first: tuple[int, int] | None = None
    count = 0
    for i in range(len(found)):
        rows = masks.filter(pl.col(f"u{i}"))[ROW]
        count += rows.len()
        if rows.len() and (first is None or int(rows.min()) < first[0]):  # type: ignore[arg-type]
            first = (int(rows.min()), i)  # type: ignore[arg-type]
    if first is None:
        return frame, None
    row, i = first
    _, exchange, day, close = found[i]
    name = str(frame.filter(pl.col(ROW) == row)["ticker"][0])
    note = Unfinished(count, file, row, name, day, exchange, close, stored=keep)
    if keep:
        return frame, note
    open_now = pl.any_horizontal(m for m, *_ in found)
    return frame.filter(~open_now), note


def parse_bars(
    raw: pl.DataFrame,
    file: str,
    *,
    ticker: str | None = None,
    exchange_of: ExchangeOf = calendar.exchange_for,
    start: dt.date | None = None,
    end: dt.date | None = None,
    allow_unfinished: bool = False,
    at: dt.datetime | None = None,
) -> ParsedBars:
    """Validate a raw price table into :data:`stockbrief.model.BARS` rows.

    Parameters
    ----------
    raw
        The table as read, with a ``_row`` column (1-based data row).
    file
        Name used in error messages.
    ticker
        Overrides the ticker column and the file name.
    exchange_of
        Maps a ticker to the exchange whose sessions its dates must be.
    start, end
        Inclusive date filter applied before the value checks; removed rows are counted.
    allow_unfinished
        Keep bars of sessions that had not closed at ``at`` (they are still noted).
    at
        When the data were taken (a download's time); default :func:`stockbrief.calendar.now`.

    Notes
    -----
    A bar dated on a session whose close (by the exchange calendar, early closes included) is
    still ahead at ``at`` is left out, before its values are checked (a partial bar is often
    incomplete), and reported in ``unfinished``. A bar cannot say whether it is partial, so a
    file downloaded during trading and read after the close passes as final.
    """
    frame = canonical_columns(raw, file)
    check_columns(frame, file, BARS_REQUIRED, BARS_OPTIONAL)
    check_flat(frame, file)
    frame = parse_dates(frame, file)
    frame, filtered = filter_dates(frame, start, end)
    frame = attach_ticker(frame, file, ticker)
    exchanges = exchanges_of(frame, file, exchange_of)
    frame, unfinished = _unfinished(frame, file, exchanges, at, allow_unfinished)
    frame = parse_numbers(frame, file, [*model.PRICE_FIELDS, "volume"], _PARTIAL_HINT)
    o, h, lo, c, v = (pl.col(n) for n in ("open", "high", "low", "close", "volume"))
    slack = h * OHLC_TOLERANCE
    checks = [
        *(Check(f, pl.col(f) <= 0, "price must be positive") for f in model.PRICE_FIELDS),
        *(
            Check(f, pl.col(f) >= MAX_PRICE, f"price must be below {MAX_PRICE:.0e}")
            for f in model.PRICE_FIELDS
        ),
        Check("high", h < lo, "high is below low"),
        Check("open", (o > h + slack) | (o < lo - slack), "open is outside [low, high]"),
        Check("close", (c > h + slack) | (c < lo - slack), "close is outside [low, high]"),
        Check("volume", v < 0, "volume must not be negative"),
        Check("volume", v != v.round(0), "volume must be a whole number of shares"),
        Check("volume", v >= MAX_VOLUME, f"volume must be below {MAX_VOLUME:.0e} shares"),
        duplicate_check(frame, model.BARS_KEY),
        *future_checks(exchanges),
        *session_checks(exchanges),
    ]
    run_checks(frame, file, checks, hint=_PARTIAL_HINT)
    out = frame.select(
        *(pl.col(n).cast(t) for n, t in model.BARS.items()),
        pl.col(ROW),
        pl.lit(file, dtype=pl.Categorical).alias(FILE),
    )
    return ParsedBars(out, filtered, unfinished)


_KIND_ALIASES: Final = {
    "split": "split",
    "splits": "split",
    "stock_split": "split",
    "stock_splits": "split",
    "dividend": "dividend",
    "dividends": "dividend",
    "cash_dividend": "dividend",
}


def parse_actions(
    raw: pl.DataFrame,
    file: str,
    *,
    ticker: str | None = None,
    exchange_of: ExchangeOf = calendar.exchange_for,
) -> Parsed:
    """Validate a raw table of splits and dividends into :data:`stockbrief.model.ACTIONS` rows.

    ``value`` is a number, or for splits a ratio written ``2:1`` or ``2-for-1`` (new for old).
    """
    frame = canonical_columns(raw, file)
    check_columns(frame, file, ACTIONS_REQUIRED, ACTIONS_OPTIONAL)
    check_flat(frame, file)
    frame = parse_dates(frame, file)
    kind = (
        pl.col("kind")
        .cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace_all(" ", "_")
    )
    frame = frame.with_columns(kind.replace_strict(_KIND_ALIASES, default=None).alias("__kind"))
    run_checks(
        frame,
        file,
        [Check("kind", pl.col("__kind").is_null(), "unknown kind; expected split or dividend")],
    )
    text = pl.col("value").cast(pl.String).str.strip_chars().str.to_lowercase()
    ratio = text.str.extract_groups(r"^([0-9.]+)\s*(?::|-for-|for|/)\s*([0-9.]+)$")
    frame = frame.with_columns(
        pl.when(pl.col("__kind") == "split")
        .then(
            ratio.struct.field("1").cast(pl.Float64, strict=False)
            / ratio.struct.field("2").cast(pl.Float64, strict=False)
        )
        .otherwise(None)
        .alias("__ratio")
    )
    frame = frame.with_columns(
        pl.coalesce(pl.col("__ratio"), text.cast(pl.Float64, strict=False)).alias("__value"),
        pl.col("__kind").alias("kind"),
    )
    frame = attach_ticker(frame, file, ticker)
    exchanges = exchanges_of(frame, file, exchange_of)
    value = pl.col("__value")
    split = pl.col("__kind") == "split"
    checks = [
        Check("value", pl.col("value").is_null(), "empty value"),
        Check(
            "value",
            pl.col("value").is_not_null() & (value.is_null() | ~value.is_finite()),
            "not a number (a split may also be written 2:1 or 2-for-1)",
        ),
        Check("value", value <= 0, "must be positive"),
        Check(
            "value",
            split & ((value < MIN_SPLIT) | (value > MAX_SPLIT)),
            "split ratio outside 1/1000 to 1000 (new shares per old share: 2 for a 2-for-1"
            " split, 0.1 for a 1-for-10 reverse split); check the value",
        ),
        Check(
            "value",
            ~split & (value >= MAX_PRICE),
            f"dividend must be below {MAX_PRICE:.0e}: a dividend is cash per share",
        ),
        duplicate_check(frame, model.ACTIONS_KEY),
        *session_checks(exchanges),
        # Stored early, an announced split would adjust the bars before it takes effect.
        *future_checks(
            exchanges, why="an action counts from its ex-date; ingest it once that session traded"
        ),
    ]
    run_checks(frame, file, checks)
    out = frame.with_columns(value.alias("value")).select(
        *(pl.col(n).cast(t) for n, t in model.ACTIONS.items()),
        pl.col(ROW),
        pl.lit(file, dtype=pl.Categorical).alias(FILE),
    )
    return Parsed(out, 0)


def exchange_lookup(known: Mapping[str, str], override: str | None) -> ExchangeOf:
    """Exchange per ticker: the override, else the stored securities, else the ticker suffix."""
    if override is not None:
        fixed = calendar.check_exchange(override)
        return lambda _ticker: fixed
    return lambda ticker: known.get(ticker) or calendar.exchange_for(ticker)


@dataclass(frozen=True)
class TableSpec:
    """How to validate a file into one model table.

    ``required`` columns must be present and non-empty; every other schema column is optional
    and null when absent. ``aliases`` map alternative column names to schema names. ``checks``
    are the table's value rules, ``dated`` the column that must not lie in the future, and
    ``codes`` map a column to the function that checks and normalises each of its values
    (an exchange or currency code).
    """

    schema: Mapping[str, pl.DataType]
    key: tuple[str, ...]
    required: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    dated: str | None = None
    codes: Mapping[str, Callable[[str], str]] = field(default_factory=dict)

    def check_header(self, header: pl.DataFrame, file: str, keep: Sequence[str] = ()) -> None:
        """:func:`check_header` with this table's columns."""
        optional = [c for c in self.schema if c not in self.required] + list(keep)
        check_header(header, file, self.required, optional, self.aliases)


def _optional_numbers(frame: pl.DataFrame, file: str, columns: Sequence[str]) -> pl.DataFrame:
    """Like :func:`parse_numbers`, but an empty cell is a null, not an error."""
    checks = []
    for c in columns:
        text = pl.col(c).cast(pl.String).str.strip_chars()
        number = text.cast(pl.Float64, strict=False)
        empty = text.is_null() | (text == "")
        checks.append(Check(c, ~empty & (number.is_null() | ~number.is_finite()), "not a number"))
    run_checks(frame, file, checks)
    return frame.with_columns(
        pl.col(c).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False) for c in columns
    )


def _parse_timestamps(frame: pl.DataFrame, file: str, column: str) -> pl.DataFrame:
    """ISO timestamps to UTC; a timestamp without an offset is taken as UTC, a bare date too."""
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Datetime):
        parsed = (
            pl.col(column).dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else pl.col(column).dt.convert_time_zone("UTC")
        )
    else:
        text = pl.col(column).cast(pl.String).str.strip_chars().str.replace(r"Z$", "+00:00")
        with_zone = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us")
        spaced = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f%:z", strict=False, time_unit="us")
        naive = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
        naive_spaced = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
        day = text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
        parsed = pl.coalesce(
            with_zone.dt.convert_time_zone("UTC"),
            spaced.dt.convert_time_zone("UTC"),
            naive.dt.replace_time_zone("UTC"),
            naive_spaced.dt.replace_time_zone("UTC"),
            day.dt.replace_time_zone("UTC"),
        )
    out = frame.with_columns(parsed.alias("__ts"))
    run_checks(
        out,
        file,
        [
            Check(
                column,
                # An empty cell is a null, refused by the required-column check where it matters.
                pl.col("__ts").is_null()
                & (pl.col(column).cast(pl.String).str.strip_chars().fill_null("") != ""),
                "not a timestamp; expected ISO 8601",
            )
        ],
    )
    return out.with_columns(pl.col("__ts").alias(column)).drop("__ts")


def _parse_column(frame: pl.DataFrame, file: str, name: str, dtype: pl.DataType) -> pl.DataFrame:
    """One schema column from text to its type; empty cells become nulls."""
    if dtype == pl.Date:
        return parse_dates(frame, file, name, allow_empty=True)
    if isinstance(dtype, pl.Datetime):
        return _parse_timestamps(frame, file, name)
    if dtype in (pl.Float64, pl.Int64):
        frame = _optional_numbers(frame, file, [name])
        if dtype == pl.Int64:
            x = pl.col(name)
            whole = [
                Check(name, x != x.round(0), "must be a whole number"),
                Check(
                    name,
                    x.abs() >= MAX_WHOLE,
                    f"too large: a whole number must be below {MAX_WHOLE:.0e}",
                ),
            ]
            run_checks(frame, file, whole)
        return frame
    return frame.with_columns(pl.col(name).cast(pl.String).str.strip_chars().replace("", None))


def check_security_type(raw: str) -> str:
    """A security type lower-cased and checked against :data:`model.SECURITY_TYPES`."""
    code = raw.strip().lower()
    if code in model.SECURITY_TYPES:
        return code
    known = ", ".join(model.SECURITY_TYPES)
    raise InputError(f"unknown security type {raw!r}; use one of {known}", field="type")


def check_codes(
    frame: pl.DataFrame, file: str, column: str, checker: Callable[[str], str]
) -> pl.DataFrame:
    """Check each distinct code of a column once, report the first bad one at its first row,
    and store the normalised codes."""
    mapping = {}
    for code in frame[column].drop_nulls().unique(maintain_order=True).to_list():
        try:
            mapping[code] = checker(code)
        except InputError as exc:
            row = frame.filter(pl.col(column) == code)[ROW].min()
            raise InputError(exc.reason, file=file, row=row, field=column) from None  # type: ignore[arg-type]
    if not mapping:
        return frame
    return frame.with_columns(pl.col(column).replace(mapping))


def _lenient_exchanges(frame: pl.DataFrame, exchange_of: ExchangeOf) -> dict[str, str]:
    """Each ticker's exchange, or ``""`` where it is unknown (a date needs no sessions)."""
    found = {}
    for ticker in frame["ticker"].unique(maintain_order=True).to_list():
        try:
            found[ticker] = exchange_of(ticker)
        except InputError:
            found[ticker] = ""
    return found


def _dated_checks(frame: pl.DataFrame, spec: TableSpec, exchange_of: ExchangeOf) -> list[Check]:
    """The no-future-dates rule of a table: UTC for timestamps, the exchange's day for dates."""
    column = spec.dated
    if column is None or frame.is_empty():
        return []
    if isinstance(spec.schema[column], pl.Datetime):
        today = calendar.today()
        return [
            Check(
                column,
                pl.col(column).dt.date() > today,
                f"dated after today ({today} UTC): a future-dated row cannot be known yet;"
                " correct the date or leave the row out",
            )
        ]
    return future_checks(_lenient_exchanges(frame, exchange_of), column)


def parse_table(
    raw: pl.DataFrame,
    file: str,
    spec: TableSpec,
    *,
    ticker: str | None = None,
    checks: Sequence[Check] = (),
    keep: Sequence[str] = (),
    exchange_of: ExchangeOf = calendar.exchange_for,
) -> Parsed:
    """Validate a raw table into the rows of ``spec.schema``.

    ``keep`` names extra raw columns to pass through (validated by the caller), such as the
    ticker list of a news item. ``exchange_of`` says in which time zone a ticker's "today"
    is, for the rule that no row is dated in the future.
    """
    frame = canonical_columns(raw, file)
    frame = frame.rename({a: s for a, s in spec.aliases.items() if a in frame.columns})
    optional = [c for c in spec.schema if c not in spec.required] + list(keep)
    check_columns(frame, file, list(spec.required), optional)
    check_flat(frame, file, lists=keep)
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in spec.schema if c not in frame.columns
    )
    if "ticker" in spec.schema and (ticker is not None or "ticker" in spec.required):
        frame = attach_ticker(frame, file, ticker)
    run_checks(
        frame,
        file,
        [
            Check(
                c,
                pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == ""),
                "empty value",
            )
            for c in spec.required
            if c != "ticker"
        ],
    )
    for name, dtype in spec.schema.items():
        frame = _parse_column(frame, file, name, dtype)
    for name, checker in spec.codes.items():
        frame = check_codes(frame, file, name, checker)
    rules = [*spec.checks, *checks, *_dated_checks(frame, spec, exchange_of)]
    run_checks(frame, file, [*rules, duplicate_check(frame, spec.key)])
    out = frame.select(
        *(pl.col(n).cast(t) for n, t in spec.schema.items()),
        *(pl.col(k) for k in keep if k in frame.columns),
        pl.col(ROW),
        pl.lit(file, dtype=pl.Categorical).alias(FILE),
    )
    return Parsed(out, 0)


def _positive_prices(*columns: str) -> tuple[Check, ...]:
    """A price target, where given, is a positive price below :data:`MAX_PRICE`."""
    return tuple(
        check
        for c in columns
        for check in (
            Check(c, pl.col(c) <= 0, "a price target must be positive"),
            Check(c, pl.col(c) >= MAX_PRICE, f"a price target must be below {MAX_PRICE:.0e}"),
        )
    )


def _analyst_counts(*columns: str) -> tuple[Check, ...]:
    """Counts of analysts: none negative or beyond :data:`MAX_ANALYSTS`, and not all zero.

    All-zero counts summarise no analysts at all; stored, they would read as a consensus.
    """
    given = pl.any_horizontal(pl.col(c).is_not_null() for c in columns)
    zero = pl.all_horizontal(pl.col(c).fill_null(0) == 0 for c in columns)
    return (
        *(Check(c, pl.col(c) < 0, "an analyst count must not be negative") for c in columns),
        *(
            Check(
                c,
                pl.col(c) > MAX_ANALYSTS,
                f"more than {MAX_ANALYSTS:,} analysts: a count is the number of analysts"
                " with that rating",
            )
            for c in columns
        ),
        Check(
            columns[0],
            given & zero,
            f"every count ({', '.join(columns)}) is zero, a summary of no analysts;"
            " leave the counts empty and give the label, or leave the row out",
        ),
    )


_TARGETS: Final = tuple(c for c in model.CONSENSUS if c.startswith("target_"))
_COUNTS: Final = tuple(c for c, t in model.CONSENSUS.items() if t == pl.Int64)


SPECS: Final[dict[str, TableSpec]] = {
    "ratings": TableSpec(
        model.RATINGS,
        model.RATINGS_KEY,
        ("ticker", "firm", "date", "rating"),
        {
            "grade": "rating",
            "to_grade": "rating",
            "from_grade": "prior_rating",
            "price_target": "target",
            "prior_price_target": "prior_target",
        },
        checks=_positive_prices("target", "prior_target"),
        dated="date",
    ),
    "consensus": TableSpec(
        model.CONSENSUS,
        model.CONSENSUS_KEY,
        ("ticker", "date"),
        {"strongbuy": "strong_buy", "strongsell": "strong_sell", "mean_target": "target_mean"},
        checks=(
            *_analyst_counts(*_COUNTS),
            *_positive_prices(*_TARGETS),
            Check(
                "target_high",
                pl.col("target_high") < pl.col("target_low"),
                "target_high is below target_low",
            ),
        ),
        dated="date",
    ),
    "news": TableSpec(
        model.NEWS, model.NEWS_KEY, ("published_at", "headline"), dated="published_at"
    ),
    "securities": TableSpec(
        model.SECURITIES,
        model.SECURITIES_KEY,
        ("ticker",),
        codes={
            "exchange": calendar.check_exchange,
            "currency": calendar.check_currency,
            "type": check_security_type,
        },
    ),
    "kpis": TableSpec(
        model.KPIS,
        model.KPIS_KEY,
        ("ticker", "period_end", "name", "value"),
        {"date": "period_end"},
        dated="period_end",
    ),
    "aliases": TableSpec(model.ALIASES, model.ALIASES_KEY, ("ticker", "alias")),
}
"""The tables ingested through :func:`parse_table`, by ingest kind."""


def _check_subjects(rows: pl.DataFrame, links: pl.DataFrame, file: str) -> None:
    """Every news item of a file with a ``tickers`` column must name at least one ticker.

    An item linked to no ticker never reaches a brief; refusing it says so, instead of storing
    it where nothing reads it.
    """
    bare = rows.filter(~pl.col(ROW).is_in(links[ROW].implode()))
    if bare.height:
        raise InputError(
            'no ticker in tickers; name the tickers the item is about (BABA or ["BABA", "BIDU"])',
            file=file,
            row=int(bare[ROW].min()),  # type: ignore[arg-type]
            field="tickers",
        )


def split_news(parsed: Parsed) -> tuple[pl.DataFrame, pl.DataFrame]:
    """News rows (with an id made from the url or the headline when none is given) and links.

    The ``tickers`` column holds the subjects of each item: a JSON list, or text separated by
    commas, semicolons or spaces.
    """
    frame = parsed.frame
    derived = pl.coalesce(
        pl.col("url"), pl.concat_str(pl.col("published_at").cast(pl.String), pl.col("headline"))
    ).map_elements(
        lambda text: hashlib.sha1(text.encode()).hexdigest()[:16], return_dtype=pl.String
    )
    frame = frame.with_columns(pl.coalesce(pl.col("id"), derived).alias("id"))
    file = str(frame[FILE][0]) if frame.height else ""
    if "tickers" not in frame.columns:
        if frame.height:
            # Stored with no subject, an item would never reach a brief.
            raise InputError(
                "news needs a tickers column naming the tickers each item is about"
                " (or --ticker for every item of the file)",
                file=file,
                field="tickers",
            )
        links = pl.DataFrame(schema={"id": pl.String, "ticker": pl.String, ROW: pl.Int64})
    else:
        tickers = pl.col("tickers")
        if frame.schema["tickers"] == pl.List(pl.Null):
            tickers = tickers.cast(pl.List(pl.String))
        elif frame.schema["tickers"] != pl.List(pl.String):
            # "BIDU, BABA", "BIDU;BABA" or '["BIDU", "BABA"]' all name two subjects.
            tickers = tickers.cast(pl.String).str.replace_all(r"[\[\]\"';\s]+", ",").str.split(",")
        links = (
            frame.select("id", tickers.alias("ticker"), ROW)
            .explode("ticker")
            .with_columns(pl.col("ticker").str.strip_chars())
            .filter(pl.col("ticker").is_not_null() & (pl.col("ticker") != ""))
        )
    if "tickers" in frame.columns:
        _check_subjects(frame.select(ROW), links, file)
    checked = []
    for row in links.iter_rows(named=True):
        try:
            checked.append((row["id"], calendar.normalize_ticker(row["ticker"]), "subject"))
        except InputError as exc:
            raise InputError(exc.reason, file=file, row=row[ROW], field="tickers") from None
    link_frame = pl.DataFrame(checked, schema=dict(model.NEWS_TICKERS), orient="row").unique(
        maintain_order=True
    )
    return frame.drop("tickers", strict=False), link_frame


class StoredRows(Protocol):
    """What the dividend checks read from the store: bars as traded and actions."""

    def bars(
        self,
        tickers: Sequence[str] | None = None,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> pl.DataFrame: ...

    def actions(self, tickers: Sequence[str] | None = None) -> pl.DataFrame: ...


CHECK_BATCH: Final = 500
"""Tickers whose stored bars are read at a time, so a universe of dividends needs bounded memory."""

_DIVIDEND_RULE: Final = (
    "a dividend is cash per share on the ex-date and must be below the close before it, or"
    " adjusted prices turn negative: check its value and currency (a split belongs in kind split)"
)


def _previous_closes(dividends: pl.DataFrame, bars: pl.DataFrame) -> pl.DataFrame:
    """Each dividend with the latest bar before its ex-date, as traded.

    Adds ``close`` and ``close_date`` (null when no bar precedes it) and, when the bars carry
    them, the ``close_row`` and ``close_file`` that bar came from.
    """
    origin = [pl.col(c).alias(f"close{c}") for c in (ROW, FILE) if c in bars.columns]
    right = bars.select("ticker", pl.col("date").alias("close_date"), "close", *origin).sort(
        "close_date"
    )
    return (
        dividends.sort("date")
        .join_asof(
            right,
            left_on="date",
            right_on="close_date",
            by="ticker",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .rename({f"close{ROW}": "close_row", f"close{FILE}": "close_file"}, strict=False)
    )


def _others(bad: pl.DataFrame) -> str:
    return f" ({bad.height - 1} more rows fail this check)" if bad.height > 1 else ""


def _close(row: Mapping[str, object]) -> float:
    return round(float(row["close"]), 4)  # type: ignore[arg-type]


def check_dividends(actions: pl.DataFrame, stored: StoredRows | None) -> None:
    """Refuse a dividend at or above the close of the bar before its ex-date.

    The store adjusts prices before an ex-date by ``1 - dividend / previous close``; a dividend
    at or above that close makes the factor zero or negative, and every adjusted price, return
    and brief that touches the ticker (and every universe statistic) goes wrong with it.

    A dividend with no earlier bar stored is accepted: there is no close to compare with, and
    the store's adjustment leaves such a dividend out (factor 1) until a close precedes it.
    When those bars arrive, :func:`check_closes_under_dividends` holds them to the same rule.

    Parameters
    ----------
    actions
        Validated action rows (``_row`` and ``_file`` name where each came from).
    stored
        The store to read bars from, or ``None`` for a store that does not exist yet.
    """
    dividends = actions.with_row_index("__i").filter(pl.col("kind") == "dividend")
    if dividends.is_empty() or stored is None:
        return
    bad = []
    tickers = dividends["ticker"].unique().sort().to_list()
    for start in range(0, len(tickers), CHECK_BATCH):
        mine = dividends.filter(pl.col("ticker").is_in(tickers[start : start + CHECK_BATCH]))
        last: dt.date = mine["date"].max()  # type: ignore[assignment]
        names = mine["ticker"].unique().to_list()
        bars = stored.bars(names, end=last - dt.timedelta(days=1))
        joined = _previous_closes(mine, bars.select("ticker", "date", "close"))
        bad.append(joined.filter(pl.col("value") >= pl.col("close")))
    failing = pl.concat(bad).sort("__i")
    if failing.is_empty():
        return
    first = failing.row(0, named=True)
    raise InputError(
        f"dividend {first['value']!r} on {first['date']} is not below the previous close"
        f" {_close(first)!r} ({first['close_date']}); {_DIVIDEND_RULE}{_others(failing)}",
        file=first[FILE],
        row=first[ROW],
        field="value",
    )


def check_closes_under_dividends(bars: pl.DataFrame, stored: StoredRows | None) -> None:
    """Refuse incoming bars that would become the previous close of a stored dividend at or
    below its amount (the rule of :func:`check_dividends`, seen from the bars' side).

    Only an incoming bar that is the latest incoming one before an ex-date and closes at or
    below the dividend can be at fault. Stored bars are read for those suspects alone (a stored
    bar between it and the ex-date is the previous close instead, and was there before), so
    neither the daily update nor a backfill reads the stored history.
    """
    if stored is None or bars.is_empty():
        return
    dividends = stored.actions(bars["ticker"].unique().sort().to_list()).filter(
        pl.col("kind") == "dividend"
    )
    if dividends.is_empty():
        return
    incoming = bars.filter(pl.col("ticker").is_in(dividends["ticker"].unique().implode()))
    incoming = incoming.select("ticker", "date", "close", ROW, FILE)
    suspects = _previous_closes(dividends, incoming).filter(pl.col("value") >= pl.col("close"))
    if suspects.is_empty():
        return
    start: dt.date = suspects["close_date"].min()  # type: ignore[assignment]
    last: dt.date = suspects["date"].max()  # type: ignore[assignment]
    names = suspects["ticker"].unique().sort().to_list()
    kept = stored.bars(names, start=start + dt.timedelta(days=1), end=last - dt.timedelta(days=1))
    window = pl.concat(
        [
            kept.join(incoming, on=["ticker", "date"], how="anti").select(
                "ticker",
                "date",
                "close",
                pl.lit(None, dtype=pl.Int64).alias(ROW),
                pl.lit(None, dtype=incoming.schema[FILE]).alias(FILE),
            ),
            incoming.filter(pl.col("ticker").is_in(names)),
        ]
    )
    joined = _previous_closes(suspects.select(dividends.columns), window)
    failing = joined.filter(
        pl.col("close_row").is_not_null() & (pl.col("value") >= pl.col("close"))
    ).sort("close_row")
    if failing.is_empty():
        return
    row = failing.row(0, named=True)
    raise InputError(
        f"close {_close(row)!r} on {row['close_date']} is not above the dividend"
        f" {row['value']!r} stored for {row['ticker']} on {row['date']}, the next ex-date;"
        f" {_DIVIDEND_RULE}{_others(failing)}",
        file=row["close_file"],
        row=row["close_row"],
        field="close",
    )
