"""Schemas of everything stockbrief stores or derives: the only source of column names.

Each schema is an ordered mapping of column name to Polars dtype. The store's DDL, the validators
and the compute engine all read these, so a column is renamed here or nowhere.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

import polars as pl

ActionKind = Literal["split", "dividend"]
ACTION_KINDS: Final[tuple[str, ...]] = get_args(ActionKind)

PRICE_FIELDS: Final[tuple[str, ...]] = ("open", "high", "low", "close")

BARS: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Int64(),
}
"""Daily bars as traded (unadjusted); key (ticker, date)."""

ACTIONS: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "kind": pl.String(),
    "value": pl.Float64(),
}
"""Corporate actions on their ex-date; key (ticker, date, kind).

``value`` is the split ratio (new shares per old share: 2.0 for a 2-for-1 split, 0.1 for a 1-for-10
reverse split) or the cash dividend per share as paid on the ex-date.
"""

SECURITIES: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "name": pl.String(),
    "exchange": pl.String(),
    "currency": pl.String(),
    "sector": pl.String(),
    "industry": pl.String(),
    "peer_group": pl.String(),
    "type": pl.String(),
}
"""Reference data per security; key ticker. ``type`` is one of :data:`SECURITY_TYPES`."""

SECURITY_TYPES: Final[tuple[str, ...]] = ("stock", "etf", "fund", "index", "adr", "reit")
"""The kinds of security a brief tells apart (an ADR or a REIT reads as a stock)."""

RATINGS: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "firm": pl.String(),
    "date": pl.Date(),
    "action": pl.String(),
    "rating": pl.String(),
    "prior_rating": pl.String(),
    "target": pl.Float64(),
    "prior_target": pl.Float64(),
}
"""One published analyst rating; key (ticker, firm, date).

``rating`` is the firm's own word as published ("Outperform", "Overweight"); schemes score it on
read. ``action`` is what the firm did: ``upgrade``, ``downgrade``, ``initiate``, ``reiterate``,
``target_raised``, ``target_lowered`` or null when unknown.
"""

CONSENSUS: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "source": pl.String(),
    "label": pl.String(),
    "strong_buy": pl.Int64(),
    "buy": pl.Int64(),
    "hold": pl.Int64(),
    "sell": pl.Int64(),
    "strong_sell": pl.Int64(),
    "target_mean": pl.Float64(),
    "target_median": pl.Float64(),
    "target_high": pl.Float64(),
    "target_low": pl.Float64(),
}
"""A provider's consensus summary on a date, used when no individual ratings exist;
key (ticker, date, source). Either ``label`` or the counts may be null, not both."""

NEWS: Final[dict[str, pl.DataType]] = {
    "id": pl.String(),
    "published_at": pl.Datetime("us", "UTC"),
    "source": pl.String(),
    "headline": pl.String(),
    "body": pl.String(),
    "url": pl.String(),
    "sentiment": pl.Float64(),
}
"""A news item; key id. Text is stored exactly as given and escaped wherever it is shown."""

NEWS_TICKERS: Final[dict[str, pl.DataType]] = {
    "id": pl.String(),
    "ticker": pl.String(),
    "role": pl.String(),
}
"""Which tickers a news item is about (role ``subject``); peers are linked on read."""

KPIS: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "period_end": pl.Date(),
    "name": pl.String(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "yoy": pl.Float64(),
    "source": pl.String(),
    "known_at": pl.Datetime("us", "UTC"),
}
"""A company metric for a period; key (ticker, period_end, name). ``yoy`` is a fraction.

``known_at`` is when the figure was published (filed, released or at least downloaded); an
as-of read sees a row only from the UTC day of ``known_at`` on, and from ``period_end`` when
it is null."""

ALIASES: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "alias": pl.String(),
}
"""Another name news gives a security ("Meta", "Google", "$GOOG"); key (ticker, alias)."""

THESES: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "written_on": pl.Date(),
    "author": pl.String(),
    "text": pl.String(),
}
"""A user's own thesis on a ticker, as written; key (ticker, written_on, author). A brief quotes
the newest one written by its date as the user's view, never as data."""

BARS_KEY: Final[tuple[str, ...]] = ("ticker", "date")
ACTIONS_KEY: Final[tuple[str, ...]] = ("ticker", "date", "kind")
RATINGS_KEY: Final[tuple[str, ...]] = ("ticker", "firm", "date")
CONSENSUS_KEY: Final[tuple[str, ...]] = ("ticker", "date", "source")
NEWS_KEY: Final[tuple[str, ...]] = ("id",)
NEWS_TICKERS_KEY: Final[tuple[str, ...]] = ("id", "ticker")
KPIS_KEY: Final[tuple[str, ...]] = ("ticker", "period_end", "name")
ALIASES_KEY: Final[tuple[str, ...]] = ("ticker", "alias")
SECURITIES_KEY: Final[tuple[str, ...]] = ("ticker",)
THESES_KEY: Final[tuple[str, ...]] = ("ticker", "written_on", "author")


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)
