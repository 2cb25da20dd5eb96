"""stockbrief: data-backed market notes for a universe of stocks.

The public API is re-exported here from :mod:`stockbrief.api`; everything else is internal.

>>> import datetime, stockbrief
>>> note = stockbrief.brief("BABA", as_of=datetime.date(2026, 1, 2))  # doctest: +SKIP
"""

from __future__ import annotations

from stockbrief.api import (
    IngestReport,
    RefreshReport,
    RunReport,
    Settings,
    analyst_view,
    brief,
    check,
    daily_run,
    events,
    export_parquet,
    fetch,
    indicators,
    info,
    ingest,
    kpis,
    load_sample,
    news,
    notable_day,
    prices,
    read_watchlist,
    refresh,
    refresh_on_dask,
    screen,
    store_path,
    study,
    using_store,
)
from stockbrief.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    ProviderError,
    StockbriefError,
    StoreError,
)
from stockbrief.store import Store

__version__ = "0.1.0"
__all__ = [
    "ConflictError",
    "IngestReport",
    "InputError",
    "NotFoundError",
    "ProviderError",
    "RefreshReport",
    "RunReport",
    "Settings",
    "StockbriefError",
    "Store",
    "StoreError",
    "__version__",
    "analyst_view",
    "brief",
    "check",
    "daily_run",
    "events",
    "export_parquet",
    "fetch",
    "indicators",
    "info",
    "ingest",
    "kpis",
    "load_sample",
    "news",
    "notable_day",
    "prices",
    "read_watchlist",
    "refresh",
    "refresh_on_dask",
    "screen",
    "store_path",
    "study",
    "using_store",
]
