"""The events of one new session per ticker, as array operations across tickers.

The daily update asks the detectors about one row per ticker, with the :data:`LOOKBACK` rows
before it as context: each detector's definition then becomes a few comparisons across
tickers. These are the numba detectors' definitions (:mod:`stockbrief.detectors`) term by
term, including how they order NaN, so the events are the same; the engine keeps the kernels
for everything else (a full compute, several new sessions, a ticker with short context).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.detectors import (
    AVERAGES,
    CONFIRM,
    DIVERGENCE,
    EVENT_KINDS,
    EVENTS_SCHEMA,
    INPUTS,
    LOOKBACK,
    THRESHOLDS,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

COLUMNS: Final = INPUTS
"""What the detectors read, today and on the rows before."""


def _gt(a: FloatArray, b: FloatArray | float) -> BoolArray:
    # Polars orders NaN (a ratio 0/0) above every number; the detectors are defined on that.
    result: BoolArray = (a > b) | (np.isnan(a) & ~np.isnan(b))
    return result


def _ge(a: FloatArray | float, b: FloatArray | float) -> BoolArray:
    result: BoolArray = (a >= b) | np.isnan(a)
    return result


def _present(a: FloatArray, b: FloatArray) -> BoolArray:
    result: BoolArray = ~np.isnan(a) & ~np.isnan(b)
    return result


class _Rows:
    """Each column as ``(n_tickers, LOOKBACK + 1)``, oldest first, today last."""

    def __init__(self, before: Mapping[str, FloatArray], today: Mapping[str, FloatArray]) -> None:
        self.before, self.today = before, today

    def ago(self, column: str, n: int) -> FloatArray:
        return self.today[column] if n == 0 else self.before[column][:, LOOKBACK - n]


def _crossings(rows: _Rows, level: str) -> dict[str, tuple[BoolArray, npt.NDArray[np.int32]]]:
    """Crossings of one average: above/below n rows ago, as the kernels' bit masks hold them
    (neither where the average or the row is missing)."""
    above = [rows.ago("close", n) > rows.ago(level, n) for n in range(CONFIRM + 1)]
    below = [rows.ago("close", n) <= rows.ago(level, n) for n in range(CONFIRM + 1)]
    no_sessions = np.full(above[0].size, -1, dtype=np.int32)
    confirmed = below[CONFIRM].copy()
    for n in range(CONFIRM):
        confirmed &= above[n]
    crossed_down = below[0] & above[1]
    held = np.zeros(above[0].size, dtype=np.int32)
    still = np.ones(above[0].size, dtype=np.bool_)
    for n in range(1, CONFIRM + 1):  # closes above in a row, from the day before on
        still &= above[n]
        held += still
    fell_back = np.zeros_like(crossed_down)
    for h in range(CONFIRM):
        fell_back |= (held == h) & below[h + 1]
    failed = crossed_down & (held < CONFIRM) & fell_back
    return {
        f"cross_above_{level}": (above[0] & below[1], no_sessions),
        f"cross_below_{level}": (crossed_down, no_sessions),
        f"breakout_confirmed_{level}": (confirmed, no_sessions),
        f"breakout_failed_{level}": (failed, held),
    }


def _numbers(rows: _Rows, kind: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Value, level and observed of each kind (the kernels' ``_numbers``)."""
    if kind.endswith(AVERAGES):
        level = rows.ago("sma_50" if kind.endswith("sma_50") else "sma_200", 0)
        observed = rows.ago("close", 0)
        return observed / level - 1, level, observed
    if kind in ("golden_cross", "death_cross"):
        level, observed = rows.ago("sma_200", 0), rows.ago("sma_50", 0)
        return observed / level - 1, level, observed
    if kind == "volume_surge":
        return rows.ago("rel_volume", 0), rows.ago("typical_volume_50", 0), rows.ago("volume", 0)
    if kind.startswith("large_move"):
        ret, level = rows.ago("return_1d", 0), rows.ago("volatility_60", 1)
        return ret, level, ret / level
    if kind.startswith("gap"):
        level = rows.ago("high" if kind == "gap_up" else "low", 1)
        observed = rows.ago("open", 0)
        return observed / rows.ago("close", 1) - 1, level, observed
    if kind == "new_52w_high":
        return rows.ago("high", 0), rows.ago("high_52w", 1), rows.ago("high", 0)
    if kind == "new_52w_low":
        return rows.ago("low", 0), rows.ago("low_52w", 1), rows.ago("low", 0)
    if kind == "adx_trend_start":
        level = np.full(rows.ago("adx_14", 0).size, THRESHOLDS["adx_trend_level"].value)
        spread = rows.ago("plus_di_14", 0) - rows.ago("minus_di_14", 0)
        return rows.ago("adx_14", 0), level, spread
    if kind.startswith("stoch"):
        k, d = rows.ago("stoch_k_14", 0), rows.ago("stoch_d_14", 0)
        return k - d, d, k
    observed = rows.ago("close", 0)
    if kind.startswith("sar"):
        level = rows.ago("sar", 0)
    elif kind == "donchian_breakout_up":
        level = rows.ago("donchian_high_20", 1)
    elif kind == "donchian_breakout_down":
        level = rows.ago("donchian_low_20", 1)
    else:  # a divergence: the lowest (highest) of the closes before, in the kernels' order
        level = rows.ago("close", 1)
        pick = np.minimum if kind == "obv_divergence_bull" else np.maximum
        for n in range(2, DIVERGENCE + 1):
            level = pick(level, rows.ago("close", n))
    return observed / level - 1, level, observed


def _indicator_fired(rows: _Rows) -> dict[str, BoolArray]:
    """The kinds over ADX, stochastics, SAR, OBV and Donchian (the kernels'
    ``_indicator_events``); every comparison with a missing value is false."""
    adx_level = THRESHOLDS["adx_trend_level"].value
    oversold = THRESHOLDS["stoch_oversold"].value
    overbought = THRESHOLDS["stoch_overbought"].value
    adx, padx = rows.ago("adx_14", 0), rows.ago("adx_14", 1)
    k, d = rows.ago("stoch_k_14", 0), rows.ago("stoch_d_14", 0)
    pk, pd = rows.ago("stoch_k_14", 1), rows.ago("stoch_d_14", 1)
    close, pclose = rows.ago("close", 0), rows.ago("close", 1)
    sar, psar = rows.ago("sar", 0), rows.ago("sar", 1)
    obv = rows.ago("obv", 0)
    lowest = np.ones(close.size, dtype=np.bool_)
    highest = lowest.copy()
    obv_not_lowest = np.zeros(close.size, dtype=np.bool_)
    obv_not_highest = obv_not_lowest.copy()
    for n in range(1, DIVERGENCE + 1):
        lowest &= close < rows.ago("close", n)
        highest &= close > rows.ago("close", n)
        obv_not_lowest |= obv > rows.ago("obv", n)
        obv_not_highest |= obv < rows.ago("obv", n)
    return {
        "adx_trend_start": (adx > adx_level) & (padx <= adx_level),
        "stoch_oversold_cross": (k > d) & (pk <= pd) & (k < oversold) & (d < oversold),
        "stoch_overbought_cross": (k < d) & (pk >= pd) & (k > overbought) & (d > overbought),
        "sar_flip_up": (sar < close) & (psar >= pclose),
        "sar_flip_down": (sar > close) & (psar <= pclose),
        "obv_divergence_bull": lowest & obv_not_lowest,
        "obv_divergence_bear": highest & obv_not_highest,
        "donchian_breakout_up": close > rows.ago("donchian_high_20", 1),
        "donchian_breakout_down": close < rows.ago("donchian_low_20", 1),
    }


def _fired(rows: _Rows) -> dict[str, tuple[BoolArray, npt.NDArray[np.int32]]]:
    """Per kind, which tickers it fires on today, and the sessions a failed breakout held."""
    surge = THRESHOLDS["volume_surge_rel_volume"].value
    sigma = THRESHOLDS["large_move_sigma"].value
    gap = THRESHOLDS["gap_min"].value
    fired = {k: v for level in AVERAGES for k, v in _crossings(rows, level).items()}
    fast, slow = rows.ago("sma_50", 0), rows.ago("sma_200", 0)
    pfast, pslow = rows.ago("sma_50", 1), rows.ago("sma_200", 1)
    averages = _present(fast, slow) & _present(pfast, pslow)
    spread = fast / slow - 1
    ret, prior = rows.ago("return_1d", 0), rows.ago("volatility_60", 1)
    move = ret / prior
    moved = _present(ret, prior) & ~np.isnan(move)
    open_, close = rows.ago("open", 0), rows.ago("close", 1)
    size = open_ / close - 1
    opened = _present(open_, close)
    plain = {
        "volume_surge": rows.ago("rel_volume", 0) >= surge,
        "golden_cross": averages & _gt(spread, 0.0) & (pfast <= pslow),
        "death_cross": averages & _gt(np.zeros_like(spread), spread) & (pfast >= pslow),
        "large_move_up": moved & _ge(move, sigma),
        "large_move_down": moved & _ge(-sigma, move),
        "gap_up": opened & (open_ > rows.ago("high", 1)) & _ge(size, gap),
        "gap_down": opened & (open_ < rows.ago("low", 1)) & _ge(-gap, size),
        "new_52w_high": rows.ago("high", 0) > rows.ago("high_52w", 1),
        "new_52w_low": rows.ago("low", 0) < rows.ago("low_52w", 1),
        **_indicator_fired(rows),
    }
    none = np.full(fast.size, -1, dtype=np.int32)
    fired.update({k: (v, none) for k, v in plain.items()})
    return fired


def detect_latest(
    tickers: pl.Series,
    dates: pl.Series,
    before: Mapping[str, FloatArray],
    today: Mapping[str, FloatArray],
) -> pl.DataFrame:
    """The events of each ticker's new session, in :data:`EVENTS_SCHEMA`, by ticker and kind.

    ``before`` holds each of :data:`COLUMNS` as ``(n_tickers, LOOKBACK)`` (the ticker's rows
    before today, oldest first, NaN where it has fewer), ``today`` the same columns as
    ``(n_tickers,)``; ``tickers`` ascend and ``dates`` give each one's new session.
    """
    rows = _Rows(before, today)
    with np.errstate(divide="ignore", invalid="ignore"):
        fired = _fired(rows)
        parts = []
        for kind in sorted(fired):
            mask, sessions = fired[kind]
            at = np.flatnonzero(mask)
            if not at.size:
                continue
            value, level, observed = (a[at] for a in _numbers(rows, kind))
            parts.append((kind, at, value, level, observed, sessions[at]))
    if not parts:
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    at = np.concatenate([p[1] for p in parts])
    order = np.argsort(at, kind="stable")  # by ticker; kinds stay in name order within one
    kinds = np.concatenate([np.full(p[1].size, i, dtype=np.int32) for i, p in enumerate(parts)])
    names = pl.Series("kind", [p[0] for p in parts], dtype=pl.String)
    params = pl.Series("params_id", [EVENT_KINDS[p[0]].params_id for p in parts], dtype=pl.Int32)
    picked = pl.Series(at[order])
    sessions = np.concatenate([p[5] for p in parts])[order]
    kind_index = pl.Series(kinds[order])
    return pl.DataFrame(
        [
            tickers.cast(pl.String).gather(picked).alias("ticker"),
            dates.cast(pl.Date).gather(picked).alias("date"),
            names.gather(kind_index),
            *(
                pl.Series(name, np.concatenate([p[i] for p in parts])[order])
                for i, name in ((2, "value"), (3, "level"), (4, "observed"))
            ),
            pl.Series("sessions", sessions, dtype=pl.Int32),
            pl.Series("label", dtype=pl.String).extend_constant(None, at.size),
            pl.Series("prev_label", dtype=pl.String).extend_constant(None, at.size),
            params.gather(kind_index),
        ]
    ).with_columns(pl.when(pl.col("sessions") >= 0).then(pl.col("sessions")).alias("sessions"))
