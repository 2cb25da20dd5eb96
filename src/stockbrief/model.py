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
}
"""Reference data per security; key ticker."""

BARS_KEY: Final[tuple[str, ...]] = ("ticker", "date")
ACTIONS_KEY: Final[tuple[str, ...]] = ("ticker", "date", "kind")


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)
