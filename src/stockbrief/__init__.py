"""stockbrief: data-backed market notes for a universe of stocks.

The public API is re-exported here from :mod:`stockbrief.api`; everything else is internal.
``brief``, ``events``, ``indicators`` and ``screen`` share their names with subpackages, which
would shadow them here, so they are called as ``stockbrief.api.brief(...)`` and so on.
"""

from __future__ import annotations

from stockbrief.api import (
    IngestReport,
    RefreshReport,
    RunReport,
    Settings,
    analyst_view,
    check,
    daily_run,
    export_parquet,
    fetch,
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
    screen_coverage,
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
    "check",
    "daily_run",
    "export_parquet",
    "fetch",
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
    "screen_coverage",
    "store_path",
    "study",
    "using_store",
]
