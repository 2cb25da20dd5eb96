"""The Alibaba example: the seed note's non-price facts as data, with real prices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from helpers import write_csv
from stockbrief import api
from stockbrief.errors import InputError
from stockbrief.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
DAY = dt.date(2026, 1, 2)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    db = Store(tmp_path_factory.mktemp("example") / "example.duckdb")
    files = [prices / f"{t}.csv" for t in ("BABA", "BIDU", "JD", "PDD", "BILI")]
    api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
    for kind in ("securities", "ratings", "consensus", "kpis"):
        api.ingest(kind, [EXAMPLE / f"{kind}.csv"], store=db)  # type: ignore[arg-type]
    api.ingest("news", [EXAMPLE / "news.jsonl"], store=db)
    yield db
    db.close()


def test_consensus_of_the_seed_note(store: Store) -> None:
    view = api.analyst_view("BABA", as_of=DAY, store=store)
    assert view is not None
    assert (view.label, view.target_mean, view.source) == ("Moderate Buy", 194.0, "seed-note")
    assert view.close == pytest.approx(155.74, abs=0.005)
    assert view.upside == pytest.approx(194 / 155.74 - 1, rel=1e-4)  # "about 25%"
    assert [(f.firm, f.target) for f in view.top_targets()] == [
        ("Jefferies", 230.0),
        ("Nomura", 215.0),
    ]


def test_baidu_news_reaches_alibaba_as_peer_news(store: Store) -> None:
    found = api.news("BABA", as_of=DAY, store=store)
    assert found.select("about", "role").rows() == [("BIDU", "peer")]
    assert found["sentiment"][0] > 0
    assert api.news("BABA", as_of=dt.date(2025, 12, 31), store=store).is_empty()


def test_kpis_with_period_and_source(store: Store) -> None:
    cloud = api.kpis("BABA", as_of=DAY, store=store).row(0, named=True)
    assert cloud["name"] == "Cloud Intelligence Group revenue"
    assert (cloud["period_end"], cloud["yoy"], cloud["source"]) == (
        dt.date(2025, 9, 30),
        0.34,
        "seed-note",
    )
    assert api.kpis("BABA", as_of=dt.date(2025, 10, 1), store=store).height == 1


def test_reingesting_the_example_is_a_no_op(store: Store) -> None:
    report = api.ingest("ratings", [EXAMPLE / "ratings.csv"], store=store)
    assert (report.result.inserted, report.result.unchanged) == (0, 2)


def test_bad_analyst_and_news_files(tmp_path: Path, store: Store) -> None:
    ratings = write_csv(
        tmp_path / "r.csv",
        ["BABA,Citi,2026-01-02,Buy,200", "BABA,UBS,2026-01-02,Outperfrom,210"],
        "ticker,firm,date,rating,target",
    )
    with pytest.raises(InputError, match="did you mean 'outperform'") as caught:
        api.ingest("ratings", [ratings], store=store)
    assert (caught.value.row, caught.value.field) == (2, "rating")
    summary = write_csv(
        tmp_path / "c.csv", ["BABA,2026-01-05,x,,"], "ticker,date,source,label,target_mean"
    )
    with pytest.raises(InputError, match="needs a label or the counts"):
        api.ingest("consensus", [summary], store=store)
    news = tmp_path / "n.jsonl"
    news.write_text(
        '{"published_at": "2026-01-02T08:00:00Z", "headline": "x", "tickers": "BABA; ../etc"}\n'
    )
    with pytest.raises(InputError, match="invalid ticker") as bad_news:
        api.ingest("news", [news], store=store)
    assert (bad_news.value.row, bad_news.value.field) == (1, "tickers")
    kpi = write_csv(tmp_path / "k.csv", ["BABA,2025-09-30,x,lots"], "ticker,period_end,name,value")
    with pytest.raises(InputError, match="not a number"):
        api.ingest("kpis", [kpi], store=store)
    assert api.analyst_view("BABA", as_of=dt.date(2026, 1, 5), store=store).label == "Moderate Buy"
