"""The universe engine: bars frame -> contiguous arrays -> indicator kernels -> frame and events.

:func:`compute` runs every indicator over every ticker in one kernel call each and returns, besides
the frame, an :class:`EngineState`; :func:`update` extends that state by newly stored sessions
without touching history, and gives bitwise the numbers a full recompute would give. The engine
takes and returns Polars frames and knows nothing of where they are stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief import detectors as ev
from stockbrief import latest_events
from stockbrief.errors import InputError
from stockbrief.kernels import INDICATORS, Indicator, run_many
from stockbrief.resume import INPUTS as INPUTS
from stockbrief.resume import (
    advance,
    kernels_for,
    slide,
    steady_tickers,
)
from stockbrief.resume import history_rows as history_rows
from stockbrief.resume import history_widths as history_widths

BARS_COLUMNS: Final = ("ticker", "date", *INPUTS)
BARS_SCHEMA: Final = {
    "ticker": pl.String(),
    "date": pl.Date(),
    **{c: pl.Float64() for c in INPUTS[:-1]},
    "volume": pl.Int64(),
}


def empty_events() -> pl.DataFrame:
    """An events frame with no rows, in the detectors' schema."""
    return pl.DataFrame(schema=ev.EVENTS_SCHEMA)


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def indicator_names(indicators: Mapping[str, Indicator] = INDICATORS) -> list[str]:
    """The indicators by name, in the order a saved state keeps them."""
    return list(indicators)


def output_columns(indicators: Mapping[str, Indicator] = INDICATORS) -> list[str]:
    """Names of every column the indicators add, in order."""
    return [name for ind in indicators.values() for name in ind.outputs]


@dataclass
class EngineState:
    """Everything needed to extend a computation by later sessions.

    Attributes
    ----------
    tickers
        Sorted tickers the state covers.
    history
        Per input column some windowed indicator reads, a ``(n_tickers, H)`` array of its last
        ``H`` rows (front-padded with NaN for short histories), ``H = history_widths()[input]``.
    filled
        Number of real rows per ticker, up to ``history_rows()`` (an input's array holds the
        last ``min(filled, H)`` of them).
    kernels
        Per indicator, its ``(n_tickers, n_state)`` kernel state after the last row.
    recent
        The last :data:`stockbrief.detectors.LOOKBACK` rows per ticker with inputs and outputs,
        which event detectors read as context.
    """

    tickers: list[str]
    history: dict[str, FloatArray]
    filled: IntArray
    kernels: dict[str, FloatArray]
    recent: pl.DataFrame

    def subset(self, tickers: Sequence[str]) -> EngineState:
        """The state of some tickers only (the others will start from scratch)."""
        keep = set(tickers)
        rows = np.array([i for i, t in enumerate(self.tickers) if t in keep], dtype=np.int64)
        return EngineState(
            [self.tickers[i] for i in rows],
            {c: a[rows] for c, a in self.history.items()},
            self.filled[rows],
            {n: a[rows] for n, a in self.kernels.items()},
            self.recent.filter(pl.col("ticker").is_in(list(keep))),
        )

    @classmethod
    def concat(cls, states: Sequence[EngineState]) -> EngineState:
        """One state from states of disjoint, ascending ticker batches."""
        if not states:
            return compute(pl.DataFrame(schema=BARS_SCHEMA)).state
        return cls(
            [t for s in states for t in s.tickers],
            {c: np.concatenate([s.history[c] for s in states]) for c in states[0].history},
            np.concatenate([s.filled for s in states]),
            {n: np.concatenate([s.kernels[n] for s in states]) for n in states[0].kernels},
            pl.concat([s.recent for s in states]),
        )

    @property
    def resumable(self) -> bool:
        """Whether every ticker keeps the recent rows the detectors read: ``LOOKBACK`` of them,
        or all it has. A state saved by a version whose detectors looked back less keeps fewer,
        and extending it would miss the events that need the longer context: recompute."""
        if not self.tickers:
            return True
        runs, offsets = _offsets(self.recent)
        counts = dict(zip(runs, np.diff(offsets).tolist(), strict=True))
        kept = np.fromiter((counts.get(t, 0) for t in self.tickers), np.int64, len(self.tickers))
        return bool(np.all(kept >= np.minimum(self.filled, ev.LOOKBACK)))

    @property
    def last_dates(self) -> pl.DataFrame:
        """Last computed session per ticker (the last of its recent rows, which run by ticker
        and date)."""
        runs, offsets = _offsets(self.recent)
        return pl.DataFrame(
            [
                pl.Series("ticker", runs, dtype=pl.String),
                self.recent["date"].gather(offsets[1:] - 1),
            ]
        )

    def to_frames(self) -> dict[str, pl.DataFrame]:
        """The state as frames of fixed-size array columns, for a store to keep.

        Each ``(n_tickers, k)`` array becomes one ``Array(Float64, k)`` column without passing
        through Python objects, so saving and loading cost about a copy of the numbers.
        """
        index = pl.Series("ticker", self.tickers, dtype=pl.String)
        history = pl.DataFrame(
            [index, pl.Series("filled", self.filled, dtype=pl.Int64)]
            + [_array_column(c, array) for c, array in self.history.items()]
        )
        kernels = pl.DataFrame(
            [index] + [_array_column(name, array) for name, array in self.kernels.items()]
        )
        return {"history": history, "kernels": kernels, "recent": self.recent}

    @classmethod
    def from_frames(cls, frames: Mapping[str, pl.DataFrame]) -> EngineState:
        """Rebuild a state saved with :meth:`to_frames`."""
        history, kernels = (_by_ticker(frames[name]) for name in ("history", "kernels"))
        arrays: dict[str, FloatArray] = {
            c: _matrix(history[c]) for c in INPUTS if c in history.columns
        }
        states = {name: _matrix(kernels[name]) for name in kernels.columns if name != "ticker"}
        return cls(
            history["ticker"].to_list(),
            arrays,
            history["filled"].to_numpy().astype(np.int64),
            states,
            frames["recent"],
        )


def _array_column(name: str, array: FloatArray) -> pl.Series:
    return pl.Series(name, array, dtype=pl.Array(pl.Float64, array.shape[1]))


def _by_ticker(frame: pl.DataFrame) -> pl.DataFrame:
    """A saved frame in ticker order (as saved, unless written by hand): no copy when it is."""
    return frame if frame["ticker"].is_sorted() else frame.sort("ticker")


def _matrix(column: pl.Series) -> FloatArray:
    """A saved array column as a ``(rows, width)`` float64 array (NaN kept), without a copy:
    an update writes only into arrays of its own, so the loaded state may be read-only."""
    dtype = column.dtype
    assert isinstance(dtype, pl.Array)
    width = dtype.size
    if column.is_empty():
        return np.empty((0, width))
    values = column.to_numpy()
    return np.asarray(values, dtype=np.float64).reshape(column.len(), width)


class Computed:
    """Bars with indicator columns, the events found in them, and the state to resume from.

    The frame is assembled on first use: a universe job keeps the events and the state and
    never reads the indicator columns of every row, whose assembly (a null mask over each of
    some twenty columns) would cost more than the kernels that filled them.
    """

    def __init__(
        self,
        frame: pl.DataFrame | Callable[[], pl.DataFrame],
        events: pl.DataFrame,
        state: EngineState,
        rows: int | None = None,
    ) -> None:
        self._frame = frame
        self.events = events
        self.state = state
        self.rows = frame.height if isinstance(frame, pl.DataFrame) else rows or 0
        """Bars computed (the frame's height, known without assembling it)."""

    @functools.cached_property
    def frame(self) -> pl.DataFrame:
        """The bars with one column per indicator output (null in warm-up rows)."""
        return self._frame if isinstance(self._frame, pl.DataFrame) else self._frame()


def _offsets(bars: pl.DataFrame) -> tuple[list[str], IntArray]:
    """Tickers and segment bounds of a frame sorted by ticker (its runs: one pass, no hash)."""
    runs = bars["ticker"].rle().struct.unnest()
    offsets = np.zeros(runs.height + 1, dtype=np.int64)
    np.cumsum(runs["len"].to_numpy(), out=offsets[1:])
    return runs["value"].to_list(), offsets


def _check_sorted(bars: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in BARS_COLUMNS if c not in bars.columns]
    if missing:
        raise InputError(f"bars frame lacks column(s) {', '.join(missing)}")
    ordered = bars.select(
        (
            (pl.col("ticker") > pl.col("ticker").shift(1))
            | (
                (pl.col("ticker") == pl.col("ticker").shift(1))
                & (pl.col("date") > pl.col("date").shift(1))
            )
        )
        .slice(1)
        .all()
    ).item()
    return bars if ordered is not False else bars.sort("ticker", "date")


def _arrays(bars: pl.DataFrame) -> dict[str, FloatArray]:
    return {c: bars[c].cast(pl.Float64).to_numpy() for c in INPUTS}


def _with_outputs(bars: pl.DataFrame, outputs: Mapping[str, FloatArray]) -> pl.DataFrame:
    # One frame of every output, nulls for NaN in one pass of the query engine (a pass per
    # column costs more than the kernels on a daily update).
    made = pl.DataFrame(
        {name: pl.Series(values, dtype=pl.Float64) for name, values in outputs.items()}
    )
    return bars.hstack(made.select(pl.all().fill_nan(None)))


def _tail_positions(offsets: IntArray, width: int) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Row positions of the last ``width`` rows of each segment, and which exist."""
    positions = offsets[1:, None] - width + np.arange(width, dtype=np.int64)[None, :]
    return positions, positions >= offsets[:-1, None]


def _tail_frame(frame: pl.DataFrame, offsets: IntArray, width: int) -> pl.DataFrame:
    positions, valid = _tail_positions(offsets, width)
    return frame[positions[valid]]


def _history(
    columns: Mapping[str, FloatArray], offsets: IntArray, widths: Mapping[str, int]
) -> dict[str, FloatArray]:
    history = {}
    for c, width in widths.items():
        positions, valid = _tail_positions(offsets, width)
        values = (
            columns[c][np.clip(positions, 0, None)] if positions.size else np.empty(positions.shape)
        )
        history[c] = np.where(valid, values, np.nan)
    return history


def compute(bars: pl.DataFrame, indicators: Mapping[str, Indicator] = INDICATORS) -> Computed:
    """Indicators and events for every ticker of a bars frame, in one pass.

    Parameters
    ----------
    bars
        ``ticker, date, open, high, low, close, volume``; sorted by ticker and date (sorted here
        otherwise). Pass bars up to the as-of date only: nothing here looks past a row.

    Notes
    -----
    Warm-up rows are null. The result for a date depends only on rows up to that date, so
    computing on bars truncated at ``D`` gives the same values up to ``D`` as computing on all.
    """
    bars = _check_sorted(bars.select(BARS_COLUMNS))
    tickers, offsets = _offsets(bars)
    columns = _arrays(bars)
    outputs, kernels = run_many(list(indicators.values()), columns, offsets)
    ordered = {c: outputs[c] for c in output_columns(indicators)}
    positions, valid = _tail_positions(offsets, ev.LOOKBACK)
    recent = positions[valid]
    state = EngineState(
        tickers,
        _history(columns, offsets, history_widths(indicators)),
        np.minimum(np.diff(offsets), history_rows(indicators)),
        kernels,
        _with_outputs(bars[recent], {c: v[recent] for c, v in ordered.items()}),
    )

    def frame() -> pl.DataFrame:
        return _with_outputs(bars, ordered)

    arrays = {**columns, **outputs}
    if all(c in arrays for c in ev.INPUTS):
        found = ev.detect_arrays(pl.Series("ticker", tickers), offsets, bars["date"], arrays)
    else:  # an indicator set without what the detectors read: they derive it from the frame
        found = ev.detect(frame())
    return Computed(frame, found, state, bars.height)


def _grown(
    state: EngineState, tickers: list[str], indicators: Mapping[str, Indicator], moved: int
) -> tuple[dict[str, FloatArray], IntArray, dict[str, FloatArray]]:
    """The state's arrays over ``tickers`` (new tickers start empty), of which ``moved`` have
    new rows: copies wherever those rows will be written."""
    if tickers == state.tickers:
        # History arrays are replaced, not written, when every ticker moves (see update), and
        # so are the kernel states; otherwise the moved tickers' rows are written into copies.
        everyone = len(tickers) == moved
        return (
            dict(state.history),
            state.filled.copy(),
            {n: state.kernels[n] if everyone else state.kernels[n].copy() for n in indicators},
        )
    where = np.searchsorted(np.array(tickers), np.array(state.tickers)).astype(np.int64)
    n = len(tickers)
    history = {c: np.full((n, w), np.nan) for c, w in history_widths(indicators).items()}
    filled = np.zeros(n, dtype=np.int64)
    kernels = {name: ind.initial_state(n) for name, ind in indicators.items()}
    for c in history:
        history[c][where] = state.history[c]
    filled[where] = state.filled
    for name in indicators:
        kernels[name][where] = state.kernels[name]
    return history, filled, kernels


def _latest(
    recent: pl.DataFrame, rows: IntArray, frame: pl.DataFrame, today: Mapping[str, FloatArray]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Events of one new session per ticker and the recent rows moved on, for tickers that
    each keep exactly :data:`~stockbrief.detectors.LOOKBACK` recent rows (``recent``, in ticker
    order; ``rows`` are the positions of ``frame``'s tickers among them)."""
    lookback = ev.LOOKBACK
    n = recent.height // lookback
    values = recent.select(
        pl.col(c).cast(pl.Float64).fill_null(np.nan) for c in latest_events.COLUMNS
    ).to_numpy()
    everyone = rows.size == n  # rows are then 0..n-1: views, no copies
    blocks = (values[:, k].reshape(n, lookback) for k in range(values.shape[1]))
    before = {
        c: block if everyone else block[rows]
        for c, block in zip(latest_events.COLUMNS, blocks, strict=True)
    }
    found = latest_events.detect_latest(frame["ticker"], frame["date"], before, today)
    index = np.arange(n * lookback, dtype=np.int64).reshape(n, lookback)
    moved = index.copy()
    moved[rows, :-1] = index[rows, 1:]
    moved[rows, -1] = n * lookback + np.arange(rows.size)
    kept = recent.vstack(frame.select(recent.columns)).gather(moved.ravel())
    return found, kept


def _quick_event_tickers(
    recent: pl.DataFrame, new_tickers: list[str], n_new: IntArray
) -> tuple[list[str], npt.NDArray[np.bool_]]:
    """The known tickers whose events :func:`_latest` can find (a full set of recent rows, at
    most one new session), and which of the new rows' tickers are among them."""
    lengths = recent["ticker"].rle().struct.unnest()
    full = lengths.filter(pl.col("len") == ev.LOOKBACK)["value"].to_list()
    single = dict(zip(new_tickers, (n_new == 1).tolist(), strict=True))
    known = [t for t in full if single.get(t, True)]
    # A set, not np.isin: on object arrays numpy compares every pair (25M for 5,000 tickers).
    chosen = set(known)
    return known, np.fromiter((t in chosen for t in new_tickers), bool, len(new_tickers))


def _events_split(
    recent: pl.DataFrame,
    frame: pl.DataFrame,
    new_tickers: list[str],
    n_new: IntArray,
    today: Mapping[str, FloatArray],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Events on the new rows and the recent rows to keep: one-row detection for the tickers
    :func:`_quick_event_tickers` allows, the detectors' kernels for the others (a new listing,
    several sessions), merged in the order the kernels give."""
    if any(c not in today or c not in recent.columns for c in latest_events.COLUMNS):
        return _events_and_recent(recent, frame, new_tickers)
    known, quick = _quick_event_tickers(recent, new_tickers, n_new)
    if not quick.any():
        return _events_and_recent(recent, frame, new_tickers)
    position = {t: i for i, t in enumerate(known)}
    rows = np.array([position[t] for t in np.array(new_tickers, dtype=object)[quick]])
    quick_rows = np.repeat(quick, n_new)
    if quick.all() and len(known) * ev.LOOKBACK == recent.height:
        return _latest(recent, rows, frame, today)
    in_known = pl.col("ticker").is_in(known)
    found, kept = _latest(
        recent.filter(in_known),
        rows,
        frame.filter(pl.Series(quick_rows)),
        {c: v[quick_rows] for c, v in today.items()},
    )
    slow = [t for t, q in zip(new_tickers, quick.tolist(), strict=True) if not q]
    if slow:
        found_slow, kept_slow = _events_and_recent(
            recent.filter(~in_known), frame.filter(pl.Series(~quick_rows)), slow
        )
    else:  # short-lived tickers without a new session keep their rows
        found_slow, kept_slow = found.clear(), recent.filter(~in_known)
    return (
        pl.concat([found, found_slow]).sort("ticker", "date", "kind", maintain_order=True),
        pl.concat([kept, kept_slow]).sort("ticker", "date"),
    )


def _events_and_recent(
    recent: pl.DataFrame, frame: pl.DataFrame, new_tickers: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Events on the new rows, by the kernels over them and their recent rows, and the
    recent rows to keep."""
    updated = pl.concat([recent.filter(pl.col("ticker").is_in(new_tickers)), frame])
    updated = updated.sort("ticker", "date")
    found = ev.detect(updated).join(
        frame.select("ticker", "date"), on=["ticker", "date"], how="semi"
    )
    _, offsets = _offsets(updated)
    kept = pl.concat(
        [
            recent.filter(~pl.col("ticker").is_in(new_tickers)),
            _tail_frame(updated, offsets, ev.LOOKBACK),
        ]
    ).sort("ticker", "date")
    return found, kept


def update(
    state: EngineState, new_bars: pl.DataFrame, indicators: Mapping[str, Indicator] = INDICATORS
) -> Computed:
    """Extend a computation by sessions after the last computed one, from state alone.

    Parameters
    ----------
    state
        From :func:`compute` or a previous :func:`update`.
    new_bars
        Bars dated after each ticker's last computed session; tickers the state does not know
        start from scratch.

    Returns
    -------
    Computed
        The new rows with their indicators, the events dated on them, and the new state.
        Identical (bitwise) to the matching rows of a full :func:`compute` over all bars.

    Raises
    ------
    InputError
        When a new bar is not after its ticker's last computed session.
    """
    new_bars = _check_sorted(new_bars.select(BARS_COLUMNS))
    width = history_rows(indicators)
    late = (
        new_bars.group_by("ticker")
        .agg(pl.col("date").min())
        .join(state.last_dates, on="ticker", suffix="_last")
        .filter(pl.col("date") <= pl.col("date_last"))
    )
    if late.height:
        row = late.row(0, named=True)
        raise InputError(
            f"{row['ticker']}: bar of {row['date']} is not after the last computed session "
            f"{row['date_last']}; recompute this ticker instead of updating it",
            field="date",
        )
    new_tickers, new_offsets = _offsets(new_bars)
    all_tickers = sorted(set(state.tickers) | set(new_tickers))
    position = {t: i for i, t in enumerate(all_tickers)}
    rows = np.array([position[t] for t in new_tickers], dtype=np.int64)
    history, filled, kernels = _grown(state, all_tickers, indicators, rows.size)

    n_new = np.diff(new_offsets)
    new_columns = _arrays(new_bars)
    everyone = rows.size == len(all_tickers)  # rows are then 0..n-1, in order
    blocks = {c: history[c] if everyone else history[c][rows] for c in history}
    states = dict(kernels) if everyone else {n: kernels[n][rows] for n in indicators}
    fast = steady_tickers(indicators, states, blocks, new_columns, new_offsets, n_new)
    slow_rows = np.minimum(filled[rows], width) + n_new + ev.LOOKBACK
    with kernels_for(int(slow_rows[~fast].sum())):
        outputs, states = advance(
            indicators, fast, blocks, filled[rows], states, new_columns, new_offsets
        )
        for name in indicators:
            if everyone:  # the steps and kernels return new arrays: nothing saved is written
                kernels[name] = states[name]
            else:
                kernels[name][rows] = states[name]
        frame = _with_outputs(new_bars, {c: outputs[c] for c in output_columns(indicators)})
        for c in blocks:
            slid = slide(blocks[c], new_columns[c], new_offsets, n_new)
            if everyone:
                history[c] = slid
            else:
                history[c] = history[c].copy()
                history[c][rows] = slid
        filled[rows] = np.minimum(filled[rows] + n_new, width)

        found, kept = _events_split(
            state.recent, frame, new_tickers, n_new, {**new_columns, **outputs}
        )
        return Computed(frame, found, EngineState(all_tickers, history, filled, kernels, kept))
