"""The Dask engine: identical results to the local engine, on a local and a separate-process
cluster, and all-or-nothing when workers die."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import cloudpickle
import dask
import numpy as np
import polars as pl
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

import stockbrief.scale.dask as scale
from stockbrief import api
from stockbrief.compute import Computed, EngineState, compute
from stockbrief.detectors import EVENTS_SCHEMA
from stockbrief.errors import InputError, NotFoundError, StockbriefError
from stockbrief.scale.dask import DaskResult, compute_dataset
from stockbrief.store import Store

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120.0
"""Seconds any one cluster operation of these tests may take."""

# The plugins below run inside worker processes that cannot import this test module (the
# separate `dask worker` processes do not have tests/ on their path): ship them by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _universe(n_tickers: int, n_days: int) -> pl.DataFrame:
    """``benchmarks/universe.py``'s synthetic universe (benchmarks/ is not a package on the
    test path, so it is loaded from its file)."""
    spec = importlib.util.spec_from_file_location("universe", ROOT / "benchmarks" / "universe.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frame: pl.DataFrame = module.universe(n_tickers, n_days)
    return frame


def write_dataset(bars: pl.DataFrame, folder: Path, partitions: int) -> Path:
    """The layout of ``Store.export_bars``, written directly: tickers whole per partition.

    Partition 0 is split into two files, and each file's rows are shuffled, which the engine
    must not mind.
    """
    tickers = bars["ticker"].unique(maintain_order=True).to_list()
    part = {t: i % partitions for i, t in enumerate(tickers)}
    keyed = bars.with_columns(
        pl.col("ticker").replace_strict(part, return_dtype=pl.Int32).alias("part")
    )
    for k in range(partitions):
        rows = keyed.filter(pl.col("part") == k).sample(fraction=1.0, shuffle=True, seed=k)
        where = folder / f"part={k}"
        where.mkdir(parents=True)
        pieces = 2 if k == 0 else 1
        size = -(-rows.height // pieces)
        for i in range(pieces):
            rows.slice(i * size, size).write_parquet(where / f"data_{i}.parquet")
    return folder


def assert_same_state(got: EngineState, want: EngineState) -> None:
    assert got.tickers == want.tickers
    assert np.array_equal(got.filled, want.filled)
    for name, array in want.history.items():
        assert np.array_equal(got.history[name], array, equal_nan=True), name
    assert got.kernels.keys() == want.kernels.keys()
    for name, array in want.kernels.items():
        assert np.array_equal(got.kernels[name], array, equal_nan=True), name
    assert got.recent.equals(want.recent)


def assert_same(result: DaskResult, local: Computed) -> None:
    """Everything the Dask engine returns equals the local engine's, bit for bit."""
    assert result.events.schema == pl.Schema(EVENTS_SCHEMA)
    assert result.events.equals(local.events)
    assert result.latest.equals(scale.latest_rows(local.frame))
    assert result.rows == local.frame.height
    assert_same_state(result.state, local.state)


# -- data ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yahoo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The 30 real Yahoo tickers in a store, up to the last finished session."""
    from conftest import shared_path

    files = sorted(shared_path("yahoo-30").glob("*.csv"))
    db = Store(tmp_path_factory.mktemp("scale") / "yahoo.duckdb")
    api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
    yield db
    db.close()


@pytest.fixture(scope="module")
def yahoo_local(yahoo_store: Store) -> Computed:
    return compute(yahoo_store.bars(adjusted=True, dividends=False))


@pytest.fixture(scope="module")
def yahoo_dataset(yahoo_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("yahoo-dataset") / "bars"
    yahoo_store.export_bars(folder, 4)
    return folder


@pytest.fixture(scope="module")
def synthetic() -> pl.DataFrame:
    return _universe(200, 600)


@pytest.fixture(scope="module")
def synthetic_dataset(synthetic: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(synthetic, tmp_path_factory.mktemp("synthetic") / "bars", 3)


@pytest.fixture(scope="module")
def synthetic_local(synthetic: pl.DataFrame) -> Computed:
    return compute(synthetic)


# -- clusters --------------------------------------------------------------------------------


@contextmanager
def external_cluster(folder: Path, workers: int = 2) -> Iterator[str]:
    """A scheduler and ``workers`` one-thread workers, each a separate process on loopback."""
    file = folder / "scheduler.json"
    log = (folder / "cluster.log").open("w")
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(*args: str) -> None:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the nanny's worker goes too
            )
        )

    try:
        spawn(
            "distributed.cli.dask_scheduler",
            *("--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
            *("--dashboard-address", "127.0.0.1:0"),  # its HTTP server runs regardless
            *("--scheduler-file", str(file)),
        )
        deadline = time.monotonic() + TIMEOUT
        while not file.exists() or not file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start"
            assert procs[0].poll() is None, (folder / "cluster.log").read_text()
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        for _ in range(workers):
            spawn(
                "distributed.cli.dask_worker",
                *("--scheduler-file", str(file), "--host", "127.0.0.1", "--no-dashboard"),
                *("--nworkers", "1", "--nthreads", "1"),
            )
        with Client(address, timeout=TIMEOUT, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=TIMEOUT)
        yield address
    finally:
        for proc in reversed(procs):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


@contextmanager
def running_cluster(**config: Any) -> Iterator[tuple[LocalCluster, Client]]:
    """The local cluster compute_dataset starts, kept up, with scheduler settings ``config``."""
    with (
        dask.config.set(config),
        scale.local_cluster(n_workers=2, threads_per_worker=1) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield cluster, client


class KillOnStart(WorkerPlugin):
    """Kills its worker process (SIGKILL, no goodbye) as it starts one partition's task.

    With ``marker``, only the first attempt dies: the marker file says it happened. Without,
    every attempt dies. ``nanny`` kills the worker's parent first, so nothing restarts it.
    """

    def __init__(self, part: int | None, marker: Path | None = None, nanny: bool = False) -> None:
        self.prefix = f"{scale.TASK_PREFIX}=" + ("" if part is None else f"{part}-")
        self.marker = marker
        self.nanny = nanny

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or not str(key).startswith(self.prefix):
            return
        if self.marker is not None:
            try:
                self.marker.open("x").close()
            except FileExistsError:
                return
        if self.nanny:
            os.kill(os.getppid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)


# -- identical results -----------------------------------------------------------------------


@pytest.mark.slow
def test_real_universe_gives_the_local_engines_results(
    yahoo_dataset: Path, yahoo_local: Computed
) -> None:
    result = compute_dataset(yahoo_dataset, timeout=TIMEOUT)
    assert_same(result, yahoo_local)
    assert (result.partitions, result.workers) == (4, 2)
    assert result.latest.height == 30
    assert result.latest["date"].max() == dt.date(2026, 3, 25)
    assert "30 tickers in 4 partitions on 2 worker(s)" in result.summary()


@pytest.mark.slow
def test_synthetic_universe_gives_the_local_engines_results(
    synthetic_dataset: Path, synthetic_local: Computed, tmp_path: Path
) -> None:
    indicators = tmp_path / "indicators"
    indicators.mkdir()
    (indicators / "part=7.parquet").write_bytes(b"from an older export")
    result = compute_dataset(synthetic_dataset, timeout=TIMEOUT, indicators_to=indicators)
    assert_same(result, synthetic_local)
    assert result.partitions == 3
    # The full frames stayed on the workers and were written there, whole, one per partition.
    assert sorted(p.name for p in indicators.iterdir()) == [f"part={k}.parquet" for k in range(3)]
    written = pl.read_parquet(indicators / "*.parquet").sort("ticker", "date")
    assert written.equals(synthetic_local.frame)


@pytest.mark.slow
def test_separate_scheduler_and_worker_processes(
    yahoo_dataset: Path, yahoo_local: Computed, tmp_path: Path
) -> None:
    with external_cluster(tmp_path) as address:
        result = compute_dataset(yahoo_dataset, scheduler=address, timeout=TIMEOUT)
        assert_same(result, yahoo_local)
        assert result.workers == 2
        again = compute_dataset(yahoo_dataset, scheduler=address, timeout=TIMEOUT)
        assert again.events.equals(result.events)


@pytest.mark.slow
def test_a_refresh_after_a_dask_compute_goes_on_incrementally(tmp_path: Path) -> None:
    """The engine state a Dask run returns is the one the store keeps for incremental runs."""
    from conftest import shared_path

    files = sorted(shared_path("yahoo-30").glob("*.csv"))
    with Store(tmp_path / "s.duckdb") as db:
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 18))
        api.refresh_on_dask(dataset=tmp_path / "bars", partitions=4, store=db)
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
        report = api.refresh(db)
        assert (report.mode, report.recomputed, report.tickers) == ("incremental", (), 30)
        want = compute(db.bars(adjusted=True, dividends=False)).events
        assert db.events().select(want.columns).equals(want)


# -- failures --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_the_run_completes(
    synthetic_dataset: Path, synthetic_local: Computed, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    with running_cluster() as (cluster, client):
        client.register_plugin(KillOnStart(1, marker), name="kill-once")
        result = compute_dataset(
            synthetic_dataset, scheduler=cluster.scheduler_address, timeout=TIMEOUT
        )
    assert marker.exists(), "no worker was killed"
    assert_same(result, synthetic_local)


@pytest.mark.slow
def test_a_partition_that_kills_every_worker_leaves_the_store_unchanged(tmp_path: Path) -> None:
    """The shipped path (export, compute on Dask, write) fails whole and reruns to completion."""
    from conftest import shared_path

    files = sorted(shared_path("yahoo-30").glob("*.csv"))
    with Store(tmp_path / "s.duckdb") as db:
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 18))
        api.refresh(db)
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
        events, (state, meta) = db.events(), db.load_engine_state(api.STATE_FRAMES)
        assert events.height > 0
        with running_cluster(**{"distributed.scheduler.allowed-failures": 1}) as (cluster, client):
            client.register_plugin(KillOnStart(1), name="kill-always")
            # A task queued on the same worker dies with it, so part=1 may not be named alone.
            with pytest.raises(
                StockbriefError, match=r"workers running partition .*part=\d+ died"
            ) as caught:
                api.refresh_on_dask(
                    dataset=tmp_path / "bars",
                    partitions=4,
                    scheduler=cluster.scheduler_address,
                    store=db,
                )
        assert "\n" not in str(caught.value)
        assert db.events().equals(events)
        after, after_meta = db.load_engine_state(api.STATE_FRAMES)
        assert after_meta.equals(meta)
        assert all(after[name].equals(frame) for name, frame in state.items())
        # Once the cause is gone, running again finishes the job, as a local full run would.
        api.refresh_on_dask(dataset=tmp_path / "bars", partitions=4, store=db)
        on_dask = db.events()
        api.refresh(db, full=True)
        assert on_dask.equals(db.events())
        assert on_dask.filter(pl.col("date") > dt.date(2026, 3, 18)).height > 0


@pytest.mark.slow
def test_when_every_worker_is_gone_the_run_fails_and_returns_nothing(
    yahoo_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scale, "NO_WORKERS_GRACE", 2.0)
    with external_cluster(tmp_path) as address:
        with Client(address, timeout=TIMEOUT, set_as_default=False) as client:
            client.register_plugin(KillOnStart(None, nanny=True), name="kill-all")
        start = time.monotonic()
        with pytest.raises(StockbriefError, match="no Dask worker has been connected"):
            compute_dataset(yahoo_dataset, scheduler=address, timeout=TIMEOUT)
        assert time.monotonic() - start < TIMEOUT / 2


def test_an_unreachable_scheduler_is_one_clear_error(yahoo_dataset: Path) -> None:
    with pytest.raises(
        StockbriefError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        compute_dataset(yahoo_dataset, scheduler="tcp://127.0.0.1:9", timeout=3)


def test_a_folder_that_is_no_dataset_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="stockbrief export parquet"):
        compute_dataset(tmp_path / "missing")
    with pytest.raises(NotFoundError, match="no part=K folder with Parquet files"):
        compute_dataset(tmp_path)
    (tmp_path / "part=0").mkdir()
    with pytest.raises(NotFoundError, match="no part=K folder with Parquet files"):
        compute_dataset(tmp_path)


def test_sizes_are_checked(yahoo_dataset: Path) -> None:
    with pytest.raises(InputError, match="n_workers must be at least 1"):
        compute_dataset(yahoo_dataset, n_workers=0)
    with pytest.raises(InputError, match="timeout"):
        compute_dataset(yahoo_dataset, timeout=0)


def test_states_of_overlapping_partitions_are_refused(synthetic: pl.DataFrame) -> None:
    state = compute(synthetic.filter(pl.col("ticker").is_in(["S000", "S001"]))).state
    with pytest.raises(StockbriefError, match="S000 is in more than one partition"):
        scale.merge_states([state, state])


def test_partitions_are_listed_in_number_order(tmp_path: Path) -> None:
    for k in (10, 2, 1, 3):
        (tmp_path / f"part={k}").mkdir()
    for k in (10, 2, 1):
        (tmp_path / f"part={k}" / "data_0.parquet").touch()
    (tmp_path / "indicators").mkdir()
    # part=3 is empty, as DuckDB leaves a partition a new export in fewer partitions drops.
    assert [k for k, _ in scale.partitions(tmp_path)] == [1, 2, 10]


@pytest.mark.slow
def test_a_dataset_exported_again_in_fewer_partitions(
    yahoo_store: Store, yahoo_local: Computed, tmp_path: Path
) -> None:
    yahoo_store.export_bars(tmp_path / "bars", 5)
    yahoo_store.export_bars(tmp_path / "bars", 3, overwrite=True)
    result = compute_dataset(tmp_path / "bars", timeout=TIMEOUT)
    assert result.partitions == 3
    assert_same(result, yahoo_local)


def test_the_partition_task_runs_without_a_cluster(
    synthetic_dataset: Path, synthetic_local: Computed
) -> None:
    """The task itself, without a cluster: what one worker computes for one partition."""
    parts = scale.partitions(synthetic_dataset)
    results = [scale.compute_partition(k, str(folder)) for k, folder in parts]
    events = pl.concat([r.events for r in results]).sort("ticker", "date", "kind")
    assert events.equals(synthetic_local.events)
    assert sum(r.latest.height for r in results) == 200
    # The typed events survive their trip as Parquet bytes, null columns and Int32 ids included.
    assert all(r.events.schema == pl.Schema(EVENTS_SCHEMA) for r in results)
    assert "detail" not in events.columns


@pytest.mark.slow
def test_a_partition_that_cannot_be_read_fails_after_its_retries(
    synthetic_dataset: Path, tmp_path: Path
) -> None:
    broken = shutil.copytree(synthetic_dataset, tmp_path / "bars")
    (broken / "part=1" / "data_0.parquet").write_bytes(b"not parquet")
    with pytest.raises(
        StockbriefError, match=r"partition part=1 failed on a Dask worker: \w+"
    ) as e:
        compute_dataset(broken, timeout=TIMEOUT, retries=1)
    assert "\n" not in str(e.value)


@pytest.mark.slow
def test_workers_with_another_stockbrief_are_refused(
    yahoo_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only this process believes it runs 9.9.9; the workers report the installed version.
    monkeypatch.setattr(scale, "version", lambda _: "9.9.9")
    with pytest.raises(
        StockbriefError, match=r"2 Dask worker\(s\) run stockbrief .* this client 9"
    ):
        compute_dataset(yahoo_dataset, timeout=TIMEOUT)
