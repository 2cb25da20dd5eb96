"""Events over ADX, the stochastics, the parabolic SAR, OBV and the Donchian channel, on real
Yahoo bars: the days they fire with the numbers a chart shows, the screen presets that mean the
same, their sentences in both languages, and the daily step that finds them as a full run does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import polars as pl
import pytest

from helpers import load_yahoo
from stockbrief import detectors as ev
from stockbrief.compute import Computed, compute, update
from stockbrief.notes import narrative
from stockbrief.recent import Recent
from stockbrief.screening import PRESETS, mask

NEW_KINDS = (
    "adx_trend_start",
    "stoch_oversold_cross",
    "stoch_overbought_cross",
    "sar_flip_up",
    "sar_flip_down",
    "obv_divergence_bull",
    "obv_divergence_bear",
    "donchian_breakout_up",
    "donchian_breakout_down",
)


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    from conftest import shared_path

    return load_yahoo(shared_path("yahoo-30"))


@pytest.fixture(scope="module")
def computed(bars: pl.DataFrame) -> Computed:
    return compute(bars)


def event(computed: Computed, ticker: str, day: str, kind: str) -> dict[str, object]:
    found = ev.with_detail(computed.events).filter(
        pl.col("ticker") == ticker,
        pl.col("date") == dt.date.fromisoformat(day),
        pl.col("kind") == kind,
    )
    assert found.height == 1, (ticker, day, kind)
    row = found.row(0, named=True)
    row["detail"] = json.loads(row["detail"])
    return row


def day_row(computed: Computed, ticker: str, day: str) -> dict[str, float]:
    frame = computed.frame.filter(pl.col("ticker") == ticker)
    at = frame["date"].to_list().index(dt.date.fromisoformat(day))
    today, before = frame.row(at, named=True), frame.row(at - 1, named=True)
    return {**today, **{f"prev_{k}": v for k, v in before.items()}}


def test_every_new_kind_fires_on_real_bars(computed: Computed) -> None:
    counts = dict(computed.events.group_by("kind").len().iter_rows())
    assert all(counts.get(kind, 0) > 0 for kind in NEW_KINDS)


def test_baba_adx_trend_start_on_23_january_2026_is_upward(computed: Computed) -> None:
    found = event(computed, "BABA", "2026-01-23", "adx_trend_start")
    row = day_row(computed, "BABA", "2026-01-23")
    assert found["value"] == pytest.approx(25.54, abs=0.005)
    assert row["prev_adx_14"] <= 25 < row["adx_14"]
    assert found["level"] == 25
    assert found["observed"] == pytest.approx(row["plus_di_14"] - row["minus_di_14"])
    assert found["observed"] == pytest.approx(22.11, abs=0.005)  # +DI leads: an uptrend
    assert found["detail"] == {
        "di_spread": found["observed"],
        "window": 14,
        "level": 25,
    }
    down = event(computed, "AAPL", "2026-01-20", "adx_trend_start")
    assert down["observed"] == pytest.approx(-28.27, abs=0.005)  # -DI leads: a downtrend


def test_aapl_stochastic_cross_up_below_20_on_9_january_2026(computed: Computed) -> None:
    found = event(computed, "AAPL", "2026-01-09", "stoch_oversold_cross")
    row = day_row(computed, "AAPL", "2026-01-09")
    assert found["observed"] == pytest.approx(11.52, abs=0.005)  # %K
    assert found["level"] == pytest.approx(7.38, abs=0.005)  # %D
    assert row["prev_stoch_k_14"] <= row["prev_stoch_d_14"]
    assert found["value"] == pytest.approx(row["stoch_k_14"] - row["stoch_d_14"])


def test_aapl_stochastic_cross_down_above_80_on_7_october_2025(computed: Computed) -> None:
    found = event(computed, "AAPL", "2025-10-07", "stoch_overbought_cross")
    row = day_row(computed, "AAPL", "2025-10-07")
    assert (found["observed"], found["level"]) == (
        pytest.approx(90.39, abs=0.005),
        pytest.approx(91.56, abs=0.005),
    )
    assert row["prev_stoch_k_14"] >= row["prev_stoch_d_14"]


def test_aapl_parabolic_sar_flips_in_october_2025(computed: Computed) -> None:
    up = event(computed, "AAPL", "2025-10-20", "sar_flip_up")
    row = day_row(computed, "AAPL", "2025-10-20")
    assert up["level"] == pytest.approx(243.54, abs=0.005)
    assert up["observed"] == pytest.approx(261.74, abs=0.005)
    assert row["prev_sar"] >= row["prev_close"]
    down = event(computed, "AAPL", "2025-10-10", "sar_flip_down")
    assert down["level"] == pytest.approx(258.75, abs=0.005)
    assert down["observed"] == pytest.approx(244.80, abs=0.005)
    assert down["value"] == pytest.approx(244.803406 / 258.746825 - 1, abs=1e-6)


def test_baba_sar_flip_up_on_2_january_2026_is_the_preset_day(computed: Computed) -> None:
    found = event(computed, "BABA", "2026-01-02", "sar_flip_up")
    assert found["level"] == pytest.approx(145.64, abs=0.005)
    assert found["observed"] == pytest.approx(155.74, abs=0.005)


def test_aapl_bullish_obv_divergence_on_5_january_2026(computed: Computed) -> None:
    found = event(computed, "AAPL", "2026-01-05", "obv_divergence_bull")
    frame = computed.frame.filter(pl.col("ticker") == "AAPL")
    at = frame["date"].to_list().index(dt.date(2026, 1, 5))
    window = frame.slice(at - ev.DIVERGENCE, ev.DIVERGENCE)
    today = frame.row(at, named=True)
    assert found["level"] == pytest.approx(270.72, abs=0.005)
    assert found["level"] == window["close"].min()
    assert found["observed"] == pytest.approx(267.01, abs=0.005)
    assert today["close"] < window["close"].min()  # a new 20-session closing low ...
    assert today["obv"] > window["obv"].min()  # ... that OBV does not confirm


def test_a_bearish_obv_divergence_is_a_closing_high_obv_does_not_reach(
    computed: Computed,
) -> None:
    found = event(computed, "AAPL", "2025-11-11", "obv_divergence_bear")
    frame = computed.frame.filter(pl.col("ticker") == "AAPL")
    at = frame["date"].to_list().index(dt.date(2025, 11, 11))
    window = frame.slice(at - ev.DIVERGENCE, ev.DIVERGENCE)
    today = frame.row(at, named=True)
    assert found["level"] == pytest.approx(270.88, abs=0.005)
    assert today["close"] > window["close"].max()
    assert today["obv"] < window["obv"].max()


def test_no_divergence_without_a_new_closing_low(computed: Computed) -> None:
    frame = computed.frame.with_columns(
        low20=pl.col("close").shift(1).rolling_min(ev.DIVERGENCE).over("ticker"),
        obv20=pl.col("obv").shift(1).rolling_min(ev.DIVERGENCE).over("ticker"),
    )
    want = frame.filter((pl.col("close") < pl.col("low20")) & (pl.col("obv") > pl.col("obv20")))
    fired = computed.events.filter(pl.col("kind") == "obv_divergence_bull")
    assert want.select("ticker", "date").equals(fired.select("ticker", "date"))


def test_aapl_donchian_breakouts(computed: Computed) -> None:
    up = event(computed, "AAPL", "2025-10-20", "donchian_breakout_up")
    assert up["level"] == pytest.approx(258.75, abs=0.005)  # the upper band of 17 October
    assert up["value"] == pytest.approx(0.0116, abs=5e-5)
    down = event(computed, "AAPL", "2026-01-06", "donchian_breakout_down")
    row = day_row(computed, "AAPL", "2026-01-06")
    assert down["level"] == row["prev_donchian_low_20"]
    assert down["level"] == pytest.approx(265.89, abs=0.005)
    assert down["observed"] == pytest.approx(262.11, abs=0.005)


@pytest.mark.parametrize(
    ("preset", "kind", "where"),
    [
        ("adx-trend", "adx_trend_start", pl.col("observed") > 0),
        ("stoch-oversold-cross", "stoch_oversold_cross", pl.lit(True)),
        ("sar-flip-up", "sar_flip_up", pl.lit(True)),
        ("donchian-breakout", "donchian_breakout_up", pl.lit(True)),
    ],
)
def test_the_presets_find_the_events_days(
    computed: Computed, preset: str, kind: str, where: pl.Expr
) -> None:
    frame = computed.frame
    hit = frame.filter(mask(PRESETS[preset][0], frame)).select("ticker", "date")
    fired = computed.events.filter(pl.col("kind") == kind, where).select("ticker", "date")
    assert fired.height > 0
    assert hit.sort("ticker", "date").equals(fired.sort("ticker", "date"))


def test_the_daily_step_finds_what_a_full_run_finds(bars: pl.DataFrame) -> None:
    cut = dt.date(2025, 12, 31)
    full = compute(bars.filter(pl.col("date") <= dt.date(2026, 2, 13)))
    state = compute(bars.filter(pl.col("date") <= cut)).state
    sessions = bars.filter(pl.col("date") > cut, pl.col("date") <= dt.date(2026, 2, 13))
    found = []
    for day in sessions["date"].unique().sort():
        step = update(state, sessions.filter(pl.col("date") == day))
        state = step.state
        found.append(step.events)
    stepped = pl.concat(found).sort("ticker", "date", "kind")
    want = full.events.filter(pl.col("date") > cut)
    assert set(NEW_KINDS) <= set(want["kind"])
    assert stepped.equals(want)
    assert state.recent.kept.max() == ev.LOOKBACK


SENTENCES = {
    "adx_trend_start": (
        {"di_spread": 22.11},
        25.54,
        "The 14-day ADX rose above 25, to 25.5, signalling the start of an uptrend: +DI is"
        " above \u2212DI.",
        "Der ADX (14 Tage) stieg auf 25,5 und damit über die Marke von 25: Ein Aufwärtstrend"
        " setzte ein, +DI lag über \u2212DI.",
    ),
    "stoch_oversold_cross": (
        {"stoch_k": 11.52, "stoch_d": 7.38},
        4.14,
        "The slow stochastic's %K crossed above its %D with both below 20, in oversold"
        " territory (%K 11.5, %D 7.4).",
        "Im überverkauften Bereich unter 20 kreuzte die Stochastik-Linie %K ihre Signallinie"
        " %D nach oben (%K 11,5; %D 7,4).",
    ),
    "sar_flip_up": (
        {"sar": 145.64, "close": 155.74},
        0.069,
        "The parabolic SAR flipped below the price, to $145.64, signalling an uptrend.",
        "Der Parabolic SAR sprang unter den Kurs, auf 145,64\xa0$, und signalisierte damit"
        " einen Aufwärtstrend.",
    ),
    "donchian_breakout_down": (
        {"previous_lower": 265.89, "close": 262.11},
        -0.014,
        "It closed below the lowest low of the previous 20 trading days ($265.89), breaking"
        " below its Donchian channel.",
        "Der Kurs schloss unter dem tiefsten Tief der vorangegangenen 20 Handelstage"
        " (265,89\xa0$) und brach damit aus dem Donchian-Kanal nach unten aus.",
    ),
}


@pytest.mark.parametrize("kind", sorted(SENTENCES))
def test_the_sentences_say_the_chart_numbers(kind: str) -> None:
    detail, value, en, de = SENTENCES[kind]
    assert narrative.event_line(kind, value, detail, "en", "USD") == en
    assert narrative.event_line(kind, value, detail, "de", "USD") == de


@pytest.mark.parametrize("kind", NEW_KINDS)
@pytest.mark.parametrize("lang", narrative.LANGS)
def test_every_new_kind_reads_without_its_numbers(kind: str, lang: narrative.Lang) -> None:
    assert narrative.event_line(kind, 0.05, {}, lang, "USD").endswith(".")


def test_a_state_with_the_former_four_context_rows_is_not_resumable(bars: pl.DataFrame) -> None:
    state = compute(bars.filter(pl.col("date") <= dt.date(2025, 12, 31))).state
    assert state.resumable
    rows = state.recent_rows().group_by("ticker", maintain_order=True).tail(4)
    former = dataclasses.replace(state, recent=Recent.from_rows(rows, state.tickers))
    assert not former.resumable
    listed = compute(bars.filter(pl.col("ticker") == "2513.HK").head(10)).state
    assert listed.recent.kept.tolist() == [10]  # a new listing keeps all it has
    assert listed.resumable
