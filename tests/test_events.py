"""Event detectors: each fires on its side of its threshold and not on the other, the kernels
find exactly what the frame definitions of ``polars_events`` find, and the typed columns spell
out the same ``detail`` as before."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import polars_events as reference
from helpers import load_yahoo
from stockbrief import consensus
from stockbrief import detectors as ev
from stockbrief.compute import BARS_SCHEMA, compute
from stockbrief.detectors import CONFIRM, EVENTS_SCHEMA, THRESHOLDS, detect, with_detail
from stockbrief.errors import InputError

START = dt.date(2024, 1, 1)
ROOT = Path(__file__).resolve().parents[1]
NAMES = list(ev.INPUTS)


def frame(**columns: list[float | None]) -> pl.DataFrame:
    """One ticker, consecutive dates; every indicator column not given is null."""
    n = len(next(iter(columns.values())))
    base: dict[str, object] = {
        "ticker": ["T"] * n,
        "date": [START + dt.timedelta(days=i) for i in range(n)],
    }
    for name in NAMES:
        base[name] = columns.get(name, [None] * n)
    return pl.DataFrame(base, schema_overrides=dict.fromkeys(NAMES, pl.Float64))


def kinds(found: pl.DataFrame) -> list[tuple[int, str]]:
    return [((d - START).days, k) for d, k in found.select("date", "kind").iter_rows()]


def detail(found: pl.DataFrame, kind: str) -> dict[str, Any]:
    row = with_detail(found).filter(pl.col("kind") == kind).row(0, named=True)
    parsed: dict[str, Any] = json.loads(row["detail"])
    return parsed


def assert_as_reference(bars_and_indicators: pl.DataFrame, *, exact_json: bool = True) -> None:
    """The kernels' events, spelled out, are the frame definitions' events."""
    want = reference.detect(bars_and_indicators)
    found = detect(bars_and_indicators)
    assert found.schema == pl.Schema(EVENTS_SCHEMA)
    got = with_detail(found).select(want.columns)
    if exact_json:
        assert got.equals(want)
        return
    assert got.drop("detail").equals(want.drop("detail"))
    assert [json.loads(d) for d in got["detail"]] == [json.loads(d) for d in want["detail"]]


# -- each detector on each side of its threshold --------------------------------------------


def test_cross_above_confirmed_breakout() -> None:
    close = [99.0, 101.0, 102.0, 103.0, 104.0]
    found = detect(
        frame(close=close, sma_200=[100.0] * 5),
        {k: v for k, v in ev.EVENT_KINDS.items() if k.endswith("sma_200")},
    )
    assert kinds(found) == [(1, "cross_above_sma_200"), (CONFIRM, "breakout_confirmed_sma_200")]
    cross = found.row(0, named=True)
    assert cross["value"] == pytest.approx(0.01)
    assert (cross["level"], cross["observed"]) == (100.0, 101.0)
    assert detail(found, "cross_above_sma_200") == {"level": 100.0, "close": 101.0, "window": 200}


def test_failed_breakout_names_the_sessions_it_held() -> None:
    close = [99.0, 101.0, 102.0, 99.5, 98.0]
    only = [k for k in ev.EVENT_KINDS if k.endswith("sma_50")]
    found = detect(frame(close=close, sma_50=[100.0] * 5), only)
    assert kinds(found) == [
        (1, "cross_above_sma_50"),
        (3, "breakout_failed_sma_50"),
        (3, "cross_below_sma_50"),
    ]
    failed = found.filter(pl.col("kind") == "breakout_failed_sma_50").row(0, named=True)
    assert failed["sessions"] == 2
    assert failed["value"] == pytest.approx(-0.005)
    assert detail(found, "breakout_failed_sma_50")["sessions_held"] == 2
    assert found.filter(pl.col("kind") != "breakout_failed_sma_50")["sessions"].is_null().all()


def test_no_cross_without_the_average_the_day_before() -> None:
    found = detect(frame(close=[101.0, 102.0], sma_50=[None, 100.0]))
    assert found.is_empty()


def test_golden_and_death_cross() -> None:
    found = detect(
        frame(close=[1.0] * 4, sma_50=[99.0, 101.0, 101.0, 99.0], sma_200=[100.0] * 4),
        ["golden_cross", "death_cross"],
    )
    assert kinds(found) == [(1, "golden_cross"), (3, "death_cross")]
    assert found.select("level", "observed").rows() == [(100.0, 101.0), (100.0, 99.0)]


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
        ["large_move_up", "large_move_down"],
    )
    assert kinds(found) == [(2, "large_move_up"), (3, "large_move_down")]
    assert found["level"].to_list() == [vol, vol]


def test_gap_needs_a_true_gap_of_the_minimum_size() -> None:
    gap = THRESHOLDS["gap_min"].value
    found = detect(
        frame(
            open=[100.0, 100.0 * (1 + gap) - 1e-6, 100.0 * (1 + gap), 99.5, 100.0 * (1 - gap)],
            high=[100.0, 100.5, 101.0, 101.0, 100.0],
            low=[100.0, 100.0, 99.0, 99.5, 98.0],
            close=[100.0, 100.0, 100.0, 100.0, 100.0],
        ),
        ["gap_up", "gap_down"],
    )
    # Day 1 opens just under 1% up (too small); day 2 opens 1% up, above the 100.5 high;
    # day 3 opens inside the previous range; day 4 opens 1% down, below the 99.5 low.
    assert kinds(found) == [(2, "gap_up"), (4, "gap_down")]
    assert found["level"].to_list() == [100.5, 99.5]


def test_new_52_week_high_compares_with_the_previous_window() -> None:
    found = detect(
        frame(
            high=[10.0, 12.0, 12.0],
            low=[9.0, 9.0, 8.0],
            high_52w=[10.0, 12.0, 12.0],
            low_52w=[9.0, 9.0, 8.0],
        ),
        ["new_52w_high", "new_52w_low"],
    )
    assert kinds(found) == [(1, "new_52w_high"), (2, "new_52w_low")]
    assert found.select("value", "level").rows() == [(12.0, 10.0), (8.0, 9.0)]


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
        "adx_trend_level",
        "stoch_oversold",
        "stoch_overbought",
        "obv_divergence_sessions",
    }


def test_each_event_records_the_parameters_it_was_detected_with() -> None:
    surge = THRESHOLDS["volume_surge_rel_volume"].value
    found = detect(frame(rel_volume=[1.0, surge], volume=[1.0, 2.0], typical_volume_50=[1.0, 1.0]))
    assert detail(found, "volume_surge") == {
        "volume": 2,
        "typical_volume": 1.0,
        "min_rel_volume": surge,
        "window": 50,
    }
    assert all(kind.params for kind in ev.EVENT_KINDS.values())
    surge_id = found.filter(pl.col("kind") == "volume_surge")["params_id"][0]
    assert ev.EVENT_PARAMS[surge_id] == ("volume_surge", {"min_rel_volume": surge, "window": 50})


def test_unknown_kind_is_refused_with_a_suggestion() -> None:
    with pytest.raises(InputError, match="did you mean golden_cross"):
        detect(frame(close=[1.0]), ["golden_cros"])


def test_missing_columns_are_named() -> None:
    with pytest.raises(InputError, match="sma_200"):
        detect(frame(close=[1.0]).drop("sma_200"))


def test_no_rows_and_no_kinds_give_the_empty_schema() -> None:
    assert detect(frame(close=[]).clear()).schema == pl.Schema(EVENTS_SCHEMA)
    assert detect(frame(close=[99.0, 101.0], sma_50=[100.0] * 2), []).is_empty()


# -- the same events as the frame definitions ---------------------------------------------


@pytest.fixture(scope="module")
def yahoo_frame() -> pl.DataFrame:
    from conftest import shared_path

    return compute(load_yahoo(shared_path("yahoo-30"))).frame


def synthetic_universe(n_tickers: int, n_days: int) -> pl.DataFrame:
    """``benchmarks/universe.py``'s random walks (loaded from its file: not a package)."""
    spec = importlib.util.spec_from_file_location("universe", ROOT / "benchmarks" / "universe.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bars: pl.DataFrame = module.universe(n_tickers, n_days)
    return bars


def test_every_yahoo_ticker_has_the_reference_events(yahoo_frame: pl.DataFrame) -> None:
    assert yahoo_frame["ticker"].n_unique() == 30
    assert_as_reference(yahoo_frame)
    found = detect(yahoo_frame)
    assert set(found["kind"]) == set(ev.EVENT_KINDS)
    per_ticker = found.group_by("ticker").len()
    assert per_ticker.height == 30


def test_a_synthetic_universe_has_the_reference_events() -> None:
    assert_as_reference(compute(synthetic_universe(300, 600)).frame)


def test_the_engine_arrays_give_the_frame_events(yahoo_frame: pl.DataFrame) -> None:
    runs = yahoo_frame.select(pl.col("ticker").rle()).unnest("ticker")
    offsets = np.concatenate([[0], np.cumsum(runs["len"].to_numpy())]).astype(np.int64)
    columns = {c: yahoo_frame[c].cast(pl.Float64).to_numpy() for c in ev.INPUTS}
    found = ev.detect_arrays(runs["value"], offsets, yahoo_frame["date"], columns)
    assert found.equals(detect(yahoo_frame))


def test_arrays_that_disagree_with_the_offsets_are_refused(yahoo_frame: pl.DataFrame) -> None:
    columns = {c: yahoo_frame[c].cast(pl.Float64).to_numpy() for c in ev.INPUTS}
    columns["sma_50"] = columns["sma_50"][:-1]
    offsets = np.array([0, yahoo_frame.height], dtype=np.int64)
    with pytest.raises(InputError, match="sma_50 has"):
        ev.detect_arrays(pl.Series(["ALL"]), offsets, yahoo_frame["date"], columns)
    with pytest.raises(InputError, match="segments"):
        ev.detect_arrays(
            pl.Series(["A", "B"]),
            offsets,
            yahoo_frame["date"],
            columns | {"sma_50": yahoo_frame["sma_50"].to_numpy()},
        )


def test_since_keeps_the_rows_before_as_context(yahoo_frame: pl.DataFrame) -> None:
    day = dt.date(2025, 6, 2)
    found = detect(yahoo_frame, since=day)
    assert found.equals(detect(yahoo_frame).filter(pl.col("date") >= day))
    assert found["date"].min() == day
    want = reference.detect(yahoo_frame, since=day)
    assert with_detail(found).select(want.columns).equals(want)


def test_no_detector_reads_a_later_row(yahoo_frame: pl.DataFrame) -> None:
    day = dt.date(2024, 11, 5)
    truncated = detect(yahoo_frame.filter(pl.col("date") <= day))
    assert truncated.equals(detect(yahoo_frame).filter(pl.col("date") <= day))


def test_an_unsorted_frame_gives_sorted_events(yahoo_frame: pl.DataFrame) -> None:
    shuffled = pl.concat(
        [yahoo_frame.filter(pl.col("ticker") >= "M"), yahoo_frame.filter(pl.col("ticker") < "M")]
    )
    assert detect(shuffled).equals(detect(yahoo_frame))


def random_walks(seed: int, n_tickers: int, n_days: int) -> pl.DataFrame:
    """Bars of random walks with flat stretches (zero returns and zero volatility), days
    without volume and late listings."""
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_tickers):
        steps = rng.normal(0, 0.02, n_days) * (rng.random(n_days) > 0.3)
        close = np.round(20 * np.exp(np.cumsum(steps)), 2)
        open_ = np.round(close * np.exp(rng.normal(0, 0.015, n_days)), 2)
        volume = rng.integers(0, 3, n_days) * rng.integers(1, 10**6, n_days)
        first = int(rng.integers(0, max(n_days // 3, 1)))
        for i in range(first, n_days):
            high = max(open_[i], close[i]) * (1 + 0.01 * rng.random())
            low = min(open_[i], close[i]) * (1 - 0.01 * rng.random())
            rows.append(
                (f"W{t}", START + dt.timedelta(days=i), open_[i], high, low, close[i], volume[i])
            )
    return pl.DataFrame(rows, schema=BARS_SCHEMA, orient="row")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_tickers=st.integers(1, 3), n_days=st.integers(1, 400))
def test_random_walks_have_the_reference_events(seed: int, n_tickers: int, n_days: int) -> None:
    assert_as_reference(compute(random_walks(seed, n_tickers, n_days)).frame)


VALUES = st.sampled_from([None, 0.0, 1.0, 2.0, 2.5, -2.5, 99.0, 100.0, 101.0, float("inf")])
VOLUMES = st.sampled_from([None, 0.0, 1.0, 2.0, 100.0])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 12))
def test_edge_values_have_the_reference_events(data: st.DataObject, n: int) -> None:
    """Ties, zeros (0/0 ratios), infinities and nulls in every column, two tickers; volumes
    are whole numbers (a count of shares), which ``detail`` shows as integers."""
    columns = {
        c: data.draw(st.lists(VOLUMES if c == "volume" else VALUES, min_size=n, max_size=n))
        for c in NAMES
    }
    first = frame(**columns)
    split = data.draw(st.integers(0, n))
    both = first.with_columns(
        pl.when(pl.int_range(pl.len()) < split)
        .then(pl.lit("A"))
        .otherwise(pl.lit("B"))
        .alias("ticker")
    )
    assert_as_reference(first, exact_json=False)
    assert_as_reference(both, exact_json=False)


# -- parameters and detail --------------------------------------------------------------


def test_params_ids_are_stable_distinct_and_registered() -> None:
    assert len(ev.EVENT_PARAMS) == len(ev.EVENT_KINDS) + len(consensus.CONSENSUS_EVENT_KINDS)
    assert ev.params_id("cross_above_sma_200", {"window": 200.0}) == ev.params_id(
        "cross_above_sma_200", {"window": 200}
    )
    assert ev.EVENT_KINDS["cross_above_sma_200"].params_id == 1_876_990_679
    assert ev.params_id("gap_up", {"min_gap": 0.02}) != ev.EVENT_KINDS["gap_up"].params_id
    for pid, (kind, params) in ev.EVENT_PARAMS.items():
        assert 0 < pid < 2**31
        assert ev.params_id(kind, params) == pid
    table = ev.params_frame()
    assert table.schema == pl.Schema({"id": pl.Int32, "kind": pl.String, "params": pl.String})
    assert table.height == len(ev.EVENT_PARAMS)
    assert {i: (k, json.loads(p)) for i, k, p in table.iter_rows()} == ev.EVENT_PARAMS


def test_detail_of_events_found_under_older_thresholds() -> None:
    found = detect(frame(open=[100.0, 103.0], high=[100.0] * 2, low=[99.0] * 2, close=[100.0] * 2))
    older = {"min_gap": 0.02}
    old_id = ev.params_id("gap_up", older)
    stored = found.with_columns(pl.lit(old_id, pl.Int32).alias("params_id"))
    with pytest.raises(InputError, match="params_id"):
        with_detail(stored)
    kept = pl.DataFrame(
        {"id": [old_id], "kind": ["gap_up"], "params": [json.dumps(older)]},
        schema={"id": pl.Int32, "kind": pl.String, "params": pl.String},
    )
    assert json.loads(with_detail(stored, kept)["detail"][0]) == {
        "open": 103.0,
        "previous_high": 100.0,
        "min_gap": 0.02,
    }


def test_with_detail_keeps_the_order_and_the_empty_frame() -> None:
    found = detect(
        frame(close=[99.0, 101.0, 102.0, 103.0], sma_50=[100.0] * 4, rel_volume=[3.0] * 4)
    )
    spelled = with_detail(found)
    assert spelled.drop("detail").equals(found)
    assert with_detail(found.clear()).columns == [*EVENTS_SCHEMA, "detail"]


def ratings(*rows: tuple[str, str, str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            ("BABA", firm, dt.date.fromisoformat(d), rating, target)
            for firm, d, rating, target in rows
        ],
        schema=["ticker", "firm", "date", "rating", "target"],
        orient="row",
    )


def reference_changes(history: pl.DataFrame) -> pl.DataFrame:
    """``consensus.changes`` as it was, with its JSON ``detail``."""
    rank = {label: i for i, (_, _, label) in enumerate(consensus.SCHEMES["marketbeat"].labels)}
    frame = history.sort("ticker", "date").with_columns(
        pl.col("label").replace_strict(rank, default=None).alias("rank"),
        pl.col("label").shift(1).over("ticker").alias("prev_label"),
        pl.col("label").replace_strict(rank, default=None).shift(1).over("ticker").alias("prev"),
        pl.col("target_mean").shift(1).over("ticker").alias("prev_target"),
    )
    label_detail = pl.struct("label", "prev_label", "score").struct.json_encode()
    target_detail = pl.struct("target_mean", "prev_target").struct.json_encode()
    move = pl.col("target_mean") / pl.col("prev_target") - 1
    parts = (
        ("consensus_upgrade", pl.col("rank") > pl.col("prev"), pl.col("score"), label_detail),
        ("consensus_downgrade", pl.col("rank") < pl.col("prev"), pl.col("score"), label_detail),
        ("target_raised", move > 0, move, target_detail),
        ("target_lowered", move < 0, move, target_detail),
    )
    return pl.concat(
        [
            frame.filter(cond.fill_null(False)).select(
                "ticker",
                "date",
                pl.lit(kind).alias("kind"),
                value.cast(pl.Float64).alias("value"),
                detail.alias("detail"),
            )
            for kind, cond, value, detail in parts
        ]
    ).sort("ticker", "date", "kind")


def test_consensus_changes_have_the_typed_columns_and_the_old_detail() -> None:
    history = consensus.history(
        ratings(
            ("A", "2025-06-01", "Hold", 150.0),
            ("B", "2025-06-01", "Hold", 150.0),
            ("A", "2025-07-01", "Buy", 170.0),
            ("B", "2025-08-01", "Hold", 140.0),
            ("C", "2025-09-01", "Sell", 100.0),
        ),
        ["BABA"],
    )
    found = consensus.changes(history)
    assert found.schema == pl.Schema(EVENTS_SCHEMA)
    assert (
        with_detail(found)
        .select("ticker", "date", "kind", "value", "detail")
        .equals(reference_changes(history))
    )
    upgrade = found.row(0, named=True)
    assert (upgrade["kind"], upgrade["prev_label"], upgrade["label"]) == (
        "consensus_upgrade",
        "Hold",
        "Moderate Buy",
    )
    assert upgrade["level"] == 2.0
    assert upgrade["observed"] == upgrade["value"] == 2.5
    assert set(found["params_id"]) <= set(ev.EVENT_PARAMS)
    assert {ev.EVENT_PARAMS[i][0] for i in found["params_id"]} == set(found["kind"])
    gap = detect(frame(open=[100.0, 103.0], high=[100.0] * 2, low=[99.0] * 2, close=[100.0] * 2))
    mixed = with_detail(pl.concat([gap, found]))
    assert mixed["kind"].to_list() == ["gap_up", *found["kind"]]
    assert mixed["detail"].to_list()[1:] == reference_changes(history)["detail"].to_list()


def test_no_move_after_a_flat_stretch_is_not_a_large_move() -> None:
    """A suspended stock (60 flat sessions: volatility 0) that reopens unchanged moved 0/0
    standard deviations: no event. One that reopens higher moved infinitely many: an event."""
    flat = frame(return_1d=[0.0, 0.0, 0.0], volatility_60=[0.0, 0.0, 0.0])
    assert kinds(detect(flat)) == []
    assert_as_reference(flat)
    moved = frame(return_1d=[0.0, 0.0, 0.05], volatility_60=[0.0, 0.0, 0.0])
    assert kinds(detect(moved)) == [(2, "large_move_up")]
