"""Compute engine speed: numba kernels over the universe vs a loop of TA-Lib calls per ticker.

Run: ``python -m benchmarks.compute``. On a synthetic 5,000 tickers x 2,520 sessions universe:
full recompute of the default indicator set (target: at least 2x the TA-Lib loop), the daily
incremental update of every ticker (target: under 100 ms), and peak memory.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import numpy as np
import polars as pl
import talib

from benchmarks.universe import universe
from stockbrief.compute import INPUTS, compute, update
from stockbrief.indicators import INDICATORS, run_many

N_TICKERS, N_DAYS = 5_000, 2_520


def talib_loop(columns: dict[str, np.ndarray], offsets: np.ndarray) -> int:
    """The baseline: the same indicator set, one TA-Lib call per indicator per ticker."""
    calls = 0
    for i in range(offsets.size - 1):
        lo, hi = offsets[i], offsets[i + 1]
        h, lw, c, v = (columns[k][lo:hi] for k in ("high", "low", "close", "volume"))
        for period in (20, 50, 200):
            talib.SMA(c, period)
        for period in (12, 26, 50, 200):
            talib.EMA(c, period)
        talib.RSI(c, 14)
        talib.ATR(h, lw, c, 14)
        talib.MACD(c, 12, 26, 9)
        talib.BBANDS(c, 20, 2.0, 2.0, 0)
        talib.ROCP(c, 12)
        talib.MAX(h, 252)
        talib.MIN(lw, 252)
        returns = talib.ROCP(c, 1)
        talib.STDDEV(returns, 60, 1.0)
        typical = talib.SMA(v, 50)
        np.divide(v[1:], typical[:-1])
        calls += 18
    return calls


def kernels(columns: dict[str, np.ndarray], offsets: np.ndarray) -> int:
    """Every default indicator over the whole universe, fused into as few kernel passes as fit."""
    run_many(list(INDICATORS.values()), columns, offsets)
    return len(INDICATORS)


def best_of(repeats: int, func: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    bars = universe(N_TICKERS, N_DAYS)
    rows = bars.height
    columns = {c: bars[c].cast(pl.Float64).to_numpy() for c in INPUTS}
    offsets = np.arange(0, rows + 1, N_DAYS, dtype=np.int64)
    print(f"universe: {N_TICKERS:,} tickers x {N_DAYS:,} sessions = {rows:,} rows")

    kernels(columns, offsets)  # compile outside the timing
    numba_s = best_of(3, lambda: kernels(columns, offsets))
    talib_s = best_of(1, lambda: talib_loop(columns, offsets))
    print(f"TA-Lib loop (baseline)           {talib_s:8.3f} s")
    print(f"numba kernels, whole universe    {numba_s:8.3f} s   {talib_s / numba_s:5.2f}x baseline")

    last_day = bars["date"].max()
    history, today = bars.filter(pl.col("date") < last_day), bars.filter(pl.col("date") == last_day)
    start = time.perf_counter()
    result = compute(history)
    full_s = time.perf_counter() - start
    print(f"compute(): frame + events        {full_s:8.3f} s   ({result.events.height:,} events)")
    update(result.state, today)  # warm
    update_s = best_of(5, lambda: update(result.state, today))
    print(f"daily update, {N_TICKERS:,} tickers      {update_s * 1000:8.1f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory             {peak:8.0f} MiB")


if __name__ == "__main__":
    main()
