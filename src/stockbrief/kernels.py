"""Indicator kernels over a whole universe at once, TA-Lib exact and resumable.

Layout
------
Every input column is one contiguous ``float64`` array holding all tickers back to back (sorted by
ticker, then date). ``offsets`` (``int64``, length ``n_tickers + 1``) delimits them: ticker ``i``
owns rows ``offsets[i]:offsets[i + 1]``. Segments may be empty or shorter than an indicator's
warm-up. Warm-up rows are NaN (the engine turns them into nulls).

One pass
--------
The arithmetic of one bar of each indicator lives in a small step function. A single numba
kernel, parallel over tickers (``prange``), runs the steps of up to one indicator per *slot*
(three SMAs, four EMAs, two ROCs, two rolling extremes and one of each other family) in the same
loop over rows, so their dependency chains overlap and every input is read once.
:func:`run_many` packs any set of indicators into as few passes as the slots allow; :func:`run`
runs one. The oscillators and volume lines (ADX and +DI/-DI, stochastics, Williams %R, CCI,
MFI, Donchian, OBV, A/D and its oscillator, SAR, KAMA, Ultimate Oscillator, PPO, stochastic
RSI, TSI, Keltner channels, rolling VWAP) have a kernel per family in
:mod:`stockbrief.oscillators`, under the same contract; :func:`run_many` dispatches each to its
own (the ADX and the directional indicators of one period share one run).

Resumability
------------
Each indicator carries an explicit per-ticker state row (``float64``; element 0 is the number of
bars seen so far, the others are running accumulators exactly as a full run holds them). A call
receives, per ticker, ``n_context[i]`` context rows (the last rows a previous call already
processed: at least :attr:`Indicator.window` of them, or all history if shorter) followed by new
rows, and the state after the last context row. Context rows stay NaN, and outputs on new rows
are bitwise equal to a single full run over the whole history, because every floating-point
operation happens in the same order. A full run is ``n_context = 0`` with
:meth:`Indicator.initial_state`.

Examples
--------
>>> import numpy as np
>>> close = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 20.0])
>>> offsets = np.array([0, 4, 6])
>>> out, state = run(sma(2), {"close": close}, offsets)
>>> out["sma_2"]
array([ nan,  1.5,  2.5,  3.5,  nan, 15. ])
>>> state[:, 0]  # bars seen per ticker
array([4., 2.])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt

from stockbrief import jit
from stockbrief.lazy import compile_notice
from stockbrief.oscillators import FAMILY_KERNELS

if TYPE_CHECKING:
    import numba

__all__ = [
    "INDICATORS",
    "Column",
    "Family",
    "Indicator",
    "ad",
    "adosc",
    "adx",
    "atr",
    "bbands",
    "cci",
    "dmi",
    "donchian",
    "ema",
    "highest",
    "kama",
    "keltner",
    "lowest",
    "macd",
    "mfi",
    "obv",
    "on_compile",
    "ppo",
    "reference",
    "relative_volume",
    "roc",
    "rsi",
    "run",
    "run_many",
    "sar",
    "sma",
    "stoch",
    "stochrsi",
    "tsi",
    "ultosc",
    "volatility",
    "vwap",
    "willr",
]

Column = Literal["open", "high", "low", "close", "volume"]
"""An input column an indicator may read."""

Family = Literal[
    "sma",
    "ema",
    "macd",
    "rsi",
    "atr",
    "bbands",
    "roc",
    "volatility",
    "extreme",
    "rel_volume",
    "dmi",
    "stoch",
    "willr",
    "cci",
    "mfi",
    "donchian",
    "obv",
    "ad",
    "adosc",
    "sar",
    "kama",
    "ultosc",
    "ppo",
    "stochrsi",
    "tsi",
    "keltner",
    "vwap",
]
"""The kind of computation an indicator is: the first ten share the fused pass (a step function
and slots each), the others have a kernel of their own in :mod:`stockbrief.oscillators`."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


_COLUMNS: tuple[Column, ...] = ("open", "high", "low", "close", "volume")

# TA-Lib's TA_IS_ZERO / TA_IS_ZERO_OR_NEG tolerance (ta_func/ta_utility.h).
_TA_EPSILON = 0.00000001


_step = jit.step
_kernel = jit.kernel


@contextmanager
def on_compile(notify: Callable[[], None]) -> Iterator[None]:
    """Call ``notify`` once, within the block, when one of stockbrief's kernels starts compiling.

    Kernels (these and the event detectors) are cached on disk (``cache=True``): in
    ``__pycache__`` beside their module, in ``$NUMBA_CACHE_DIR`` when that is set, or in the
    user's cache directory (``~/.cache/numba``) when the package folder is read-only. Loading a
    cached kernel takes a fraction of a second; compiling takes up to a minute and happens only
    when the cache is empty or stale (the source, numba, Python or the CPU changed), which is
    when numba broadcasts ``numba:compile``. Nothing is imported until a kernel runs.
    """
    with compile_notice(notify):
        yield


# --------------------------------------------------------------------------------------------
# steps: one bar of one indicator; `count` is the number of bars the ticker had before this one
# --------------------------------------------------------------------------------------------


@_step
def _sma_step(x: FloatArray, j: int, count: int, total: float, period: int) -> tuple[float, float]:
    # TA_INT_SMA: add today, divide, then drop the oldest value of the window.
    total += x[j]
    if count < period - 1:
        return total, np.nan
    value = total / period
    total -= x[j - period + 1]
    return total, value


@_step
def _ema_step(v: float, count: int, acc: float, period: int, k: float) -> tuple[float, float]:
    # acc: sum of the first values until the SMA seed on bar period - 1, then the EMA (TA_EMA).
    if count < period:
        acc += v
        if count < period - 1:
            return acc, np.nan
        acc = acc / period
        return acc, acc
    acc = ((v - acc) * k) + acc
    return acc, acc


@_step
def _macd_step(
    c: float,
    count: int,
    f: float,
    s: float,
    g: float,
    fast: int,
    slow: int,
    signal: int,
    k_fast: float,
    k_slow: float,
    k_signal: float,
) -> tuple[float, float, float, float, float, float]:
    # TA_MACD seeds the fast EMA with the mean of the `fast` closes ending on bar slow - 1,
    # where the slow EMA is seeded, so both start together; the signal EMA runs on the MACD
    # line from that bar on, seeded with the mean of its first `signal` values.
    if count < slow:
        s += c
        if count >= slow - fast:
            f += c
        if count == slow - 1:
            s = s / slow
            f = f / fast
    else:
        s = ((c - s) * k_slow) + s
        f = ((c - f) * k_fast) + f
    i = count - (slow - 1)
    if i < 0:
        return f, s, g, np.nan, np.nan, np.nan
    m = f - s
    if i < signal:
        g += m
        if i < signal - 1:
            return f, s, g, np.nan, np.nan, np.nan
        g = g / signal
    else:
        g = ((m - g) * k_signal) + g
    return f, s, g, m, g, m - g


@_step
def _rsi_step(
    c: float, prev: float, count: int, gain: float, loss: float, period: int
) -> tuple[float, float, float]:
    # gain/loss: sums of the first `period` moves, then Wilder averages (TA_RSI).
    if count == 0:
        return gain, loss, np.nan
    d = c - prev
    if count > period:
        loss *= period - 1
        gain *= period - 1
    if d < 0:
        loss -= d
    else:
        gain += d
    if count < period:
        return gain, loss, np.nan
    loss /= period
    gain /= period
    total = gain + loss
    if -_TA_EPSILON < total < _TA_EPSILON:
        return gain, loss, 0.0
    return gain, loss, 100.0 * (gain / total)


@_step
def _atr_step(
    h: float, low: float, prev_close: float, count: int, acc: float, period: int
) -> tuple[float, float]:
    # TA_TRANGE from bar 1; acc: sum of the first `period` true ranges, then the Wilder average.
    if count == 0:
        return acc, np.nan
    tr = h - low
    up = abs(prev_close - h)
    if up > tr:
        tr = up
    down = abs(prev_close - low)
    if down > tr:
        tr = down
    if count < period:
        return acc + tr, np.nan
    if count == period:
        acc = (acc + tr) / period
        return acc, acc
    acc *= period - 1
    acc += tr
    acc /= period
    return acc, acc


@_step
def _bbands_step(
    x: FloatArray,
    j: int,
    count: int,
    total: float,
    total2: float,
    period: int,
    nbdev_up: float,
    nbdev_dn: float,
) -> tuple[float, float, float, float, float]:
    # TA_BBANDS with an SMA middle: the SMA's running sum and TA_INT_stddev_using_precalc_ma's
    # running sum of squares, each updated in TA-Lib's order.
    v = x[j]
    total += v
    total2 += v * v
    if count < period - 1:
        return total, total2, np.nan, np.nan, np.nan
    old = x[j - period + 1]
    mean = total / period
    total -= old
    mean2 = total2 / period
    total2 -= old * old
    var = mean2 - mean * mean
    sd = 0.0 if var < _TA_EPSILON else np.sqrt(var)
    return total, total2, mean + sd * nbdev_up, mean, mean - sd * nbdev_dn


@_step
def _rocp(x: FloatArray, j: int, period: int) -> float:
    # TA_ROCP, including its 0 for a zero base.
    p = x[j - period]
    return (x[j] - p) / p if p != 0.0 else 0.0


@_step
def _roc_step(x: FloatArray, j: int, count: int, period: int) -> float:
    return _rocp(x, j, period) if count >= period else np.nan


@_step
def _volatility_step(
    x: FloatArray, j: int, count: int, total: float, total2: float, period: int
) -> tuple[float, float, float]:
    # TA_STDDEV(TA_ROCP(x, 1), period, 1): TA_INT_VAR's running sums over one-bar returns.
    if count == 0:
        return total, total2, np.nan
    r = _rocp(x, j, 1)
    total += r
    total2 += r * r
    if count < period:
        return total, total2, np.nan
    mean = total / period
    mean2 = total2 / period
    r = _rocp(x, j - period + 1, 1)
    total -= r
    total2 -= r * r
    var = mean2 - mean * mean
    return total, total2, 0.0 if var < _TA_EPSILON else np.sqrt(var)


@_step
def _better(best: float, v: float, highest: bool) -> float:
    # The larger (highest) or smaller of the two, keeping `best` on ties and NaN.
    if highest:
        return v if v > best else best
    return v if v < best else best


@_step
def _extreme_step(
    x: FloatArray,
    j: int,
    begin: int,
    pos: int,
    head: float,
    suffix: FloatArray,
    period: int,
    highest: bool,
) -> float:
    # Van Herk / Gil-Werman: bars fall in blocks of `period` counted from the ticker's first
    # bar; `pos` is row j's place in its block. On a block's first bar, store the suffix
    # extremes of the block just completed (rows before `begin` are not needed: a window never
    # reaches them); `head` is the running extreme of the current block.
    if pos == 0:
        i = j - 1
        if i >= begin:
            tail = x[i]
            suffix[period - 1] = tail
            for q in range(period - 2, -1, -1):
                i = j - period + q
                if i < begin:
                    break
                tail = _better(x[i], tail, highest)
                suffix[q] = tail
        return float(x[j])
    return _better(head, x[j], highest)


@_step
def _extreme_value(
    count: int, pos: int, head: float, suffix: FloatArray, period: int, highest: bool
) -> float:
    # The window is the tail of the previous block (from position pos + 1) plus the head of the
    # current one; the extreme of a set is exact, so this equals TA_MAX / TA_MIN.
    if count < period - 1:
        return np.nan
    if pos == period - 1:
        return head
    return _better(suffix[pos + 1], head, highest)


@_step
def _rel_volume_step(
    x: FloatArray, j: int, count: int, total: float, prev_mean: float, period: int
) -> tuple[float, float, float, float]:
    # prev_mean: yesterday's TA_INT_SMA(volume, period), the mean of the `period` sessions
    # before today.
    v = x[j]
    typical = np.nan
    rel = np.nan
    if count >= period:
        typical = prev_mean
        if prev_mean > 0.0:
            rel = v / prev_mean
    total += v
    if count >= period - 1:
        prev_mean = total / period
        total -= x[j - period + 1]
    return total, prev_mean, typical, rel


# --------------------------------------------------------------------------------------------
# the pass: every slot's steps in one loop over each ticker's rows
# --------------------------------------------------------------------------------------------

# Slot numbers. A slot is used when its output row (slot_int[slot, 0]) is >= 0.
_SMA0, _SMA1, _SMA2 = 0, 1, 2
_EMA0, _EMA1, _EMA2, _EMA3 = 3, 4, 5, 6
_MACD, _RSI, _ATR, _BBANDS = 7, 8, 9, 10
_ROC0, _ROC1 = 11, 12
_VOLATILITY = 13
_EXT0, _EXT1 = 14, 15
_REL_VOLUME = 16
_N_SLOTS = 17

_SLOTS: dict[Family, tuple[int, ...]] = {
    "sma": (_SMA0, _SMA1, _SMA2),
    "ema": (_EMA0, _EMA1, _EMA2, _EMA3),
    "macd": (_MACD,),
    "rsi": (_RSI,),
    "atr": (_ATR,),
    "bbands": (_BBANDS,),
    "roc": (_ROC0, _ROC1),
    "volatility": (_VOLATILITY,),
    "extreme": (_EXT0, _EXT1),
    "rel_volume": (_REL_VOLUME,),
}

# What each family reads; the rolling extremes read any one column.
_FAMILY_INPUTS: dict[Family, tuple[Column, ...]] = {
    "sma": ("close",),
    "ema": ("close",),
    "macd": ("close",),
    "rsi": ("close",),
    "atr": ("high", "low", "close"),
    "bbands": ("close",),
    "roc": ("close",),
    "volatility": ("close",),
    "rel_volume": ("volume",),
    "dmi": ("high", "low", "close"),
    "stoch": ("high", "low", "close"),
    "willr": ("high", "low", "close"),
    "cci": ("high", "low", "close"),
    "mfi": ("high", "low", "close", "volume"),
    "donchian": ("high", "low"),
    "obv": ("close", "volume"),
    "ad": ("high", "low", "close", "volume"),
    "adosc": ("high", "low", "close", "volume"),
    "sar": ("high", "low"),
    "kama": ("close",),
    "ultosc": ("high", "low", "close"),
    "ppo": ("close",),
    "stochrsi": ("close",),
    "tsi": ("close",),
    "keltner": ("high", "low", "close"),
    "vwap": ("high", "low", "close", "volume"),
}

# slot_int columns: output row, state column, input column (index in _COLUMNS), periods...
_ROW, _STATE, _INPUT, _P0, _P1, _P2 = 0, 1, 2, 3, 4, 5


@_step
def _pick(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    column: int,
) -> FloatArray:
    if column == 0:
        return open_
    if column == 1:
        return high
    if column == 2:
        return low
    if column == 4:
        return volume
    return close


@_kernel
def _pass_kernel(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    slot_int: IntArray,
    slot_float: FloatArray,
) -> FloatArray:
    """Run every used slot over every ticker; returns the state after the last row.

    ``out`` (uninitialised) gets every row written exactly once, NaN for warm-up rows; a
    ticker's first row after its context goes to column ``out_start[t]``. With ``out_start``
    at each segment's first new row, ``out`` is aligned with the input (n_outputs x n_rows)
    and context rows are NaN; with segments packed back to back, it holds new rows only.
    ``state_in`` holds each used slot's state row from its state
    column on; element 0 of each is the bar count, the same for all.
    Families read ``close`` (ATR also ``high`` and ``low``, relative volume ``volume``); only the
    rolling extremes read the column their slot names.
    """
    state = state_in.copy()
    n_out = out.shape[0]
    sc = slot_int[:, _STATE]
    count_col = -1
    for slot in range(_N_SLOTS):
        if slot_int[slot, _ROW] >= 0:
            count_col = sc[slot]
            break

    on_s0, on_s1, on_s2 = slot_int[_SMA0, 0] >= 0, slot_int[_SMA1, 0] >= 0, slot_int[_SMA2, 0] >= 0
    r_s0, r_s1, r_s2 = slot_int[_SMA0, 0], slot_int[_SMA1, 0], slot_int[_SMA2, 0]
    p_s0, p_s1, p_s2 = slot_int[_SMA0, _P0], slot_int[_SMA1, _P0], slot_int[_SMA2, _P0]

    on_e0, on_e1 = slot_int[_EMA0, 0] >= 0, slot_int[_EMA1, 0] >= 0
    on_e2, on_e3 = slot_int[_EMA2, 0] >= 0, slot_int[_EMA3, 0] >= 0
    r_e0, r_e1, r_e2, r_e3 = (
        slot_int[_EMA0, 0],
        slot_int[_EMA1, 0],
        slot_int[_EMA2, 0],
        slot_int[_EMA3, 0],
    )
    p_e0, p_e1, p_e2, p_e3 = (
        slot_int[_EMA0, _P0],
        slot_int[_EMA1, _P0],
        slot_int[_EMA2, _P0],
        slot_int[_EMA3, _P0],
    )
    k_e0, k_e1, k_e2, k_e3 = 2.0 / (p_e0 + 1), 2.0 / (p_e1 + 1), 2.0 / (p_e2 + 1), 2.0 / (p_e3 + 1)

    on_m, r_m = slot_int[_MACD, 0] >= 0, slot_int[_MACD, 0]
    p_mf, p_ms, p_mg = slot_int[_MACD, _P0], slot_int[_MACD, _P1], slot_int[_MACD, _P2]
    k_mf, k_ms, k_mg = 2.0 / (p_mf + 1), 2.0 / (p_ms + 1), 2.0 / (p_mg + 1)

    on_r, r_r, p_r = slot_int[_RSI, 0] >= 0, slot_int[_RSI, 0], slot_int[_RSI, _P0]

    on_a, r_a, p_a = slot_int[_ATR, 0] >= 0, slot_int[_ATR, 0], slot_int[_ATR, _P0]

    on_b, r_b, p_b = slot_int[_BBANDS, 0] >= 0, slot_int[_BBANDS, 0], slot_int[_BBANDS, _P0]
    up_b, dn_b = slot_float[_BBANDS, 0], slot_float[_BBANDS, 1]

    on_c0, r_c0, p_c0 = slot_int[_ROC0, 0] >= 0, slot_int[_ROC0, 0], slot_int[_ROC0, _P0]
    on_c1, r_c1, p_c1 = slot_int[_ROC1, 0] >= 0, slot_int[_ROC1, 0], slot_int[_ROC1, _P0]

    on_v, r_v = slot_int[_VOLATILITY, 0] >= 0, slot_int[_VOLATILITY, 0]
    p_v = slot_int[_VOLATILITY, _P0]

    on_x0, r_x0, p_x0 = slot_int[_EXT0, 0] >= 0, slot_int[_EXT0, 0], slot_int[_EXT0, _P0]
    on_x1, r_x1, p_x1 = slot_int[_EXT1, 0] >= 0, slot_int[_EXT1, 0], slot_int[_EXT1, _P0]
    g_x0, g_x1 = slot_float[_EXT0, 0] > 0.0, slot_float[_EXT1, 0] > 0.0
    x_x0 = _pick(open_, high, low, close, volume, slot_int[_EXT0, _INPUT])
    x_x1 = _pick(open_, high, low, close, volume, slot_int[_EXT1, _INPUT])

    on_u, r_u = slot_int[_REL_VOLUME, 0] >= 0, slot_int[_REL_VOLUME, 0]
    p_u = slot_int[_REL_VOLUME, _P0]

    for t in numba.prange(offsets.shape[0] - 1):
        begin = offsets[t]
        start = begin + n_context[t]
        end = offsets[t + 1]
        shift = start - out_start[t]
        if shift == 0:  # aligned: the context rows are in ``out``, as NaN
            for r in range(n_out):
                out[r, begin:start] = np.nan
        row = state[t]
        count = int(row[count_col]) if count_col >= 0 else 0

        # load the running state of each used slot (unused ones stay 0 and are never read)
        s0 = row[sc[_SMA0] + 1] if on_s0 else 0.0
        s1 = row[sc[_SMA1] + 1] if on_s1 else 0.0
        s2 = row[sc[_SMA2] + 1] if on_s2 else 0.0
        e0 = row[sc[_EMA0] + 1] if on_e0 else 0.0
        e1 = row[sc[_EMA1] + 1] if on_e1 else 0.0
        e2 = row[sc[_EMA2] + 1] if on_e2 else 0.0
        e3 = row[sc[_EMA3] + 1] if on_e3 else 0.0
        mf = row[sc[_MACD] + 1] if on_m else 0.0
        ms = row[sc[_MACD] + 2] if on_m else 0.0
        mg = row[sc[_MACD] + 3] if on_m else 0.0
        r_prev = row[sc[_RSI] + 1] if on_r else 0.0
        r_gain = row[sc[_RSI] + 2] if on_r else 0.0
        r_loss = row[sc[_RSI] + 3] if on_r else 0.0
        a_prev = row[sc[_ATR] + 1] if on_a else 0.0
        a_acc = row[sc[_ATR] + 2] if on_a else 0.0
        b_tot = row[sc[_BBANDS] + 1] if on_b else 0.0
        b_tot2 = row[sc[_BBANDS] + 2] if on_b else 0.0
        v_tot = row[sc[_VOLATILITY] + 1] if on_v else 0.0
        v_tot2 = row[sc[_VOLATILITY] + 2] if on_v else 0.0
        u_tot = row[sc[_REL_VOLUME] + 1] if on_u else 0.0
        u_prev = row[sc[_REL_VOLUME] + 2] if on_u else 0.0
        # rolling extremes, in their own loop (fewer live values in the main one); they are
        # rebuilt from the context rows, so only the count is carried
        if on_x0 or on_x1:
            bar = count - n_context[t]
            pos0 = bar % p_x0 if on_x0 else 0
            pos1 = bar % p_x1 if on_x1 else 0
            suffix0 = np.empty(p_x0 if on_x0 else 0)
            suffix1 = np.empty(p_x1 if on_x1 else 0)
            head0 = np.nan
            head1 = np.nan
            for j in range(begin, end):
                if on_x0:
                    head0 = _extreme_step(x_x0, j, begin, pos0, head0, suffix0, p_x0, g_x0)
                    if j >= start:
                        out[r_x0, j - shift] = _extreme_value(bar, pos0, head0, suffix0, p_x0, g_x0)
                    pos0 = pos0 + 1 if pos0 < p_x0 - 1 else 0
                if on_x1:
                    head1 = _extreme_step(x_x1, j, begin, pos1, head1, suffix1, p_x1, g_x1)
                    if j >= start:
                        out[r_x1, j - shift] = _extreme_value(bar, pos1, head1, suffix1, p_x1, g_x1)
                    pos1 = pos1 + 1 if pos1 < p_x1 - 1 else 0
                bar += 1

        for j in range(start, end):
            o = j - shift  # this row's column in ``out``
            if on_s0:
                s0, out[r_s0, o] = _sma_step(close, j, count, s0, p_s0)
            if on_s1:
                s1, out[r_s1, o] = _sma_step(close, j, count, s1, p_s1)
            if on_s2:
                s2, out[r_s2, o] = _sma_step(close, j, count, s2, p_s2)
            if on_e0:
                e0, out[r_e0, o] = _ema_step(close[j], count, e0, p_e0, k_e0)
            if on_e1:
                e1, out[r_e1, o] = _ema_step(close[j], count, e1, p_e1, k_e1)
            if on_e2:
                e2, out[r_e2, o] = _ema_step(close[j], count, e2, p_e2, k_e2)
            if on_e3:
                e3, out[r_e3, o] = _ema_step(close[j], count, e3, p_e3, k_e3)
            if on_m:
                mf, ms, mg, out[r_m, o], out[r_m + 1, o], out[r_m + 2, o] = _macd_step(
                    close[j], count, mf, ms, mg, p_mf, p_ms, p_mg, k_mf, k_ms, k_mg
                )
            if on_r:
                r_gain, r_loss, out[r_r, o] = _rsi_step(
                    close[j], r_prev, count, r_gain, r_loss, p_r
                )
                r_prev = close[j]
            if on_a:
                a_acc, out[r_a, o] = _atr_step(high[j], low[j], a_prev, count, a_acc, p_a)
                a_prev = close[j]
            if on_b:
                b_tot, b_tot2, out[r_b, o], out[r_b + 1, o], out[r_b + 2, o] = _bbands_step(
                    close, j, count, b_tot, b_tot2, p_b, up_b, dn_b
                )
            if on_c0:
                out[r_c0, o] = _roc_step(close, j, count, p_c0)
            if on_c1:
                out[r_c1, o] = _roc_step(close, j, count, p_c1)
            if on_v:
                v_tot, v_tot2, out[r_v, o] = _volatility_step(close, j, count, v_tot, v_tot2, p_v)
            if on_u:
                u_tot, u_prev, out[r_u, o], out[r_u + 1, o] = _rel_volume_step(
                    volume, j, count, u_tot, u_prev, p_u
                )
            count += 1

        # store the state back; every used slot carries the same count
        for slot in range(_N_SLOTS):
            if slot_int[slot, _ROW] >= 0:
                row[sc[slot]] = count
        if on_s0:
            row[sc[_SMA0] + 1] = s0
        if on_s1:
            row[sc[_SMA1] + 1] = s1
        if on_s2:
            row[sc[_SMA2] + 1] = s2
        if on_e0:
            row[sc[_EMA0] + 1] = e0
        if on_e1:
            row[sc[_EMA1] + 1] = e1
        if on_e2:
            row[sc[_EMA2] + 1] = e2
        if on_e3:
            row[sc[_EMA3] + 1] = e3
        if on_m:
            row[sc[_MACD] + 1] = mf
            row[sc[_MACD] + 2] = ms
            row[sc[_MACD] + 3] = mg
        if on_r:
            row[sc[_RSI] + 1] = r_prev
            row[sc[_RSI] + 2] = r_gain
            row[sc[_RSI] + 3] = r_loss
        if on_a:
            row[sc[_ATR] + 1] = a_prev
            row[sc[_ATR] + 2] = a_acc
        if on_b:
            row[sc[_BBANDS] + 1] = b_tot
            row[sc[_BBANDS] + 2] = b_tot2
        if on_v:
            row[sc[_VOLATILITY] + 1] = v_tot
            row[sc[_VOLATILITY] + 2] = v_tot2
        if on_u:
            row[sc[_REL_VOLUME] + 1] = u_tot
            row[sc[_REL_VOLUME] + 2] = u_prev
    return state


# --------------------------------------------------------------------------------------------
# the public surface
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One indicator: what it reads, what it writes, how much history it needs, its state.

    Build them with the factories (:func:`sma`, :func:`rsi`, ...); :data:`INDICATORS` holds the
    default set.

    Parameters
    ----------
    name : str
        Registry key, e.g. ``"sma_50"``.
    inputs : tuple of Column
        Columns it reads.
    outputs : tuple of str
        Output column names.
    lookback : int
        TA-Lib lookback: the number of leading NaN rows of a full run on a long series.
    window : int
        Trailing context rows a resumed run reads before its first new row (0 when the state
        alone carries everything, as for recursive averages).
    n_state : int
        Width of the per-ticker state row; element 0 is always the number of bars seen.
    family : Family
        Which step function computes it (and which slots of the pass it can use).
    periods : tuple of int
        Integer parameters of the family (period; fast, slow, signal for MACD).
    factors : tuple of float
        Float parameters of the family (band widths; +1/-1 for highest/lowest).
    state0 : tuple of float
        The state row of a ticker that has seen no bar; ``len(state0) == n_state``.

    Notes
    -----
    Contract: on new rows (after the ``n_context`` context rows of a segment), outputs are
    bitwise equal to those of a full run over the whole history, given the state a previous
    call returned after the last context row and at least ``window`` context rows (or all
    history if shorter). Context and warm-up rows are NaN. No output depends on a later row.
    """

    name: str
    inputs: tuple[Column, ...]
    outputs: tuple[str, ...]
    lookback: int
    window: int
    n_state: int
    family: Family
    periods: tuple[int, ...]
    factors: tuple[float, ...] = ()
    state0: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        fixed = _FAMILY_INPUTS.get(self.family)
        wrong = (self.inputs != fixed) if fixed is not None else (len(self.inputs) != 1)
        if wrong:
            raise ValueError(
                f"indicator {self.name!r}: family {self.family!r} reads "
                f"{fixed if fixed is not None else 'one column'}, not {self.inputs}; use its "
                "factory"
            )
        if len(self.state0) != self.n_state:
            raise ValueError(
                f"indicator {self.name!r}: state0 has {len(self.state0)} elements, n_state says "
                f"{self.n_state}; make them agree"
            )

    def initial_state(self, n_tickers: int) -> FloatArray:
        """State of ``n_tickers`` tickers that have seen no bar: shape ``(n_tickers, n_state)``."""
        row = np.asarray(self.state0, dtype=np.float64)
        return np.tile(row, (n_tickers, 1))


def run(
    indicator: Indicator,
    columns: Mapping[str, npt.ArrayLike],
    offsets: npt.ArrayLike,
    n_context: npt.ArrayLike | None = None,
    state: npt.ArrayLike | None = None,
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Run one indicator over every ticker of a universe.

    Parameters
    ----------
    indicator : Indicator
        What to compute, e.g. ``INDICATORS["rsi_14"]``.
    columns : mapping of str to array
        Input columns by name, each of length ``offsets[-1]``, all tickers back to back; only
        ``indicator.inputs`` are read (converted to contiguous ``float64`` if needed).
    offsets : array of int, length n_tickers + 1
        Segment bounds: ticker ``i`` owns rows ``offsets[i]:offsets[i + 1]``; ``offsets[0] == 0``
        and non-decreasing (empty segments are fine).
    n_context : array of int, length n_tickers, optional
        Leading rows of each segment already processed by a previous call (their outputs stay
        NaN). Default: no context (a full run).
    state : array, shape (n_tickers, indicator.n_state), optional
        State after the last context row, as returned by the previous call. Default:
        :meth:`Indicator.initial_state` (a full run).

    Returns
    -------
    outputs : dict of str to ndarray
        One ``float64`` array per name in ``indicator.outputs``, aligned with the input rows.
    state_out : ndarray, shape (n_tickers, indicator.n_state)
        State after the last row of each segment; pass it, with at least the last
        ``indicator.window`` rows as context, to resume on rows appended later.

    Raises
    ------
    ValueError
        If an input column is missing or misshaped, ``offsets`` is not a valid partition, or
        ``n_context`` and ``state`` do not fit together.

    See Also
    --------
    run_many : several indicators in one pass (faster than calling this for each).
    """
    states = None if state is None else {indicator.name: state}
    outputs, states_out = run_many([indicator], columns, offsets, n_context, states)
    return outputs, states_out[indicator.name]


def run_many(
    indicators: Sequence[Indicator],
    columns: Mapping[str, npt.ArrayLike],
    offsets: npt.ArrayLike,
    n_context: npt.ArrayLike | None = None,
    states: Mapping[str, npt.ArrayLike] | None = None,
    *,
    new_rows_only: bool = False,
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Run several indicators over every ticker in as few passes over the data as possible.

    Parameters
    ----------
    indicators : sequence of Indicator
        What to compute, e.g. ``list(INDICATORS.values())`` (one pass); names and output names
        must be unique.
    columns, offsets, n_context
        As in :func:`run`; ``n_context`` is shared by all indicators, so it must cover the
        largest ``window`` among them.
    states : mapping of str to array, optional
        State per indicator name, as returned by the previous call; all of them or none (a full
        run). They must agree on the number of bars seen per ticker.
    new_rows_only : bool
        Return the rows after each segment's context only, packed in segment order, instead
        of columns aligned with the input (whose context rows are NaN). A daily update reads
        one new row after some hundred context rows per ticker: writing NaN over the context
        would be most of its work.

    Returns
    -------
    outputs : dict of str to ndarray
        Every output column of every indicator, by output name.
    states_out : dict of str to ndarray
        State after the last row, by indicator name.

    Raises
    ------
    ValueError
        As in :func:`run`; also for duplicate names or states that disagree.

    Notes
    -----
    Results are bitwise identical to calling :func:`run` for each indicator: a pass only
    interleaves independent computations.
    """
    names = [ind.name for ind in indicators]
    out_names = [name for ind in indicators for name in ind.outputs]
    if len(set(names)) != len(names) or len(set(out_names)) != len(out_names):
        raise ValueError(f"indicator and output names must be unique; got {names}")
    offs = np.ascontiguousarray(offsets, dtype=np.int64)
    if offs.ndim != 1 or offs.size == 0 or offs[0] != 0 or np.any(np.diff(offs) < 0):
        raise ValueError(
            "offsets must be a 1-D non-decreasing integer array starting at 0, one bound per "
            "ticker plus the total row count"
        )
    n_tickers = offs.size - 1
    n_rows = int(offs[-1])

    arrays: dict[Column, FloatArray] = {}
    for ind in indicators:
        for name in ind.inputs:
            if name in arrays:
                continue
            if name not in columns:
                raise ValueError(
                    f"indicator {ind.name!r} needs column {name!r}; got {sorted(columns)}"
                )
            array = np.ascontiguousarray(columns[name], dtype=np.float64)
            if array.shape != (n_rows,):
                raise ValueError(
                    f"column {name!r} has shape {array.shape}, expected ({n_rows},) = offsets[-1]"
                )
            arrays[name] = array

    states_in = _check_states(indicators, states, n_tickers)
    context = _check_context(indicators, states_in, n_context, offs)

    outputs: dict[str, FloatArray] = {}
    states_out: dict[str, FloatArray] = {}
    # Read-only views throughout, so the kernel sees one type signature whatever the caller
    # passes (arrays from Polars or Arrow are often read-only) and compiles, or loads, once.
    empty = np.empty(0)
    open_, high, low, close, volume = (_readonly(arrays.get(name, empty)) for name in _COLUMNS)
    offs_ro, context_ro = _readonly(offs), _readonly(context)
    if new_rows_only:
        fresh = np.diff(offs) - context
        n_out_rows = int(fresh.sum())
        out_start = np.zeros(n_tickers, dtype=np.int64)
        np.cumsum(fresh[:-1], out=out_start[1:])
    else:
        n_out_rows, out_start = n_rows, offs[:-1] + context
    fused = [ind for ind in indicators if ind.family in _SLOTS]
    for group in _own_kernel_groups(indicators, states_in):
        out = np.empty((sum(len(ind.outputs) for ind in group), n_out_rows))
        state_out = _run_own_kernel(
            group,
            (high, low, close, volume),
            (offs_ro, context_ro, _readonly(out_start)),
            states_in[group[0].name],
            out,
        )
        produced = [name for ind in group for name in ind.outputs]
        outputs.update(zip(produced, out, strict=True))
        states_out.update(
            (ind.name, state_out if k == 0 else state_out.copy()) for k, ind in enumerate(group)
        )
    for batch in _plan(fused):
        slot_int = np.full((_N_SLOTS, 6), -1, dtype=np.int64)
        slot_float = np.zeros((_N_SLOTS, 2))
        row = col = 0
        for slot, ind in batch:
            slot_int[slot, _ROW] = row
            slot_int[slot, _STATE] = col
            slot_int[slot, _INPUT] = _COLUMNS.index(ind.inputs[0])
            slot_int[slot, _P0 : _P0 + len(ind.periods)] = ind.periods
            slot_float[slot, : len(ind.factors)] = ind.factors
            row += len(ind.outputs)
            col += ind.n_state
        out = np.empty((row, n_out_rows))
        state_in = _readonly(np.concatenate([states_in[ind.name] for _, ind in batch], axis=1))
        state_out = _pass_kernel(
            open_,
            high,
            low,
            close,
            volume,
            offs_ro,
            context_ro,
            _readonly(out_start),
            state_in,
            out,
            _readonly(slot_int),
            _readonly(slot_float),
        )
        for slot, ind in batch:
            r = int(slot_int[slot, _ROW])
            c = int(slot_int[slot, _STATE])
            for k, output in enumerate(ind.outputs):
                outputs[output] = out[r + k]
            states_out[ind.name] = np.ascontiguousarray(state_out[:, c : c + ind.n_state])
    # in the order asked for, whichever kernel computed them (saved states keep that order)
    ordered = {name: outputs[name] for name in out_names}
    return ordered, {name: states_out[name] for name in names}


def _own_kernel_groups(
    indicators: Sequence[Indicator], states: Mapping[str, FloatArray]
) -> list[list[Indicator]]:
    # Each indicator of a family outside the fused pass is one kernel call, except that the
    # ADX and the directional indicators of one period share theirs when they resume from the
    # same state (one run computes both).
    groups: list[list[Indicator]] = []
    directional: dict[int, list[Indicator]] = {}
    for ind in indicators:
        if ind.family in _SLOTS:
            continue
        if ind.family == "dmi":
            pair = directional.setdefault(ind.periods[0], [])
            first = pair[0] if pair else ind
            if (
                len(pair) == 1
                and first.periods[1] != ind.periods[1]
                and np.array_equal(states[first.name], states[ind.name])
            ):
                pair.append(ind)
                pair.sort(key=lambda i: i.periods[1])  # the ADX first
                continue
            if not pair:
                pair.append(ind)
                groups.append(pair)
                continue
        groups.append([ind])
    return groups


def _run_own_kernel(
    group: Sequence[Indicator],
    columns: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    layout: tuple[IntArray, IntArray, IntArray],
    state: FloatArray,
    out: FloatArray,
) -> FloatArray:
    ind = group[0]
    periods = np.zeros(3, dtype=np.int64)
    periods[: len(ind.periods)] = ind.periods
    if len(group) == 2:
        periods[1] = 2  # ADX, +DI and -DI in one run
    factors = np.zeros(2)
    factors[: len(ind.factors)] = ind.factors
    kernel = FAMILY_KERNELS[ind.family]
    return kernel(*columns, *layout, _readonly(state), out, _readonly(periods), _readonly(factors))


_A = TypeVar("_A", bound=np.ndarray[Any, Any])


def _readonly(array: _A) -> _A:
    view = array.view()
    view.flags.writeable = False
    return view


def _plan(indicators: Sequence[Indicator]) -> list[list[tuple[int, Indicator]]]:
    # Greedy: each indicator takes the first free slot of its family in the first pass that has
    # one.
    batches: list[list[tuple[int, Indicator]]] = []
    taken: list[set[int]] = []
    for ind in indicators:
        for batch, used in zip(batches, taken, strict=True):
            free = [slot for slot in _SLOTS[ind.family] if slot not in used]
            if free:
                batch.append((free[0], ind))
                used.add(free[0])
                break
        else:
            slot = _SLOTS[ind.family][0]
            batches.append([(slot, ind)])
            taken.append({slot})
    return batches


def _check_states(
    indicators: Sequence[Indicator],
    states: Mapping[str, npt.ArrayLike] | None,
    n_tickers: int,
) -> dict[str, FloatArray]:
    if states is None:
        return {ind.name: ind.initial_state(n_tickers) for ind in indicators}
    result: dict[str, FloatArray] = {}
    for ind in indicators:
        if ind.name not in states:
            raise ValueError(
                f"no state for {ind.name!r}; pass the states_out of the previous run for every "
                "indicator, or none for a full run"
            )
        state = np.ascontiguousarray(states[ind.name], dtype=np.float64)
        if state.shape != (n_tickers, ind.n_state):
            raise ValueError(
                f"state for {ind.name!r} has shape {state.shape}, expected "
                f"({n_tickers}, {ind.n_state}); pass the state_out of the previous run"
            )
        result[ind.name] = state
    counts = [s[:, 0] for s in result.values()]
    if any(not np.array_equal(counts[0], c) for c in counts[1:]):
        raise ValueError(
            "the states disagree on how many bars each ticker has seen; run the indicators "
            "that were updated separately on their own"
        )
    return result


def _check_context(
    indicators: Sequence[Indicator],
    states: Mapping[str, FloatArray],
    n_context: npt.ArrayLike | None,
    offsets: IntArray,
) -> IntArray:
    n_tickers = offsets.size - 1
    if n_context is None:
        return np.zeros(n_tickers, dtype=np.int64)
    context = np.ascontiguousarray(n_context, dtype=np.int64)
    if context.shape != (n_tickers,):
        raise ValueError(f"n_context has shape {context.shape}, expected ({n_tickers},)")
    lengths = np.diff(offsets)
    for ind in indicators:
        seen = states[ind.name][:, 0]
        needed = np.minimum(seen, ind.window)
        bad = (context < 0) | (context > lengths) | (context > seen) | (context < needed)
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"ticker #{i}: n_context={int(context[i])} does not fit a segment of "
                f"{int(lengths[i])} rows and a state that has seen {int(seen[i])} bars; "
                f"{ind.name!r} needs the last {int(needed[i])} processed rows as context"
            )
    return context


# --------------------------------------------------------------------------------------------
# factories
# --------------------------------------------------------------------------------------------


def _check_period(name: str, period: int, minimum: int) -> None:
    if period < minimum:
        raise ValueError(f"{name}: period must be at least {minimum} (as in TA-Lib), got {period}")


def sma(period: int) -> Indicator:
    """Simple moving average of the close, ``sma_{period}``.

    Notes
    -----
    ``sma[t] = (close[t - period + 1] + ... + close[t]) / period``, today included. Matches
    ``talib.SMA(close, period)`` bitwise (same running sum: add today, divide, drop the
    oldest). Lookback ``period - 1``; window ``period - 1``.
    """
    _check_period("sma", period, 2)
    return Indicator(
        name=f"sma_{period}",
        inputs=("close",),
        outputs=(f"sma_{period}",),
        lookback=period - 1,
        window=period - 1,
        n_state=2,
        family="sma",
        periods=(period,),
        state0=(0.0, 0.0),
    )


def ema(period: int) -> Indicator:
    """Exponential moving average of the close, ``ema_{period}``.

    Notes
    -----
    ``k = 2 / (period + 1)``; ``ema[period - 1] = mean(close[0:period])`` (SMA seed), then
    ``ema[t] = (close[t] - ema[t - 1]) * k + ema[t - 1]``. Matches ``talib.EMA(close, period)``
    (default compatibility, no unstable period) to the last bit or two: TA-Lib >= 0.6 picks an
    FMA-compiled variant at run time on CPUs that have FMA, which rounds the update once
    instead of twice; these kernels use plain IEEE operations, identical on every machine.
    Lookback ``period - 1``; purely recursive (window 0).
    """
    _check_period("ema", period, 2)
    return Indicator(
        name=f"ema_{period}",
        inputs=("close",),
        outputs=(f"ema_{period}",),
        lookback=period - 1,
        window=0,
        n_state=2,
        family="ema",
        periods=(period,),
        state0=(0.0, 0.0),
    )


def macd(fast: int = 12, slow: int = 26, signal: int = 9) -> Indicator:
    """MACD line, signal and histogram: outputs ``macd``, ``macd_signal``, ``macd_hist``.

    Notes
    -----
    ``macd = ema_fast - ema_slow``, ``macd_signal = EMA(macd, signal)``,
    ``macd_hist = macd - macd_signal``, every EMA with ``k = 2 / (n + 1)`` and an SMA seed.
    As in ``talib.MACD(close, fast, slow, signal)`` the fast EMA is seeded on bar ``slow - 1``
    with the mean of the ``fast`` closes ending there (not on bar ``fast - 1``), so both EMAs
    start together; the signal EMA is seeded with the mean of the first ``signal`` MACD values.
    The MACD line therefore differs from ``ema_12 - ema_26`` early on (the difference decays by
    ``1 - 2 / (fast + 1)`` per bar). StockCharts' sheet seeds every EMA with the first close;
    it converges to the same values. Lookback ``slow + signal - 2`` (33); window 0.
    """
    _check_period("macd fast", fast, 2)
    _check_period("macd signal", signal, 1)
    if slow <= fast:
        raise ValueError(f"macd: slow ({slow}) must be longer than fast ({fast})")
    return Indicator(
        name="macd",
        inputs=("close",),
        outputs=("macd", "macd_signal", "macd_hist"),
        lookback=slow + signal - 2,
        window=0,
        n_state=4,
        family="macd",
        periods=(fast, slow, signal),
        state0=(0.0, 0.0, 0.0, 0.0),
    )


def rsi(period: int = 14) -> Indicator:
    """Relative strength index (Wilder), ``rsi_{period}``, from 0 to 100.

    Notes
    -----
    With ``d[t] = close[t] - close[t - 1]``: the first average gain and loss are the plain means
    of the gains and losses of ``d[1..period]``; after that
    ``avg = (avg * (period - 1) + today) / period``. ``rsi = 100 * gain / (gain + loss)``, and 0
    when ``|gain + loss| < 1e-8`` (TA-Lib's zero test). Matches ``talib.RSI(close, period)``,
    which reproduces StockCharts' published RSI. Lookback ``period``; window 0.
    """
    _check_period("rsi", period, 2)
    return Indicator(
        name=f"rsi_{period}",
        inputs=("close",),
        outputs=(f"rsi_{period}",),
        lookback=period,
        window=0,
        n_state=4,
        family="rsi",
        periods=(period,),
        state0=(0.0, 0.0, 0.0, 0.0),
    )


def atr(period: int = 14) -> Indicator:
    """Average true range (Wilder), ``atr_{period}``, in price units.

    Notes
    -----
    ``tr[t] = max(high[t] - low[t], |close[t-1] - high[t]|, |close[t-1] - low[t]|)``, defined
    from bar 1. ``atr[period] = mean(tr[1..period])``, then
    ``atr[t] = (atr[t-1] * (period - 1) + tr[t]) / period``. Matches
    ``talib.ATR(high, low, close, period)``. StockCharts' worked example differs: it seeds with
    ``mean(tr[0..period-1])``, counting ``high - low`` of bar 0 as a true range, one bar
    earlier; the gap then shrinks by ``(period - 1) / period`` per bar. Lookback ``period``;
    window 0.
    """
    _check_period("atr", period, 1)
    return Indicator(
        name=f"atr_{period}",
        inputs=("high", "low", "close"),
        outputs=(f"atr_{period}",),
        lookback=period,
        window=0,
        n_state=3,
        family="atr",
        periods=(period,),
        state0=(0.0, 0.0, 0.0),
    )


def bbands(period: int = 20, nbdev: float = 2.0) -> Indicator:
    """Bollinger Bands: outputs ``bb_upper``, ``bb_middle``, ``bb_lower``.

    Notes
    -----
    ``bb_middle = SMA(close, period)``;
    ``sd = sqrt(mean(close**2) - bb_middle**2)`` over the same window (population standard
    deviation, from running sums as TA-Lib computes it; 0 when the variance is below 1e-8);
    ``bb_upper = bb_middle + nbdev * sd``, ``bb_lower = bb_middle - nbdev * sd``. Matches
    ``talib.BBANDS(close, period, nbdev, nbdev, matype=0)``. Lookback and window
    ``period - 1``.
    """
    _check_period("bbands", period, 2)
    return Indicator(
        name="bbands",
        inputs=("close",),
        outputs=("bb_upper", "bb_middle", "bb_lower"),
        lookback=period - 1,
        window=period - 1,
        n_state=3,
        family="bbands",
        periods=(period,),
        factors=(float(nbdev), float(nbdev)),
        state0=(0.0, 0.0, 0.0),
    )


def roc(period: int = 12, name: str | None = None) -> Indicator:
    """Rate of change as a fraction, ``roc_{period}``; ``return_1d`` is ``roc(1, "return_1d")``.

    Notes
    -----
    ``roc[t] = (close[t] - close[t - period]) / close[t - period]``, i.e.
    ``close[t] / close[t - period] - 1`` computed as a difference first (as TA-Lib does, which
    keeps small changes exact); 0 when the earlier close is 0, as in TA-Lib. Matches
    ``talib.ROCP(close, period)`` bitwise; ``talib.ROC`` is 100 times it. Lookback and window
    ``period``.
    """
    _check_period("roc", period, 1)
    label = name if name is not None else f"roc_{period}"
    return Indicator(
        name=label,
        inputs=("close",),
        outputs=(label,),
        lookback=period,
        window=period,
        n_state=1,
        family="roc",
        periods=(period,),
        state0=(0.0,),
    )


def volatility(period: int = 60) -> Indicator:
    """Standard deviation of daily returns, ``volatility_{period}`` (a fraction per day).

    Notes
    -----
    With ``r[t] = (close[t] - close[t-1]) / close[t-1]`` (``return_1d``),
    ``volatility[t] = sqrt(mean(r**2) - mean(r)**2)`` over ``r[t - period + 1 .. t]``: the
    population standard deviation (divided by ``period``, not ``period - 1``) of the last
    ``period`` returns, today's included, so it spans ``period + 1`` closes. Not annualised
    (multiply by ``sqrt(252)`` for that). Computed from running sums exactly as
    ``talib.STDDEV(talib.ROCP(close, 1), period, 1)``, including TA-Lib's rule that a variance
    below 1e-8 (a standard deviation below 1e-4) gives 0. Lookback and window ``period``.
    """
    _check_period("volatility", period, 2)
    return Indicator(
        name=f"volatility_{period}",
        inputs=("close",),
        outputs=(f"volatility_{period}",),
        lookback=period,
        window=period,
        n_state=3,
        family="volatility",
        periods=(period,),
        state0=(0.0, 0.0, 0.0),
    )


def highest(period: int = 252, name: str = "high_52w") -> Indicator:
    """Highest high of the last ``period`` sessions, today included (``high_52w`` by default).

    Notes
    -----
    ``highest[t] = max(high[t - period + 1 .. t])``. Matches ``talib.MAX(high, period)``
    (computed with a block algorithm instead of TA-Lib's rescans; the maximum of a set is exact,
    so the values are identical). Lookback and window ``period - 1``; the state is the bar
    count only, the window is rebuilt from the context rows.
    """
    _check_period("highest", period, 2)
    return Indicator(
        name=name,
        inputs=("high",),
        outputs=(name,),
        lookback=period - 1,
        window=period - 1,
        n_state=1,
        family="extreme",
        periods=(period,),
        factors=(1.0,),
        state0=(0.0,),
    )


def lowest(period: int = 252, name: str = "low_52w") -> Indicator:
    """Lowest low of the last ``period`` sessions, today included (``low_52w`` by default).

    Notes
    -----
    ``lowest[t] = min(low[t - period + 1 .. t])``. Matches ``talib.MIN(low, period)`` (see
    :func:`highest`). Lookback and window ``period - 1``.
    """
    _check_period("lowest", period, 2)
    return Indicator(
        name=name,
        inputs=("low",),
        outputs=(name,),
        lookback=period - 1,
        window=period - 1,
        n_state=1,
        family="extreme",
        periods=(period,),
        factors=(-1.0,),
        state0=(0.0,),
    )


def relative_volume(period: int = 50) -> Indicator:
    """Typical and relative volume: outputs ``typical_volume_{period}`` and ``rel_volume``.

    Notes
    -----
    ``typical_volume[t] = mean(volume[t - period .. t - 1])``: the ``period`` sessions before the
    day, the day excluded, i.e. ``talib.SMA(volume, period)`` shifted one bar later.
    ``rel_volume[t] = volume[t] / typical_volume[t]``, NaN (null) where the typical volume is 0
    (an index without volume), where plain division would give inf. Lookback ``period``;
    window ``period - 1``.
    """
    _check_period("relative_volume", period, 2)
    return Indicator(
        name="rel_volume",
        inputs=("volume",),
        outputs=(f"typical_volume_{period}", "rel_volume"),
        lookback=period,
        window=period - 1,
        n_state=3,
        family="rel_volume",
        periods=(period,),
        state0=(0.0, 0.0, 0.0),
    )


def _oscillator(
    name: str,
    family: Family,
    outputs: tuple[str, ...],
    lookback: int,
    window: int,
    n_state: int,
    periods: tuple[int, ...] = (),
    factors: tuple[float, ...] = (),
) -> Indicator:
    return Indicator(
        name=name,
        inputs=_FAMILY_INPUTS[family],
        outputs=outputs,
        lookback=lookback,
        window=window,
        n_state=n_state,
        family=family,
        periods=periods,
        factors=factors,
        state0=(0.0,) * n_state,
    )


def adx(period: int = 14) -> Indicator:
    """Average directional index (Wilder), ``adx_{period}``, from 0 to 100.

    Notes
    -----
    From bar 1: ``+DM = high - prior high`` when that exceeds both 0 and ``prior low - low``
    (else 0), ``-DM`` likewise; the true range as in :func:`atr`. The first smoothed sums are
    the plain sums over bars ``1..period-1``, then ``s = s - s / period + today``;
    ``+DI = 100 * +DM_s / TR_s``, ``DX = 100 * |+DI - -DI| / (+DI + -DI)``; the ADX is the
    mean of the first ``period`` DX values (bars ``period..2 period - 1``), then Wilder's
    average. A DX with a zero (below 1e-8) denominator is skipped, as TA-Lib skips it.
    Matches ``talib.ADX(high, low, close, period)``; StockCharts' sheet agrees once warmed
    up. Lookback ``2 * period - 1``; window 0.
    """
    _check_period("adx", period, 2)
    return _oscillator(
        f"adx_{period}", "dmi", (f"adx_{period}",), 2 * period - 1, 0, 8, (period, 0)
    )


def dmi(period: int = 14) -> Indicator:
    """Directional indicators: outputs ``plus_di_{period}`` and ``minus_di_{period}``.

    Notes
    -----
    ``+DI`` and ``-DI`` as in :func:`adx` (0 when the smoothed true range is 0). Match
    ``talib.PLUS_DI`` and ``talib.MINUS_DI``. Lookback ``period``; window 0.
    """
    _check_period("dmi", period, 2)
    outputs = (f"plus_di_{period}", f"minus_di_{period}")
    return _oscillator(f"dmi_{period}", "dmi", outputs, period, 0, 8, (period, 1))


def stoch(period: int = 14, slow_k: int = 3, slow_d: int = 3) -> Indicator:
    """Slow stochastics: outputs ``stoch_k_{period}`` and ``stoch_d_{period}``, 0 to 100.

    Notes
    -----
    ``fast %K = 100 * (close - lowest low) / (highest high - lowest high)`` over ``period``
    bars (0 on a flat window); ``stoch_k = SMA(fast %K, slow_k)``,
    ``stoch_d = SMA(stoch_k, slow_d)``. Matches ``talib.STOCH(high, low, close, period,
    slow_k, 0, slow_d, 0)``, which starts both outputs on the same bar. StockCharts'
    ``cs-soo`` sheet is the fast stochastic: its %K is the fast %K here and its %D is this
    ``stoch_k``. Lookback ``period + slow_k + slow_d - 3``; window ``period - 1``.
    """
    _check_period("stoch", period, 1)
    _check_period("stoch slow_k", slow_k, 1)
    _check_period("stoch slow_d", slow_d, 1)
    outputs = (f"stoch_k_{period}", f"stoch_d_{period}")
    lookback = period + slow_k + slow_d - 3
    n_state = 3 + slow_k + slow_d
    return _oscillator(
        f"stoch_{period}", "stoch", outputs, lookback, period - 1, n_state, (period, slow_k, slow_d)
    )


def willr(period: int = 14) -> Indicator:
    """Williams %R, ``willr_{period}``, from -100 (at the low) to 0 (at the high).

    Notes
    -----
    ``-100 * (highest high - close) / (highest high - lowest low)`` over ``period`` bars, 0
    on a flat window. Matches ``talib.WILLR`` and StockCharts' sheet. Lookback and window
    ``period - 1``.
    """
    _check_period("willr", period, 2)
    name = f"willr_{period}"
    return _oscillator(name, "willr", (name,), period - 1, period - 1, 1, (period,))


def cci(period: int = 20) -> Indicator:
    """Commodity channel index, ``cci_{period}``.

    Notes
    -----
    ``tp = (high + low + close) / 3``;
    ``cci = (tp - SMA(tp)) / (0.015 * mean |tp - SMA(tp)|)`` over ``period`` bars, 0 when
    either part is 0. Matches ``talib.CCI`` and StockCharts' sheet (which rounds). Lookback
    and window ``period - 1``.
    """
    _check_period("cci", period, 2)
    name = f"cci_{period}"
    return _oscillator(name, "cci", (name,), period - 1, period - 1, 1, (period,))


def mfi(period: int = 14) -> Indicator:
    """Money flow index, ``mfi_{period}``, from 0 to 100.

    Notes
    -----
    Raw money flow ``tp * volume`` counts as positive on a bar whose typical price rose, as
    negative when it fell, as neither when unchanged; ``mfi = 100 * positive / (positive +
    negative)`` over the last ``period`` bars, 0 when nothing flowed (an instrument without
    volume reads 0). As in TA-Lib 0.8, a typical price that moved by less than 1e-14 of its
    size counts as unchanged, and a window without flow resets the running sums to 0.
    Matches ``talib.MFI`` and StockCharts' sheet. Lookback ``period``; window ``period + 1``.
    """
    _check_period("mfi", period, 2)
    name = f"mfi_{period}"
    return _oscillator(name, "mfi", (name,), period, period + 1, 4, (period,))


def obv() -> Indicator:
    """On-balance volume, ``obv``, in shares.

    Notes
    -----
    Starts at the first bar's volume, then adds the volume of an up close and subtracts that
    of a down close. Matches ``talib.OBV``. StockCharts' sheet starts at 0 instead, so its
    values are TA-Lib's minus the first bar's volume. Its level depends on where the history
    starts; compare changes, not levels, across sources. Lookback 0; window 0.
    """
    return _oscillator("obv", "obv", ("obv",), 0, 0, 3)


def ad() -> Indicator:
    """Chaikin accumulation/distribution line, ``ad``.

    Notes
    -----
    ``ad += ((close - low) - (high - close)) / (high - low) * volume``, skipping bars whose
    high equals their low. Matches ``talib.AD`` and StockCharts' sheet. Lookback 0; window 0.
    """
    return _oscillator("ad", "ad", ("ad",), 0, 0, 2)


def adosc(fast: int = 3, slow: int = 10) -> Indicator:
    """Chaikin oscillator, ``adosc_{fast}_{slow}``: fast minus slow EMA of the A/D line.

    Notes
    -----
    Both EMAs (``k = 2 / (n + 1)``) start at the first A/D value, not at an SMA, as in
    ``talib.ADOSC(high, low, close, volume, fast, slow)``, which this matches. Lookback
    ``max(fast, slow) - 1``; window 0.
    """
    _check_period("adosc fast", fast, 2)
    _check_period("adosc slow", slow, 2)
    name = f"adosc_{fast}_{slow}"
    return _oscillator(name, "adosc", (name,), max(fast, slow) - 1, 0, 4, (fast, slow))


def sar(acceleration: float = 0.02, maximum: float = 0.2) -> Indicator:
    """Parabolic SAR (Wilder), ``sar``, in price units.

    Notes
    -----
    TA-Lib's start: bar 1's direction is short when its -DM is positive, else long; the
    first SAR is bar 0's low (long) or high (short). Each bar the SAR moves by ``af * (ep -
    sar)``, ``af`` rising by ``acceleration`` up to ``maximum`` with each new extreme, never
    into yesterday's or today's range; a bar crossing it reverses the position, the SAR
    jumping to the extreme point. Matches ``talib.SAR(high, low, acceleration, maximum)``;
    StockCharts' sheet starts differently and agrees after its first reversal. Lookback 1;
    window 0.
    """
    if not 0.0 < acceleration <= maximum:
        raise ValueError(
            f"sar: acceleration must be positive and at most maximum, got {acceleration} and "
            f"{maximum}"
        )
    return _oscillator("sar", "sar", ("sar",), 1, 0, 7, (), (float(acceleration), float(maximum)))


def kama(period: int = 10) -> Indicator:
    """Kaufman adaptive moving average of the close, ``kama_{period}``.

    Notes
    -----
    Efficiency ratio ``er = |close - close[period ago]| / sum |one-bar changes|`` over
    ``period`` bars (1 when the sum is 0 or not above the change); smoothing
    ``sc = (er * (2/3 - 2/31) + 2/31) ** 2`` (fast 2, slow 30, fixed in TA-Lib);
    ``kama = kama[-1] + sc * (close - kama[-1])``, started from the previous close on bar
    ``period``. Matches ``talib.KAMA(close, period)`` and StockCharts' sheet. Lookback
    ``period``; window ``period + 1``.
    """
    _check_period("kama", period, 2)
    name = f"kama_{period}"
    return _oscillator(name, "kama", (name,), period, period + 1, 3, (period,))


def donchian(period: int = 20) -> Indicator:
    """Donchian channel: outputs ``donchian_high_{period}`` and ``donchian_low_{period}``.

    Notes
    -----
    The highest high and lowest low of the last ``period`` bars, today included
    (StockCharts' convention, ``cs-dc``; its middle line is their mean), equal to
    ``talib.MAX(high, period)`` and ``talib.MIN(low, period)``. A breakout compares today's
    close with yesterday's channel. Lookback and window ``period - 1``.
    """
    _check_period("donchian", period, 2)
    outputs = (f"donchian_high_{period}", f"donchian_low_{period}")
    return _oscillator(
        f"donchian_{period}", "donchian", outputs, period - 1, period - 1, 1, (period,)
    )


def ultosc(short: int = 7, medium: int = 14, long: int = 28) -> Indicator:
    """Ultimate oscillator, ``ultosc_{short}_{medium}_{long}``, from 0 to 100.

    Notes
    -----
    Buying pressure ``close - min(low, prior close)`` and the true range, summed over each of
    the three windows; ``100 * (4 * A_short + 2 * A_medium + A_long) / 7`` with ``A`` the ratio
    of the sums (a window whose range sums to 0, below 1e-8, adds nothing). The shorter sums
    start on bar ``long - n + 1``, as TA-Lib primes them. Matches
    ``talib.ULTOSC(high, low, close, short, medium, long)`` and StockCharts' sheet. Lookback
    ``long``; window ``long``.
    """
    _check_period("ultosc short", short, 1)
    if not short <= medium <= long:
        raise ValueError(
            f"ultosc: periods must be ascending (short, medium, long), got {short}, {medium}, "
            f"{long}"
        )
    name = f"ultosc_{short}_{medium}_{long}"
    return _oscillator(name, "ultosc", (name,), long, long, 7, (short, medium, long))


def ppo(fast: int = 12, slow: int = 26) -> Indicator:
    """Percentage price oscillator, ``ppo_{fast}_{slow}``, in percent.

    Notes
    -----
    ``100 * (ema_fast - ema_slow) / ema_slow`` (0 when the slow EMA is 0) of the EMAs of
    :func:`ema` (each seeded by the SMA of its first closes; unlike :func:`macd`, whose fast
    EMA starts on the slow one's first bar). Matches ``talib.PPO(close, fast, slow,
    matype=1)`` (an EMA, TA-Lib's default). StockCharts' sheet seeds its EMAs with the first
    close and converges to the same values; its signal line and histogram are not computed
    here. Lookback ``slow - 1``; window 0.
    """
    _check_period("ppo fast", fast, 2)
    if slow <= fast:
        raise ValueError(f"ppo: slow ({slow}) must be longer than fast ({fast})")
    name = f"ppo_{fast}_{slow}"
    return _oscillator(name, "ppo", (name,), slow - 1, 0, 3, (fast, slow))


def stochrsi(period: int = 14, fastk: int = 14, fastd: int = 3) -> Indicator:
    """Stochastic RSI: outputs ``stochrsi_k_{period}`` and ``stochrsi_d_{period}``, 0 to 100.

    Notes
    -----
    The fast stochastic of :func:`rsi`: ``%K = 100 * (rsi - lowest rsi) / (highest rsi -
    lowest rsi)`` over the last ``fastk`` RSI values (0 when they are all equal), ``%D =
    SMA(%K, fastd)``; both start on the same bar. Matches ``talib.STOCHRSI(close, period,
    fastk, fastd, 0)`` (fastk, fastd). StockCharts quotes it from 0 to 1 and its sheet
    (``cs-stochrsi``) starts its RSI differently; the same stochastic of that sheet's RSI is
    its StochRSI times 100. Lookback ``period + fastk + fastd - 2``; window 0 (the state keeps
    the RSI values of the window).
    """
    _check_period("stochrsi", period, 2)
    _check_period("stochrsi fastk", fastk, 1)
    _check_period("stochrsi fastd", fastd, 1)
    outputs = (f"stochrsi_k_{period}", f"stochrsi_d_{period}")
    lookback = period + fastk + fastd - 2
    n_state = 5 + fastk + fastd
    return _oscillator(
        f"stochrsi_{period}", "stochrsi", outputs, lookback, 0, n_state, (period, fastk, fastd)
    )


def tsi(long: int = 25, short: int = 13) -> Indicator:
    """True strength index (Blau), ``tsi_{long}_{short}``, from -100 to 100.

    Notes
    -----
    With ``m = close - prior close``:
    ``tsi = 100 * EMA_short(EMA_long(m)) / EMA_short(EMA_long(|m|))``, each EMA with
    ``k = 2 / (n + 1)`` seeded by the mean of its first ``n`` values (StockCharts'
    convention), 0 when the smoothed size is below 1e-8 (a flat history). TA-Lib has no TSI.
    StockCharts' sheet (``cs-tsi``) starts its smoothed series on the same bar but rounds the
    multipliers to 0.07692 and 0.1428, which moves its TSI by up to 0.011 from this one (with
    those multipliers the two agree to its 10 decimals); it shows the TSI from bar 59 on. Its
    signal line is not computed here. Lookback ``long + short - 1``; window 0.
    """
    _check_period("tsi long", long, 2)
    _check_period("tsi short", short, 2)
    name = f"tsi_{long}_{short}"
    return _oscillator(name, "tsi", (name,), long + short - 1, 0, 6, (long, short))


def keltner(period: int = 20, atr_period: int = 10, width: float = 2.0) -> Indicator:
    """Keltner channels: ``keltner_mid_{period}``, ``keltner_upper_{period}`` and ``_lower_``.

    Notes
    -----
    StockCharts' definition: the middle line is the EMA of the close (:func:`ema`), the
    channels are ``width`` average true ranges (:func:`atr`, Wilder's) above and below it.
    Both averages follow TA-Lib (the EMA seeded by the SMA of the first ``period`` closes, the
    ATR by the mean of the true ranges of bars ``1..atr_period``), so the middle line equals
    ``talib.EMA(close, period)`` and the channels ``talib.ATR(high, low, close, atr_period)``
    times ``width`` either side. StockCharts' sheet (``cs-kc``) seeds its EMA with the first
    close and its ATR one bar earlier; the gaps shrink by ``1 - 2 / (period + 1)`` and
    ``1 - 1 / atr_period`` a bar. Lookback ``max(period - 1, atr_period)``; window 0.
    """
    _check_period("keltner", period, 2)
    _check_period("keltner atr_period", atr_period, 1)
    width = float(width)
    if not width > 0.0:
        raise ValueError(f"keltner: width must be positive, got {width}")
    outputs = (f"keltner_mid_{period}", f"keltner_upper_{period}", f"keltner_lower_{period}")
    lookback = max(period - 1, atr_period)
    periods = (period, atr_period)
    return _oscillator(f"keltner_{period}", "keltner", outputs, lookback, 0, 4, periods, (width,))


def vwap(period: int = 20) -> Indicator:
    """Rolling volume-weighted average price, ``vwap_{period}``, in price units.

    Notes
    -----
    ``sum(tp * volume) / sum(volume)`` over the last ``period`` sessions, today included, with
    the typical price ``tp = (high + low + close) / 3``, from running sums as ``talib.SUM``
    keeps them; null when no share traded in the window (an index without volume) or a
    volume in it is missing (for that window only: the sums leave it out). A daily
    approximation of the intraday VWAP, as StockCharts' sheet (``cs-vwap``, 14 sessions,
    which agrees) computes it. TA-Lib has no VWAP. Lookback and window ``period - 1``.
    """
    _check_period("vwap", period, 1)
    name = f"vwap_{period}"
    return _oscillator(name, "vwap", (name,), period - 1, period - 1, 5, (period,))


_REFERENCES: dict[Family, str] = {
    "sma": "TA-Lib SMA(close, {0})",
    "ema": "TA-Lib EMA(close, {0})",
    "macd": "TA-Lib MACD(close, {0}, {1}, {2}); StockCharts MACD once converged",
    "rsi": "TA-Lib RSI(close, {0}); StockCharts RSI",
    "atr": "TA-Lib ATR(high, low, close, {0}); StockCharts seeds one bar earlier",
    "bbands": "TA-Lib BBANDS(close, {0}, {f0:g}, {f1:g}, SMA); StockCharts Bollinger Bands",
    "roc": "TA-Lib ROCP(close, {0}); StockCharts ROC / 100",
    "volatility": "TA-Lib STDDEV(ROCP(close, 1), {0})",
    "extreme": "TA-Lib {extreme}({column}, {0})",
    "rel_volume": "TA-Lib SMA(volume, {0}) of the sessions before; volume over it",
    "dmi": "TA-Lib {dmi}(high, low, close, {0}); StockCharts ADX/DMI once warmed up",
    "stoch": "TA-Lib STOCH(high, low, close, {0}, {1}, SMA, {2}, SMA); StockCharts stochastics",
    "willr": "TA-Lib WILLR(high, low, close, {0}); StockCharts Williams %R",
    "cci": "TA-Lib CCI(high, low, close, {0}); StockCharts CCI",
    "mfi": "TA-Lib MFI(high, low, close, volume, {0}); StockCharts MFI",
    "donchian": "TA-Lib MAX(high, {0}) and MIN(low, {0}); StockCharts Donchian Channels",
    "obv": "TA-Lib OBV(close, volume); StockCharts OBV starts at 0",
    "ad": "TA-Lib AD(high, low, close, volume); StockCharts Accumulation/Distribution Line",
    "adosc": "TA-Lib ADOSC(high, low, close, volume, {0}, {1})",
    "sar": "TA-Lib SAR(high, low, {f0:g}, {f1:g}); StockCharts Parabolic SAR after a reversal",
    "kama": "TA-Lib KAMA(close, {0}); StockCharts KAMA",
    "ultosc": "TA-Lib ULTOSC(high, low, close, {0}, {1}, {2}); StockCharts Ultimate Oscillator",
    "ppo": "TA-Lib PPO(close, {0}, {1}, EMA); StockCharts PPO once converged",
    "stochrsi": "TA-Lib STOCHRSI(close, {0}, {1}, {2}, SMA); StockCharts StochRSI x 100",
    "tsi": "StockCharts TSI({0}, {1}) with exact EMA multipliers (no TA-Lib function)",
    "keltner": (
        "TA-Lib EMA(close, {0}) +/- {f0:g} x ATR(high, low, close, {1}); StockCharts Keltner "
        "Channels once converged"
    ),
    "vwap": "sum(typical price x volume) / sum(volume) over {0} sessions (no TA-Lib function)",
}


def reference(indicator: Indicator) -> str:
    """The published computation an indicator reproduces, e.g. ``"TA-Lib RSI(close, 14); ..."``.

    The kernels equal TA-Lib 0.8 within 1e-9 past the warm-up; a StockCharts name means its
    ChartSchool worked example agrees (with the difference named where its start differs).
    """
    ind = indicator
    factors = {f"f{i}": f for i, f in enumerate(ind.factors)}
    return _REFERENCES[ind.family].format(
        *ind.periods,
        **factors,
        extreme="MAX" if ind.factors and ind.factors[0] > 0 else "MIN",
        column=ind.inputs[0],
        dmi="PLUS_DI / MINUS_DI" if ind.periods[1:] == (1,) else "ADX",
    )


INDICATORS: dict[str, Indicator] = {
    indicator.name: indicator
    for indicator in (
        sma(20),
        sma(50),
        sma(200),
        ema(12),
        ema(26),
        ema(50),
        ema(200),
        rsi(14),
        atr(14),
        macd(12, 26, 9),
        bbands(20, 2.0),
        roc(12),
        highest(252, "high_52w"),
        lowest(252, "low_52w"),
        roc(1, "return_1d"),
        volatility(60),
        relative_volume(50),
        adx(14),
        dmi(14),
        stoch(14, 3, 3),
        willr(14),
        cci(20),
        mfi(14),
        obv(),
        sar(0.02, 0.2),
        donchian(20),
        ad(),
        adosc(3, 10),
        kama(10),
        ultosc(7, 14, 28),
        ppo(12, 26),
        stochrsi(14, 14, 3),
        keltner(20, 10, 2.0),
        tsi(25, 13),
        vwap(20),
    )
}
"""The default set, by name; output column names are what users type in screens."""
