"""The store: adjustment on read without look-ahead, migrations, and a round-trip property."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import good_rows, write_csv
from stockbrief import api, calendar, store
from stockbrief.errors import StoreError
from stockbrief.store import Store


@pytest.fixture
def db(tmp_path: Path) -> Store:
    s = Store(tmp_path / "s.duckdb")
    yield s
    s.close()


def test_split_and_dividend_adjustment_as_of_a_date(tmp_path: Path, db: Store) -> None:
    # Closes 101..105 on 2-6 Jan 2024; a 2-for-1 split on the 4th, a 0.52 dividend on the 8th.
    api.ingest("prices", [write_csv(tmp_path / "XYZ.csv", good_rows())], store=db)
    actions = write_csv(
        tmp_path / "a.csv",
        ["2024-01-04,split,2-for-1", "2024-01-08,dividend,0.52"],
        header="date,kind,value",
    )
    api.ingest("actions", [actions], store=db, ticker="XYZ")
    raw = db.bars(["XYZ"])
    assert raw["close"].to_list() == [101.0, 102.0, 103.0, 104.0, 105.0]

    div_factor = 1 - 0.52 / 104.0  # previous close, as traded
    adjusted = db.bars(["XYZ"], adjusted=True)
    expected = [101 / 2 * div_factor, 102 / 2 * div_factor, 103 * div_factor, 104 * div_factor, 105]
    assert adjusted["close"].to_list() == pytest.approx(expected, rel=1e-12)
    assert adjusted["volume"].to_list() == [2000, 4000, 3000, 4000, 5000]

    # As of the 5th, neither the dividend (8th) nor anything later is known yet.
    as_of = db.bars(["XYZ"], adjusted=True, end=dt.date(2024, 1, 5))
    assert as_of["close"].to_list() == pytest.approx([50.5, 51.0, 103.0, 104.0], rel=1e-12)
    # Adding later data does not change an as-of read.
    more = write_csv(
        tmp_path / "XYZ2.csv", ["2024-01-09,90,95,89,94,10", "2024-01-10,90,95,89,94,10"]
    )
    api.ingest("prices", [more], store=db, ticker="XYZ")
    late_split = write_csv(tmp_path / "b.csv", ["2024-01-10,split,3"], header="date,kind,value")
    api.ingest("actions", [late_split], store=db, ticker="XYZ")
    assert db.bars(["XYZ"], adjusted=True, end=dt.date(2024, 1, 5)).equals(as_of)


def test_new_store_is_at_the_current_schema_version(db: Store) -> None:
    assert db.schema_version == store.SCHEMA_VERSION == len(store.MIGRATIONS)


def test_store_migrates_forward_and_refuses_newer_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.duckdb"
    Store(path).close()
    extra = "CREATE TABLE notes (ticker VARCHAR, text VARCHAR);"
    monkeypatch.setattr(store, "MIGRATIONS", [*store.MIGRATIONS, extra])
    with Store(path) as migrated:
        assert migrated.schema_version == len(store.MIGRATIONS)
    monkeypatch.undo()
    with pytest.raises(StoreError, match="newer stockbrief"):
        Store(path)


def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.duckdb"
    path.write_text("not a database")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(path)


def test_failed_transaction_leaves_nothing(tmp_path: Path, db: Store) -> None:
    frame = pl.read_csv(write_csv(tmp_path / "x.csv", good_rows()), try_parse_dates=True)
    frame = frame.with_columns(pl.lit("ABC").alias("ticker"))

    def crash_after_write() -> None:
        with db.transaction():
            db.upsert("bars", frame)
            raise RuntimeError("crash after the write")

    with pytest.raises(RuntimeError):
        crash_after_write()
    assert db.tickers() == []


def test_store_path_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCKBRIEF_STORE", str(tmp_path / "env.duckdb"))
    assert api.store_path() == tmp_path / "env.duckdb"
    assert api.store_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"


def test_sql_text_in_a_ticker_never_reaches_sql(db: Store) -> None:
    assert db.bars(["X' OR '1'='1"]).is_empty()
    with duckdb.connect() as con:
        con.execute("SELECT 1").fetchall()  # the store keeps no global state


_ALL = calendar.sessions("XNYS")
NYSE = _ALL.filter((dt.date(2020, 1, 1) <= _ALL) & (dt.date(2020, 12, 31) >= _ALL))


@st.composite
def bar_tables(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(1, 40))
    start = draw(st.integers(0, NYSE.len() - n))
    price = st.floats(0.01, 1e5, allow_nan=False, allow_infinity=False)
    rows = []
    for date in NYSE.slice(start, n).to_list():
        p = sorted(draw(st.lists(price, min_size=4, max_size=4)))
        low, high = p[0], p[3]
        open_, close = draw(st.permutations([p[1], p[2]]))
        rows.append((date, open_, high, low, close, draw(st.integers(0, 10**12))))
    return pl.DataFrame(
        rows, schema=["date", "open", "high", "low", "close", "volume"], orient="row"
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=bar_tables(), fmt=st.sampled_from(["csv", "parquet"]))
def test_ingest_then_read_returns_the_same_bars(
    tmp_path: Path, table: pl.DataFrame, fmt: str
) -> None:
    path = tmp_path / f"RT.{fmt}"
    if fmt == "csv":
        table.write_csv(path, float_precision=None)
    else:
        table.write_parquet(path)
    db_path = tmp_path / f"rt-{fmt}.duckdb"
    db_path.unlink(missing_ok=True)
    with Store(db_path) as db:
        api.ingest("prices", [path], store=db)
        read = db.bars(["RT"]).drop("ticker")
    assert read.equals(table.cast(read.schema))


def test_export_parquet_keeps_each_ticker_in_one_partition(tmp_path: Path, db: Store) -> None:
    for name in ("AAA", "BBB", "CCC"):
        api.ingest("prices", [write_csv(tmp_path / f"{name}.csv", good_rows())], store=db)
    rows = db.export_bars(tmp_path / "pq", 2)
    parts = sorted((tmp_path / "pq").iterdir())
    frames = [pl.read_parquet(p / "*.parquet") for p in parts]
    assert rows == 15 == sum(f.height for f in frames)
    owners = [set(f["ticker"]) for f in frames]
    assert set.union(*owners) == {"AAA", "BBB", "CCC"}
    assert sum(len(o) for o in owners) == 3  # no ticker split across partitions
    with pytest.raises(StoreError, match="not empty"):
        db.export_bars(tmp_path / "pq", 2)
    assert db.export_bars(tmp_path / "pq", 3, overwrite=True) == 15
    assert len(list((tmp_path / "pq").iterdir())) <= 3


def _recounted(db: Store) -> pl.DataFrame:
    """Per-ticker stats recomputed from every stored row, to compare with the kept ones."""
    return db._frame(
        f"""
        SELECT ticker, max(date) AS last_date, count(*) AS bars,
            coalesce(any_value(a.n), 0) AS actions,
            xor(bit_xor({store.BAR_HASH}), coalesce(any_value(a.h), 0::UBIGINT)) AS checksum
        FROM bars LEFT JOIN (
            SELECT ticker, count(*) AS n, bit_xor({store.ACTION_HASH}) AS h
            FROM actions GROUP BY ticker) a USING (ticker)
        GROUP BY ticker ORDER BY ticker
        """
    )


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    writes=st.lists(
        st.tuples(
            st.sampled_from(["bars", "actions"]),
            st.sampled_from(["AAA", "BBB"]),
            st.lists(st.integers(0, 9), min_size=1, max_size=5, unique=True),
            st.floats(1, 50),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_kept_ticker_stats_equal_a_recount(
    tmp_path: Path, writes: list[tuple[str, str, list[int], float]]
) -> None:
    """Inserts, identical rewrites and replacements, in any order, keep the per-ticker counts,
    last dates and checksums the engine reads exactly as a recount gives them."""
    path = tmp_path / "stats.duckdb"
    path.unlink(missing_ok=True)
    days = NYSE.slice(0, 10).to_list()
    with Store(path) as db:
        for table, ticker, picks, price in writes:
            dates = [days[i] for i in picks]
            if table == "bars":
                frame = pl.DataFrame(
                    {
                        "ticker": ticker,
                        "date": dates,
                        **{c: [price] * len(dates) for c in ("open", "high", "low", "close")},
                        "volume": [int(price)] * len(dates),
                    }
                )
            else:
                frame = pl.DataFrame(
                    {"ticker": ticker, "date": dates, "kind": "split", "value": price}
                )
            db.upsert(table, frame, replace=True)  # type: ignore[arg-type]
        kept = db.fingerprint()
        assert kept.equals(_recounted(db))
        summary = db.summary()
        assert summary["bars"].to_list() == kept["bars"].to_list()


def test_one_tickers_adjusted_bars_equal_its_rows_of_the_universe(
    tmp_path: Path, db: Store
) -> None:
    """Choosing the ticker before the adjustment joins gives the same numbers as adjusting
    the whole universe and picking the ticker afterwards."""
    for name in ("AAA", "BBB", "CCC"):
        api.ingest("prices", [write_csv(tmp_path / f"{name}.csv", good_rows())], store=db)
    actions = write_csv(
        tmp_path / "a.csv",
        [
            "AAA,2024-01-04,split,2",
            "BBB,2024-01-05,dividend,0.5",
            "BBB,2024-01-08,split,3",
            "CCC,2024-01-03,dividend,1.25",
        ],
        header="ticker,date,kind,value",
    )
    api.ingest("actions", [actions], store=db)
    for adjusted, dividends, end in [
        (True, True, None),
        (True, False, None),
        (True, True, dt.date(2024, 1, 5)),
        (False, True, dt.date(2024, 1, 5)),
    ]:
        everyone = db.bars(adjusted=adjusted, dividends=dividends, end=end)
        for name in ("AAA", "BBB", "CCC"):
            one = db.bars([name], adjusted=adjusted, dividends=dividends, end=end)
            assert one.equals(everyone.filter(pl.col("ticker") == name)), name
        pair = db.bars(["CCC", "AAA"], adjusted=adjusted, dividends=dividends, end=end)
        assert pair.equals(everyone.filter(pl.col("ticker").is_in(["AAA", "CCC"])))


def test_a_store_reads_on_after_counting_sessions(tmp_path: Path) -> None:
    """Each read leaves the connection free for the next, as a notebook reuses one store."""
    path = tmp_path / "s.duckdb"
    api.ingest("prices", [write_csv(tmp_path / "ABC.csv", good_rows())], store=path)
    with Store(path) as db:
        assert db.session_coverage(None) == (dt.date(2024, 1, 8), 1, 1)
        assert db.bars(["ABC"]).height == 5
        assert api.screen_coverage(store=db)[0] == dt.date(2024, 1, 8)
        assert api.prices("ABC", store=db).height == 5
