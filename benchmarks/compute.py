"""Compute engine speed: numba kernels over the universe vs a loop of TA-Lib calls per ticker.

Run: ``python -m benchmarks.compute [n_tickers n_days]`` (default: a synthetic 5,000 tickers x
2,520 sessions universe): full recompute of the default indicator set (target: at least 2x the
TA-Lib loop), compute with events against the kernels alone (target: at most 2x), the daily
incremental update of every ticker (target: under 100 ms) against TA-Lib 0.8's streaming handles
updating the same indicators (target: at most their time), and peak memory per bar.

Both sides deliver every output column of the default set for the whole universe: one TA-Lib
call per indicator where TA-Lib has the function, TA-Lib's EMA, ATR, MOM, TYPPRICE and SUM
composed where it has none (Keltner channels, TSI, rolling VWAP). Writing the columns is
memory-bound, which a loop that throws each result away never pays, so that figure is shown too,
as a lower bound.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import polars as pl
import talib
from talib import stream

from benchmarks.universe import universe
from stockbrief.compute import INPUTS, compute, update
from stockbrief.kernels import INDICATORS, Indicator, run_many

N_TICKERS, N_DAYS = 5_000, 2_520

Array = np.ndarray[Any, Any]
Calls = Callable[[Indicator, Array, Array, Array, Array], Sequence[Array]]


def _relative_volume(ind: Indicator, h: Array, lw: Array, c: Array, v: Array) -> list[Array]:
    typical = talib.SMA(v, ind.periods[0])
    relative = np.full_like(v, np.nan)
    np.divide(v[1:], typical[:-1], out=relative[1:])
    return [typical, relative]


def _keltner(ind: Indicator, h: Array, lw: Array, c: Array, v: Array) -> list[Array]:
    middle = talib.EMA(c, ind.periods[0])
    band = ind.factors[0] * talib.ATR(h, lw, c, ind.periods[1])
    return [middle, middle + band, middle - band]


def _tsi(ind: Indicator, h: Array, lw: Array, c: Array, v: Array) -> list[Array]:
    long, short = ind.periods
    move = talib.MOM(c, 1)
    smooth = talib.EMA(talib.EMA(move, long), short)
    size = talib.EMA(talib.EMA(np.abs(move), long), short)
    return [100.0 * smooth / size]


def _vwap(ind: Indicator, h: Array, lw: Array, c: Array, v: Array) -> list[Array]:
    (n,) = ind.periods
    return [talib.SUM(talib.TYPPRICE(h, lw, c) * v, n) / talib.SUM(v, n)]


def _directional(ind: Indicator, h: Array, lw: Array, c: Array, v: Array) -> list[Array]:
    n, directional = ind.periods
    if directional:
        return [talib.PLUS_DI(h, lw, c, n), talib.MINUS_DI(h, lw, c, n)]
    return [talib.ADX(h, lw, c, n)]


def _extreme(ind: Indicator, h: Array, lw: Array, c: Array, v: Array) -> list[Array]:
    x = {"high": h, "low": lw, "close": c}[ind.inputs[0]]
    return [talib.MAX(x, ind.periods[0]) if ind.factors[0] > 0 else talib.MIN(x, ind.periods[0])]


TALIB: dict[str, Calls] = {
    "sma": lambda ind, h, lw, c, v: [talib.SMA(c, ind.periods[0])],
    "ema": lambda ind, h, lw, c, v: [talib.EMA(c, ind.periods[0])],
    "macd": lambda ind, h, lw, c, v: talib.MACD(c, *ind.periods),
    "rsi": lambda ind, h, lw, c, v: [talib.RSI(c, ind.periods[0])],
    "atr": lambda ind, h, lw, c, v: [talib.ATR(h, lw, c, ind.periods[0])],
    "bbands": lambda ind, h, lw, c, v: talib.BBANDS(c, ind.periods[0], *ind.factors, 0),
    "roc": lambda ind, h, lw, c, v: [talib.ROCP(c, ind.periods[0])],
    "volatility": lambda ind, h, lw, c, v: [talib.STDDEV(talib.ROCP(c, 1), ind.periods[0], 1.0)],
    "extreme": _extreme,
    "rel_volume": _relative_volume,
    "dmi": _directional,
    "stoch": lambda ind, h, lw, c, v: talib.STOCH(
        h, lw, c, ind.periods[0], ind.periods[1], 0, ind.periods[2], 0
    ),
    "willr": lambda ind, h, lw, c, v: [talib.WILLR(h, lw, c, ind.periods[0])],
    "cci": lambda ind, h, lw, c, v: [talib.CCI(h, lw, c, ind.periods[0])],
    "mfi": lambda ind, h, lw, c, v: [talib.MFI(h, lw, c, v, ind.periods[0])],
    "donchian": lambda ind, h, lw, c, v: [
        talib.MAX(h, ind.periods[0]),
        talib.MIN(lw, ind.periods[0]),
    ],
    "obv": lambda ind, h, lw, c, v: [talib.OBV(c, v)],
    "ad": lambda ind, h, lw, c, v: [talib.AD(h, lw, c, v)],
    "adosc": lambda ind, h, lw, c, v: [talib.ADOSC(h, lw, c, v, *ind.periods)],
    "sar": lambda ind, h, lw, c, v: [talib.SAR(h, lw, *ind.factors)],
    "kama": lambda ind, h, lw, c, v: [talib.KAMA(c, ind.periods[0])],
    "ultosc": lambda ind, h, lw, c, v: [talib.ULTOSC(h, lw, c, *ind.periods)],
    "ppo": lambda ind, h, lw, c, v: [talib.PPO(c, *ind.periods, 1)],
    "stochrsi": lambda ind, h, lw, c, v: talib.STOCHRSI(c, *ind.periods, 0),
    "keltner": _keltner,
    "tsi": _tsi,
    "vwap": _vwap,
}
"""Each family's outputs for one ticker, as a TA-Lib user computes them."""


def talib_loop(
    columns: dict[str, np.ndarray],
    offsets: np.ndarray,
    indicators: Sequence[Indicator] = tuple(INDICATORS.values()),
    *,
    keep: bool = True,
) -> int:
    """The baseline: the same indicators, one TA-Lib call (or composition) each per ticker.

    With ``keep`` the per-ticker results are assembled into universe-wide columns, as the
    kernels deliver them (what the engine needs); without, each result is thrown away as soon
    as it is made, so it never leaves the cache (a lower bound on the loop's cost). Returns the
    number of indicator computations.
    """
    calls = [(TALIB[ind.family], ind) for ind in indicators]
    n_columns = sum(len(ind.outputs) for ind in indicators)
    parts: list[list[np.ndarray]] = []
    for i in range(offsets.size - 1):
        lo, hi = offsets[i], offsets[i + 1]
        h, lw, c, v = (columns[k][lo:hi] for k in ("high", "low", "close", "volume"))
        made = [values for call, ind in calls for values in call(ind, h, lw, c, v)]
        if len(made) != n_columns:
            raise AssertionError(f"the loop made {len(made)} columns, the kernels {n_columns}")
        if keep:
            parts = parts or [[] for _ in made]
            for part, values in zip(parts, made, strict=True):
                part.append(values)
    for part in parts:
        np.concatenate(part)
    return len(calls) * (offsets.size - 1)


Handles = list[Any]
Opens = Callable[[Indicator, Array, Array, Array, Array], Handles]
Steps = Callable[[Indicator, Handles, float, float, float, float], object]


def _close(kind: Callable[..., Any]) -> tuple[Opens, Steps]:
    """A handle on the closes, opened with the indicator's parameters."""
    return (
        lambda ind, h, lw, c, v: [kind(c, *ind.periods, *ind.factors)],
        lambda ind, s, hi, lo, cl, vo: s[0].update(cl),
    )


def _bar(kind: Callable[..., Any], volume: bool = False) -> tuple[Opens, Steps]:
    """A handle on high, low and close (and volume)."""
    if volume:
        return (
            lambda ind, h, lw, c, v: [kind(h, lw, c, v, *ind.periods)],
            lambda ind, s, hi, lo, cl, vo: s[0].update(hi, lo, cl, vo),
        )
    return (
        lambda ind, h, lw, c, v: [kind(h, lw, c, *ind.periods)],
        lambda ind, s, hi, lo, cl, vo: s[0].update(hi, lo, cl),
    )


def _open_tsi(ind: Indicator, h: Array, lw: Array, c: Array, v: Array) -> Handles:
    long, short = ind.periods
    move = talib.MOM(c, 1)
    size = np.abs(move)
    return [
        stream.MOM(c, 1),
        stream.EMA(move, long),
        stream.EMA(talib.EMA(move, long), short),
        stream.EMA(size, long),
        stream.EMA(talib.EMA(size, long), short),
    ]


def _step_tsi(ind: Indicator, s: Handles, hi: float, lo: float, cl: float, vo: float) -> float:
    move = s[0].update(cl)
    smooth = s[2].update(s[1].update(move))
    size = s[4].update(s[3].update(abs(move)))
    return float(100.0 * smooth / size)


def _step_keltner(ind: Indicator, s: Handles, hi: float, lo: float, cl: float, vo: float) -> object:
    middle = s[0].update(cl)
    band = ind.factors[0] * s[1].update(hi, lo, cl)
    return middle, middle + band, middle - band


def _step_vwap(ind: Indicator, s: Handles, hi: float, lo: float, cl: float, vo: float) -> float:
    return float(s[0].update((hi + lo + cl) / 3.0 * vo) / s[1].update(vo))


def _step_rel_volume(
    ind: Indicator, s: Handles, hi: float, lo: float, cl: float, vo: float
) -> object:
    typical = s[0].value
    return s[0].update(vo), vo / typical


def _step_volatility(
    ind: Indicator, s: Handles, hi: float, lo: float, cl: float, vo: float
) -> object:
    return s[1].update(s[0].update(cl))


def _step_directional(
    ind: Indicator, s: Handles, hi: float, lo: float, cl: float, vo: float
) -> object:
    return [handle.update(hi, lo, cl) for handle in s]


def _step_extreme(ind: Indicator, s: Handles, hi: float, lo: float, cl: float, vo: float) -> object:
    return s[0].update({"high": hi, "low": lo, "close": cl}[ind.inputs[0]])


STREAMS: dict[str, tuple[Opens, Steps]] = {
    "sma": _close(stream.SMA),
    "ema": _close(stream.EMA),
    "macd": _close(stream.MACD),
    "rsi": _close(stream.RSI),
    "atr": _bar(stream.ATR),
    "bbands": (
        lambda ind, h, lw, c, v: [stream.BBANDS(c, ind.periods[0], *ind.factors, 0)],
        lambda ind, s, hi, lo, cl, vo: s[0].update(cl),
    ),
    "roc": _close(stream.ROCP),
    "volatility": (
        lambda ind, h, lw, c, v: [
            stream.ROCP(c, 1),
            stream.STDDEV(talib.ROCP(c, 1), ind.periods[0], 1.0),
        ],
        _step_volatility,
    ),
    "extreme": (
        lambda ind, h, lw, c, v: [
            (stream.MAX if ind.factors[0] > 0 else stream.MIN)(
                {"high": h, "low": lw, "close": c}[ind.inputs[0]], ind.periods[0]
            )
        ],
        _step_extreme,
    ),
    "rel_volume": (
        lambda ind, h, lw, c, v: [stream.SMA(v, ind.periods[0])],
        _step_rel_volume,
    ),
    "dmi": (
        lambda ind, h, lw, c, v: (
            [stream.PLUS_DI(h, lw, c, ind.periods[0]), stream.MINUS_DI(h, lw, c, ind.periods[0])]
            if ind.periods[1]
            else [stream.ADX(h, lw, c, ind.periods[0])]
        ),
        _step_directional,
    ),
    "stoch": (
        lambda ind, h, lw, c, v: [
            stream.STOCH(h, lw, c, ind.periods[0], ind.periods[1], 0, ind.periods[2], 0)
        ],
        lambda ind, s, hi, lo, cl, vo: s[0].update(hi, lo, cl),
    ),
    "willr": _bar(stream.WILLR),
    "cci": _bar(stream.CCI),
    "mfi": _bar(stream.MFI, volume=True),
    "donchian": (
        lambda ind, h, lw, c, v: [stream.MAX(h, ind.periods[0]), stream.MIN(lw, ind.periods[0])],
        lambda ind, s, hi, lo, cl, vo: (s[0].update(hi), s[1].update(lo)),
    ),
    "obv": (
        lambda ind, h, lw, c, v: [stream.OBV(c, v)],
        lambda ind, s, hi, lo, cl, vo: s[0].update(cl, vo),
    ),
    "ad": _bar(stream.AD, volume=True),
    "adosc": _bar(stream.ADOSC, volume=True),
    "sar": (
        lambda ind, h, lw, c, v: [stream.SAR(h, lw, *ind.factors)],
        lambda ind, s, hi, lo, cl, vo: s[0].update(hi, lo),
    ),
    "kama": _close(stream.KAMA),
    "ultosc": _bar(stream.ULTOSC),
    "ppo": (
        lambda ind, h, lw, c, v: [stream.PPO(c, *ind.periods, 1)],
        lambda ind, s, hi, lo, cl, vo: s[0].update(cl),
    ),
    "stochrsi": (
        lambda ind, h, lw, c, v: [stream.STOCHRSI(c, *ind.periods, 0)],
        lambda ind, s, hi, lo, cl, vo: s[0].update(cl),
    ),
    "keltner": (
        lambda ind, h, lw, c, v: [
            stream.EMA(c, ind.periods[0]),
            stream.ATR(h, lw, c, ind.periods[1]),
        ],
        _step_keltner,
    ),
    "tsi": (_open_tsi, _step_tsi),
    "vwap": (
        lambda ind, h, lw, c, v: [
            stream.SUM(talib.TYPPRICE(h, lw, c) * v, ind.periods[0]),
            stream.SUM(v, ind.periods[0]),
        ],
        _step_vwap,
    ),
}
"""Each family as TA-Lib 0.8 streaming handles: how to open them on a ticker's history, and
how one closed bar carries them forward (TA-Lib's handles composed where it has no function,
as :data:`TALIB` composes its calls)."""


def talib_streams(
    columns: dict[str, np.ndarray],
    offsets: np.ndarray,
    indicators: Sequence[Indicator] = tuple(INDICATORS.values()),
) -> list[list[Handles]]:
    """The streaming baseline: per ticker, the handles of every indicator of the default set,
    opened on the ticker's history."""
    handles = []
    for i in range(offsets.size - 1):
        lo, hi = offsets[i], offsets[i + 1]
        h, lw, c, v = (columns[k][lo:hi] for k in ("high", "low", "close", "volume"))
        handles.append([STREAMS[ind.family][0](ind, h, lw, c, v) for ind in indicators])
    return handles


def stream_update(
    handles: list[list[Handles]],
    bar: dict[str, np.ndarray],
    indicators: Sequence[Indicator] = tuple(INDICATORS.values()),
) -> int:
    """Every handle of every ticker carried forward by one closed bar, in place."""
    steps = [(STREAMS[ind.family][1], ind) for ind in indicators]
    h, lw, c, v = (bar[k].tolist() for k in ("high", "low", "close", "volume"))
    for i, row in enumerate(handles):
        hi, lo, cl, vo = h[i], lw[i], c[i], v[i]
        for (step, ind), kept in zip(steps, row, strict=True):
            step(ind, kept, hi, lo, cl, vo)
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


SESSIONS: Final = 6
"""Sessions held out of the universe and added one at a time by the daily update."""


def main(n_tickers: int = N_TICKERS, n_days: int = N_DAYS) -> None:
    bars = universe(n_tickers, n_days)
    rows = bars.height
    columns = {c: bars[c].cast(pl.Float64).to_numpy() for c in INPUTS}
    offsets = np.arange(0, rows + 1, n_days, dtype=np.int64)
    n_columns = sum(len(ind.outputs) for ind in INDICATORS.values())
    print(
        f"universe: {n_tickers:,} tickers x {n_days:,} sessions = {rows:,} rows; "
        f"{len(INDICATORS)} indicators, {n_columns} columns"
    )

    kernels(columns, offsets)  # compile outside the timing
    numba_s = best_of(5, lambda: kernels(columns, offsets))
    talib_s = best_of(2, lambda: talib_loop(columns, offsets))
    bare_s = best_of(2, lambda: talib_loop(columns, offsets, keep=False))
    print(f"TA-Lib loop (baseline)           {talib_s:8.3f} s   outputs as universe columns")
    print(f"TA-Lib loop, outputs discarded   {bare_s:8.3f} s   lower bound: outputs stay in cache")
    print(f"numba kernels, whole universe    {numba_s:8.3f} s   {talib_s / numba_s:5.2f}x baseline")
    print(f"                                              {bare_s / numba_s:5.2f}x the lower bound")

    held_out = bars["date"].unique().sort().tail(SESSIONS)
    history = bars.filter(pl.col("date") < held_out[0])
    days = [bars.filter(pl.col("date") == day) for day in held_out]
    compute(history.head(2 * n_days))  # compile the detector kernels outside the timing
    start = time.perf_counter()
    result = compute(history)
    full_s = time.perf_counter() - start
    print(
        f"compute(): frame + events        {full_s:8.3f} s   ({result.events.height:,} events), "
        f"{full_s / numba_s:4.2f}x the kernels alone (target: at most 2x)"
    )
    update(result.state, days[0])  # warm
    state, times = result.state, []
    for today in days:  # session after session, as a running engine advances
        start = time.perf_counter()
        state = update(state, today).state
        times.append(time.perf_counter() - start)
    update_s = min(times)
    print(
        f"daily update, {n_tickers:,} tickers      {update_s * 1000:8.1f} ms   with events, best "
        f"of {SESSIONS} sessions in a row (the first, from a fresh state: {times[0] * 1000:.1f} ms)"
    )
    head = {c: history[c].cast(pl.Float64).to_numpy() for c in INPUTS}
    handles = talib_streams(
        head, np.arange(0, history.height + 1, n_days - SESSIONS, dtype=np.int64)
    )
    streamed = []
    for today in days:  # the same sessions in a row, each handle advanced in place
        bar = {c: today[c].cast(pl.Float64).to_numpy() for c in INPUTS}
        start = time.perf_counter()
        stream_update(handles, bar)
        streamed.append(time.perf_counter() - start)
    stream_s = min(streamed)
    print(
        f"TA-Lib 0.8 stream handles         {stream_s * 1000:8.1f} ms   update takes "
        f"{update_s / stream_s:5.2f}x their time (target: at most 1x; best of the same "
        f"{SESSIONS} sessions, the handles give the same {n_columns} columns and no events)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak resident memory             {peak:8.0f} MiB   {peak * 2**20 / rows:5.0f} bytes"
        " per bar (the whole universe in one frame; `stockbrief compute` streams batches)"
    )
    print(f"load average                     {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
