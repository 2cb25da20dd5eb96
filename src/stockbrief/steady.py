"""One more session for every ticker past warm-up, as array operations across tickers.

The daily update adds one bar to thousands of tickers whose indicators are all in their steady
state, where every kernel step is the same few operations without a branch on the bar count. Here
each family's step runs once over all those tickers as numpy expressions, in the kernels'
operation order (:mod:`stockbrief.kernels`, :mod:`stockbrief.oscillators`), so the numbers are
bitwise the kernels': no numba needs loading, and no window is re-read from context rows. The
engine falls back to the kernels for a ticker still in warm-up, one with a missing value in what
its indicators read, several new sessions at once, or a family this module does not know.
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
        today = self.bar[column][:, None]
        if rows == 1:
            return today
        block = self.history[column]
        return np.concatenate([block[:, block.shape[1] - (rows - 1) :], today], axis=1)

    def highest(self, column: str, rows: int) -> FloatArray:
        """The largest of :meth:`window`, without building it (the extreme of a set is exact in
        any order, and NaN wins either way)."""
        block = self.history[column]
        before = block[:, block.shape[1] - (rows - 1) :].max(axis=1, initial=-np.inf)
        highest: FloatArray = np.maximum(before, self.bar[column])
        return highest

    def lowest(self, column: str, rows: int) -> FloatArray:
        """The smallest of :meth:`window`, as :meth:`highest`."""
        block = self.history[column]
        before = block[:, block.shape[1] - (rows - 1) :].min(axis=1, initial=np.inf)
        lowest: FloatArray = np.minimum(before, self.bar[column])
        return lowest


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


def _wilder_rsi(
    period: int, c: FloatArray, prev: FloatArray, gain: FloatArray, loss: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The RSI's average gain, average loss and value after today's close."""
    d = c - prev
    loss = loss * (period - 1)
    gain = gain * (period - 1)
    falling = d < 0
    loss = np.where(falling, loss - d, loss) / period
    gain = np.where(falling, gain, gain + d) / period
    total = gain + loss
    flat = (total > -_EPSILON) & (total < _EPSILON)
    value = np.where(flat, 0.0, 100.0 * (gain / np.where(flat, 1.0, total)))
    return gain, loss, value


def _rsi(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    c = day.bar["close"]
    gain, loss, value = _wilder_rsi(period, c, state[:, 1], state[:, 2], state[:, 3])
    state[:, 1], state[:, 2], state[:, 3] = c, gain, loss
    return [value]


def _wilder_atr(period: int, day: Day, prev: FloatArray, acc: FloatArray) -> FloatArray:
    """The ATR after today's bar, from yesterday's close and ATR."""
    high, low = day.bar["high"], day.bar["low"]
    tr = high - low
    up = np.abs(prev - high)
    tr = np.where(up > tr, up, tr)
    down = np.abs(prev - low)
    tr = np.where(down > tr, down, tr)
    acc = acc * (period - 1)
    return (acc + tr) / period


def _atr(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    acc = _wilder_atr(period, day, state[:, 1], state[:, 2])
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
    extreme = day.highest if ind.factors[0] > 0 else day.lowest
    return [extreme(ind.inputs[0], period)]


def _rel_volume(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    v, typical = day.bar["volume"], state[:, 2].copy()
    rel = np.where(typical > 0.0, v / np.where(typical > 0.0, typical, 1.0), np.nan)
    total = state[:, 1] + v
    state[:, 2] = total / period
    state[:, 1] = total - day.back("volume", period - 1)
    return [typical, rel]


def _first_max(first: FloatArray, *rest: FloatArray | float) -> FloatArray:
    # Python's max(a, b, ...) as numba compiles it: a later value wins only when greater.
    best = first
    for value in rest:
        best = np.where(value > best, value, best)
    return best


def _first_min(first: FloatArray, *rest: FloatArray | float) -> FloatArray:
    # Python's min(a, b, ...) as numba compiles it: a later value wins only when smaller.
    best = first
    for value in rest:
        best = np.where(value < best, value, best)
    return best


def _is_zero(x: FloatArray) -> BoolArray:
    return (x > -_EPSILON) & (x < _EPSILON)


def _typical(day: Day, rows: int) -> FloatArray:
    """The typical price ``rows`` sessions before today."""
    return (day.back("high", rows) + day.back("low", rows) + day.back("close", rows)) / 3.0


def _dmi(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    # Past warm-up the count is above the period: the smoothed sums decay every bar.
    n, mode = ind.periods
    count = state[:, 0]
    h, lo, prev_close = day.bar["high"], day.bar["low"], state[:, 3]
    diff_p, diff_m = h - state[:, 1], state[:, 2] - lo
    pdm, mdm, tr, adx = state[:, 4], state[:, 5], state[:, 6], state[:, 7]
    mdm = mdm - mdm / n
    pdm = pdm - pdm / n
    falls = (diff_m > 0) & (diff_p < diff_m)
    rises = ~falls & (diff_p > 0) & (diff_p > diff_m)
    mdm = np.where(falls, mdm + diff_m, mdm)
    pdm = np.where(rises, pdm + diff_p, pdm)
    r = h - lo
    up = np.abs(h - prev_close)
    r = np.where(up > r, up, r)
    down = np.abs(lo - prev_close)
    r = np.where(down > r, down, r)
    tr = tr - tr / n + r
    ranged = ~_is_zero(tr)
    minus = np.where(ranged, 100.0 * (mdm / tr), 0.0)
    plus = np.where(ranged, 100.0 * (pdm / tr), 0.0)
    total = minus + plus
    valid = ranged & ~_is_zero(total)
    dx = 100.0 * (np.abs(minus - plus) / total)
    summed = np.where(valid, adx + dx, adx)
    smoothed = np.where(valid, (adx * (n - 1) + dx) / n, adx)
    last_seed = 2 * n - 1
    adx = np.where(count < last_seed, summed, np.where(count == last_seed, summed / n, smoothed))
    adx_out = np.where(count >= last_seed, adx, np.nan)
    state[:, 1], state[:, 2], state[:, 3] = h, lo, day.bar["close"]
    state[:, 4], state[:, 5], state[:, 6], state[:, 7] = pdm, mdm, tr, adx
    if mode == 0:
        return [adx_out]
    if mode == 1:
        return [plus, minus]
    return [adx_out, plus, minus]


def _stoch(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    # The rings of fast and slow %K are state columns, each ticker at its own slot.
    n_k, n_slow, n_d = ind.periods
    rows = np.arange(state.shape[0])
    count = state[:, 0].astype(np.int64)
    ring_k, ring_d = 3, 3 + n_slow
    slot_k = (count - (n_k - 1)) % n_slow
    slot_d = (count - (n_k - 1) - (n_slow - 1)) % n_d
    highest = day.highest("high", n_k)
    lowest = day.lowest("low", n_k)
    diff = (highest - lowest) / 100.0
    fk = np.where(diff != 0.0, (day.bar["close"] - lowest) / diff, 0.0)
    state[rows, ring_k + slot_k] = fk
    slot_k = (slot_k + 1) % n_slow
    sum_k = state[:, 1] + fk
    sk = sum_k / n_slow
    sum_k = sum_k - state[rows, ring_k + slot_k]
    state[rows, ring_d + slot_d] = sk
    slot_d = (slot_d + 1) % n_d
    sum_d = state[:, 2] + sk
    sd = sum_d / n_d
    sum_d = sum_d - state[rows, ring_d + slot_d]
    state[:, 1], state[:, 2] = sum_k, sum_d
    return [sk, sd]


def _willr(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    highest = day.highest("high", period)
    lowest = day.lowest("low", period)
    diff = (highest - lowest) / -100.0
    return [np.where(diff != 0.0, (highest - day.bar["close"]) / diff, 0.0)]


def _cci(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    # The kernel sums its ring slot by slot (slot = bar number modulo the period), not oldest
    # first: the window is put in slot order and added one column at a time.
    (period,) = ind.periods
    window = (
        day.window("high", period) + day.window("low", period) + day.window("close", period)
    ) / 3.0
    count = state[:, 0].astype(np.int64)
    at = (np.arange(period)[None, :] - count[:, None] - 1) % period
    ring = np.take_along_axis(window, at, axis=1)
    average = np.zeros(ring.shape[0])
    for s in range(period):
        average = average + ring[:, s]
    average = average / period
    deviation = np.zeros(ring.shape[0])
    for s in range(period):
        deviation = deviation + np.abs(ring[:, s] - average)
    distance = window[:, -1] - average
    moved = (distance != 0.0) & (deviation != 0.0)
    return [np.where(moved, distance / (0.015 * (deviation / period)), 0.0)]


# TA-Lib's scale-aware zero test of a difference, as the MFI kernel uses it.
_SCALED_EPSILON: Final = 0.00000000000001


def _money_flow(day: Day, rows: int) -> tuple[FloatArray, FloatArray]:
    """Positive and negative raw money flow of the bar ``rows`` sessions before today."""
    tp, before = _typical(day, rows), _typical(day, rows + 1)
    change = tp - before
    scale = np.abs(tp) + np.abs(before)
    flow = np.where(np.abs(change) <= _SCALED_EPSILON * scale, 0.0, tp * day.back("volume", rows))
    falling = change < 0.0
    return np.where(falling, 0.0, flow), np.where(falling, flow, 0.0)


def _mfi(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    # The flow leaving the window is the one of the bar ``period`` sessions back, which the
    # kernel's ring holds at today's slot.
    (period,) = ind.periods
    old_p, old_m = _money_flow(day, period)
    p, m = _money_flow(day, 0)
    pos = (state[:, 1] - old_p) + p
    neg = (state[:, 2] - old_m) + m
    idle = np.where(p + m == 0.0, state[:, 3] + 1.0, 0.0)
    still = idle >= period
    idle = np.where(still, float(period), idle)
    pos = np.where(still, 0.0, pos)
    neg = np.where(still, 0.0, neg)
    total = pos + neg
    share = np.where(pos < 0.0, 0.0, _first_min(pos, total))
    value = np.where(total <= 0.0, 0.0, 100.0 * (share / total))
    state[:, 1], state[:, 2], state[:, 3] = pos, neg, idle
    return [value]


def _donchian(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    return [day.highest("high", period), day.lowest("low", period)]


def _obv(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    c, v, obv, prev = day.bar["close"], day.bar["volume"], state[:, 1], state[:, 2]
    obv = np.where(c > prev, obv + v, np.where(c < prev, obv - v, obv))
    state[:, 1], state[:, 2] = obv, c
    return [obv]


def _ad_line(day: Day, ad: FloatArray) -> FloatArray:
    # TA_AD's step: the close location value times volume, skipped on a bar without range.
    h, lo, c = day.bar["high"], day.bar["low"], day.bar["close"]
    spread = h - lo
    return np.where(spread > 0.0, ad + (((c - lo) - (h - c)) / spread) * day.bar["volume"], ad)


def _ad(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    ad = _ad_line(day, state[:, 1])
    state[:, 1] = ad
    return [ad]


def _adosc(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    fast, slow = ind.periods
    k_fast, k_slow = 2.0 / (fast + 1), 2.0 / (slow + 1)
    ad = _ad_line(day, state[:, 1])
    ema_fast = (k_fast * ad) + ((1.0 - k_fast) * state[:, 2])
    ema_slow = (k_slow * ad) + ((1.0 - k_slow) * state[:, 3])
    state[:, 1], state[:, 2], state[:, 3] = ad, ema_fast, ema_slow
    return [ema_fast - ema_slow]


def _sar(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    # Every ticker's four cases (long or short, holding or reversing), then each one's own.
    step, maximum = ind.factors
    step = min(step, maximum)
    h, lo, prev_high, prev_low = day.bar["high"], day.bar["low"], state[:, 1], state[:, 2]
    is_long, af, ep, sar = state[:, 3] > 0.0, state[:, 4], state[:, 5], state[:, 6]
    long_turn = is_long & (lo <= sar)
    short_turn = ~is_long & (h >= sar)
    turned = long_turn | short_turn
    # a reversal: the SAR jumps to the extreme point, the new extreme is today's
    to_short = _first_max(ep, prev_high, h)
    to_long = _first_min(ep, prev_low, lo)
    short_sar = _first_max(to_short + step * (lo - to_short), prev_high, h)
    long_sar = _first_min(to_long + step * (h - to_long), prev_low, lo)
    # a held position: a new extreme raises the factor
    extends = np.where(is_long, h > ep, lo < ep)
    held_ep = np.where(extends, np.where(is_long, h, lo), ep)
    held_af = np.where(extends, _first_min(af + step, maximum), af)
    moved = sar + held_af * (held_ep - sar)
    held_sar = np.where(is_long, _first_min(moved, prev_low, lo), _first_max(moved, prev_high, h))
    today = np.where(long_turn, to_short, np.where(short_turn, to_long, sar))
    state[:, 1], state[:, 2] = h, lo
    state[:, 3] = np.where(turned, ~is_long, is_long).astype(np.float64)
    state[:, 4] = np.where(turned, step, held_af)
    state[:, 5] = np.where(long_turn, lo, np.where(short_turn, h, held_ep))
    state[:, 6] = np.where(long_turn, short_sar, np.where(short_turn, long_sar, held_sar))
    return [today]


# TA_KAMA's fixed smoothing constants (fast 2, slow 30), as the kernel derives them.
_KAMA_SLOWEST: Final = 2.0 / (30.0 + 1.0)
_KAMA_SPAN: Final = 2.0 / (2.0 + 1.0) - _KAMA_SLOWEST


def _kama(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    c = day.bar["close"]
    noise = state[:, 1] - np.abs(day.back("close", period + 1) - day.back("close", period))
    noise = noise + np.abs(day.back("close", 1) - c)
    change = c - day.back("close", period)
    ratio = np.where((noise <= change) | _is_zero(noise), 1.0, np.abs(change / noise))
    sc = ratio * _KAMA_SPAN + _KAMA_SLOWEST
    sc = sc * sc
    kama = (c - state[:, 2]) * sc + state[:, 2]
    state[:, 1], state[:, 2] = noise, kama
    return [kama]


def _ultosc_terms(day: Day, rows: int) -> tuple[FloatArray, FloatArray]:
    """Buying pressure and true range of the bar ``rows`` sessions before today."""
    h, lo, prev = day.back("high", rows), day.back("low", rows), day.back("close", rows + 1)
    true_low = np.where(prev < lo, prev, lo)
    tr = h - lo
    up = np.abs(prev - h)
    tr = np.where(up > tr, up, tr)
    down = np.abs(prev - lo)
    tr = np.where(down > tr, down, tr)
    return day.back("close", rows) - true_low, tr


def _ultosc(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    bp, tr = _ultosc_terms(day, 0)
    sums = [state[:, k] + (bp if k % 2 else tr) for k in range(1, 7)]
    total = np.zeros(state.shape[0])
    for k, weight in enumerate((4.0, 2.0, 1.0)):
        a, b = sums[2 * k], sums[2 * k + 1]
        share = a / b if weight == 1.0 else weight * (a / b)
        total = np.where(_is_zero(b), total, total + share)
    for k, period in enumerate(ind.periods):
        bp, tr = _ultosc_terms(day, period - 1)
        state[:, 1 + 2 * k] = sums[2 * k] - bp
        state[:, 2 + 2 * k] = sums[2 * k + 1] - tr
    return [100.0 * (total / 7.0)]


def _ppo(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    fast, slow = ind.periods
    c = day.bar["close"]
    f = ((c - state[:, 1]) * (2.0 / (fast + 1))) + state[:, 1]
    s = ((c - state[:, 2]) * (2.0 / (slow + 1))) + state[:, 2]
    state[:, 1], state[:, 2] = f, s
    return [np.where(_is_zero(s), 0.0, ((f - s) / s) * 100.0)]


def _stochrsi(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    # The rings of RSI and %K values are state columns, each ticker at its own slot.
    n_rsi, n_k, n_d = ind.periods
    rows = np.arange(state.shape[0])
    c = day.bar["close"]
    gain, loss, value = _wilder_rsi(n_rsi, c, state[:, 1], state[:, 2], state[:, 3])
    i = state[:, 0].astype(np.int64) - n_rsi
    ring_rsi, ring_k = 5, 5 + n_k
    state[rows, ring_rsi + i % n_k] = value
    window = state[:, ring_rsi:ring_k]
    highest = _first_max(window[:, 0], *window[:, 1:].T)
    lowest = _first_min(window[:, 0], *window[:, 1:].T)
    spread = highest - lowest
    k = np.where(spread != 0.0, 100.0 * ((value - lowest) / spread), 0.0)
    m = i - (n_k - 1)
    state[rows, ring_k + m % n_d] = k
    sum_d = state[:, 4] + k
    d = sum_d / n_d
    state[:, 4] = sum_d - state[rows, ring_k + (m + 1) % n_d]
    state[:, 1], state[:, 2], state[:, 3] = c, gain, loss
    return [k, d]


def _tsi(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    n_long, n_short = ind.periods
    k_long, k_short = 2.0 / (n_long + 1), 2.0 / (n_short + 1)
    c = day.bar["close"]
    move = c - state[:, 1]
    long_m = ((move - state[:, 2]) * k_long) + state[:, 2]
    long_a = ((np.abs(move) - state[:, 3]) * k_long) + state[:, 3]
    short_m = ((long_m - state[:, 4]) * k_short) + state[:, 4]
    short_a = ((long_a - state[:, 5]) * k_short) + state[:, 5]
    state[:, 1], state[:, 2], state[:, 3], state[:, 4], state[:, 5] = (
        c,
        long_m,
        long_a,
        short_m,
        short_a,
    )
    return [np.where(_is_zero(short_a), 0.0, 100.0 * (short_m / short_a))]


def _keltner(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    n_ema, n_atr = ind.periods
    (width,) = ind.factors
    c = day.bar["close"]
    middle = ((c - state[:, 1]) * (2.0 / (n_ema + 1))) + state[:, 1]
    atr = _wilder_atr(n_atr, day, state[:, 3], state[:, 2])
    state[:, 1], state[:, 2], state[:, 3] = middle, atr, c
    band = width * atr
    return [middle, middle + band, middle - band]


def _vwap(ind: Indicator, day: Day, state: FloatArray) -> Outputs:
    (period,) = ind.periods
    v = day.bar["volume"]
    known = ~np.isnan(v)
    traded = np.where(known, state[:, 1] + _typical(day, 0) * v, state[:, 1])
    shares = np.where(known, state[:, 2] + v, state[:, 2])
    missing = np.where(known, state[:, 3], state[:, 3] + 1.0)
    quiet = np.where(v > 0.0, 0.0, state[:, 4] + 1.0)
    still = quiet >= period
    quiet = np.where(still, float(period), quiet)
    traded = np.where(still, 0.0, traded)
    shares = np.where(still, 0.0, shares)
    priced = (missing == 0.0) & (shares > 0.0)
    value = np.where(priced, traded / np.where(priced, shares, 1.0), np.nan)
    old = day.back("volume", period - 1)
    old_known = ~np.isnan(old)
    state[:, 1] = np.where(old_known, traded - _typical(day, period - 1) * old, traded)
    state[:, 2] = np.where(old_known, shares - old, shares)
    state[:, 3] = np.where(old_known, missing, missing - 1.0)
    state[:, 4] = quiet
    return [value]


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
    "dmi": _dmi,
    "stoch": _stoch,
    "willr": _willr,
    "cci": _cci,
    "mfi": _mfi,
    "donchian": _donchian,
    "obv": _obv,
    "ad": _ad,
    "adosc": _adosc,
    "sar": _sar,
    "kama": _kama,
    "ultosc": _ultosc,
    "ppo": _ppo,
    "stochrsi": _stochrsi,
    "tsi": _tsi,
    "keltner": _keltner,
    "vwap": _vwap,
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
    kernels' branches treat in ways a rolling extreme does not reproduce. Each indicator reads
    its own ``window`` rows of the kept ones: a value missing further back (a volume a year
    ago, under a 52-week high) keeps no ticker from the step.
    """
    need = max((ind.lookback for ind in indicators.values()), default=0) + 1
    ok = counts >= need
    clean = {c: _finite_run(block) for c, block in history.items()}
    for column in {c for ind in indicators.values() for c in ind.inputs} - _MAY_BE_MISSING:
        ok &= np.isfinite(bar[column])
    for ind in (ind for ind in indicators.values() if ind.window > 0):
        for column in set(ind.inputs) - _MAY_BE_MISSING:
            if column not in clean:
                return np.zeros_like(ok)
            ok &= clean[column] >= ind.window
    return ok


_MAY_BE_MISSING: Final = frozenset({"volume"})
"""Inputs a step may read as NaN: an index reports no volume, and every step over volume does
the kernels' arithmetic and comparisons on NaN as the kernels do (tested on an index)."""


def _finite_run(block: FloatArray) -> npt.NDArray[np.int64]:
    """How many of each ticker's last rows are finite, counting back from the newest."""
    width = block.shape[1]
    if width == 0:
        return np.zeros(block.shape[0], dtype=np.int64)
    finite = np.isfinite(block)
    run = np.full(block.shape[0], width, dtype=np.int64)
    broken = ~finite.all(axis=1)  # most tickers have a full history: count back for the rest
    if broken.any():
        bad = ~finite[broken, ::-1]
        run[broken] = bad.argmax(axis=1)
    return run


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
