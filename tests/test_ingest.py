"""Ingest: every bad input is refused with file, row and field, and the store stays unchanged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from helpers import SESSIONS, good_rows, write_csv
from stockbrief import api
from stockbrief.errors import ConflictError, InputError, NotFoundError
from stockbrief.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = Store(tmp_path / "store.duckdb")
    api.ingest("prices", [write_csv(tmp_path / "KEEP.csv", good_rows())], store=db)
    yield db
    db.close()


def snapshot(db: Store) -> pl.DataFrame:
    return pl.concat([db.bars(), db.bars(["KEEP"])]).sort("ticker", "date")


def bad_case(row: int, column: str, value: str) -> list[str]:
    rows = good_rows()
    fields = rows[row - 1].split(",")
    index = ["date", "open", "high", "low", "close", "volume"].index(column)
    fields[index] = value
    rows[row - 1] = ",".join(fields)
    return rows


CASES = [
    pytest.param(bad_case(3, "date", "2024-13-01"), 3, "date", "not a date", id="bad-date"),
    pytest.param(bad_case(2, "date", "04/01/2024"), 2, "date", "not a date", id="us-date"),
    pytest.param(
        bad_case(2, "date", "2024-01-03 garbage"), 2, "date", "not a date", id="date-garbage"
    ),
    pytest.param(bad_case(4, "close", "abc"), 4, "close", "not a finite number", id="bad-number"),
    pytest.param(bad_case(2, "open", ""), 2, "open", "empty value", id="empty"),
    pytest.param(bad_case(2, "open", "nan"), 2, "open", "not a finite number", id="nan"),
    pytest.param(bad_case(5, "low", "0"), 5, "low", "price must be positive", id="zero-price"),
    pytest.param(bad_case(1, "close", "-3"), 1, "close", "price must be positive", id="negative"),
    pytest.param(bad_case(3, "high", "1e300"), 3, "high", "price must be below 1e+09", id="1e300"),
    pytest.param(bad_case(2, "high", "98"), 2, "high", "high is below low", id="high-below-low"),
    pytest.param(bad_case(3, "open", "110"), 3, "open", "open is outside", id="open-above-high"),
    pytest.param(bad_case(3, "close", "50"), 3, "close", "close is outside", id="close-below-low"),
    pytest.param(bad_case(4, "volume", "-1"), 4, "volume", "must not be negative", id="neg-vol"),
    pytest.param(bad_case(4, "volume", "10.5"), 4, "volume", "whole number", id="frac-vol"),
    pytest.param(bad_case(3, "volume", "9" * 20), 3, "volume", "must be below", id="huge-vol"),
    pytest.param(bad_case(5, "date", SESSIONS[1]), 5, "date", "duplicate", id="duplicate"),
    pytest.param(bad_case(2, "date", "2024-01-06"), 2, "date", "not a trading session", id="sat"),
    pytest.param(
        bad_case(1, "date", "2024-01-01"), 1, "date", "not a trading session", id="holiday"
    ),
]


@pytest.mark.parametrize(("rows", "row", "field", "reason"), CASES)
def test_bad_row_names_file_row_and_field_and_stores_nothing(
    tmp_path: Path, store: Store, rows: list[str], row: int, field: str, reason: str
) -> None:
    before = snapshot(store)
    good = write_csv(tmp_path / "GOOD.csv", good_rows())
    bad = write_csv(tmp_path / "BAD.csv", rows)
    with pytest.raises(InputError) as caught:
        api.ingest("prices", [good, bad], store=store)
    error = caught.value
    assert (error.file, error.row, error.field) == (str(bad), row, field)
    assert reason in str(error)
    assert str(error).startswith(f"{bad}, row {row}, field {field!r}: ")
    assert snapshot(store).equals(before)
    assert store.tickers() == ["KEEP"]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("date,open,high,low,volume", "missing column(s) close"),
        ("date,open,high,low,close,volume,vwap", "unknown column(s) vwap"),
    ],
)
def test_missing_and_unknown_columns(
    tmp_path: Path, store: Store, header: str, message: str
) -> None:
    n = len(header.split(","))
    rows = [",".join(r.split(",")[:5] + ["1"] * (n - 5)) for r in good_rows()]
    path = write_csv(tmp_path / "X.csv", rows, header=header)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        api.ingest("prices", [path], store=store)
    assert store.tickers() == ["KEEP"]


def test_column_names_match_case_insensitively_in_any_order(tmp_path: Path, store: Store) -> None:
    rows = [
        f"{d},{101 + i},{102 + i},{99 + i},{100 + i},{1000 * (i + 1)}"
        for i, d in enumerate(SESSIONS)
    ]
    path = write_csv(tmp_path / "yhoo.csv", rows, header="Date,Close,High,Low,Open,Volume")
    report = api.ingest("prices", [path], store=store)
    assert report.result.inserted == 5
    bars = store.bars(["YHOO"])
    assert bars["close"].to_list() == [101.0, 102.0, 103.0, 104.0, 105.0]
    assert bars["open"].to_list() == [100.0, 101.0, 102.0, 103.0, 104.0]


def test_ticker_from_column_file_name_or_option(tmp_path: Path, store: Store) -> None:
    long = write_csv(
        tmp_path / "universe.csv",
        [f"{t},{r}" for t in ("aaa", "BBB") for r in good_rows()],
        header="Ticker,date,open,high,low,close,volume",
    )
    assert api.ingest("prices", [long], store=store).tickers == 2
    named = write_csv(tmp_path / "0700.HK.csv", ["2024-01-15,10,11,9,10,100"])
    api.ingest("prices", [named], store=store)
    override = write_csv(tmp_path / "whatever.csv", good_rows())
    api.ingest("prices", [override], store=store, ticker="ccc")
    assert store.tickers() == ["0700.HK", "AAA", "BBB", "CCC", "KEEP"]


def test_hong_kong_ticker_uses_the_hong_kong_calendar(tmp_path: Path, store: Store) -> None:
    # 2024-02-12 was a Lunar New Year holiday in Hong Kong and an ordinary NYSE session.
    row = "2024-02-12,10,11,9,10,100"
    with pytest.raises(InputError, match="not a trading session of XHKG"):
        api.ingest("prices", [write_csv(tmp_path / "0700.HK.csv", [row])], store=store)
    api.ingest("prices", [write_csv(tmp_path / "NYSE.csv", [row])], store=store)


def test_file_name_that_is_not_a_ticker_needs_the_option(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "my prices (1).csv", good_rows())
    with pytest.raises(InputError, match="pass --ticker"):
        api.ingest("prices", [path], store=store)


def test_reingest_is_a_no_op_and_changes_need_replace(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "KEEP.csv", good_rows())
    again = api.ingest("prices", [path], store=store).result
    assert (again.inserted, again.unchanged, again.replaced) == (0, 5, 0)
    changed = write_csv(tmp_path / "KEEP2.csv", bad_case(4, "close", "103.5"))
    with pytest.raises(ConflictError) as caught:
        api.ingest("prices", [changed], store=store, ticker="KEEP")
    assert (caught.value.row, caught.value.field) == (4, "close")
    assert "--replace" in str(caught.value)
    assert store.bars(["KEEP"])["close"][3] == 104.0
    replaced = api.ingest("prices", [changed], store=store, ticker="KEEP", replace=True).result
    assert (replaced.inserted, replaced.unchanged, replaced.replaced) == (0, 4, 1)
    assert store.bars(["KEEP"])["close"][3] == 103.5
    assert store.bars(["KEEP"]).height == 5


def test_duplicates_across_files_of_one_command(tmp_path: Path, store: Store) -> None:
    a = write_csv(tmp_path / "a.csv", good_rows())
    b = write_csv(tmp_path / "b.csv", good_rows()[2:])
    with pytest.raises(InputError, match="earlier file") as caught:
        api.ingest("prices", [a, b], store=store, ticker="DUP")
    assert (caught.value.file, caught.value.row) == (str(b), 1)
    assert "DUP" not in store.tickers()


def test_date_filter_reports_what_it_left_out(tmp_path: Path, store: Store) -> None:
    rows = [*good_rows(), "2024-01-09,1,1,1,,5"]  # a partial last bar with an empty close
    path = write_csv(tmp_path / "PART.csv", rows)
    with pytest.raises(InputError, match="partial session: --to"):
        api.ingest("prices", [path], store=store)
    report = api.ingest("prices", [path], store=store, end=dt.date(2024, 1, 8))
    assert (report.rows, report.filtered) == (5, 1)
    assert "1 rows outside --from/--to left out" in report.summary()


def test_parquet_and_json_inputs(tmp_path: Path, store: Store) -> None:
    frame = pl.read_csv(write_csv(tmp_path / "src.csv", good_rows()), try_parse_dates=True)
    frame.write_parquet(tmp_path / "PQ.parquet")
    frame.with_columns(pl.col("date").cast(pl.String)).write_ndjson(tmp_path / "JS.jsonl")
    api.ingest("prices", [tmp_path / "PQ.parquet", tmp_path / "JS.jsonl"], store=store)
    assert store.bars(["PQ"]).drop("ticker").equals(store.bars(["JS"]).drop("ticker"))
    assert store.bars(["PQ"]).height == 5


def test_missing_file_and_unknown_type(tmp_path: Path, store: Store) -> None:
    with pytest.raises(NotFoundError, match="no such file"):
        api.ingest("prices", [tmp_path / "nope.csv"], store=store)
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(InputError, match="unrecognised file type"):
        api.ingest("prices", [tmp_path / "x.xlsx"], store=store)


def test_actions_are_validated(tmp_path: Path, store: Store) -> None:
    path = write_csv(
        tmp_path / "acts.csv",
        ["KEEP,2024-01-04,split,2:1", "KEEP,2024-01-05,dividend,0.5", "KEEP,2024-01-08,bonus,1"],
        header="ticker,date,kind,value",
    )
    with pytest.raises(InputError) as caught:
        api.ingest("actions", [path], store=store)
    assert (caught.value.row, caught.value.field) == (3, "kind")
    assert store.actions().is_empty()
    bad_value = write_csv(
        tmp_path / "a2.csv", ["KEEP,2024-01-04,split,-2"], "ticker,date,kind,value"
    )
    with pytest.raises(InputError, match="must be positive"):
        api.ingest("actions", [bad_value], store=store)


def test_two_columns_for_one_field_are_refused(tmp_path: Path, store: Store) -> None:
    rows = [f"{r},{r.split(',')[4]}" for r in good_rows()]
    bad = write_csv(tmp_path / "TWIN.csv", rows, "Date,Open,High,Low,Close,Volume,close")
    with pytest.raises(InputError, match="'Close' and 'close' both name the field 'close'"):
        api.ingest("prices", [bad], store=store)
    assert store.tickers() == ["KEEP"]


def test_file_names_are_names_not_patterns(tmp_path: Path, store: Store) -> None:
    odd = write_csv(tmp_path / "[ODD].csv", good_rows())
    api.ingest("prices", [odd], store=store, ticker="ODD")
    assert store.tickers() == ["KEEP", "ODD"]
    with pytest.raises(InputError, match="is a folder"):
        api.ingest("prices", [tmp_path], store=store)


def test_a_refused_first_ingest_creates_no_store(tmp_path: Path) -> None:
    target = tmp_path / "new" / "s.duckdb"
    bad = write_csv(tmp_path / "BAD.csv", bad_case(2, "high", "98"))
    with pytest.raises(InputError):
        api.ingest("prices", [bad], store=target)
    assert not target.parent.exists()
