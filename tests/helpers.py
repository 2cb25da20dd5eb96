"""Small builders shared by tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

HEADER = "date,open,high,low,close,volume"

# Five consecutive NYSE sessions.
SESSIONS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    """Write a CSV file with a header and the given data lines."""
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def good_rows() -> list[str]:
    """Five valid bars."""
    return [
        f"{d},{100 + i},{102 + i},{99 + i},{101 + i},{1000 * (i + 1)}"
        for i, d in enumerate(SESSIONS)
    ]


def load_yahoo(folder: Path, end: dt.date = dt.date(2026, 3, 25)) -> pl.DataFrame:
    """Every real file of a folder as one bars frame, up to ``end`` (the last row of each file
    is an unfinished session)."""
    frames = [
        pl.read_csv(f, try_parse_dates=True)
        .rename(str.lower)
        .with_columns(pl.lit(f.stem).alias("ticker"))
        for f in sorted(folder.glob("*.csv"))
    ]
    bars = pl.concat(frames).filter(pl.col("date") <= end)
    return bars.select("ticker", "date", "open", "high", "low", "close", "volume").sort(
        "ticker", "date"
    )


@contextmanager
def serving(store: Path) -> Iterator[tuple[str, int]]:
    """The dashboard of ``store`` under uvicorn on a free loopback port, in a thread that is
    stopped afterwards; yields host and port."""
    import socket
    import threading
    import time

    import uvicorn

    from stockbrief.web.app import LOOPBACK_HOSTS, create_app

    config = uvicorn.Config(
        create_app(store, allowed_hosts=LOOPBACK_HOSTS), log_level="warning", lifespan="off"
    )
    running = uvicorn.Server(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not running.started:
            assert thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
            time.sleep(0.05)
        yield "127.0.0.1", port
    finally:
        running.should_exit = True
        thread.join(timeout=15)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not stop within 15 s"
