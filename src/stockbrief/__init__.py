"""stockbrief: data-backed market notes for a universe of stocks.

The public API is re-exported here from :mod:`stockbrief.api`; everything else is internal.
"""

from __future__ import annotations

from stockbrief.api import (
    IngestReport,
    Settings,
    info,
    ingest,
    load_sample,
    prices,
    store_path,
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
    "Settings",
    "StockbriefError",
    "Store",
    "StoreError",
    "__version__",
    "info",
    "ingest",
    "load_sample",
    "prices",
    "store_path",
    "using_store",
]
