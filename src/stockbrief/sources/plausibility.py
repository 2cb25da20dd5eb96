"""Plausibility checks: bars that pass validation but are unlikely to be what was traded.

Validation refuses rows that cannot be right (a low above the high, a date that is no session).
These checks name rows that are *probably* wrong, each judged against the same ticker's
neighbouring bars (the stored ones around an incoming file, or the whole stored history for
``stockbrief doctor``), in the spirit of yfinance's price repair: a one-session spike that
reverts, a jump by a split ratio that no stored split explains, volume on an index, runs of zero
volume and stale repeated bars. Every check is vectorised over the frame sorted by ticker and
date; only the few candidate bars get a look at their trailing window.

Thresholds (:data:`THRESHOLDS`, one table):

=========================  ==========  =====================================================
name                       default     meaning
=========================  ==========  =====================================================
``sigma_window``           60          sessions of log returns before a bar that measure its
                                       ticker's usual move
``min_history``            20          earlier returns a bar needs before spikes and splits
                                       are judged at all
``sigma_floor``            0.005       least robust sigma (0.5% a day), so a quiet stretch
                                       does not make every move look extreme
``spike_sigmas``           8           a spike moves more than this many robust sigmas...
``spike_min_move``         0.15        ...and at least this log return (about 16%)...
``spike_reversion``        0.75        ...and the next close takes back at least this share
                                       of the move (it lies within a quarter of the move of
                                       the close before the spike; ^VIX's real +65% on
                                       5 August 2024 gave back two thirds)
``split_sigmas``           6           a split-like jump is beyond this many robust sigmas
``split_tolerance``        0.03..0.10  how far (in log) the jump may miss a split ratio:
                                       three robust sigmas, clipped to this range
``split_volume_share``     1/3         volume must move inversely by at least this share of
                                       the split ratio (in log), median of 5 sessions after
                                       against median of 5 before
``split_exact``            0.02        a jump of 2-for-1 or more this close (in log) to the
                                       ratio needs no volume to back it
``split_volume_surge``     3           a jump on a day whose volume is more than this many
                                       times the following sessions' is news, not a split
``index_volume_window``    21          sessions (centred) whose median volume must be zero
                                       for a bar's volume on an index to be out of place
``no_volume_share``        0.9         a ticker whose moving bars (high above low) report
                                       zero volume this often is an index-like series...
``no_volume_min_bars``     20          ...given at least this many moving bars
``zero_volume_run``        3           sessions in a row without volume (single zero-volume
                                       bars are Hong Kong half days in Yahoo's data)
``stale_run``              3           sessions in a row with identical open, high, low,
                                       close and volume
=========================  ==========  =====================================================

Notes
-----
The robust sigma of a bar is ``1.4826 * median(|r|)`` over the ``sigma_window`` log returns
``r = ln(close / previous close)`` before it (the median absolute deviation about zero, which a
daily return's median is close to); the bar's own return is left out, so one bad bar cannot hide
itself. Split ratios are new shares per old share: bars stored as traded halve on the ex-date of
a 2-for-1 split, while their volume doubles. Only bars whose neighbours are in the frame can be
judged: the last bar of a file has no next session to revert to, so it can be no spike until the
next session is ingested.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol, get_args

import numpy as np
import polars as pl

from stockbrief.errors import InputError
from stockbrief.sources.validate import FILE, ROW

Kind = Literal[
    "spike",
    "unrecorded_split",
    "index_volume",
    "zero_volume_run",
    "stale_bars",
    "missing_sessions",
    "split_not_in_bars",
]
KINDS: Final[tuple[str, ...]] = get_args(Kind)


@dataclass(frozen=True)
class Thresholds:
    """The numbers that turn a bar into a finding; see the table in the module docstring."""

    sigma_window: int = 60
    min_history: int = 20
    sigma_floor: float = 0.005
    spike_sigmas: float = 8.0
    spike_min_move: float = 0.15
    spike_reversion: float = 0.75
    split_sigmas: float = 6.0
    split_tolerance: tuple[float, float] = (0.03, 0.10)
    split_volume_share: float = 1 / 3
    split_exact: float = 0.02
    split_volume_window: int = 5
    split_volume_surge: float = 3.0
    index_volume_window: int = 21
    no_volume_share: float = 0.9
    no_volume_min_bars: int = 20
    zero_volume_run: int = 3
    stale_run: int = 3

    def context(self) -> int:
        """Sessions on either side of a bar that its checks read."""
        return max(
            self.sigma_window + 1,
            self.index_volume_window,
            self.zero_volume_run,
            self.stale_run,
            self.split_volume_window + 1,
        )


THRESHOLDS: Final = Thresholds()

_SPLIT_MULTIPLES: Final = (2, 3, 4, 5, 6, 8, 10, 15, 20, 25, 30, 50, 100)

SPLIT_RATIOS: Final[tuple[tuple[int, int], ...]] = (
    (3, 2),
    *((n, 1) for n in _SPLIT_MULTIPLES),
    *((1, n) for n in _SPLIT_MULTIPLES),
)
"""Split ratios looked for, as (new shares, old shares): 3-for-2, 2-for-1 ... 100-for-1 and the
reverse splits 1-for-2 ... 1-for-100. No 2-for-3: reverse splits consolidate whole numbers of
shares, and a +50% day on falling volume (JD on 16 March 2022) is no split."""

ROBUST_SIGMA: Final = 1.4826
"""Scales a median absolute deviation to a normal distribution's standard deviation."""

FINDINGS: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "last": pl.Date(),
    "kind": pl.String(),
    "field": pl.String(),
    "file": pl.String(),
    "row": pl.Int64(),
    "message": pl.String(),
    "hint": pl.String(),
}
"""Columns of a findings frame: the bar (``date``; ``last`` ends a run or gap), what is wrong and
what to run to mend it. ``file`` and ``row`` are null for a bar that is already stored."""


@dataclass(frozen=True)
class Finding:
    """One suspicious bar (or run of bars), with where it came from and what to do."""

    ticker: str
    date: dt.date
    kind: Kind
    field: str
    message: str
    hint: str
    last: dt.date | None = None
    file: str | None = None
    row: int | None = None

    def where(self) -> str:
        """``FILE, row R, field 'f'``, or ``stored bar, field 'f'``."""
        place = [self.file, f"row {self.row}"] if self.file is not None else ["stored bar"]
        return ", ".join([*(p for p in place if p), f"field {self.field!r}"])

    def line(self) -> str:
        """One line for a person: where, which bar, what looks wrong."""
        return f"{self.where()}: {self.ticker} {self.date}: {self.message}"

    def error(self, others: int = 0) -> InputError:
        """The finding as the error ``--strict`` raises; ``others`` counts the findings after it."""
        more = f"; {others} more suspicious bars" if others else ""
        return InputError(
            f"{self.ticker} {self.date}: {self.message}{more} (--strict refuses suspicious bars:"
            " correct the row, or ingest without --strict to store it with a warning)",
            file=self.file,
            row=self.row,
            field=self.field,
        )


def refusal(findings: Sequence[Finding]) -> InputError | None:
    """What ``--strict`` raises for these findings: the first on an incoming row, or nothing.

    A stored bar that an incoming one reveals (the session after a stored spike) stays a
    warning: the incoming rows are not at fault.
    """
    incoming = [f for f in findings if f.file is not None]
    return incoming[0].error(len(incoming) - 1) if incoming else None


def as_findings(frame: pl.DataFrame) -> tuple[Finding, ...]:
    """The rows of a findings frame as :class:`Finding` objects, in order."""
    return tuple(
        Finding(
            ticker=r["ticker"],
            date=r["date"],
            kind=r["kind"],
            field=r["field"],
            message=r["message"],
            hint=r["hint"],
            last=r["last"],
            file=r["file"],
            row=r["row"],
        )
        for r in frame.iter_rows(named=True)
    )


def empty_findings() -> pl.DataFrame:
    """A findings frame with no rows."""
    return pl.DataFrame(schema=FINDINGS)


# -- formatting ------------------------------------------------------------------------------


def _num(x: float) -> str:
    return f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"


def _delete_hint(ticker: str, first: dt.date, last: dt.date, what: str = "bars") -> str:
    return f"stockbrief delete {ticker} --from {first} --to {last} --what {what}"


def _replace_hint(ticker: str, first: dt.date, last: dt.date) -> str:
    return (
        "compare with another source and ingest the corrected bar with --replace, or drop it:"
        f" {_delete_hint(ticker, first, last)}"
    )


# -- the frame -------------------------------------------------------------------------------

_NEW: Final = "_new"
_SEG: Final = "_seg"


@dataclass(frozen=True)
class _Bars:
    """A frame sorted by ticker and date, as numpy arrays with each row's ticker segment."""

    frame: pl.DataFrame
    seg: np.ndarray  # each row's ticker, numbered from 0 in order
    starts: np.ndarray  # each ticker's first row
    ends: np.ndarray  # one past each ticker's last row
    close: np.ndarray
    volume: np.ndarray
    r: np.ndarray  # log return from the ticker's previous row; nan at its first row
    new: np.ndarray
    first: np.ndarray  # whether a row is its ticker's first
    last: np.ndarray  # whether a row is its ticker's last

    @classmethod
    def of(cls, frame: pl.DataFrame) -> _Bars:
        n = frame.height
        ticker = pl.col("ticker")
        change = frame.select((ticker != ticker.shift(1)).fill_null(True)).to_series().to_numpy()
        seg = np.cumsum(change) - 1
        firsts = np.flatnonzero(change)
        lasts = np.append(firsts[1:], n)
        close = np.asarray(frame["close"].to_numpy(), dtype=np.float64)
        logs = np.log(close)
        r = np.empty(n)
        r[0] = np.nan
        np.subtract(logs[1:], logs[:-1], out=r[1:])
        r[change] = np.nan
        last = np.zeros(n, dtype=bool)
        last[lasts - 1] = True
        return cls(
            frame.with_columns(pl.Series(_SEG, seg)),
            seg,
            firsts,
            lasts,
            close,
            np.asarray(frame["volume"].to_numpy(), dtype=np.float64),
            r,
            np.asarray(frame[_NEW].to_numpy(), dtype=bool),
            change,
            last,
        )

    @property
    def n(self) -> int:
        return self.frame.height

    def start(self, rows: np.ndarray) -> np.ndarray:
        """The first row of each row's ticker."""
        found: np.ndarray = self.starts[self.seg[rows]]
        return found

    def end(self, rows: np.ndarray) -> np.ndarray:
        """One past the last row of each row's ticker."""
        found: np.ndarray = self.ends[self.seg[rows]]
        return found

    def window(self, rows: np.ndarray, offsets: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Indices ``rows + offsets``, -1 where they leave ``[lo, end of the ticker)``."""
        idx = rows[:, None] + offsets[None, :]
        ok = (idx >= lo[:, None]) & (idx < self.end(rows)[:, None])
        return np.where(ok, idx, -1)

    def sigma(self, rows: np.ndarray, t: Thresholds) -> np.ndarray:
        """Robust sigma of the returns before each row; nan without ``min_history`` of them."""
        out = np.full(rows.size, np.nan)
        if rows.size == 0:
            return out
        idx = self.window(rows, -np.arange(1, t.sigma_window + 1), self.start(rows) + 1)
        values = np.where(idx >= 0, np.abs(self.r[np.maximum(idx, 0)]), np.nan)
        enough = np.sum(idx >= 0, axis=1) >= t.min_history
        if enough.any():
            med = np.nanmedian(values[enough], axis=1)
            out[enough] = np.maximum(ROBUST_SIGMA * med, t.sigma_floor)
        return out

    def median_volume(self, rows: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Median volume over ``rows + offsets`` within each ticker; nan where none is there."""
        out = np.full(rows.size, np.nan)
        if rows.size == 0:
            return out
        idx = self.window(rows, offsets, self.start(rows))
        values = np.where(idx >= 0, self.volume[np.maximum(idx, 0)], np.nan)
        some = np.any(idx >= 0, axis=1)
        if some.any():
            out[some] = np.nanmedian(values[some], axis=1)
        return out

    def ticker(self, i: int) -> str:
        value: str = self.frame["ticker"][i]
        return value

    def date(self, i: int) -> dt.date:
        value: dt.date = self.frame["date"][i]
        return value


@dataclass
class _Hits:
    """Findings of one check before they become a frame: flagged rows and their sentences."""

    kind: Kind
    field: str
    rows: list[int]
    last: list[int]
    involved: list[bool]
    messages: list[str]
    hints: list[str]

    @classmethod
    def none(cls, kind: Kind, field: str) -> _Hits:
        return cls(kind, field, [], [], [], [], [])

    def add(self, row: int, last: int, involved: bool, message: str, hint: str) -> None:
        self.rows.append(row)
        self.last.append(last)
        self.involved.append(involved)
        self.messages.append(message)
        self.hints.append(hint)


def _index_like(bars: _Bars, indexes: Collection[str], t: Thresholds) -> np.ndarray:
    """Per row: whether its ticker is an index, named so (``^VIX``, a stored index) or a series
    that reports no volume on its moving bars (Yahoo's ``VIX.csv`` stored as ``VIX``)."""
    f = bars.frame
    heads = f["ticker"].gather(bars.starts.tolist())
    named = (heads.str.starts_with("^") | heads.is_in(list(indexes))).to_numpy()
    size = heads.len()
    high, low = f["high"].to_numpy(), f["low"].to_numpy()
    zero = np.flatnonzero(bars.volume == 0)  # few rows of a stock universe: count those first
    silent = np.bincount(bars.seg[zero[high[zero] > low[zero]]], minlength=size)
    least = t.no_volume_share * t.no_volume_min_bars
    quiet = np.zeros(size, dtype=bool)
    for seg in np.flatnonzero(silent >= least).tolist():
        a, b = int(bars.starts[seg]), int(bars.ends[seg])
        moving = int(np.count_nonzero(high[a:b] > low[a:b]))
        quiet[seg] = moving >= t.no_volume_min_bars and silent[seg] >= t.no_volume_share * moving
    index_like: np.ndarray = (named | quiet)[bars.seg]
    return index_like


# -- the checks ------------------------------------------------------------------------------


def _spikes(bars: _Bars, t: Thresholds) -> tuple[_Hits, np.ndarray]:
    """One-session moves beyond ``spike_sigmas`` robust sigmas that the next session takes
    back; also returns the spike mask, so the reverting bar is not judged a split."""
    r = bars.r
    move = np.abs(r)
    rows = np.flatnonzero((move >= t.spike_min_move) & ~bars.last)
    back = np.abs(r[rows] + r[rows + 1]) <= (1 - t.spike_reversion) * move[rows]
    rows = rows[back]
    sigma = bars.sigma(rows, t)
    keep = ~np.isnan(sigma) & (move[rows] > t.spike_sigmas * np.nan_to_num(sigma, nan=np.inf))
    rows, sigma = rows[keep], sigma[keep]
    mask = np.zeros(bars.n, dtype=bool)
    mask[rows] = True
    hits = _Hits.none("spike", "close")
    history = np.minimum(rows - bars.start(rows) - 1, t.sigma_window)
    for i, s, n in zip(rows.tolist(), sigma.tolist(), history.tolist(), strict=True):
        ticker, day = bars.ticker(i), bars.date(i)
        hits.add(
            i,
            i,
            bool(bars.new[i] or bars.new[i + 1]),
            f"close {_num(bars.close[i])} after {_num(bars.close[i - 1])} is a"
            f" {math.expm1(r[i]):+.1%} move ({abs(r[i]) / s:.0f} robust standard deviations of"
            f" the {n} sessions before) that reverts to {_num(bars.close[i + 1])} on"
            f" {bars.date(i + 1)}: likely a bad bar",
            _replace_hint(ticker, day, day),
        )
    return hits, mask


def _ratio(new: int, old: int) -> str:
    return f"{new}-for-{old}"


def _splits(
    bars: _Bars,
    splits: pl.DataFrame,
    index_like: np.ndarray,
    spike: np.ndarray,
    adjusted: Collection[str],
    t: Thresholds,
) -> _Hits:
    """Jumps by a split ratio that the next session keeps, with volume moving the other way,
    on a date with no split stored (or in bars adjusted by their provider, on any date: the
    store never adjusts those again)."""
    r = bars.r
    logs = np.log([new / old for new, old in SPLIT_RATIOS])
    implied = -r  # ln(previous close / close): ln 2 where a 2-for-1 split halves the price
    lo_tol, hi_tol = t.split_tolerance
    rows = np.flatnonzero(np.abs(implied) >= np.log(1.5) - hi_tol)
    after_spike = spike[rows - 1] & ~bars.first[rows]  # the bar after a spike takes it back
    rows = rows[~index_like[rows] & ~after_spike]
    hits = _Hits.none("unrecorded_split", "close")
    if rows.size == 0:
        return hits
    gap = np.abs(implied[rows][:, None] - logs[None, :])
    which = np.argmin(gap, axis=1)
    sigma = bars.sigma(rows, t)
    tol = np.clip(3 * sigma, lo_tol, hi_tol)
    ratio = logs[which]
    ok = ~np.isnan(sigma) & (gap[np.arange(rows.size), which] <= tol)
    ok &= np.abs(implied[rows]) > t.split_sigmas * np.nan_to_num(sigma, nan=np.inf)
    # A split does not revert: the next session (where there is one) keeps the new level.
    nxt = np.where(bars.last[rows], 0.0, r[np.minimum(rows + 1, bars.n - 1)])
    ok &= np.abs(nxt) <= np.abs(implied[rows]) / 2
    w = t.split_volume_window
    before = bars.median_volume(rows, -np.arange(1, w + 1))
    after = bars.median_volume(rows, np.arange(0, w))
    later = bars.median_volume(rows, np.arange(1, w + 1))
    positive = (np.nan_to_num(before) > 0) & (np.nan_to_num(after) > 0)
    change = np.ones(rows.size)
    np.divide(after, before, out=change, where=positive)
    shift = np.log(change)
    confirmed = positive & (np.sign(ratio) * shift >= t.split_volume_share * np.abs(ratio))
    # A jump within a hair of a whole ratio needs no volume to back it: sources that adjust
    # volume but not prices (Quandl's WIKI around Apple's 2005 split) leave only the price.
    exact = (np.abs(ratio) >= np.log(2) - 1e-9) & (
        gap[np.arange(rows.size), which] <= t.split_exact
    )
    ok &= confirmed | exact
    # A jump on volume far above the following sessions' is news, not a new share count.
    surge = np.zeros(rows.size)
    np.divide(bars.volume[rows], later, out=surge, where=np.nan_to_num(later) > 0)
    ok &= ~((rows + 2 < bars.end(rows)) & (surge > t.split_volume_surge))
    rows, which, shift = rows[ok], which[ok], shift[ok]
    traded = splits.filter(~pl.col("ticker").is_in(list(adjusted)))
    if rows.size and traded.height:
        days = bars.frame[rows.tolist()].select("ticker", "date").with_row_index("__i")
        recorded = days.join(traded.select("ticker", "date"), on=["ticker", "date"], how="semi")
        keep = ~np.isin(np.arange(rows.size), recorded["__i"].to_numpy())
        rows, which, shift = rows[keep], which[keep], shift[keep]
    for i, k, s in zip(rows.tolist(), which.tolist(), shift.tolist(), strict=True):
        new, old = SPLIT_RATIOS[k]
        ticker, day = bars.ticker(i), bars.date(i)
        jump = (
            f"close {_num(bars.close[i])} after {_num(bars.close[i - 1])}"
            f" (x{math.exp(r[i]):.3g}, volume x{math.exp(s):.2g}) looks like a"
            f" {_ratio(new, old)} split"
        )
        if ticker in adjusted:
            message = f"{jump} in bars adjusted by their provider, which left it out"
            hint = (
                "ingest a download adjusted over the whole history with --replace (bars"
                " adjusted by their provider are never adjusted again on read)"
            )
        else:
            message = f"{jump}, and no split is stored on {day}"
            hint = (
                "if it is one, record it: stockbrief ingest actions FILE, with the row"
                f" {ticker},{day},split,{new}:{old} under the header ticker,date,kind,value"
            )
        hits.add(i, i, bool(bars.new[i] or bars.new[i - 1]), message, hint)
    return hits


def _split_not_in_bars(
    bars: _Bars, splits: pl.DataFrame, adjusted: Collection[str], t: Thresholds
) -> _Hits:
    """Stored splits on whose ex-date bars stored as traded do not jump: the bars are adjusted
    already, so the split is applied twice on read."""
    hits = _Hits.none("split_not_in_bars", "close")
    splits = splits.filter(~pl.col("ticker").is_in(list(adjusted)))
    if splits.is_empty():
        return hits
    at = (
        bars.frame.select("ticker", "date")
        .with_row_index("__i")
        .join(splits.select("ticker", "date", "value"), on=["ticker", "date"], how="inner")
        .sort("__i")
    )
    rows = at["__i"].to_numpy().astype(np.int64)
    value = at["value"].to_numpy().astype(np.float64)
    later = rows > bars.start(rows)
    rows, value = rows[later], value[later]
    sigma = np.nan_to_num(bars.sigma(rows, t), nan=t.sigma_floor)
    implied = -bars.r[rows]
    expected = np.log(value)
    keep = (np.abs(implied) <= np.abs(expected) / 2) & (np.abs(expected) > t.split_sigmas * sigma)
    for i, v in zip(rows[keep].tolist(), value[keep].tolist(), strict=True):
        ticker, day = bars.ticker(i), bars.date(i)
        hits.add(
            i,
            i,
            bool(bars.new[i] or bars.new[i - 1]),
            f"a split of {v:g} new shares per old is stored on {day}, but the close moves only"
            f" x{math.exp(bars.r[i]):.3g} ({_num(bars.close[i - 1])} to {_num(bars.close[i])}):"
            " the bars look adjusted already, so the split is applied twice on read",
            "if the bars are adjusted, ingest them as traded with --replace; if the split is"
            f" wrong: {_delete_hint(ticker, day, day, 'actions')}",
        )
    return hits


def _index_volume(bars: _Bars, index_like: np.ndarray, t: Thresholds) -> _Hits:
    """Volume on an index, on a bar whose neighbouring sessions report none."""
    hits = _Hits.none("index_volume", "volume")
    at = np.flatnonzero(index_like)
    if at.size == 0:
        return hits
    typical = (
        bars.frame[at.tolist()]
        .select(
            pl.col("volume")
            .cast(pl.Float64)
            .rolling_median(t.index_volume_window, center=True, min_samples=1)
            .over(_SEG)
        )
        .to_series()
        .to_numpy()
    )
    rows = at[(bars.volume[at] > 0) & (typical == 0)]
    for i in rows.tolist():
        ticker, day = bars.ticker(i), bars.date(i)
        what = (
            "an index"
            if ticker.startswith("^")
            else f"{ticker}, which reports no volume on its other sessions (an index)"
        )
        prices = (
            f" (close {_num(bars.close[i])} after {_num(bars.close[i - 1])})"
            if not bars.first[i]
            else ""
        )
        hits.add(
            i,
            i,
            bool(bars.new[i]),
            f"volume {int(bars.volume[i]):,} on {what}{prices}: the bar likely belongs to"
            " another instrument",
            _replace_hint(ticker, day, day),
        )
    return hits


def _runs(bars: _Bars, flag: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last row of each run of consecutive flagged rows of one ticker, and whether
    the run holds an incoming row."""
    if not flag.any():
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=bool)
    edge = np.ones(bars.n, dtype=bool)
    edge[1:] = (flag[1:] != flag[:-1]) | (bars.seg[1:] != bars.seg[:-1])
    run = np.cumsum(edge) - 1
    firsts = np.flatnonzero(edge & flag)
    lasts = np.append(np.flatnonzero(edge)[1:], bars.n)[run[firsts]] - 1
    incoming = np.bincount(run, weights=bars.new & flag)[run[firsts]] > 0
    return firsts, lasts, incoming


def _zero_volume(bars: _Bars, index_like: np.ndarray, t: Thresholds) -> _Hits:
    """Runs of ``zero_volume_run`` or more sessions without volume, outside index-like series."""
    firsts, lasts, incoming = _runs(bars, (bars.volume == 0) & ~index_like)
    hits = _Hits.none("zero_volume_run", "volume")
    for a, b, new in zip(firsts.tolist(), lasts.tolist(), incoming.tolist(), strict=True):
        if b - a + 1 < t.zero_volume_run:
            continue
        ticker, first, last = bars.ticker(a), bars.date(a), bars.date(b)
        hits.add(
            a,
            b,
            bool(new),
            f"volume 0 for {b - a + 1} sessions in a row ({first} to {last}): a trading halt,"
            " or volume missing from the source",
            f"if {ticker} traded then, ingest those sessions from a source with volume with"
            f" --replace, or drop them: {_delete_hint(ticker, first, last)}",
        )
    return hits


def _stale(bars: _Bars, t: Thresholds) -> _Hits:
    """Runs of ``stale_run`` or more identical bars (open, high, low, close and volume)."""
    f = bars.frame
    same = np.zeros(bars.n, dtype=bool)
    same[1:] = bars.close[1:] == bars.close[:-1]
    same[bars.first] = False
    at = np.flatnonzero(same)  # few rows repeat a close: compare the other fields there only
    for name in ("open", "high", "low", "volume"):
        values = f[name].to_numpy()
        same[at] = values[at] == values[at - 1]
        at = at[same[at]]
    firsts, lasts, incoming = _runs(bars, same)
    hits = _Hits.none("stale_bars", "close")
    for a, b, new in zip(firsts.tolist(), lasts.tolist(), incoming.tolist(), strict=True):
        sessions = b - a + 2  # the repeats and the bar they repeat
        if sessions < t.stale_run:
            continue
        ticker, first, last = bars.ticker(a), bars.date(a), bars.date(b)
        hits.add(
            a,
            b,
            bool(new),
            f"the same open, high, low, close and volume for {sessions} sessions in a row"
            f" ({bars.date(a - 1)} to {last}): likely a bar the source repeated",
            "ingest those sessions again from the source with --replace, or drop the repeats:"
            f" {_delete_hint(ticker, first, last)}",
        )
    return hits


# -- entry points ----------------------------------------------------------------------------

_INVOLVED: Final = "_involved"


def _prepared(
    frame: pl.DataFrame, new: bool | None, file_type: pl.DataType | None = None
) -> pl.DataFrame:
    """Bars with the provenance columns the checks carry (``_file`` of ``file_type``, so that
    incoming and stored bars concatenate; names are cast to text for the findings only)."""
    kind = file_type or (frame.schema[FILE] if FILE in frame.columns else pl.String())
    cols = [
        pl.col(FILE).cast(kind) if FILE in frame.columns else pl.lit(None, kind),
        pl.col(ROW).cast(pl.Int64) if ROW in frame.columns else pl.lit(None, pl.Int64),
        pl.lit(new, pl.Boolean) if new is not None else pl.col(_NEW),
    ]
    return frame.select(
        "ticker",
        "date",
        *(pl.col(c).cast(pl.Float64) for c in ("open", "high", "low", "close")),
        pl.col("volume").cast(pl.Int64),
        *(c.alias(name) for c, name in zip(cols, (FILE, ROW, _NEW), strict=True)),
    )


def _in_order(frame: pl.DataFrame) -> bool:
    """Whether the rows are sorted by ticker and date, as a sorted list of files comes: then
    the frame needs no sort (which takes longer than all the checks on a universe)."""
    ticker, date = pl.col("ticker"), pl.col("date")
    before = ticker.shift(1)
    step = (ticker > before) | ((ticker == before) & (date > date.shift(1)))
    return bool(frame.select(step.fill_null(True).all()).item())


def _findings(
    frame: pl.DataFrame,
    splits: pl.DataFrame | None,
    indexes: Collection[str],
    adjusted: Collection[str],
    t: Thresholds,
    ordered: bool = False,
) -> pl.DataFrame:
    """Every finding of a prepared frame, with a column saying whether it involves a new bar;
    ``ordered`` says the frame is known to be sorted by ticker and date."""
    if not ordered and not _in_order(frame):
        frame = frame.sort("ticker", "date")
    if frame.is_empty():
        return empty_findings().with_columns(pl.lit(False).alias(_INVOLVED))
    bars = _Bars.of(frame)
    split_rows = (
        splits.filter(pl.col("kind") == "split")
        if splits is not None and "kind" in splits.columns
        else splits
    )
    if split_rows is None:
        split_rows = pl.DataFrame(
            schema={"ticker": pl.String, "date": pl.Date, "value": pl.Float64}
        )
    index_like = _index_like(bars, indexes, t)
    spikes, spike_mask = _spikes(bars, t)
    every = [
        spikes,
        _splits(bars, split_rows, index_like, spike_mask, adjusted, t),
        _split_not_in_bars(bars, split_rows, adjusted, t),
        _index_volume(bars, index_like, t),
        _zero_volume(bars, index_like, t),
        _stale(bars, t),
    ]
    parts = []
    for hits in every:
        if not hits.rows:
            continue
        picked = bars.frame[hits.rows]
        parts.append(
            pl.DataFrame(
                {
                    "ticker": picked["ticker"],
                    "date": picked["date"],
                    "last": bars.frame["date"].gather(hits.last),
                    "kind": [hits.kind] * len(hits.rows),
                    "field": [hits.field] * len(hits.rows),
                    "file": picked[FILE].cast(pl.String),
                    "row": picked[ROW],
                    "message": hits.messages,
                    "hint": hits.hints,
                    _INVOLVED: hits.involved,
                },
                schema={**FINDINGS, _INVOLVED: pl.Boolean()},
            )
        )
    if not parts:
        return empty_findings().with_columns(pl.lit(False).alias(_INVOLVED))
    return pl.concat(parts)


def scan(
    bars: pl.DataFrame,
    *,
    splits: pl.DataFrame | None = None,
    indexes: Collection[str] = (),
    adjusted: Collection[str] = (),
    thresholds: Thresholds = THRESHOLDS,
) -> pl.DataFrame:
    """Every suspicious bar of a frame of whole histories (what ``stockbrief doctor`` reads).

    Parameters
    ----------
    bars
        Bars as traded (``ticker, date, open, high, low, close, volume``), any order; ``_file``
        and ``_row`` columns, when present, say where each came from.
    splits
        Stored actions (``ticker, date, kind, value``; only splits are read) of those tickers.
    indexes
        Tickers stored as indexes (besides those starting with ``^``).
    adjusted
        Tickers whose bars their provider adjusted for splits and dividends: a split-like jump
        in them is a finding whether or not a split is stored, and a stored split on a flat
        day is none (the store never applies it to them).

    Returns
    -------
    polars.DataFrame
        :data:`FINDINGS` rows sorted by ticker, date and kind.
    """
    found = _findings(_prepared(bars, False), splits, indexes, adjusted, thresholds)
    return found.drop(_INVOLVED).sort("ticker", "date", "kind")


def check(
    incoming: pl.DataFrame,
    *,
    history: pl.DataFrame | None = None,
    splits: pl.DataFrame | None = None,
    indexes: Collection[str] = (),
    adjusted: Collection[str] = (),
    thresholds: Thresholds = THRESHOLDS,
) -> pl.DataFrame:
    """The findings that involve incoming bars, judged together with stored neighbours.

    A finding involves an incoming bar when it flags one, or when an incoming bar reveals it
    (the session after a stored spike takes it back; a run of stale bars goes on). Where an
    incoming bar replaces a stored one, the incoming bar is judged.

    Returns
    -------
    polars.DataFrame
        :data:`FINDINGS` rows in the order of the incoming rows (files, then rows), findings of
        stored bars after them.
    """
    found = _judge(incoming, history, splits, indexes, adjusted, thresholds)
    return _in_file_order(found, incoming)


def _judge(
    incoming: pl.DataFrame,
    history: pl.DataFrame | None,
    splits: pl.DataFrame | None,
    indexes: Collection[str],
    adjusted: Collection[str],
    t: Thresholds,
    ordered: bool = False,
) -> pl.DataFrame:
    """The findings of :func:`check` in no particular order; ``ordered`` says the incoming
    rows are sorted by ticker and date."""
    new = _prepared(incoming, True)
    if history is not None and not history.is_empty():
        old = _prepared(history.drop(FILE, ROW, strict=False), False, new.schema[FILE])
        old = old.join(new, on=["ticker", "date"], how="anti")
        new, ordered = pl.concat([new, old]), False
    found = _findings(new, splits, indexes, adjusted, t, ordered)
    return found.filter(pl.col(_INVOLVED)).drop(_INVOLVED)


def _in_file_order(found: pl.DataFrame, incoming: pl.DataFrame) -> pl.DataFrame:
    """Findings by file (in the order the files came), then row; stored bars' findings last."""
    files: list[str] = []
    if FILE in incoming.columns:
        files = incoming[FILE].unique(maintain_order=True).cast(pl.String).to_list()
    order = {name: i for i, name in enumerate(files)}
    rank = pl.col("file").replace_strict(order, default=None, return_dtype=pl.Int64)
    return (
        found.with_columns(rank.alias("__f"))
        .sort("__f", "row", "ticker", "date", "kind", nulls_last=True)
        .drop("__f")
    )


def index_tickers(securities: pl.DataFrame) -> list[str]:
    """Tickers the securities table says are indexes (where it records a ``type``)."""
    if "type" not in securities.columns:
        return []
    return securities.filter(pl.col("type").str.to_lowercase() == "index")["ticker"].to_list()


class StoredBars(Protocol):
    """What the ingest checks read from the store: bars as traded, actions and securities."""

    def bars(
        self,
        tickers: Sequence[str] | None = None,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> pl.DataFrame: ...

    def actions(self, tickers: Sequence[str] | None = None) -> pl.DataFrame: ...

    def securities(self) -> pl.DataFrame: ...


CHECK_BATCH: Final = 500
"""Tickers judged at a time at ingest, so the stored neighbours read stay bounded."""


def context_days(thresholds: Thresholds = THRESHOLDS) -> int:
    """Calendar days that hold the sessions of context on either side of a bar, with room for
    holidays (a week holds five sessions)."""
    return math.ceil(thresholds.context() * 7 / 5) + 14


def check_incoming(
    bars: pl.DataFrame,
    stored: StoredBars | None,
    *,
    adjusted: bool = False,
    thresholds: Thresholds = THRESHOLDS,
) -> tuple[Finding, ...]:
    """Judge validated incoming bars against the stored bars around them.

    ``adjusted`` says that the bars were adjusted by their provider (the ``adjusted`` price
    basis), so stored splits do not explain their jumps.

    Tickers are taken :data:`CHECK_BATCH` at a time, and for each batch only the stored bars
    within ``context_days`` before its incoming bars and after them are read: the daily update
    reads a few months per ticker, and re-ingesting a history does not read it back. Stored
    bars inside an incoming ticker's own date range are not read (its incoming bars stand for
    them).
    """
    if bars.is_empty():
        return ()
    indexes: list[str] = []
    if stored is not None:
        indexes = index_tickers(stored.securities())
    frame = bars if _in_order(bars) else bars.sort("ticker", "date")
    ticker = pl.col("ticker")
    starts = np.flatnonzero(
        frame.select((ticker != ticker.shift(1)).fill_null(True)).to_series().to_numpy()
    )
    ends = np.append(starts[1:], frame.height)
    margin = dt.timedelta(days=context_days(thresholds))
    day = dt.timedelta(days=1)
    found = []
    for k in range(0, starts.size, CHECK_BATCH):
        lo, hi = int(starts[k]), int(ends[min(k + CHECK_BATCH, starts.size) - 1])
        mine = frame.slice(lo, hi - lo)
        heads = starts[k : k + CHECK_BATCH] - lo
        tails = ends[k : k + CHECK_BATCH] - lo - 1
        names = sorted(mine["ticker"].gather(heads.tolist()).to_list())
        history = splits = None
        if stored is not None:
            first: list[dt.date] = mine["date"].gather(heads.tolist()).to_list()
            last: list[dt.date] = mine["date"].gather(tails.tolist()).to_list()
            history = pl.concat(
                [
                    stored.bars(names, start=min(first) - margin, end=max(first) - day),
                    stored.bars(names, start=min(last) + day, end=max(last) + margin),
                ]
            ).unique(["ticker", "date"], keep="first")
            splits = stored.actions(names)
        found.append(
            _judge(
                mine,
                history,
                splits,
                indexes,
                names if adjusted else (),
                thresholds,
                ordered=True,
            )
        )
    return as_findings(_in_file_order(pl.concat(found), bars))
