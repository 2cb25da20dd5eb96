"""The market page's view: one page of the session's table, sorted and filtered on the server,
with movers, breadth, sectors, presets and watchlists around it.

Only the rows of the page asked for are formatted and sent, so a 5,000-ticker store gives a
page as light as a 50-ticker one; the numbers come from :func:`market.snapshot`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

import polars as pl

from stockbrief.errors import InputError, NotFoundError
from stockbrief.screening import PRESETS
from stockbrief.web import market
from stockbrief.web.pages import MISSING, TIMES, PresetRow, finite, percent

PAGE_SIZES: Final = (10, 25, 50, 100, 250)
"""Rows a page may show; the first page of 50 is the default."""

DEFAULT_SIZE: Final = 50


@dataclass(frozen=True)
class Query:
    """What the address asks of the market page; checked by :meth:`of`."""

    as_of: dt.date | None = None
    watchlist: str | None = None
    sector: str | None = None
    sort: str | None = None
    """A key of :data:`market.SORTS`; None for the default (ticker, or a watchlist's order)."""
    descending: bool = False
    page: int = 1
    size: int = DEFAULT_SIZE

    @classmethod
    def of(
        cls,
        as_of: dt.date | None,
        watchlist: str | None,
        sector: str,
        sort: str,
        order: str,
        page: int,
        size: int,
    ) -> Query:
        """The query, or an :class:`InputError` naming the allowed values."""
        if sort and sort not in market.SORTS:
            allowed = ", ".join(market.SORTS)
            raise InputError(
                f"cannot sort by {sort[:40]!r}; sort by one of {allowed}", field="sort"
            )
        if order not in ("", "asc", "desc"):
            raise InputError(f"order {order[:20]!r}: use asc or desc", field="order")
        if size not in PAGE_SIZES:
            sizes = ", ".join(map(str, PAGE_SIZES))
            raise InputError(f"{size} rows a page: choose {sizes}", field="per")
        descending = order == "desc" if order else sort not in ("", "ticker", "name")
        return cls(as_of, watchlist, sector.strip() or None, sort or None, descending, page, size)

    def link(self, **changes: Any) -> str:
        """This page's address with some parameters changed (defaults left out)."""
        values = {
            "as_of": self.as_of,
            "watchlist": self.watchlist,
            "sector": self.sector,
            "sort": self.sort,
            "order": None if self.sort is None else ("desc" if self.descending else "asc"),
            "page": self.page,
            "per": self.size,
            **changes,
        }
        defaults = {"page": 1, "per": DEFAULT_SIZE}
        kept = {k: v for k, v in values.items() if v is not None and defaults.get(k) != v}
        return "/?" + urlencode(kept) if kept else "/"


@dataclass(frozen=True)
class TickerRow:
    ticker: str
    first: str
    last: str
    bars: str


@dataclass(frozen=True)
class MarketRow:
    """One ticker's session, each cell as shown and with the raw value."""

    ticker: str
    name: str
    sector: str
    cells: list[tuple[str, float | None]]
    events: list[tuple[str, str]]
    """Each event of the day in a few words, and what it means."""


@dataclass(frozen=True)
class Heading:
    """A column of the market table: its key, its text, the link that sorts by it."""

    key: str
    text: str
    href: str
    sort: str | None
    """``ascending`` or ``descending`` on the column the table is sorted by."""
    numeric: bool


@dataclass(frozen=True)
class SectorRow:
    sector: str
    tickers: str
    change: str
    advancing: str
    href: str


@dataclass(frozen=True)
class Pager:
    first: int
    last: int
    total: int
    page: int
    pages: int
    previous: str | None
    next: str | None
    sizes: tuple[int, ...] = PAGE_SIZES


@dataclass(frozen=True)
class MarketPage:
    query: Query
    day: dt.date | None
    """The session shown: the latest stored one on or before ``as_of``."""
    stored: int
    """Tickers with bars in the store."""
    presets: list[PresetRow]
    rows: list[MarketRow] = field(default_factory=list)
    history: list[TickerRow] = field(default_factory=list)
    """The stored history of the tickers on this page."""
    summary: str = ""
    gainers: list[MarketRow] = field(default_factory=list)
    losers: list[MarketRow] = field(default_factory=list)
    breadth: list[tuple[str, str]] = field(default_factory=list)
    sectors: list[SectorRow] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    pager: Pager | None = None
    watchlists: dict[str, list[str]] = field(default_factory=dict)
    chips: int = 12
    """Tickers a preset lists before linking to the screener for the rest."""

    @property
    def as_of(self) -> dt.date | None:
        return self.query.as_of

    @property
    def watchlist(self) -> str | None:
        return self.query.watchlist


def volume_text(value: Any) -> str:
    """Shares traded, short, three digits: ``12.3M``, ``845K``, ``1.20B``."""
    if not finite(value):
        return MISSING
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            scaled = value / size
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f"{scaled:.{digits}f}{suffix}"
    return f"{value:.0f}"


def _price(value: Any) -> str:
    return f"{value:,.2f}" if finite(value) else MISSING


def _market_rows(frame: pl.DataFrame) -> list[MarketRow]:
    rows = []
    for r in frame.iter_rows(named=True):
        cells: list[tuple[str, float | None]] = [
            (_price(r["close"]), r["close"]),
            (f"{r['change']:+.2%}" if finite(r["change"]) else MISSING, r["change"]),
            (volume_text(r["volume"]), r["volume"]),
            (
                f"{r['rel_volume']:.2f}{TIMES}" if finite(r["rel_volume"]) else MISSING,
                r["rel_volume"],
            ),
            (percent(r["to_sma_50"], signed=True), r["to_sma_50"]),
            (percent(r["to_sma_200"], signed=True), r["to_sma_200"]),
            (f"{r['rsi_14']:.1f}" if finite(r["rsi_14"]) else MISSING, r["rsi_14"]),
        ]
        cells = [(text, float(f"{value:.6g}") if finite(value) else None) for text, value in cells]
        rows.append(
            MarketRow(
                r["ticker"],
                r["name"] or "",
                r["sector"] or "",
                cells,
                list(zip(r["event_labels"], r["event_meanings"], strict=True)),
            )
        )
    return rows


def _breadth(found: market.Breadth) -> list[tuple[str, str]]:
    share = percent(found.above_200 / found.with_200) if found.with_200 else MISSING
    return [
        ("Advancing", f"{found.advancing:,} of {found.tickers:,}"),
        ("Declining", f"{found.declining:,} of {found.tickers:,}"),
        ("Above the 200-day average", f"{share} ({found.above_200:,} of {found.with_200:,})"),
        ("New 52-week highs", f"{found.new_highs:,}"),
        ("New 52-week lows", f"{found.new_lows:,}"),
    ]


def _headings(query: Query) -> list[Heading]:
    headings = []
    for key, text in market.SORTS.items():
        numeric = key not in ("ticker", "name")
        current = query.sort or ("ticker" if query.watchlist is None else None)
        if key == current:
            sort = "descending" if query.descending else "ascending"
            order = "asc" if query.descending else "desc"  # a second click reverses
        else:
            sort, order = None, "desc" if numeric else "asc"
        href = query.link(sort=key, order=order, page=None)
        headings.append(Heading(key, text, href, sort, numeric))
    return headings


def _in_list(frame: pl.DataFrame, tickers: list[str]) -> pl.DataFrame:
    order = {t: i for i, t in enumerate(tickers)}
    return frame.filter(pl.col("ticker").is_in(list(order))).sort(
        pl.col("ticker").replace_strict(order, return_dtype=pl.Int64)
    )


def _sector_rows(frame: pl.DataFrame, query: Query) -> list[SectorRow]:
    return [
        SectorRow(
            r["sector"],
            f"{r['tickers']:,}",
            percent(r["change"], signed=True),
            f"{r['advancing']:,}",
            query.link(sector=r["sector"], page=None),
        )
        for r in market.sectors(frame).iter_rows(named=True)
    ]


def _summary(summary: pl.DataFrame) -> str:
    first, last = summary["first"].min(), summary["last"].max()
    span = f"{first!s} to {last!s}"
    return f"{summary.height:,} tickers, {int(summary['bars'].sum()):,} bars, {span}"


def _history(summary: pl.DataFrame, tickers: list[str]) -> list[TickerRow]:
    shown = summary.filter(pl.col("ticker").is_in(tickers))
    return [
        TickerRow(r["ticker"], r["first"].isoformat(), r["last"].isoformat(), f"{r['bars']:,}")
        for r in shown.iter_rows(named=True)
    ]


@dataclass(frozen=True)
class _Chosen:
    """The session's rows a query keeps, in its order, before paging."""

    found: market.Snapshot
    frame: pl.DataFrame
    matches: dict[str, list[str]]
    sectors: list[SectorRow]


def _chosen(store: Path, query: Query, screens: Sequence[str] = tuple(PRESETS)) -> _Chosen:
    found = market.snapshot(store, query.as_of, screens)
    lists, frame, matches = found.watchlists, found.frame, found.matches
    if query.watchlist is not None and query.watchlist not in lists:
        raise NotFoundError(f"no watchlist named {query.watchlist!r}")
    if frame.is_empty():
        return _Chosen(found, frame, matches, [])
    if query.watchlist is not None:
        frame = _in_list(frame, lists[query.watchlist])
        kept = set(lists[query.watchlist])
        matches = {name: [t for t in found if t in kept] for name, found in matches.items()}
    sectors = _sector_rows(frame, query)
    if query.sector is not None:
        frame = market.in_sector(frame, query.sector)
        if frame.is_empty():
            known = ", ".join(row.sector for row in sectors)
            raise NotFoundError(f"no ticker of sector {query.sector!r} here; sectors: {known}")
    if query.sort is not None:
        frame = market.ordered(frame, query.sort, query.descending)
    return _Chosen(found, frame, matches, sectors)


def market_page(store: Path, query: Query) -> MarketPage:
    """One page of the session's table of every ticker (or of one watchlist's, or one
    sector's), with the movers and breadth of the same tickers, the sectors, and the presets.

    Raises
    ------
    NotFoundError
        There is no watchlist of that name, or no ticker of that sector.
    """
    chosen = _chosen(store, query)
    found, frame = chosen.found, chosen.frame
    if frame.is_empty():
        return MarketPage(query, None, found.summary.height, [], watchlists=found.watchlists)
    day = found.frame["date"].max()
    assert isinstance(day, dt.date)
    shown, number, pages = market.page(frame, query.page, query.size)
    query = replace(query, page=number)
    gainers, losers = market.movers(frame)
    start = (number - 1) * query.size
    return MarketPage(
        query,
        day,
        found.summary.height,
        _presets(chosen.matches),
        rows=_market_rows(shown),
        history=_history(found.summary, shown["ticker"].to_list()),
        summary=_summary(found.summary),
        gainers=_market_rows(gainers),
        losers=_market_rows(losers),
        breadth=_breadth(market.breadth(frame)),
        sectors=chosen.sectors,
        headings=_headings(query),
        pager=Pager(
            first=start + 1 if shown.height else 0,
            last=start + shown.height,
            total=frame.height,
            page=number,
            pages=pages,
            previous=query.link(page=number - 1) if number > 1 else None,
            next=query.link(page=number + 1) if number < pages else None,
        ),
        watchlists=found.watchlists,
    )


def market_json(store: Path, query: Query) -> dict[str, Any]:
    """One page of the market table as data: raw values (fractions, not percentages), the
    session, and where the page lies in the whole."""
    frame = _chosen(store, query, screens=()).frame  # no preset to match: a lighter read
    shown, number, pages = market.page(frame, query.page, query.size)
    session = frame["date"].max() if frame.height else None
    columns = [c for c in shown.columns if c not in ("events", "event_labels", "event_meanings")]
    return {
        "session": session,
        "total": frame.height,
        "page": number,
        "pages": pages,
        "per": query.size,
        "sort": query.sort or "ticker",
        "order": "desc" if query.descending else "asc",
        "rows": shown.select(*columns, "events").to_dicts(),
    }


def _presets(matches: Mapping[str, list[str]]) -> list[PresetRow]:
    return [
        PresetRow(name, expression, description, matches[name])
        for name, (expression, description) in PRESETS.items()
    ]
