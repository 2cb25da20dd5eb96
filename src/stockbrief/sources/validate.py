"""Row-level validation: raw tables in, model-schema frames out, or an error naming the row.

Every check is vectorised (one Polars pass per rule) and reports the first failing row, with its
field and the number of other rows failing the same rule, so a user can fix a file in one go.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import polars as pl

from stockbrief import calendar, model
from stockbrief.errors import InputError
from stockbrief.sources.base import Parsed

ROW: Final = "_row"
FILE: Final = "_file"

OHLC_TOLERANCE: Final = 1e-5
"""Relative slack for open/close inside [low, high]: adjusted sources round fields separately."""

_DATE_PATTERN: Final = r"^\d{4}-\d{2}-\d{2}([ T].*)?$"
_IGNORED_COLUMNS: Final = frozenset({"adj_close", "adjclose"})
_ALIASES: Final = {"symbol": "ticker", "adj_close": "adj_close", "adjclose": "adj_close"}

_PARTIAL_HINT: Final = (
    "; the last row of a download is often a partial session: --to YYYY-MM-DD leaves it out"
)

ExchangeOf = Callable[[str], str]

MAX_VOLUME: Final = 1e18
"""Volumes are stored as 64-bit integers; no session trades anywhere near this many shares."""


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


def session_checks(frame: pl.DataFrame, exchange_of: ExchangeOf) -> list[Check]:
    """One check per exchange: every date must be a session of that exchange's calendar."""
    checks = []
    tickers = frame["ticker"].unique().to_list()
    by_exchange: dict[str, list[str]] = {}
    for t in tickers:
        by_exchange.setdefault(exchange_of(t), []).append(t)
    for exchange, members in sorted(by_exchange.items()):
        sessions = calendar.sessions(exchange)
        mine = pl.col("ticker").is_in(members) if len(by_exchange) > 1 else pl.lit(True)
        checks.append(
            Check(
                "date",
                mine & ~pl.col("date").is_in(sessions.implode()),
                f"not a trading session of {exchange} (weekend, holiday or outside the calendar);"
                " pass --exchange if the ticker trades elsewhere",
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


def parse_bars(
    raw: pl.DataFrame,
    file: str,
    *,
    ticker: str | None = None,
    exchange_of: ExchangeOf = calendar.exchange_for,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Parsed:
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
    """
    frame = canonical_columns(raw, file)
    check_columns(
        frame, file, ["date", "open", "high", "low", "close", "volume"], ["ticker", "adj_close"]
    )
    frame = parse_dates(frame, file)
    frame, filtered = filter_dates(frame, start, end)
    frame = parse_numbers(frame, file, [*model.PRICE_FIELDS, "volume"], _PARTIAL_HINT)
    frame = attach_ticker(frame, file, ticker)
    o, h, lo, c, v = (pl.col(n) for n in ("open", "high", "low", "close", "volume"))
    slack = h * OHLC_TOLERANCE
    checks = [
        *(Check(f, pl.col(f) <= 0, "price must be positive") for f in model.PRICE_FIELDS),
        Check("high", h < lo, "high is below low"),
        Check("open", (o > h + slack) | (o < lo - slack), "open is outside [low, high]"),
        Check("close", (c > h + slack) | (c < lo - slack), "close is outside [low, high]"),
        Check("volume", v < 0, "volume must not be negative"),
        Check("volume", v != v.round(0), "volume must be a whole number of shares"),
        Check("volume", v >= MAX_VOLUME, f"volume must be below {MAX_VOLUME:.0e} shares"),
        duplicate_check(frame, model.BARS_KEY),
        *session_checks(frame, exchange_of),
    ]
    run_checks(frame, file, checks, hint=_PARTIAL_HINT)
    out = frame.select(
        *(pl.col(n).cast(t) for n, t in model.BARS.items()),
        pl.col(ROW),
        pl.lit(file, dtype=pl.Categorical).alias(FILE),
    )
    return Parsed(out, filtered)


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
    check_columns(frame, file, ["date", "kind", "value"], ["ticker"])
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
    value = pl.col("__value")
    checks = [
        Check("value", pl.col("value").is_null(), "empty value"),
        Check(
            "value",
            pl.col("value").is_not_null() & (value.is_null() | ~value.is_finite()),
            "not a number (a split may also be written 2:1 or 2-for-1)",
        ),
        Check("value", value <= 0, "must be positive"),
        duplicate_check(frame, model.ACTIONS_KEY),
        *session_checks(frame, exchange_of),
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
        fixed = override.strip().upper()
        calendar.sessions(fixed)  # fail early on an unknown exchange
        return lambda _ticker: fixed
    return lambda ticker: known.get(ticker) or calendar.exchange_for(ticker)


@dataclass(frozen=True)
class TableSpec:
    """How to validate a file into one model table.

    ``required`` columns must be present and non-empty; every other schema column is optional
    and null when absent. ``aliases`` map alternative column names to schema names.
    """

    schema: Mapping[str, pl.DataType]
    key: tuple[str, ...]
    required: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)


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
        [Check(column, pl.col("__ts").is_null(), "not a timestamp; expected ISO 8601")],
    )
    return out.with_columns(pl.col("__ts").alias(column)).drop("__ts")


def parse_table(
    raw: pl.DataFrame,
    file: str,
    spec: TableSpec,
    *,
    ticker: str | None = None,
    checks: Sequence[Check] = (),
    keep: Sequence[str] = (),
) -> Parsed:
    """Validate a raw table into the rows of ``spec.schema``.

    ``keep`` names extra raw columns to pass through (validated by the caller), such as the
    ticker list of a news item.
    """
    frame = canonical_columns(raw, file)
    frame = frame.rename({a: s for a, s in spec.aliases.items() if a in frame.columns})
    optional = [c for c in spec.schema if c not in spec.required] + list(keep)
    check_columns(frame, file, list(spec.required), optional)
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
        if dtype == pl.Date:
            frame = parse_dates(frame, file, name, allow_empty=True)
        elif isinstance(dtype, pl.Datetime):
            frame = _parse_timestamps(frame, file, name)
        elif dtype in (pl.Float64, pl.Int64):
            frame = _optional_numbers(frame, file, [name])
            if dtype == pl.Int64:
                run_checks(
                    frame,
                    file,
                    [Check(name, pl.col(name) != pl.col(name).round(0), "must be a whole number")],
                )
        else:
            frame = frame.with_columns(
                pl.col(name).cast(pl.String).str.strip_chars().replace("", None)
            )
    run_checks(frame, file, [*checks, duplicate_check(frame, spec.key)])
    out = frame.select(
        *(pl.col(n).cast(t) for n, t in spec.schema.items()),
        *(pl.col(k) for k in keep if k in frame.columns),
        pl.col(ROW),
        pl.lit(file, dtype=pl.Categorical).alias(FILE),
    )
    return Parsed(out, 0)


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
    ),
    "consensus": TableSpec(
        model.CONSENSUS,
        model.CONSENSUS_KEY,
        ("ticker", "date"),
        {"strongbuy": "strong_buy", "strongsell": "strong_sell", "mean_target": "target_mean"},
    ),
    "news": TableSpec(model.NEWS, model.NEWS_KEY, ("published_at", "headline")),
    "securities": TableSpec(model.SECURITIES, model.SECURITIES_KEY, ("ticker",)),
    "kpis": TableSpec(
        model.KPIS,
        model.KPIS_KEY,
        ("ticker", "period_end", "name", "value"),
        {"date": "period_end"},
    ),
}
"""The tables ingested through :func:`parse_table`, by ingest kind."""


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
    if "tickers" not in frame.columns:
        links = pl.DataFrame(schema={"id": pl.String, "ticker": pl.String, ROW: pl.Int64})
    else:
        tickers = pl.col("tickers")
        if frame.schema["tickers"] != pl.List(pl.String):
            # "BIDU, BABA", "BIDU;BABA" or '["BIDU", "BABA"]' all name two subjects.
            tickers = tickers.cast(pl.String).str.replace_all(r"[\[\]\"';\s]+", ",").str.split(",")
        links = (
            frame.select("id", tickers.alias("ticker"), ROW)
            .explode("ticker")
            .with_columns(pl.col("ticker").str.strip_chars())
            .filter(pl.col("ticker").is_not_null() & (pl.col("ticker") != ""))
        )
    file = str(frame[FILE][0]) if frame.height else ""
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
