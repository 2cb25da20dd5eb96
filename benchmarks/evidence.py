"""Event-study speed: a full study of one event kind over the synthetic universe.

Run: ``python -m benchmarks.evidence`` (add ``--sample-only`` to skip the ~20 s ``compute`` and
study only a random 2% of rows; ``--tickers 300`` times a smaller universe, with the time per
occurrence and per verdict to compare scales). On 5,000 tickers x 2,520 sessions, a study of one
event kind over horizons 5, 20 and 60 with 1,000 bootstrap resamples must take under 5 s (the
target this benchmark is measured against), with the i.i.d. and date-cluster intervals; larger
kinds and the 2% sample are timed for scale. The same study with a benchmark (market-model abnormal
returns and their tests) and a strategy backtest of the kind are timed beside it (target: under 5 s
each), and the walk-forward calibration of every setup a brief leads with, which replays every
session of every ticker (about 7 million verdicts; target: under 10 s).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Final, TypeVar

import polars as pl

from benchmarks.universe import universe
from stockbrief.api import SETUP_PRIORITY
from stockbrief.compute import compute
from stockbrief.evidence import StudyResult, average_path, study
from stockbrief.evidence.calibration import calibrate
from stockbrief.evidence.strategy import backtest

N_TICKERS, N_DAYS = 5_000, 2_520
TARGET_S: Final = 5.0
CALIBRATION_TARGET_S: Final = 10.0
KINDS: Final = ("golden_cross", "breakout_confirmed_sma_50", "cross_above_sma_50")
"""The target kind first (a typical verdict setup), then larger ones."""

T = TypeVar("T")


def timed(func: Callable[[], T], repeats: int = 3) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def report(
    name: str, occurrences: pl.DataFrame, seconds: float, result: StudyResult, full: bool
) -> None:
    counted = "/".join(f"{n:,}" for n in result.table["n"])
    verdict = ("ok" if seconds < TARGET_S else "OVER TARGET") if full else "smaller universe"
    each = seconds / max(occurrences.height, 1) * 1e6
    print(
        f"{name:<28} {occurrences.height:>9,} occurrences, counted {counted:<24}"
        f"{seconds:7.3f} s  {each:8.1f} us each  ({verdict}, target < {TARGET_S:g} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample-only", action="store_true", help="skip compute()")
    parser.add_argument("--tickers", type=int, default=N_TICKERS, help="universe size")
    parser.add_argument("--days", type=int, default=N_DAYS, help="sessions per ticker")
    args = parser.parse_args()
    full = args.tickers >= N_TICKERS and args.days >= N_DAYS

    bars = universe(args.tickers, args.days)
    prices = bars.select("ticker", "date", "close")
    print(f"universe: {args.tickers:,} tickers x {args.days:,} sessions = {bars.height:,} rows")
    print("study: horizons 5, 20, 60; 1,000 resamples; overlap skip; best of 3")

    sample = prices.sample(fraction=0.02, seed=1).select("ticker", "date")
    study(prices, sample.head(1000))  # first-call imports outside the timing
    if not args.sample_only:
        start = time.perf_counter()
        events = compute(bars).events
        print(f"compute() for the events (not timed below) {time.perf_counter() - start:7.1f} s")
        for kind in KINDS:
            rows = events.filter(pl.col("kind") == kind)
            seconds, result = timed(lambda rows=rows: study(prices, rows))
            report(kind, rows, seconds, result, full)
        rows = events.filter(pl.col("kind") == KINDS[0])
        # The first ticker stands in for an index: the market model regresses on it.
        first = prices["ticker"][0]
        index = prices.filter(pl.col("ticker") == first).select("date", "close")
        seconds, result = timed(lambda: study(prices, rows, benchmark=index))
        report(f"{KINDS[0]} + market model", rows, seconds, result, full)
        start = time.perf_counter()
        backtest(bars, rows, hold=20, cost_bp=5)
        seconds = time.perf_counter() - start
        verdict = ("ok" if seconds < TARGET_S else "OVER TARGET") if full else "smaller universe"
        print(f"{'strategy backtest':<28} {seconds:7.3f} s  ({verdict}, target < {TARGET_S:g} s)")
        seconds, replayed = timed(lambda: calibrate(prices, events, SETUP_PRIORITY))
        n = replayed.verdicts.height
        ok = seconds < CALIBRATION_TARGET_S
        verdict = ("ok" if ok else "OVER TARGET") if full else "smaller universe"
        print(
            f"{'calibration (walk-forward)':<28} {n:>9,} verdicts {seconds:7.3f} s  "
            f"{seconds / max(n, 1) * 1e6:6.2f} us each  ({verdict}, target < "
            f"{CALIBRATION_TARGET_S:g} s)"
        )
    seconds, result = timed(lambda: study(prices, sample))
    report("random 2% of rows", sample, seconds, result, full)
    start = time.perf_counter()
    average_path(result, 60)
    print(f"average_path(result, 60)     {time.perf_counter() - start:7.3f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory         {peak:7.0f} MiB")


if __name__ == "__main__":
    main()
