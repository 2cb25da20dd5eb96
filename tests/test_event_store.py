"""Events in the store: typed columns, the parameters they were detected with, and the
migration from JSON details."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest

from stockbrief import detectors as ev
from stockbrief.errors import StoreError
from stockbrief.store import MIGRATIONS, Store

TYPED = next(i for i, m in enumerate(MIGRATIONS) if "CREATE TABLE event_params" in m)
"""The migration that gives events their typed columns."""


def found() -> pl.DataFrame:
    """A gap up, a failed breakout and a cross below the 50-day average, as detected."""
    n = 5
    given = {
        "open": [99.0, 101.0, 110.0, 99.5, 98.0],
        "high": [100.0, 102.0, 111.0, 103.0, 99.0],
        "low": [98.0, 100.0, 101.0, 99.0, 97.0],
        "close": [99.0, 101.0, 102.0, 99.5, 98.0],
        "volume": [1000.0] * n,
        "sma_50": [100.0] * n,
    }
    bars = pl.DataFrame(
        {
            "ticker": ["T"] * n,
            "date": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(n)],
            **{c: given.get(c, [None] * n) for c in ev.INPUTS},
        },
        schema_overrides=dict.fromkeys(ev.INPUTS, pl.Float64),
    )
    events = ev.detect(bars)
    assert {"gap_up", "breakout_failed_sma_50"} <= set(events["kind"])
    return events


def test_a_new_store_keeps_typed_events_and_their_parameters(tmp_path: Path) -> None:
    events = found()
    with Store(tmp_path / "s.duckdb") as db:
        db.replace_events(events, params=ev.params_frame())
        stored = db.events()
        assert stored.schema == pl.Schema(ev.EVENTS_SCHEMA)
        assert stored.equals(events)
        assert db.event_params().equals(ev.params_frame())
        assert ev.with_detail(stored, db.event_params()).equals(ev.with_detail(events))
        db.add_events(events.with_columns(pl.lit("U").alias("ticker")), params=ev.params_frame())
        assert db.event_params().height == len(ev.EVENT_PARAMS)
        assert db.events(["U"]).height == events.height


def test_parameters_of_older_events_are_kept(tmp_path: Path) -> None:
    older = {"min_gap": 0.02}
    old_id = ev.params_id("gap_up", older)
    kept = pl.DataFrame(
        {"id": [old_id], "kind": ["gap_up"], "params": [json.dumps(older)]},
        schema={"id": pl.Int32, "kind": pl.String, "params": pl.String},
    )
    events = found()
    with Store(tmp_path / "s.duckdb") as db:
        db.add_events(events.with_columns(pl.lit(old_id, pl.Int32).alias("params_id")), params=kept)
        db.add_events(events.with_columns(pl.lit("U").alias("ticker")), params=ev.params_frame())
        params = db.event_params()
        assert params.height == len(ev.EVENT_PARAMS) + 1
        old = ev.with_detail(db.events(["T"]), params).filter(pl.col("kind") == "gap_up")
        assert json.loads(old["detail"][0])["min_gap"] == 0.02


def test_an_id_never_changes_meaning(tmp_path: Path) -> None:
    clash = ev.params_frame().head(1).with_columns(pl.lit('{"window": 7.0}').alias("params"))
    with Store(tmp_path / "s.duckdb") as db:
        db.add_event_params(ev.params_frame())
        with pytest.raises(StoreError, match="share an id"):
            db.replace_events(found(), params=clash)
        assert db.events().is_empty()


def test_the_migration_drops_json_events_and_the_engine_state(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version in range(TYPED):
        con.execute(MIGRATIONS[version])
        con.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
    con.execute("INSERT INTO events VALUES ('T', '2024-01-02', 'gap_up', 0.02, '{}')")
    con.execute("INSERT INTO engine_meta (ticker, last_date, bars, actions) VALUES "
                "('T', '2024-01-02', 1, 0)")  # fmt: skip
    for name in ("history", "kernels", "recent"):
        con.execute(f"CREATE TABLE engine_{name} AS SELECT 'T' AS ticker")
    con.close()
    with Store(path) as db:
        assert db.events().schema == pl.Schema(ev.EVENTS_SCHEMA)
        assert db.events().is_empty()
        assert db.event_params().is_empty()
        assert db.engine_meta().is_empty()
        assert not db.has_engine_state(("history",))
        assert not db.has_engine_state(("kernels",))
        assert not db.has_engine_state(("recent",))
