"""The universe engine: reference values, no look-ahead, and incremental == full."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import load_yahoo
from stockbrief import detectors as ev
from stockbrief.compute import EngineState, compute, update
from stockbrief.errors import InputError


@pytest.fixture(scope="module")
def universe(request: pytest.FixtureRequest) -> pl.DataFrame:
    from conftest import shared_path

    return load_yahoo(shared_path("yahoo-30"))


def test_baba_moving_averages_and_volume_on_2_january_2026(universe: pl.DataFrame) -> None:
    day = dt.date(2026, 1, 2)
    result = compute(universe.filter(pl.col("date") <= day))
    row = result.frame.filter(pl.col("ticker") == "BABA", pl.col("date") == day).row(0, named=True)
    baba = universe.filter(pl.col("ticker") == "BABA", pl.col("date") <= day)
    close = baba["close"].to_numpy()
    volume = baba["volume"].cast(pl.Float64).to_numpy()
    assert row["close"] == pytest.approx(155.74, abs=0.005)
    assert row["sma_50"] == pytest.approx(close[-50:].mean(), rel=1e-12)
    assert row["sma_200"] == pytest.approx(talib.SMA(close, 200)[-1], rel=1e-12)
    assert row["typical_volume_50"] == pytest.approx(volume[-51:-1].mean(), rel=1e-12)
    assert row["rel_volume"] == pytest.approx(15_778_300 / volume[-51:-1].mean(), rel=1e-12)
    # What the data say, against the seed note: below the 50-day, well above the 200-day.
    assert row["sma_50"] == pytest.approx(159.36, abs=0.01)
    assert row["sma_200"] == pytest.approx(137.00, abs=0.01)
    baba_events = result.events.filter(pl.col("ticker") == "BABA", pl.col("date") == day)
    assert baba_events["kind"].to_list() == ["gap_up", "large_move_up", "sar_flip_up"]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(0, 1300))
def test_as_of_results_do_not_change_when_later_data_arrive(
    universe: pl.DataFrame, cut: int
) -> None:
    dates = universe["date"].unique().sort()
    day = dates[cut]
    full = compute(universe)
    truncated = compute(universe.filter(pl.col("date") <= day))
    assert truncated.frame.equals(full.frame.filter(pl.col("date") <= day))
    assert truncated.events.equals(full.events.filter(pl.col("date") <= day))


def synthetic(n_tickers: int, n_days: int, seed: int) -> pl.DataFrame:
    """Random walks on weekdays, with holes: late listings and missing sessions."""
    rng = np.random.default_rng(seed)
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(n_days)]
    rows = []
    for t in range(n_tickers):
        start = int(rng.integers(0, n_days // 2)) if t % 3 == 0 else 0
        close = 20 * np.exp(np.cumsum(rng.normal(0, 0.03, n_days)))
        for i in range(start, n_days):
            if rng.random() < 0.03:
                continue
            c = float(close[i])
            o = c * float(np.exp(rng.normal(0, 0.02)))
            rows.append(
                (
                    f"T{t}",
                    days[i],
                    o,
                    max(o, c) * 1.01,
                    min(o, c) * 0.99,
                    c,
                    int(rng.integers(1, 10**6)),
                )
            )
    return pl.DataFrame(
        rows, schema=["ticker", "date", "open", "high", "low", "close", "volume"], orient="row"
    )


def test_daily_update_equals_full_recompute() -> None:
    bars = synthetic(12, 420, seed=3)
    full = compute(bars)
    dates = bars["date"].unique().sort()
    cut = dates[300]
    head = compute(bars.filter(pl.col("date") <= cut))
    state = EngineState.from_frames(head.state.to_frames())  # through its stored form
    frames, found = [head.frame], [head.events]
    for day in dates.filter(dates > cut).to_list():
        step = update(state, bars.filter(pl.col("date") == day))
        state = step.state
        frames.append(step.frame)
        found.append(step.events)
    assert pl.concat(frames).sort("ticker", "date").equals(full.frame)
    assert pl.concat(found).sort("ticker", "date", "kind").equals(full.events)
    assert not full.events.is_empty()


def test_an_evening_state_extends_the_same_way_twice() -> None:
    """An update writes nothing into the state it starts from: a second run from the same
    evening (a retried daily job) gives the same rows and events as the first."""
    bars = synthetic(8, 330, seed=7)
    last = bars["date"].max()
    evening = compute(bars.filter(pl.col("date") < last)).state
    kept = {name: array.copy() for name, array in evening.kernels.items()}
    history = {c: array.copy() for c, array in evening.history.items()}
    recent = evening.recent.take(np.arange(len(evening.tickers)))
    today = bars.filter(pl.col("date") == last)
    first, second = update(evening, today), update(evening, today)
    assert all(np.array_equal(evening.kernels[n], a, equal_nan=True) for n, a in kept.items())
    assert all(np.array_equal(evening.history[c], a, equal_nan=True) for c, a in history.items())
    assert evening.recent.equals(recent)
    assert first.frame.equals(second.frame)
    assert first.events.equals(second.events)
    assert first.frame.equals(compute(bars).frame.filter(pl.col("date") == last))


def test_the_recent_rows_are_the_last_rows_of_a_full_frame_and_load_from_either_layout() -> None:
    """Screens of the latest session read the state's recent rows in place of the full frame:
    the same last rows, nulls and integer volume included, from blocks or rows as saved."""
    bars = synthetic(6, 260, seed=3)
    young = bars["ticker"][0]  # listed ten sessions ago
    bars = pl.concat(
        [bars.filter(pl.col("ticker") == young).tail(10), bars.filter(pl.col("ticker") != young)]
    )
    full = compute(bars)
    want = full.frame.group_by("ticker", maintain_order=True).tail(ev.LOOKBACK)
    assert full.state.recent.kept.tolist()[:2] == [10, ev.LOOKBACK]  # a short history keeps all
    assert full.state.recent_rows().equals(want)
    saved = full.state.to_frames()
    as_rows = {**saved, "recent": want}  # the layout states were saved in before blocks
    for frames in (saved, as_rows):
        loaded = EngineState.from_frames(frames)
        assert loaded.recent.equals(full.state.recent)


def test_update_with_several_sessions_and_a_new_listing() -> None:
    bars = synthetic(6, 320, seed=5)
    full = compute(bars)
    early = bars.filter(pl.col("date") <= dt.date(2020, 8, 1), pl.col("ticker") != "T5")
    step = update(compute(early).state, bars.join(early, on=["ticker", "date"], how="anti"))
    assert step.frame.sort("ticker", "date").equals(
        full.frame.join(early.select("ticker", "date"), on=["ticker", "date"], how="anti")
    )


def test_update_refuses_a_session_already_computed() -> None:
    bars = synthetic(2, 60, seed=1)
    state = compute(bars).state
    with pytest.raises(InputError, match="not after the last computed session"):
        update(state, bars.tail(1))
