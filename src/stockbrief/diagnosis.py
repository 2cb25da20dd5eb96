"""What ``stockbrief doctor`` finds in a store: suspicious bars, missing sessions, splits the
bars do not show or show without a stored split, each with what to run to mend it.

The bar checks are those of :mod:`stockbrief.sources.plausibility`, run on whole stored
histories; missing sessions are read from the exchange calendar. One ticker reads that ticker's
rows only; the whole store is read :data:`DOCTOR_BATCH` tickers at a time, so memory follows the
batch, not the universe.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import polars as pl

from stockbrief import calendar
from stockbrief.errors import InputError
from stockbrief.sources.plausibility import (
    FINDINGS,
    THRESHOLDS,
    StoredBars,
    Thresholds,
    empty_findings,
    index_tickers,
    scan,
)

DOCTOR_BATCH: Final = 500
"""Tickers read at a time from the store (about 1.3M bars of ten-year histories)."""

UNSCHEDULED_CLOSURES: Final[dict[str, dict[dt.date, str]]] = {
    "XHKG": {
        dt.date(2023, 9, 1): "typhoon Saola (signal No. 8)",
        dt.date(2023, 9, 8): "black rainstorm warning",
    },
}
"""Whole days an exchange closed that exchange_calendars counts as sessions; no bar is missing
on them. Hong Kong suspended trading for the day under a typhoon signal No. 8 or a black
rainstorm warning until September 2024."""


class StoreReader(StoredBars, Protocol):
    """What the doctor reads from a store: what the ingest checks read, and its tickers."""

    def tickers(self) -> list[str]: ...

    def price_basis(self, tickers: Sequence[str] | None = None) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class DoctorReport:
    """The findings (:data:`stockbrief.sources.plausibility.FINDINGS` rows, sorted by ticker,
    date and kind), how many tickers were examined, and what could not be checked."""

    findings: pl.DataFrame
    tickers: int
    unchecked: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """Whether nothing suspicious was found."""
        return self.findings.is_empty()

    def summary(self) -> str:
        """One line: ``no suspicious data in 30 tickers`` or the findings counted by kind."""
        noun = "ticker" if self.tickers == 1 else "tickers"
        if self.clean:
            return f"no suspicious data in {self.tickers:,} {noun}"
        kinds = Counter(self.findings["kind"].to_list())
        counts = ", ".join(f"{n:,} {kind}" for kind, n in sorted(kinds.items()))
        affected = self.findings["ticker"].n_unique()
        found = self.findings.height
        return (
            f"{found:,} finding{'' if found == 1 else 's'} in {affected:,} of"
            f" {self.tickers:,} {noun} ({counts})"
        )


def _exchanges(
    tickers: Sequence[str], securities: pl.DataFrame
) -> tuple[dict[str, str], list[str]]:
    """Each ticker's exchange (its securities row, else its suffix), and notes for the tickers
    whose exchange is unknown."""
    stored = {r["ticker"]: r["exchange"] for r in securities.iter_rows(named=True) if r["exchange"]}
    found: dict[str, str] = {}
    unknown = []
    for ticker in tickers:
        try:
            found[ticker] = stored.get(ticker) or calendar.exchange_for(ticker)
        except InputError:
            unknown.append(
                f"{ticker}: missing sessions not checked, its exchange is unknown (ingest a"
                " securities row naming it)"
            )
    return found, unknown


def missing_sessions(bars: pl.DataFrame, exchanges: Mapping[str, str]) -> pl.DataFrame:
    """Gaps between a ticker's stored bars where its exchange's calendar has sessions.

    Sessions before a ticker's first bar and after its last are not missing (it was not
    listed yet, or they are not ingested yet); :data:`UNSCHEDULED_CLOSURES` are no sessions.
    One finding per gap, dated at its first missing session, ``last`` at its last.
    """
    parts = [empty_findings()]
    frame = bars.select("ticker", "date").sort("ticker", "date")
    for exchange in sorted(set(exchanges.values())):
        mine = frame.filter(
            pl.col("ticker").is_in([t for t, e in exchanges.items() if e == exchange])
        )
        if mine.height < 2:
            continue
        closed = list(UNSCHEDULED_CLOSURES.get(exchange, {}))
        sessions = calendar.sessions(exchange)
        days = sessions.filter(~sessions.is_in(closed)).to_numpy().astype("datetime64[D]")
        dates = mine["date"].to_numpy().astype("datetime64[D]")
        same = np.zeros(mine.height, dtype=bool)
        ticker = mine["ticker"].to_numpy()
        same[1:] = ticker[1:] == ticker[:-1]
        lo = np.searchsorted(days, np.roll(dates, 1), side="right")
        hi = np.searchsorted(days, dates, side="left")
        rows = np.flatnonzero(same & (hi > lo))
        if rows.size == 0:
            continue
        first, last, n = days[lo[rows]], days[hi[rows] - 1], hi[rows] - lo[rows]
        names = ticker[rows].tolist()
        messages = [
            f"{k} session{'s' if k > 1 else ''} of the {exchange} calendar without a bar"
            f" ({a if a == b else f'{a} to {b}'}): a gap in the source, or a day {exchange}"
            " closed unannounced"
            for k, a, b in zip(n.tolist(), first.tolist(), last.tolist(), strict=True)
        ]
        hints = [
            f"ingest the missing bars: stockbrief ingest prices FILE --from {a} --to {b}, or"
            f" stockbrief fetch {t} --since {a}"
            for t, a, b in zip(names, first.tolist(), last.tolist(), strict=True)
        ]
        parts.append(
            pl.DataFrame(
                {
                    "ticker": names,
                    "date": first.tolist(),
                    "last": last.tolist(),
                    "kind": ["missing_sessions"] * rows.size,
                    "field": ["date"] * rows.size,
                    "file": [None] * rows.size,
                    "row": [None] * rows.size,
                    "message": messages,
                    "hint": hints,
                },
                schema=FINDINGS,
            )
        )
    return pl.concat(parts)


def diagnose(
    db: StoreReader,
    tickers: Sequence[str] | None = None,
    *,
    batch: int = DOCTOR_BATCH,
    thresholds: Thresholds = THRESHOLDS,
) -> DoctorReport:
    """Examine some stored tickers (default: all) and report what looks wrong.

    Each batch's bars are read as stored (never adjusted), with its actions, checked and
    dropped before the next is read.
    """
    names = list(tickers) if tickers is not None else db.tickers()
    securities = db.securities()
    indexes = index_tickers(securities)
    parts = [empty_findings()]
    unchecked: list[str] = []
    for start in range(0, len(names), batch):
        mine = names[start : start + batch]
        bars = db.bars(mine)
        basis = db.price_basis(mine)
        adjusted = [t for t, b in basis.items() if b == "adjusted"]
        parts.append(
            scan(
                bars,
                splits=db.actions(mine),
                indexes=indexes,
                adjusted=adjusted,
                thresholds=thresholds,
            )
        )
        exchanges, unknown = _exchanges(mine, securities)
        unchecked += unknown
        parts.append(missing_sessions(bars, exchanges))
    findings = pl.concat(parts).sort("ticker", "date", "kind")
    return DoctorReport(findings, len(names), tuple(unchecked))
