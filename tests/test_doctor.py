"""`stockbrief doctor`: what it finds in real and written stores, what it reads, the commands it
says to run (which mend what it found), and its exit codes and formats."""

from __future__ import annotations

import datetime as dt
import io
import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import shared_path
from stockbrief import api
from stockbrief.diagnosis import diagnose
from stockbrief.store import Store
from test_plausibility import sessions, split_series, write_bars, zigzag

LAST_FINAL = dt.date(2026, 3, 25)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args], capture_output=True, text=True, cwd=cwd
    )


def mend(hint: str, store: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the `stockbrief ...` command a hint names, on ``store``."""
    command = hint[hint.index("stockbrief ") :]
    args = shlex.split(command)[1:]
    done = run(*args, "--store", str(store), cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 30 real Yahoo files up to their last finished session."""
    path = tmp_path_factory.mktemp("real") / "store.duckdb"
    files = sorted(shared_path("yahoo-30").glob("*.csv"))
    api.ingest("prices", files, store=path, end=LAST_FINAL)
    return path


def test_the_real_store_has_one_suspicious_bar_the_vix_one(real_store: Path) -> None:
    """Hong Kong's typhoon closures of 1 and 8 September 2023 are no missing sessions, and no
    other ticker raises anything."""
    report = api.doctor(store=real_store)
    assert report.tickers == 30
    rows = report.findings.select("ticker", "date", "kind", "field").rows()
    assert rows == [("VIX", LAST_FINAL, "index_volume", "volume")]
    assert report.summary() == "1 finding in 1 of 30 tickers (1 index_volume)"
    clean = api.doctor("0700.hk", store=real_store)
    assert clean.clean
    assert clean.summary() == "no suspicious data in 1 ticker"


class Spy:
    """A store that records the tickers of every read."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self.reads: list[tuple[str, list[str] | None]] = []

    def bars(self, tickers: Sequence[str] | None = None, **kw: Any) -> pl.DataFrame:
        self.reads.append(("bars", None if tickers is None else list(tickers)))
        return self.db.bars(tickers, **kw)

    def actions(self, tickers: Sequence[str] | None = None) -> pl.DataFrame:
        self.reads.append(("actions", None if tickers is None else list(tickers)))
        return self.db.actions(tickers)

    def securities(self) -> pl.DataFrame:
        return self.db.securities()

    def tickers(self) -> list[str]:
        return self.db.tickers()

    def price_basis(self, tickers: Sequence[str] | None = None) -> dict[str, str]:
        self.reads.append(("price_basis", None if tickers is None else list(tickers)))
        return dict(self.db.price_basis(tickers))


def test_one_ticker_reads_its_rows_only_and_the_store_is_read_in_batches(
    real_store: Path,
) -> None:
    with Store(real_store, read_only=True) as db:
        spy = Spy(db)
        one = diagnose(spy, ["AAPL"])
        assert one.clean
        assert {tickers == ["AAPL"] for _, tickers in spy.reads} == {True}
        spy.reads.clear()
        batched = diagnose(spy, batch=7)
        whole = diagnose(db)
        every = db.tickers()
    reads = [tickers or [] for what, tickers in spy.reads if what == "bars"]
    assert [len(t) for t in reads] == [7, 7, 7, 7, 2]
    assert sorted(t for batch in reads for t in batch) == every
    assert batched.findings.equals(whole.findings)


def test_the_command_line_exits_like_a_linter(real_store: Path, tmp_path: Path) -> None:
    store = str(real_store)
    clean = run("doctor", "AAPL", "--store", store, cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "no suspicious data in 1 ticker\n")

    found = run("doctor", "--store", store, cwd=tmp_path)
    assert found.returncode == 1
    lines = found.stdout.splitlines()
    assert lines[0].startswith(
        "VIX 2026-03-25 index_volume (field 'volume'): volume 37,993,457 on VIX"
    )
    assert lines[1] == (
        "  to mend: compare with another source and ingest the corrected bar with --replace, or"
        " drop it: stockbrief delete VIX --from 2026-03-25 --to 2026-03-25 --what bars"
    )
    assert lines[2] == "1 finding in 1 of 30 tickers (1 index_volume)"

    csv = run("doctor", "VIX", "--format", "csv", "--store", store, cwd=tmp_path)
    assert csv.returncode == 1
    frame = pl.read_csv(io.StringIO(csv.stdout), try_parse_dates=True)
    assert frame.columns == ["ticker", "date", "last", "kind", "field", "message", "hint"]
    assert frame.select("ticker", "date", "kind").rows() == [("VIX", LAST_FINAL, "index_volume")]
    assert csv.stderr.strip() == "1 finding in 1 of 1 ticker (1 index_volume)"

    js = run("doctor", "VIX", "--format", "json", "--store", store, cwd=tmp_path)
    (record,) = json.loads(js.stdout)
    assert (record["date"], record["kind"], record["field"]) == (
        "2026-03-25",
        "index_volume",
        "volume",
    )

    bad = run("doctor", "--format", "xml", "--store", store, cwd=tmp_path)
    assert bad.returncode == 2
    assert "use text, csv or json" in bad.stderr
    unknown = run("doctor", "AAPX", "--store", store, cwd=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "error: unknown ticker 'AAPX': no bars stored; did you mean AAPL?"
    )
    assert "Traceback" not in unknown.stderr + bad.stderr


def test_deleting_the_bar_as_the_hint_says_leaves_vix_clean(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    api.ingest("prices", [shared_path("yahoo-30", "VIX.csv")], store=store, end=LAST_FINAL)
    (hint,) = api.doctor("VIX", store=store).findings["hint"]
    mend(hint, store, tmp_path)
    after = run("doctor", "VIX", "--store", str(store), cwd=tmp_path)
    assert (after.returncode, after.stdout) == (0, "no suspicious data in 1 ticker\n")


def test_written_oddities_are_each_listed_with_what_to_run(tmp_path: Path) -> None:
    days = sessions(80)
    spike = zigzag(80)
    spike[60] *= 2.5
    zero = [1_000_000] * 80
    zero[40:44] = [0] * 4
    stale = zigzag(80, trend=0.001)
    stale[50:53] = [stale[49]] * 3
    gap = days[:20] + days[23:30] + days[31:]
    files = [
        write_bars(tmp_path / "SPK.csv", spike),
        write_bars(tmp_path / "ZER.csv", zigzag(80), zero),
        write_bars(tmp_path / "STL.csv", stale),
        write_bars(tmp_path / "GAP.csv", zigzag(len(gap)), days=gap),
    ]
    store = tmp_path / "s.duckdb"
    api.ingest("prices", files, store=store)
    found = api.doctor(store=store).findings
    assert found.select("ticker", "date", "last", "kind").rows() == [
        ("GAP", days[20], days[22], "missing_sessions"),
        ("GAP", days[30], days[30], "missing_sessions"),
        ("SPK", days[60], days[60], "spike"),
        ("STL", days[50], days[52], "stale_bars"),
        ("ZER", days[40], days[43], "zero_volume_run"),
    ]
    gaps = found.filter(pl.col("ticker") == "GAP")
    assert gaps["message"][0].startswith(
        f"3 sessions of the XNYS calendar without a bar ({days[20]} to {days[22]})"
    )
    assert gaps["hint"][1] == (
        f"ingest the missing bars: stockbrief ingest prices FILE --from {days[30]} --to"
        f" {days[30]}, or stockbrief fetch GAP --since {days[30]}"
    )
    assert "stockbrief delete STL --from" in found.filter(pl.col("ticker") == "STL")["hint"][0]
    (tmp_path / "full").mkdir()
    whole = write_bars(tmp_path / "full" / "GAP.csv", zigzag(80), days=days)
    for hint in gaps["hint"]:
        mend(hint.split(", or ")[0].replace("FILE", str(whole)), store, tmp_path)
    assert api.doctor("GAP", store=store).clean


def test_an_unrecorded_split_is_mended_by_the_action_row_the_hint_names(tmp_path: Path) -> None:
    closes, volumes = split_series(2, 2)
    store = tmp_path / "s.duckdb"
    api.ingest("prices", [write_bars(tmp_path / "TWO.csv", closes, volumes)], store=store)
    (row,) = api.doctor("TWO", store=store).findings.rows(named=True)
    assert (row["kind"], row["date"]) == ("unrecorded_split", sessions(80)[60])
    action = row["hint"].split("with the row ")[1].split(" ")[0]
    assert action == f"TWO,{sessions(80)[60]},split,2:1"
    actions = tmp_path / "actions.csv"
    actions.write_text(f"ticker,date,kind,value\n{action}\n")
    api.ingest("actions", [actions], store=store)
    assert api.doctor("TWO", store=store).clean


def test_a_split_stored_for_bars_already_adjusted_is_named(tmp_path: Path) -> None:
    """Yahoo's NVDA bars are adjusted for the 10-for-1 split of 2024-06-10: storing that split
    as well would divide the earlier prices by ten once more."""
    nvda = shared_path("yahoo-30", "NVDA.csv")
    actions = tmp_path / "nvda-actions.csv"
    actions.write_text("ticker,date,kind,value\nNVDA,2024-06-10,split,10\n")
    traded, adjusted = tmp_path / "traded.duckdb", tmp_path / "adjusted.duckdb"
    api.ingest("prices", [nvda], store=traded, end=LAST_FINAL)
    api.ingest("prices", [nvda], store=adjusted, end=LAST_FINAL, basis="adjusted")
    for store in (traded, adjusted):
        api.ingest("actions", [actions], store=store)
    (row,) = api.doctor("NVDA", store=traded).findings.rows(named=True)
    assert (row["kind"], row["date"], row["field"]) == (
        "split_not_in_bars",
        dt.date(2024, 6, 10),
        "close",
    )
    assert row["message"].startswith(
        "a split of 10 new shares per old is stored on 2024-06-10, but the close moves only x"
    )
    assert "stockbrief delete NVDA --from 2024-06-10 --to 2024-06-10 --what actions" in row["hint"]
    assert api.doctor("NVDA", store=adjusted).clean
    mend(row["hint"].split("if the split is wrong: ")[1], traded, tmp_path)
    assert api.doctor("NVDA", store=traded).clean
