"""TradingView-style technical rating of one ticker: 26 indicator votes, their means and a label.

A cross-check beside the brief's evidence, never the verdict: the rating counts how many
textbook rules point up or down on the day, and says nothing about what followed such days.

Pure numpy over one ticker's bars in date order. Every value as of a session reads bars up to and
including that session only, so a rating never changes when later bars are added.

Notes
-----
Each component votes +1 (buy), 0 (neutral) or -1 (sell) on the last bar. "Rising" and "falling"
compare the value with the one of the bar before. The moving-average rating is the mean of the
15 moving-average votes, the oscillator rating the mean of the 11 oscillator votes, and the
summary rating the mean of those two (none until both groups have a vote).

Moving averages (buy when the average is below the close, sell when above, neutral when equal):

- SMA and EMA of 10, 20, 30, 50, 100 and 200 closes (EMA seeded by the SMA of its first N
  closes, as TA-Lib does);
- Ichimoku base line (9, 26, 52, 26): the midpoint of the highest high and lowest low of 26
  bars, voting as a moving average;
- VWMA (20): the volume-weighted mean of 20 closes (missing when the 20 bars traded no volume,
  as for an index);
- Hull MA (9): WMA over 3 bars of 2 x WMA(4) - WMA(9).

Oscillators:

- RSI (14), Wilder: buy below 30 and rising, sell above 70 and falling;
- Stochastic (14, 3, 3), %K the 3-bar SMA of the raw %K, %D its 3-bar SMA: buy with %K and %D
  below 20 and %K above %D, sell with both above 80 and %K below %D;
- CCI (20) on the typical price (H + L + C) / 3: buy below -100 and rising, sell above 100 and
  falling;
- ADX (14) with +DI and -DI (Wilder): buy when ADX is above 20 and rising with +DI above -DI,
  sell when ADX is above 20 and rising with +DI below -DI;
- Awesome Oscillator, SMA(5) - SMA(34) of the median price (H + L) / 2: buy on a cross above
  zero or a saucer above it (three bars above zero, the middle one the lowest), sell on a cross
  below zero or a saucer below it (three bars below zero, the middle one the highest);
- Momentum (10), close - close 10 bars before: buy rising, sell falling;
- MACD (12, 26, 9): buy when the MACD line is above its signal line, sell when below;
- Stochastic RSI (3, 3, 14, 14): raw %K the stochastic of RSI (14) over 14 bars, K its 3-bar
  SMA, D the 3-bar SMA of K; buy in a downtrend with K and D below 20 and K above D, sell in an
  uptrend with both above 80 and K below D;
- Williams %R (14): buy below -80 and rising, sell above -20 and falling;
- Bull Bear Power (13): bull power = high - EMA(13), bear power = low - EMA(13), the value shown
  their sum; buy in an uptrend with bear power below zero and rising, sell in a downtrend with
  bull power above zero and falling;
- Ultimate Oscillator (7, 14, 28): buy above 70, sell below 30.

Two values a rule compares (two lines, a value and the one before, an average and the
close) count as equal within :data:`TIE` of the larger, so rounding noise never votes.

Uptrend means a close above its SMA (50), downtrend a close below it (TradingView's trend filter
for the Stochastic RSI and Bull Bear Power rules). A component without a value on the day
(warm-up, no volume) does not vote, and the means are over the components that do. Every
indicator follows TA-Lib 0.8's conventions and matches it where TA-Lib has it (SMA, EMA, WMA,
MIDPRICE, RSI, STOCH, CCI, ADX, PLUS_DI, MINUS_DI, MOM, MACD, STOCHRSI, WILLR, ULTOSC).

Labels, by :data:`THRESHOLDS`:

- ``tradingview`` (the default; TradingView's current Help Center): strong sell [-1, -0.5),
  sell [-0.5, -0.1), neutral [-0.1, 0.1], buy (0.1, 0.5], strong buy (0.5, 1];
- ``tradingview_legacy`` (TradingView's older scheme as commonly quoted; its exact bounds are
  not confirmed by a TradingView page): neutral is the open interval (-0.1, 0.1), each bound
  going to the side away from zero: sell (-0.5, -0.1], strong sell [-1, -0.5], buy [0.1, 0.5),
  strong buy [0.5, 1].

Known differences from TradingView:

- its Ichimoku vote is a cloud rule (the leading spans' order, the base and conversion lines and
  the price), not the base line as a moving average;
- its Help Center states the Stochastic and ADX rules as crossings (%K crossing %D, +DI crossing
  -DI) where these rules read the lines' order on the day and, for the ADX, a rising ADX;
- Pine's reference EMA starts from the first close where TA-Lib's starts from an SMA, and its
  ADX smoothing seeds from a mean where TA-Lib's starts from a sum, so EMA, MACD, Bull Bear
  Power and ADX values differ on short histories and converge on long ones;
- TradingView rates on its own data feed; these bars are adjusted as of the as-of date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

Float = NDArray[np.float64]
Group = Literal["ma", "oscillator"]
Label = Literal["strong sell", "sell", "neutral", "buy", "strong buy"]
Thresholds = Literal["tradingview", "tradingview_legacy"]

THRESHOLDS: Final[tuple[Thresholds, ...]] = ("tradingview", "tradingview_legacy")
"""The label schemes; the first is the default."""
DEFAULT_THRESHOLDS: Final[Thresholds] = "tradingview"
NEUTRAL_BAND: Final = 0.1
"""A rating within this of zero is neutral (bounds included under ``tradingview``)."""
STRONG_BAND: Final = 0.5
"""Beyond this from zero a rating is strong (bounds excluded under ``tradingview``)."""
MA_LENGTHS: Final = (10, 20, 30, 50, 100, 200)
TREND_LENGTH: Final = 50
"""The SMA whose side of the close says uptrend or downtrend."""

TIE: Final = 1e-9
"""Two values within this share of the larger (or of 1) are equal when a rule compares them,
so rounding in the last digits never casts a vote (a stochastic pinned at 100 is not falling)."""

# TA-Lib's TA_IS_ZERO tolerance (ta_func/ta_utility.h): smaller divisors count as zero.
_EPSILON: Final = 1e-8


def _nan(n: int) -> Float:
    return np.full(n, np.nan)


def _rolling(x: Float, n: int, reduce: Callable[..., Float]) -> Float:
    """``reduce`` over the ``n`` values up to and including each bar; NaN before the first
    full window."""
    out = _nan(x.size)
    if x.size >= n:
        out[n - 1 :] = reduce(sliding_window_view(x, n), axis=1)
    return out


def sma(x: Float, n: int) -> Float:
    """Mean of the ``n`` values up to and including each bar; NaN before the first full window."""
    return _rolling(x, n, np.mean)


def rolling_sum(x: Float, n: int) -> Float:
    """Sum of the ``n`` values up to and including each bar."""
    return _rolling(x, n, np.sum)


def ema(x: Float, n: int) -> Float:
    """Exponential mean with k = 2 / (n + 1), seeded by the mean of the first ``n`` values
    (after any leading NaN), as TA-Lib's EMA."""
    out = _nan(x.size)
    valid = np.flatnonzero(~np.isnan(x))
    if valid.size == 0 or x.size - valid[0] < n:
        return out
    start = int(valid[0])
    k = 2.0 / (n + 1)
    value = float(np.mean(x[start : start + n]))
    out[start + n - 1] = value
    for i in range(start + n, x.size):
        value = (x[i] - value) * k + value
        out[i] = value
    return out


def wma(x: Float, n: int) -> Float:
    """Linearly weighted mean of ``n`` values, the latest weighing ``n`` (after leading NaN)."""
    out = _nan(x.size)
    valid = np.flatnonzero(~np.isnan(x))
    if valid.size == 0 or x.size - valid[0] < n:
        return out
    start = int(valid[0])
    weights = np.arange(1, n + 1, dtype=np.float64)
    out[start + n - 1 :] = sliding_window_view(x[start:], n) @ weights / weights.sum()
    return out


def highest(x: Float, n: int) -> Float:
    return _rolling(x, n, np.max)


def lowest(x: Float, n: int) -> Float:
    return _rolling(x, n, np.min)


def midprice(high: Float, low: Float, n: int) -> Float:
    """(highest high + lowest low) / 2 over ``n`` bars: the Ichimoku base line for n = 26."""
    return (highest(high, n) + lowest(low, n)) / 2


def hull(close: Float, n: int = 9) -> Float:
    """Hull moving average: WMA over round(sqrt(n)) bars of 2 x WMA(n // 2) - WMA(n)."""
    return wma(2 * wma(close, n // 2) - wma(close, n), round(np.sqrt(n)))


def vwma(close: Float, volume: Float, n: int = 20) -> Float:
    """Volume-weighted mean of ``n`` closes; NaN where those bars traded no volume."""
    traded = rolling_sum(volume, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(traded > 0, rolling_sum(close * volume, n) / traded, np.nan)


def rsi(close: Float, n: int = 14) -> Float:
    """Wilder's RSI: averages of gains and losses seeded by their mean over the first ``n``
    changes, then smoothed by (n - 1) / n (TA-Lib, unstable period 0)."""
    out = _nan(close.size)
    valid = np.flatnonzero(~np.isnan(close))
    if valid.size == 0 or close.size - valid[0] <= n:
        return out
    start = int(valid[0])
    change = np.diff(close[start:])
    gain, loss = np.maximum(change, 0.0), np.maximum(-change, 0.0)
    up, down = gain[:n].sum() / n, loss[:n].sum() / n

    def value(up: float, down: float) -> float:
        total = up + down
        return 100.0 * (up / total) if not -_EPSILON < total < _EPSILON else 0.0

    out[start + n] = value(up, down)
    for i in range(n, change.size):
        up = (up * (n - 1) + gain[i]) / n
        down = (down * (n - 1) + loss[i]) / n
        out[start + i + 1] = value(up, down)
    return out


def _stochastic_raw(close: Float, high: Float, low: Float, n: int) -> Float:
    top, bottom = highest(high, n), lowest(low, n)
    span = top - bottom
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(span != 0, 100.0 * (close - bottom) / span, 0.0)
    return np.where(np.isnan(span), np.nan, raw)


def stochastic(
    high: Float, low: Float, close: Float, n: int = 14, k: int = 3, d: int = 3
) -> tuple[Float, Float]:
    """Slow stochastic %K (the ``k``-bar SMA of the raw %K over ``n`` bars) and %D (its
    ``d``-bar SMA); a raw %K over a flat range is 0, as TA-Lib's STOCH."""
    raw = _stochastic_raw(close, high, low, n)
    slow_k = _shifted_sma(raw, k)
    return slow_k, _shifted_sma(slow_k, d)


def _shifted_sma(x: Float, n: int) -> Float:
    """:func:`sma` of a series with leading NaN, starting at its first value."""
    out = _nan(x.size)
    valid = np.flatnonzero(~np.isnan(x))
    if valid.size:
        start = int(valid[0])
        out[start:] = sma(x[start:], n)
    return out


def cci(high: Float, low: Float, close: Float, n: int = 20) -> Float:
    """Commodity channel index of the typical price: (TP - SMA) / (0.015 x mean deviation)."""
    tp = (high + low + close) / 3
    out = _nan(tp.size)
    if tp.size < n:
        return out
    windows = sliding_window_view(tp, n)
    mean = windows.mean(axis=1)
    deviation = np.abs(windows - mean[:, None]).mean(axis=1)
    current = tp[n - 1 :] - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        out[n - 1 :] = np.where(
            (deviation != 0) & (current != 0), current / (0.015 * deviation), 0.0
        )
    return out


def dmi(high: Float, low: Float, close: Float, n: int = 14) -> tuple[Float, Float, Float]:
    """ADX, +DI and -DI by Wilder's smoothing in TA-Lib's order: the sums of the first n - 1
    directional moves and true ranges, then S = S - S / n + x; the ADX the mean of the first
    ``n`` DX values, then smoothed by (n - 1) / n."""
    size = close.size
    adx, plus, minus = _nan(size), _nan(size), _nan(size)
    if size <= n:
        return adx, plus, minus
    up = high[1:] - high[:-1]
    down = low[:-1] - low[1:]
    minus_dm = np.where((down > 0) & (up < down), down, 0.0)
    plus_dm = np.where((up > 0) & (up > down), up, 0.0)
    tr = np.maximum.reduce(
        [high[1:] - low[1:], np.abs(high[1:] - close[:-1]), np.abs(low[1:] - close[:-1])]
    )
    s_plus, s_minus, s_tr = (float(a[: n - 1].sum()) for a in (plus_dm, minus_dm, tr))
    dx_sum, dx_count, smooth = 0.0, 0, np.nan
    for j in range(n - 1, size - 1):
        s_plus = s_plus - s_plus / n + plus_dm[j]
        s_minus = s_minus - s_minus / n + minus_dm[j]
        s_tr = s_tr - s_tr / n + tr[j]
        i = j + 1
        if -_EPSILON < s_tr < _EPSILON:
            plus[i] = minus[i] = 0.0
            dx = np.nan
        else:
            plus[i] = 100.0 * (s_plus / s_tr)
            minus[i] = 100.0 * (s_minus / s_tr)
            total = minus[i] + plus[i]
            zero = -_EPSILON < total < _EPSILON
            dx = np.nan if zero else 100.0 * (abs(minus[i] - plus[i]) / total)
        if dx_count < n:
            dx_sum += 0.0 if np.isnan(dx) else dx
            dx_count += 1
            if dx_count == n:
                smooth = dx_sum / n
                adx[i] = smooth
        else:
            if not np.isnan(dx):
                smooth = (smooth * (n - 1) + dx) / n
            adx[i] = smooth
    return adx, plus, minus


def awesome(high: Float, low: Float) -> Float:
    """Awesome Oscillator: SMA(5) - SMA(34) of the median price (H + L) / 2."""
    median = (high + low) / 2
    return sma(median, 5) - sma(median, 34)


def momentum(close: Float, n: int = 10) -> Float:
    """Close minus the close ``n`` bars before."""
    out = _nan(close.size)
    out[n:] = close[n:] - close[:-n]
    return out


def macd(close: Float, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Float, Float]:
    """MACD line and signal line as TA-Lib computes them: both EMAs start on the bar where the
    slow one has its first value (the fast one seeded by the mean of the ``fast`` closes up to
    it), and the signal is the ``signal``-bar EMA of the MACD line seeded by its mean."""
    line, sig = _nan(close.size), _nan(close.size)
    if close.size < slow + signal - 1:
        return line, sig
    skip = slow - fast
    fast_ema = _nan(close.size)
    fast_ema[skip:] = ema(close[skip:], fast)
    raw = fast_ema - ema(close, slow)
    sig = ema(raw, signal)
    line = np.where(np.isnan(sig), np.nan, raw)
    return line, sig


def stochastic_rsi(
    close: Float, rsi_length: int = 14, stoch_length: int = 14, k: int = 3, d: int = 3
) -> tuple[Float, Float]:
    """Stochastic RSI K (the ``k``-bar SMA of the stochastic of RSI over ``stoch_length``
    bars) and D (the ``d``-bar SMA of K); a flat RSI range gives a raw value of 0."""
    r = rsi(close, rsi_length)
    raw = _nan(r.size)
    valid = np.flatnonzero(~np.isnan(r))
    if valid.size:
        start = int(valid[0])
        part = r[start:]
        raw[start:] = _stochastic_raw(part, part, part, stoch_length)
    smooth_k = _shifted_sma(raw, k)
    return smooth_k, _shifted_sma(smooth_k, d)


def williams_r(high: Float, low: Float, close: Float, n: int = 14) -> Float:
    """Williams %R: -100 x (highest high - close) / (highest high - lowest low), 0 when flat."""
    top, bottom = highest(high, n), lowest(low, n)
    span = top - bottom
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(span != 0, -100.0 * (top - close) / span, 0.0)
    return np.where(np.isnan(span), np.nan, out)


def bull_bear_power(high: Float, low: Float, close: Float, n: int = 13) -> tuple[Float, Float]:
    """Bull power (high - EMA of ``n`` closes) and bear power (low - that EMA)."""
    mean = ema(close, n)
    return high - mean, low - mean


def ultimate(
    high: Float, low: Float, close: Float, lengths: tuple[int, int, int] = (7, 14, 28)
) -> Float:
    """Ultimate Oscillator: 100 x (4 A7 + 2 A14 + A28) / 7, each A the sum of buying pressure
    (close - min(low, previous close)) over the sum of true ranges of its bars."""
    out = _nan(close.size)
    if close.size <= max(lengths):
        return out
    floor = np.minimum(low[1:], close[:-1])
    pressure = close[1:] - floor
    ranges = np.maximum(high[1:], close[:-1]) - floor
    total = np.zeros(close.size - 1)
    for weight, n in zip((4.0, 2.0, 1.0), lengths, strict=True):
        p, r = rolling_sum(pressure, n), rolling_sum(ranges, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            total += weight * np.where(np.abs(r) >= _EPSILON, p / r, 0.0)
    out[max(lengths) :] = 100.0 * (total[max(lengths) - 1 :] / 7.0)
    return out


# -- votes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """One vote: the indicator, its group, its value on the day and its vote (None when it had
    no value and did not vote)."""

    name: str
    group: Group
    value: float | None
    vote: int | None


@dataclass(frozen=True)
class Rating:
    """The rating as of the last bar: the three means, the summary's label under
    ``thresholds``, and every component."""

    summary: float | None
    ma: float | None
    oscillators: float | None
    label: Label | None
    ma_label: Label | None
    oscillators_label: Label | None
    thresholds: Thresholds
    components: tuple[Component, ...]

    def group(self, group: Group) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.group == group)


def label(value: float, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Label:
    """The word of a rating under a label scheme (see the module's Notes)."""
    if thresholds not in THRESHOLDS:
        raise ValueError(f"unknown thresholds {thresholds!r}; use one of {', '.join(THRESHOLDS)}")
    # Ratings are fractions of at most 330ths: rounding keeps 3/15 / 2 on the 0.1 bound.
    size = round(abs(value), 9)
    if thresholds == "tradingview":
        strength = 0 if size <= NEUTRAL_BAND else 1 if size <= STRONG_BAND else 2
    else:
        strength = 0 if size < NEUTRAL_BAND else 1 if size < STRONG_BAND else 2
    if strength == 0:
        return "neutral"
    if value > 0:
        return "buy" if strength == 1 else "strong buy"
    return "sell" if strength == 1 else "strong sell"


def _last(x: Float, back: int = 0) -> float | None:
    if x.size <= back:
        return None
    value = float(x[x.size - 1 - back])
    return None if np.isnan(value) else value


def _gt(a: float, b: float) -> bool:
    """Whether ``a`` is above ``b`` by more than rounding noise (see :data:`TIE`)."""
    return a - b > TIE * max(1.0, abs(a), abs(b))


def _lt(a: float, b: float) -> bool:
    return _gt(b, a)


def _vote(buy: bool, sell: bool) -> int:
    return 1 if buy else -1 if sell else 0


def _ma_vote(level: float | None, close: float) -> int | None:
    if level is None:
        return None
    return 1 if _gt(close, level) else -1 if _lt(close, level) else 0


def _mean(votes: list[int | None]) -> float | None:
    cast = [v for v in votes if v is not None]
    return sum(cast) / len(cast) if cast else None


def rate(
    high: Float,
    low: Float,
    close: Float,
    volume: Float,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Rating:
    """The technical rating on the last of the given bars (one ticker, oldest first)."""
    high, low, close, volume = (np.asarray(a, dtype=np.float64) for a in (high, low, close, volume))
    if close.size == 0:
        raise ValueError("a rating needs at least one bar")
    c = float(close[-1])
    parts: list[Component] = []

    def ma(name: str, series: Float) -> None:
        level = _last(series)
        parts.append(Component(name, "ma", level, _ma_vote(level, c)))

    for n in MA_LENGTHS:
        ma(f"sma_{n}", sma(close, n))
    for n in MA_LENGTHS:
        ma(f"ema_{n}", ema(close, n))
    ma("ichimoku_base", midprice(high, low, 26))
    ma("vwma_20", vwma(close, volume, 20))
    ma("hull_9", hull(close, 9))

    trend = _last(sma(close, TREND_LENGTH))
    up = trend is not None and _gt(c, trend)
    down = trend is not None and _lt(c, trend)

    def osc(name: str, series: Float, rule: Callable[[float, float], int], *extra: Float) -> None:
        now, before = _last(series), _last(series, 1)
        others = [_last(e) for e in extra]
        if now is None or before is None or any(o is None for o in others):
            parts.append(Component(name, "oscillator", now, None))
            return
        parts.append(Component(name, "oscillator", now, rule(now, before)))

    osc("rsi_14", rsi(close, 14), lambda v, p: _vote(v < 30 and _gt(v, p), v > 70 and _lt(v, p)))
    k, d = stochastic(high, low, close, 14, 3, 3)
    dk = _last(d) or 0.0
    osc(
        "stoch_14_3_3",
        k,
        lambda v, p: _vote(v < 20 and dk < 20 and _gt(v, dk), v > 80 and dk > 80 and _lt(v, dk)),
        d,
    )
    osc(
        "cci_20",
        cci(high, low, close, 20),
        lambda v, p: _vote(v < -100 and _gt(v, p), v > 100 and _lt(v, p)),
    )
    adx, plus, minus = dmi(high, low, close, 14)
    pdi, mdi = _last(plus) or 0.0, _last(minus) or 0.0
    osc(
        "adx_14",
        adx,
        lambda v, p: _vote(
            v > 20 and _gt(v, p) and _gt(pdi, mdi), v > 20 and _gt(v, p) and _lt(pdi, mdi)
        ),
        plus,
        minus,
    )
    ao = awesome(high, low)
    ao_2 = _last(ao, 2)

    def ao_rule(v: float, p: float) -> int:
        cross_up, cross_down = p <= 0 < v, p >= 0 > v
        if ao_2 is None:
            return _vote(cross_up, cross_down)
        saucer_up = v > 0 and p > 0 and ao_2 > 0 and _gt(ao_2, p) and _gt(v, p)
        saucer_down = v < 0 and p < 0 and ao_2 < 0 and _lt(ao_2, p) and _lt(v, p)
        return _vote(cross_up or saucer_up, cross_down or saucer_down)

    osc("awesome_oscillator", ao, ao_rule)
    osc("momentum_10", momentum(close, 10), lambda v, p: _vote(_gt(v, p), _lt(v, p)))
    line, signal = macd(close, 12, 26, 9)
    sig = _last(signal) or 0.0
    osc("macd_12_26_9", line, lambda v, p: _vote(_gt(v, sig), _lt(v, sig)), signal)
    sk, sd = stochastic_rsi(close, 14, 14, 3, 3)
    sdv = _last(sd) or 0.0
    osc(
        "stoch_rsi_3_3_14_14",
        sk,
        lambda v, p: _vote(
            down and v < 20 and sdv < 20 and _gt(v, sdv),
            up and v > 80 and sdv > 80 and _lt(v, sdv),
        ),
        sd,
    )
    osc(
        "williams_r_14",
        williams_r(high, low, close, 14),
        lambda v, p: _vote(v < -80 and _gt(v, p), v > -20 and _lt(v, p)),
    )
    bull, bear = bull_bear_power(high, low, close, 13)

    def bbp_rule(v: float, p: float) -> int:
        # The sum has values exactly where both powers have, so none is missing here.
        bear_now, bear_before = float(bear[-1]), float(bear[-2])
        bull_now, bull_before = float(bull[-1]), float(bull[-2])
        buy = up and bear_now < 0 and _gt(bear_now, bear_before)
        sell = down and bull_now > 0 and _lt(bull_now, bull_before)
        return _vote(buy, sell)

    osc("bull_bear_power_13", bull + bear, bbp_rule)
    osc("ultimate_7_14_28", ultimate(high, low, close), lambda v, p: _vote(v > 70, v < 30))

    components = tuple(parts)
    ma_mean = _mean([p.vote for p in components if p.group == "ma"])
    osc_mean = _mean([p.vote for p in components if p.group == "oscillator"])
    summary = (ma_mean + osc_mean) / 2 if ma_mean is not None and osc_mean is not None else None

    def word(value: float | None) -> Label | None:
        return label(value, thresholds) if value is not None else None

    return Rating(
        summary,
        ma_mean,
        osc_mean,
        word(summary),
        word(ma_mean),
        word(osc_mean),
        thresholds,
        components,
    )
