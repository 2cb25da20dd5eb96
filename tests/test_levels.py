"""Price levels: pivot formulas on worked examples, swing levels on real BABA bars that a reader
can check on a chart, round numbers, the choice of the level to watch, the study condition, and
the brief's sentence in both languages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockbrief import api, levels
from stockbrief.store import Store

# A period with high 120, low 100, close 115, open 105: every formula by hand.
H, L, C, OPEN = 120.0, 100.0, 115.0, 105.0
P = (H + L + C) / 3  # 111.6667

WORKED: dict[levels.PivotMethod, dict[str, float]] = {
    "classic": {
        "P": 111.666667,
        "R1": 123.333333,  # 2P - L
        "S1": 103.333333,  # 2P - H
        "R2": 131.666667,  # P + (H - L)
        "S2": 91.666667,
        "R3": 143.333333,  # H + 2(P - L)
        "S3": 83.333333,  # L - 2(H - P)
    },
    "fibonacci": {
        "P": 111.666667,
        "R1": 119.306667,  # P + 0.382 x 20
        "R2": 124.026667,  # P + 0.618 x 20
        "R3": 131.666667,
        "S1": 104.026667,
        "S2": 99.306667,
        "S3": 91.666667,
    },
    "camarilla": {
        "P": 111.666667,
        "R1": 116.833333,  # C + 22 / 12
        "R2": 118.666667,  # C + 22 / 6
        "R3": 120.5,  # C + 22 / 4
        "R4": 126.0,  # C + 22 / 2
        "S1": 113.166667,
        "S2": 111.333333,
        "S3": 109.5,
        "S4": 104.0,
    },
    "woodie": {
        "P": 112.5,  # (H + L + 2C) / 4
        "R1": 125.0,
        "S1": 105.0,
        "R2": 132.5,
        "S2": 92.5,
        "R3": 145.0,
        "S3": 85.0,
        "R4": 165.0,
        "S4": 65.0,
    },
    "demark": {  # close above open: X = 2H + L + C = 455
        "P": 113.75,
        "R1": 127.5,
        "S1": 107.5,
    },
}


@pytest.mark.parametrize("method", levels.PIVOT_METHODS)
def test_pivot_formulas_on_a_worked_example(method: levels.PivotMethod) -> None:
    found = levels.pivots(H, L, C, OPEN, method)
    assert found.keys() == WORKED[method].keys()
    for key, expected in WORKED[method].items():
        assert found[key] == pytest.approx(expected, abs=1e-6), key


@pytest.mark.parametrize(
    ("open_", "x"),
    [(118.0, H + 2 * L + C), (105.0, 2 * H + L + C), (115.0, H + L + 2 * C)],
    ids=["close below open", "close above open", "close at open"],
)
def test_demark_weights_the_side_the_session_closed_on(open_: float, x: float) -> None:
    found = levels.pivots(H, L, C, open_, "demark")
    assert found == pytest.approx({"P": x / 4, "R1": x / 2 - L, "S1": x / 2 - H})


def test_an_unknown_pivot_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown pivot method 'floor'"):
        levels.pivots(H, L, C, OPEN, "floor")  # type: ignore[arg-type]


def _baba(yahoo30: Path, until: dt.date) -> pl.DataFrame:
    return (
        pl.read_csv(yahoo30 / "BABA.csv", try_parse_dates=True)
        .rename(str.lower)
        .filter(pl.col("date") <= until)
    )


def _arrays(bars: pl.DataFrame) -> tuple[list[dt.date], np.ndarray, np.ndarray, np.ndarray]:
    return (
        bars["date"].to_list(),
        bars["high"].to_numpy(),
        bars["low"].to_numpy(),
        bars["close"].to_numpy(),
    )


def test_baba_support_on_2026_01_02_is_the_march_high_retested_in_december(
    yahoo30: Path,
) -> None:
    """On the chart: the 17 March 2025 high (145.96) and the 17 December 2025 low (146.75),
    Yahoo's adjusted prices, turned the price at the same height, just below the 155.74 close."""
    bars = _baba(yahoo30, dt.date(2026, 1, 2))
    dates, high, low, _ = _arrays(bars)
    found = levels.swing_levels(dates, high, low)
    level = next(s for s in found if dt.date(2025, 12, 17) in s.dates)
    assert level.dates == (dt.date(2025, 3, 17), dt.date(2025, 12, 17))
    assert (level.highs, level.lows, level.kind) == (1, 1, "swing")
    by_day = dict(zip(dates, zip(high, low, strict=True), strict=True))
    assert by_day[dt.date(2025, 3, 17)][0] == pytest.approx(145.963, abs=1e-3)
    assert by_day[dt.date(2025, 12, 17)][1] == pytest.approx(146.75, abs=1e-3)
    assert level.value == pytest.approx((145.963 + 146.75) / 2, abs=1e-3)
    # The 17 March high tops the five sessions either side of it.
    i = dates.index(dt.date(2025, 3, 17))
    assert high[i] == high[i - 5 : i + 6].max()


def test_a_swing_counts_only_once_the_sessions_after_it_have_traded(yahoo30: Path) -> None:
    """The 17 December low needs five later sessions (to 24 December) before it is a swing."""
    for day, counted in ((dt.date(2025, 12, 23), False), (dt.date(2025, 12, 24), True)):
        dates, high, low, _ = _arrays(_baba(yahoo30, day))
        swung = {d for s in levels.swing_levels(dates, high, low) for d in s.dates}
        assert (dt.date(2025, 12, 17) in swung) is counted, day


def test_swing_points_need_their_whole_window() -> None:
    high = np.array([1, 2, 3, 9, 3, 2, 1, 2, 3, 4, 5.0])
    highs, lows = levels.swing_points(high, high - 1, span=3)
    assert highs.tolist() == [3]  # bar 9.0: above the three each side
    assert lows.tolist() == [6]  # bar 0.0 low: below the three each side
    # Equal highs: the first is the swing, the second is not.
    flat = np.array([1, 2, 5, 5, 2, 1, 0.0])
    assert levels.swing_points(flat, flat, span=2)[0].tolist() == [2]


def test_clusters_are_never_wider_than_the_tolerance() -> None:
    prices = np.array([100.0, 100.9, 101.6, 103.0, 103.5])
    groups = levels.cluster(prices, 0.01)
    assert [sorted(prices[g].tolist()) for g in groups] == [
        [100.0, 100.9],
        [101.6],
        [103.0, 103.5],
    ]


@pytest.mark.parametrize(
    ("price", "step", "around"),
    [
        (155.74, 10.0, (150.0, 160.0)),
        (46.2, 2.5, (45.0, 47.5)),
        (8.3, 0.5, (8.0, 8.5)),
        (1234.0, 100.0, (1200.0, 1300.0)),
        (150.0, 10.0, (150.0, 160.0)),  # a close on a round number stands on it
        (0.42, 0.025, (0.4, 0.425)),
    ],
)
def test_round_numbers_fit_the_price(
    price: float, step: float, around: tuple[float, float]
) -> None:
    assert levels.round_step(price) == pytest.approx(step)
    assert levels.round_levels(price) == pytest.approx(around)


def test_round_numbers_need_a_price() -> None:
    with pytest.raises(ValueError, match="positive price"):
        levels.round_step(0.0)


def test_a_structural_level_in_reach_beats_a_nearer_pivot() -> None:
    found = [
        levels.Candidate("sma_50", 108.0),
        levels.Candidate("pivot_week_r1", 101.0),
        levels.Candidate("round", 110.0),
        levels.Candidate("swing_low", 95.0, 3, dt.date(2025, 1, 2)),
        levels.Candidate("pivot_week_s1", 99.5),
    ]
    above, below = levels.watch(100.0, found)
    assert above == found[0]
    assert below == found[3]
    # Beyond the reach (10%), the nearest pivot or round number is watched instead.
    far = [levels.Candidate("sma_200", 125.0), levels.Candidate("pivot_week_r1", 104.0)]
    assert levels.watch(100.0, far) == (far[1], None)


def test_a_level_at_the_close_is_support() -> None:
    assert levels.watch(100.0, [levels.Candidate("round", 100.0)]) == (
        None,
        levels.Candidate("round", 100.0),
    )


def test_closed_above_resistance_reads_only_the_bars_up_to_each_day(yahoo30: Path) -> None:
    bars = _baba(yahoo30, dt.date(2026, 3, 25))
    dates, high, low, close = _arrays(bars)
    flags = levels.closed_above_resistance(high, low, close)
    cut = dates.index(dt.date(2025, 6, 30)) + 1
    early = levels.closed_above_resistance(high[:cut], low[:cut], close[:cut])
    assert early.tolist() == flags[:cut].tolist()
    # Each flagged day against the definition, from the swing levels of the day before.
    for t in np.flatnonzero(flags)[-8:]:
        prior = levels.swing_levels(dates[:t], high[:t], low[:t])
        over = [s.value for s in prior if s.touches >= 2 and s.value > close[t - 1]]
        assert over, dates[t]
        assert close[t] > min(over), dates[t]
    assert 0 < flags.sum() < len(dates) / 5


@pytest.fixture(scope="module")
def baba_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from conftest import shared_path

    folder = shared_path("yahoo-30")
    with Store(tmp_path_factory.mktemp("levels") / "baba.duckdb") as db:
        api.ingest("prices", [folder / "BABA.csv"], store=db, end=dt.date(2026, 3, 25))
        yield db


def test_the_brief_names_the_level_and_says_why_in_both_languages(baba_store: Store) -> None:
    day = dt.date(2026, 1, 2)
    english = api.brief("BABA", as_of=day, lang="en", store=baba_store)
    german = api.brief("BABA", as_of=day, lang="de", store=baba_store)
    en = next(s.text for s in english.sections if s.key == "conclusion")
    de = next(s.text for s in german.sections if s.key == "conclusion")
    assert (
        "Below, the nearest support is the swing level at $146.36, where the price turned twice"
        " in the past year, last on 17 December 2025." in en
    )
    assert (
        "Als nächste Unterstützung darunter folgt die Marke bei 146,36\u00a0$, an der der Kurs im"
        " vergangenen Jahr zweimal drehte, zuletzt am 17. Dezember 2025." in de
    )
    facts = english.sheet.to_json()
    assert facts["level_below"]["value"] == pytest.approx(146.356, abs=1e-3)
    assert facts["level_below_last_touch"]["value"] == "2025-12-17"
    assert facts["level_below"]["source"]["to"] == "2026-01-02"
    assert facts["round_above"]["value"] == 160.0
    weekly = {row["level"]: row["value"] for row in facts["pivots_week"]["value"]}
    # The week of 22 to 26 December 2025: high 152.98, low 149.12, close 152.24.
    pivot = (152.98 + 149.12 + 152.24) / 3
    assert weekly["P"] == pytest.approx(pivot, abs=1e-2)
    assert weekly["R1"] == pytest.approx(2 * pivot - 149.12, abs=1e-2)
    assert facts["pivots_week"]["source"]["from"] == "2025-12-22"


def test_a_study_can_ask_for_a_close_above_resistance(baba_store: Store) -> None:
    plain = api.study("cross_above_sma_50", store=baba_store, resamples=100)
    above = api.study(
        "cross_above_sma_50", where="closed_above_resistance > 0", store=baba_store, resamples=100
    )
    assert above.label.startswith("cross_above_sma_50 and closed_above_resistance > 0 (")
    kept = int(above.label.split("(")[1].split(" of ")[0].replace(",", ""))
    total = int(above.label.split(" of ")[1].split(" ")[0].replace(",", ""))
    assert 0 < kept < total
    assert plain.label == "cross_above_sma_50"
