"""The universe engine: bars frame -> contiguous arrays -> indicator kernels -> frame and events.

:func:`compute` runs every indicator over every ticker in one kernel call each and returns, besides
the frame, an :class:`EngineState`; :func:`update` extends that state by newly stored sessions
without touching history, and gives bitwise the numbers a full recompute would give. The engine
takes and returns Polars frames and knows nothing of where they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief import events as ev
from stockbrief.errors import InputError
from stockbrief.indicators import INDICATORS, Indicator, run_many

INPUTS: Final = ("open", "high", "low", "close", "volume")
BARS_COLUMNS: Final = ("ticker", "date", *INPUTS)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def output_columns(indicators: Mapping[str, Indicator] = INDICATORS) -> list[str]:
    """Names of every column the indicators add, in order."""
    return [name for ind in indicators.values() for name in ind.outputs]


def history_rows(indicators: Mapping[str, Indicator] = INDICATORS) -> int:
    """Trailing input rows per ticker that resuming every indicator needs."""
    return max((ind.window for ind in indicators.values()), default=0)


@dataclass
class EngineState:
    """Everything needed to extend a computation by later sessions.

    Attributes
    ----------
    tickers
        Sorted tickers the state covers.
    history
        Per input column, a ``(n_tickers, H)`` array of the last ``H`` input rows (front-padded
        with NaN for short histories), ``H = history_rows()``.
    filled
        Number of real rows in ``history`` per ticker.
    kernels
        Per indicator, its ``(n_tickers, n_state)`` kernel state after the last row.
    recent
        The last :data:`stockbrief.events.LOOKBACK` rows per ticker with inputs and outputs,
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

    @property
    def last_dates(self) -> pl.DataFrame:
        """Last computed session per ticker."""
        return self.recent.group_by("ticker").agg(pl.col("date").max()).sort("ticker")

    def to_frames(self) -> dict[str, pl.DataFrame]:
        """The state as plain frames (list columns), for a store to keep."""
        index = pl.Series("ticker", self.tickers, dtype=pl.String)
        history = pl.DataFrame(
            [index, pl.Series("filled", self.filled, dtype=pl.Int64)]
            + [pl.Series(c, self.history[c].tolist(), dtype=pl.List(pl.Float64)) for c in INPUTS]
        )
        kernels = pl.DataFrame(
            [index]
            + [
                pl.Series(name, array.tolist(), dtype=pl.List(pl.Float64))
                for name, array in self.kernels.items()
            ]
        )
        return {"history": history, "kernels": kernels, "recent": self.recent}

    @classmethod
    def from_frames(cls, frames: Mapping[str, pl.DataFrame]) -> EngineState:
        """Rebuild a state saved with :meth:`to_frames`."""
        history, kernels = frames["history"].sort("ticker"), frames["kernels"].sort("ticker")
        width = history_rows()
        arrays = {
            c: np.array(history[c].to_list(), dtype=np.float64).reshape(history.height, width)
            for c in INPUTS
        }
        states = {
            name: np.array(kernels[name].to_list(), dtype=np.float64).reshape(
                kernels.height, INDICATORS[name].n_state
            )
            for name in kernels.columns
            if name != "ticker"
        }
        return cls(
            history["ticker"].to_list(),
            arrays,
            history["filled"].to_numpy().astype(np.int64),
            states,
            frames["recent"],
        )


@dataclass(frozen=True)
class Computed:
    """Bars with indicator columns, the events found in them, and the state to resume from."""

    frame: pl.DataFrame
    events: pl.DataFrame
    state: EngineState


def _offsets(bars: pl.DataFrame) -> tuple[list[str], IntArray]:
    runs = bars.group_by("ticker", maintain_order=True).len()
    offsets = np.zeros(runs.height + 1, dtype=np.int64)
    np.cumsum(runs["len"].to_numpy(), out=offsets[1:])
    return runs["ticker"].to_list(), offsets


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
    return bars.with_columns(
        pl.Series(name, values, dtype=pl.Float64).fill_nan(None) for name, values in outputs.items()
    )


def _tail_positions(offsets: IntArray, width: int) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Row positions of the last ``width`` rows of each segment, and which exist."""
    positions = offsets[1:, None] - width + np.arange(width, dtype=np.int64)[None, :]
    return positions, positions >= offsets[:-1, None]


def _tail_frame(frame: pl.DataFrame, offsets: IntArray, width: int) -> pl.DataFrame:
    positions, valid = _tail_positions(offsets, width)
    return frame[positions[valid]]


def _history(
    columns: Mapping[str, FloatArray], offsets: IntArray, width: int
) -> dict[str, FloatArray]:
    positions, valid = _tail_positions(offsets, width)
    history = {}
    for c in INPUTS:
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
    frame = _with_outputs(bars, {c: outputs[c] for c in output_columns(indicators)})
    width = history_rows(indicators)
    state = EngineState(
        tickers,
        _history(columns, offsets, width),
        np.minimum(np.diff(offsets), width),
        kernels,
        _tail_frame(frame, offsets, ev.LOOKBACK),
    )
    return Computed(frame, ev.detect(frame), state)


def _segments(lengths: IntArray) -> tuple[IntArray, IntArray]:
    """Offsets of back-to-back segments of the given lengths, and each row's segment."""
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets, np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)


def _grown(
    state: EngineState, tickers: list[str], indicators: Mapping[str, Indicator], width: int
) -> tuple[dict[str, FloatArray], IntArray, dict[str, FloatArray]]:
    """Copies of the state's arrays over ``tickers`` (new tickers start empty)."""
    if tickers == state.tickers:
        # History arrays are replaced, not written, when every ticker moves (see update).
        return (
            dict(state.history),
            state.filled.copy(),
            {n: state.kernels[n].copy() for n in indicators},
        )
    where = np.searchsorted(np.array(tickers), np.array(state.tickers)).astype(np.int64)
    n = len(tickers)
    history = {c: np.full((n, width), np.nan) for c in INPUTS}
    filled = np.zeros(n, dtype=np.int64)
    kernels = {name: ind.initial_state(n) for name, ind in indicators.items()}
    for c in INPUTS:
        history[c][where] = state.history[c]
    filled[where] = state.filled
    for name in indicators:
        kernels[name][where] = state.kernels[name]
    return history, filled, kernels


def _resume_inputs(
    blocks: Mapping[str, FloatArray],
    inputs: Sequence[str],
    context: IntArray,
    new_columns: Mapping[str, FloatArray],
    new_offsets: IntArray,
    n_new: IntArray,
) -> tuple[IntArray, dict[str, FloatArray], npt.NDArray[np.bool_]]:
    """Per ticker, its last ``context`` history rows followed by its new rows, back to back.

    ``blocks`` holds the history rows of the updated tickers, in the order of ``new_offsets``.
    """
    m = context.size
    width = next(iter(blocks.values())).shape[1]
    if m and np.all(context == context[0]) and np.all(n_new == n_new[0]):
        # The daily case: every ticker has the same context and new rows; plain slicing.
        c, k = int(context[0]), int(n_new[0])
        offsets = np.arange(m + 1, dtype=np.int64) * (c + k)
        is_new = np.tile(np.arange(c + k) >= c, m)
        columns = {
            name: np.concatenate(
                [blocks[name][:, width - c :], new_columns[name].reshape(m, k)], axis=1
            ).ravel()
            for name in inputs
        }
        return offsets, columns, is_new
    offsets, segment = _segments(context + n_new)
    local = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[segment]
    is_new = local >= context[segment]
    old = ~is_new
    hist_row = segment[old]
    hist_col = (width - context[segment] + local)[old]
    new_pos = (new_offsets[segment] + local - context[segment])[is_new]
    columns = {}
    for name in inputs:
        values = np.empty(int(offsets[-1]))
        values[old] = blocks[name][hist_row, hist_col]
        values[is_new] = new_columns[name][new_pos]
        columns[name] = values
    return offsets, columns, is_new


def _slide(
    block: FloatArray, new_values: FloatArray, new_offsets: IntArray, n_new: IntArray
) -> FloatArray:
    """History rows moved forward by each ticker's new values (front padding stays NaN)."""
    m, width = block.shape
    if m and np.all(n_new == n_new[0]):
        k = int(n_new[0])
        fresh = new_values.reshape(m, k)
        return np.concatenate([block[:, k:], fresh[:, -width:]], axis=1)[:, -width:]
    source = n_new[:, None] + np.arange(width, dtype=np.int64)[None, :]
    from_history = source < width
    old = block[np.arange(m)[:, None], np.minimum(source, width - 1)]
    new = new_values[new_offsets[:-1, None] + np.maximum(source - width, 0)]
    slid: FloatArray = np.where(from_history, old, new)
    return slid


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
    history, filled, kernels = _grown(state, all_tickers, indicators, width)

    n_new = np.diff(new_offsets)
    new_columns = _arrays(new_bars)
    outputs: dict[str, FloatArray] = {}
    by_window: dict[int, list[str]] = {}
    for name, indicator in indicators.items():
        # Two fused passes: recursive indicators need no context, windowed ones share the
        # longest window (more context than a kernel needs is allowed, and one pass over
        # 252 rows a ticker beats one pass per window length).
        by_window.setdefault(min(indicator.window, 1) * width, []).append(name)
    everyone = rows.size == len(all_tickers)  # rows are then 0..n-1, in order
    blocks = {c: history[c] if everyone else history[c][rows] for c in INPUTS}
    for window, names in by_window.items():
        # Context rows: none for recursive indicators, the longest window for the others.
        context = np.minimum(filled[rows], window)
        needed = sorted({c for n in names for c in indicators[n].inputs})
        offsets, columns, is_new = _resume_inputs(
            blocks, needed, context, new_columns, new_offsets, n_new
        )
        out, states = run_many(
            [indicators[n] for n in names],
            columns,
            offsets,
            context,
            {n: kernels[n][rows] for n in names},
        )
        for name in names:
            kernels[name][rows] = states[name]
        outputs.update({k: v[is_new] for k, v in out.items()})
    frame = _with_outputs(new_bars, {c: outputs[c] for c in output_columns(indicators)})
    for c in INPUTS:
        slid = _slide(blocks[c], new_columns[c], new_offsets, n_new)
        if everyone:
            history[c] = slid
        else:
            history[c] = history[c].copy()
            history[c][rows] = slid
    filled[rows] = np.minimum(filled[rows] + n_new, width)

    recent = pl.concat([state.recent.filter(pl.col("ticker").is_in(new_tickers)), frame])
    recent = recent.sort("ticker", "date")
    found = ev.detect(recent).join(
        frame.select("ticker", "date"), on=["ticker", "date"], how="semi"
    )
    _, recent_offsets = _offsets(recent)
    kept = pl.concat(
        [
            state.recent.filter(~pl.col("ticker").is_in(new_tickers)),
            _tail_frame(recent, recent_offsets, ev.LOOKBACK),
        ]
    ).sort("ticker", "date")
    return Computed(frame, found, EngineState(all_tickers, history, filled, kernels, kept))
