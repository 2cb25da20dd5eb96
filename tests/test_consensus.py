"""Analyst consensus: vocabulary, scheme boundaries, windows, targets and changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from stockbrief import api, consensus, model
from stockbrief import detectors as events
from stockbrief.consensus import SCHEMES, bucket_of, from_ratings
from stockbrief.errors import InputError

DAY = dt.date(2026, 1, 2)


def ratings(*rows: tuple[str, str, str, float | None]) -> pl.DataFrame:
    """(firm, date, rating, target) rows for BABA."""
    return pl.DataFrame(
        [
            ("BABA", firm, dt.date.fromisoformat(day), None, rating, None, target, None)
            for firm, day, rating, target in rows
        ],
        schema=model.RATINGS,
        orient="row",
    )


@pytest.mark.parametrize(
    ("word", "bucket"),
    [
        ("Outperform", "buy"),
        ("Overweight", "buy"),
        ("Accumulate", "buy"),
        ("Strong Buy", "strong_buy"),
        ("Neutral", "hold"),
        ("Equal-Weight", "hold"),
        ("Market Perform", "hold"),
        ("Underperform", "sell"),
        ("Underweight", "sell"),
        ("Reduce", "sell"),
        ("  SELL ", "sell"),
    ],
)
def test_broker_words_map_to_buckets(word: str, bucket: str) -> None:
    assert bucket_of(word) == bucket


def test_unknown_word_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(InputError, match=r"unknown rating 'Outperfrom'; did you mean 'outperform'"):
        bucket_of("Outperfrom")


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (1.0, "Sell"),
        (1.4999, "Sell"),
        (1.5, "Hold"),
        (2.4999, "Hold"),
        (2.5, "Moderate Buy"),
        (2.9999, "Moderate Buy"),
        (3.0, "Buy"),
        (3.5, "Buy"),
        (3.5001, "Strong Buy"),
        (4.0, "Strong Buy"),
    ],
)
def test_marketbeat_labels_on_each_side_of_each_boundary(score: float, label: str) -> None:
    assert SCHEMES["marketbeat"].label(score) == label


def test_latest_rating_per_firm_within_twelve_months() -> None:
    frame = ratings(
        ("Old", "2024-12-01", "Sell", 100.0),  # outside the 12-month window
        ("A", "2025-03-01", "Hold", 150.0),
        ("A", "2025-11-01", "Buy", 200.0),  # A's latest view counts, not its earlier one
        ("B", "2025-06-01", "Outperform", 180.0),
        ("C", "2025-09-01", "Neutral", None),
        ("Later", "2026-01-05", "Sell", 90.0),  # after the as-of date
    )
    view = from_ratings(frame, "BABA", DAY, close=155.74)
    assert view is not None
    assert view.n_firms == 3
    assert view.score == pytest.approx((3 + 3 + 2) / 3)
    assert view.label == "Moderate Buy"
    assert view.target_mean == pytest.approx((200 + 180) / 2)
    assert (view.target_high, view.target_low, view.target_median) == (200.0, 180.0, 190.0)
    assert view.upside == pytest.approx(190 / 155.74 - 1)
    assert [f.firm for f in view.top_targets(2)] == ["A", "B"]
    assert view.window_start == dt.date(2025, 1, 3)


def test_a_firms_earlier_target_counts_when_its_latest_note_has_none() -> None:
    frame = ratings(("A", "2025-05-01", "Buy", 210.0), ("A", "2025-10-01", "Buy", None))
    view = from_ratings(frame, "BABA", DAY)
    assert view is not None
    assert view.target_mean == 210.0


def test_a_few_firms_defer_to_a_provider_summary() -> None:
    few = ratings(("Jefferies", "2026-01-02", "Buy", 230.0), ("Nomura", "2026-01-02", "Buy", 215.0))
    summary = pl.DataFrame(
        [("BABA", DAY, "seed-note", "Moderate Buy", *[None] * 5, 194.0, None, None, None)],
        schema=model.CONSENSUS,
        orient="row",
    )
    view = consensus.consensus(few, summary, "BABA", DAY, close=155.74)
    assert view is not None
    assert (view.source, view.label, view.target_mean) == ("seed-note", "Moderate Buy", 194.0)
    assert view.upside == pytest.approx(0.2457, abs=1e-4)
    assert [(f.firm, f.target) for f in view.top_targets()] == [
        ("Jefferies", 230.0),
        ("Nomura", 215.0),
    ]
    alone = consensus.consensus(few, summary.clear(), "BABA", DAY)
    assert alone is not None
    assert (alone.source, alone.label) == ("ratings", "Buy")


def test_summary_counts_are_scored_by_the_scheme() -> None:
    summary = pl.DataFrame(
        [("BABA", DAY, "yahoo", None, 5, 20, 6, 1, 0, 190.0, 188.0, 260.0, 120.0)],
        schema=model.CONSENSUS,
        orient="row",
    )
    view = consensus.from_summary(summary, "BABA", DAY)
    assert view is not None
    assert view.score == pytest.approx((5 * 4 + 20 * 3 + 6 * 2 + 1) / 32)  # 2.91
    assert view.label == "Moderate Buy"
    assert view.n_firms == 32


def test_changes_become_events() -> None:
    frame = ratings(
        ("A", "2025-06-01", "Hold", 150.0),
        ("B", "2025-06-01", "Hold", 150.0),
        ("A", "2025-07-01", "Buy", 170.0),
        ("B", "2025-08-01", "Hold", 140.0),
    )
    found = consensus.changes(consensus.history(frame, ["BABA"]))
    assert found.select("date", "kind").rows() == [
        (dt.date(2025, 7, 1), "consensus_upgrade"),
        (dt.date(2025, 7, 1), "target_raised"),
        (dt.date(2025, 8, 1), "target_lowered"),
    ]
    first = found.row(0, named=True)
    assert (first["prev_label"], first["label"]) == ("Hold", "Moderate Buy")
    upgrade = json.loads(events.with_detail(found).row(0, named=True)["detail"])
    assert (upgrade["prev_label"], upgrade["label"]) == ("Hold", "Moderate Buy")


def test_a_provider_label_must_be_a_known_rating(tmp_path: Path) -> None:
    summary = tmp_path / "c.csv"
    summary.write_text("ticker,date,label,target_mean\nNVDA,2026-01-02,Stronk Buy,200\n")
    with pytest.raises(InputError, match=r"row 1, field 'label': unknown rating 'Stronk Buy'"):
        api.ingest("consensus", [summary], store=tmp_path / "s.duckdb")
