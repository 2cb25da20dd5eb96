"""Oscillator and volume kernels against a loop of TA-Lib calls, and their cost in compute.

Run: ``python -m benchmarks.oscillators [n_tickers n_days]`` (default 1,000 x 2,520). Prints
the time of the oscillator set (ADX, +DI/-DI, slow stochastics, Williams %R, CCI, MFI, OBV,
SAR, Donchian, A/D, Chaikin oscillator, KAMA, Ultimate Oscillator, PPO, stochastic RSI, TSI,
Keltner channels, rolling VWAP) as kernels over the universe, on every core and on one (the
kernels' 2x comes from running tickers in parallel, so a busy machine shows less), and as one
TA-Lib call per indicator per ticker (target: the kernels at least 2x faster); then the full
kernel pass of the default set and ``compute()`` (indicators, events, state) with and without
them (what a full recompute pays for them).
"""

from __future__ import annotations

import sys

import numba
import numpy as np

from benchmarks.compute import best_of
from benchmarks.compute import talib_loop as compute_talib_loop
from benchmarks.universe import universe
from stockbrief.compute import INPUTS, compute
from stockbrief.kernels import INDICATORS, Indicator, run_many
from stockbrief.oscillators import FAMILY_KERNELS


def oscillators() -> list[Indicator]:
    """The oscillator and volume indicators of the default set."""
    return [ind for ind in INDICATORS.values() if ind.family in FAMILY_KERNELS]


def talib_loop(columns: dict[str, np.ndarray], offsets: np.ndarray) -> None:
    """The baseline: the same outputs, one TA-Lib call (or composition) each per ticker,
    assembled per column."""
    compute_talib_loop(columns, offsets, oscillators())


def main(n_tickers: int = 1_000, n_days: int = 2_520) -> None:
    bars = universe(n_tickers, n_days)
    columns = {c: bars[c].cast(float).to_numpy() for c in INPUTS}
    offsets = np.arange(n_tickers + 1, dtype=np.int64) * n_days
    new = oscillators()
    rest = [ind for ind in INDICATORS.values() if ind not in new]
    run_many(list(INDICATORS.values()), columns, offsets)  # compile or load the kernels

    kernels_s = best_of(3, lambda: run_many(new, columns, offsets))
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    one_thread_s = best_of(3, lambda: run_many(new, columns, offsets))
    numba.set_num_threads(threads)
    talib_s = best_of(3, lambda: talib_loop(columns, offsets))
    without_s = best_of(3, lambda: run_many(rest, columns, offsets))
    with_s = best_of(3, lambda: run_many(list(INDICATORS.values()), columns, offsets))
    defaults = dict(INDICATORS)
    previous = {ind.name: ind for ind in rest}
    compute(bars, previous)
    compute_without_s = best_of(2, lambda: compute(bars, previous))
    compute_with_s = best_of(2, lambda: compute(bars, defaults))
    outputs = sum(len(ind.outputs) for ind in new)
    print(f"universe: {n_tickers:,} tickers x {n_days:,} sessions; {outputs} oscillator columns")
    print(f"oscillators, kernels:      {kernels_s:7.3f} s  ({threads} threads)")
    print(f"oscillators, one thread:   {one_thread_s:7.3f} s  (the work per core)")
    print(f"oscillators, TA-Lib loop:  {talib_s:7.3f} s  ({talib_s / kernels_s:.1f}x the kernels)")
    print(f"default set without them:  {without_s:7.3f} s")
    print(f"default set with them:     {with_s:7.3f} s  (+{with_s / without_s - 1:.0%})")
    print(f"compute() without them:    {compute_without_s:7.3f} s")
    print(
        f"compute() with them:       {compute_with_s:7.3f} s"
        f"  (+{compute_with_s / compute_without_s - 1:.0%})"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
