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
from stockbrief import latest_events, steady
from stockbrief.errors import InputError
from stockbrief.kernels import INDICATORS, Indicator, run_many

INPUTS: Final = ("open", "high", "low", "close", "volume")
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


def history_rows(indicators: Mapping[str, Indicator] = INDICATORS) -> int:
    """Trailing input rows per ticker that resuming every indicator needs."""
    return max((ind.window for ind in indicators.values()), default=0)


def history_widths(indicators: Mapping[str, Indicator] = INDICATORS) -> dict[str, int]:
    """Trailing rows kept per input: the longest window among the indicators that read it.

    An input no windowed indicator reads keeps none, so the saved state holds what resuming
    needs and no more (the daily update writes it back every day). The widths are made equal
    across the inputs of any one indicator, which reads them all with one context.
    """
    windowed = [ind for ind in indicators.values() if ind.window > 0]
    widths = {c: 0 for ind in windowed for c in ind.inputs}
    for ind in windowed:
        for c in ind.inputs:
            widths[c] = max(widths[c], ind.window)
    changed = True
    while changed:
        changed = False
        for ind in windowed:
            k = max(widths[c] for c in ind.inputs)
            for c in ind.inputs:
                if widths[c] < k:
                    widths[c], changed = k, True
    return {c: widths[c] for c in INPUTS if c in widths}


def _context(indicator: Indicator, widths: Mapping[str, int]) -> int:
    """History rows an indicator resumes from: none if recursive, else its inputs' width."""
    return max(widths[c] for c in indicator.inputs) if indicator.window > 0 else 0


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
    def last_dates(self) -> pl.DataFrame:
        """Last computed session per ticker."""
        return self.recent.group_by("ticker").agg(pl.col("date").max()).sort("ticker")

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
        history, kernels = frames["history"].sort("ticker"), frames["kernels"].sort("ticker")
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


def _matrix(column: pl.Series) -> FloatArray:
    """A saved array column as a writable ``(rows, width)`` float64 array (NaN kept)."""
    dtype = column.dtype
    assert isinstance(dtype, pl.Array)
    width = dtype.size
    if column.is_empty():
        return np.empty((0, width))
    values = column.to_numpy()
    return np.array(values, dtype=np.float64).reshape(column.len(), width)


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


def _segments(lengths: IntArray) -> tuple[IntArray, IntArray]:
    """Offsets of back-to-back segments of the given lengths, and each row's segment."""
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets, np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)


def _grown(
    state: EngineState, tickers: list[str], indicators: Mapping[str, Indicator]
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
    history = {c: np.full((n, w), np.nan) for c, w in history_widths(indicators).items()}
    filled = np.zeros(n, dtype=np.int64)
    kernels = {name: ind.initial_state(n) for name, ind in indicators.items()}
    for c in history:
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
) -> tuple[IntArray, dict[str, FloatArray]]:
    """Per ticker, its last ``context`` history rows followed by its new rows, back to back.

    ``blocks`` holds the history rows of the updated tickers, in the order of ``new_offsets``.
    """
    m = context.size
    if m and np.all(context == context[0]) and np.all(n_new == n_new[0]):
        # The daily case: every ticker has the same context and new rows; plain slicing.
        c, k = int(context[0]), int(n_new[0])
        offsets = np.arange(m + 1, dtype=np.int64) * (c + k)
        columns = {
            name: np.concatenate(
                [blocks[name][:, blocks[name].shape[1] - c :], new_columns[name].reshape(m, k)],
                axis=1,
            ).ravel()
            for name in inputs
        }
        return offsets, columns
    offsets, segment = _segments(context + n_new)
    local = np.arange(int(offsets[-1]), dtype=np.int64) - offsets[segment]
    is_new = local >= context[segment]
    old = ~is_new
    hist_row = segment[old]
    hist_col = (local - context[segment])[old]
    new_pos = (new_offsets[segment] + local - context[segment])[is_new]
    columns = {}
    for name in inputs:
        values = np.empty(int(offsets[-1]))
        values[old] = blocks[name][hist_row, blocks[name].shape[1] + hist_col]
        values[is_new] = new_columns[name][new_pos]
        columns[name] = values
    return offsets, columns


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


def _steady_tickers(
    indicators: Mapping[str, Indicator],
    states: Mapping[str, FloatArray],
    blocks: Mapping[str, FloatArray],
    new_columns: Mapping[str, FloatArray],
    new_offsets: IntArray,
    n_new: IntArray,
) -> npt.NDArray[np.bool_]:
    """Which updated tickers take the steady step: one new session, all indicators warm."""
    single = n_new == 1
    if not single.any() or not indicators or not steady.covers(indicators):
        return np.zeros(n_new.size, dtype=np.bool_)
    first = np.minimum(new_offsets[:-1], max(int(new_offsets[-1]) - 1, 0))
    bar = {c: new_columns[c][first] for c in INPUTS}
    counts = next(iter(states.values()))[:, 0]
    warm: npt.NDArray[np.bool_] = single & steady.ready(indicators, counts, bar, blocks)
    return warm


def _advance_kernels(
    indicators: Mapping[str, Indicator],
    blocks: Mapping[str, FloatArray],
    filled: IntArray,
    states: Mapping[str, FloatArray],
    new_columns: Mapping[str, FloatArray],
    new_offsets: IntArray,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """The new rows through the kernels, resumed from each ticker's state and context rows."""
    widths = history_widths(indicators)
    n_new = np.diff(new_offsets)
    by_window: dict[int, list[str]] = {}
    for name, indicator in indicators.items():
        # Fused passes: recursive indicators need no context; windowed ones reading the same
        # inputs share their inputs' width (more context than a kernel needs is allowed, and
        # one pass over the kept rows beats one pass per window length).
        by_window.setdefault(_context(indicator, widths), []).append(name)
    outputs: dict[str, FloatArray] = {}
    states_out: dict[str, FloatArray] = {}
    for window, names in by_window.items():
        context = np.minimum(filled, window)
        needed = sorted({c for n in names for c in indicators[n].inputs})
        offsets, columns = _resume_inputs(blocks, needed, context, new_columns, new_offsets, n_new)
        out, passed = run_many(
            [indicators[n] for n in names],
            columns,
            offsets,
            context,
            {n: states[n] for n in names},
            new_rows_only=True,
        )
        states_out.update(passed)
        outputs.update(out)
    return outputs, states_out


def _advance_split(
    indicators: Mapping[str, Indicator],
    fast: npt.NDArray[np.bool_],
    blocks: Mapping[str, FloatArray],
    filled: IntArray,
    states: Mapping[str, FloatArray],
    new_columns: Mapping[str, FloatArray],
    n_new: IntArray,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """The steady tickers by the steady step, the others through the kernels, merged back in
    the order of the new rows."""
    slow = ~fast
    fast_rows, slow_rows = np.repeat(fast, n_new), np.repeat(slow, n_new)
    quick, quick_states = steady.advance(
        indicators,
        {n: s[fast] for n, s in states.items()},
        {c: new_columns[c][fast_rows] for c in INPUTS},
        {c: b[fast] for c, b in blocks.items()},
    )
    slow_offsets, _ = _segments(n_new[slow])
    rest, rest_states = _advance_kernels(
        indicators,
        {c: b[slow] for c, b in blocks.items()},
        filled[slow],
        {n: s[slow] for n, s in states.items()},
        {c: new_columns[c][slow_rows] for c in INPUTS},
        slow_offsets,
    )
    outputs: dict[str, FloatArray] = {}
    for name, values in quick.items():
        merged = np.empty(fast_rows.size)
        merged[fast_rows] = values
        merged[slow_rows] = rest[name]
        outputs[name] = merged
    states_out: dict[str, FloatArray] = {}
    for name, values in quick_states.items():
        merged_state = np.empty((fast.size, values.shape[1]))
        merged_state[fast] = values
        merged_state[slow] = rest_states[name]
        states_out[name] = merged_state
    return outputs, states_out


def _latest(
    state: EngineState, rows: IntArray, frame: pl.DataFrame, today: Mapping[str, FloatArray]
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """Events of one new session per ticker and the recent rows moved on, when every ticker
    keeps a full :data:`~stockbrief.detectors.LOOKBACK` of recent rows (the daily case)."""
    lookback, n = ev.LOOKBACK, len(state.tickers)
    recent = state.recent
    if recent.height != n * lookback or recent["ticker"].n_unique() != n:
        return None
    if any(c not in today or c not in recent.columns for c in latest_events.COLUMNS):
        return None
    block = (
        recent.select(pl.col(c).cast(pl.Float64).fill_null(np.nan) for c in latest_events.COLUMNS)
        .to_numpy()
        .reshape(n, lookback, len(latest_events.COLUMNS), order="C")
    )
    before = {c: block[rows, :, k] for k, c in enumerate(latest_events.COLUMNS)}
    found = latest_events.detect_latest(frame["ticker"], frame["date"], before, today)
    index = np.arange(n * lookback, dtype=np.int64).reshape(n, lookback)
    moved = index.copy()
    moved[rows, :-1] = index[rows, 1:]
    moved[rows, -1] = n * lookback + np.arange(rows.size)
    kept = pl.concat([recent, frame.select(recent.columns)]).gather(moved.ravel())
    return found, kept


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
    history, filled, kernels = _grown(state, all_tickers, indicators)

    n_new = np.diff(new_offsets)
    new_columns = _arrays(new_bars)
    everyone = rows.size == len(all_tickers)  # rows are then 0..n-1, in order
    blocks = {c: history[c] if everyone else history[c][rows] for c in history}
    states = {n: kernels[n][rows] for n in indicators}
    fast = _steady_tickers(indicators, states, blocks, new_columns, new_offsets, n_new)
    if fast.all():
        outputs, states = steady.advance(
            indicators, states, {c: new_columns[c] for c in INPUTS}, blocks
        )
    elif not fast.any():
        outputs, states = _advance_kernels(
            indicators, blocks, filled[rows], states, new_columns, new_offsets
        )
    else:
        outputs, states = _advance_split(
            indicators, fast, blocks, filled[rows], states, new_columns, n_new
        )
    for name in indicators:
        kernels[name][rows] = states[name]
    frame = _with_outputs(new_bars, {c: outputs[c] for c in output_columns(indicators)})
    for c in blocks:
        slid = _slide(blocks[c], new_columns[c], new_offsets, n_new)
        if everyone:
            history[c] = slid
        else:
            history[c] = history[c].copy()
            history[c][rows] = slid
    filled[rows] = np.minimum(filled[rows] + n_new, width)

    latest = None
    if len(all_tickers) == len(state.tickers) and np.all(n_new == 1):
        latest = _latest(state, rows, frame, {**new_columns, **outputs})
    if latest is not None:
        found, kept = latest
    else:
        found, kept = _events_and_recent(state.recent, frame, new_tickers)
    return Computed(frame, found, EngineState(all_tickers, history, filled, kernels, kept))
