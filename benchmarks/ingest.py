"""Ingest throughput: the 30 real Yahoo files, and a synthetic 5,000 x 2,520 Parquet file.

Run: ``python -m benchmarks.ingest``. Target: over 2M rows/s for the synthetic file.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks.universe import write_universe
from stockbrief import api
from stockbrief.store import Store

YAHOO = Path(__file__).resolve().parents[2] / "shared" / "data" / "yahoo-30"


def timed_ingest(files: list[Path], store: Path, **options: object) -> tuple[int, float]:
    start = time.perf_counter()
    with Store(store) as db:
        report = api.ingest("prices", files, store=db, **options)  # type: ignore[arg-type]
    return report.rows, time.perf_counter() - start


def line(name: str, rows: int, seconds: float) -> None:
    print(f"{name:<44} {rows:>12,} rows {seconds:>8.3f} s {rows / seconds:>14,.0f} rows/s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if YAHOO.is_dir():
            files = sorted(YAHOO.glob("*.csv"))
            rows, sec = timed_ingest(files, folder / "y.duckdb", end=dt.date(2026, 3, 25))
            line("yahoo-30, 30 CSV files, new store", rows, sec)
            rows, sec = timed_ingest(files, folder / "y.duckdb", end=dt.date(2026, 3, 25))
            line("yahoo-30, same files again (no-op)", rows, sec)
        else:
            print(f"skipped yahoo-30: {YAHOO} not found")
        start = time.perf_counter()
        parquet = write_universe(folder / "universe.parquet", 5_000, 2_520)
        print(f"(synthetic file written in {time.perf_counter() - start:.1f} s)")
        rows, sec = timed_ingest([parquet], folder / "s.duckdb")
        line("synthetic 5,000 x 2,520 Parquet, new store", rows, sec)
        rows, sec = timed_ingest([parquet], folder / "s.duckdb")
        line("synthetic 5,000 x 2,520 Parquet, again", rows, sec)


if __name__ == "__main__":
    main()
