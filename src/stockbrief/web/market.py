"""The market page's numbers: one row per stored ticker for a session, its breadth and sectors.

Read from the last rows the engine keeps with their indicators (through :func:`api.screen`,
which uses them when the saved state is current), the session's stored events and the
securities table, so the page costs a few small queries however long the histories are.
:func:`snapshot` reads them through one connection and keeps the result while the store file
is unchanged, so paging and sorting a 5,000-ticker table only slices a frame in memory.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from stockbrief import api
from stockbrief.detectors import MEANINGS

LABELS: Final[Mapping[str, str]] = {
    "cross_above_sma_50": "crossed above SMA 50",
    "cross_below_sma_50": "crossed below SMA 50",
    "breakout_confirmed_sma_50": "SMA 50 breakout held",
    "breakout_failed_sma_50": "SMA 50 breakout failed",
    "cross_above_sma_200": "crossed above SMA 200",
    "cross_below_sma_200": "crossed below SMA 200",
    "breakout_confirmed_sma_200": "SMA 200 breakout held",
    "breakout_failed_sma_200": "SMA 200 breakout failed",
    "golden_cross": "golden cross",
    "death_cross": "death cross",
    "volume_surge": "volume surge",
    "large_move_up": "large gain",
    "large_move_down": "large loss",
    "gap_up": "gap up",
    "gap_down": "gap down",
    "new_52w_high": "new 52-week high",
    "new_52w_low": "new 52-week low",
    "adx_trend_start": "ADX trend start",
    "stoch_oversold_cross": "stochastic cross up",
    "stoch_overbought_cross": "stochastic cross down",
    "sar_flip_up": "SAR flip up",
    "sar_flip_down": "SAR flip down",
    "obv_divergence_bull": "bullish OBV divergence",
    "obv_divergence_bear": "bearish OBV divergence",
    "donchian_breakout_up": "Donchian breakout",
    "donchian_breakout_down": "Donchian breakdown",
    "consensus_upgrade": "consensus upgrade",
    "consensus_downgrade": "consensus downgrade",
    "target_raised": "target raised",
    "target_lowered": "target lowered",
}
"""A chip's words for each event kind; :data:`MEANINGS` says what it means (its tooltip)."""

COLUMNS: Final = ("close", "return_1d", "volume", "rel_volume", "sma_50", "sma_200", "rsi_14")

_ALL_ROWS: Final = "close > 0 or (" + " and ".join(f"{c} > 0" for c in COLUMNS[1:]) + ")"
"""A screen every bar matches (a close is positive) that still returns every column named."""


@dataclass(frozen=True)
class Breadth:
    """How the session's tickers moved together."""

    tickers: int
    advancing: int
    declining: int
    unchanged: int
    above_200: int
    with_200: int
    new_highs: int
    new_lows: int


def table(store: api.StoreLike, as_of: dt.date | None, screens: Sequence[str] = ()) -> pl.DataFrame:
    """Every ticker with a bar on the latest session on or before ``as_of``.

    Columns: ticker, name, sector, peer_group, date, close, change (a fraction), volume,
    rel_volume, to_sma_50 and to_sma_200 (the close's distance from each, a fraction), rsi_14,
    events (the day's event kinds), event_labels (each in a few words) and event_meanings (what
    each means, in a sentence).
    """
    return tables(store, as_of, screens)[0]


def tables(
    store: api.StoreLike, as_of: dt.date | None, screens: Sequence[str]
) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """:func:`table`, and the tickers each of ``screens`` matches, from one read of the rows."""
    found = api.screens([_ALL_ROWS, *screens], as_of=as_of, store=store)
    matches = {name: found[name]["ticker"].to_list() for name in screens}
    return _table(store, pl.DataFrame(found[_ALL_ROWS])), matches


def _table(store: api.StoreLike, rows: pl.DataFrame) -> pl.DataFrame:
    frame = rows.select("ticker", "date", *COLUMNS)
    if frame.is_empty():
        return _joined(frame, _securities(store), _no_events())
    day = frame["date"].max()
    frame = frame.filter(pl.col("date") == day)
    assert isinstance(day, dt.date)
    found = api.events(as_of=day, since=day, store=store)
    return _joined(frame, _securities(store), found.select("ticker", "kind"))


def _no_events() -> pl.DataFrame:
    return pl.DataFrame(schema={"ticker": pl.String, "kind": pl.String})


def _securities(store: api.StoreLike) -> pl.DataFrame:
    with api.using_store(store, read_only=True) as db:
        stored = db.securities()
    return stored.select("ticker", "name", "sector", "peer_group")


def _joined(frame: pl.DataFrame, securities: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    kinds = list(MEANINGS)
    words = pl.DataFrame(
        {
            "kind": kinds,
            "label": [LABELS.get(k, MEANINGS[k]) for k in kinds],
            "meaning": [MEANINGS[k] for k in kinds],
        },
        schema={"kind": pl.String, "label": pl.String, "meaning": pl.String},
    )
    events = (
        found.sort("ticker", "kind")
        .join(words, on="kind", how="left")
        .with_columns(pl.col("label").fill_null(pl.col("kind").str.replace_all("_", " ")))
        .group_by("ticker", maintain_order=True)
        .agg(
            pl.col("kind").alias("events"),
            pl.col("label").alias("event_labels"),
            pl.col("meaning").fill_null("").alias("event_meanings"),
        )
    )
    return (
        frame.join(securities, on="ticker", how="left")
        .join(events, on="ticker", how="left")
        .select(
            "ticker",
            "name",
            "sector",
            "peer_group",
            "date",
            "close",
            pl.col("return_1d").alias("change"),
            "volume",
            "rel_volume",
            (pl.col("close") / pl.col("sma_50") - 1).alias("to_sma_50"),
            (pl.col("close") / pl.col("sma_200") - 1).alias("to_sma_200"),
            "rsi_14",
            pl.col("events").fill_null([]),
            pl.col("event_labels").fill_null([]),
            pl.col("event_meanings").fill_null([]),
        )
        .sort("ticker")
    )


def breadth(frame: pl.DataFrame) -> Breadth:
    """Advancers and decliners, the share above the 200-day average, new 52-week highs and lows."""
    change = frame["change"]
    with_200 = frame.filter(pl.col("to_sma_200").is_not_null())
    kinds = frame["events"].explode().drop_nulls()
    return Breadth(
        tickers=frame.height,
        advancing=int((change > 0).sum()),
        declining=int((change < 0).sum()),
        unchanged=int((change == 0).sum()),
        above_200=int((with_200["to_sma_200"] > 0).sum()),
        with_200=with_200.height,
        new_highs=int((kinds == "new_52w_high").sum()),
        new_lows=int((kinds == "new_52w_low").sum()),
    )


def movers(frame: pl.DataFrame, n: int = 5) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``n`` largest gains and the ``n`` largest losses of the session."""
    moved = frame.filter(pl.col("change").is_not_null())
    gainers = moved.filter(pl.col("change") > 0).sort("change", descending=True).head(n)
    losers = moved.filter(pl.col("change") < 0).sort("change").head(n)
    return gainers, losers


def sectors(frame: pl.DataFrame) -> pl.DataFrame:
    """Per sector (tickers without one under "other"): tickers, mean change, advancing."""
    return (
        frame.with_columns(pl.col("sector").fill_null("other"))
        .group_by("sector")
        .agg(
            pl.len().alias("tickers"),
            pl.col("change").mean().alias("change"),
            (pl.col("change") > 0).sum().alias("advancing"),
        )
        .sort("change", descending=True, nulls_last=True)
    )


# -- one read per store version, then pages of it ----------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What the market page reads from the store for one session, all through one connection."""

    frame: pl.DataFrame
    """:func:`table` of the session."""
    matches: dict[str, list[str]]
    """The tickers each preset matches."""
    watchlists: dict[str, list[str]]
    summary: pl.DataFrame
    """Per stored ticker: first and last date, bars (``api.info``)."""


MEMO_SIZE: Final = 8
"""Snapshots kept (a few sessions of one store, or a few stores)."""

_memo: OrderedDict[tuple[object, ...], Snapshot] = OrderedDict()
_memo_lock = threading.Lock()


def _version(path: Path) -> tuple[object, ...]:
    """What changes whenever a writer commits: the file's and its write-ahead log's identity,
    size and modification time (DuckDB appends a commit to the log, then folds the log into
    the file: either leaves one of the two with a later modification time)."""
    parts: list[object] = [str(path.resolve())]
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            stat = file.stat()
        except FileNotFoundError:
            parts.append(None)
        else:
            parts.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(parts)


def snapshot(store: Path, as_of: dt.date | None, screens: Sequence[str]) -> Snapshot:
    """The session's table, the tickers of each screen, the watchlists and the stored summary.

    Kept in memory while the store file is unchanged (any write changes its size or time), so
    the next page of the same table costs no read at all; a changed store is read afresh.
    """
    key = (_version(store), as_of, tuple(screens))
    with _memo_lock:
        kept = _memo.get(key)
        if kept is not None:
            _memo.move_to_end(key)
            return kept
    with api.using_store(store, read_only=True) as db:
        lists = db.watchlists()
        summary = db.summary()
        matches: dict[str, list[str]] = {}
        if summary.is_empty():
            frame = _joined(_empty_rows(), _no_securities(), _no_events())
        else:
            frame, matches = tables(db, as_of, screens)
    taken = Snapshot(frame, matches, lists, summary)
    with _memo_lock:
        _memo[key] = taken
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return taken


def _empty_rows() -> pl.DataFrame:
    schema = {"ticker": pl.String, "date": pl.Date, **dict.fromkeys(COLUMNS, pl.Float64)}
    return pl.DataFrame(schema=schema)


def _no_securities() -> pl.DataFrame:
    return pl.DataFrame(schema=dict.fromkeys(("ticker", "name", "sector", "peer_group"), pl.String))


SORTS: Final[Mapping[str, str]] = {
    "ticker": "ticker",
    "name": "name",
    "close": "close",
    "change": "change",
    "volume": "volume",
    "rel_volume": "rel. volume",
    "to_sma_50": "to SMA 50",
    "to_sma_200": "to SMA 200",
    "rsi_14": "RSI",
}
"""The market table's columns a page may be sorted by, with their headings."""

OTHER_SECTOR: Final = "other"
"""How tickers without a stored sector are grouped (and filtered)."""


def in_sector(frame: pl.DataFrame, sector: str) -> pl.DataFrame:
    """The rows of one sector; :data:`OTHER_SECTOR` also takes the rows without one."""
    wanted = pl.col("sector") == sector
    if sector == OTHER_SECTOR:
        wanted = wanted | pl.col("sector").is_null()
    return frame.filter(wanted)


def ordered(frame: pl.DataFrame, sort: str, descending: bool) -> pl.DataFrame:
    """Rows by one of :data:`SORTS` (names without case), missing values last, ties by ticker."""
    key = pl.col(sort).str.to_lowercase() if sort == "name" else pl.col(sort)
    return frame.sort(
        [key, pl.col("ticker")],
        descending=[descending, False],
        nulls_last=True,
        maintain_order=True,
    )


def page(frame: pl.DataFrame, number: int, size: int) -> tuple[pl.DataFrame, int, int]:
    """Rows of page ``number`` (1-based, clamped to the last page), that number, and the count
    of pages (at least one)."""
    pages = max(1, -(-frame.height // size))
    number = min(max(1, number), pages)
    return frame.slice((number - 1) * size, size), number, pages
