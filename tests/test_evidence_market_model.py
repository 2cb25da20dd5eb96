"""Market-model abnormal returns against statsmodels OLS on real prices, and the date-cluster
bootstrap against a universe of identical stocks."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from stockbrief.evidence import study
from stockbrief.evidence.market_model import ESTIMATION, GAP

UNTIL = dt.date(2026, 3, 2)
H = 20


def _reference(prices: pl.DataFrame, spy: pl.DataFrame, returns: pl.DataFrame) -> dict[str, float]:
    """CAR, its variance and the three statistics, from statsmodels OLS fitted per occurrence
    on date-joined returns built here from the frames (independently of the library)."""
    daily = (
        prices.sort("ticker", "date")
        .join(spy.rename({"close": "spy"}), on="date", how="left")
        .with_columns(
            (pl.col("close") / pl.col("close").shift(1) - 1).over("ticker").alias("r"),
            (pl.col("spy") / pl.col("spy").shift(1) - 1).over("ticker").alias("m"),
            pl.int_range(pl.len()).over("ticker").alias("row"),
        )
    )
    cars, scars = [], []
    for ticker, date in returns.select("ticker", "date").iter_rows():
        rows = daily.filter(pl.col("ticker") == ticker)
        t = rows.filter(pl.col("date") == date)["row"][0]
        est = rows.filter(pl.col("row").is_between(t - GAP - ESTIMATION + 1, t - GAP))
        event = rows.filter(pl.col("row").is_between(t + 1, t + H))
        gaps = pl.concat([est, event]).select(pl.col("r", "m").is_null().any()).row(0)
        if t - GAP - ESTIMATION < 0 or any(gaps):
            continue
        fit = sm.OLS(est["r"].to_numpy(), sm.add_constant(est["m"].to_numpy())).fit()
        exog = sm.add_constant(event["m"].to_numpy(), has_constant="add")
        if fit.scale == 0:  # a quote that never moved: no residual scale to standardise by
            continue
        car = float((event["r"].to_numpy() - exog @ fit.params).sum())
        ones = np.ones(H)
        variance = fit.scale * H + ones @ exog @ fit.cov_params() @ exog.T @ ones
        cars.append(car)
        scars.append(car / math.sqrt(variance))
    car_a, scar_a = np.array(cars), np.array(scars)
    n = car_a.size
    return {
        "n_car": n,
        "mean_car": car_a.mean(),
        "t_cross_section": car_a.mean() / (car_a.std(ddof=1) / math.sqrt(n)),
        "z_patell": scar_a.sum() / math.sqrt(n * (ESTIMATION - 2) / (ESTIMATION - 4)),
        "t_bmp": scar_a.mean() / (scar_a.std(ddof=1) / math.sqrt(n)),
    }


def test_abnormal_returns_match_statsmodels_ols_on_real_prices(yahoo30: Path) -> None:
    """Each occurrence's market model (alpha, beta, residual variance), its CAR over 20
    sessions and the CLM forecast-error variance of the CAR, through to the cross-sectional t,
    Patell Z and BMP t, agree with statsmodels OLS to 1e-10."""
    from helpers import load_yahoo
    from stockbrief.compute import compute

    bars = load_yahoo(yahoo30).filter(pl.col("ticker") != "VIX")
    prices = bars.select("ticker", "date", "close")
    spy = prices.filter(pl.col("ticker") == "SPY").select("date", "close")
    stocks = prices.filter(~pl.col("ticker").str.contains(r"\.HK$") & (pl.col("ticker") != "SPY"))
    events = compute(bars).events.filter(pl.col("kind") == "gap_up")
    events = events.filter(pl.col("ticker").is_in(stocks["ticker"].unique().implode()))
    result = study(stocks, events, horizons=(H,), until=UNTIL, benchmark=spy)
    got = result.row(H)
    want = _reference(stocks, spy, result.returns)
    assert got["n_car"] == want["n_car"] > 30
    for key in ("mean_car", "t_cross_section", "z_patell", "t_bmp"):
        assert got[key] == pytest.approx(want[key], abs=1e-10, rel=1e-10), key
    assert got["p_bmp"] == pytest.approx(math.erfc(abs(want["t_bmp"]) / math.sqrt(2)), abs=1e-12)
    # Later prices of the stocks and the benchmark change nothing as of the same date.
    cut = study(
        stocks.filter(pl.col("date") <= UNTIL),
        events,
        horizons=(H,),
        until=UNTIL,
        benchmark=spy.filter(pl.col("date") <= UNTIL),
    )
    assert cut.table.equals(result.table)


def test_a_market_move_shared_by_copies_is_one_draw_not_many() -> None:
    """Twenty identical stocks with setups on the same 40 dates carry the information of one
    stock: the date-cluster interval is that one stock's, the i.i.d. interval is far narrower,
    and the verdict uses the date-cluster one."""
    rng = np.random.default_rng(5)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, 1_500)))
    dates = [dt.date(2015, 1, 1) + dt.timedelta(days=i) for i in range(closes.size)]
    rows = list(range(30, 1_400, 34))[:40]

    def frames(k: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        names = [f"S{i:02d}" for i in range(k)]
        price = pl.DataFrame(
            {
                "ticker": np.repeat(names, closes.size),
                "date": dates * k,
                "close": np.tile(closes, k),
            }
        )
        setups = pl.DataFrame(
            {"ticker": np.repeat(names, len(rows)), "date": [dates[r] for r in rows] * k}
        )
        return price, setups

    one = study(*frames(1), horizons=(20,)).row(20)
    many = study(*frames(20), horizons=(20,)).row(20)
    assert one["resampling"] == "iid"
    assert one["date_shared"] == 0.0
    assert many["resampling"] == "date"
    assert many["date_shared"] == 1.0
    assert many["n"] == 20 * one["n"] == 800
    for key in ("hit_ci_low_date", "hit_ci_high_date", "mean_ci_low_date", "mean_ci_high_date"):
        assert many[key] == pytest.approx(one[key], abs=1e-12), key
    assert (many["hit_ci_low"], many["hit_ci_high"]) == (
        many["hit_ci_low_date"],
        many["hit_ci_high_date"],
    )
    iid_width = many["hit_ci_high_iid"] - many["hit_ci_low_iid"]
    assert iid_width < 0.3 * (many["hit_ci_high_date"] - many["hit_ci_low_date"])
