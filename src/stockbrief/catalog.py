"""What a store holds, answered before Polars, NumPy or even DuckDB load.

``stockbrief info`` and a ``stockbrief compute`` with nothing to do are questions about the
per-ticker stats every write keeps (``ticker_stats``) and the fingerprint the engine state was
computed from (``engine_meta``): a few thousand rows. Importing DuckDB alone costs more than the
answer, so every writer leaves the answers in a summary file beside the store as it closes
(:func:`summarise`, :func:`save_summary`); a reader trusts it only while the store file is the one
it describes (same inode, size and modification time, no write-ahead log) and no writer has
opened the store since (a writer deletes it first, :func:`forget_summary`). Otherwise the
answers come from DuckDB with plain SQL. A store neither can read (missing, or of a schema
without those tables) answers ``None``, and the caller takes the full path, which migrates or
explains.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from stockbrief.errors import StoreError
from stockbrief.locking import StoreLock
from stockbrief.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    import duckdb

DEFAULT_STORE: Final = "stockbrief.duckdb"
ENGINE_TABLES: Final = ("engine_meta", "engine_state")
"""The tables naming what an incremental compute resumes from (the state's files beside the
store, see :meth:`stockbrief.store.Store.save_engine_state`)."""


ENGINE_INDICATORS: Final = (
    "sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "ema_50", "ema_200", "rsi_14", "atr_14",
    "macd", "bbands", "roc_12", "high_52w", "low_52w", "return_1d", "volatility_60",
    "rel_volume", "adx_14", "dmi_14", "stoch_14", "willr_14", "cci_20", "mfi_14", "obv",
    "sar", "donchian_20", "ad", "adosc_3_10", "kama_10", "ultosc_7_14_28", "ppo_12_26",
    "stochrsi_14", "keltner_20", "tsi_25_13", "vwap_20",
)  # fmt: skip
"""The default indicator set by name, as :data:`stockbrief.kernels.INDICATORS` holds it (a
test keeps the two equal): a state saved with another set is not current, without numpy
loading to ask the kernels."""


class Holding(NamedTuple):
    """One ticker's stored bars and actions."""

    ticker: str
    first: dt.date
    last: dt.date
    bars: int
    actions: int


def store_path(path: str | Path | None = None) -> Path:
    """The store file: the argument, else ``STOCKBRIEF_STORE``, else ``./stockbrief.duckdb``."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get("STOCKBRIEF_STORE") or DEFAULT_STORE)


SUMMARY_SUFFIX: Final = ".summary.json"


def summary_path(store: Path) -> Path:
    """The summary file beside ``store``."""
    return store.with_name(store.name + SUMMARY_SUFFIX)


@contextmanager
def _reader(path: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection under the store's shared lock; ``None`` if there is no store."""
    if not path.is_file():
        yield None
        return
    import duckdb

    lock = StoreLock(path, shared=True).acquire()
    try:
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:
            yield None  # the full path says what is wrong with the file
            return
        try:
            yield con
        finally:
            con.close()
    finally:
        lock.release()


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The store's tables, or none unless its schema is the one this module knows."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "schema_version" not in tables:
        return set()
    version = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return tables if version is not None and version[0] == SCHEMA_VERSION else set()


def holdings(path: str | Path | None = None) -> list[Holding] | None:
    """Every ticker with bars, in ticker order; ``None`` when the store cannot say so here."""
    where = store_path(path)
    summary = _trusted_summary(where)
    if summary is not None:
        return [
            Holding(t, dt.date.fromisoformat(f), dt.date.fromisoformat(la), b, a)
            for t, f, la, b, a in summary["holdings"]
        ]
    with _reader(where) as con:
        return None if con is None else _holdings(con)


def engine_current(path: str | Path | None = None) -> bool:
    """Whether the saved engine state covers exactly the stored bars and actions.

    True when every ticker with bars has a state computed from the same last date, counts and
    checksum as the store now holds, and the state knows no other ticker: then an incremental
    compute has nothing to do. Any doubt (no state, an older schema, no store) is False.
    """
    where = store_path(path)
    summary = _trusted_summary(where)
    if summary is not None:
        return bool(summary["engine_current"])
    import duckdb

    try:
        with _reader(where) as con:
            return con is not None and _engine_current(con)
    except (duckdb.Error, StoreError):
        return False


def _holdings(con: duckdb.DuckDBPyConnection) -> list[Holding] | None:
    if "ticker_stats" not in _tables(con):
        return None
    rows = con.execute(
        """
        SELECT ticker, first_date, last_date, bars, actions
        FROM ticker_stats WHERE bars > 0 ORDER BY ticker
        """
    ).fetchall()
    return [Holding(*row) for row in rows]


def _engine_current(con: duckdb.DuckDBPyConnection) -> bool:
    if not {"ticker_stats", *ENGINE_TABLES} <= _tables(con):
        return False
    row = con.execute(
        """
        SELECT count(*) FROM (SELECT * FROM ticker_stats WHERE bars > 0) s
        FULL JOIN engine_meta m ON s.ticker = m.ticker
        WHERE s.ticker IS NULL OR m.ticker IS NULL
            OR m.last_date IS DISTINCT FROM s.last_date
            OR m.bars IS DISTINCT FROM s.bars
            OR m.actions IS DISTINCT FROM s.actions
            OR m.checksum IS DISTINCT FROM xor(s.bars_checksum, s.actions_checksum)
        """
    ).fetchone()
    known = con.execute("SELECT count(*) FROM engine_meta").fetchone()
    kept = {r[0] for r in con.execute("DESCRIBE engine_state").fetchall()}
    if "indicators" not in kept:
        return False
    saved = con.execute("SELECT indicators FROM engine_state").fetchone()
    if saved is None or saved[0] != ",".join(ENGINE_INDICATORS):
        return False
    return row is not None and known is not None and row[0] == 0 and known[0] > 0


# -- the summary a writer leaves -------------------------------------------------------------


def forget_summary(store: Path) -> None:
    """Delete the summary: called by a writer before it changes anything, so a writer that
    dies half-way leaves no summary to trust."""
    summary_path(store).unlink(missing_ok=True)


def summarise(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The answers of :func:`holdings` and :func:`engine_current` from a writer's connection,
    taken just before it closes; ``None`` for a store of another schema."""
    rows = _holdings(con)
    if rows is None:
        return None
    return {
        "schema": SCHEMA_VERSION,
        "holdings": [
            [h.ticker, h.first.isoformat(), h.last.isoformat(), h.bars, h.actions] for h in rows
        ],
        "engine_current": _engine_current(con),
    }


def save_summary(store: Path, summary: dict[str, Any] | None) -> None:
    """Write ``summary`` for the store file as it is now (closed); a failure only costs speed."""
    if summary is None or _wal(store).exists():
        return
    target = summary_path(store)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text(json.dumps({**summary, "file": _identity(store)}))
        os.replace(partial, target)
    except OSError:
        partial.unlink(missing_ok=True)


def _trusted_summary(store: Path) -> dict[str, Any] | None:
    """The summary, if it still describes the store file exactly; else ``None``."""
    target = summary_path(store)
    if not target.is_file():
        return None
    lock = StoreLock(store, shared=True).acquire()
    try:
        summary = json.loads(target.read_text())
        fresh = (
            summary.get("schema") == SCHEMA_VERSION
            and not _wal(store).exists()
            and summary.get("file") == _identity(store)
        )
    except (OSError, ValueError, AttributeError):
        return None
    finally:
        lock.release()
    return summary if fresh else None


def _wal(store: Path) -> Path:
    return store.with_name(store.name + ".wal")


def _identity(store: Path) -> list[int]:
    """What changes whenever the file's content may have: inode, size, modification time."""
    st = store.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns]
