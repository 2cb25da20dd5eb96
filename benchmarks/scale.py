"""Scale-out: the local engine vs the Dask engine on partitioned Parquet datasets.

Run: ``python -m benchmarks.scale`` (about 5-8 minutes on 2 cores; ``--quick`` for a smoke run).

Baseline: the local engine, ``compute(bars)`` in one process over the whole universe, timed from
reading the same Parquet dataset to having the events (read, sort, compute). Contender:
:func:`stockbrief.scale.dask.compute_dataset` on a ``LocalCluster`` of 2 worker processes of one
thread each, timed two ways: a running cluster (``scheduler=`` address; the first run still loads
the numba kernels, about 0.3 s) and end to end (start the cluster, run, close it), which is what
``stockbrief compute --engine dask`` costs beyond exporting the bars from the store (a streamed
DuckDB ``COPY``) and writing the events back.

Universes (synthetic geometric random walks on NYSE sessions, ``benchmarks/universe.py``):

- a sweep of 100 ... 5,000 tickers x 2,520 sessions (the first N tickers of the 5,000 x 2,520
  universe of ``benchmarks/compute.py``), 16 partitions (the export default), to find the
  crossover, the smallest universe where Dask's throughput beats the local engine's;
- 20,000 tickers x 1,260 sessions (25.2 million rows), generated and written partition by
  partition (32 partitions of 625 tickers) so that it never sits whole in one frame.

Each measurement runs in a fresh process, so that peak resident memory (``ru_maxrss``) is the
measurement's own: for the local engine, of its process; for Dask, of the client process and of
each worker (``client.run``). Results are printed as a table.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks.universe import sessions, universe

SWEEP_DAYS = 2_520
SWEEP = (100, 500, 1_000, 2_500, 5_000)
SWEEP_PARTITIONS = 16
BIG_TICKERS, BIG_DAYS, BIG_PARTITIONS = 20_000, 1_260, 32


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    universe: str
    rows: int
    partitions: int
    engine: str
    seconds: float
    peak_mib: float
    worker_mib: tuple[float, ...] = ()
    events: int = 0
    work: float = 0.0
    """Seconds the workers spent computing partitions, summed (Dask rows only)."""

    @property
    def throughput(self) -> float:
        return self.rows / self.seconds


# -- datasets ------------------------------------------------------------------------------------


def _write_part(frame: pl.DataFrame, folder: Path, part: int) -> None:
    where = folder / f"part={part}"
    where.mkdir(parents=True, exist_ok=True)
    frame.sort("ticker", "date").write_parquet(where / "data_0.parquet")


def write_partitioned(bars: pl.DataFrame, folder: Path, partitions: int) -> Path:
    """The layout of ``Store.export_bars``: tickers dealt round-robin to ``part=K`` folders."""
    tickers = bars["ticker"].unique().sort()
    part = pl.DataFrame({"ticker": tickers, "part": np.arange(tickers.len()) % partitions})
    keyed = bars.join(part, on="ticker")
    for k in range(partitions):
        _write_part(keyed.filter(pl.col("part") == k).drop("part"), folder, k)
    return folder


def _walks(tickers: Sequence[str], dates: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """OHLCV random walks as in ``benchmarks.universe.universe``, for the given tickers."""
    shape = (len(tickers), dates.size)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, shape), axis=1))
    open_ = close * np.exp(rng.normal(0, 0.01, shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.01, shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.01, shape)))
    volume = rng.lognormal(13, 0.6, shape).astype(np.int64)
    return pl.DataFrame(
        {
            "ticker": np.repeat(np.array(tickers), dates.size),
            "date": np.tile(dates, len(tickers)),
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        }
    )


def write_big(folder: Path, n_tickers: int, n_days: int, partitions: int) -> Path:
    """A universe written one partition at a time; it is never whole in memory."""
    dates = sessions(n_days).to_numpy()
    width = len(str(n_tickers - 1))
    for k in range(partitions):
        tickers = [f"S{i:0{width}d}" for i in range(k, n_tickers, partitions)]
        _write_part(_walks(tickers, dates, np.random.default_rng([7, k])), folder, k)
    return folder


# -- measurements (each in a fresh process) ----------------------------------------------------


def _peak_mib() -> float:
    """This process's peak resident memory in MiB.

    Linux's ``VmHWM`` rather than ``ru_maxrss``, which a spawned process inherits from the
    parent it was forked from (it survives ``exec``).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _local(dataset: str) -> tuple[float, float, int, int]:
    from stockbrief.compute import compute

    compute(universe(2, 300))  # load the kernels outside the timing, as Dask's warm-up does
    start = time.perf_counter()
    bars = pl.read_parquet(Path(dataset) / "*" / "*.parquet", hive_partitioning=False)
    result = compute(bars.sort("ticker", "date"))
    seconds = time.perf_counter() - start
    return seconds, _peak_mib(), result.frame.height, result.events.height


def _dask(dataset: str) -> dict[str, Any]:
    from distributed import Client, get_task_stream

    from stockbrief.scale.dask import TASK_PREFIX, compute_dataset, local_cluster

    start = time.perf_counter()
    with local_cluster(2, 1) as cluster, Client(cluster, set_as_default=False) as client:
        up = time.perf_counter() - start
        with get_task_stream(client) as stream:
            result = compute_dataset(Path(dataset), scheduler=cluster.scheduler_address)
        workers = client.run(_peak_mib)
        closing = time.perf_counter()
    down = time.perf_counter() - closing
    return {
        "start": up,
        "run": result.seconds,
        "stop": down,
        "rows": result.rows,
        "events": result.events.height,
        "partitions": result.partitions,
        "client_mib": _peak_mib(),
        "worker_mib": tuple(sorted(workers.values())),
        "work": sum(
            span["stop"] - span["start"]
            for task in stream.data
            if str(task["key"]).startswith(TASK_PREFIX)
            for span in task["startstops"]
            if span["action"] == "compute"
        ),
    }


def _fresh(func: Callable[[str], Any], dataset: Path) -> Any:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(func, str(dataset)).result()


def measure(name: str, dataset: Path) -> list[Row]:
    """Local, Dask on a running cluster, and Dask end to end, on one dataset."""
    seconds, peak, rows, events = _fresh(_local, dataset)
    d = _fresh(_dask, dataset)
    if (d["rows"], d["events"]) != (rows, events):
        raise AssertionError(f"{name}: Dask computed {d['rows']} rows and {d['events']} events")
    parts = d["partitions"]
    cold = d["start"] + d["run"] + d["stop"]
    return [
        Row(name, rows, 1, "local", seconds, peak, events=events),
        Row(
            name,
            rows,
            parts,
            "dask, cluster up",
            d["run"],
            d["client_mib"],
            d["worker_mib"],
            work=d["work"],
        ),
        Row(name, rows, parts, "dask, end to end", cold, d["client_mib"], d["worker_mib"]),
    ]


# -- report --------------------------------------------------------------------------------------


def table(rows: Sequence[Row]) -> str:
    head = (
        f"{'universe':<16}{'rows':>12}{'parts':>7}  {'engine':<18}{'seconds':>9}"
        f"{'rows/s':>12}{'vs local':>10}{'peak MiB':>10}  peak MiB per worker"
    )
    lines = [head, "-" * len(head)]
    local = {r.universe: r for r in rows if r.engine == "local"}
    for r in rows:
        ratio = r.throughput / local[r.universe].throughput
        workers = " / ".join(f"{m:,.0f}" for m in r.worker_mib) or "-"
        lines.append(
            f"{r.universe:<16}{r.rows:>12,}{r.partitions:>7}  {r.engine:<18}{r.seconds:>9.2f}"
            f"{r.throughput:>12,.0f}{ratio:>9.2f}x{r.peak_mib:>10,.0f}  {workers}"
        )
    return "\n".join(lines)


def crossover(rows: Sequence[Row], engine: str) -> str:
    """The smallest universe of the sweep from which Dask's throughput stays ahead."""
    sizes = [r.universe for r in rows if r.engine == "local"]
    local = {r.universe: r.throughput for r in rows if r.engine == "local"}
    wins = {r.universe: r.throughput > local[r.universe] for r in rows if r.engine == engine}
    for i, size in enumerate(sizes):
        if all(wins[s] for s in sizes[i:]):
            return f"{engine}: Dask wins from {size}"
    return f"{engine}: Dask does not win up to {sizes[-1]} on this machine"


def projection(rows: Sequence[Row], universe_name: str) -> str:
    """Seconds Dask would take with more one-thread workers on free cores (other machines).

    The measured run with 2 workers is split into the partition work (the summed task time,
    which spreads over workers) and the rest (warm-up, scheduling, moving and merging results
    on the client, imbalance), which does not: ``T(k) = (run - work / 2) + work / k``.
    """
    local = next(r for r in rows if r.universe == universe_name and r.engine == "local")
    dask = next(r for r in rows if r.universe == universe_name and r.engine == "dask, cluster up")
    fixed = max(dask.seconds - dask.work / 2, 0.0)
    cells = []
    crossover = None
    for k in (2, 4, 8, 16, 32):
        seconds = fixed + dask.work / k
        cells.append(f"{k} workers {seconds:6.1f} s")
        if crossover is None and seconds < local.seconds:
            crossover = k
    won = f"wins from {crossover} workers" if crossover else "does not win up to 32 workers"
    return (
        f"{universe_name}: local {local.seconds:.1f} s; Dask work {dask.work:.1f} s + fixed "
        f"{fixed:.1f} s -> " + ", ".join(cells) + f"; {won} (projected)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small universes, a smoke run")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the datasets")
    args = parser.parse_args(argv)
    sweep = (50, 200) if args.quick else SWEEP
    days = 600 if args.quick else SWEEP_DAYS
    big = (2_000, 300, 8) if args.quick else (BIG_TICKERS, BIG_DAYS, BIG_PARTITIONS)
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = universe(max(sweep), days)
        width = len(str(max(sweep) - 1))
        folders = {}
        for n in sweep:
            name = f"{n:,} x {days:,}"
            subset = base.filter(pl.col("ticker") < f"S{n:0{width}d}")
            folders[name] = write_partitioned(subset, Path(tmp) / f"sweep-{n}", SWEEP_PARTITIONS)
        del base, subset
        n_big, days_big, parts_big = big
        written = time.perf_counter()
        folders[f"{n_big:,} x {days_big:,}"] = write_big(
            Path(tmp) / "big", n_big, days_big, parts_big
        )
        print(f"wrote the {n_big:,}-ticker dataset in {time.perf_counter() - written:.1f} s")
        results: list[Row] = []
        for name, folder in folders.items():
            results += measure(name, folder)
            print(f"  measured {name} ({time.perf_counter() - begin:.0f} s so far)", flush=True)
    print()
    print(table(results))
    print()
    sweep_rows = [r for r in results if r.universe != f"{n_big:,} x {days_big:,}"]
    print("crossover (sweep, throughput):")
    print("  " + crossover(sweep_rows, "dask, cluster up"))
    print("  " + crossover(sweep_rows, "dask, end to end"))
    print("projection (cluster up, one-thread workers on free cores):")
    for name in (sweep_rows[-1].universe, f"{n_big:,} x {days_big:,}"):
        print("  " + projection(results, name))
    print(f"load average {os.getloadavg()[0]:.1f} at end; {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
