"""Oscillators and volume indicators: StockCharts' worked examples and the daily update on real
data. Their TA-Lib comparisons, warm-up and resumability properties run with the rest of the
default set in test_indicators.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from conftest import shared_path
from helpers import load_yahoo
from stockbrief.compute import EngineState, compute, update
from stockbrief.kernels import (
    INDICATORS,
    ad,
    adx,
    atr,
    cci,
    dmi,
    donchian,
    ema,
    kama,
    keltner,
    mfi,
    obv,
    ppo,
    rsi,
    run,
    run_many,
    sar,
    stoch,
    stochrsi,
    tsi,
    ultosc,
    vwap,
    willr,
)
from test_indicators import FloatArray, assert_close, one_ticker, read_csv

NEW = [
    "adx_14",
    "dmi_14",
    "stoch_14",
    "willr_14",
    "cci_20",
    "mfi_14",
    "obv",
    "sar",
    "donchian_20",
    "ad",
    "adosc_3_10",
    "kama_10",
    "ultosc_7_14_28",
    "ppo_12_26",
    "stochrsi_14",
    "keltner_20",
    "tsi_25_13",
    "vwap_20",
]
NEW_COLUMNS = [name for key in NEW for name in INDICATORS[key].outputs]


def sheet(name: str) -> dict[str, FloatArray]:
    return read_csv(shared_path("stockcharts", name))


# --------------------------------------------------------------------------------------------
# StockCharts ChartSchool sheets (../shared/data/stockcharts; see its SOURCES.md)
# --------------------------------------------------------------------------------------------


def test_adx_and_directional_indicators_converge_to_stockcharts_sheet() -> None:
    s = sheet("cs-adx.csv")
    columns, offsets = one_ticker(high=s["High"], low=s["Low"], close=s["Close"])
    got, _ = run_many([adx(14), dmi(14)], columns, offsets)
    for name, column in (("adx_14", "ADX"), ("plus_di_14", "+DI14"), ("minus_di_14", "-DI14")):
        # Both start on the same bar ...
        assert np.array_equal(np.isnan(got[name]), np.isnan(s[column])), name
        # ... from a different first smoothing, so the early values differ and the gap decays.
        gap = np.abs(got[name] - s[column])
        first = int(np.flatnonzero(~np.isnan(gap))[0])
        assert gap[first] > 0.05, name
        np.testing.assert_allclose(got[name][-5:], s[column][-5:], atol=1e-7, err_msg=name)
    assert np.isnan(got["adx_14"][:27]).all()
    assert not np.isnan(got["adx_14"][27])


def test_stochastics_match_stockcharts_sheet() -> None:
    s = sheet("cs-soo.csv")
    columns, offsets = one_ticker(high=s["High"], low=s["Low"], close=s["Close"])
    # The sheet is the fast stochastic: its %K is the raw %K, its %D the 3-day SMA of it,
    # which is the slow %K (stoch_k_14).
    fast = run(stoch(14, 1, 1), columns, offsets)[0]["stoch_k_14"]
    assert_close(fast, s["SO"], 0.0, 1e-6, "fast %K")
    slow = run(stoch(14, 3, 3), columns, offsets)[0]
    published = s["SO_SIG"]
    assert np.isnan(slow["stoch_k_14"][:17]).all()  # TA-Lib starts %K with %D, on bar 17
    np.testing.assert_allclose(slow["stoch_k_14"][17:], published[17:], atol=1e-6)
    np.testing.assert_allclose(slow["stoch_d_14"][-1], np.mean(published[-3:]), atol=1e-6)


def test_williams_r_matches_stockcharts_sheet() -> None:
    s = sheet("cs-percentr.csv")
    columns, offsets = one_ticker(high=s["High"], low=s["Low"], close=s["Close"])
    got = run(willr(14), columns, offsets)[0]["willr_14"]
    assert_close(got, s["Williams_%R"], 0.0, 1e-6, "willr_14")  # sheet: 6 decimals
    assert got[-1] == pytest.approx(-43.27, abs=0.005)


def test_cci_matches_stockcharts_sheet() -> None:
    s = sheet("cs-cci.csv")
    columns, offsets = one_ticker(high=s["High"], low=s["Low"], close=s["Close"])
    got = run(cci(20), columns, offsets)[0]["cci_20"]
    assert_close(got, s["CCI"], 0.0, 1e-4, "cci_20")  # sheet: 4-decimal prices
    assert got[19] == pytest.approx(102.315, abs=0.001)  # the ChartSchool table's first value


def test_mfi_matches_stockcharts_sheet() -> None:
    s = sheet("cs-mfi.csv")
    columns, offsets = one_ticker(
        high=s["High"], low=s["Low"], close=s["Close"], volume=s["Volume"]
    )
    got = run(mfi(14), columns, offsets)[0]["mfi_14"]
    assert_close(got, s["MFI"], 0.0, 1e-5, "mfi_14")  # sheet: 5 decimals


def test_obv_matches_stockcharts_sheet_from_its_zero_start() -> None:
    s = sheet("cs-obv.csv")
    volume = s["Volume"].copy()
    # The sheet's first row has no volume and an OBV of 0 (shown blank); TA-Lib starts OBV at
    # the first bar's volume, so with that volume taken as 0 the two agree exactly.
    assert np.isnan(volume[0])
    volume[0] = 0.0
    columns, offsets = one_ticker(close=s["Close"], volume=volume)
    got = run(obv(), columns, offsets)[0]["obv"]
    assert got[0] == 0.0
    np.testing.assert_array_equal(got[1:], s["OBV"][1:])
    assert got[-1] == 54_300


def test_sar_matches_stockcharts_sheet_after_its_first_reversal() -> None:
    s = sheet("cs-psar.csv")
    columns, offsets = one_ticker(high=s["High"], low=s["Low"])
    got = run(sar(0.02, 0.2), columns, offsets)[0]["sar"]
    published = np.where(np.isnan(s["psar_up"]), s["psar_down"], s["psar_up"])
    # TA-Lib's first SAR is on bar 1 (bar 0's extreme), the sheet's on bar 2; until the first
    # reversal (bar 8, where the sheet turns long) the two trail from different starts.
    assert np.isnan(got[0])
    assert not np.isnan(got[1])
    assert np.isnan(published[1])
    reversal = int(np.flatnonzero(~np.isnan(s["psar_up"]))[0])
    assert reversal == 8
    assert abs(got[7] - published[7]) > 0.05
    np.testing.assert_allclose(got[reversal:], published[reversal:], atol=1e-8)


def test_donchian_matches_stockcharts_sheet() -> None:
    s = sheet("cs-dc.csv")
    columns, offsets = one_ticker(high=s["high"], low=s["low"])
    got = run(donchian(20), columns, offsets)[0]
    assert_close(got["donchian_high_20"], s["upper_band"], 0.0, 0.0, "upper")
    assert_close(got["donchian_low_20"], s["lower_band"], 0.0, 0.0, "lower")
    middle = (got["donchian_high_20"] + got["donchian_low_20"]) / 2
    assert_close(middle, s["middle_band"], 0.0, 0.005 + 1e-9, "middle")  # sheet: 2 decimals


def test_accumulation_distribution_matches_stockcharts_sheet() -> None:
    s = sheet("cs-accum.csv")
    columns, offsets = one_ticker(
        high=s["High"], low=s["Low"], close=s["Close"], volume=s["Volume"]
    )
    got = run(ad(), columns, offsets)[0]["ad"]
    np.testing.assert_allclose(got, s["ADLine"], atol=1e-4)  # sheet: 4 decimals


def test_kama_matches_stockcharts_sheet() -> None:
    s = sheet("cs-kama.csv")
    columns, offsets = one_ticker(close=s["Close"])
    got = run(kama(10), columns, offsets)[0]["kama_10"]
    assert np.isnan(got[:10]).all()
    np.testing.assert_allclose(got[10:], s["KAMA"][10:], atol=1e-6)  # sheet: 6 decimals


def test_ultimate_oscillator_matches_stockcharts_sheet() -> None:
    s = sheet("cs-ultosc.csv")
    columns, offsets = one_ticker(high=s["High"], low=s["Low"], close=s["Close"])
    got = run(ultosc(7, 14, 28), columns, offsets)[0]["ultosc_7_14_28"]
    assert_close(got, s["Ult_Osc"], 0.0, 1e-6, "ultosc")  # sheet: 6 decimals


def test_ppo_is_stockcharts_formula_on_talib_seeded_averages() -> None:
    s = sheet("cs-ppo.csv")
    columns, offsets = one_ticker(close=s["Close"])
    got, _ = run_many([ppo(12, 26), ema(12), ema(26)], columns, offsets)
    # The sheet's PPO is 100 * (EMA12 - EMA26) / EMA26 of its own EMAs, seeded with the first
    # close; 40 rows are too few for those to forget their seed (the gap to TA-Lib's is 0.2).
    short, long = s["12 day EMA"], s["26 day EMA"]
    np.testing.assert_allclose(100 * (short - long) / long, s["PPO"], rtol=0, atol=1e-7)
    # Ours is the same formula on TA-Lib's averages, each seeded by an SMA.
    assert np.isnan(got["ppo_12_26"][:25]).all()
    expected = (got["ema_12"] - got["ema_26"]) / got["ema_26"] * 100
    assert_close(got["ppo_12_26"], expected, 0.0, 0.0, "ppo_12_26")
    assert abs(got["ppo_12_26"][-1] - s["PPO"][-1]) > 0.1


def test_stochastic_rsi_is_the_stockcharts_stochastic_of_the_rsi() -> None:
    s = sheet("cs-stochrsi.csv")
    # The sheet's RSI is not Wilder's from an SMA seed (it differs from TA-Lib's and
    # StockCharts' published RSI by up to 3.7 points), but its stochastic of that RSI is ours:
    # the last 14 RSI values, today's included, quoted from 0 to 1 where ours reads 0 to 100.
    known = ~np.isnan(s["RSI"])
    rsi_values = s["RSI"][known]
    columns, offsets = one_ticker(high=rsi_values, low=rsi_values, close=rsi_values)
    fast = run(stoch(14, 1, 1), columns, offsets)[0]["stoch_k_14"]
    assert_close(fast, 100 * s["StochRSI(14)"][known], 0.0, 5e-6, "stochrsi")  # 7 decimals
    ours = run(rsi(14), *one_ticker(close=s["Close"]))[0]["rsi_14"]
    assert np.nanmax(np.abs(ours - s["RSI"])) > 3.0
    # From the closes, stochrsi_k_14 is that stochastic of rsi_14, %D its 3-day mean.
    got = run(stochrsi(14, 14, 3), *one_ticker(close=s["Close"]))[0]
    columns, offsets = one_ticker(high=ours[14:], low=ours[14:], close=ours[14:])
    expected = run(stoch(14, 1, 1), columns, offsets)[0]["stoch_k_14"]
    assert np.isnan(got["stochrsi_k_14"][:29]).all()
    np.testing.assert_allclose(got["stochrsi_k_14"][29:], expected[15:], rtol=0, atol=1e-9)
    d = (expected[13:-2] + expected[14:-1] + expected[15:]) / 3
    np.testing.assert_allclose(got["stochrsi_d_14"][29:], d, rtol=0, atol=1e-9)
    assert got["stochrsi_k_14"][-1] == pytest.approx(15.55, abs=0.005)


def _blau(close: FloatArray, long: int, short: int, k_long: float, k_short: float) -> FloatArray:
    """The TSI as StockCharts' sheet computes it, with the EMA multipliers as parameters."""

    def ema(x: FloatArray, n: int, k: float) -> FloatArray:
        out = np.full(x.shape, np.nan)
        first = int(np.flatnonzero(~np.isnan(x))[0]) + n - 1
        out[first] = np.mean(x[first - n + 1 : first + 1])
        for t in range(first + 1, x.size):
            out[t] = (x[t] - out[t - 1]) * k + out[t - 1]
        return out

    move = np.concatenate([[np.nan], np.diff(close)])
    smooth = ema(ema(move, long, k_long), short, k_short)
    size = ema(ema(np.abs(move), long, k_long), short, k_short)
    return 100 * smooth / size


def test_tsi_matches_stockcharts_sheet_at_its_rounded_multipliers() -> None:
    s = sheet("cs-tsi.csv")
    got = run(tsi(25, 13), *one_ticker(close=s["Close"]))[0]["tsi_25_13"]
    # The double-smoothed series start on row 37 (a 25-day EMA of 25 changes seeded by their
    # mean, then a 13-day one of those); the sheet fills its TSI column from row 59 on.
    assert np.isnan(got[:37]).all()
    assert not np.isnan(got[37:]).any()
    assert np.flatnonzero(~np.isnan(s["25-period EMA AbMo"]))[0] == 25
    # Its EMAs use multipliers rounded to 0.07692 and 0.1428 instead of 2/26 and 2/14: with
    # those, its values come back to its 10 decimals; with the exact ones, ours.
    published = s["TSI"]
    rounded = _blau(s["Close"], 25, 13, 0.07692, 0.1428)
    shown = ~np.isnan(published)
    np.testing.assert_allclose(rounded[shown], published[shown], rtol=0, atol=1e-8)
    np.testing.assert_allclose(got[37:], _blau(s["Close"], 25, 13, 2 / 26, 2 / 14)[37:], 0, 1e-10)
    gap = np.abs(got - published)[shown]
    assert 0.005 < gap.max() < 0.012
    assert got[-1] == pytest.approx(published[-1], abs=0.001)


def test_keltner_channels_differ_from_stockcharts_sheet_by_their_decaying_start() -> None:
    s = sheet("cs-kc.csv")
    columns, offsets = one_ticker(high=s["High"], low=s["Low"], close=s["Close"])
    got, _ = run_many([keltner(20, 10, 2.0), ema(20), atr(10)], columns, offsets)
    middle, upper, lower = (got[f"keltner_{n}_20"] for n in ("mid", "upper", "lower"))
    assert np.isnan(middle[:19]).all()
    assert np.array_equal(middle[19:], got["ema_20"][19:])
    np.testing.assert_allclose((upper - middle)[19:], 2 * got["atr_10"][19:], rtol=1e-12)
    np.testing.assert_allclose((middle - lower)[19:], 2 * got["atr_10"][19:], rtol=1e-12)
    # The sheet's middle line starts from the first close, ours from the mean of the first 20;
    # its ATR takes bar 0's high - low as a true range, so it starts one bar earlier. Past
    # those starts both follow the same recursions: the gaps decay by 19/21 and 9/10 a bar.
    bars = np.arange(s["Close"].size)
    mid_gap = (middle[19] - s["middle_band"][19]) * (19 / 21) ** (bars - 19)
    tr = got["atr_10"] - s["atr"]
    first_tr = s["High"][0] - s["Low"][0]
    # on bar 10 ours is the mean of bars 1..10, the sheet's bar 0's range smoothed out once
    assert tr[10] == pytest.approx((s["atr"][9] - first_tr) / 10, abs=1e-12)
    atr_gap = tr[10] * 0.9 ** (bars - 10)
    late = bars >= 19
    np.testing.assert_allclose((middle - s["middle_band"])[late], mid_gap[late], atol=1e-9)
    expected = (mid_gap + 2 * atr_gap)[late]
    np.testing.assert_allclose((upper - s["upper_band"])[late], expected, atol=1e-9)
    expected = (mid_gap - 2 * atr_gap)[late]
    np.testing.assert_allclose((lower - s["lower_band"])[late], expected, atol=1e-9)
    assert abs(upper[-1] - s["upper_band"][-1]) > 0.02  # 29 rows are too few to forget it


def test_vwap_matches_stockcharts_sheet_once_its_window_is_full() -> None:
    s = sheet("cs-vwap.csv")
    columns, offsets = one_ticker(
        high=s["High"], low=s["Low"], close=s["Close"], volume=s["Volume"]
    )
    got = run(vwap(14), columns, offsets)[0]["vwap_14"]
    # The sheet averages over the bars it has before the 14th; ours waits for a full window.
    assert np.isnan(got[:13]).all()
    np.testing.assert_allclose(got[13:], s["vwap"][13:], rtol=1e-12)
    assert got[-1] == pytest.approx(24.52, abs=0.005)


# --------------------------------------------------------------------------------------------
# the daily update on real data, through the engine
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def universe() -> pl.DataFrame:
    return load_yahoo(shared_path("yahoo-30"))


@pytest.mark.parametrize("k", [1, 3, 7])
def test_update_after_k_sessions_equals_full_compute(universe: pl.DataFrame, k: int) -> None:
    full = compute(universe).frame.select("ticker", "date", *NEW_COLUMNS)
    dates = universe["date"].unique().sort()
    cut = dates[-k - 1]
    head = compute(universe.filter(pl.col("date") <= cut))
    state = EngineState.from_frames(head.state.to_frames())  # through its stored form
    frames = [head.frame.select("ticker", "date", *NEW_COLUMNS)]
    for day in dates.filter(dates > cut).to_list():
        step = update(state, universe.filter(pl.col("date") == day))
        state = step.state
        frames.append(step.frame.select("ticker", "date", *NEW_COLUMNS))
    resumed = pl.concat(frames).sort("ticker", "date")
    assert resumed.equals(full)
    last = full.filter(pl.col("date") == dates[-1]).drop_nulls()
    assert last.height > 20  # the comparison covers real values, not warm-up nulls


def test_baba_oscillators_on_2_january_2026(universe: pl.DataFrame) -> None:
    import datetime as dt

    day = dt.date(2026, 1, 2)
    frame = compute(universe.filter(pl.col("date") <= day)).frame
    row = frame.filter(pl.col("ticker") == "BABA", pl.col("date") == day).row(0, named=True)
    ref = read_csv(shared_path("talib-reference", "BABA_talib.csv"))
    with shared_path("talib-reference", "BABA_talib.csv").open() as fh:
        at = [line.split(",", 1)[0] for line in fh][1:].index("2026-01-02")
    for column, name in (
        ("ADX_14", "adx_14"),
        ("PLUS_DI_14", "plus_di_14"),
        ("STOCH_slowk_14_3_3", "stoch_k_14"),
        ("WILLR_14", "willr_14"),
        ("CCI_20", "cci_20"),
        ("MFI_14", "mfi_14"),
        ("SAR_0.02_0.2", "sar"),
    ):
        assert row[name] == pytest.approx(ref[column][at], rel=1e-8), name
    before = frame.filter(pl.col("ticker") == "BABA", pl.col("date") == dt.date(2025, 12, 31))
    prev = before.row(0, named=True)
    # The +6.25% day: the SAR flips from above the price to below it (to the prior extreme
    # low, the Donchian low), +DI crosses above -DI, and %K crosses %D up from oversold; the
    # ADX, below 20, still says there is no trend.
    assert prev["sar"] > prev["close"]
    assert row["sar"] < row["close"]
    assert row["sar"] == row["donchian_low_20"] == pytest.approx(145.64, abs=0.005)
    assert prev["plus_di_14"] < prev["minus_di_14"]
    assert row["plus_di_14"] > row["minus_di_14"]
    assert prev["stoch_k_14"] < 20
    assert prev["stoch_k_14"] < prev["stoch_d_14"]
    assert row["stoch_k_14"] > row["stoch_d_14"]
    assert row["adx_14"] == pytest.approx(14.99, abs=0.005)


# --------------------------------------------------------------------------------------------
# the catalogue on the command line
# --------------------------------------------------------------------------------------------


def test_indicators_list_names_every_column_with_lookback_and_reference(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stockbrief", "indicators", "--list", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    listed = {row["name"]: row for row in json.loads(done.stdout)}
    assert list(listed) == list(INDICATORS)
    assert listed["adx_14"]["lookback"] == 27
    assert listed["stoch_14"]["columns"] == "stoch_k_14, stoch_d_14"
    assert listed["sar"]["reference"].startswith("TA-Lib SAR(high, low, 0.02, 0.2)")
    assert listed["mfi_14"]["reference"].endswith("StockCharts MFI")
    assert listed["stochrsi_14"]["lookback"] == 29
    assert listed["stochrsi_14"]["columns"] == "stochrsi_k_14, stochrsi_d_14"
    assert listed["stochrsi_14"]["reference"].startswith("TA-Lib STOCHRSI(close, 14, 14, 3")
    assert listed["keltner_20"]["columns"] == ("keltner_mid_20, keltner_upper_20, keltner_lower_20")
    assert listed["keltner_20"]["reference"].startswith(
        "TA-Lib EMA(close, 20) +/- 2 x ATR(high, low, close, 10)"
    )
    assert listed["tsi_25_13"]["lookback"] == 37
    assert "StockCharts TSI(25, 13)" in listed["tsi_25_13"]["reference"]
    assert listed["vwap_20"]["lookback"] == 19
    missing = subprocess.run(
        [sys.executable, "-m", "stockbrief", "indicators"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert missing.returncode != 0
    assert "name a ticker, or pass --list" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_state_saved_without_the_oscillators_is_recomputed(tmp_path: Path) -> None:
    """A store computed by a version with fewer indicators refreshes in full, not with a crash."""
    import datetime as dt

    from stockbrief import api
    from stockbrief.store import Store

    csv = shared_path("yahoo-30", "JD.csv")
    with Store(tmp_path / "old.duckdb") as db:
        api.ingest("prices", [csv], store=db, end=dt.date(2025, 12, 31))
        api.refresh(db)
        frames, _ = db.load_engine_state(api.STATE_FRAMES)
        older = {
            "history": frames["history"],
            "kernels": frames["kernels"].drop("kama_10"),
            "recent": frames["recent"].drop("kama_10"),
        }
        db.save_engine_state(older, db.fingerprint())
        api.ingest("prices", [csv], store=db, end=dt.date(2026, 1, 9))
        assert api.refresh(db).mode == "full"
        frames, _ = db.load_engine_state(api.STATE_FRAMES)
        assert "kama_10" in frames["kernels"].columns
        assert api.indicators("JD", as_of=dt.date(2026, 1, 9), store=db)["kama_10"][-1] > 0
