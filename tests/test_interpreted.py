"""Kernels run as plain Python give the compiled kernels' numbers bit for bit.

A daily update whose kernel work is small (a new listing, a ticker with a gap) runs the
kernels uncompiled rather than importing numba for it. Each case runs in a fresh interpreter
where numba was never imported, and is compared with the compiled kernels here.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl

from helpers import good_rows, load_yahoo, write_csv
from stockbrief import api
from stockbrief.compute import EngineState, compute
from stockbrief.store import Store
from test_daily_step import _odd_universe

CHILD = """
import json, sys
from pathlib import Path
import numpy as np, polars as pl
from stockbrief import jit
from stockbrief.compute import EngineState, compute, update

folder = Path(sys.argv[1])
bars = pl.read_parquet(folder / "bars.parquet")
days = json.loads((folder / "days.json").read_text())
cut = days["cut"]
with jit.interpreted(), np.errstate(all="ignore"):
    start = compute(bars.filter(pl.col("date") <= pl.lit(cut).str.to_date()))
    state = EngineState.from_frames(start.state.to_frames())
    steps = []
    for group in days["steps"]:
        dates = pl.Series(group).str.to_date()
        step = update(state, bars.filter(pl.col("date").is_in(dates.implode())))
        state = step.state
        steps.append(step)
start.frame.write_parquet(folder / "start.parquet")
pl.concat([s.frame for s in steps]).write_parquet(folder / "frames.parquet")
pl.concat([s.events for s in steps]).write_parquet(folder / "events.parquet")
for name, frame in state.to_frames().items():
    frame.write_ipc(folder / f"state-{name}.arrow")
print(json.dumps({"numba": "numba" in sys.modules, "compiled": jit.compiled()}))
"""


def _interpreted(bars: pl.DataFrame, cut: dt.date, steps: list[list[dt.date]], tmp: Path) -> dict:
    bars.write_parquet(tmp / "bars.parquet")
    plan = {"cut": cut.isoformat(), "steps": [[d.isoformat() for d in g] for g in steps]}
    (tmp / "days.json").write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    report: dict = json.loads(done.stdout.splitlines()[-1])
    return report


def _assert_like_compiled(
    bars: pl.DataFrame, cut: dt.date, steps: list[list[dt.date]], tmp: Path
) -> None:
    report = _interpreted(bars, cut, steps, tmp)
    assert report == {"numba": False, "compiled": False}
    head = compute(bars.filter(pl.col("date") <= cut))
    assert pl.read_parquet(tmp / "start.parquet").equals(head.frame)
    full = compute(bars)
    later = full.frame.filter(pl.col("date") > cut)
    assert pl.read_parquet(tmp / "frames.parquet").sort("ticker", "date").equals(later)
    events = pl.read_parquet(tmp / "events.parquet").sort("ticker", "date", "kind")
    assert events.equals(full.events.filter(pl.col("date") > cut))
    last = EngineState.from_frames(
        {p.stem.removeprefix("state-"): pl.read_ipc(p) for p in tmp.glob("state-*.arrow")}
    )
    for name, kernel in full.state.kernels.items():
        assert np.array_equal(last.kernels[name], kernel, equal_nan=True), name
    for column, history in full.state.history.items():
        assert np.array_equal(last.history[column], history, equal_nan=True), column
    assert last.recent.equals(full.state.recent)


def test_real_tickers_young_and_old_computed_uncompiled_as_compiled(
    yahoo30: Path, tmp_path: Path
) -> None:
    # 2513.HK listed on 8 January 2026 (in warm-up throughout), VIX has no volume, the
    # others cross the 200- and 252-session windows during the steps.
    chosen = ["2513.HK", "VIX", "BABA", "0700.HK", "NVDA"]
    bars = load_yahoo(yahoo30).filter(pl.col("ticker").is_in(chosen))
    dates = bars["date"].unique().sort().to_list()[-275:]
    bars = bars.filter(pl.col("date") >= dates[0])
    cut = dates[-16]
    steps = [[d] for d in dates[-15:-3]] + [dates[-3:]]  # one at a time, then three at once
    _assert_like_compiled(bars, cut, steps, tmp_path)


def test_flat_prices_gaps_and_late_listings_uncompiled_as_compiled(tmp_path: Path) -> None:
    bars = _odd_universe()
    dates = bars["date"].unique().sort().to_list()
    steps = [[d] for d in dates[-30:]]
    _assert_like_compiled(bars, dates[-31], steps, tmp_path)


PROBE = """
import sys
from stockbrief.cli import app
try:
    app(sys.argv[1:], prog_name="stockbrief")
except SystemExit:
    pass
print("numba" in sys.modules, file=sys.stderr)
"""


def test_a_daily_compute_with_a_new_listing_loads_no_numba(yahoo30: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    files = sorted(yahoo30.glob("*.csv"))
    api.ingest("prices", files, store=store, end=dt.date(2026, 3, 24))
    api.refresh(store)
    api.ingest("prices", files, store=store, start=dt.date(2026, 3, 25), end=dt.date(2026, 3, 25))
    listing = write_csv(tmp_path / "NEWCO.csv", good_rows())  # five sessions, a new ticker
    api.ingest("prices", [listing], store=store)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "compute", "--store", str(store)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert done.stderr.split()[-1] == "False"  # numba never imported
    assert "31 tickers" in done.stdout
    daily_events, daily_state = _stored(store)
    assert daily_events.filter(pl.col("date") == dt.date(2026, 3, 25)).height > 0
    api.refresh(store, full=True)
    full_events, full_state = _stored(store)
    assert daily_events.equals(full_events)
    for name, frame in full_state.items():
        assert daily_state[name].equals(frame), name


def _stored(store: Path) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    with Store(store, read_only=True) as db:
        frames, _ = db.load_engine_state(api.STATE_FRAMES)
        return db.events(), frames
