"""Rows that would poison other data are refused at ingest, with file, row and field, and the
store is left exactly as it was: dividends at or above the close, absurd splits and prices,
negative targets and counts, malformed and future dates, unknown exchanges and currencies,
nested values and files of junk."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from helpers import good_rows, write_csv
from stockbrief import api, calendar
from stockbrief.errors import InputError
from stockbrief.sources.validate import MAX_PRICE
from stockbrief.store import TABLES, Store

NOW = dt.datetime(2026, 3, 26, 20, 0, tzinfo=dt.UTC)
"""Pinned clock: 16:00 on 26 March 2026 in New York, already 04:00 on 27 March in Hong Kong."""

BAR_HEADER = "date,open,high,low,close,volume"
ACTION_HEADER = "ticker,date,kind,value"
RATING_HEADER = "ticker,firm,date,rating,target,prior_target"
CONSENSUS_HEADER = (
    "ticker,date,strong_buy,buy,hold,sell,strong_sell,target_mean,target_median,"
    "target_high,target_low"
)
KPI_HEADER = "ticker,period_end,name,value"
SECURITY_HEADER = "ticker,name,exchange,currency"
NEWS_HEADER = "published_at,headline,tickers"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar, "now", lambda: NOW)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, yahoo30: Path) -> Path:
    """A store with the real BABA and 0700.HK bars up to 2026-03-25."""
    path = tmp_path_factory.mktemp("template") / "store.duckdb"
    files = [yahoo30 / "BABA.csv", yahoo30 / "0700.HK.csv"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(calendar, "now", lambda: NOW)
        api.ingest("prices", files, store=path, end=dt.date(2026, 3, 25))
    return path


@pytest.fixture(scope="module")
def yahoo30() -> Path:
    from conftest import shared_path

    return shared_path("yahoo-30")


@pytest.fixture
def store(tmp_path: Path, template: Path) -> Iterator[Store]:
    path = tmp_path / "store.duckdb"
    shutil.copy(template, path)
    db = Store(path)
    yield db
    db.close()


def state(db: Store) -> dict[str, pl.DataFrame]:
    """Every model table and the per-ticker fingerprint, to compare before and after."""
    tables = {name: db.read(name) for name in TABLES}  # type: ignore[arg-type]
    return {**tables, "fingerprint": db.fingerprint()}


def same(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]) -> bool:
    return all(before[k].equals(after[k]) for k in before)


def baba_close(yahoo30: Path, day: str) -> float:
    """BABA's close on a day, as the real file has it (read now, never copied)."""
    bars = pl.read_csv(yahoo30 / "BABA.csv", try_parse_dates=True)
    close = bars.filter(pl.col("Date") == dt.date.fromisoformat(day))["Close"]
    return float(close[0])


def refuse(
    db: Store,
    kind: api.IngestKind,
    path: Path,
    row: int | None,
    field: str | None,
    reason: str,
    **options: object,
) -> InputError:
    """Ingest ``path``; assert the one-line error names file, row and field and nothing moved."""
    before = state(db)
    with pytest.raises(InputError) as caught:
        api.ingest(kind, [path], store=db, **options)  # type: ignore[arg-type]
    error = caught.value
    assert (error.file, error.row, error.field) == (str(path), row, field), str(error)
    assert reason in str(error), str(error)
    assert "\n" not in str(error)
    assert same(before, state(db))
    return error


# -- dividends, splits and prices ------------------------------------------------------------


def test_dividend_at_or_above_the_previous_close_is_refused(
    tmp_path: Path, store: Store, yahoo30: Path
) -> None:
    path = write_csv(tmp_path / "a.csv", ["BABA,2026-01-05,dividend,160.0"], ACTION_HEADER)
    error = refuse(store, "actions", path, 1, "value", "dividend 160.0 on 2026-01-05")
    assert error.reason.startswith(
        "dividend 160.0 on 2026-01-05 is not below the previous close 155.74 (2026-01-02);"
        " a dividend is cash per share"
    )
    equal = baba_close(yahoo30, "2026-01-02")
    rows = ["BABA,2026-01-02,dividend,1.0", f"BABA,2026-01-05,dividend,{equal!r}"]
    path = write_csv(tmp_path / "b.csv", rows, ACTION_HEADER)
    refuse(store, "actions", path, 2, "value", "is not below the previous close")


def test_a_plausible_dividend_and_one_before_any_bar_are_stored(
    tmp_path: Path, store: Store
) -> None:
    rows = ["BABA,2026-01-05,dividend,1.05", "BABA,2021-01-04,dividend,500"]
    report = api.ingest(
        "actions", [write_csv(tmp_path / "a.csv", rows, ACTION_HEADER)], store=store
    )
    assert report.result.inserted == 2  # 2021-01-04 is the first stored session: nothing before it


def test_bars_that_would_put_a_stored_dividend_above_its_close_are_refused(
    tmp_path: Path, store: Store
) -> None:
    dividend = write_csv(tmp_path / "a.csv", ["NEW,2024-01-05,dividend,103.5"], ACTION_HEADER)
    api.ingest("actions", [dividend], store=store)  # no bar of NEW yet: nothing to compare
    bars = write_csv(tmp_path / "NEW.csv", good_rows())  # 2024-01-04 closes at 103
    refuse(store, "prices", bars, 3, "close", "close 103.0 on 2024-01-04 is not above the dividend")
    rows = good_rows()
    rows[2] = "2024-01-04,102,111,101,110,3000"
    api.ingest("prices", [write_csv(tmp_path / "NEW.csv", rows)], store=store)
    assert store.bars(["NEW"]).height == 5


def test_a_low_backfilled_bar_is_fine_when_a_stored_bar_closes_before_the_ex_date(
    tmp_path: Path, store: Store
) -> None:
    api.ingest(
        "prices", [write_csv(tmp_path / "NEW.csv", ["2024-01-05,109,111,108,110,10"])], store=store
    )
    dividend = write_csv(tmp_path / "a.csv", ["NEW,2024-01-08,dividend,103.5"], ACTION_HEADER)
    api.ingest("actions", [dividend], store=store)  # below the stored close of 2024-01-05
    earlier = write_csv(tmp_path / "NEW.csv", good_rows()[:3])  # closes 101..103, to 2024-01-04
    assert api.ingest("prices", [earlier], store=store).result.inserted == 3


def test_replacing_the_previous_close_is_checked_too(tmp_path: Path, store: Store) -> None:
    api.ingest(
        "actions",
        [write_csv(tmp_path / "a.csv", ["BABA,2026-01-05,dividend,1.0"], ACTION_HEADER)],
        store=store,
    )
    low = write_csv(tmp_path / "BABA.csv", ["2026-01-02,1,1,0.5,0.9,100"])
    refuse(
        store, "prices", low, 1, "close", "not above the dividend 1.0 stored for BABA", replace=True
    )


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("1e300", False),
        ("1:5000", False),
        ("0.0009", False),
        ("1001", False),
        ("1000", True),
        ("1:1000", True),
        ("3:2", True),
    ],
)
def test_split_ratios_must_be_plausible(
    tmp_path: Path, store: Store, value: str, accepted: bool
) -> None:
    path = write_csv(tmp_path / "s.csv", [f"BABA,2026-01-05,split,{value}"], ACTION_HEADER)
    if accepted:
        assert api.ingest("actions", [path], store=store).result.inserted == 1
    else:
        refuse(store, "actions", path, 1, "value", "split ratio outside 1/1000 to 1000")


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("2026-03-02,1e300,1e300,1e300,1e300,100", "open", "price must be below 1e+09"),
        (f"2026-03-02,10,{MAX_PRICE},9,10,100", "high", "price must be below 1e+09"),
        ("2026-03-02,10,11,9,inf,100", "close", "not a finite number"),
        ("2026-03-02,10,11,9,10,1e18", "volume", "volume must be below 1e+18"),
        ("2026-03-02 garbage,10,11,9,10,100", "date", "not a date"),
        ("2026-03-02T25:00,10,11,9,10,100", "date", "not a date"),
        ("2026-03-27,10,11,9,10,100", "date", "dated after today (2026-03-26 at XNYS)"),
    ],
)
def test_bad_bars_are_refused(
    tmp_path: Path, store: Store, row: str, field: str, reason: str
) -> None:
    path = write_csv(tmp_path / "BABA.csv", [row])
    refuse(store, "prices", path, 1, field, reason)


def test_a_huge_dividend_without_any_bar_is_still_refused(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "a.csv", ["NONE,2026-01-05,dividend,1e300"], ACTION_HEADER)
    refuse(store, "actions", path, 1, "value", "dividend must be below 1e+09")


# -- dates -------------------------------------------------------------------------------------


def test_today_is_the_exchange_s_today(tmp_path: Path, store: Store) -> None:
    """At 20:00 UTC it is already 27 March in Hong Kong, still 26 March in New York."""
    hk = write_csv(tmp_path / "0700.HK.csv", ["2026-03-27,500,510,495,505,1000"])
    opening = api.ingest("prices", [hk], store=store)  # a session not yet closed: left out
    assert (opening.result.inserted, opening.unfinished.count) == (0, 1)
    assert api.ingest("prices", [hk], store=store, allow_unfinished=True).result.inserted == 1
    ny = write_csv(tmp_path / "BABA.csv", ["2026-03-27,100,110,95,105,1000"])
    refuse(store, "prices", ny, 1, "date", "dated after today (2026-03-26 at XNYS)")
    kept = api.ingest("prices", [ny], store=store, end=dt.date(2026, 3, 26))
    assert (kept.rows, kept.filtered) == (0, 1)


@pytest.mark.parametrize(
    ("kind", "header", "row", "field", "reason"),
    [
        ("ratings", RATING_HEADER, "BABA,Citi,2026-03-27,Buy,150,", "date", "dated after today"),
        ("ratings", RATING_HEADER, "BABA,Citi,2026-03-02 x,Buy,150,", "date", "not a date"),
        (
            "consensus",
            CONSENSUS_HEADER,
            "BABA,2026-03-27,5,3,1,0,0,150,150,200,100",
            "date",
            "dated after today (2026-03-26 at XNYS)",
        ),
        ("kpis", KPI_HEADER, "BABA,2026-06-30,Cloud revenue,100", "period_end", "after today"),
        ("kpis", KPI_HEADER, "BABA,2026-03-31 Q1,Cloud revenue,100", "period_end", "not a date"),
        (
            "news",
            NEWS_HEADER,
            "2026-03-27T01:00:00Z,Alibaba beats,BABA",
            "published_at",
            "dated after today (2026-03-26 UTC)",
        ),
        ("news", NEWS_HEADER, "2026-03-02 garbage,Alibaba beats,BABA", "published_at", "not a"),
        ("actions", ACTION_HEADER, "BABA,2026-01-05 garbage,dividend,1", "date", "not a date"),
        # An announced split stored early would adjust the bars before it takes effect.
        ("actions", ACTION_HEADER, "BABA,2026-03-30,split,2", "date", "counts from its ex-date"),
    ],
)
def test_future_and_malformed_dates_are_refused(
    tmp_path: Path,
    store: Store,
    kind: api.IngestKind,
    header: str,
    row: str,
    field: str,
    reason: str,
) -> None:
    path = write_csv(tmp_path / f"{kind}.csv", [row], header)
    refuse(store, kind, path, 1, field, reason)


def test_a_rating_dated_today_at_its_exchange_is_accepted(tmp_path: Path, store: Store) -> None:
    rows = ["0700.HK,CLSA,2026-03-27,Buy,700,"]  # already 27 March in Hong Kong
    path = write_csv(tmp_path / "r.csv", rows, RATING_HEADER)
    assert api.ingest("ratings", [path], store=store).result.inserted == 1


# -- analysts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("BABA,Citi,2026-01-05,Buy,-1518,", "target", "a price target must be positive"),
        ("BABA,Citi,2026-01-05,Buy,0,", "target", "a price target must be positive"),
        ("BABA,Citi,2026-01-05,Buy,150,-3", "prior_target", "a price target must be positive"),
        ("BABA,Citi,2026-01-05,Buy,1e300,", "target", "a price target must be below 1e+09"),
    ],
)
def test_rating_targets_must_be_positive(
    tmp_path: Path, store: Store, row: str, field: str, reason: str
) -> None:
    refuse(store, "ratings", write_csv(tmp_path / "r.csv", [row], RATING_HEADER), 1, field, reason)


@pytest.mark.parametrize(
    ("counts", "targets", "field", "reason"),
    [
        ("-5,0,0,0,0", "150,150,200,100", "strong_buy", "an analyst count must not be negative"),
        ("1e30,0,0,0,0", "150,150,200,100", "strong_buy", "too large"),
        ("3,1001,0,0,0", "150,150,200,100", "buy", "more than 1,000 analysts"),
        ("2.5,0,0,0,0", "150,150,200,100", "strong_buy", "must be a whole number"),
        ("0,0,0,0,0", "150,150,200,100", "strong_buy", "is zero, a summary of no analysts"),
        ("5,3,1,0,0", "-1518,150,200,100", "target_mean", "a price target must be positive"),
        ("5,3,1,0,0", "150,-1,200,100", "target_median", "a price target must be positive"),
        ("5,3,1,0,0", "150,150,200,0", "target_low", "a price target must be positive"),
        ("5,3,1,0,0", "150,150,90,100", "target_high", "target_high is below target_low"),
    ],
)
def test_consensus_counts_and_targets_must_be_plausible(
    tmp_path: Path, store: Store, counts: str, targets: str, field: str, reason: str
) -> None:
    path = write_csv(tmp_path / "c.csv", [f"BABA,2026-01-05,{counts},{targets}"], CONSENSUS_HEADER)
    refuse(store, "consensus", path, 1, field, reason)


def test_a_plausible_consensus_is_stored(tmp_path: Path, store: Store) -> None:
    rows = ["BABA,2026-01-05,5,3,1,0,0,150,150,200,100", "BABA,2026-01-06,,,,,,150,,,"]
    path = write_csv(tmp_path / "c.csv", rows, CONSENSUS_HEADER)
    with pytest.raises(InputError, match="needs a label or the counts"):
        api.ingest("consensus", [path], store=store)
    rows[1] = "BABA,2026-01-06,0,4,2,0,0,150,150,200,100"
    path = write_csv(tmp_path / "c.csv", rows, CONSENSUS_HEADER)
    assert api.ingest("consensus", [path], store=store).result.inserted == 2


# -- exchanges and currencies ------------------------------------------------------------------


def test_every_suffix_names_a_mic_with_an_iso_currency_and_a_calendar() -> None:
    for suffix, mic in calendar.SUFFIX_EXCHANGES.items():
        assert calendar.exchange_for(f"ABC.{suffix}") == mic
        assert calendar.check_currency(calendar.EXCHANGE_CURRENCIES[mic]) == calendar.currency_for(
            f"ABC.{suffix}"
        )
        assert calendar.sessions(mic).len() > 1000, mic


@pytest.mark.parametrize(
    ("ticker", "mic", "currency"),
    [
        ("000001.SZ", "XSHE", "CNY"),
        ("600519.SS", "XSHG", "CNY"),
        ("005930.KS", "XKRX", "KRW"),
        ("RELIANCE.NS", "XNSE", "INR"),
        ("2330.TW", "XTAI", "TWD"),
        ("D05.SI", "XSES", "SGD"),
        ("ENI.MI", "XMIL", "EUR"),
        ("VOLV-B.ST", "XSTO", "SEK"),
        ("PETR4.SA", "BVMF", "BRL"),
        ("^VIX", "XNYS", "USD"),
        ("AAPL", "XNYS", "USD"),
    ],
)
def test_yahoo_suffixes(ticker: str, mic: str, currency: str) -> None:
    assert (calendar.exchange_for(ticker), calendar.currency_for(ticker)) == (mic, currency)


def test_shenzhen_keeps_the_shanghai_holidays(tmp_path: Path, store: Store) -> None:
    # 12 February 2024 was a Spring Festival holiday in mainland China.
    path = write_csv(tmp_path / "000001.SZ.csv", ["2024-02-12,10,11,9,10,100"])
    refuse(store, "prices", path, 1, "date", "not a trading session of XSHE")


def test_an_unknown_suffix_asks_for_the_exchange(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "FOO.XX.csv", ["2026-03-02,10,11,9,10,100"])
    refuse(store, "prices", path, 1, "ticker", "unknown ticker suffix .XX in 'FOO.XX'")
    report = api.ingest("prices", [path], store=store, exchange="XHKG")
    assert report.result.inserted == 1
    assert calendar.currency_for("FOO.XX") == calendar.NO_CURRENCY  # not dollars


def test_an_unknown_exchange_option_names_the_nearest(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "BABA.csv", ["2026-03-02,10,11,9,10,100"])
    before = state(store)
    with pytest.raises(InputError, match=r"unknown exchange 'XNYZ'.*did you mean .*XNYS"):
        api.ingest("prices", [path], store=store, exchange="XNYZ")
    assert same(before, state(store))


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("BABA,Alibaba,XNYS,USX", "currency", "unknown currency 'USX': not an ISO 4217 code"),
        ("BABA,Alibaba,XNYS,usd", "currency", "did you mean USD"),
        ("VOD.L,Vodafone,XLON,GBp", "currency", "GBp quotes hundredths of GBP"),
        ("BABA,Alibaba,NYSEX,USD", "exchange", "unknown exchange 'NYSEX'"),
    ],
)
def test_securities_codes_are_checked(
    tmp_path: Path, store: Store, row: str, field: str, reason: str
) -> None:
    path = write_csv(tmp_path / "s.csv", [row], SECURITY_HEADER)
    refuse(store, "securities", path, 1, field, reason)


def test_good_securities_codes_are_stored_normalised(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "s.csv", ["BABA,Alibaba,xnys,USD"], SECURITY_HEADER)
    api.ingest("securities", [path], store=store)
    assert store.securities().row(0, named=True)["exchange"] == "XNYS"


# -- values that used to raise tracebacks ------------------------------------------------------


def test_a_nested_json_value_is_refused(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "BABA.json"
    bar = {"date": "2026-01-05", "open": {"a": 1}, "high": 1, "low": 1, "close": 1, "volume": 1}
    path.write_text(json.dumps([bar]))
    refuse(store, "prices", path, 1, "open", "holds nested or binary values")


def test_a_parquet_list_column_is_refused(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "BABA.parquet"
    pl.DataFrame(
        {
            "date": ["2026-01-05"],
            "open": [[1.0]],
            "high": [1.0],
            "low": [1.0],
            "close": [1.0],
            "volume": [1],
        }
    ).write_parquet(path)
    refuse(store, "prices", path, 1, "open", "holds nested or binary values (List(Float64))")


@pytest.mark.parametrize("tickers", [[], [""]])
def test_a_news_item_naming_no_ticker_is_refused(
    tmp_path: Path, store: Store, tickers: list[str]
) -> None:
    path = tmp_path / "news.jsonl"
    items = [
        {"published_at": "2026-01-02T09:00:00Z", "headline": "a", "tickers": ["BABA"]},
        {"published_at": "2026-01-02T10:00:00Z", "headline": "b", "tickers": tickers},
    ]
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    refuse(store, "news", path, 2, "tickers", "no ticker in tickers")


def test_an_empty_news_tickers_cell_is_refused(tmp_path: Path, store: Store) -> None:
    rows = ["2026-01-02T09:00:00Z,a,BABA", "2026-01-02T10:00:00Z,b,"]
    path = write_csv(tmp_path / "news.csv", rows, NEWS_HEADER)
    refuse(store, "news", path, 2, "tickers", "no ticker in tickers")


JUNK: dict[str, Callable[[Path], None]] = {
    "random.csv": lambda p: p.write_bytes(os.urandom(200_000)),
    "random.json": lambda p: p.write_bytes(os.urandom(200_000)),
    "random.jsonl": lambda p: p.write_bytes(os.urandom(200_000)),
    "random.parquet": lambda p: p.write_bytes(os.urandom(200_000)),
    "random.csv.gz": lambda p: p.write_bytes(b"\x1f\x8b" + os.urandom(200_000)),
    "latin1.csv": lambda p: p.write_bytes(("Datum;Schluß\n" * 10).encode("latin-1")),
    "one-line.csv": lambda p: p.write_text("A" * 2_000_000),
    "header-then-one-line.csv": lambda p: p.write_text(f"{BAR_HEADER}\n" + "A" * 2_000_000),
    "text.json": lambda p: p.write_text("date,open\n2026-01-02,1\n"),
}


@pytest.mark.parametrize("name", list(JUNK))
def test_files_of_junk_are_refused_from_their_first_bytes(
    tmp_path: Path, store: Store, name: str
) -> None:
    path = tmp_path / name
    JUNK[name](path)
    refuse(store, "prices", path, None, None, "", ticker="JUNK")


def test_a_csv_with_wrong_columns_is_refused_from_its_header(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "BABA.csv"
    path.write_text("when,price\n" + "2026-01-02,1\n" * 200_000)
    started = time.perf_counter()
    refuse(store, "prices", path, None, None, "missing column(s) date, open")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("ticker,firm,when,rating\nBABA,Citi,2026-01-05,Buy\n")
    refuse(store, "ratings", ratings, None, None, "missing column(s) date")
    assert time.perf_counter() - started < 5


# -- the command line --------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["BABA,2026-01-05,dividend,160.0"], "row 1, field 'value': dividend 160.0 on 2026-01-05"),
        (["BABA,2026-01-02,split,2", "BABA,2026-01-05,split,1e300"], "row 2, field 'value': split"),
    ],
)
def test_the_command_line_prints_one_line_and_stores_nothing(
    tmp_path: Path, template: Path, rows: list[str], message: str
) -> None:
    path = tmp_path / "store.duckdb"
    shutil.copy(template, path)
    with Store(path) as db:
        before = state(db)
    actions = write_csv(tmp_path / "a.csv", rows, ACTION_HEADER)
    result = run("ingest", "actions", str(actions), "--store", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"a.csv, {message}" in result.stderr
    with Store(path) as db:
        assert same(before, state(db))


def test_news_naming_no_ticker_is_refused_and_ticker_names_one(
    tmp_path: Path, store: Store
) -> None:
    """An item with no subject would never reach a brief: refused, unless --ticker names one."""
    bare = write_csv(
        tmp_path / "n.csv", ["2026-03-20T12:00:00Z,Alibaba beats"], "published_at,headline"
    )
    refuse(store, "news", bare, None, "tickers", "news needs a tickers column")
    api.ingest("news", [bare], store=store, ticker="BABA")
    peer = write_csv(tmp_path / "p.csv", ["2026-03-20T13:00:00Z,Baidu gains,BIDU"], NEWS_HEADER)
    api.ingest("news", [peer], store=store, ticker="BABA")
    links = store._rows("SELECT ticker FROM news_tickers ORDER BY ticker")
    assert links == [("BABA",), ("BABA",), ("BIDU",)]


def test_a_ticker_with_bars_keeps_its_exchange(tmp_path: Path, store: Store) -> None:
    """Moved under its bars, BABA's New York closes would be checked and quoted as Hong Kong's."""
    moved = write_csv(tmp_path / "s.csv", ["BABA,Alibaba,XHKG,HKD"], SECURITY_HEADER)
    refuse(store, "securities", moved, 1, "exchange", "BABA's stored bars are XNYS sessions")
    same_sessions = write_csv(tmp_path / "t.csv", ["BABA,Alibaba,XNAS,USD"], SECURITY_HEADER)
    assert api.ingest("securities", [same_sessions], store=store).rows == 1  # XNYS's calendar
    fresh = write_csv(tmp_path / "u.csv", ["9988.HK,Alibaba HK,XHKG,HKD"], SECURITY_HEADER)
    assert api.ingest("securities", [fresh], store=store).rows == 1  # no bars yet
