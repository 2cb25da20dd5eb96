"""stockbrief: data-backed market notes for a universe of stocks.

The public API is re-exported here from :mod:`stockbrief.api`; everything else is internal.
No module shares a name with a public function (the note writer is :mod:`stockbrief.notes`,
the event detectors :mod:`stockbrief.detectors`, the indicator kernels
:mod:`stockbrief.kernels`, the screen language :mod:`stockbrief.screening`), so importing one
never shadows the function here: ``stockbrief.brief("BABA")`` is the brief.

The re-exports load on first use: :mod:`stockbrief.api` brings Polars and DuckDB with it,
and ``import stockbrief`` (which every submodule import, the command line's included, runs
first) should cost nothing until a name is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from stockbrief.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    ProviderError,
    StockbriefError,
    StoreError,
)

if TYPE_CHECKING:
    from stockbrief.api import (
        DeleteReport,
        IngestReport,
        RefreshReport,
        RunReport,
        SavedScreen,
        Settings,
        analyst_view,
        brief,
        check,
        check_out,
        daily_run,
        delete,
        delete_screen,
        demo_store_path,
        doctor,
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
        provider_plan,
        read_watchlist,
        refresh,
        refresh_on_dask,
        save_screen,
        saved_screen,
        saved_screens,
        screen,
        screen_coverage,
        screens,
        store_path,
        study,
        study_calibration,
        study_strategy,
        universe_evidence,
        using_store,
    )
    from stockbrief.calendar import DateLike
    from stockbrief.evidence import StudyResult
    from stockbrief.notes.document import Brief
    from stockbrief.results import ScreenResult
    from stockbrief.store import Store

    __version__: str

__all__ = [
    "Brief",
    "ConflictError",
    "DateLike",
    "DeleteReport",
    "IngestReport",
    "InputError",
    "NotFoundError",
    "ProviderError",
    "RefreshReport",
    "RunReport",
    "SavedScreen",
    "ScreenResult",
    "Settings",
    "StockbriefError",
    "Store",
    "StoreError",
    "StudyResult",
    "__version__",
    "analyst_view",
    "brief",
    "check",
    "check_out",
    "daily_run",
    "delete",
    "delete_screen",
    "demo_store_path",
    "doctor",
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
    "provider_plan",
    "read_watchlist",
    "refresh",
    "refresh_on_dask",
    "save_screen",
    "saved_screen",
    "saved_screens",
    "screen",
    "screen_coverage",
    "screens",
    "store_path",
    "study",
    "study_calibration",
    "study_strategy",
    "universe_evidence",
    "using_store",
]

_HOMES = {
    "Brief": "stockbrief.notes.document",
    "DateLike": "stockbrief.calendar",
    "ScreenResult": "stockbrief.results",
    "Store": "stockbrief.store",
    "StudyResult": "stockbrief.evidence",
}
"""Modules other than :mod:`stockbrief.api` that a lazily exported name comes from."""


def _version() -> str:
    """The installed distribution's version, from its metadata: one number, kept in pyproject."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stockbrief")
    except PackageNotFoundError:
        # Imported from a source tree that was never installed.
        return "0+unknown"


def __getattr__(name: str) -> object:
    """Import the module behind a public name on first use, then keep the name here."""
    if name == "__version__":
        value: object = _version()
    elif name in __all__:
        value = getattr(importlib.import_module(_HOMES.get(name, "stockbrief.api")), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The loaded names and the public ones still to load, so completion sees the whole door."""
    return sorted({*globals(), *__all__})
