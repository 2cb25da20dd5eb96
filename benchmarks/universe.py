"""Synthetic universes for benchmarks: geometric random walks on real NYSE sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from stockbrief import calendar


def sessions(n_days: int, last: dt.date = dt.date(2025, 12, 31)) -> pl.Series:
    """The ``n_days`` NYSE sessions ending on ``last``."""
    all_sessions = calendar.sessions("XNYS")
    return all_sessions.filter(all_sessions <= last).tail(n_days)


def universe(n_tickers: int, n_days: int, seed: int = 7) -> pl.DataFrame:
    """Valid OHLCV bars for ``n_tickers`` x ``n_days``, sorted by ticker and date."""
    rng = np.random.default_rng(seed)
    shape = (n_tickers, n_days)
    returns = rng.normal(0.0003, 0.02, shape)
    close = 50.0 * np.exp(np.cumsum(returns, axis=1))
    open_ = close * np.exp(rng.normal(0, 0.01, shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.01, shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.01, shape)))
    volume = rng.lognormal(13, 0.6, shape).astype(np.int64)
    dates = sessions(n_days).to_numpy()
    width = len(str(n_tickers - 1))
    tickers = np.array([f"S{i:0{width}d}" for i in range(n_tickers)])
    return pl.DataFrame(
        {
            "ticker": np.repeat(tickers, n_days),
            "date": np.tile(dates, n_tickers),
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        }
    )


def write_universe(path: Path, n_tickers: int, n_days: int) -> Path:
    """Write a synthetic universe as one long Parquet file."""
    universe(n_tickers, n_days).write_parquet(path)
    return path
