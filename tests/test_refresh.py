"""Indicators and events through the store: as-of reads and the daily incremental refresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_path
from helpers import write_csv
from stockbrief import api
from stockbrief.store import Store


@pytest.fixture
def store(tmp_path: Path, yahoo30: Path) -> Store:
    db = Store(tmp_path / "r.duckdb")
    files = [yahoo30 / f"{t}.csv" for t in ("BABA", "BIDU", "JD", "SPY", "0700.HK")]
    api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
    yield db
    db.close()


def test_indicators_as_of_a_date(store: Store) -> None:
    frame = api.indicators("baba", as_of=dt.date(2026, 1, 3), store=store)  # a Saturday
    last = frame.row(frame.height - 1, named=True)
    assert last["date"] == dt.date(2026, 1, 2)
    assert last["close"] == pytest.approx(155.74, abs=0.005)
    assert last["sma_50"] == pytest.approx(159.36, abs=0.01)
    assert last["sma_200"] == pytest.approx(137.00, abs=0.01)


def test_as_of_results_ignore_later_bars_and_splits(tmp_path: Path, store: Store) -> None:
    day = dt.date(2026, 1, 2)
    before = api.indicators("BABA", as_of=day, store=store)
    split = write_csv(tmp_path / "s.csv", ["BABA,2026-02-02,split,2"], "ticker,date,kind,value")
    api.ingest("actions", [split], store=store)
    assert api.indicators("BABA", as_of=day, store=store).equals(before)
    after = api.indicators("BABA", as_of=dt.date(2026, 2, 2), store=store)
    assert after.filter(pl.col("date") == day)["close"][0] == pytest.approx(155.74 / 2, abs=0.005)


def test_incremental_refresh_matches_a_full_one(tmp_path: Path, yahoo30: Path) -> None:
    files = [yahoo30 / f"{t}.csv" for t in ("BABA", "JD", "0700.HK")]
    with Store(tmp_path / "inc.duckdb") as db:
        api.ingest("prices", files, store=db, end=dt.date(2025, 12, 31))
        assert api.refresh(db).mode == "full"
        for end in (dt.date(2026, 1, 2), dt.date(2026, 1, 9), dt.date(2026, 3, 25)):
            api.ingest("prices", files, store=db, end=end)
            report = api.refresh(db)
            assert report.mode == "incremental"
            assert not report.recomputed
        # A backfilled ticker and a new split are recomputed from scratch.
        api.ingest("prices", [yahoo30 / "BIDU.csv"], store=db, end=dt.date(2026, 3, 25))
        split = write_csv(tmp_path / "s.csv", ["JD,2026-02-02,split,2"], "ticker,date,kind,value")
        api.ingest("actions", [split], store=db)
        report = api.refresh(db)
        assert report.recomputed == ("JD",)
        incremental = db.events()
        api.refresh(db, full=True)
        assert incremental.equals(db.events())
        assert set(incremental["ticker"].unique()) == {"0700.HK", "BABA", "BIDU", "JD"}


@pytest.mark.slow
def test_dask_engine_stores_the_same_events_and_state(tmp_path: Path, yahoo30: Path) -> None:
    pytest.importorskip("distributed")
    files = [yahoo30 / f"{t}.csv" for t in ("BABA", "JD", "0700.HK", "SPY")]
    with Store(tmp_path / "dask.duckdb") as db:
        api.ingest("prices", files, store=db, end=dt.date(2026, 1, 9))
        report = api.refresh_on_dask(dataset=tmp_path / "pq", partitions=3, store=db)
        on_dask = db.events()
        assert report.events == on_dask.height > 0
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
        assert api.refresh(db).mode == "incremental"  # continues from the gathered state
        continued = db.events()
        api.refresh(db, full=True)
        assert continued.equals(db.events())
        assert on_dask.equals(db.events().filter(pl.col("date") <= dt.date(2026, 1, 9)))


def test_a_replaced_bar_or_split_is_recomputed(tmp_path: Path, yahoo30: Path) -> None:
    """Counts alone cannot see a bar replaced in place: the checksum does."""
    with Store(tmp_path / "rep.duckdb") as db:
        api.ingest("prices", [yahoo30 / "JD.csv"], store=db, end=dt.date(2026, 3, 25))
        split = write_csv(tmp_path / "s.csv", ["JD,2024-05-01,split,2"], "ticker,date,kind,value")
        api.ingest("actions", [split], store=db)
        api.refresh(db)
        bar = db.bars(["JD"]).filter(pl.col("date") == dt.date(2024, 5, 2)).row(0, named=True)
        changed = write_csv(
            tmp_path / "JD.csv",
            [f"2024-05-02,{bar['open']},{bar['high'] * 1.5},{bar['low']},{bar['high'] * 1.4},1"],
            "date,open,high,low,close,volume",
        )
        api.ingest("prices", [changed], store=db, replace=True)
        assert api.refresh(db).recomputed == ("JD",)
        write_csv(split, ["JD,2024-05-01,split,3"], "ticker,date,kind,value")
        api.ingest("actions", [split], store=db, replace=True)
        assert api.refresh(db).recomputed == ("JD",)
        incremental = db.events()
        api.refresh(db, full=True)
        assert incremental.equals(db.events())


def test_a_split_stored_before_the_bars_around_it(tmp_path: Path, yahoo30: Path) -> None:
    """Bars ingested after a split that was stored ahead of them are adjusted on the
    incremental path as on the full one: no false +100% move, no false cross."""
    with Store(tmp_path / "ahead.duckdb") as db:
        api.ingest("prices", [yahoo30 / "JD.csv"], store=db, end=dt.date(2025, 12, 31))
        split = write_csv(tmp_path / "s.csv", ["JD,2026-02-02,split,2"], "ticker,date,kind,value")
        api.ingest("actions", [split], store=db)
        api.refresh(db)
        api.ingest("prices", [yahoo30 / "JD.csv"], store=db, end=dt.date(2026, 1, 30))
        assert api.refresh(db).recomputed == ()
        incremental = db.events()
        api.refresh(db, full=True)
        assert incremental.equals(db.events())
        jumps = incremental.filter(pl.col("kind").is_in(["large_move_up", "large_move_down"]))
        assert jumps.filter(pl.col("value").abs() > 0.5).is_empty()


@settings(max_examples=8, deadline=None)
@given(order=st.permutations(["bars-1", "bars-2", "bars-3", "split", "dividend"]))
def test_any_interleaving_of_bars_and_actions_ends_as_a_full_compute(
    tmp_path_factory: pytest.TempPathFactory, order: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("order")
    yahoo = shared_path("yahoo-30")
    ends = {
        "bars-1": dt.date(2025, 10, 31),
        "bars-2": dt.date(2025, 12, 31),
        "bars-3": dt.date(2026, 3, 25),
    }
    actions = {
        "split": "JD,2025-12-01,split,3",
        "dividend": "JD,2026-01-15,dividend,0.5",
    }
    with Store(folder / "o.duckdb") as db:
        api.ingest("prices", [yahoo / "BIDU.csv"], store=db, end=dt.date(2026, 3, 25))
        for step in order:
            if step in ends:
                api.ingest("prices", [yahoo / "JD.csv"], store=db, end=ends[step])
            else:
                rows = write_csv(folder / f"{step}.csv", [actions[step]], "ticker,date,kind,value")
                api.ingest("actions", [rows], store=db)
            api.refresh(db)
        incremental = db.events()
        state = db.load_engine_state(api.STATE_FRAMES)[0]
        api.refresh(db, full=True)
        assert incremental.equals(db.events())
        full_state = db.load_engine_state(api.STATE_FRAMES)[0]
        for name, frame in state.items():
            assert frame.sort("ticker").equals(full_state[name].sort("ticker")), name


def test_nothing_new_is_a_no_op(store: Store) -> None:
    assert api.refresh(store).mode == "full"
    before = store.events()
    report = api.refresh(store)
    assert (report.mode, report.rows, report.tickers) == ("incremental", 0, 0)
    assert store.events().equals(before)


def test_a_full_compute_in_batches_equals_one_pass(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.refresh(store, full=True)
    whole = store.events()
    state = store.load_engine_state(api.STATE_FRAMES)[0]
    monkeypatch.setattr(api, "ENGINE_BATCH", 2)
    api.refresh(store, full=True)
    assert store.events().equals(whole)
    for name, frame in store.load_engine_state(api.STATE_FRAMES)[0].items():
        assert frame.equals(state[name]), name


def test_batches_bounded_by_bars_equal_one_pass(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real tickers of 1,300 to 2,500 bars, a budget of 3,000 bars: one or two per batch.
    api.refresh(store, full=True)
    whole = store.events()
    state = store.load_engine_state(api.STATE_FRAMES)[0]
    sizes = [len(b) for b in api._bar_batches(store.fingerprint())]
    monkeypatch.setattr(api, "ENGINE_BATCH_BARS", 3_000)
    small = [len(b) for b in api._bar_batches(store.fingerprint())]
    assert len(small) > len(sizes)
    assert max(small) <= 2
    api.refresh(store, full=True)
    assert store.events().equals(whole)
    for name, frame in store.load_engine_state(api.STATE_FRAMES)[0].items():
        assert frame.equals(state[name]), name


def test_a_state_kept_in_tables_by_an_older_store_resumes_and_moves_to_files(
    tmp_path: Path, yahoo30: Path
) -> None:
    files = [yahoo30 / f"{t}.csv" for t in ("BABA", "JD", "0700.HK")]
    with Store(tmp_path / "old.duckdb") as db:
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 20))
        api.refresh(db)
        frames, _ = db.load_engine_state(api.STATE_FRAMES)
        # The layout stores written before the engine folder kept: the state as tables.
        for name, frame in frames.items():
            db._con.register("kept", frame)
            db._con.execute(f"CREATE TABLE engine_{name} AS SELECT * FROM kept")
            db._con.unregister("kept")
        db._con.execute("DROP TABLE engine_state")
        for path in db.engine_folder.glob("*.arrow"):
            path.unlink()
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
        report = api.refresh(db)
        assert report.mode == "incremental"
        assert report.rows > 0
        assert db.engine_indicators() is not None
        assert len(list(db.engine_folder.glob("*.arrow"))) == len(api.STATE_FRAMES)
        tables = {r[0] for r in db._con.execute("SHOW TABLES").fetchall()}
        assert not {"engine_history", "engine_kernels", "engine_recent"} & tables
        resumed = db.events()
        api.refresh(db, full=True)
        assert resumed.equals(db.events())


def test_a_rolled_back_save_keeps_the_state_before_it(store: Store) -> None:
    api.refresh(store)
    before, meta = store.load_engine_state(api.STATE_FRAMES)
    files = sorted(store.engine_folder.glob("*.arrow"))
    emptied = {name: frame.clear() for name, frame in before.items()}

    def save_then_fail() -> None:
        with store.transaction():
            store.save_engine_state(emptied, meta.clear())
            raise RuntimeError("a failure after the save, before the commit")

    with pytest.raises(RuntimeError):
        save_then_fail()
    after, kept_meta = store.load_engine_state(api.STATE_FRAMES)
    assert sorted(store.engine_folder.glob("*.arrow")) == files
    assert kept_meta.equals(meta)
    for name, frame in before.items():
        assert after[name].equals(frame), name
