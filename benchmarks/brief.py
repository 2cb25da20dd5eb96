"""Brief speed: one brief with its chart, and a brief for each of the 30 yahoo-30 tickers.

Run: ``python -m benchmarks.brief``. Target: one brief with chart (HTML) in under 1 s.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from stockbrief import api
from stockbrief.notes import render
from stockbrief.store import Store

YAHOO = Path(__file__).resolve().parents[2] / "shared" / "data" / "yahoo-30"
DAY = dt.date(2026, 1, 2)


def one(args: tuple[str, str, str]) -> float:
    """Write one HTML brief; return its wall time."""
    ticker, store, out = args
    start = time.perf_counter()
    note = api.brief(ticker, as_of=DAY, store=store)
    render.write(note, "html", Path(out))
    return time.perf_counter() - start


def main() -> None:
    if not YAHOO.is_dir():
        print(f"skipped: {YAHOO} not found")
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "b.duckdb"
        with Store(store) as db:
            api.ingest("prices", sorted(YAHOO.glob("*.csv")), store=db, end=dt.date(2026, 3, 25))
            tickers = [t for t in db.tickers() if t != "2513.HK"]  # listed after the date
        one(("BABA", str(store), tmp))  # warm: numba and matplotlib load once per process
        times = [one(("BABA", str(store), tmp)) for _ in range(5)]
        print(f"one brief with chart (HTML), best of 5    {min(times):7.3f} s")
        start = time.perf_counter()
        # Spawned, not forked: a fork after numba's threads have started can deadlock.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
            list(pool.map(one, [(t, str(store), tmp) for t in tickers]))
        print(
            f"{len(tickers)} briefs, 2 processes              {time.perf_counter() - start:7.3f} s"
        )


if __name__ == "__main__":
    main()
