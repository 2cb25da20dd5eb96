"""Resuming the indicator kernels from a saved state: context rows, the steady step, or both.

A daily update extends each ticker by its new sessions from the kept trailing rows
(:func:`history_widths`) and kernel states. Tickers past warm-up with one new session take the
numpy steady step (:mod:`stockbrief.steady`); the others resume the kernels over their last
context rows, compiled by numba or, when that work is small and numba is not loaded yet, as
plain Python (:func:`kernels_for`). All three give the numbers of a full run bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Final

import numpy as np
import numpy.typing as npt

from stockbrief import jit, steady, tape
from stockbrief.kernels import INDICATORS, Indicator, run_many

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

INPUTS: Final = ("open", "high", "low", "close", "volume")
INTERPRET_ROWS: Final = 4_000
"""Rows the kernels walk in a daily update (context, new rows and recent rows of the tickers
off the steady path) up to which they run uncompiled when numba is not loaded: about 80 µs a
row, against most of a second to import numba and load the cached kernels."""


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


def context_rows(indicator: Indicator, widths: Mapping[str, int]) -> int:
    """History rows an indicator resumes from: none if recursive, else its inputs' width."""
    return max(widths[c] for c in indicator.inputs) if indicator.window > 0 else 0


def segments(lengths: IntArray) -> tuple[IntArray, IntArray]:
    """Offsets of back-to-back segments of the given lengths, and each row's segment."""
    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets, np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)


def resume_inputs(
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
    offsets, segment = segments(context + n_new)
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


def slide(
    block: FloatArray, new_values: FloatArray, new_offsets: IntArray, n_new: IntArray
) -> FloatArray:
    """History rows moved forward by each ticker's new values (front padding stays NaN)."""
    m, width = block.shape
    if m and np.all(n_new == n_new[0]):
        k = int(n_new[0])
        if k == 1:  # the daily case: into the room after the block (see stockbrief.tape)
            return tape.appended(block, new_values)
        fresh = new_values.reshape(m, k)
        return np.concatenate([block[:, k:], fresh[:, -width:]], axis=1)[:, -width:]
    source = n_new[:, None] + np.arange(width, dtype=np.int64)[None, :]
    from_history = source < width
    old = block[np.arange(m)[:, None], np.minimum(source, width - 1)]
    new = new_values[new_offsets[:-1, None] + np.maximum(source - width, 0)]
    slid: FloatArray = np.where(from_history, old, new)
    return slid


def steady_tickers(
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


def advance_kernels(
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
        by_window.setdefault(context_rows(indicator, widths), []).append(name)
    outputs: dict[str, FloatArray] = {}
    states_out: dict[str, FloatArray] = {}
    for window, names in by_window.items():
        context = np.minimum(filled, window)
        needed = sorted({c for n in names for c in indicators[n].inputs})
        offsets, columns = resume_inputs(blocks, needed, context, new_columns, new_offsets, n_new)
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


def advance_split(
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
    slow_offsets, _ = segments(n_new[slow])
    rest, rest_states = advance_kernels(
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


def advance(
    indicators: Mapping[str, Indicator],
    fast: npt.NDArray[np.bool_],
    blocks: Mapping[str, FloatArray],
    filled: IntArray,
    states: Mapping[str, FloatArray],
    new_columns: Mapping[str, FloatArray],
    new_offsets: IntArray,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Outputs and states of the new rows: the steady step, the kernels, or both."""
    if fast.all():
        return steady.advance(indicators, states, {c: new_columns[c] for c in INPUTS}, blocks)
    if not fast.any():
        return advance_kernels(indicators, blocks, filled, states, new_columns, new_offsets)
    return advance_split(
        indicators, fast, blocks, filled, states, new_columns, np.diff(new_offsets)
    )


@contextmanager
def kernels_for(rows: int) -> Iterator[None]:
    """Kernels as plain Python for a daily update whose kernel work is small (a new listing,
    a ticker with a gap) while numba is not loaded, numba otherwise: loading it costs more
    than :data:`INTERPRET_ROWS` interpreted rows (bitwise the same results, see
    :func:`stockbrief.jit.interpreted`)."""
    if rows > INTERPRET_ROWS or jit.compiled():
        yield
        return
    with jit.interpreted(), np.errstate(all="ignore"):  # numba's error model: inf, no warning
        yield
