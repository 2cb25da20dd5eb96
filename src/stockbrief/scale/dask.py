"""The same compute over ticker partitions on a Dask cluster.

A dataset written by ``Store.export_bars`` (``folder/part=K/*.parquet``, every ticker whole in one
partition, prices split-adjusted as the engine reads them) is computed one task per partition:
each task reads only its own Parquet files, runs :func:`stockbrief.compute.compute` (the same
numba kernels as the local engine) and sends back only what is small: the events, the last row
of indicators of each ticker and the engine state. The full indicator frame never leaves the
worker (it can be written next to the dataset instead, see ``indicators_to``).

Because every indicator and event of a ticker depends on that ticker's rows alone, the gathered
events are identical to those of ``compute(bars).events`` on the whole universe.

Failure model: a task whose worker dies is rescheduled on another worker by the scheduler
(up to ``distributed.scheduler.allowed-failures`` deaths, 3 by default); a task that raises is
retried ``retries`` times. :func:`compute_dataset` returns only when every partition is done,
and raises :class:`~stockbrief.errors.StockbriefError` otherwise, so a caller that writes the
result to the store writes all of it or nothing; running again finishes the job.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl
from distributed import Client, Future, KilledWorker, LocalCluster, WorkerPlugin
from distributed.worker import Worker

from stockbrief.compute import BARS_COLUMNS, EngineState, compute
from stockbrief.errors import InputError, NotFoundError, StockbriefError
from stockbrief.recent import Recent

PARTITION: Final = re.compile(r"part=(\d+)")
"""Name of a partition folder of a dataset (Hive style, as DuckDB writes it)."""

TASK_PREFIX: Final = "stockbrief-part"
"""Dask keys of the partition tasks are ``stockbrief-part=K-<run id>``."""

WARM_PLUGIN: Final = "stockbrief-warm-kernels"
"""Name of the worker plugin that loads the numba kernels when a worker starts."""

CONNECT_TIMEOUT: Final = 30.0
"""Seconds to wait for a scheduler to answer, and for a first worker to join it."""

NO_WORKERS_GRACE = 30.0
"""Seconds a run may go on with no worker connected before it is given up."""

POLL: Final = 1.0
"""Seconds between checks on the cluster while waiting for the tasks."""


@dataclass(frozen=True)
class DaskResult:
    """What a Dask run of the engine returns; everything the store needs, nothing bigger.

    Attributes
    ----------
    events
        In the typed columns of ``stockbrief.detectors.EVENTS_SCHEMA``, sorted by ticker, date
        and kind; identical to ``compute(bars).events`` for the bars of the dataset (their
        ``params_id`` are those of :data:`stockbrief.detectors.EVENT_PARAMS`, the same on every
        worker since every worker runs this version).
    latest
        The last row of bars and indicators of each ticker (what a screen of today reads),
        sorted by ticker.
    partitions
        Number of partitions (tasks) computed.
    rows
        Bars computed, over all partitions.
    seconds
        Wall-clock time of the whole call, cluster start and shutdown included.
    workers
        Dask workers connected when the run finished.
    state
        The engine state of every ticker, as :func:`stockbrief.compute.compute` returns it for
        the whole universe; saved by the store, it lets a later refresh be incremental.
    """

    events: pl.DataFrame
    latest: pl.DataFrame
    partitions: int
    rows: int
    seconds: float
    workers: int
    state: EngineState

    @property
    def rows_per_second(self) -> float:
        """Throughput of the call: ``rows / seconds``."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def summary(self) -> str:
        """One line for a person."""
        return (
            f"dask compute: {self.rows:,} rows for {self.latest.height:,} tickers in "
            f"{self.partitions:,} partitions on {self.workers} worker(s), "
            f"{self.events.height:,} events in {self.seconds:.1f} s "
            f"({self.rows_per_second:,.0f} rows/s)"
        )


@dataclass(frozen=True)
class PartitionResult:
    """What one task sends back to the client: the small outputs of one partition.

    The events travel as zstd-compressed Parquet (``events_parquet``): their repeated tickers,
    kinds and parameter ids and mostly null columns shrink to little, and Dask moves bytes
    without copying them again.
    """

    part: int
    rows: int
    events_parquet: bytes
    latest: pl.DataFrame
    state: EngineState

    @property
    def events(self) -> pl.DataFrame:
        """The partition's events, decoded."""
        return pl.read_parquet(io.BytesIO(self.events_parquet))


def partitions(dataset: Path) -> list[tuple[int, Path]]:
    """The partition folders of a dataset written by ``Store.export_bars``, by number.

    Parameters
    ----------
    dataset
        The folder holding ``part=K`` sub-folders of Parquet files.

    Returns
    -------
    list of (int, pathlib.Path)
        Partition number and absolute folder, sorted by number. Folders without a Parquet
        file hold no bars and are left out: DuckDB leaves them behind when a dataset is
        exported again, with ``OVERWRITE``, in fewer partitions.

    Raises
    ------
    NotFoundError
        The folder does not exist or holds no partition with a Parquet file.
    """
    hint = f"write one with `stockbrief export parquet {dataset}`"
    if not dataset.is_dir():
        raise NotFoundError(f"no Parquet dataset at {dataset}; {hint}")
    found = []
    for child in dataset.iterdir():
        match = PARTITION.fullmatch(child.name)
        if match and child.is_dir() and any(child.glob("*.parquet")):
            found.append((int(match[1]), child.resolve()))
    if not found:
        raise NotFoundError(
            f"{dataset} holds no part=K folder with Parquet files, so it is no dataset; {hint}"
        )
    return sorted(found)


def latest_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The last row of each ticker of a frame sorted by ticker and date."""
    return frame.filter(pl.col("ticker").ne_missing(pl.col("ticker").shift(-1)))


def _write_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write Parquet under a temporary name, then rename: readers see all of it or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def compute_partition(part: int, folder: str, indicators_to: str | None = None) -> PartitionResult:
    """Compute one partition; the task each Dask worker runs.

    Parameters
    ----------
    part
        The partition number ``K``.
    folder
        The partition's folder ``dataset/part=K``, as the worker sees it.
    indicators_to
        When given, the full frame of bars and indicators is written to
        ``indicators_to/part=K.parquet`` (atomically) instead of being dropped.

    Returns
    -------
    PartitionResult
        Events, latest rows and engine state of the partition's tickers.
    """
    files = sorted(Path(folder).glob("*.parquet"))
    bars = pl.read_parquet(files, columns=list(BARS_COLUMNS), hive_partitioning=False)
    result = compute(bars)
    if indicators_to is not None:
        _write_atomic(result.frame, Path(indicators_to) / f"part={part}.parquet")
    events = io.BytesIO()
    result.events.write_parquet(events, compression="zstd")
    return PartitionResult(
        part, result.frame.height, events.getvalue(), latest_rows(result.frame), result.state
    )


def _warm_up() -> None:
    """Run the engine once on a few bars, so every numba kernel is loaded in this process."""
    n = 30
    day = np.datetime64("2024-01-02") + np.arange(n)
    close = 100.0 + np.arange(n, dtype=np.float64)
    compute(
        pl.DataFrame(
            {
                "ticker": ["WARM"] * n,
                "date": pl.Series(day).cast(pl.Date),
                "open": close,
                "high": close + 1.0,
                "low": close - 1.0,
                "close": close,
                "volume": np.full(n, 1000, dtype=np.int64),
            }
        )
    )


class WarmKernels(WorkerPlugin):
    """Loads the engine's numba kernels into a worker as it joins the cluster.

    The kernels are compiled with ``cache=True``, so a fresh worker process loads machine code
    from disk rather than compiling; doing it once when the worker starts (in a thread, so the
    worker keeps answering the scheduler) keeps that cost out of the tasks. Registered on the
    scheduler, the plugin also warms the workers that join later or replace dead ones.
    """

    name = WARM_PLUGIN

    async def setup(self, worker: Worker) -> None:
        """Load the kernels of :mod:`stockbrief.kernels` into the worker process."""
        await asyncio.to_thread(_warm_up)


def local_cluster(n_workers: int = 2, threads_per_worker: int = 1) -> LocalCluster:
    """A cluster of ``n_workers`` worker processes on this machine, as :func:`compute_dataset`
    starts it; the caller closes it.

    Notes
    -----
    Each worker's numba and polars thread pools are sized to its share of the cores,
    ``cpu_count // (n_workers * threads_per_worker)`` (at least 1): left alone, both start a
    thread per core in every worker, and oversubscribed OpenMP threads spin.
    """
    share = str(max(1, (os.cpu_count() or 1) // (n_workers * threads_per_worker)))
    cluster: LocalCluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        # The scheduler serves HTTP (health, metrics) even without a dashboard, by default on
        # :8787, which another cluster may hold; any free loopback port will do.
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
        env={"NUMBA_NUM_THREADS": share, "POLARS_MAX_THREADS": share},
    )
    return cluster


@contextmanager
def _client(
    scheduler: str | None, n_workers: int, threads_per_worker: int, timeout: float
) -> Iterator[Client]:
    """A client of the given scheduler, or of a local cluster of process workers closed after."""
    if scheduler is not None:
        try:
            client = Client(  # type: ignore[no-untyped-call]
                scheduler, timeout=min(timeout, CONNECT_TIMEOUT), set_as_default=False
            )
        except (OSError, TimeoutError) as exc:
            raise StockbriefError(
                f"cannot reach the Dask scheduler at {scheduler} ({_first_line(exc)}); start one "
                "with `dask scheduler` and its workers with `dask worker ADDRESS`"
            ) from None
        try:
            yield client
        finally:
            client.close(timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
        return
    try:
        cluster = local_cluster(n_workers, threads_per_worker)
    except Exception as exc:
        # Workers are spawned processes: they re-import the caller's __main__ module.
        raise StockbriefError(
            f"cannot start a local Dask cluster of {n_workers} worker(s): {_first_line(exc)}; "
            "a script that calls compute_dataset needs `if __name__ == '__main__':`"
        ) from None
    try:
        client = Client(cluster, set_as_default=False)  # type: ignore[no-untyped-call]
        try:
            yield client
        finally:
            client.close(timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
    finally:
        cluster.close(timeout=CONNECT_TIMEOUT)


def _engine_version() -> str:
    """The stockbrief version installed where this runs (on a worker, through ``client.run``)."""
    return version("stockbrief")


def _check_workers(client: Client) -> None:
    """Every worker runs this stockbrief (same kernels, same events) and has its kernels loaded.

    Raises
    ------
    StockbriefError
        A worker cannot import stockbrief, or runs another version of it.
    """
    mine = _engine_version()
    try:
        theirs: dict[str, str] = client.run(_engine_version)
        client.register_plugin(WarmKernels(), name=WARM_PLUGIN)
    except Exception as exc:
        raise StockbriefError(
            f"the Dask workers cannot run stockbrief ({_first_line(exc)}); install stockbrief "
            f"{mine} in the Python environment of every worker host"
        ) from None
    other = {w: v for w, v in theirs.items() if v != mine}
    if other:
        worker, found = next(iter(other.items()))
        raise StockbriefError(
            f"{len(other)} Dask worker(s) run stockbrief {found} (e.g. {worker}), this client "
            f"{mine}; install the same version on every worker host, so results are identical"
        )


def _workers(client: Client) -> int:
    """Workers connected to the client's scheduler now."""
    return len(client.nthreads())  # type: ignore[no-untyped-call]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _failure(futures: dict[int, Future[PartitionResult]]) -> StockbriefError:
    """The error of the failed or lost tasks, said for a person."""
    failed = {k: f for k, f in futures.items() if f.status in ("error", "cancelled", "lost")}
    errors = {
        k: f.exception()  # type: ignore[no-untyped-call]
        for k, f in failed.items()
        if f.status == "error"
    }
    killed = [f"part={k}" for k, exc in errors.items() if isinstance(exc, KilledWorker)]
    if killed:
        return StockbriefError(
            f"the workers running partition {', '.join(killed)} died on every attempt (out of "
            "memory, or a crash); nothing was returned: give workers more memory or export "
            "more partitions, then rerun"
        )
    if errors:
        part, exc = next(iter(errors.items()))
        return StockbriefError(
            f"partition part={part} failed on a Dask worker: {_first_line(exc)}; nothing was "
            "returned: fix the cause (or export the dataset again) and rerun"
        )
    return StockbriefError(
        f"the Dask scheduler dropped partition part={next(iter(failed))} (it stopped, or this "
        "client lost it); nothing was returned: rerun"
    )


def _collect(
    client: Client, futures: dict[int, Future[PartitionResult]], deadline: float, timeout: float
) -> list[tuple[PartitionResult, pl.DataFrame]]:
    """Each task's result and events as soon as it is done, so moving and decoding results
    overlaps computing the others; ``futures`` is emptied as results arrive.

    Raises at the first failed task, when the deadline passes, or when no worker has been
    connected for :data:`NO_WORKERS_GRACE` seconds.
    """
    results: list[tuple[PartitionResult, pl.DataFrame]] = []
    alone_since: float | None = None
    checked = time.monotonic()
    while futures:
        for part, future in list(futures.items()):
            if future.status == "finished":
                try:
                    result = future.result(timeout=max(deadline - time.monotonic(), 1))
                except Exception as exc:
                    raise StockbriefError(
                        f"fetching partition part={part} from its Dask worker failed: "
                        f"{_first_line(exc)}; nothing was returned: rerun"
                    ) from None
                # Keep the decoded events, not their bytes as well.
                results.append((replace(result, events_parquet=b""), result.events))
                # Dropping the future lets the worker free the result.
                del futures[part]
            elif future.status in ("error", "cancelled", "lost"):
                raise _failure(futures)
        now = time.monotonic()
        if not futures:
            break
        if now >= deadline:
            raise StockbriefError(
                f"the Dask run did not finish within {timeout:g} s ({len(futures)} partitions "
                "left); nothing was returned: rerun with a longer timeout or more workers"
            )
        if now - checked >= POLL:
            checked = now
            if _workers(client):
                alone_since = None
            elif alone_since is None:
                alone_since = now
            elif now - alone_since > NO_WORKERS_GRACE:
                raise StockbriefError(
                    f"no Dask worker has been connected for {NO_WORKERS_GRACE:g} s, so "
                    f"{len(futures)} partitions cannot run; nothing was returned: start "
                    "workers with `dask worker ADDRESS` and rerun"
                )
        time.sleep(min(0.05, deadline - now))
    return results


def merge_states(states: Sequence[EngineState]) -> EngineState:
    """One engine state from the states of disjoint sets of tickers, sorted by ticker.

    Raises
    ------
    StockbriefError
        A ticker is in more than one state (the dataset was not partitioned by ticker).
    """
    tickers = pl.Series("ticker", [t for s in states for t in s.tickers], dtype=pl.String)
    if tickers.is_duplicated().any():
        twice = tickers.filter(tickers.is_duplicated())[0]
        raise StockbriefError(
            f"ticker {twice} is in more than one partition; export the dataset again with "
            "`stockbrief export parquet DIR --overwrite`"
        )
    order = tickers.arg_sort().to_numpy()
    kernels = states[0].kernels.keys() if states else ()
    return EngineState(
        tickers.gather(order).to_list(),
        {c: np.concatenate([s.history[c] for s in states])[order] for c in states[0].history},
        np.concatenate([s.filled for s in states])[order],
        {n: np.concatenate([s.kernels[n] for s in states])[order] for n in kernels},
        Recent.concat([s.recent for s in states]).take(order),
    )


def _clean_indicators(folder: Path, parts: Sequence[int]) -> None:
    """Remove indicator files of partitions the dataset no longer has, and leftovers."""
    keep = {f"part={k}.parquet" for k in parts}
    for path in folder.glob("part=*.parquet"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
    for path in folder.glob(".part=*.tmp"):
        path.unlink(missing_ok=True)


def _run(
    client: Client,
    parts: Sequence[tuple[int, Path]],
    target: Path | None,
    deadline: float,
    timeout: float,
    retries: int,
) -> tuple[list[tuple[PartitionResult, pl.DataFrame]], int]:
    """Submit one task per partition and collect them all; the results and the worker count."""
    wait = max(min(CONNECT_TIMEOUT, deadline - time.monotonic()), 1)
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError:
        raise StockbriefError(
            f"no Dask worker joined the scheduler within {wait:.0f} s; start workers with "
            "`dask worker ADDRESS` and rerun"
        ) from None
    _check_workers(client)
    run = uuid.uuid4().hex[:8]
    futures = dict(
        zip(
            (k for k, _ in parts),
            client.map(
                compute_partition,
                [k for k, _ in parts],
                [str(folder) for _, folder in parts],
                [None if target is None else str(target)] * len(parts),
                key=[f"{TASK_PREFIX}={k}-{run}" for k, _ in parts],
                retries=retries,
            ),
            strict=True,
        )
    )
    try:
        return _collect(client, futures, deadline, timeout), _workers(client)
    finally:
        # Only left on failure: stop the tasks that still run, nothing more is wanted.
        with suppress(Exception):
            client.cancel(list(futures.values()))  # type: ignore[no-untyped-call]


def compute_dataset(
    dataset: Path,
    *,
    scheduler: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    timeout: float = 600,
    retries: int = 2,
    indicators_to: Path | None = None,
) -> DaskResult:
    """Indicators and events of a partitioned Parquet dataset, computed on a Dask cluster.

    Parameters
    ----------
    dataset
        A folder written by ``Store.export_bars`` (``stockbrief export parquet DIR``):
        ``part=K/*.parquet`` with ``ticker, date, open, high, low, close, volume``, each ticker
        whole in one partition. With a remote scheduler, every worker must see it at the same
        path (shared storage).
    scheduler
        Address of a running scheduler (``tcp://host:8786``); default: a local cluster of
        ``n_workers`` processes with ``threads_per_worker`` threads each, closed on return.
    n_workers, threads_per_worker
        Size of the local cluster; ignored with ``scheduler``.
    timeout
        Seconds the whole call may take before it is given up.
    retries
        Times a task that raised (a transient read error on shared storage, say) is run again.
        A task whose worker died is rescheduled regardless, up to the scheduler's
        ``distributed.scheduler.allowed-failures`` times.
    indicators_to
        A folder (seen by every worker) to write each partition's full frame of bars and
        indicators to, as ``part=K.parquet``, each file renamed into place when complete;
        default: the frames are dropped on the workers.

    Returns
    -------
    DaskResult
        Events, latest rows per ticker and engine state of the whole universe, with the run's
        size and timing.

    Raises
    ------
    InputError
        A size, ``timeout`` or ``retries`` out of range.
    NotFoundError
        ``dataset`` is not a partitioned dataset.
    StockbriefError
        The scheduler cannot be reached, a partition failed after its retries, every worker
        is gone, or the run exceeded ``timeout``. Nothing is returned then, so a caller has
        nothing half done to write; running again redoes every partition.

    Notes
    -----
    Each task sends back its events (a few columns per event), one row per ticker, and the
    engine state (the last ``history_rows()`` bars of each ticker): the indicator frame, about
    four times the size of the bars, stays on the worker. Partitions are computed
    independently, which is exact because no indicator or event of a ticker reads another
    ticker's bars.
    """
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    for name, size in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
        if size < 1:
            raise InputError(f"{name} must be at least 1, not {size}", field=name)
    if timeout <= 0:
        raise InputError(f"timeout must be positive, not {timeout:g} s", field="timeout")
    if retries < 0:
        raise InputError(f"retries must be 0 or more, not {retries}", field="retries")
    parts = partitions(Path(dataset))
    target = None
    if indicators_to is not None:
        target = Path(indicators_to).resolve()
        target.mkdir(parents=True, exist_ok=True)
    with _client(scheduler, n_workers, threads_per_worker, timeout) as client:
        try:
            results, workers = _run(client, parts, target, deadline, timeout, retries)
        except StockbriefError:
            raise
        except Exception as exc:
            # The scheduler went away, or the connection to it broke.
            raise StockbriefError(
                f"lost the Dask cluster during the run ({_first_line(exc)}); nothing was "
                "returned: check the scheduler and rerun"
            ) from None
    results.sort(key=lambda r: r[0].part)
    # Each partition's events are sorted and no ticker is in two partitions, so a stable sort
    # by ticker alone gives the order by ticker, date and kind; no rechunk saves a copy.
    events = pl.concat([e for _, e in results], rechunk=False).sort("ticker", maintain_order=True)
    latest = pl.concat([r.latest for r, _ in results]).sort("ticker")
    state = merge_states([r.state for r, _ in results])
    if target is not None:
        _clean_indicators(target, [k for k, _ in parts])
    return DaskResult(
        events=events,
        latest=latest,
        partitions=len(results),
        rows=sum(r.rows for r, _ in results),
        seconds=time.perf_counter() - start,
        workers=workers,
        state=state,
    )
