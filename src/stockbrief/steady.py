"""One more session for every ticker past warm-up, as array operations across tickers.

The daily update adds one bar to thousands of tickers whose indicators are all in their steady
state, where every kernel step is the same few operations without a branch on the bar count. Here
each family's step runs once over all those tickers as numpy expressions, in the kernels'
operation order (:mod:`stockbrief.kernels`), so the numbers are bitwise the kernels': no numba
needs loading, and no window is re-read from context rows. The engine falls back to the kernels
for a ticker still in warm-up, one with a missing value in what its indicators read, several new
sessions at once, or a family this module does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

from stockbrief.kernels import Indicator

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# TA-Lib's zero tolerance, as the kernels use it.
_EPSILON: Final = 0.00000001


class Day:
    """What a step reads for a batch of tickers: today's bar and the rows before it."""

    def __init__(self, bar: Mapping[str, FloatArray], history: Mapping[str, FloatArray]) -> None:
        self.bar = bar
        self.history = history

    def back(self, column: str, rows: int) -> FloatArray:
        """The value ``rows`` sessions before today (0: today's) for every ticker."""
        if rows == 0:
            return self.bar[column]
        block = self.history[column]
        return block[:, block.shape[1] - rows]

    def window(self, column: str, rows: int) -> FloatArray:
        """Today's value and the ``rows - 1`` before it, oldest first: ``(n_tickers, rows)``."""
        block = self.history[column]
        return np.concatenate(
            [block[:, block.shape[1] - (rows - 1) :], self.bar[column][:, None]], axis=1
        )


Outputs = list[FloatArray]
Step = Callable[[Indicator, Day, FloatArray], Outputs]
"""One family's step: writes the new state into its argument, returns the outputs."""


def _rocp(x: FloatArray, base: FloatArray) -> FloatArray:
    # TA_ROCP, 0 for a zero base.
    return np.where(base != 0.0, (x - base) / base, 0.0)


def _sma(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    total = state[:, 1] + day.bar["close"]
    value = total / period
    state[:, 1] = total - day.back("close", period - 1)
    return [value]


def _ema(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    acc = state[:, 1]
    acc = ((day.bar["close"] - acc) * (2.0 / (period + 1))) + acc
    state[:, 1] = acc
    return [acc]


def _macd(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    fast, slow, signal = ind.periods
    c = day.bar["close"]
    s = ((c - state[:, 2]) * (2.0 / (slow + 1))) + state[:, 2]
    f = ((c - state[:, 1]) * (2.0 / (fast + 1))) + state[:, 1]
    m = f - s
    g = ((m - state[:, 3]) * (2.0 / (signal + 1))) + state[:, 3]
    state[:, 1], state[:, 2], state[:, 3] = f, s, g
    return [m, g, m - g]


def _rsi(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    c = day.bar["close"]
    d = c - state[:, 1]
    loss = state[:, 3] * (period - 1)
    gain = state[:, 2] * (period - 1)
    falling = d < 0
    loss = np.where(falling, loss - d, loss) / period
    gain = np.where(falling, gain, gain + d) / period
    total = gain + loss
    flat = (total > -_EPSILON) & (total < _EPSILON)
    value = np.where(flat, 0.0, 100.0 * (gain / np.where(flat, 1.0, total)))
    state[:, 1], state[:, 2], state[:, 3] = c, gain, loss
    return [value]


def _atr(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    high, low, prev = day.bar["high"], day.bar["low"], state[:, 1]
    tr = high - low
    up = np.abs(prev - high)
    tr = np.where(up > tr, up, tr)
    down = np.abs(prev - low)
    tr = np.where(down > tr, down, tr)
    acc = state[:, 2] * (period - 1)
    acc = (acc + tr) / period
    state[:, 1], state[:, 2] = day.bar["close"], acc
    return [acc]


def _bbands(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    up, down = ind.factors
    v, old = day.bar["close"], day.back("close", period - 1)
    total = state[:, 1] + v
    total2 = state[:, 2] + v * v
    mean = total / period
    mean2 = total2 / period
    state[:, 1], state[:, 2] = total - old, total2 - old * old
    var = mean2 - mean * mean
    sd = np.where(var < _EPSILON, 0.0, np.sqrt(np.maximum(var, 0.0)))
    return [mean + sd * up, mean, mean - sd * down]


def _roc(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    return [_rocp(day.bar["close"], day.back("close", period))]


def _volatility(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    r = _rocp(day.bar["close"], day.back("close", 1))
    total = state[:, 1] + r
    total2 = state[:, 2] + r * r
    mean = total / period
    mean2 = total2 / period
    old = _rocp(day.back("close", period - 1), day.back("close", period))
    state[:, 1], state[:, 2] = total - old, total2 - old * old
    var = mean2 - mean * mean
    return [np.where(var < _EPSILON, 0.0, np.sqrt(np.maximum(var, 0.0)))]


def _extreme(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    # The extreme of a set of numbers is exact, whatever the order it is taken in.
    (period,) = ind.periods
    values = day.window(ind.inputs[0], period)
    return [values.max(axis=1) if ind.factors[0] > 0 else values.min(axis=1)]


def _rel_volume(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    v, typical = day.bar["volume"], state[:, 2].copy()
    rel = np.where(typical > 0.0, v / np.where(typical > 0.0, typical, 1.0), np.nan)
    total = state[:, 1] + v
    state[:, 2] = total / period
    state[:, 1] = total - day.back("volume", period - 1)
    return [typical, rel]


STEPS: Final[Mapping[str, Step]] = {
    "sma": _sma,
    "ema": _ema,
    "macd": _macd,
    "rsi": _rsi,
    "atr": _atr,
    "bbands": _bbands,
    "roc": _roc,
    "volatility": _volatility,
    "extreme": _extreme,
    "rel_volume": _rel_volume,
}
"""The families with a steady step, by family name."""


def covers(indicators: Mapping[str, Indicator]) -> bool:
    """Whether every indicator of the set has a steady step."""
    return all(ind.family in STEPS for ind in indicators.values())


def ready(
    indicators: Mapping[str, Indicator],
    counts: FloatArray,
    bar: Mapping[str, FloatArray],
    history: Mapping[str, FloatArray],
) -> BoolArray:
    """Tickers whose every indicator is past warm-up, with every value it reads present.

    ``counts`` are the bars seen before today; a step is the kernels' only where the kernel
    would take its steady branch (``count > lookback``) and reads no NaN, whose comparisons the
    kernels' branches treat in ways a rolling extreme does not reproduce.
    """
    need = max((ind.lookback for ind in indicators.values()), default=0) + 1
    ok = counts >= need
    for column in {c for ind in indicators.values() for c in ind.inputs}:
        ok &= np.isfinite(bar[column])
        if column in history:
            ok &= np.isfinite(history[column]).all(axis=1)
    return ok


def advance(
    indicators: Mapping[str, Indicator],
    states: Mapping[str, FloatArray],
    bar: Mapping[str, FloatArray],
    history: Mapping[str, FloatArray],
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Every indicator one session on, for tickers that :func:`ready` accepts.

    Returns the outputs by output name and the new states by indicator name (the inputs are
    not modified); bitwise what :func:`stockbrief.kernels.run_many` gives for the same bar.
    """
    day = Day(bar, history)
    outputs: dict[str, FloatArray] = {}
    new_states: dict[str, FloatArray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, ind in indicators.items():
            state = states[name].copy()
            values = STEPS[ind.family](ind, day, state)
            state[:, 0] += 1.0
            outputs.update(zip(ind.outputs, values, strict=True))
            new_states[name] = state
    return outputs, new_states
