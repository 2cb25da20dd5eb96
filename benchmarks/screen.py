"""Screen speed: one session of a computed universe, screened in one pass.

Run: ``python -m benchmarks.screen``. On a synthetic universe of 5,000 tickers x 260 sessions,
computed once (indicators and events), times :func:`stockbrief.screening.run` of typical screens
over the latest session (target: under 50 ms each). The baseline is the naive evaluation of the same
screen over every row of the universe (:func:`stockbrief.screening.mask`) before keeping the last
session, which is what a screen would cost without the lookback-bounded window.
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
import time
from collections.abc import Callable

import polars as pl

from benchmarks.universe import universe
from stockbrief.compute import compute
from stockbrief.screening import PRESETS, Screen, mask, parse, run

N_TICKERS, N_DAYS = 5_000, 260
TARGET_MS = 50.0

SCREENS = {
    "typical": "close > sma_200 and crossed_above(sma_200) and rel_volume >= 2",
    "breakouts (preset)": PRESETS["breakouts"][0],
    "with event()": "not event(gap_up) and pct(close, sma_50) > 3% and rsi_14 < 70",
    "no lookback": "rsi_14 < 30 or (close < low_52w * 1.05)",
    "lookback 3": "prev(prev(prev(close))) < close and crossed_above(sma_50, sma_200)",
}


def timings(repeats: int, func: Callable[[], object]) -> list[float]:
    """Wall-clock seconds of each of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def whole_frame(
    screen: Screen, frame: pl.DataFrame, events: pl.DataFrame, session: dt.date
) -> pl.DataFrame:
    """The baseline: the screen over every row, then the rows of the session."""
    return frame.filter(mask(screen, frame, events) & (pl.col("date") == session))


def main() -> None:
    start = time.perf_counter()
    computed = compute(universe(N_TICKERS, N_DAYS))
    frame, events = computed.frame, computed.events
    print(
        f"universe: {N_TICKERS:,} tickers x {N_DAYS} sessions = {frame.height:,} rows, "
        f"{events.height:,} events (computed in {time.perf_counter() - start:.1f} s)"
    )
    last = frame.select(pl.col("date").max()).item()
    print(f"{'screen':<22}{'best':>9}{'median':>9}{'whole-frame':>13}{'matches':>9}")
    worst = 0.0
    for label, expression in SCREENS.items():
        screen = parse(expression)
        result = run(screen, frame, events)  # warm up
        times = timings(20, functools.partial(run, screen, frame, events))
        naive = min(timings(3, functools.partial(whole_frame, screen, frame, events, last)))
        best, median = min(times) * 1000, statistics.median(times) * 1000
        worst = max(worst, median)
        print(f"{label:<22}{best:7.1f}ms{median:7.1f}ms{naive * 1000:11.1f}ms{result.height:>9,}")
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"slowest median {worst:.1f} ms: target under {TARGET_MS:.0f} ms {verdict}")


if __name__ == "__main__":
    main()
