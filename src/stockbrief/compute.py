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
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief import detectors as ev
from stockbrief import latest_events
from stockbrief.errors import InputError
from stockbrief.kernels import INDICATORS, Indicator, run_many
from stockbrief.recent import NO_DAY, Recent, matrix, tail_block
from stockbrief.resume import INPUTS as INPUTS
from stockbrief.resume import (
    advance,
    kernels_for,
    resume_inputs,
    segments,
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
        which event detectors read as context and screens of the latest session read whole.
    """

    tickers: list[str]
    history: dict[str, FloatArray]
    filled: IntArray
    kernels: dict[str, FloatArray]
    recent: Recent

    def subset(self, tickers: Sequence[str]) -> EngineState:
        """The state of some tickers only (the others will start from scratch)."""
        keep = set(tickers)
        rows = np.array([i for i, t in enumerate(self.tickers) if t in keep], dtype=np.int64)
        return EngineState(
            [self.tickers[i] for i in rows],
            {c: a[rows] for c, a in self.history.items()},
            self.filled[rows],
            {n: a[rows] for n, a in self.kernels.items()},
            self.recent.take(rows),
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
            Recent.concat([s.recent for s in states]),
        )

    @property
    def resumable(self) -> bool:
        """Whether every ticker keeps the recent rows the detectors read: ``LOOKBACK`` of them,
        or all it has. A state saved by a version whose detectors looked back less keeps fewer,
        and extending it would miss the events that need the longer context: recompute."""
        if not self.tickers:
            return True
        kept = self.recent.kept
        return self.recent.width >= ev.LOOKBACK and bool(
            np.all(kept >= np.minimum(self.filled, ev.LOOKBACK))
        )

    @property
    def last_dates(self) -> pl.DataFrame:
        """Last computed session per ticker (the last of its recent rows)."""
        return pl.DataFrame(
            [
                pl.Series("ticker", self.tickers, dtype=pl.String),
                pl.Series("date", self.recent.days[:, -1], dtype=pl.Int32).cast(pl.Date),
            ]
        )

    def recent_rows(self) -> pl.DataFrame:
        """The recent rows as a frame by ticker and date, as a full computation gives them."""
        return self.recent.rows(self.tickers)

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
        return {
            "history": history,
            "kernels": kernels,
            "recent": self.recent.to_frame(self.tickers),
        }

    @classmethod
    def from_frames(cls, frames: Mapping[str, pl.DataFrame]) -> EngineState:
        """Rebuild a state saved with :meth:`to_frames`."""
        history, kernels = (_by_ticker(frames[name]) for name in ("history", "kernels"))
        arrays: dict[str, FloatArray] = {
            c: matrix(history[c], np.float64) for c in INPUTS if c in history.columns
        }
        states = {
            name: matrix(kernels[name], np.float64) for name in kernels.columns if name != "ticker"
        }
        tickers = history["ticker"].to_list()
        kept, recent = Recent.from_frame(frames["recent"])
        if kept != tickers:  # rows of other tickers, or none for some: as the tickers go
            recent = Recent.from_rows(recent.rows(kept), tickers)
        return cls(
            tickers,
            arrays,
            history["filled"].to_numpy().astype(np.int64),
            states,
            recent,
        )


def recent_rows(saved: pl.DataFrame) -> pl.DataFrame:
    """The rows of a saved state's ``recent`` frame, by ticker and date."""
    tickers, recent = Recent.from_frame(saved)
    return recent.rows(tickers)


def _array_column(name: str, array: FloatArray) -> pl.Series:
    values = np.ascontiguousarray(array)  # a block may be a view into a wider buffer
    return pl.Series(name, values, dtype=pl.Array(pl.Float64, array.shape[1]))


def _by_ticker(frame: pl.DataFrame) -> pl.DataFrame:
    """A saved frame in ticker order (as saved, unless written by hand): no copy when it is."""
    return frame if frame["ticker"].is_sorted() else frame.sort("ticker")


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


def _days(dates: pl.Series) -> npt.NDArray[np.int32]:
    """Dates as days since 1970-01-01."""
    return np.asarray(dates.to_physical().to_numpy(), dtype=np.int32)


def _with_outputs(bars: pl.DataFrame, outputs: Mapping[str, FloatArray]) -> pl.DataFrame:
    # One frame of every output, nulls for NaN in one pass of the query engine (a pass per
    # column costs more than the kernels on a daily update).
    made = pl.DataFrame(
        {name: pl.Series(values, dtype=pl.Float64) for name, values in outputs.items()}
    )
    return bars.hstack(made.select(pl.all().fill_nan(None)))


def _history(
    columns: Mapping[str, FloatArray], offsets: IntArray, widths: Mapping[str, int]
) -> dict[str, FloatArray]:
    return {c: tail_block(columns[c], offsets, width, np.nan) for c, width in widths.items()}


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
    state = EngineState(
        tickers,
        _history(columns, offsets, history_widths(indicators)),
        np.minimum(np.diff(offsets), history_rows(indicators)),
        kernels,
        Recent.of({**columns, **ordered}, _days(bars["date"]), offsets),
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
) -> tuple[dict[str, FloatArray], IntArray, dict[str, FloatArray], Recent]:
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
            state.recent,
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
    if state.tickers:
        recent = state.recent.placed(where, n)
    else:
        recent = Recent.empty(n, [*INPUTS, *output_columns(indicators)])
    return history, filled, kernels, recent


def _latest_events(
    recent: Recent,
    rows: IntArray,
    new_bars: pl.DataFrame,
    at: IntArray,
    today: Mapping[str, FloatArray],
) -> tuple[pl.DataFrame, Recent]:
    """Events of one new session (row ``at`` of the new bars) for the tickers at ``rows``,
    each with a full set of recent rows, and the recent rows moved on by it."""
    everyone = rows.size == recent.kept.size  # rows are then 0..n-1, in order: views
    before = {
        c: recent.values[c] if everyone else recent.values[c][rows] for c in latest_events.COLUMNS
    }
    every_row = at.size == new_bars.height

    def pick(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return values if every_row else values[at]

    found = latest_events.detect_latest(
        new_bars["ticker"] if every_row else new_bars["ticker"].gather(at),
        new_bars["date"] if every_row else new_bars["date"].gather(at),
        before,
        {c: pick(today[c]) for c in latest_events.COLUMNS},
    )
    moved = recent.moved(
        rows, pick(_days(new_bars["date"])), {c: pick(today[c]) for c in recent.values}
    )
    return found, moved


def _kernel_events(
    recent: Recent,
    rows: IntArray,
    tickers: Sequence[str],
    new_bars: pl.DataFrame,
    today: Mapping[str, FloatArray],
    n_new: IntArray,
) -> tuple[pl.DataFrame, Recent]:
    """Events on the new rows of the tickers at ``rows`` (``new_bars`` holds theirs only), by
    the detectors' kernels over their recent and new rows, and their recent rows to keep."""
    part = recent.take(rows)
    names = list(part.values)
    new_offsets, _ = segments(n_new)
    offsets, columns = resume_inputs(
        {**part.values, "date": part.days.astype(np.float64)},
        [*names, "date"],
        part.kept,
        {**today, "date": _days(new_bars["date"]).astype(np.float64)},
        new_offsets,
        n_new,
    )
    days = columns.pop("date").astype(np.int32)
    found = ev.detect_arrays(
        pl.Series("ticker", [tickers[i] for i in rows], dtype=pl.String),
        offsets,
        pl.Series("date", days, dtype=pl.Int32).cast(pl.Date),
        columns,
    ).join(new_bars.select("ticker", "date"), on=["ticker", "date"], how="semi")
    return found, Recent.of(columns, days, offsets, recent.width)


def _events_and_recent(
    recent: Recent,
    rows: IntArray,
    tickers: Sequence[str],
    new_bars: pl.DataFrame,
    n_new: IntArray,
    today: Mapping[str, FloatArray],
) -> tuple[pl.DataFrame, Recent]:
    """Events on the new rows and the recent rows to keep: one-row detection across the
    tickers with a full set of recent rows and one new session, the detectors' kernels for
    the others (a new listing, several sessions), merged by ticker, date and kind."""
    quick = (n_new == 1) & (recent.kept[rows] == ev.LOOKBACK)
    starts = np.cumsum(n_new) - n_new
    if quick.all():
        return _latest_events(recent, rows, new_bars, starts, today)
    found_quick = None
    if quick.any():  # moved into new arrays, which the slow tickers' rows may then be written to
        found_quick, recent = _latest_events(recent, rows[quick], new_bars, starts[quick], today)
    slow = ~quick
    slow_rows = np.repeat(slow, n_new)
    found_slow, kept = _kernel_events(
        recent,
        rows[slow],
        tickers,
        new_bars.filter(pl.Series(slow_rows)),
        {c: v[slow_rows] for c, v in today.items() if c in recent.values},
        n_new[slow],
    )
    found = found_slow if found_quick is None else pl.concat([found_quick, found_slow])
    merged = recent.replaced(rows[slow], kept, in_place=found_quick is not None)
    return found.sort("ticker", "date", "kind", maintain_order=True), merged


def _check_after(
    state: EngineState,
    new_bars: pl.DataFrame,
    new_tickers: list[str],
    new_offsets: IntArray,
    at: IntArray | None,
) -> None:
    """Raise unless each ticker's first new bar is after its last computed session (``at``:
    the new tickers' positions in the state, when known)."""
    if at is None:
        index = {t: i for i, t in enumerate(state.tickers)}
        at = np.array([index.get(t, -1) for t in new_tickers], dtype=np.int64)
    known = at >= 0
    first = _days(new_bars["date"])[new_offsets[:-1]]
    last = np.full(at.size, NO_DAY, dtype=np.int32)
    last[known] = state.recent.days[at[known], -1]
    late = np.flatnonzero(first <= last)
    if late.size:
        i = int(late[0])
        row = new_bars.row(int(new_offsets[i]), named=True)
        computed = state.last_dates["date"][int(at[i])]
        raise InputError(
            f"{new_tickers[i]}: bar of {row['date']} is not after the last computed session "
            f"{computed}; recompute this ticker instead of updating it",
            field="date",
        )


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
    new_tickers, new_offsets = _offsets(new_bars)
    all_tickers = sorted(set(state.tickers) | set(new_tickers))
    position = {t: i for i, t in enumerate(all_tickers)}
    rows = np.array([position[t] for t in new_tickers], dtype=np.int64)
    _check_after(
        state, new_bars, new_tickers, new_offsets, rows if all_tickers == state.tickers else None
    )
    history, filled, kernels, recent = _grown(state, all_tickers, indicators, rows.size)

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
        ordered = {c: outputs[c] for c in output_columns(indicators)}
        for c in blocks:
            slid = slide(blocks[c], new_columns[c], new_offsets, n_new)
            if everyone:
                history[c] = slid
            else:
                history[c] = history[c].copy()
                history[c][rows] = slid
        filled[rows] = np.minimum(filled[rows] + n_new, width)
        found, kept = _events_and_recent(
            recent, rows, all_tickers, new_bars, n_new, {**new_columns, **ordered}
        )

    def frame() -> pl.DataFrame:
        return _with_outputs(new_bars, ordered)

    return Computed(
        frame, found, EngineState(all_tickers, history, filled, kernels, kept), new_bars.height
    )
