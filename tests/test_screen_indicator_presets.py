"""The indicator presets (ADX, stochastics, parabolic SAR, Donchian) on real Yahoo bars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import shared_path
from stockbrief import Store, api

LAST = dt.date(2026, 1, 30)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    files = sorted(shared_path("yahoo-30").glob("*.csv"))
    path: Path = tmp_path_factory.mktemp("presets") / "yahoo30.duckdb"
    with Store(path) as db:
        api.ingest("prices", files, store=db, end=LAST)
        yield db


def matches(store: Store, preset: str, day: dt.date) -> dict[str, dict[str, float]]:
    result = api.screen(preset, as_of=day, store=store)
    return {row["ticker"]: row for row in result.to_dicts()}


def test_sar_flip_up_finds_baba_on_the_first_session_of_2026(store: Store) -> None:
    found = matches(store, "sar-flip-up", dt.date(2026, 1, 2))
    assert sorted(found) == ["0700.HK", "AAPL", "BABA", "BILI", "JD", "WDC"]
    assert found["BABA"]["sar"] == pytest.approx(145.64, abs=0.005)
    assert found["BABA"]["close"] == pytest.approx(155.74, abs=0.005)
    assert "BABA" not in matches(store, "sar-flip-up", dt.date(2026, 1, 5))  # a flip, not a state


def test_adx_trend_start_needs_the_crossing_and_plus_di_above_minus_di(store: Store) -> None:
    found = matches(store, "adx-trend", dt.date(2026, 1, 12))
    assert "GOOGL" in found
    googl = found["GOOGL"]
    assert googl["adx_14"] == pytest.approx(26.20, abs=0.005)
    assert googl["plus_di_14"] == pytest.approx(29.06, abs=0.005)
    assert googl["minus_di_14"] == pytest.approx(11.83, abs=0.005)
    assert "META" in matches(store, "adx-trend", dt.date(2025, 12, 15))


def test_stochastic_cross_up_in_the_oversold_zone(store: Store) -> None:
    found = matches(store, "stoch-oversold-cross", dt.date(2026, 1, 9))
    assert sorted(found) == ["AAPL", "TSLA"]
    assert found["AAPL"]["stoch_k_14"] == pytest.approx(11.52, abs=0.005)
    assert found["AAPL"]["stoch_d_14"] == pytest.approx(7.38, abs=0.005)
    # BABA's %K crossed above its %D on 2 January with %D at 18.58 but %K at 29.10: not both
    # below 20, so neither the preset nor the stoch_oversold_cross event.
    assert "BABA" not in matches(store, "stoch-oversold-cross", dt.date(2026, 1, 2))
    on_the_day = api.events(
        ["BABA"], since=dt.date(2026, 1, 2), as_of=dt.date(2026, 1, 2), store=store
    )
    assert "stoch_oversold_cross" not in on_the_day["kind"].to_list()
    assert "sar_flip_up" in on_the_day["kind"].to_list()


def test_donchian_breakout_closes_above_the_previous_20_day_high(store: Store) -> None:
    found = matches(store, "donchian-breakout", dt.date(2026, 1, 2))
    assert sorted(found) == ["BIDU", "BILI", "MU"]
    assert found["BIDU"]["close"] == pytest.approx(150.30, abs=0.005)
