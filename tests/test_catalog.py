"""`info` and an up-to-date `compute` answer from the kept stats, before Polars or numba load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import good_rows, write_csv
from stockbrief import api, catalog, store
from stockbrief.store import Store

PROBE = """
import sys
from stockbrief.cli import app
try:
    app(sys.argv[1:], prog_name="stockbrief")
except SystemExit as exit:
    code = exit.code
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY = ("numba", "numpy", "polars", "pyarrow", "pandas", "stockbrief.api", "stockbrief.store")


def run_probe(*args: str, cwd: Path) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, check=True
    )
    return done.stdout, set(done.stderr.split())


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.partition(".")[0] in HEAVY or m in HEAVY)


@pytest.fixture
def computed(tmp_path: Path) -> Path:
    """A store of two tickers, computed."""
    path = tmp_path / "s.duckdb"
    rows = good_rows()
    api.ingest("prices", [write_csv(tmp_path / "ABC.csv", rows)], store=path)
    api.ingest("prices", [write_csv(tmp_path / "DEF.csv", rows[:3])], store=path)
    api.refresh(path)
    return path


def test_the_schema_read_here_is_the_stores() -> None:
    assert store.SCHEMA_VERSION == catalog.SCHEMA_VERSION == len(store.MIGRATIONS)


def test_info_lists_the_stored_tickers_without_polars(computed: Path) -> None:
    text, modules = run_probe("info", "--store", str(computed), cwd=computed.parent)
    assert heavy(modules) == []
    assert "ABC" in text
    assert "2024-01-08" in text
    assert "2 tickers, 8 bars, 0 actions" in text
    records, _ = run_probe(
        "info", "--store", str(computed), "--format", "json", cwd=computed.parent
    )
    assert json.loads(records) == [
        {"ticker": "ABC", "first": "2024-01-02", "last": "2024-01-08", "bars": 5, "actions": 0},
        {"ticker": "DEF", "first": "2024-01-02", "last": "2024-01-04", "bars": 3, "actions": 0},
    ]
    table, _ = run_probe("info", "--store", str(computed), "--format", "csv", cwd=computed.parent)
    assert table.splitlines() == [
        "ticker,first,last,bars,actions",
        "ABC,2024-01-02,2024-01-08,5,0",
        "DEF,2024-01-02,2024-01-04,3,0",
    ]


def test_info_matches_the_library(computed: Path) -> None:
    assert catalog.holdings(computed) == [tuple(r) for r in api.info(store=computed).iter_rows()]


def test_compute_with_nothing_new_loads_no_engine(computed: Path) -> None:
    text, modules = run_probe("compute", "--store", str(computed), cwd=computed.parent)
    assert heavy(modules) == []
    assert "duckdb" not in modules  # answered from the summary the last writer left
    assert text.strip() == api.RefreshReport("incremental", 0, 0, 0).summary()


def test_a_store_changed_by_another_program_is_read_again(computed: Path) -> None:
    import duckdb

    assert catalog.summary_path(computed).is_file()
    with duckdb.connect(str(computed)) as con:  # not through stockbrief: no summary written
        con.execute("UPDATE ticker_stats SET bars = 4 WHERE ticker = 'DEF'")
    text, modules = run_probe(
        "info", "--store", str(computed), "--format", "csv", cwd=computed.parent
    )
    assert "duckdb" in modules
    assert "DEF,2024-01-02,2024-01-04,4,0" in text.splitlines()
    assert not catalog.engine_current(computed)  # the checksum row no longer matches


def test_a_writer_that_dies_leaves_no_summary(computed: Path, tmp_path: Path) -> None:
    late = write_csv(tmp_path / "DEF2.csv", good_rows()[3:4])
    db = Store(computed)
    assert not catalog.summary_path(computed).exists()  # gone before the first write
    db.close()
    assert catalog.summary_path(computed).is_file()
    code = (
        "import os, sys\n"
        "from stockbrief import api\n"
        "from stockbrief.store import Store\n"
        f"db = Store({str(computed)!r})\n"
        "os._exit(9)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 9
    assert not catalog.summary_path(computed).exists()
    assert catalog.engine_current(computed)  # asked of the file itself
    api.ingest("prices", [late], store=computed, ticker="DEF")
    assert not catalog.engine_current(computed)
    assert [h.bars for h in catalog.holdings(computed) or []] == [5, 4]


def test_any_change_under_the_state_means_work(computed: Path, tmp_path: Path) -> None:
    assert catalog.engine_current(computed)
    late = write_csv(tmp_path / "DEF2.csv", good_rows()[3:4])
    api.ingest("prices", [late], store=computed, ticker="DEF")
    assert not catalog.engine_current(computed)
    api.refresh(computed)
    assert catalog.engine_current(computed)
    split = write_csv(tmp_path / "a.csv", ["ABC,2024-01-05,split,2"], "ticker,date,kind,value")
    api.ingest("actions", [split], store=computed)
    assert not catalog.engine_current(computed)
    api.refresh(computed)
    assert catalog.engine_current(computed)
    api.ingest("prices", [write_csv(tmp_path / "GHI.csv", good_rows())], store=computed)
    assert not catalog.engine_current(computed)


def test_no_store_or_no_state_is_never_current(tmp_path: Path) -> None:
    assert not catalog.engine_current(tmp_path / "none.duckdb")
    assert catalog.holdings(tmp_path / "none.duckdb") is None
    path = tmp_path / "s.duckdb"
    api.ingest("prices", [write_csv(tmp_path / "ABC.csv", good_rows())], store=path)
    assert not catalog.engine_current(path)
    assert [h.ticker for h in catalog.holdings(path) or []] == ["ABC"]


def test_the_catalog_knows_the_default_indicator_set() -> None:
    from stockbrief.kernels import INDICATORS

    assert list(catalog.ENGINE_INDICATORS) == list(INDICATORS)


def test_a_state_saved_with_other_indicators_is_not_current(computed: Path) -> None:
    assert catalog.engine_current(computed)
    with Store(computed) as db:
        db._con.execute("UPDATE engine_state SET indicators = 'sma_20,sma_50'")
    assert not catalog.engine_current(computed)
    # and the next compute recomputes everything instead of saying there is nothing new
    assert api.refresh(computed).mode == "full"
    assert catalog.engine_current(computed)


def test_info_on_a_universe_sums_it_up_without_rich_or_duckdb(tmp_path: Path) -> None:
    lines = [
        f"T{i:02d},{row}"
        for i in range(41)
        for row in (good_rows() if i < 40 else good_rows()[:3])  # T40 stops on 4 January
    ]
    universe = write_csv(tmp_path / "u.csv", lines, "ticker,date,open,high,low,close,volume")
    path = tmp_path / "s.duckdb"
    api.ingest("prices", [universe], store=path)
    text, modules = run_probe("info", "--store", str(path), cwd=tmp_path)
    assert text.splitlines() == [
        f"{path}: bars from 2024-01-02 to 2024-01-08",
        "1 ticker ends before 2024-01-08 (earliest: T40); --all lists every ticker",
        "41 tickers, 203 bars, 0 actions",
    ]
    assert not {"rich", "duckdb"} & {m.partition(".")[0] for m in modules}
