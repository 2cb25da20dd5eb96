"""Kernels of the oscillators and volume indicators, one numba kernel per family.

Each kernel runs one indicator over every ticker of a universe, in the layout and under the
resumability contract of :mod:`stockbrief.kernels` (which builds the :class:`Indicator` that
names them and dispatches to them): contiguous ``float64`` columns, ``offsets`` delimiting the
tickers, ``n_context`` context rows per ticker followed by new rows, and a per-ticker state
row whose element 0 is the number of bars seen. Every floating-point operation happens in
TA-Lib's order, so a resumed run is bitwise a full run and both match TA-Lib.

All kernels share one signature::

    kernel(high, low, close, volume, offsets, n_context, out_start, state_in, out,
           periods, factors) -> state_out

``out`` (outputs x rows, uninitialised) gets every new row written once; when a ticker's
``out_start`` is its first new row (the aligned layout) its context rows are set to NaN.
``periods`` and ``factors`` are the indicator's integer and float parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from stockbrief import jit

if TYPE_CHECKING:
    import numba

__all__ = ["FAMILY_KERNELS"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# TA-Lib's TA_IS_ZERO tolerance (ta_func/ta_utility.h).
_TA_EPSILON = 0.00000001


# numba takes these on the first kernel call (see stockbrief.jit): error_model="numpy", so a
# division by zero gives inf/nan as in C; no fastmath, so every operation keeps TA-Lib's order.
_step = jit.step
_kernel = jit.kernel


@_step
def _is_zero(x: float) -> bool:
    return -_TA_EPSILON < x < _TA_EPSILON


@_step
def _true_range(h: float, low: float, prev_close: float) -> float:
    # TA_TRANGE's order: the bar's range, then the gaps from the previous close.
    tr = h - low
    up = abs(h - prev_close)
    if up > tr:
        tr = up
    down = abs(low - prev_close)
    if down > tr:
        tr = down
    return tr


@_step
def _u(i: int) -> np.uint64:
    # An index known to be non-negative, as unsigned: numba then skips its check for
    # negative (from-the-end) indices, which costs the rolling scans half their speed.
    return np.uint64(i)


@_step
def _track_high(x: FloatArray, j: int, period: int, at: int, best: float) -> tuple[int, float]:
    # The highest of x[j - period + 1 .. j] (all >= 0) and where it is, from the previous
    # bar's: rescan only when that one left the window (TA_MAX's scheme; ``at`` < 0 forces
    # a scan).
    trailing = j - period + 1
    if at < trailing:
        at = trailing
        best = x[_u(at)]
        for i in range(trailing + 1, j + 1):
            v = x[_u(i)]
            if v >= best:
                at = i
                best = v
    else:
        v = x[_u(j)]
        if v >= best:
            at = j
            best = v
    return at, best


@_step
def _track_low(x: FloatArray, j: int, period: int, at: int, best: float) -> tuple[int, float]:
    # As _track_high, for the lowest value.
    trailing = j - period + 1
    if at < trailing:
        at = trailing
        best = x[_u(at)]
        for i in range(trailing + 1, j + 1):
            v = x[_u(i)]
            if v <= best:
                at = i
                best = v
    else:
        v = x[_u(j)]
        if v <= best:
            at = j
            best = v
    return at, best


@_step
def _typical(high: FloatArray, low: FloatArray, close: FloatArray, j: int) -> float:
    return float((high[j] + low[j] + close[j]) / 3.0)


@_step
def _bounds(
    offsets: IntArray, n_context: IntArray, out_start: IntArray, out: FloatArray, t: int
) -> tuple[int, int, int, int]:
    """First row, first new row, end and the output shift of ticker ``t``; NaN context rows."""
    begin = offsets[t]
    start = begin + n_context[t]
    end = offsets[t + 1]
    shift = start - out_start[t]
    if shift == 0:
        for r in range(out.shape[0]):
            out[r, begin:start] = np.nan
    return begin, start, end, shift


# --------------------------------------------------------------------------------------------
# averages, as the fused pass of stockbrief.kernels steps them (copies: numba's disk cache
# notices a change in a kernel's own file only, so each module keeps the steps it calls)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# trend strength: ADX, +DI, -DI (Wilder)
# --------------------------------------------------------------------------------------------


@_kernel
def _dmi_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Outputs the ADX (``periods[1]`` 0), +DI and -DI (1; their warm-up is shorter) or all
    three (2);
    state: count, previous high, low, close, smoothed +DM, -DM and true range, then the sum of
    the first DX values and, from bar 2n - 1, the ADX."""
    state = state_in.copy()
    n = periods[0]
    mode = periods[1]
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        ph, pl, pc = row[1], row[2], row[3]
        pdm, mdm, tr, adx = row[4], row[5], row[6], row[7]
        for j in range(start, end):
            o = j - shift
            h, lo = high[j], low[j]
            adx_out = np.nan
            plus_out = np.nan
            minus_out = np.nan
            if count > 0:
                diff_p = h - ph
                diff_m = pl - lo
                if count >= n:
                    mdm -= mdm / n
                    pdm -= pdm / n
                if diff_m > 0 and diff_p < diff_m:
                    mdm += diff_m
                elif diff_p > 0 and diff_p > diff_m:
                    pdm += diff_p
                r = _true_range(h, lo, pc)
                if count < n:
                    tr += r
                else:
                    tr = tr - tr / n + r
                    plus_out = 0.0
                    minus_out = 0.0
                    valid = False
                    dx = 0.0
                    if not _is_zero(tr):
                        minus_out = 100.0 * (mdm / tr)
                        plus_out = 100.0 * (pdm / tr)
                        total = minus_out + plus_out
                        if not _is_zero(total):
                            dx = 100.0 * (abs(minus_out - plus_out) / total)
                            valid = True
                    if count < 2 * n - 1:
                        if valid:
                            adx += dx
                    elif count == 2 * n - 1:
                        if valid:
                            adx += dx
                        adx = adx / n
                        adx_out = adx
                    else:
                        if valid:
                            adx = (adx * (n - 1) + dx) / n
                        adx_out = adx
            if mode == 0:
                out[0, o] = adx_out
            elif mode == 1:
                out[0, o] = plus_out
                out[1, o] = minus_out
            else:
                out[0, o] = adx_out
                out[1, o] = plus_out
                out[2, o] = minus_out
            ph, pl, pc = h, lo, close[j]
            count += 1
        row[0] = count
        row[1], row[2], row[3] = ph, pl, pc
        row[4], row[5], row[6], row[7] = pdm, mdm, tr, adx
    return state


# --------------------------------------------------------------------------------------------
# range position: slow stochastics, Williams %R
# --------------------------------------------------------------------------------------------


@_kernel
def _stoch_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Outputs slow %K and %D (SMA smoothing); state: count, the running sums of both SMAs,
    then the last ``slow_k`` fast %K and the last ``slow_d`` slow %K values, each in a ring
    indexed by its own bar number."""
    state = state_in.copy()
    n_k, n_slow, n_d = periods[0], periods[1], periods[2]
    lookback = n_k - 1 + n_slow - 1 + n_d - 1
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        sum_k, sum_d = row[1], row[2]
        ring_k = row[3 : 3 + n_slow]
        ring_d = row[3 + n_slow : 3 + n_slow + n_d]
        # ring slots of the next fast %K and slow %K (numbers modulo their SMA's period)
        slot_k = max(count - (n_k - 1), 0) % n_slow
        slot_d = max(count - (n_k - 1) - (n_slow - 1), 0) % n_d
        at_high, highest, at_low, lowest = -1, 0.0, -1, 0.0
        for j in range(start, end):
            o = j - shift
            slow_k = np.nan
            slow_d = np.nan
            i = count - (n_k - 1)  # fast %K number
            if i >= 0:
                at_high, highest = _track_high(high, j, n_k, at_high, highest)
                at_low, lowest = _track_low(low, j, n_k, at_low, lowest)
                # TA_STOCH: (close - lowest) / ((highest - lowest) / 100), 0 on a flat window.
                diff = (highest - lowest) / 100.0
                fk = (close[j] - lowest) / diff if diff != 0.0 else 0.0
                ring_k[slot_k] = fk
                slot_k = slot_k + 1 if slot_k < n_slow - 1 else 0  # the oldest, leaving
                sum_k += fk
                if i >= n_slow - 1:  # a slow %K
                    sk = sum_k / n_slow
                    sum_k -= ring_k[slot_k]
                    ring_d[slot_d] = sk
                    slot_d = slot_d + 1 if slot_d < n_d - 1 else 0
                    sum_d += sk
                    if i >= n_slow - 1 + n_d - 1:
                        sd = sum_d / n_d
                        sum_d -= ring_d[slot_d]
                        if count >= lookback:
                            slow_k, slow_d = sk, sd
            out[0, o] = slow_k
            out[1, o] = slow_d
            count += 1
        row[0], row[1], row[2] = count, sum_k, sum_d
    return state


@_kernel
def _willr_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Williams %R from -100 to 0; state: the count (the window is read from context rows)."""
    state = state_in.copy()
    n = periods[0]
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        count = int(state[t, 0])
        at_high, highest, at_low, lowest = -1, 0.0, -1, 0.0
        for j in range(start, end):
            value = np.nan
            if count >= n - 1:
                at_high, highest = _track_high(high, j, n, at_high, highest)
                at_low, lowest = _track_low(low, j, n, at_low, lowest)
                diff = (highest - lowest) / -100.0
                value = (highest - close[j]) / diff if diff != 0.0 else 0.0
            out[0, j - shift] = value
            count += 1
        state[t, 0] = count
    return state


# --------------------------------------------------------------------------------------------
# typical-price oscillators: CCI, MFI
# --------------------------------------------------------------------------------------------


@_kernel
def _cci_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Commodity channel index; state: the count. The window's typical prices live in a ring
    whose slot is the bar number modulo the period, rebuilt from the context rows, and are
    summed slot by slot: the order of TA-Lib's circular buffer."""
    state = state_in.copy()
    n = periods[0]
    for t in numba.prange(offsets.shape[0] - 1):
        begin, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        count = int(state[t, 0])
        ring = np.zeros(n)
        first = max(begin, start - (n - 1))
        for j in range(first, start):
            ring[(count - (start - j)) % n] = _typical(high, low, close, j)
        for j in range(start, end):
            tp = _typical(high, low, close, j)
            ring[count % n] = tp
            value = np.nan
            if count >= n - 1:
                average = 0.0
                for s in range(n):
                    average += ring[s]
                average /= n
                deviation = 0.0
                for s in range(n):
                    deviation += abs(ring[s] - average)
                distance = tp - average
                value = 0.0
                if distance != 0.0 and deviation != 0.0:
                    value = distance / (0.015 * (deviation / n))
            out[0, j - shift] = value
            count += 1
        state[t, 0] = count
    return state


# TA-Lib's scale-aware zero test of a difference (TA_IS_ZERO_SCALED, ta_utility.h).
_TA_SCALED_EPSILON = 0.00000000000001


@_step
def _money_flow(
    high: FloatArray, low: FloatArray, close: FloatArray, volume: FloatArray, j: int
) -> tuple[float, float]:
    # Positive and negative raw money flow of bar j (one of them 0), as TA_MFI books them: a
    # typical price that moved by less than 1e-14 of its size did not move.
    tp = _typical(high, low, close, j)
    before = _typical(high, low, close, j - 1)
    change = tp - before
    scale = abs(tp) + abs(before)
    flow = 0.0 if abs(change) <= _TA_SCALED_EPSILON * scale else tp * volume[j]
    if change < 0.0:
        return 0.0, flow
    return flow, 0.0


@_kernel
def _mfi_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Money flow index; state: count, the running positive and negative flow sums and the
    run of bars without flow. The flows of the window live in rings indexed by bar number,
    rebuilt from the context rows."""
    state = state_in.copy()
    n = periods[0]
    for t in numba.prange(offsets.shape[0] - 1):
        begin, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        pos, neg, idle = row[1], row[2], int(row[3])
        ring_pos = np.zeros(n)
        ring_neg = np.zeros(n)
        first = max(begin + 1, start - n)
        for j in range(first, start):
            slot = (count - (start - j)) % n
            ring_pos[slot], ring_neg[slot] = _money_flow(high, low, close, volume, j)
        for j in range(start, end):
            value = np.nan
            if count > 0:
                slot = count % n
                if count > n:
                    pos -= ring_pos[slot]
                    neg -= ring_neg[slot]
                p, m = _money_flow(high, low, close, volume, j)
                ring_pos[slot], ring_neg[slot] = p, m
                pos += p
                neg += m
                # A window of bars without flow sums to exactly 0, whatever the rounding
                # residue of the running sums says.
                idle = idle + 1 if p + m == 0.0 else 0
                if idle >= n:
                    idle = n
                    pos = 0.0
                    neg = 0.0
                if count >= n:
                    total = pos + neg
                    share = 0.0 if pos < 0.0 else min(pos, total)
                    value = 0.0 if total <= 0.0 else 100.0 * (share / total)
            out[0, j - shift] = value
            count += 1
        row[0], row[1], row[2], row[3] = count, pos, neg, idle
    return state


# --------------------------------------------------------------------------------------------
# channels: Donchian
# --------------------------------------------------------------------------------------------


@_kernel
def _donchian_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Highest high and lowest low of the window; state: the count (the window is read from
    the context rows; an extreme is exact whatever the scan order)."""
    state = state_in.copy()
    n = periods[0]
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        count = int(state[t, 0])
        at_high, upper, at_low, lower = -1, 0.0, -1, 0.0
        for j in range(start, end):
            if count >= n - 1:
                at_high, upper = _track_high(high, j, n, at_high, upper)
                at_low, lower = _track_low(low, j, n, at_low, lower)
            else:
                upper = np.nan
                lower = np.nan
            out[0, j - shift] = upper
            out[1, j - shift] = lower
            count += 1
        state[t, 0] = count
    return state


# --------------------------------------------------------------------------------------------
# volume lines: OBV, Chaikin A/D and its oscillator
# --------------------------------------------------------------------------------------------


@_kernel
def _obv_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """On-balance volume, starting at the first bar's volume; state: count, OBV, last close."""
    state = state_in.copy()
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        obv, prev = row[1], row[2]
        for j in range(start, end):
            c = close[j]
            if count == 0:
                obv = volume[j]
            elif c > prev:
                obv += volume[j]
            elif c < prev:
                obv -= volume[j]
            out[0, j - shift] = obv
            prev = c
            count += 1
        row[0], row[1], row[2] = count, obv, prev
    return state


@_step
def _ad_step(ad: float, h: float, lo: float, c: float, v: float) -> float:
    # TA_AD: the close location value times volume, skipped on a bar without range.
    spread = h - lo
    if spread > 0.0:
        ad += (((c - lo) - (h - c)) / spread) * v
    return ad


@_kernel
def _ad_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Chaikin accumulation/distribution line; state: count and the line."""
    state = state_in.copy()
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        ad = row[1]
        for j in range(start, end):
            ad = _ad_step(ad, high[j], low[j], close[j], volume[j])
            out[0, j - shift] = ad
        row[0] += end - start
        row[1] = ad
    return state


@_kernel
def _adosc_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Chaikin oscillator: fast EMA minus slow EMA of the A/D line, both seeded with its first
    value (TA_ADOSC); state: count, A/D line, fast and slow EMA."""
    state = state_in.copy()
    fast, slow = periods[0], periods[1]
    k_fast, k_slow = 2.0 / (fast + 1), 2.0 / (slow + 1)
    keep_fast, keep_slow = 1.0 - k_fast, 1.0 - k_slow
    lookback = max(fast, slow) - 1
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        ad, ema_fast, ema_slow = row[1], row[2], row[3]
        for j in range(start, end):
            ad = _ad_step(ad, high[j], low[j], close[j], volume[j])
            if count == 0:
                ema_fast = ad
                ema_slow = ad
            else:
                ema_fast = (k_fast * ad) + (keep_fast * ema_fast)
                ema_slow = (k_slow * ad) + (keep_slow * ema_slow)
            out[0, j - shift] = ema_fast - ema_slow if count >= lookback else np.nan
            count += 1
        row[0], row[1], row[2], row[3] = count, ad, ema_fast, ema_slow
    return state


# --------------------------------------------------------------------------------------------
# trailing stops and adaptive averages: Parabolic SAR, KAMA
# --------------------------------------------------------------------------------------------


@_step
def _sar_step(
    h: float,
    lo: float,
    prev_high: float,
    prev_low: float,
    is_long: bool,
    af: float,
    ep: float,
    sar: float,
    step: float,
    maximum: float,
) -> tuple[float, bool, float, float, float]:
    # One bar of TA_SAR: returns today's SAR and the direction, factor, extreme and SAR that
    # tomorrow starts from; a SAR never enters yesterday's or today's range.
    if is_long:
        if lo <= sar:
            sar = max(ep, prev_high, h)
            today = sar
            af = step
            ep = lo
            sar = max(sar + af * (ep - sar), prev_high, h)
            return today, False, af, ep, sar
        today = sar
        if h > ep:
            ep = h
            af = min(af + step, maximum)
        sar = min(sar + af * (ep - sar), prev_low, lo)
        return today, True, af, ep, sar
    if h >= sar:
        sar = min(ep, prev_low, lo)
        today = sar
        af = step
        ep = h
        sar = min(sar + af * (ep - sar), prev_low, lo)
        return today, True, af, ep, sar
    today = sar
    if lo < ep:
        ep = lo
        af = min(af + step, maximum)
    sar = max(sar + af * (ep - sar), prev_high, h)
    return today, False, af, ep, sar


@_kernel
def _sar_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Parabolic SAR; state: count, last high and low, direction (1 long), acceleration,
    extreme point and the SAR for the next bar."""
    state = state_in.copy()
    step, maximum = factors[0], factors[1]
    if step > maximum:
        step = maximum
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        ph, pl = row[1], row[2]
        is_long, af, ep, sar = row[3] > 0.0, row[4], row[5], row[6]
        for j in range(start, end):
            h, lo = high[j], low[j]
            value = np.nan
            if count > 0:
                prev_high, prev_low = ph, pl
                if count == 1:
                    # TA-Lib's start: the direction from bar 1's -DM, the first SAR from bar
                    # 0's extreme, and bar 1 itself as "yesterday".
                    diff_p = h - ph
                    diff_m = pl - lo
                    is_long = not (diff_m > 0 and diff_p < diff_m)
                    ep = h if is_long else lo
                    sar = pl if is_long else ph
                    af = step
                    prev_high, prev_low = h, lo
                value, is_long, af, ep, sar = _sar_step(
                    h, lo, prev_high, prev_low, is_long, af, ep, sar, step, maximum
                )
            out[0, j - shift] = value
            ph, pl = h, lo
            count += 1
        row[0], row[1], row[2] = count, ph, pl
        row[3], row[4], row[5], row[6] = 1.0 if is_long else 0.0, af, ep, sar
    return state


@_kernel
def _kama_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Kaufman's adaptive moving average (TA_KAMA's fast 2, slow 30); state: count, the sum
    of absolute one-bar changes over the window, and the average."""
    state = state_in.copy()
    n = periods[0]
    const_max = 2.0 / (30.0 + 1.0)
    const_diff = 2.0 / (2.0 + 1.0) - const_max
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        noise, kama = row[1], row[2]
        for j in range(start, end):
            value = np.nan
            if count > 0:
                if count > n:
                    noise -= abs(close[j - n - 1] - close[j - n])
                noise += abs(close[j - 1] - close[j])
                if count >= n:
                    if count == n:
                        kama = close[j - 1]
                    change = close[j] - close[j - n]
                    ratio = 1.0 if noise <= change or _is_zero(noise) else abs(change / noise)
                    sc = ratio * const_diff + const_max
                    sc *= sc
                    kama = (close[j] - kama) * sc + kama
                    value = kama
            out[0, j - shift] = value
            count += 1
        row[0], row[1], row[2] = count, noise, kama
    return state


@_step
def _ultosc_terms(
    high: FloatArray, low: FloatArray, close: FloatArray, j: int
) -> tuple[float, float]:
    # TA_ULTOSC's terms of bar j: buying pressure (close - true low) and the true range.
    h, lo, prev = high[j], low[j], close[j - 1]
    true_low = prev if prev < lo else lo
    tr = h - lo
    up = abs(prev - h)
    if up > tr:
        tr = up
    down = abs(prev - lo)
    if down > tr:
        tr = down
    return close[j] - true_low, tr


@_kernel
def _ultosc_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Ultimate oscillator (periods ascending, weights 4, 2, 1); state: count and the running
    sums of buying pressure and true range of each period (the terms leaving a window are
    recomputed from the context rows)."""
    state = state_in.copy()
    p1, p2, p3 = periods[0], periods[1], periods[2]
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        a1, b1, a2, b2, a3, b3 = row[1], row[2], row[3], row[4], row[5], row[6]
        for j in range(start, end):
            value = np.nan
            if count > 0:
                bp, tr = _ultosc_terms(high, low, close, j)
                # TA-Lib primes each sum over the bars before its first output (bar p3)
                if count >= p3 - p1 + 1:
                    a1 += bp
                    b1 += tr
                if count >= p3 - p2 + 1:
                    a2 += bp
                    b2 += tr
                a3 += bp
                b3 += tr
                if count >= p3:
                    total = 0.0
                    if not _is_zero(b1):
                        total += 4.0 * (a1 / b1)
                    if not _is_zero(b2):
                        total += 2.0 * (a2 / b2)
                    if not _is_zero(b3):
                        total += a3 / b3
                    value = 100.0 * (total / 7.0)
                    bp, tr = _ultosc_terms(high, low, close, j - p1 + 1)
                    a1 -= bp
                    b1 -= tr
                    bp, tr = _ultosc_terms(high, low, close, j - p2 + 1)
                    a2 -= bp
                    b2 -= tr
                    bp, tr = _ultosc_terms(high, low, close, j - p3 + 1)
                    a3 -= bp
                    b3 -= tr
            out[0, j - shift] = value
            count += 1
        row[0], row[1], row[2], row[3], row[4], row[5], row[6] = count, a1, b1, a2, b2, a3, b3
    return state


@_kernel
def _ppo_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Percentage price oscillator of two EMAs, each seeded by the SMA of its first closes;
    state: count, fast and slow EMA (each the sum of its seed closes until seeded)."""
    state = state_in.copy()
    fast, slow = periods[0], periods[1]
    k_fast, k_slow = 2.0 / (fast + 1), 2.0 / (slow + 1)
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        f, s = row[1], row[2]
        for j in range(start, end):
            c = close[j]
            value = np.nan
            if count < fast:
                f += c
                if count == fast - 1:
                    f = f / fast
            else:
                f = ((c - f) * k_fast) + f
            if count < slow:
                s += c
                if count == slow - 1:
                    s = s / slow
            else:
                s = ((c - s) * k_slow) + s
            if count >= slow - 1:
                value = ((f - s) / s) * 100.0 if not _is_zero(s) else 0.0
            out[0, j - shift] = value
            count += 1
        row[0], row[1], row[2] = count, f, s
    return state


# --------------------------------------------------------------------------------------------
# oscillators of smoothed series: stochastic RSI, TSI
# --------------------------------------------------------------------------------------------


@_step
def _ring_track(
    ring: FloatArray, i: int, slot: int, at: int, best: float, highest: bool
) -> tuple[int, float]:
    # The extreme of values i - n + 1 .. i of a ring of n (value q in slot q % n; value i in
    # ``slot``) and its number, from the previous bar's: rescan only when that one left the
    # window (``at`` < 0 forces a scan). An extreme is exact whatever the order it is found in.
    n = ring.shape[0]
    first = i - n + 1
    if at < first:
        at = first
        s = slot + 1 if slot < n - 1 else 0  # value first's slot
        best = ring[s]
        for q in range(first + 1, i + 1):
            s = s + 1 if s < n - 1 else 0
            v = ring[s]
            if (v >= best) if highest else (v <= best):
                at = q
                best = v
        return at, best
    v = ring[slot]
    if (v >= best) if highest else (v <= best):
        return i, v
    return at, best


@_kernel
def _stochrsi_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Fast stochastic of the RSI, %K and its SMA %D (TA_STOCHRSI: TA_RSI, then TA_STOCHF);
    state: count, last close, the RSI's gain and loss, the running sum of %D, then the last
    ``fastk`` RSI and the last ``fastd`` %K values, each in a ring indexed by its own number."""
    state = state_in.copy()
    n_rsi, n_k, n_d = periods[0], periods[1], periods[2]
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        prev, gain, loss, sum_d = row[1], row[2], row[3], row[4]
        ring_rsi = row[5 : 5 + n_k]
        ring_k = row[5 + n_k : 5 + n_k + n_d]
        # ring slots of the next RSI and %K (their numbers modulo the ring sizes), kept by
        # counting: an integer division a bar would cost as much as the RSI
        slot_r = max(count - n_rsi, 0) % n_k
        slot_k = max(count - n_rsi - (n_k - 1), 0) % n_d
        at_high, highest, at_low, lowest = -1, 0.0, -1, 0.0
        for j in range(start, end):
            o = j - shift
            c = close[j]
            fast_k = np.nan
            fast_d = np.nan
            gain, loss, value = _rsi_step(c, prev, count, gain, loss, n_rsi)
            prev = c
            i = count - n_rsi  # RSI number
            if i >= 0:
                ring_rsi[slot_r] = value
                m = i - (n_k - 1)  # %K number
                if m >= 0:
                    at_high, highest = _ring_track(ring_rsi, i, slot_r, at_high, highest, True)
                    at_low, lowest = _ring_track(ring_rsi, i, slot_r, at_low, lowest, False)
                    # TA-Lib 0.8's STOCHF: 100 * ((x - lowest) / (highest - lowest)), 0 flat
                    spread = highest - lowest
                    k = 100.0 * ((value - lowest) / spread) if spread != 0.0 else 0.0
                    ring_k[slot_k] = k
                    slot_k = slot_k + 1 if slot_k < n_d - 1 else 0  # the oldest, leaving
                    sum_d += k
                    if m >= n_d - 1:
                        fast_k = k
                        fast_d = sum_d / n_d
                        sum_d -= ring_k[slot_k]
                slot_r = slot_r + 1 if slot_r < n_k - 1 else 0
            out[0, o] = fast_k
            out[1, o] = fast_d
            count += 1
        row[0], row[1], row[2], row[3], row[4] = count, prev, gain, loss, sum_d
    return state


@_kernel
def _tsi_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """True strength index: the long EMA, then the short EMA, of the one-bar change and of its
    size, each EMA seeded by the mean of its first values; state: count, last close, the two
    long and the two short EMAs (each the sum of its seed values until seeded)."""
    state = state_in.copy()
    n_long, n_short = periods[0], periods[1]
    k_long, k_short = 2.0 / (n_long + 1), 2.0 / (n_short + 1)
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        prev, long_m, long_a, short_m, short_a = row[1], row[2], row[3], row[4], row[5]
        for j in range(start, end):
            c = close[j]
            value = np.nan
            if count > 0:
                move = c - prev
                i = count - 1  # change number
                long_m, smooth_m = _ema_step(move, i, long_m, n_long, k_long)
                long_a, smooth_a = _ema_step(abs(move), i, long_a, n_long, k_long)
                i -= n_long - 1  # long EMA number
                if i >= 0:
                    short_m, double_m = _ema_step(smooth_m, i, short_m, n_short, k_short)
                    short_a, double_a = _ema_step(smooth_a, i, short_a, n_short, k_short)
                    if i >= n_short - 1:
                        value = 100.0 * (double_m / double_a) if not _is_zero(double_a) else 0.0
            out[0, j - shift] = value
            prev = c
            count += 1
        row[0], row[1], row[2], row[3], row[4], row[5] = (
            count,
            prev,
            long_m,
            long_a,
            short_m,
            short_a,
        )
    return state


# --------------------------------------------------------------------------------------------
# bands and volume-weighted prices: Keltner channels, rolling VWAP
# --------------------------------------------------------------------------------------------


@_kernel
def _keltner_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Keltner channels: the EMA of the close (SMA seed) and ``factors[0]`` ATRs (Wilder)
    either side; state: count, the EMA, the ATR (each the sum of its seed values until
    seeded) and the last close."""
    state = state_in.copy()
    n_ema, n_atr = periods[0], periods[1]
    k_ema = 2.0 / (n_ema + 1)
    width = factors[0]
    lookback = max(n_ema - 1, n_atr)
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        ema, atr, prev = row[1], row[2], row[3]
        for j in range(start, end):
            o = j - shift
            c = close[j]
            ema, middle = _ema_step(c, count, ema, n_ema, k_ema)
            atr, average = _atr_step(high[j], low[j], prev, count, atr, n_atr)
            if count >= lookback:
                band = width * average
                out[0, o] = middle
                out[1, o] = middle + band
                out[2, o] = middle - band
            else:
                out[0, o] = np.nan
                out[1, o] = np.nan
                out[2, o] = np.nan
            prev = c
            count += 1
        row[0], row[1], row[2], row[3] = count, ema, atr, prev
    return state


@_kernel
def _vwap_kernel(
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    volume: FloatArray,
    offsets: IntArray,
    n_context: IntArray,
    out_start: IntArray,
    state_in: FloatArray,
    out: FloatArray,
    periods: IntArray,
    factors: FloatArray,
) -> FloatArray:
    """Rolling VWAP of the typical price; state: count, the running sums of traded value and
    shares (add today, divide, drop the oldest, as TA_SUM), the missing volumes in the window
    and the run of bars without volume. A missing volume is left out of the sums and counted,
    so it makes the VWAP unknown for its window only; a window without volume resets the sums
    to exactly 0, whatever rounding residue they carry."""
    state = state_in.copy()
    n = periods[0]
    for t in numba.prange(offsets.shape[0] - 1):
        _, start, end, shift = _bounds(offsets, n_context, out_start, out, t)
        row = state[t]
        count = int(row[0])
        traded, shares, missing, quiet = row[1], row[2], int(row[3]), int(row[4])
        for j in range(start, end):
            v = volume[j]
            if np.isnan(v):
                missing += 1
            else:
                traded += _typical(high, low, close, j) * v
                shares += v
            quiet = 0 if v > 0.0 else quiet + 1
            if quiet >= n:
                quiet = n
                traded = 0.0
                shares = 0.0
            value = np.nan
            if count >= n - 1:
                if missing == 0 and shares > 0.0:
                    value = traded / shares
                i = j - n + 1  # the oldest row, leaving
                w = volume[i]
                if np.isnan(w):
                    missing -= 1
                else:
                    traded -= _typical(high, low, close, i) * w
                    shares -= w
            out[0, j - shift] = value
            count += 1
        row[0], row[1], row[2], row[3], row[4] = count, traded, shares, missing, quiet
    return state


FAMILY_KERNELS: dict[str, Callable[..., FloatArray]] = {
    "dmi": _dmi_kernel,
    "stoch": _stoch_kernel,
    "willr": _willr_kernel,
    "cci": _cci_kernel,
    "mfi": _mfi_kernel,
    "donchian": _donchian_kernel,
    "obv": _obv_kernel,
    "ad": _ad_kernel,
    "adosc": _adosc_kernel,
    "sar": _sar_kernel,
    "kama": _kama_kernel,
    "ultosc": _ultosc_kernel,
    "ppo": _ppo_kernel,
    "stochrsi": _stochrsi_kernel,
    "tsi": _tsi_kernel,
    "keltner": _keltner_kernel,
    "vwap": _vwap_kernel,
}
"""The kernel of each family computed outside the fused pass of :mod:`stockbrief.kernels`."""
