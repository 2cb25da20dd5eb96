"""`stockbrief fetch` end to end on a recorded Yahoo payload: profile, news, KPIs and peers reach
the store and the brief, a refetch changes nothing, and nothing is shown before it was known.

``YahooSource.fetch_raw`` is the provider's only I/O; these tests replace it with the payload it
recorded (``tests/data/yahoo/baba-2026-01-05.json``), so everything after the download runs as
it does for a user.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import shared_path
from stockbrief import api
from stockbrief.cli import app
from stockbrief.sources.yahoo import YahooSource
from stockbrief.store import Store

PAYLOAD = Path(__file__).parent / "data" / "yahoo" / "baba-2026-01-05.json"


def recorded() -> dict[str, Any]:
    with PAYLOAD.open() as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


@pytest.fixture
def payload(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The payload every download in the test returns (change it to change the download)."""
    raw = recorded()
    monkeypatch.setattr(YahooSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    return raw


def with_history_since(raw: dict[str, Any], first: str) -> dict[str, Any]:
    """The payload with BABA's real unadjusted bars from ``first`` to 2 January 2026 in place
    of its short history (BABA paid no split in that time, so Yahoo's split-adjusted prices
    are the traded ones)."""
    path = shared_path("tradingview-baba", "BABA.csv")
    with path.open() as fh:
        rows = [r for r in csv.DictReader(fh) if first <= r["date"] <= "2026-01-02"]
    raw["tickers"]["BABA"]["history"] = [
        {
            "Date": r["date"],
            "Open": float(r["open"]),
            "High": float(r["high"]),
            "Low": float(r["low"]),
            "Close": float(r["close"]),
            "Volume": int(r["volume"]),
            "Dividends": 0.0,
            "Stock Splits": 0.0,
        }
        for r in rows
    ]
    raw["since"] = first
    return raw


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_fetch_then_brief_shows_the_company_its_news_and_its_kpis(
    payload: dict[str, Any], tmp_path: Path
) -> None:
    store = str(tmp_path / "s.duckdb")
    fetched = cli("fetch", "BABA", "--store", store)
    assert "yahoo securities: 5 rows for 5 tickers" in fetched  # BABA and 4 industry peers
    assert "yahoo news: 3 rows for 3 tickers" in fetched
    assert "1 news item left out" in fetched  # the untitled video
    assert "yahoo kpis: 36 rows for 1 ticker" in fetched
    note = cli("brief", "BABA", "--store", store)
    assert "Alibaba Group Holding Limited (BABA), 2 January 2026" in note
    assert "BABA (BABA)" not in note
    # The wording is the template's; the facts behind it are checked below and in the JSON.
    assert "Chinese tech stocks rally at the start of 2026 as AI optimism builds" in note
    assert "Reuters" in note
    assert "Alibaba's Qwen model family passes 600 million downloads" in note
    assert "Alibaba stock extends gains" not in note  # published 5 January, after the brief
    assert "Quarterly revenue: 247.8 billion CNY" in note
    assert "Annual revenue: 996.3 billion CNY" in note
    facts = json.loads(cli("brief", "BABA", "--store", store, "--format", "json"))["facts"]
    kpis = {k["name"]: k for k in facts["kpis"]["value"]}
    assert kpis["Quarterly revenue"]["yoy"] == pytest.approx(0.0477, abs=1e-4)
    assert kpis["Annual revenue"]["yoy"] == pytest.approx(0.0586, abs=1e-4)
    assert kpis["Quarterly revenue"]["unit"] == "CNY"
    assert [n["source"] for n in facts["news"]["value"]] == ["Reuters", "Motley Fool"]


def test_the_profile_the_peers_and_the_news_as_stored(
    payload: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "s.duckdb"
    api.fetch(["BABA"], since="2025-12-29", store=store)
    with Store(store, read_only=True) as db:
        securities = {r["ticker"]: r for r in db.securities().iter_rows(named=True)}
        links = db.read("news_tickers")
        news = db.read("news")
        kpis = db.read("kpis", ["BABA"])
    baba = securities["BABA"]
    assert (baba["name"], baba["exchange"], baba["currency"]) == (
        "Alibaba Group Holding Limited",
        "XNYS",
        "USD",
    )
    assert (baba["sector"], baba["industry"]) == ("Consumer Cyclical", "Internet Retail")
    assert baba["type"] == "stock"
    assert baba["peer_group"] == "yahoo:internet-retail"
    assert sorted(t for t, r in securities.items() if r["peer_group"] == baba["peer_group"]) == [
        "AMZN",
        "BABA",
        "JD",
        "MELI",
        "PDD",
    ]
    assert securities["AMZN"]["name"] == "Amazon.com, Inc."
    reuters = news.filter(pl.col("source") == "Reuters").row(0, named=True)
    assert reuters["published_at"] == dt.datetime(2026, 1, 2, 15, 42, tzinfo=dt.UTC)
    assert reuters["sentiment"] > 0.05  # scored from the headline: "rally", "optimism"
    assert sorted(links.filter(pl.col("id") == reuters["id"])["ticker"]) == ["BABA", "BIDU", "JD"]
    q3 = kpis.filter(
        (pl.col("name") == "Quarterly revenue") & (pl.col("period_end") == dt.date(2025, 9, 30))
    ).row(0, named=True)
    assert q3["yoy"] == pytest.approx(247_795 / 236_503 - 1)
    assert q3["known_at"] == dt.datetime(2025, 11, 25, 11, 30, tzinfo=dt.UTC)


def test_a_refetch_of_the_same_day_stores_nothing_new(
    payload: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "s.duckdb"
    api.fetch(["BABA"], since="2025-12-29", store=store)
    payload["fetched_at"] = "2026-01-05T15:30:00Z"  # half an hour later
    again = {r.kind: r for r in api.fetch(["BABA"], since="2025-12-29", store=store)}
    assert all(r.result.inserted == 0 for r in again.values()), [
        r.summary() for r in again.values()
    ]
    assert again["yahoo news"].filtered == 4  # three stories already stored, one untitled
    with Store(store, read_only=True) as db:
        kpis = db.read("kpis", ["BABA"])
    # A figure with no release date is known from the first download, not the second.
    old = kpis.filter(pl.col("period_end") == dt.date(2022, 3, 31))["known_at"].unique()
    assert old.to_list() == [dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC)]


def test_stored_reference_data_wins_and_yahoo_fills_the_gaps(
    payload: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "s.duckdb"
    (tmp_path / "securities.csv").write_text(
        "ticker,name,peer_group\nBABA,Alibaba,china-internet\n"
    )
    api.ingest("securities", [tmp_path / "securities.csv"], store=store)
    api.fetch(["BABA"], since="2025-12-29", store=store)
    with Store(store, read_only=True) as db:
        securities = db.securities()
    assert securities["ticker"].to_list() == ["BABA"]  # no industry peers: a group is stored
    row = securities.row(0, named=True)
    assert (row["name"], row["peer_group"]) == ("Alibaba", "china-internet")
    assert (row["exchange"], row["sector"]) == ("XNYS", "Consumer Cyclical")


def test_a_brief_before_a_release_does_not_show_its_figures(
    payload: dict[str, Any], tmp_path: Path
) -> None:
    """Alibaba released its September quarter on 25 November 2025 (11:30 UTC): a brief of
    24 November shows the June quarter, one of 25 November the September quarter."""
    with_history_since(payload, "2025-06-02")
    store = tmp_path / "s.duckdb"
    api.fetch(["BABA"], since="2025-06-02", store=store)

    def quarterly_revenue(day: dt.date) -> dict[str, Any]:
        facts = api.brief("BABA", as_of=day, store=store).sheet.value("kpis")
        return next(k for k in facts if k["name"] == "Quarterly revenue")

    before = quarterly_revenue(dt.date(2025, 11, 24))
    assert (before["period_end"], before["value"]) == (dt.date(2025, 6, 30), 247_652e6)
    after = quarterly_revenue(dt.date(2025, 11, 25))
    assert (after["period_end"], after["value"]) == (dt.date(2025, 9, 30), 247_795e6)
    assert after["yoy"] == pytest.approx(0.0477, abs=1e-4)
    early = api.kpis("BABA", as_of=dt.date(2025, 11, 24), store=store)
    assert dt.date(2025, 9, 30) not in early["period_end"].to_list()
    assert early.height == 4 * 4 + 3 * 4  # four known quarters and three known years


def test_a_kpi_file_may_say_when_each_figure_was_known(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    api.load_sample(store)
    kpis = tmp_path / "kpis.csv"
    kpis.write_text(
        "ticker,period_end,name,value,unit,known_at\n"
        "AAPL,2012-12-29,Quarterly revenue,54512000000,USD,2013-01-23T21:30:00Z\n"
    )
    api.ingest("kpis", [kpis], store=store)
    assert api.kpis("AAPL", as_of=dt.date(2013, 1, 22), store=store).is_empty()
    assert api.kpis("AAPL", as_of=dt.date(2013, 1, 23), store=store)["value"].to_list() == [
        54_512e6
    ]


def test_fetch_without_tickers_or_with_a_bad_date_says_so(tmp_path: Path) -> None:
    store = str(tmp_path / "s.duckdb")
    for args, words in (
        (["fetch", "--store", store], "name at least one ticker, or --feed URL"),
        (["fetch", "BABA", "--store", store, "--since", "2026-13-01"], "is not a date"),
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code != 0
        assert words in result.output
        assert "Traceback" not in result.output
