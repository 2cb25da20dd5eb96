"""Event detectors: each fires on its side of its threshold and not on the other."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from stockbrief import events as ev
from stockbrief.events import CONFIRM, THRESHOLDS, detect

START = dt.date(2024, 1, 1)


def frame(**columns: list[float | None]) -> pl.DataFrame:
    """One ticker, consecutive dates; every indicator column not given is null."""
    n = len(next(iter(columns.values())))
    base: dict[str, object] = {
        "ticker": ["T"] * n,
        "date": [START + dt.timedelta(days=i) for i in range(n)],
    }
    names = [
        "open",
        "high",
        "low",
        "close",
        "volume",
        "sma_50",
        "sma_200",
        "rel_volume",
        "typical_volume_50",
        "return_1d",
        "volatility_60",
        "high_52w",
        "low_52w",
    ]
    for name in names:
        base[name] = columns.get(name, [None] * n)
    return pl.DataFrame(base, schema_overrides=dict.fromkeys(names, pl.Float64))


def kinds(found: pl.DataFrame) -> list[tuple[int, str]]:
    return [((d - START).days, k) for d, k in found.select("date", "kind").iter_rows()]


def test_cross_above_confirmed_breakout() -> None:
    close = [99.0, 101.0, 102.0, 103.0, 104.0]
    found = detect(
        frame(close=close, sma_200=[100.0] * 5),
        {k: v for k, v in ev.EVENT_KINDS.items() if k.endswith("sma_200")},
    )
    assert kinds(found) == [(1, "cross_above_sma_200"), (CONFIRM, "breakout_confirmed_sma_200")]
    cross = found.row(0, named=True)
    assert cross["value"] == pytest.approx(0.01)
    assert json.loads(cross["detail"]) == {"level": 100.0, "close": 101.0, "window": 200}


def test_failed_breakout_names_the_sessions_it_held() -> None:
    close = [99.0, 101.0, 102.0, 99.5, 98.0]
    only = {k: v for k, v in ev.EVENT_KINDS.items() if k.endswith("sma_50")}
    found = detect(frame(close=close, sma_50=[100.0] * 5), only)
    assert kinds(found) == [
        (1, "cross_above_sma_50"),
        (3, "breakout_failed_sma_50"),
        (3, "cross_below_sma_50"),
    ]
    failed = found.filter(pl.col("kind") == "breakout_failed_sma_50").row(0, named=True)
    assert json.loads(failed["detail"])["sessions_held"] == 2
    assert failed["value"] == pytest.approx(-0.005)


def test_no_cross_without_the_average_the_day_before() -> None:
    found = detect(frame(close=[101.0, 102.0], sma_50=[None, 100.0]))
    assert found.is_empty()


def test_golden_and_death_cross() -> None:
    found = detect(
        frame(close=[1.0] * 4, sma_50=[99.0, 101.0, 101.0, 99.0], sma_200=[100.0] * 4),
        {k: ev.EVENT_KINDS[k] for k in ("golden_cross", "death_cross")},
    )
    assert kinds(found) == [(1, "golden_cross"), (3, "death_cross")]


def test_volume_surge_threshold_on_each_side() -> None:
    at = THRESHOLDS["volume_surge_rel_volume"].value
    found = detect(
        frame(rel_volume=[at - 1e-9, at, at * 1.5], volume=[1.0] * 3, typical_volume_50=[1.0] * 3),
        {"volume_surge": ev.EVENT_KINDS["volume_surge"]},
    )
    assert kinds(found) == [(1, "volume_surge"), (2, "volume_surge")]


def test_large_move_uses_the_volatility_before_the_day() -> None:
    k = THRESHOLDS["large_move_sigma"].value
    vol = 0.02
    found = detect(
        frame(
            return_1d=[0.0, k * vol * 0.999, k * vol, -k * vol],
            volatility_60=[vol, vol, vol, 1.0],
        ),
        {n: ev.EVENT_KINDS[n] for n in ("large_move_up", "large_move_down")},
    )
    assert kinds(found) == [(2, "large_move_up"), (3, "large_move_down")]


def test_gap_needs_a_true_gap_of_the_minimum_size() -> None:
    gap = THRESHOLDS["gap_min"].value
    found = detect(
        frame(
            open=[100.0, 100.0 * (1 + gap) - 1e-6, 100.0 * (1 + gap), 99.5, 100.0 * (1 - gap)],
            high=[100.0, 100.5, 101.0, 101.0, 100.0],
            low=[100.0, 100.0, 99.0, 99.5, 98.0],
            close=[100.0, 100.0, 100.0, 100.0, 100.0],
        ),
        {n: ev.EVENT_KINDS[n] for n in ("gap_up", "gap_down")},
    )
    # Day 1 opens just under 1% up (too small); day 2 opens 1% up, above the 100.5 high;
    # day 3 opens inside the previous range; day 4 opens 1% down, below the 99.5 low.
    assert kinds(found) == [(2, "gap_up"), (4, "gap_down")]


def test_new_52_week_high_compares_with_the_previous_window() -> None:
    found = detect(
        frame(
            high=[10.0, 12.0, 12.0],
            low=[9.0, 9.0, 8.0],
            high_52w=[10.0, 12.0, 12.0],
            low_52w=[9.0, 9.0, 8.0],
        ),
        {n: ev.EVENT_KINDS[n] for n in ("new_52w_high", "new_52w_low")},
    )
    assert kinds(found) == [(1, "new_52w_high"), (2, "new_52w_low")]


def test_tickers_do_not_leak_into_each_other() -> None:
    a = frame(close=[99.0, 99.0], sma_50=[100.0, 100.0])
    b = frame(close=[101.0, 101.0], sma_50=[100.0, 100.0]).with_columns(pl.lit("U").alias("ticker"))
    assert detect(pl.concat([a, b])).is_empty()


def test_every_kind_has_a_meaning_and_every_threshold_is_used() -> None:
    assert all(k.meaning for k in ev.EVENT_KINDS.values())
    assert set(THRESHOLDS) == {
        "breakout_confirm_sessions",
        "volume_surge_rel_volume",
        "large_move_sigma",
        "gap_min",
    }


def test_each_event_records_the_parameters_it_was_detected_with() -> None:
    surge = THRESHOLDS["volume_surge_rel_volume"].value
    found = detect(frame(rel_volume=[1.0, surge], volume=[1.0, 2.0], typical_volume_50=[1.0, 1.0]))
    detail = json.loads(found.filter(pl.col("kind") == "volume_surge")["detail"][0])
    assert detail == {"volume": 2.0, "typical_volume": 1.0, "min_rel_volume": surge, "window": 50}
    assert all(kind.params for kind in ev.EVENT_KINDS.values())
