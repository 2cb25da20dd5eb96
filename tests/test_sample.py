"""The embedded sample and the real Yahoo files, end to end through the store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from stockbrief import api
from stockbrief.errors import InputError
from stockbrief.sources.sample import sample_path
from stockbrief.store import Store


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    db = Store(tmp_path_factory.mktemp("sample") / "sample.duckdb")
    api.load_sample(db)
    yield db
    db.close()


def test_sample_loads_five_tickers(sample_store: Store) -> None:
    summary = sample_store.summary()
    assert summary["ticker"].to_list() == ["AAPL", "FB", "GOOG", "IBM", "MSFT"]
    assert summary["bars"].to_list() == [3270, 196, 2148, 3270, 3270]
    assert summary["first"][0] == dt.date(2000, 3, 1)
    assert summary["last"][0] == dt.date(2013, 3, 1)


def test_sample_actions_recovered_from_adjusted_close(sample_store: Store) -> None:
    splits = sample_store.actions().filter(pl.col("kind") == "split")
    assert splits.select("ticker", "date", "value").rows() == [
        ("AAPL", dt.date(2000, 6, 21), 2.0),
        ("AAPL", dt.date(2005, 2, 28), 2.0),
        ("MSFT", dt.date(2003, 2, 18), 2.0),
    ]
    # Microsoft's first dividend: $0.08 a share, ex-date 19 February 2003.
    first_div = sample_store.actions(["MSFT"]).filter(pl.col("kind") == "dividend").row(0)
    assert first_div[1:] == (dt.date(2003, 2, 19), "dividend", 0.08)
    # ... and its special dividend of $3.00, ex-date 15 November 2004.
    special = sample_store.actions(["MSFT"]).filter(
        pl.col("value") > 1, pl.col("kind") == "dividend"
    )
    assert special["date"].to_list() == [dt.date(2004, 11, 15)]
    assert special["value"][0] == pytest.approx(3.0, abs=0.05)


def test_adjusted_close_tracks_the_source_adjusted_close(sample_store: Store) -> None:
    source = pl.read_csv(sample_path(), try_parse_dates=True).select(
        pl.col("Ticker").alias("ticker"), pl.col("Date").alias("date"), pl.col("Adj Close")
    )
    ours = sample_store.bars(adjusted=True).join(source, on=["ticker", "date"])
    # The source also adjusts for actions after 2013, so the ratio is constant per ticker up to
    # the cent rounding of the recovered dividends (0.1% over thirteen years of MSFT dividends).
    spread = ours.group_by("ticker").agg(
        (
            (pl.col("close") / pl.col("Adj Close")).max()
            / (pl.col("close") / pl.col("Adj Close")).min()
            - 1
        ).alias("spread")
    )
    assert spread["spread"].max() < 2e-3
    assert spread.filter(pl.col("ticker") == "AAPL")["spread"][0] < 1e-4


def test_yahoo30_ingests_with_to_and_keeps_the_facts(tmp_path: Path, yahoo30: Path) -> None:
    files = sorted(yahoo30.glob("*.csv"))
    with Store(tmp_path / "y.duckdb") as db:
        with pytest.raises(InputError, match=r"AMZN\.csv, row 1313, field 'open': empty value"):
            api.ingest("prices", files, store=db)
        assert db.tickers() == []
        report = api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
        assert (report.tickers, report.rows, report.filtered) == (30, 37906, 30)
        baba = db.bars(["BABA"], start=dt.date(2025, 12, 31), end=dt.date(2026, 1, 2))
        assert baba["close"].round(2).to_list() == [146.58, 155.74]
        assert baba["volume"][1] == 15_778_300
        assert db.bars(["0700.HK"])["date"].max() == dt.date(2026, 3, 25)
