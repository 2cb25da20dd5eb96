"""Breadth of the stored market on a brief's day: counts an independent per-ticker computation
gives, split-proof, silent on a small store, and blind to later data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from stockbrief import api
from stockbrief.notes import render
from stockbrief.store import Store

DAY = dt.date(2025, 6, 2)
SPLIT = DAY
"""AAPL is given a 4-for-1 split on the day in the traded copy of the store."""
NOT_STOCKS = {"SPY": "etf", "QQQ": "etf", "GLD": "etf", "TLT": "etf", "UUP": "etf", "VIX": "index"}


def typed(folder: Path) -> Path:
    path = folder / "types.csv"
    lines = [f"{t},{kind}" for t, kind in NOT_STOCKS.items()]
    path.write_text("ticker,type\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(path: Path, yahoo: Path, end: dt.date, *, split: bool = False) -> Store:
    """Every real file up to ``end``; with ``split``, AAPL as traded before a 4-for-1 split on
    :data:`SPLIT` (its bars before it four times higher) with the split stored."""
    db = Store(path)
    files = sorted(yahoo.glob("*.csv"))
    if split:
        files = [f for f in files if f.stem != "AAPL"]
        bars = pl.read_csv(yahoo / "AAPL.csv", try_parse_dates=True)
        before = pl.col("Date") < SPLIT
        prices = [
            pl.when(before).then(pl.col(c) * 4).otherwise(pl.col(c)).alias(c)
            for c in ("Open", "High", "Low", "Close")
        ]
        volume = pl.when(before).then(pl.col("Volume") // 4).otherwise(pl.col("Volume"))
        traded = path.parent / "AAPL.csv"
        bars.with_columns(*prices, volume.alias("Volume")).write_csv(traded)
        actions = path.parent / "actions.csv"
        actions.write_text(f"ticker,date,kind,value\nAAPL,{SPLIT},split,4\n", encoding="utf-8")
        api.ingest("actions", [actions], store=db)
        api.ingest("prices", [traded], store=db, end=end)
    api.ingest("prices", files, store=db, end=end, basis="adjusted")
    api.ingest("securities", [typed(path.parent)], store=db)
    return db


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from conftest import shared_path

    db = build(tmp_path_factory.mktemp("breadth") / "b.duckdb", shared_path("yahoo-30"), DAY)
    yield db
    db.close()


def expected(db: Store, day: dt.date) -> dict[str, int]:
    """The counts from each stock's own indicators, ticker by ticker, through the engine."""
    counts = dict.fromkeys(("traded", "rose", "fell", "with_average", "above_average"), 0)
    for ticker in db.tickers():
        if ticker in NOT_STOCKS:
            continue
        last = api.indicators(ticker, as_of=day, store=db).tail(1).row(0, named=True)
        if last["date"] != day or last["return_1d"] is None:
            continue
        counts["traded"] += 1
        counts["rose"] += last["return_1d"] > 0
        counts["fell"] += last["return_1d"] < 0
        if last["sma_200"] is not None:
            counts["with_average"] += 1
            counts["above_average"] += last["close"] > last["sma_200"]
    return counts


def test_breadth_is_what_each_stocks_indicators_say(store: Store) -> None:
    found = store.breadth(DAY)
    assert found == expected(store, DAY)
    # 30 files less five ETFs, the VIX index and 2513.HK (listed in 2026)
    assert found["traded"] == 23
    note = api.brief("NVDA", as_of=DAY, store=store)
    f = note.sheet
    assert (f.value("breadth_stocks"), f.value("breadth_rose")) == (23, found["rose"])
    share = found["above_average"] / found["with_average"]
    assert f.value("breadth_above_sma_200") == pytest.approx(share)
    sentence = (
        f"That day, {found['rose']} of 23 stored stocks rose. Across all of them,"
        f" {share * 100:.0f}% closed above their own 200-day average."
    )
    assert sentence in note.sections[0].text
    german = api.brief("NVDA", as_of=DAY, lang="de", store=store).sections[0].text
    assert (
        f"An diesem Handelstag legten {found['rose']} der 23 im Datenbestand erfassten Aktien zu;"
        f" insgesamt schlossen {share * 100:.0f}\u00a0% von ihnen über ihrem jeweiligen"
        " 200-Tage-Durchschnitt."
    ) in german
    assert note.sheet.facts["breadth_rose"].source.end == DAY


def test_an_etf_brief_has_breadth_too(store: Store) -> None:
    spy = api.brief("SPY", as_of=DAY, store=store)
    assert spy.sheet.value("breadth_stocks") == 23


def test_a_split_is_no_fall(tmp_path: Path, yahoo30: Path, store: Store) -> None:
    with build(tmp_path / "split.duckdb", yahoo30, DAY, split=True) as db:
        raw = db.bars(["AAPL"], start=DAY - dt.timedelta(days=7), end=DAY)["close"].to_list()
        assert raw[-1] < raw[-2] / 3  # as traded, the split day looks like a crash
        assert db.breadth(DAY) == store.breadth(DAY)
        assert db.breadth(DAY) == expected(db, DAY)


def test_a_small_store_says_nothing(tmp_path: Path, yahoo30: Path) -> None:
    with Store(tmp_path / "five.duckdb") as db:
        names = ("BABA", "JD", "BIDU", "PDD", "BILI")
        api.ingest("prices", [yahoo30 / f"{t}.csv" for t in names], store=db, end=DAY)
        assert db.breadth(DAY)["traded"] == 5
        note = api.brief("BABA", as_of=DAY, store=db)
        assert not [name for name in note.sheet.facts if name.startswith("breadth")]
        assert "stored stocks" not in note.text


def test_later_bars_and_splits_change_nothing(tmp_path: Path, yahoo30: Path) -> None:
    before = build(tmp_path / "now.duckdb", yahoo30, DAY)
    first = {
        lang: render.render(api.brief("AAPL", as_of=DAY, lang=lang, store=before), "json")
        for lang in ("en", "de")
    }
    counts = before.breadth(DAY)
    api.ingest(
        "prices",
        sorted(yahoo30.glob("*.csv")),
        store=before,
        end=dt.date(2025, 9, 30),
        basis="adjusted",
    )
    later = tmp_path / "later-split.csv"
    later.write_text("ticker,date,kind,value\nMSFT,2025-07-01,split,2\n", encoding="utf-8")
    api.ingest("actions", [later], store=before)
    assert before.breadth(DAY) == counts
    for lang, text in first.items():
        assert render.render(api.brief("AAPL", as_of=DAY, lang=lang, store=before), "json") == text
    before.close()
