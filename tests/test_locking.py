"""One writer or many readers across processes: writers wait for readers, never fail on a lock."""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from stockbrief import api
from stockbrief.errors import StoreError
from stockbrief.store import Store

END = dt.date(2026, 3, 20)
TICKERS = ("BABA", "JD", "SPY")


def stockbrief(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stockbrief", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def holding(path: Path, seconds: float, *, read_only: bool) -> subprocess.Popen[str]:
    """Another process that holds the store for a while, then lets go."""
    code = (
        "import sys, time; from stockbrief.store import Store; "
        f"s = Store({str(path)!r}, read_only={read_only}); print('in', flush=True); "
        f"time.sleep({seconds}); s.close()"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "in"
    return child


@pytest.fixture
def store_path(tmp_path: Path, yahoo30: Path) -> Path:
    path = tmp_path / "shared.duckdb"
    with Store(path) as db:
        api.ingest("prices", [yahoo30 / f"{t}.csv" for t in TICKERS], store=db, end=END)
    return path


def test_a_writer_waits_for_a_reader_and_says_so(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reader = holding(store_path, 1.5, read_only=True)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="stockbrief.store"), Store(store_path) as db:
        waited = time.monotonic() - start
        assert db.tickers() == sorted(TICKERS)
    reader.communicate(timeout=10)
    assert waited > 0.5
    assert "waiting, readers (a dashboard?) are reading it" in caplog.text


def test_a_reader_gives_up_with_a_clear_error(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = holding(store_path, 3, read_only=False)
    monkeypatch.setenv("STOCKBRIEF_READ_WAIT", "0.3")
    with pytest.raises(StoreError, match="the store is busy \\(a writer is updating it\\)"):
        Store(store_path, read_only=True)
    writer.communicate(timeout=10)
    with Store(store_path, read_only=True) as db:  # free again
        assert db.has_ticker("BABA")


def test_two_writers_at_once_both_finish_in_turn(store_path: Path, yahoo30: Path) -> None:
    first = stockbrief("compute", "--store", str(store_path))
    time.sleep(0.2)
    files = [str(yahoo30 / f"{t}.csv") for t in TICKERS]
    second = stockbrief(
        "ingest", "prices", *files, "--store", str(store_path), "--to", "2026-03-25"
    )
    out_first, err_first = first.communicate(timeout=300)
    out_second, err_second = second.communicate(timeout=300)
    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert "full compute" in out_first
    assert "9 new" in out_second  # three sessions of three tickers
    assert "lock" not in (err_first + err_second).lower()
    with Store(store_path, read_only=True) as db:
        assert db.summary()["last"].max() == dt.date(2026, 3, 25)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_daily_run_works_while_the_dashboard_is_browsed(
    store_path: Path, yahoo30: Path, tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stockbrief",
            "serve",
            "--store",
            str(store_path),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the dashboard did not start")
        statuses: list[int] = []
        stop = threading.Event()

        def browse() -> None:
            paths = ("/api/tickers", "/ticker/BABA", "/api/bars/JD", "/")
            for i in range(400):  # bounded: at most 400 requests per browser
                if stop.is_set():
                    return
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                try:
                    connection.request("GET", paths[i % len(paths)])
                    response = connection.getresponse()
                    response.read()
                    statuses.append(response.status)
                finally:
                    connection.close()

        browsers = [threading.Thread(target=browse) for _ in range(3)]
        for thread in browsers:
            thread.start()
        time.sleep(1.0)
        files = [str(yahoo30 / f"{t}.csv") for t in TICKERS]
        ingest = stockbrief(
            "ingest", "prices", *files, "--store", str(store_path), "--to", "2026-03-25"
        )
        _, ingest_err = ingest.communicate(timeout=300)
        compute = stockbrief("compute", "--store", str(store_path))
        compute_out, compute_err = compute.communicate(timeout=300)
        stop.set()
        for thread in browsers:
            thread.join(120)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    assert ingest.returncode == 0, ingest_err  # both writers got in beside the readers
    assert compute.returncode == 0, compute_err
    assert "full compute" in compute_out
    assert statuses
    assert set(statuses) == {200}
