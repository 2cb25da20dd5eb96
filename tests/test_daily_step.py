"""The daily update's array step: the same numbers and events as the kernels, without them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from helpers import load_yahoo
from stockbrief import compute as engine
from stockbrief.compute import EngineState, compute, update


def _day_by_day(bars: pl.DataFrame, sessions: int) -> tuple[engine.Computed, list[engine.Computed]]:
    """A full compute over all bars, and the last ``sessions`` dates added one at a time to a
    compute of the rest (through the state's stored form, as the store keeps it)."""
    dates = bars["date"].unique().sort()
    cut = dates[-sessions - 1]
    state = EngineState.from_frames(compute(bars.filter(pl.col("date") <= cut)).state.to_frames())
    steps = []
    for day in dates.filter(dates > cut).to_list():
        step = update(state, bars.filter(pl.col("date") == day))
        state = step.state
        steps.append(step)
    return compute(bars), steps


def _assert_same(full: engine.Computed, steps: list[engine.Computed], since: dt.date) -> None:
    later = full.frame.filter(pl.col("date") > since)
    assert pl.concat([s.frame for s in steps]).sort("ticker", "date").equals(later)
    events = full.events.filter(pl.col("date") > since)
    assert pl.concat([s.events for s in steps]).sort("ticker", "date", "kind").equals(events)
    last = steps[-1].state
    for name, kernel in full.state.kernels.items():
        assert np.array_equal(last.kernels[name], kernel, equal_nan=True), name
    for column, history in full.state.history.items():
        assert np.array_equal(last.history[column], history, equal_nan=True), column
    assert last.recent.equals(full.state.recent)


def test_eighty_real_sessions_one_at_a_time_equal_a_full_compute(yahoo30: Path) -> None:
    # Thirty real tickers on three exchanges' calendars: on many dates some have no bar.
    bars = load_yahoo(yahoo30)
    full, steps = _day_by_day(bars, 80)
    since = bars["date"].unique().sort()[-81]
    _assert_same(full, steps, since)
    assert sum(s.events.height for s in steps) > 80
    # BABA's numbers on 2 January 2026, as a reader checks them, came from the daily step.
    baba = pl.concat([s.frame for s in steps]).filter(
        pl.col("ticker") == "BABA", pl.col("date") == dt.date(2026, 1, 2)
    )
    assert baba["sma_50"].item() == pytest.approx(159.36, abs=0.005)
    assert baba["sma_200"].item() == pytest.approx(137.00, abs=0.005)  # unadjusted closes
    assert baba["rel_volume"].item() == pytest.approx(1.4, abs=0.05)


def test_a_warm_universe_updates_without_the_kernels(
    yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars = load_yahoo(yahoo30).filter(pl.col("ticker").is_in(["AAPL", "MSFT", "NVDA", "SPY"]))
    last = bars["date"].max()
    state = compute(bars.filter(pl.col("date") < last)).state
    expected = compute(bars)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the kernels ran for a warm ticker's one new session")

    monkeypatch.setattr(engine, "run_many", refuse)
    monkeypatch.setattr(engine.ev, "detect", refuse)
    step = update(state, bars.filter(pl.col("date") == last))
    assert step.frame.equals(expected.frame.filter(pl.col("date") == last))
    assert step.events.equals(expected.events.filter(pl.col("date") == last))


def _odd_universe() -> pl.DataFrame:
    """Tickers the steady step must hand back or get exactly right: flat closes (a zero
    volatility, so a move is 0/0), volume of 0 and missing volume (an index), a late listing,
    a zero close, and an ordinary random walk."""
    rng = np.random.default_rng(11)
    days = [dt.date(2021, 1, 4) + dt.timedelta(days=i) for i in range(330)]
    frames = []
    for ticker in ("FLAT", "NOVOL", "INDEX", "YOUNG", "ZERO", "WALK"):
        close = 30 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))
        volume: list[int | None] = [int(v) for v in rng.integers(1_000, 90_000, len(days))]
        if ticker == "FLAT":
            close[200:] = close[200]
        if ticker == "NOVOL":
            volume = [0 if i > 250 else v for i, v in enumerate(volume)]
        if ticker == "INDEX":
            volume = [None] * len(days)
        if ticker == "ZERO":
            close[300] = 0.0
        start = 120 if ticker == "YOUNG" else 0
        frames.append(
            pl.DataFrame(
                {
                    "ticker": ticker,
                    "date": days[start:],
                    "open": close[start:] * 1.001,
                    "high": close[start:] * 1.01,
                    "low": close[start:] * 0.99,
                    "close": close[start:],
                    "volume": volume[start:],
                },
                schema_overrides={"volume": pl.Int64},
            )
        )
    return pl.concat(frames).sort("ticker", "date")


def test_flat_prices_zero_and_missing_volume_equal_a_full_compute() -> None:
    bars = _odd_universe()
    full, steps = _day_by_day(bars, 60)
    _assert_same(full, steps, bars["date"].unique().sort()[-61])
