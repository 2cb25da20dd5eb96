"""Event study: forward returns against known drifts and planted jumps, no look-ahead, overlap,
the bootstrap, base rates, benchmark-relative returns and the strength table."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockbrief import evidence
from stockbrief.errors import InputError
from stockbrief.evidence import (
    STRENGTH_RULES,
    TABLE_SCHEMA,
    StudyResult,
    average_path,
    grade_strength,
    plot,
    study,
)

START = dt.date(2020, 1, 1)
FloatArray = npt.NDArray[np.float64]


def day(i: int) -> dt.date:
    """The i-th row's date; sessions are rows, so calendar gaps do not matter."""
    return START + dt.timedelta(days=i)


def prices(closes: Mapping[str, FloatArray | list[float]]) -> pl.DataFrame:
    """A long ``ticker, date, close`` frame, one row per close, consecutive dates."""
    frames = [
        pl.DataFrame(
            {
                "ticker": [ticker] * len(values),
                "date": [day(i) for i in range(len(values))],
                "close": np.asarray(values, dtype=np.float64),
            }
        )
        for ticker, values in closes.items()
    ]
    return pl.concat(frames)


def occurrences(rows: list[tuple[str, int]]) -> pl.DataFrame:
    """``ticker, date`` rows from (ticker, row index) pairs."""
    return pl.DataFrame(
        {"ticker": [t for t, _ in rows], "date": [day(i) for _, i in rows]},
        schema={"ticker": pl.String, "date": pl.Date},
    )


def walks(n_tickers: int, n_days: int, mu: float, sigma: float, seed: int = 1) -> FloatArray:
    """Geometric random walks with daily log drift ``mu`` and noise ``sigma``, from 100."""
    steps = np.random.default_rng(seed).normal(mu, sigma, (n_tickers, n_days))
    paths: FloatArray = 100.0 * np.exp(np.cumsum(steps, axis=1))
    return paths


def random_occurrences(n_tickers: int, n_days: int, n: int, seed: int = 2) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ticker = rng.integers(0, n_tickers, n)
    row = rng.integers(0, n_days, n)
    return occurrences([(f"T{t:02d}", int(i)) for t, i in zip(ticker, row, strict=True)])


def universe(paths: FloatArray) -> pl.DataFrame:
    return prices({f"T{i:02d}": paths[i] for i in range(paths.shape[0])})


# --- known drift ---------------------------------------------------------------------------


def test_forward_return_of_a_pure_drift_is_exp_mu_h_minus_one() -> None:
    mu = {"A": 0.001, "B": 0.003}
    closes = {t: 50.0 * np.exp(m * np.arange(300)) for t, m in mu.items()}
    occ = occurrences([("A", 10), ("A", 100), ("B", 50), ("B", 200)])
    result = study(prices(closes), occ, horizons=(5, 20), resamples=200)
    for h in (5, 20):
        part = result.returns.filter(pl.col("horizon") == h).sort("ticker", "date")
        expected = [math.expm1(mu[t] * h) for t in part["ticker"]]
        assert part["forward_return"].to_list() == pytest.approx(expected, rel=1e-9)
        # every window of a pure drift returns the same, so nothing is in excess of its ticker
        assert part["excess"].to_list() == pytest.approx([0.0] * part.height, abs=1e-12)
        row = result.row(h)
        assert row["n"] == 4
        assert row["hit_rate"] == 1.0
        assert row["base_hit_rate"] == 1.0
        assert row["hit_ci_low"] == row["hit_ci_high"] == 1.0
        assert row["std_error"] > 0  # two tickers, two drifts


def test_positive_drift_random_dates_recover_the_drift() -> None:
    mu, h = 0.002, 20
    paths = walks(20, 500, mu, 0.0002)
    result = study(universe(paths), random_occurrences(20, 500, 300), horizons=(h,), seed=3)
    row = result.row(h)
    assert row["n"] > 100
    assert row["hit_rate"] == 1.0
    assert row["mean"] == pytest.approx(math.expm1(mu * h), rel=0.02)
    assert row["mean_ci_low"] <= row["mean"] <= row["mean_ci_high"]
    assert row["strength"] == "none"  # every day rises too: no edge over the base rate
    assert result.lean(h) == ("none", "none")


def test_zero_drift_noise_has_no_edge() -> None:
    paths = walks(40, 800, 0.0, 0.02, seed=5)
    result = study(universe(paths), random_occurrences(40, 800, 600, seed=6), seed=1)
    for row in result.table.iter_rows(named=True):
        assert row["hit_ci_low"] <= row["base_hit_rate"] <= row["hit_ci_high"]
        assert row["strength"] == "none"
        assert row["mean_excess"] == pytest.approx(0.0, abs=0.01)


def test_planted_jump_shows_as_excess() -> None:
    jump, h = 0.10, 5
    rng = np.random.default_rng(11)
    paths = walks(30, 600, 0.0, 0.01, seed=12)
    rows = []
    for i in range(paths.shape[0]):
        for at in rng.choice(np.arange(50, 550, 25), size=4, replace=False):
            paths[i, at:] *= 1 + jump  # the jump lands on session `at`
            rows.append((f"T{i:02d}", int(at) - 1))
    result = study(universe(paths), occurrences(rows), horizons=(h, 20))
    row = result.row(h)
    assert row["n"] == len(rows)
    assert row["mean_excess"] == pytest.approx(jump, abs=0.02)
    assert row["strength"] != "none"
    assert result.lean(h)[0] == "positive"


# --- no look-ahead -------------------------------------------------------------------------


SMALL = universe(walks(3, 40, 0.0, 0.03, seed=21))
SMALL_OCC = random_occurrences(3, 40, 25, seed=22)


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(min_value=0, max_value=39), extra=st.integers(min_value=1, max_value=20))
def test_appending_later_prices_changes_nothing(cut: int, extra: int) -> None:
    until = day(cut)
    # later rows are a different future: appended closes and a longer history after `until`
    later = universe(walks(3, 40 + extra, 0.01, 0.05, seed=cut)).filter(pl.col("date") > until)
    known = SMALL.filter(pl.col("date") <= until)
    a = study(known, SMALL_OCC, horizons=(1, 5), until=until, resamples=100)
    # a different future, longer than the stored one, changes nothing as of `until`
    b = study(pl.concat([known, later]), SMALL_OCC, horizons=(1, 5), until=until, resamples=100)
    c = study(SMALL, SMALL_OCC, horizons=(1, 5), until=until, resamples=100)
    for other in (b, c):
        assert a.table.equals(other.table)
        assert a.returns.equals(other.returns)
        assert a.counts == other.counts
    assert (a.returns["end_date"] <= until).all()
    for h in (1, 5):
        # pending: matched occurrences whose session t+h lies after the cut
        matched = SMALL_OCC.unique().filter(pl.col("date") <= until)
        rows = matched.select((pl.col("date") - START).dt.total_days())["date"]
        assert a.row(h)["n_pending"] == int((rows + h > cut).sum())
    assert a.counts["after_until"] == SMALL_OCC.filter(pl.col("date") > until).height


def test_pending_occurrences_are_counted_not_dropped() -> None:
    closes = {"A": np.linspace(10, 20, 30)}
    occ = occurrences([("A", 5), ("A", 24), ("A", 27), ("A", 29)])
    result = study(prices(closes), occ, horizons=(5,), resamples=50, overlap="keep")
    row = result.row(5)
    assert (row["n"], row["n_pending"]) == (2, 2)  # 5 and 24 complete (24 + 5 = 29, the last)
    cut = study(prices(closes), occ, horizons=(5,), until=day(20), resamples=50)
    assert cut.counts["after_until"] == 3
    assert cut.row(5)["n_pending"] == 0
    assert cut.row(5)["n"] == 1


# --- overlap -------------------------------------------------------------------------------


def test_overlap_skip_keeps_the_first_and_reports_the_skipped() -> None:
    closes = {"A": np.linspace(10, 30, 40)}
    occ = occurrences([("A", 3), ("A", 5)])
    skip = study(prices(closes), occ, horizons=(5,), resamples=50)
    assert (skip.row(5)["n"], skip.row(5)["n_skipped"]) == (1, 1)
    assert skip.returns["date"].to_list() == [day(3)]
    assert "never overlap" in skip.method
    keep = study(prices(closes), occ, horizons=(5,), overlap="keep", resamples=50)
    assert (keep.row(5)["n"], keep.row(5)["n_skipped"]) == (2, 0)
    assert "understate" in keep.method


def test_overlap_skip_boundary_and_chain() -> None:
    closes = {"A": np.linspace(10, 30, 40), "B": np.linspace(30, 10, 40)}
    exactly_h = study(
        prices(closes), occurrences([("A", 3), ("A", 8)]), horizons=(5,), resamples=50
    )
    assert exactly_h.row(5)["n"] == 2  # windows (3, 8] and (8, 13] do not overlap
    chain = occurrences([("A", i) for i in (0, 2, 4, 6, 8)] + [("B", 1), ("B", 3)])
    result = study(prices(closes), chain, horizons=(5,), resamples=50)
    kept = result.returns.select("ticker", "date").rows()
    assert kept == [("A", day(0)), ("A", day(6)), ("B", day(1))]
    assert result.row(5)["n_skipped"] == 4


# --- bootstrap and base rate ---------------------------------------------------------------


def test_bootstrap_is_deterministic_by_seed() -> None:
    data, occ = universe(walks(10, 300, 0.0, 0.02)), random_occurrences(10, 300, 120)
    a = study(data, occ, seed=4)
    b = study(data, occ, seed=4)
    c = study(data, occ, seed=5)
    assert a.table.equals(b.table)
    assert not a.table.equals(c.table)
    for row in a.table.iter_rows(named=True):
        assert row["mean_ci_low"] <= row["mean"] <= row["mean_ci_high"]
        assert row["hit_ci_low"] <= row["hit_rate"] <= row["hit_ci_high"]
    # each horizon draws from its own stream: studying more horizons changes none of them
    alone = study(data, occ, horizons=(20,), seed=4)
    assert alone.table.row(0) == a.table.filter(pl.col("horizon") == 20).row(0)


def test_bootstrap_interval_matches_the_standard_error() -> None:
    data, occ = universe(walks(30, 500, 0.0, 0.02)), random_occurrences(30, 500, 800)
    row = study(data, occ, horizons=(5,), resamples=2000).row(5)
    width = row["mean_ci_high"] - row["mean_ci_low"]
    assert width == pytest.approx(2 * 1.96 * row["std_error"], rel=0.15)


def test_base_rate_uses_the_same_tickers_and_period() -> None:
    paths = walks(3, 100, 0.0, 0.03, seed=31)
    data = universe(paths)  # T00, T01, T02; only T00 and T01 have occurrences
    occ = occurrences([("T00", 10), ("T01", 20), ("T01", 70)])
    until, h = day(60), 5
    result = study(data, occ, horizons=(h,), until=until, resamples=50)
    seen = paths[:2, :61]  # rows 0..60 are on or before `until`
    windows = seen[:, h:] / seen[:, :-h] - 1
    row = result.row(h)
    assert row["base_n"] == windows.size
    assert row["base_mean"] == pytest.approx(windows.mean(), rel=1e-12)
    assert row["base_hit_rate"] == pytest.approx((windows > 0).mean())
    own = {f"T0{i}": windows[i].mean() for i in range(2)}
    for r in result.returns.iter_rows(named=True):
        assert r["excess"] == pytest.approx(r["forward_return"] - own[r["ticker"]], abs=1e-14)
    assert result.counts["after_until"] == 1


def test_benchmark_relative_return() -> None:
    data = prices({"A": [100.0, 105.0, 121.0, 110.0, 130.0]})
    bench = pl.DataFrame({"date": [day(i) for i in range(5)], "close": [200, 210, 220, 230, 240]})
    result = study(
        data,
        occurrences([("A", 0), ("A", 2)]),
        horizons=(2,),
        benchmark=bench,
        overlap="keep",
        resamples=50,
    )
    rel = result.returns.sort("date")["relative"].to_list()
    assert rel == pytest.approx([0.21 - 0.10, 130 / 121 - 1 - (240 / 220 - 1)])
    assert result.row(2)["mean_relative"] == pytest.approx(sum(rel) / 2)
    assert result.row(2)["n_relative"] == 2
    gappy = bench.filter(pl.col("date") != day(4))
    partial = study(
        data,
        occurrences([("A", 0), ("A", 2)]),
        horizons=(2,),
        benchmark=gappy,
        overlap="keep",
        resamples=50,
    )
    assert partial.returns.sort("date")["relative"].to_list()[1] is None
    assert partial.row(2)["n_relative"] == 1
    assert partial.row(2)["mean_relative"] == pytest.approx(rel[0])
    without = study(data, occurrences([("A", 0)]), horizons=(2,), resamples=50)
    assert without.row(2)["mean_relative"] is None
    assert without.returns["relative"].to_list() == [None]


# --- strength table ------------------------------------------------------------------------


def _ci(hit: float) -> tuple[float, float]:
    """A narrow interval around the hit rate, which excludes the base rate of these tests."""
    return hit - 0.001, hit + 0.001


@pytest.mark.parametrize("sign", [1, -1], ids=["above", "below"])
@pytest.mark.parametrize("index", range(len(STRENGTH_RULES)), ids=[r.word for r in STRENGTH_RULES])
def test_strength_each_side_of_each_threshold(index: int, sign: int) -> None:
    rule = STRENGTH_RULES[index]
    weaker = STRENGTH_RULES[index + 1].word if index + 1 < len(STRENGTH_RULES) else "none"
    base = 0.5
    hit = base + sign * max(rule.min_gap, 0.01)
    assert grade_strength(rule.min_n, hit, _ci(hit), base) == rule.word
    assert grade_strength(rule.min_n - 1, hit, _ci(hit), base) == weaker
    if rule.min_gap > 0:
        short = base + sign * (rule.min_gap - 0.001)
        assert grade_strength(rule.min_n, short, _ci(short), base) == weaker


@pytest.mark.parametrize(
    ("hit", "ci", "expected"),
    [
        (0.65, (0.55, 0.75), "none"),  # the interval touches the base rate
        (0.65, (0.5501, 0.75), "strong"),
        (0.45, (0.35, 0.55), "none"),
        (0.45, (0.35, 0.5499), "strong"),
        (float("nan"), (float("nan"), float("nan")), "none"),
    ],
)
def test_strength_interval_boundary(hit: float, ci: tuple[float, float], expected: str) -> None:
    assert grade_strength(500, hit, ci, 0.55) == expected


def test_strength_exact_thresholds() -> None:
    strong, moderate, weak = STRENGTH_RULES
    assert grade_strength(100, 0.65, (0.6, 0.7), 0.55) == "strong"
    assert grade_strength(99, 0.65, (0.6, 0.7), 0.55) == "moderate"
    assert grade_strength(100, 0.6499, (0.6, 0.7), 0.55) == "moderate"
    assert grade_strength(30, 0.60, (0.58, 0.62), 0.55) == "moderate"
    assert grade_strength(29, 0.60, (0.58, 0.62), 0.55) == "weak"
    assert grade_strength(30, 0.5999, (0.58, 0.62), 0.55) == "weak"
    assert grade_strength(10, 0.56, (0.555, 0.565), 0.55) == "weak"
    assert grade_strength(9, 0.56, (0.555, 0.565), 0.55) == "none"
    assert (strong.min_gap, strong.min_n, moderate.min_gap, moderate.min_n, weak.min_n) == (
        0.10,
        100,
        0.05,
        30,
        10,
    )


# --- the result explains itself ------------------------------------------------------------


def test_counts_say_what_was_set_aside() -> None:
    data = prices({"A": np.linspace(10, 20, 30)})
    occ = pl.DataFrame(
        {
            "ticker": ["A", "A", "A", "ZZZ", "A", None],
            "date": [day(1), day(1), day(25), day(2), day(99), day(3)],
        }
    ).with_columns(pl.col("date").cast(pl.Date))
    result = study(data, occ, horizons=(2,), until=day(26), resamples=50)
    counts = result.counts
    assert counts == {
        "given": 6,
        "matched": 2,
        "incomplete": 1,
        "after_until": 1,
        "duplicate": 1,
        "unknown_ticker": 1,
        "not_a_session": 0,
    }
    weekend = occurrences([("A", 1)]).with_columns(pl.lit(dt.date(2019, 6, 1)).alias("date"))
    assert study(data, weekend, horizons=(2,), resamples=50).counts["not_a_session"] == 1
    assert "set aside" in result.method
    assert "duplicates" in result.method


def test_summary_json_and_lean() -> None:
    data, occ = universe(walks(5, 200, 0.0, 0.02)), random_occurrences(5, 200, 60)
    result = study(data, occ.with_columns(pl.lit("golden_cross").alias("kind")), until=day(180))
    assert result.label == "golden_cross"
    text = result.summary()
    assert "Event study: golden_cross" in text
    assert "as of 2020-06-29" in text
    for h in (5, 20, 60):
        assert f"\n{h:>7} " in text
    assert "Method" in text
    assert "seed 0" in text
    assert "adjusted for splits and dividends" in text
    assert "sessions, not calendar days" in result.method
    payload = result.to_json()
    assert json.loads(json.dumps(payload))["horizons"] == [5, 20, 60]
    assert set(payload["table"][0]) == set(TABLE_SCHEMA)
    assert result.table.schema == pl.Schema(TABLE_SCHEMA)
    direction, strength = result.lean(20)
    assert direction in {"positive", "negative", "none"}
    assert strength == result.row(20)["strength"]
    with pytest.raises(InputError, match="studied horizons: 5, 20, 60"):
        result.lean(10)


def test_no_occurrences_still_explains_itself() -> None:
    result = study(prices({"A": np.linspace(10, 20, 30)}), occurrences([]), resamples=50)
    row = result.row(5)
    assert row["n"] == 0
    assert row["mean"] is None
    assert row["strength"] == "none"
    assert result.lean(5) == ("none", "none")
    assert "n/a" in result.summary()
    assert result.returns.is_empty()


def test_row_order_does_not_matter() -> None:
    data, occ = universe(walks(4, 150, 0.001, 0.02)), random_occurrences(4, 150, 40)
    shuffled = data.sample(fraction=1.0, shuffle=True, seed=9)
    assert study(shuffled, occ).table.equals(study(data, occ).table)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizons": (0, 5)}, "positive whole number"),
        ({"horizons": (5, 5)}, "repeat"),
        ({"horizons": ()}, "empty"),
        ({"overlap": "drop"}, "'skip', 'keep'"),
        ({"resamples": 0}, "resamples"),
    ],
)
def test_bad_settings_say_the_fix(kwargs: dict[str, object], message: str) -> None:
    data = prices({"A": np.linspace(10, 20, 30)})
    with pytest.raises(InputError, match=message):
        study(data, occurrences([("A", 1)]), **kwargs)  # type: ignore[arg-type]


def test_bad_frames_say_the_fix() -> None:
    data = prices({"A": np.linspace(10, 20, 30)})
    occ = occurrences([("A", 1)])
    with pytest.raises(InputError, match="lacks column"):
        study(data.drop("close"), occ)
    with pytest.raises(InputError, match="cast"):
        study(data.with_columns(pl.col("date").cast(pl.Datetime)), occ)
    with pytest.raises(InputError, match="more than one row for A"):
        study(pl.concat([data, data.head(1)]), occ)
    with pytest.raises(InputError, match="non-positive close for A"):
        study(
            data.with_columns(
                pl.when(pl.col("date") == day(3))
                .then(0.0)
                .otherwise(pl.col("close"))
                .alias("close")
            ),
            occ,
        )
    with pytest.raises(InputError, match="benchmark lacks column"):
        study(data, occ, benchmark=data.select("date"))


# --- average path and plot -----------------------------------------------------------------


def test_average_path_of_a_drift() -> None:
    mu = 0.002
    data = prices({"A": 50 * np.exp(mu * np.arange(200)), "B": 20 * np.exp(mu * np.arange(200))})
    occ = occurrences([("A", 10), ("B", 40), ("A", 150), ("B", 190)])
    result = study(data, occ, horizons=(5, 20), resamples=50)
    path = average_path(result)
    assert path["offset"].to_list() == list(range(1, 21))
    assert path["n"].to_list() == [3] * 20  # B at 190 has no complete 20-session window
    assert path["mean"].to_list() == pytest.approx([math.expm1(mu * k) for k in range(1, 21)])
    assert path["hit_rate"].to_list() == [1.0] * 20
    again = average_path((data, occ), 20)
    assert again.equals(path)
    assert average_path(result, 5).height == 5
    with pytest.raises(InputError, match="max_horizon"):
        average_path((data, occ))


def test_plot_returns_a_figure_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    data, occ = universe(walks(5, 300, 0.0005, 0.02)), random_occurrences(5, 300, 80)
    result = study(data, occ, resamples=100)
    fig = plot(result)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(result.horizons) + 1
    fig.canvas.draw()
    assert list(tmp_path.iterdir()) == []
    assert isinstance(result, StudyResult)


def test_benchmark_after_the_as_of_date_is_not_read() -> None:
    data = prices({"A": [100.0, 105.0, 121.0, 110.0, 130.0]})
    bench = pl.DataFrame(
        {"date": [day(i) for i in range(5)], "close": [200.0, 210.0, 220.0, 230.0, -1.0]}
    )
    result = study(data, occurrences([("A", 0)]), horizons=(2,), until=day(3), benchmark=bench)
    assert result.row(2)["mean_relative"] == pytest.approx(0.11)
    with pytest.raises(InputError, match="benchmark has a missing, non-finite or non-positive"):
        study(data, occurrences([("A", 0)]), horizons=(2,), benchmark=bench)


def test_average_path_takes_settings_from_the_study_only() -> None:
    data = prices({"A": np.linspace(10, 20, 30)})
    result = study(data, occurrences([("A", 1)]), horizons=(5,), resamples=50)
    with pytest.raises(InputError, match="pass them to study"):
        average_path(result, until=day(10))
    with pytest.raises(InputError, match="seed must be a non-negative integer"):
        study(data, occurrences([("A", 1)]), seed=-1)


def test_a_tally_in_ticker_batches_gives_the_studys_figures(yahoo30: Path) -> None:
    """The universe evidence a brief reads, gathered batch by batch, equals one event study of
    the whole universe: n, hit rate and its interval, mean, base rate and strength."""
    from helpers import load_yahoo
    from stockbrief.compute import compute

    bars = load_yahoo(yahoo30)
    found = compute(bars).events
    prices = bars.select("ticker", "date", "close")
    day = dt.date(2026, 3, 2)
    tally = evidence.Tally(20, until=day)
    tickers = sorted(prices["ticker"].unique().to_list())
    for start in range(0, len(tickers), 7):
        batch = tickers[start : start + 7]
        tally.add(
            prices.filter(pl.col("ticker").is_in(batch)),
            found.filter(pl.col("ticker").is_in(batch)).select("ticker", "date", "kind"),
        )
    rows = tally.rows()
    assert {"gap_up", "volume_surge", "cross_above_sma_50"} <= set(rows)
    for kind, got in rows.items():
        occurrences = found.filter(pl.col("kind") == kind)
        whole = evidence.study(prices, occurrences, horizons=(20,), until=day)
        want = whole.row(20)
        for key in ("n", "hit_rate", "hit_ci_low", "hit_ci_high", "mean", "base_n"):
            assert got[key] == want[key], (kind, key)
        assert got["base_hit_rate"] == want["base_hit_rate"], kind
        assert (got["direction"], got["strength"]) == whole.lean(20), kind
