"""Compute engine speed: numba kernels over the universe vs a loop of TA-Lib calls per ticker.

Run: ``python -m benchmarks.compute``. On a synthetic 5,000 tickers x 2,520 sessions universe:
full recompute of the default indicator set (target: at least 2x the TA-Lib loop), compute with
events against the kernels alone (target: at most 2x), the daily incremental update of every
ticker (target: under 100 ms) against TA-Lib 0.8's streaming handles updating the same
indicators, and peak memory per bar.

Both sides deliver the 22 output columns for the whole universe; writing them is memory-bound
(allocating and filling 22 float64 columns of 12.6M rows alone takes about 0.23 s here), which a
loop that throws each result away never pays, so that figure is shown too, as a lower bound.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import talib
from talib import stream

from benchmarks.universe import universe
from stockbrief.compute import INPUTS, compute, update
from stockbrief.kernels import INDICATORS, run_many

N_TICKERS, N_DAYS = 5_000, 2_520


def talib_loop(columns: dict[str, np.ndarray], offsets: np.ndarray, *, keep: bool = True) -> int:
    """The baseline: the same indicator set, one TA-Lib call per indicator per ticker.

    With ``keep`` the per-ticker results are assembled into universe-wide columns, as the
    kernels deliver them (what the engine needs); without, each result is thrown away as soon
    as it is made, so it never leaves the cache (a lower bound on the loop's cost).
    """
    parts: list[list[np.ndarray]] = []
    for i in range(offsets.size - 1):
        lo, hi = offsets[i], offsets[i + 1]
        h, lw, c, v = (columns[k][lo:hi] for k in ("high", "low", "close", "volume"))
        made = [
            *(talib.SMA(c, period) for period in (20, 50, 200)),
            *(talib.EMA(c, period) for period in (12, 26, 50, 200)),
            talib.RSI(c, 14),
            talib.ATR(h, lw, c, 14),
            *talib.MACD(c, 12, 26, 9),
            *talib.BBANDS(c, 20, 2.0, 2.0, 0),
            talib.ROCP(c, 12),
            talib.MAX(h, 252),
            talib.MIN(lw, 252),
        ]
        returns = talib.ROCP(c, 1)
        typical = talib.SMA(v, 50)
        relative = np.full_like(v, np.nan)
        np.divide(v[1:], typical[:-1], out=relative[1:])
        made += [returns, talib.STDDEV(returns, 60, 1.0), typical, relative]
        if keep:
            parts = parts or [[] for _ in made]
            for part, values in zip(parts, made, strict=True):
                part.append(values)
    for part in parts:
        np.concatenate(part)
    return 18 * (offsets.size - 1)


def talib_streams(columns: dict[str, np.ndarray], offsets: np.ndarray) -> list[list[object]]:
    """The streaming baseline: TA-Lib 0.8 handles, one per indicator per ticker, opened on
    each ticker's history (the same indicator set as the engine)."""
    handles = []
    for i in range(offsets.size - 1):
        lo, hi = offsets[i], offsets[i + 1]
        h, lw, c, v = (columns[k][lo:hi] for k in ("high", "low", "close", "volume"))
        returns = talib.ROCP(c, 1)
        handles.append(
            [
                *(stream.SMA(c, timeperiod=p) for p in (20, 50, 200)),
                *(stream.EMA(c, timeperiod=p) for p in (12, 26, 50, 200)),
                stream.RSI(c, timeperiod=14),
                stream.ATR(h, lw, c, timeperiod=14),
                stream.MACD(c, 12, 26, 9),
                stream.BBANDS(c, 20, 2.0, 2.0, 0),
                stream.ROCP(c, timeperiod=12),
                stream.MAX(h, timeperiod=252),
                stream.MIN(lw, timeperiod=252),
                stream.ROCP(c, timeperiod=1),
                stream.STDDEV(returns, 60, 1.0),
                stream.SMA(v, timeperiod=50),
            ]
        )
    return handles


def stream_update(handles: list[list[Any]], bar: dict[str, np.ndarray]) -> int:
    """Every handle of every ticker carried forward by one closed bar (copies, so that the
    same bar can be timed again)."""
    h, lw, c, v = (bar[k] for k in ("high", "low", "close", "volume"))
    for i, row in enumerate(handles):
        row = [handle.copy() for handle in row]
        hi, lo, cl, vo = float(h[i]), float(lw[i]), float(c[i]), float(v[i])
        typical = row[16].value
        for handle in row[:7]:
            handle.update(cl)
        row[7].update(cl)
        row[8].update(hi, lo, cl)
        row[9].update(cl)
        row[10].update(cl)
        row[11].update(cl)
        row[12].update(hi)
        row[13].update(lo)
        ret = row[14].update(cl)
        row[15].update(ret)
        row[16].update(vo)
        _ = vo / typical
    return len(handles)


def stream_copies(handles: list[list[Any]]) -> int:
    """What :func:`stream_update` spends on copying alone, to subtract it."""
    for row in handles:
        [handle.copy() for handle in row]
    return len(handles)


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
    talib_s = best_of(2, lambda: talib_loop(columns, offsets))
    bare_s = best_of(2, lambda: talib_loop(columns, offsets, keep=False))
    print(f"TA-Lib loop (baseline)           {talib_s:8.3f} s   outputs as universe columns")
    print(f"TA-Lib loop, outputs discarded   {bare_s:8.3f} s   lower bound: outputs stay in cache")
    print(f"numba kernels, whole universe    {numba_s:8.3f} s   {talib_s / numba_s:5.2f}x baseline")
    print(f"                                              {bare_s / numba_s:5.2f}x the lower bound")

    last_day = bars["date"].max()
    history, today = bars.filter(pl.col("date") < last_day), bars.filter(pl.col("date") == last_day)
    start = time.perf_counter()
    result = compute(history)
    full_s = time.perf_counter() - start
    print(
        f"compute(): frame + events        {full_s:8.3f} s   ({result.events.height:,} events), "
        f"{full_s / numba_s:4.2f}x the kernels alone (target: at most 2x)"
    )
    update(result.state, today)  # warm
    update_s = best_of(5, lambda: update(result.state, today))
    print(f"daily update, {N_TICKERS:,} tickers      {update_s * 1000:8.1f} ms   with events")
    head = {c: history[c].cast(pl.Float64).to_numpy() for c in INPUTS}
    handles = talib_streams(head, np.arange(0, history.height + 1, N_DAYS - 1, dtype=np.int64))
    bar = {c: today[c].cast(pl.Float64).to_numpy() for c in INPUTS}
    stream_s = best_of(3, lambda: stream_update(handles, bar))
    copy_s = best_of(3, lambda: stream_copies(handles))
    streamed = stream_s - copy_s
    print(
        f"TA-Lib 0.8 stream handles, same   {streamed * 1000:8.1f} ms   update takes "
        f"{update_s / streamed:5.2f}x their time (target: at most 1x; handles update the "
        "indicators only, their copies subtracted)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak resident memory             {peak:8.0f} MiB   {peak * 2**20 / rows:5.0f} bytes"
        " per bar (the whole universe in one frame; `stockbrief compute` streams batches)"
    )
    print(f"load average                     {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
