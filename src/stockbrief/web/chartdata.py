"""What the ticker chart draws beside its bars: event markers and the comparison lines.

Both read only the ticker itself (its events) or the few tickers it is compared with (its peer
group and SPY), never the universe.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Final

import polars as pl

from stockbrief import api
from stockbrief.detectors import MEANINGS
from stockbrief.notes.chart import DOWN_KINDS, DOWN_PREFIXES, UP_KINDS, UP_PREFIXES
from stockbrief.peers import peers_of
from stockbrief.web.market import LABELS

BENCHMARK: Final = "SPY"
"""The index a ticker is compared with, when it is stored."""


def direction(kind: str) -> str:
    """``up`` for events that mark a rise (drawn below the bar), ``down`` for a fall (above it),
    ``other`` for the rest (crosses of the averages with each other, analysts' changes)."""
    if kind in UP_KINDS or kind.startswith(UP_PREFIXES) or kind in ("golden_cross",):
        return "up"
    if kind in DOWN_KINDS or kind.startswith(DOWN_PREFIXES) or kind in ("death_cross",):
        return "down"
    if kind in ("consensus_upgrade", "target_raised"):
        return "up"
    if kind in ("consensus_downgrade", "target_lowered"):
        return "down"
    return "other"


def markers_json(store: Path, ticker: str, as_of: dt.date | None) -> dict[str, Any]:
    """Every event of ``ticker`` up to ``as_of``: date, kind, label, meaning and direction."""
    found = api.events([ticker], as_of=as_of, store=store).filter(pl.col("ticker") == ticker)
    rows = [
        {
            "date": row["date"],
            "kind": row["kind"],
            "label": LABELS.get(row["kind"], row["kind"].replace("_", " ")),
            "meaning": MEANINGS.get(row["kind"], ""),
            "direction": direction(row["kind"]),
            "detail": json.loads(row["detail"] or "{}"),
        }
        for row in found.sort("date", "kind").iter_rows(named=True)
    ]
    return {"ticker": ticker, "as_of": as_of, "markers": rows}


def compare_json(store: Path, ticker: str, as_of: dt.date | None) -> dict[str, Any]:
    """Closes of ``ticker``, of each stored member of its peer group and of SPY, up to ``as_of``
    and adjusted for the actions known then; the page rebases them to 100 at its range start."""
    with api.using_store(store, read_only=True) as db:
        securities = db.securities()
        stored = set(db.tickers())
    peers = [p for p in peers_of(securities, ticker) if p in stored]
    group = securities.filter(pl.col("ticker") == ticker)["peer_group"]
    others = [*peers, *([BENCHMARK] if BENCHMARK in stored and ticker != BENCHMARK else [])]
    series = {}
    for symbol in [ticker, *others]:
        frame = api.prices(symbol, end=as_of, adjusted=True, store=store)
        series[symbol] = [[d, c] for d, c in zip(frame["date"], frame["close"], strict=True)]
    return {
        "ticker": ticker,
        "as_of": as_of,
        "peer_group": group[0] if not group.is_empty() else None,
        "peers": peers,
        "benchmark": BENCHMARK if BENCHMARK in others else None,
        "series": series,
    }
