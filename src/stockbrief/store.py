"""The DuckDB store: schema, migrations, transactional upserts and as-of reads. The only SQL.

Keys are enforced by the upserts here rather than by DuckDB indexes: an ART primary key makes a
bulk load of a 12.6M-row universe about four times slower, and this module is the only writer.
Bars are stored as traded; split and dividend adjustment is applied on read, using only the
actions dated on or before the as-of date, so an adjusted history never looks ahead. A ticker
whose price basis is ``adjusted`` holds its provider's adjusted bars instead, read as stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

import duckdb
import polars as pl

from stockbrief import catalog, model
from stockbrief.errors import ConflictError, StoreError
from stockbrief.locking import StoreLock
from stockbrief.schema import ACTION_HASH, BAR_HASH, MIGRATIONS
from stockbrief.schema import SCHEMA_VERSION as SCHEMA_VERSION  # the version a store reaches

PriceBasis = Literal["traded", "adjusted"]
"""What a ticker's stored bars are: prices as traded (adjusted on read from the stored actions),
or prices a provider already adjusted for splits and dividends (never adjusted again)."""
PRICE_BASES: Final[tuple[str, ...]] = get_args(PriceBasis)

Table = Literal[
    "bars",
    "actions",
    "securities",
    "ratings",
    "consensus",
    "news",
    "news_tickers",
    "kpis",
    "aliases",
]
TABLES: Final[dict[str, tuple[dict[str, pl.DataType], tuple[str, ...]]]] = {
    "bars": (model.BARS, model.BARS_KEY),
    "actions": (model.ACTIONS, model.ACTIONS_KEY),
    "securities": (model.SECURITIES, model.SECURITIES_KEY),
    "ratings": (model.RATINGS, model.RATINGS_KEY),
    "consensus": (model.CONSENSUS, model.CONSENSUS_KEY),
    "news": (model.NEWS, model.NEWS_KEY),
    "news_tickers": (model.NEWS_TICKERS, model.NEWS_TICKERS_KEY),
    "kpis": (model.KPIS, model.KPIS_KEY),
    "aliases": (model.ALIASES, model.ALIASES_KEY),
}
"""Model tables the store upserts, with their keys."""

_ROW_HASHES: Final = {"bars": BAR_HASH, "actions": ACTION_HASH}

_BASIS_WORDS: Final[dict[str, str]] = {
    "traded": "as traded",
    "adjusted": "adjusted by their provider for splits and dividends",
}

BATCH_MEMORY: Final = "400MB"
"""DuckDB's memory during a universe job; measured on 5,000 x 2,520 bars, more buys no speed."""

BREADTH_WINDOW_DAYS: Final = 420
"""Calendar days of bars :meth:`Store.breadth` reads: 200 sessions take about 290 on NYSE or
HKEX; the margin holds a few weeks of halts, a longer gap leaves a stock without its average."""

STAGED_ROWS: Final = 100_000
"""Appends of at least this many rows go through a temporary Parquet file (see ``_append``)."""


@dataclass(frozen=True)
class UpsertResult:
    """What an upsert did: new rows, rows already stored as given, and rows replaced."""

    inserted: int
    unchanged: int
    replaced: int

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted,
            self.unchanged + other.unchanged,
            self.replaced + other.replaced,
        )


class Store:
    """One DuckDB file holding everything stockbrief knows.

    Parameters
    ----------
    path
        The database file; created (with its folder) when missing.
    read_only
        Open as a reader. Readers share the store; a writer has it alone. Either waits for the
        other (see :mod:`stockbrief.locking`) rather than failing, so the daily run and a
        dashboard can use one store.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists():
                raise StoreError(f"{self.path}: no store here; ingest data first")
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the store: {exc.strerror}") from None
        self._lock = StoreLock(self.path, shared=read_only).acquire()
        self._read_only = read_only
        try:
            if not read_only:
                catalog.forget_summary(self.path)
            self._con = self._connect(read_only)
            self._in_transaction = False
            self._settled: list[tuple[Callable[[], None], Callable[[], None]]] = []
            if not read_only:
                self.migrate()
            elif self.schema_version < len(MIGRATIONS):
                # An older file is migrated once, by a writer, then read as asked.
                self._con.close()
                self._lock.release()
                Store(self.path).close()
                self._lock = StoreLock(self.path, shared=True).acquire()
                self._con = self._connect(True)
            if self.schema_version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path}: written by a newer stockbrief (schema {self.schema_version},"
                    f" this one knows {len(MIGRATIONS)}); upgrade stockbrief"
                )
        except BaseException:
            if hasattr(self, "_con"):
                self._con.close()
            self._lock.release()
            raise

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            return duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"{self.path}: another program holds the store open for writing; close it"
                    " (stockbrief commands wait for each other, other programs cannot)"
                ) from None
            raise StoreError(f"{self.path}: cannot open the store: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open the store: {_first_line(exc)}") from None

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the file, and the lock that let this process use it; a writer leaves the
        summary that lets ``info`` and an idle ``compute`` answer without opening the file."""
        try:
            summary = None
            if not self._read_only:
                with contextlib.suppress(duckdb.Error):  # no summary: readers ask the file
                    summary = catalog.summarise(self._con)
            self._con.close()
            if not self._read_only:
                catalog.save_summary(self.path, summary)
        finally:
            self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """Schema version of the file; 0 for a new, empty file."""
        exists = self._rows(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        )[0][0]
        if not exists:
            return 0
        return int(self._rows("SELECT max(version) FROM schema_version")[0][0] or 0)

    def migrate(self) -> None:
        """Bring the file forward to :data:`SCHEMA_VERSION`, one migration per transaction."""
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: written by a newer stockbrief (schema {current}, this one knows "
                f"{len(MIGRATIONS)}); upgrade stockbrief"
            )
        for version in range(current, len(MIGRATIONS)):
            with self.transaction():
                if version == 0:
                    self._con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                self._con.execute(MIGRATIONS[version])
                self._con.execute("INSERT INTO schema_version VALUES (?)", [version + 1])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a block that raises leaves the store as it was."""
        if self._in_transaction:
            yield
            return
        self._con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        self._settled = []
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            for _, undo in self._settled:
                undo()
            raise
        else:
            self._con.execute("COMMIT")
            for done, _ in self._settled:
                done()
        finally:
            self._in_transaction = False
            self._settled = []

    @contextmanager
    def bounded_memory(self, limit: str = BATCH_MEMORY) -> Iterator[None]:
        """Cap DuckDB's own memory within the block (it spills to a temporary folder beside the
        store beyond it), for universe jobs whose Python side is already bounded by batches."""
        self._con.execute(f"SET memory_limit = '{limit}'")
        try:
            yield
        finally:
            self._con.execute("RESET memory_limit")

    # -- writes --------------------------------------------------------------------------------

    def upsert(self, table: Table, frame: pl.DataFrame, *, replace: bool = False) -> UpsertResult:
        """Insert rows of a model table; identical rows are no-ops, changes need ``replace``.

        Securities are reference data: the given row always wins.
        """
        schema, key = TABLES[table]
        return self._upsert(table, frame, schema, key, replace or table == "securities")

    def _upsert(
        self,
        table: str,
        frame: pl.DataFrame,
        schema: dict[str, pl.DataType],
        key: Sequence[str],
        replace: bool,
    ) -> UpsertResult:
        columns = list(schema)
        values = [c for c in columns if c not in key]
        incoming = frame.select(pl.col(c).cast(schema[c]) for c in columns)
        if incoming.is_empty():
            return UpsertResult(0, 0, 0)
        cols = ", ".join(columns)
        on = " AND ".join(f"i.{k} = t.{k}" for k in key)
        differs = " OR ".join(f"i.{v} IS DISTINCT FROM t.{v}" for v in values) or "FALSE"
        row_hash = _ROW_HASHES.get(table)
        with self.transaction(), self._registered("incoming", incoming):
            matched = self._rows(
                f"SELECT count(*), count(*) FILTER (WHERE {differs})"
                f" FROM incoming i JOIN {table} t ON {on}"
            )[0]
            n_matched, n_conflicts = int(matched[0]), int(matched[1])
            if n_conflicts and not replace:
                self._raise_conflict(table, key, values, on, differs)
            if n_conflicts and row_hash:
                self._track(
                    table,
                    f"SELECT t.* FROM {table} t JOIN incoming i ON {on} WHERE {differs}",
                    row_hash,
                    removed=True,
                )
            if n_conflicts:
                self._con.execute(
                    f"DELETE FROM {table} t USING incoming i WHERE {on} AND ({differs})"
                )
            added = f"SELECT i.* FROM incoming i ANTI JOIN {table} t ON {on}"
            if row_hash:
                self._track(table, added, row_hash, removed=False)
            self._con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM ({added})")
        return UpsertResult(
            incoming.height - n_matched, n_matched - n_conflicts, n_conflicts if replace else 0
        )

    def _track(self, table: str, rows: str, row_hash: str, *, removed: bool) -> None:
        """Fold rows about to be written (or removed) into ``ticker_stats``.

        XOR-ing a row's hash in and out keeps each checksum equal to the XOR over the rows
        stored, so the engine learns what changed from this table, never from a scan of bars.
        """
        prefix = "bars" if table == "bars" else "actions"
        sign = "-" if removed else "+"
        dates = ", min(date) AS first_date, max(date) AS last_date" if table == "bars" else ""
        self._con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE stats_delta AS
            SELECT ticker, count(*) AS n, bit_xor({row_hash}) AS h{dates}
            FROM ({rows}) GROUP BY ticker
            """
        )
        self._con.execute(
            """
            INSERT INTO ticker_stats
            SELECT d.ticker, 0, NULL, NULL, 0::UBIGINT, 0, 0::UBIGINT FROM stats_delta d
            ANTI JOIN ticker_stats s ON s.ticker = d.ticker
            """
        )
        moved_dates = (
            ", first_date = least(coalesce(s.first_date, d.first_date), d.first_date)"
            ", last_date = greatest(coalesce(s.last_date, d.last_date), d.last_date)"
            if table == "bars" and not removed
            else ""
        )
        self._con.execute(
            f"""
            UPDATE ticker_stats s SET {prefix} = s.{prefix} {sign} d.n,
                {prefix}_checksum = xor(s.{prefix}_checksum, d.h){moved_dates}
            FROM stats_delta d WHERE s.ticker = d.ticker
            """
        )
        self._con.execute("DROP TABLE stats_delta")

    def _raise_conflict(
        self, table: str, key: Sequence[str], values: Sequence[str], on: str, differs: str
    ) -> None:
        first = self._frame(
            f"SELECT i.*, {', '.join(f't.{v} AS stored_{v}' for v in values)}"
            f" FROM incoming i JOIN {table} t ON {on} WHERE {differs}"
            f" ORDER BY {', '.join(f'i.{k}' for k in key)} LIMIT 1"
        )
        row = first.row(0, named=True)
        field = next(v for v in values if row[v] != row[f"stored_{v}"])
        where = ", ".join(f"{k}={row[k]}" for k in key)
        raise ConflictError(
            f"{table} row ({where}) would change stored {field} {row[f'stored_{field}']!r} to "
            f"{row[field]!r}; pass --replace to overwrite",
            key={k: row[k] for k in key},
            field=field,
        )

    # -- mending: deleting a ticker's rows ------------------------------------------------------

    def delete(
        self,
        ticker: str,
        tables: Sequence[str],
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        dry_run: bool = False,
    ) -> dict[str, tuple[int, dt.date | None, dt.date | None]]:
        """Delete one ticker's rows of some tables dated from ``start`` to ``end`` (inclusive),
        with what was derived from them, in one transaction.

        ``tables`` are among ``bars``, ``actions``, ``ratings``, ``consensus``, ``news`` and
        ``kpis``; news is dated by the UTC day of ``published_at`` and KPIs by ``period_end``.
        Deleting news removes the ticker's links (``news_tickers``) and the items no other
        ticker is linked to (``news``). Returns, per table, the rows deleted (or that would be,
        with ``dry_run``) and their first and last date.

        Notes
        -----
        ``ticker_stats`` is kept as every write keeps it. When bars or actions go, the
        ticker's stored events and engine state (``engine_meta`` included) are dropped, so the
        next incremental compute recomputes it from its remaining bars, exactly as a full one;
        and kept universe studies valid on or after the first deleted date are dropped, as
        they counted the deleted rows.
        """
        dated = {
            "bars": "date",
            "actions": "date",
            "ratings": "date",
            "consensus": "date",
            "kpis": "period_end",
        }
        found: dict[str, tuple[int, dt.date | None, dt.date | None]] = {}
        with self.transaction():
            for table in tables:
                if table == "news":
                    found.update(self._delete_news(ticker, start, end, dry_run))
                    continue
                column = dated[table]
                where, params = _filters("t", [ticker], None, None)
                if start is not None:
                    where += f" AND t.{column} >= ?"
                    params.append(start)
                if end is not None:
                    where += f" AND t.{column} <= ?"
                    params.append(end)
                rows = f"SELECT t.* FROM {table} t WHERE {where}"
                n, first, last = self._rows(
                    f"SELECT count(*), min({column}), max({column}) FROM ({rows})", params
                )[0]
                found[table] = (int(n), first, last)
                if dry_run or not n:
                    continue
                row_hash = _ROW_HASHES.get(table)
                if row_hash:
                    self._con.execute(
                        f"CREATE OR REPLACE TEMP TABLE deleted_rows AS {rows}", params
                    )
                    self._track(table, "SELECT * FROM deleted_rows", row_hash, removed=True)
                    self._con.execute("DROP TABLE deleted_rows")
                self._con.execute(f"DELETE FROM {table} t WHERE {where}", params)
            moved = [found[t][1] for t in ("bars", "actions") if t in found and found[t][0]]
            if moved and not dry_run:
                self._forget_derived(ticker, min(d for d in moved if d is not None))
        return found

    def _delete_news(
        self, ticker: str, start: dt.date | None, end: dt.date | None, dry_run: bool
    ) -> dict[str, tuple[int, dt.date | None, dt.date | None]]:
        """The ticker's news links in the range, and the items left with no ticker."""
        day = "CAST(n.published_at AT TIME ZONE 'UTC' AS DATE)"
        where, params = "l.ticker = ?", list[Any]([ticker])
        if start is not None:
            where += f" AND {day} >= ?"
            params.append(start)
        if end is not None:
            where += f" AND {day} <= ?"
            params.append(end)
        links = (
            f"SELECT l.id, {day} AS day FROM news_tickers l JOIN news n ON n.id = l.id"
            f" WHERE {where}"
        )
        orphans = f"""
            SELECT {day} AS day FROM news n WHERE n.id IN (SELECT id FROM ({links}))
            AND NOT EXISTS (SELECT 1 FROM news_tickers o WHERE o.id = n.id AND o.ticker <> ?)
        """
        found = {}
        for name, query, args in (
            ("news_tickers", links, params),
            ("news", orphans, [*params, ticker]),
        ):
            n, first, last = self._rows(
                f"SELECT count(*), min(day), max(day) FROM ({query})", args
            )[0]
            found[name] = (int(n), first, last)
        if dry_run or not found["news_tickers"][0]:
            return found
        self._con.execute(
            f"CREATE OR REPLACE TEMP TABLE deleted_news AS SELECT DISTINCT id FROM ({links})",
            params,
        )
        self._con.execute(
            "DELETE FROM news_tickers WHERE ticker = ? AND id IN (SELECT id FROM deleted_news)",
            [ticker],
        )
        self._con.execute(
            """
            DELETE FROM news WHERE id IN (SELECT id FROM deleted_news)
            AND id NOT IN (SELECT id FROM news_tickers)
            """
        )
        self._con.execute("DROP TABLE deleted_news")
        return found

    def _forget_derived(self, ticker: str, since: dt.date) -> None:
        """After bars or actions of ``ticker`` went: its date range in ``ticker_stats``
        re-read, its events and engine state dropped, and the universe studies that counted
        its rows (those valid on or after ``since``) dropped."""
        self._con.execute(
            """
            UPDATE ticker_stats SET first_date = (SELECT min(date) FROM bars WHERE ticker = ?),
                last_date = (SELECT max(date) FROM bars WHERE ticker = ?)
            WHERE ticker = ?
            """,
            [ticker, ticker, ticker],
        )
        self._con.execute(
            "DELETE FROM ticker_stats WHERE ticker = ? AND bars = 0 AND actions = 0", [ticker]
        )
        self._con.execute("DELETE FROM events WHERE ticker = ?", [ticker])
        engine = self._rows(
            """
            SELECT DISTINCT table_name FROM information_schema.columns
            WHERE table_name LIKE 'engine%' AND column_name = 'ticker'
            """
        )
        for (table,) in engine:
            self._con.execute(f'DELETE FROM "{table}" WHERE ticker = ?', [ticker])
        self._con.execute("DELETE FROM universe_evidence WHERE valid_for >= ?", [since])

    def stored_tickers(self) -> list[str]:
        """Every ticker with a row in any table: bars, actions, ratings, consensus, news
        links, KPIs or reference data."""
        return [
            r[0]
            for r in self._rows(
                """
                SELECT ticker FROM ticker_stats WHERE bars > 0 OR actions > 0
                UNION SELECT ticker FROM ratings UNION SELECT ticker FROM consensus
                UNION SELECT ticker FROM news_tickers UNION SELECT ticker FROM kpis
                UNION SELECT ticker FROM securities
                ORDER BY 1
                """
            )
        ]

    def record_price_basis(self, tickers: Sequence[str], basis: PriceBasis) -> None:
        """Record the basis of bars about to be stored for ``tickers``; call before the upsert.

        The basis lives in a table of its own rather than a column of ``securities``: a
        securities row is reference data that each ``ingest securities`` replaces whole and
        may arrive after the bars, while the basis describes the bars and is set by whoever
        writes them. A ticker keeps one basis while it has bars, because a history that mixes
        traded and adjusted prices has false returns where the two meet.

        Raises
        ------
        ConflictError
            When a ticker already has bars of the other basis (``key`` names the ticker); the
            caller's transaction then leaves the store unchanged.
        """
        if basis not in PRICE_BASES:
            raise ValueError(f"unknown price basis {basis!r}; expected one of {PRICE_BASES}")
        names = sorted(set(tickers))
        if not names:
            return
        stored = self.price_basis(names)
        other = next((t for t in names if t in stored and stored[t] != basis), None)
        if other is not None:
            raise ConflictError(
                f"{other}'s stored bars are {_BASIS_WORDS[stored[other]]}, and these are"
                f" {_BASIS_WORDS[basis]}: a ticker's bars keep one basis, or its returns jump"
                f" where the two meet; bring bars {_BASIS_WORDS[stored[other]]} (ingest prices"
                f" --basis {stored[other]}), or delete {other}'s stored bars first",
                key={"ticker": other},
                field="basis",
            )
        with self.transaction():
            self._con.execute(
                "DELETE FROM price_basis WHERE ticker IN (SELECT unnest(?::VARCHAR[]))", [names]
            )
            self._con.execute(
                "INSERT INTO price_basis SELECT unnest(?::VARCHAR[]), ?", [names, basis]
            )

    def add_theses(self, frame: pl.DataFrame, *, replace: bool = False) -> UpsertResult:
        """Store users' theses; key (ticker, written_on, author), a missing author being one.

        A thesis already stored as given is a no-op; a different text under the same key is a
        :class:`ConflictError` unless ``replace``.
        """
        incoming = frame.select(pl.col(c).cast(t) for c, t in model.THESES.items())
        if incoming.is_empty():
            return UpsertResult(0, 0, 0)
        on = (
            "i.ticker = t.ticker AND i.written_on = t.written_on"
            " AND i.author IS NOT DISTINCT FROM t.author"
        )
        with self.transaction(), self._registered("incoming_theses", incoming):
            matched, changed = self._rows(
                "SELECT count(*), count(*) FILTER (WHERE i.text IS DISTINCT FROM t.text)"
                f" FROM incoming_theses i JOIN theses t ON {on}"
            )[0]
            if changed and not replace:
                ticker, day, author = self._rows(
                    "SELECT i.ticker, i.written_on, i.author FROM incoming_theses i"
                    f" JOIN theses t ON {on} WHERE i.text IS DISTINCT FROM t.text"
                    " ORDER BY 1, 2, 3 LIMIT 1"
                )[0]
                raise ConflictError(
                    f"theses row (ticker={ticker}, written_on={day}, author={author})"
                    " would change the stored text; pass --replace to overwrite",
                    key={"ticker": ticker, "written_on": day, "author": author},
                    field="text",
                )
            self._con.execute(f"DELETE FROM theses t USING incoming_theses i WHERE {on}")
            self._con.execute("INSERT INTO theses SELECT * FROM incoming_theses")
        return UpsertResult(incoming.height - matched, matched - changed, changed if replace else 0)

    def thesis(self, ticker: str, as_of: dt.date) -> dict[str, Any] | None:
        """The newest thesis on ``ticker`` written on or before ``as_of`` (ticker, written_on,
        author, text), or None; nothing written later is read. Theses of one day are taken
        in the order of their authors, so the choice never depends on storage order."""
        found = self._frame(
            "SELECT * FROM theses WHERE ticker = ? AND written_on <= ?"
            " ORDER BY written_on DESC, author NULLS LAST, text LIMIT 1",
            [ticker, as_of],
        )
        return found.row(0, named=True) if found.height else None

    # -- derived data: events and the engine's saved state -----------------------------------

    def replace_events(
        self,
        frame: pl.DataFrame,
        tickers: Sequence[str] | None = None,
        *,
        params: pl.DataFrame | None = None,
    ) -> None:
        """Replace the stored events of ``tickers`` (all when None) by ``frame``.

        ``frame`` has the events' typed columns; ``params`` (``id, kind, params``, as
        ``stockbrief.detectors.params_frame()`` gives them) are kept with
        :meth:`add_event_params` in the same transaction.
        """
        with self.transaction():
            if tickers is None:
                self._con.execute("DELETE FROM events")
            else:
                self._con.execute(
                    "DELETE FROM events WHERE ticker IN (SELECT unnest(?::VARCHAR[]))",
                    [list(tickers)],
                )
            self.add_events(frame, params=params)

    def add_events(self, frame: pl.DataFrame, *, params: pl.DataFrame | None = None) -> None:
        """Append events of sessions not stored yet, and keep their ``params`` (see
        :meth:`replace_events`)."""
        with self.transaction():
            if params is not None:
                self.add_event_params(params)
            self._append("events", frame)

    def add_event_params(self, params: pl.DataFrame) -> None:
        """Keep the parameter sets (``id, kind, params``, ``params`` a JSON object) not kept yet.

        An id is kept once and never changes meaning, so an event stored under older thresholds
        keeps the parameters it was found with.

        Raises
        ------
        StoreError
            When an id is kept with other parameters than given (two sets hashing alike).
        """
        incoming = params.select(
            pl.col("id").cast(pl.Int32), pl.col("kind").cast(pl.String), pl.col("params")
        ).unique("id", keep="first", maintain_order=True)
        kept = {i: (k, json.loads(p)) for i, k, p in self.event_params().iter_rows()}
        for i, kind, text in incoming.iter_rows():
            if i in kept and kept[i] != (kind, json.loads(text)):
                raise StoreError(
                    f"event parameters {i} are kept as {kept[i][0]} {kept[i][1]}, not {kind} "
                    f"{text}; two parameter sets share an id, so change one of them"
                )
        self._append("event_params", incoming.filter(~pl.col("id").is_in(list(kept))))

    def event_params(self) -> pl.DataFrame:
        """Every kept parameter set of events: ``id, kind, params`` (a JSON object), by id."""
        return self._frame("SELECT * FROM event_params ORDER BY id")

    def events(
        self,
        tickers: Sequence[str] | None = None,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        kinds: Sequence[str] | None = None,
        keys_only: bool = False,
    ) -> pl.DataFrame:
        """Stored events sorted by ticker, date and kind, in their typed columns (``ticker,
        date, kind, value, level, observed, sessions, label, prev_label, params_id``), or
        ``ticker, date, kind`` alone with ``keys_only`` (what screens and studies read; a
        third of the decompression on a universe whose recent events are asked for)."""
        where, params = _filters("e", tickers, start, end)
        if kinds is not None:
            where += " AND e.kind IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(kinds))
        columns = "e.ticker, e.date, e.kind" if keys_only else "e.*"
        return self._frame(
            f"SELECT {columns} FROM events e WHERE {where} ORDER BY e.ticker, e.date, e.kind",
            params,
        )

    def save_universe_evidence(self, day: dt.date, rows: pl.DataFrame) -> None:
        """Keep the universe's event studies valid for ``day`` (replacing those of that day)."""
        with self.transaction():
            self._con.execute("DELETE FROM universe_evidence WHERE valid_for = ?", [day])
            self._append("universe_evidence", rows.with_columns(valid_for=pl.lit(day)))

    def universe_evidence(self, day: dt.date) -> tuple[dt.date, pl.DataFrame] | None:
        """The newest kept universe studies valid on or before ``day``, with the day they are
        valid for; None when none are kept (studies valid later would look ahead)."""
        found = self._frame(
            """
            SELECT * FROM universe_evidence WHERE valid_for = (
                SELECT max(valid_for) FROM universe_evidence WHERE valid_for <= ?)
            ORDER BY kind
            """,
            [day],
        )
        if found.is_empty():
            return None
        return found["valid_for"][0], found.drop("valid_for")

    @property
    def engine_folder(self) -> Path:
        """Where the engine's state files live: beside the store, one set per save."""
        return self.path.with_name(self.path.name + ".engine")

    def save_engine_state(self, frames: dict[str, pl.DataFrame], meta: pl.DataFrame) -> None:
        """Keep the engine's state (a cache shaped by the indicator set) and its fingerprint.

        The state is some tens of MB that change whole every session: as Arrow files beside
        the store it costs a file write, where a DuckDB table costs its rewrite, its WAL and a
        checkpoint. Each save writes files under a new generation name, and the store's
        ``engine_state`` row naming the generation moves in the same transaction as the
        fingerprint, so the store always names a complete set; older sets are deleted once the
        transaction commits (a rolled-back save deletes its own).
        """
        folder = self.engine_folder
        generation = uuid.uuid4().hex
        try:
            folder.mkdir(exist_ok=True)
            for name, frame in frames.items():
                _write_durably(frame, folder / f"{generation}.{name}.arrow")
        except OSError as exc:
            self._drop_generations(keep=None, only=generation)
            raise StoreError(f"{folder}: cannot write the engine state: {exc.strerror}") from None
        names = ",".join(sorted(frames))
        kernels = frames.get("kernels")
        indicators = (
            ",".join(c for c in kernels.columns if c != "ticker") if kernels is not None else ""
        )
        with self.transaction():
            self._con.execute(
                """
                CREATE OR REPLACE TABLE engine_state AS
                SELECT ? AS generation, ? AS frames, ? AS indicators
                """,
                [generation, names, indicators],
            )
            for table in ("engine_history", "engine_kernels", "engine_recent"):
                self._con.execute(f"DROP TABLE IF EXISTS {table}")  # the former layout
            self._con.execute("DELETE FROM engine_meta")
            self._append("engine_meta", meta)
            self._settled.append(
                (
                    lambda: self._drop_generations(keep=generation),
                    lambda: self._drop_generations(keep=None, only=generation),
                )
            )

    def engine_indicators(self) -> list[str] | None:
        """The indicators the saved state was computed with, in their order (None when no
        state names them: none saved, or saved before they were recorded)."""
        tables = {r[0] for r in self._rows("SELECT table_name FROM information_schema.tables")}
        if "engine_state" not in tables:
            return None
        columns = {r[0] for r in self._rows("DESCRIBE engine_state")}
        if "indicators" not in columns:
            return None
        row = self._rows("SELECT indicators FROM engine_state")
        return row[0][0].split(",") if row and row[0][0] else None

    def _drop_generations(self, keep: str | None, only: str | None = None) -> None:
        """Delete the state files of every generation but ``keep`` (or of ``only``)."""
        folder = self.engine_folder
        if not folder.is_dir():
            return
        for path in folder.glob("*.arrow"):
            generation = path.name.split(".", 1)[0]
            if (only is None and generation != keep) or generation == only:
                path.unlink(missing_ok=True)

    def _engine_files(self, names: Sequence[str]) -> dict[str, Path] | None:
        """The state files of the saved generation, when all of ``names`` were saved."""
        tables = {r[0] for r in self._rows("SELECT table_name FROM information_schema.tables")}
        if "engine_state" not in tables:
            return None
        row = self._rows("SELECT generation, frames FROM engine_state")
        if not row:
            return None
        generation, saved = row[0]
        files = {n: self.engine_folder / f"{generation}.{n}.arrow" for n in names}
        if not set(names) <= set(saved.split(",")) or not all(f.is_file() for f in files.values()):
            return None
        return files

    def load_engine_state(
        self, names: Sequence[str]
    ) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
        """The saved state frames and fingerprint; empty when nothing was saved."""
        files = self._engine_files(names)
        if files is None and self._has_state_tables(names):
            frames = {n: self._frame(f"SELECT * FROM engine_{n}") for n in names}
        elif files is None:
            return {}, self._frame("SELECT * FROM engine_meta LIMIT 0")
        else:
            try:
                frames = {n: pl.read_ipc(path) for n, path in files.items()}
            except (OSError, pl.exceptions.ComputeError) as exc:
                raise StoreError(
                    f"{self.engine_folder}: the engine state cannot be read ({exc}); run "
                    "`stockbrief compute --full` to rebuild it"
                ) from None
        meta = self.engine_meta()
        # A deleted ticker leaves the fingerprint at once; its rows in the files go here.
        known = meta["ticker"]
        for name, frame in frames.items():
            if "ticker" in frame.columns and frame["ticker"].n_unique() != known.len():
                frames[name] = frame.filter(pl.col("ticker").is_in(known.implode()))
        return frames, meta

    def has_engine_state(self, names: Sequence[str]) -> bool:
        """Whether a state with all these frames was saved (and its files are in place)."""
        return self._engine_files(names) is not None or self._has_state_tables(names)

    def _has_state_tables(self, names: Sequence[str]) -> bool:
        """Whether a state was saved as tables, as stores written before the files kept it
        (read once; the next save moves it to files)."""
        tables = {r[0] for r in self._rows("SELECT table_name FROM information_schema.tables")}
        return "engine_state" not in tables and all(f"engine_{n}" in tables for n in names)

    def engine_meta(self) -> pl.DataFrame:
        """The fingerprint the saved engine state was computed from (empty when none)."""
        return self._frame("SELECT * FROM engine_meta ORDER BY ticker")

    def fingerprint(self) -> pl.DataFrame:
        """Per ticker with bars: last date, counts of bars and actions, and one checksum of both.

        Read from ``ticker_stats``, which every write keeps current; a changed count or checksum
        means history moved under the engine (a backfill, a replaced bar, a new or replaced
        split), so that ticker is recomputed rather than updated.
        """
        return self._frame(
            """
            SELECT ticker, last_date, bars, actions,
                xor(bars_checksum, actions_checksum) AS checksum
            FROM ticker_stats WHERE bars > 0 ORDER BY ticker
            """
        )

    def new_sessions(self) -> pl.DataFrame:
        """Per ticker the saved engine state covers: the count of its bars dated after the
        state's ``last_date``, and the fingerprint its older rows must still have (``bars``,
        ``actions`` and ``checksum`` as of ``last_date``) if nothing changed underneath.

        It reads the new bars' keys and the kept stats, never the rest of the bars.
        """
        return self._frame(
            f"""
            WITH after AS (
                SELECT b.ticker, count(*) AS n, bit_xor({BAR_HASH}) AS h
                FROM bars b JOIN engine_meta m ON b.ticker = m.ticker AND b.date > m.last_date
                GROUP BY b.ticker
            )
            SELECT m.ticker, m.last_date, coalesce(s.bars, 0) - coalesce(a.n, 0) AS bars,
                coalesce(s.actions, 0) AS actions,
                xor(xor(coalesce(s.bars_checksum, 0::UBIGINT), coalesce(a.h, 0::UBIGINT)),
                    coalesce(s.actions_checksum, 0::UBIGINT)) AS checksum,
                coalesce(a.n, 0) AS new_bars
            FROM engine_meta m LEFT JOIN ticker_stats s ON s.ticker = m.ticker
            LEFT JOIN after a ON a.ticker = m.ticker
            ORDER BY m.ticker
            """
        )

    def export_bars(
        self, folder: Path, partitions: int, *, adjusted: bool = True, overwrite: bool = False
    ) -> int:
        """Write bars as Parquet partitioned by ticker hash: ``folder/part=K/*.parquet``.

        Every ticker lands whole in one partition, so a partition can be computed alone.
        Prices are split-adjusted as the engine reads them (``adjusted``). Returns the row count.
        """
        if partitions < 1:
            raise StoreError("partitions must be at least 1")
        if folder.exists() and any(folder.iterdir()) and not overwrite:
            raise StoreError(f"{folder} is not empty; choose an empty folder or pass --overwrite")
        # The bars stream from the database to the files: DuckDB never hands them to Python, so
        # a universe larger than memory exports as well as a small one.
        query, params = self._bars_query(None, None, None, adjusted, False, None)
        folder.mkdir(parents=True, exist_ok=True)
        written = self._con.execute(
            f"COPY (SELECT *, CAST(hash(ticker) % {int(partitions)} AS INTEGER) AS part"
            f" FROM ({query}) ORDER BY ticker, date)"
            f" TO ? (FORMAT parquet, PARTITION_BY (part){', OVERWRITE' if overwrite else ''})",
            [*params, str(folder)],
        ).fetchall()
        return int(written[0][0]) if written else 0

    def _append(self, table: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        cols = ", ".join(frame.columns)
        if frame.height >= STAGED_ROWS:
            # Rows scanned from a Python frame stay in memory until the transaction commits;
            # rows read from a file are written out as they go, so a universe job that appends
            # batch after batch in one transaction keeps a bounded footprint.
            with tempfile.TemporaryDirectory(dir=self.path.parent, prefix=".append-") as tmp:
                staged = Path(tmp) / "rows.parquet"
                frame.write_parquet(staged, compression="uncompressed")
                self._con.execute(
                    f"INSERT INTO {table} ({cols}) SELECT {cols} FROM read_parquet(?)",
                    [str(staged)],
                )
            return
        with self._registered("append_frame", frame):
            self._con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM append_frame")

    # -- reads ---------------------------------------------------------------------------------

    def bars(
        self,
        tickers: Sequence[str] | None = None,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        adjusted: bool = False,
        dividends: bool = True,
        as_of: dt.date | None = None,
    ) -> pl.DataFrame:
        """Bars sorted by ticker and date, raw or adjusted as seen on ``as_of``.

        Notes
        -----
        Adjusted prices multiply each bar by the product of the factors of all actions after it
        and on or before ``as_of`` (default: ``end``, else every stored action): ``1 / ratio``
        for a split, ``1 - dividend / previous close`` for a dividend (CRSP convention). Volume
        is multiplied by the split ratios only. ``dividends=False`` adjusts for splits alone, as
        price levels are quoted on charts. Unadjusted bars are exactly as stored, and so are the
        bars of a ticker whose basis is ``adjusted`` (:meth:`price_basis`): a provider adjusted
        them for their splits and dividends already, so their stored actions do not apply.
        """
        return self._frame(*self._bars_query(tickers, start, end, adjusted, dividends, as_of))

    def _bars_query(
        self,
        tickers: Sequence[str] | None,
        start: dt.date | None,
        end: dt.date | None,
        adjusted: bool,
        dividends: bool,
        as_of: dt.date | None,
        after: str | None = None,
    ) -> tuple[str, list[Any]]:
        """The SQL of :meth:`bars` and its parameters, for reading or for a streamed export.

        The tickers are chosen before any join, so one ticker's adjusted bars cost a read of
        that ticker's rows, not of the universe's. ``after`` names a registered frame of
        ``ticker, last_date``: then only its tickers, and their bars after ``last_date``.
        """
        horizon = as_of or end
        last = min(filter(None, [end, as_of]), default=None)
        scope, scope_params = _filters("s", tickers, None, None)
        if after is not None:
            scope += f" AND s.ticker IN (SELECT ticker FROM {after})"
        source = "bars" if scope == "TRUE" else f"(SELECT * FROM bars s WHERE {scope})"
        source_params = [] if scope == "TRUE" else scope_params
        rows, row_params = _filters("b", None, start, last)
        join = f" JOIN {after} l ON b.ticker = l.ticker AND b.date > l.last_date" if after else ""
        asked = f"SELECT b.* FROM {source} b{join} WHERE {rows}"
        if not adjusted:
            return f"{asked} ORDER BY b.ticker, b.date", source_params + row_params
        act_scope = scope.replace("s.ticker", "a.ticker")
        act_filter, act_params = _filters("a", None, None, horizon)
        if not dividends:
            act_filter += " AND a.kind = 'split'"
        # Bars a provider adjusted already include their splits and dividends.
        act_filter += (
            " AND a.ticker NOT IN (SELECT ticker FROM price_basis WHERE basis = 'adjusted')"
        )
        query = f"""
            WITH factors AS (
                SELECT a.ticker, a.date,
                    product(CASE WHEN a.kind = 'split' THEN 1.0 / a.value
                                 ELSE coalesce(1.0 - a.value / p.close, 1.0) END) AS price_f,
                    product(CASE WHEN a.kind = 'split' THEN a.value ELSE 1.0 END) AS volume_f
                FROM (SELECT * FROM actions a WHERE {act_scope} AND {act_filter}) a
                ASOF LEFT JOIN {source} p ON a.ticker = p.ticker AND a.date > p.date
                GROUP BY a.ticker, a.date
            ), cumulative AS (
                SELECT ticker, date,
                    product(price_f) OVER w AS price_f, product(volume_f) OVER w AS volume_f
                FROM factors
                WINDOW w AS (PARTITION BY ticker ORDER BY date DESC
                             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            )
            SELECT b.ticker, b.date,
                b.open * coalesce(c.price_f, 1.0) AS open,
                b.high * coalesce(c.price_f, 1.0) AS high,
                b.low * coalesce(c.price_f, 1.0) AS low,
                b.close * coalesce(c.price_f, 1.0) AS close,
                CAST(round(b.volume * coalesce(c.volume_f, 1.0)) AS BIGINT) AS volume
            FROM ({asked}) b ASOF LEFT JOIN cumulative c ON b.ticker = c.ticker AND b.date < c.date
            ORDER BY b.ticker, b.date
        """
        params = scope_params + act_params + source_params + source_params + row_params
        return query, params

    def bars_after(self, last_dates: pl.DataFrame) -> pl.DataFrame:
        """Bars dated after each ticker's ``last_date`` (tickers of the frame only), adjusted
        for every stored split as the engine reads them, so that a split stored ahead of its
        bars adjusts them here as a full read would."""
        with self._registered("last_frame", last_dates.select("ticker", "last_date")):
            return self._frame(
                *self._bars_query(None, None, None, True, False, None, after="last_frame")
            )

    def actions(
        self, tickers: Sequence[str] | None = None, *, as_of: dt.date | None = None
    ) -> pl.DataFrame:
        """Corporate actions sorted by ticker, date and kind."""
        where, params = _filters("a", tickers, None, as_of)
        return self._frame(
            f"SELECT a.* FROM actions a WHERE {where} ORDER BY a.ticker, a.date, a.kind", params
        )

    def read(
        self,
        table: Table,
        tickers: Sequence[str] | None = None,
        *,
        until: dt.date | None = None,
    ) -> pl.DataFrame:
        """Rows of a model table, for some tickers, dated on or before ``until``.

        News is dated by the UTC day of ``published_at``; KPIs by ``period_end``, or by the UTC
        day of ``known_at`` when they became known later.
        """
        schema, key = TABLES[table]
        date = {
            "news": "CAST(t.published_at AT TIME ZONE 'UTC' AS DATE)",
            "kpis": "greatest(t.period_end,"
            " coalesce(CAST(t.known_at AT TIME ZONE 'UTC' AS DATE), t.period_end))",
        }
        clauses: list[str] = ["TRUE"]
        params: list[Any] = []
        if tickers is not None and "ticker" in schema:
            clauses.append("t.ticker IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(tickers))
        if until is not None and (table in date or "date" in schema):
            clauses.append(f"{date.get(table, 't.date')} <= ?")
            params.append(until)
        order = ", ".join(f"t.{k}" for k in key)
        frame = self._frame(
            f"SELECT t.* FROM {table} t WHERE {' AND '.join(clauses)} ORDER BY {order}", params
        )
        return frame.cast(dict(schema))  # type: ignore[arg-type]

    def news_between(self, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
        """News items published from ``start`` to ``end`` (inclusive), oldest first: what a
        new item is checked against for duplicates, without reading the whole table."""
        frame = self._frame(
            "SELECT * FROM news WHERE published_at BETWEEN ? AND ? ORDER BY published_at, id",
            [start, end],
        )
        return frame.cast(dict(model.NEWS))  # type: ignore[arg-type]

    def price_basis(self, tickers: Sequence[str] | None = None) -> dict[str, PriceBasis]:
        """The basis of each ticker with bars stored (of ``tickers``, or all).

        A ticker recorded before the basis was (or by a writer that records none, such as the
        embedded sample) is ``traded``: bars were stored as traded. A ticker whose bars were all
        removed has no basis, so its next bars may bring either.
        """
        where, params = _filters("s", tickers, None, None)
        rows = self._rows(
            f"""
            SELECT s.ticker, coalesce(p.basis, 'traded') FROM ticker_stats s
            LEFT JOIN price_basis p ON p.ticker = s.ticker WHERE s.bars > 0 AND {where}
            """,
            params,
        )
        return {str(t): "adjusted" if b == "adjusted" else "traded" for t, b in rows}

    def securities(self) -> pl.DataFrame:
        """Reference data, one row per ticker."""
        return self._frame("SELECT * FROM securities ORDER BY ticker")

    def summary(self) -> pl.DataFrame:
        """Per ticker: first and last date, number of bars and of actions (from the stats every
        write keeps, so it costs the same on 5,000 tickers as on 5)."""
        return self._frame("""
            SELECT ticker, first_date AS first, last_date AS last, bars, actions
            FROM ticker_stats WHERE bars > 0 ORDER BY ticker
            """)

    def session_coverage(self, as_of: dt.date | None = None) -> tuple[dt.date | None, int, int]:
        """The latest session on or before ``as_of``, the tickers with a bar on it, and the
        tickers with any bar by then (a screen sees only the former)."""
        row = self._con.execute(
            """
            WITH upto AS (SELECT ticker, date FROM bars WHERE ? IS NULL OR date <= ?)
            SELECT (SELECT max(date) FROM upto),
                (SELECT count(DISTINCT ticker) FROM upto
                 WHERE date = (SELECT max(date) FROM upto)),
                (SELECT count(DISTINCT ticker) FROM upto)
            """,
            [as_of, as_of],
        ).fetchall()[0]  # all rows: one left unread keeps the connection busy
        return row[0], int(row[1]), int(row[2])

    def breadth(self, day: dt.date, *, sessions: int = 200) -> dict[str, int]:
        """How the stored stocks closed on ``day``, in one aggregate over that day's window.

        ``traded``: stocks with a bar on the day and one before it; ``rose``, ``fell``: those
        whose close beat or missed the close before; ``with_average``: those with ``sessions``
        closes up to the day within :data:`BREADTH_WINDOW_DAYS`; ``above_average``: those of
        them closing above the mean of those closes. Securities typed etf, fund or index,
        ``^`` tickers and tickers without volume on the day (an index) are not stocks and are
        left out.

        Notes
        -----
        Closes are split-adjusted as the engine reads them (splits dated after a bar and on or
        before the day; bars a provider adjusted are read as stored), so a split is no fall.
        Only bars and splits dated on or before ``day`` are read: the counts never change when
        later data arrive. Cost: one scan of the bars of the window, whatever the history.
        """
        start = day - dt.timedelta(days=BREADTH_WINDOW_DAYS)
        n = int(sessions)
        # Splits are rare: only the few tickers with one in the window take the (slow) as-of
        # join of factors; every other ticker's closes are read as stored.
        row = self._rows(
            f"""
            WITH split_rows AS (
                SELECT ticker, date, product(1.0 / value) AS f FROM actions
                WHERE kind = 'split' AND date > ? AND date <= ?
                    AND ticker NOT IN (SELECT ticker FROM price_basis WHERE basis = 'adjusted')
                GROUP BY ticker, date
            ), factors AS (
                SELECT ticker, date, product(f) OVER (
                    PARTITION BY ticker ORDER BY date DESC
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS f
                FROM split_rows
            ), window_bars AS (
                SELECT ticker, date, close, volume FROM bars
                WHERE date BETWEEN ? AND ? AND ticker NOT LIKE '^%'
                    AND ticker NOT IN (SELECT ticker FROM securities
                                       WHERE lower(type) IN ('etf', 'fund', 'index'))
            ), adjusted AS (
                SELECT * FROM window_bars
                WHERE ticker NOT IN (SELECT ticker FROM split_rows)
                UNION ALL
                SELECT w.ticker, w.date, w.close * coalesce(c.f, 1.0), w.volume
                FROM (SELECT * FROM window_bars
                      WHERE ticker IN (SELECT ticker FROM split_rows)) w
                ASOF LEFT JOIN factors c ON w.ticker = c.ticker AND w.date < c.date
            ), per_ticker AS (
                SELECT max(date) AS last, max_by(volume, date) AS volume,
                    max_by(close, date, {n}) AS closes
                FROM adjusted GROUP BY ticker
            )
            SELECT count(*) FILTER (WHERE len(closes) >= 2),
                count(*) FILTER (WHERE closes[1] > closes[2]),
                count(*) FILTER (WHERE closes[1] < closes[2]),
                count(*) FILTER (WHERE len(closes) = {n}),
                count(*) FILTER (WHERE len(closes) = {n} AND closes[1] > list_avg(closes))
            FROM per_ticker WHERE last = ? AND volume > 0
            """,
            [start, day, start, day, day],
        )[0]
        names = ("traded", "rose", "fell", "with_average", "above_average")
        return dict(zip(names, (int(v) for v in row), strict=True))

    def tickers(self) -> list[str]:
        """Every ticker with at least one bar."""
        return [
            r[0] for r in self._rows("SELECT ticker FROM ticker_stats WHERE bars > 0 ORDER BY 1")
        ]

    def has_splits_after(self, day: dt.date | None) -> bool:
        """Whether a split dated after ``day`` is stored (never, for no day)."""
        if day is None:
            return False
        query = "SELECT count(*) FROM actions WHERE kind = 'split' AND date > ?"
        return bool(self._rows(query, [day])[0][0])

    def has_ticker(self, ticker: str) -> bool:
        """Whether ``ticker`` has at least one bar."""
        return bool(
            self._rows("SELECT count(*) FROM ticker_stats WHERE ticker = ? AND bars > 0", [ticker])[
                0
            ][0]
        )

    # -- watchlists and alert deliveries ---------------------------------------------------------

    def watchlist(self, name: str) -> list[str]:
        """The tickers of a stored watchlist in their order; empty when no such list is stored."""
        query = "SELECT ticker FROM watchlists WHERE name = ? ORDER BY position, ticker"
        return [str(r[0]) for r in self._rows(query, [name])]

    def watchlists(self) -> dict[str, list[str]]:
        """Every stored watchlist by name (sorted), each with its tickers in their order."""
        query = "SELECT name, ticker FROM watchlists ORDER BY name, position, ticker"
        lists: dict[str, list[str]] = {}
        for name, ticker in self._rows(query):
            lists.setdefault(str(name), []).append(str(ticker))
        return lists

    def save_watchlist(self, name: str, tickers: Sequence[str]) -> None:
        """Store ``tickers`` as the watchlist ``name``, replacing a list of that name."""
        with self.transaction():
            self._con.execute("DELETE FROM watchlists WHERE name = ?", [name])
            if tickers:
                self._con.executemany(
                    "INSERT INTO watchlists VALUES (?, ?, ?)",
                    [(name, ticker, i) for i, ticker in enumerate(tickers)],
                )

    def delete_watchlist(self, name: str) -> bool:
        """Remove the watchlist ``name``; whether there was one."""
        with self.transaction():
            found = bool(self._rows("SELECT count(*) FROM watchlists WHERE name = ?", [name])[0][0])
            self._con.execute("DELETE FROM watchlists WHERE name = ?", [name])
        return found

    # -- saved screens ---------------------------------------------------------------------------

    def saved_screens(self) -> list[dict[str, Any]]:
        """Every saved screen by name: expression, columns shown (a list; empty for all),
        sort column (or None) and when it was saved."""
        query = "SELECT name, expression, columns, sort, saved_at FROM saved_screens ORDER BY name"
        return [
            {
                "name": name,
                "expression": expression,
                "columns": [c for c in (columns or "").split(",") if c],
                "sort": sort,
                "saved_at": saved_at,
            }
            for name, expression, columns, sort, saved_at in self._rows(query)
        ]

    def save_screen(
        self, name: str, expression: str, columns: Sequence[str] = (), sort: str | None = None
    ) -> None:
        """Store a screen under ``name``, replacing one of that name; columns are kept in order."""
        saved_at = dt.datetime.now(dt.UTC)
        with self.transaction():
            self._con.execute("DELETE FROM saved_screens WHERE name = ?", [name])
            self._con.execute(
                "INSERT INTO saved_screens VALUES (?, ?, ?, ?, ?)",
                [name, expression, ",".join(columns) or None, sort, saved_at],
            )

    def delete_screen(self, name: str) -> bool:
        """Remove the saved screen ``name``; whether there was one."""
        with self.transaction():
            query = "SELECT count(*) FROM saved_screens WHERE name = ?"
            found = bool(self._rows(query, [name])[0][0])
            self._con.execute("DELETE FROM saved_screens WHERE name = ?", [name])
        return found

    def deliveries(self, session: dt.date) -> pl.DataFrame:
        """Every alert delivery recorded for one session (rule, ticker, destination, status...)."""
        return self._frame(
            "SELECT * FROM alert_deliveries WHERE session = ? ORDER BY rule, ticker, destination",
            [session],
        )

    def failed_deliveries_before(self, session: dt.date) -> pl.DataFrame:
        """Deliveries of earlier sessions that never went out: a later run reports them."""
        return self._frame(
            "SELECT * FROM alert_deliveries WHERE session < ? AND status = 'failed'"
            " ORDER BY session, rule, ticker",
            [session],
        )

    def record_delivery(
        self,
        rule: str,
        ticker: str,
        session: dt.date,
        destination: str,
        *,
        sent: bool,
        error: str | None = None,
    ) -> None:
        """Record one attempt at an alert: the row of (rule, ticker, session, destination) is
        replaced, its attempts counted up, so a rerun knows what went out and what to retry."""
        key = [rule, ticker, session, destination]
        where = "rule = ? AND ticker = ? AND session = ? AND destination = ?"
        with self.transaction():
            before = self._rows(f"SELECT attempts FROM alert_deliveries WHERE {where}", key)
            self._con.execute(f"DELETE FROM alert_deliveries WHERE {where}", key)
            self._con.execute(
                "INSERT INTO alert_deliveries VALUES (?, ?, ?, ?, ?, ?, now(), ?)",
                [*key, "sent" if sent else "failed", (before[0][0] if before else 0) + 1, error],
            )

    @contextmanager
    def _registered(self, name: str, frame: pl.DataFrame) -> Iterator[None]:
        """``frame`` as the view ``name`` for the statements inside.

        Handed over as an Arrow C stream: registering the frame itself makes DuckDB import
        pyarrow, which costs more than a daily write.
        """
        self._con.register(name, _ArrowStream(frame))
        try:
            yield
        finally:
            self._con.unregister(name)

    def _frame(self, query: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        # Through the Arrow C stream: no pyarrow import (a quarter of a second) for a read.
        return pl.DataFrame(self._con.sql(query, params=list(params or [])))

    def _rows(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self._con.sql(query, params=list(params or [])).fetchall()


class _ArrowStream:
    """A frame seen only through the Arrow PyCapsule stream protocol."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._frame.__arrow_c_stream__(requested_schema)


def _filters(
    alias: str,
    tickers: Sequence[str] | None,
    start: dt.date | None,
    end: dt.date | None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = ["TRUE"]
    params: list[Any] = []
    if tickers is not None and len(tickers) == 1:
        clauses.append(f"{alias}.ticker = ?")
        params.append(tickers[0])
    elif tickers is not None:
        # The range lets DuckDB skip row groups of other tickers (bars arrive grouped by
        # ticker), which a membership test alone does not.
        clauses.append(
            f"{alias}.ticker BETWEEN ? AND ? AND {alias}.ticker IN (SELECT unnest(?::VARCHAR[]))"
        )
        params += [min(tickers, default=""), max(tickers, default=""), list(tickers)]
    if start is not None:
        clauses.append(f"{alias}.date >= ?")
        params.append(start)
    if end is not None:
        clauses.append(f"{alias}.date <= ?")
        params.append(end)
    return " AND ".join(clauses), params


def _write_durably(frame: pl.DataFrame, path: Path) -> None:
    """An Arrow file on disk before the transaction that names it commits."""
    frame.write_ipc(path, compression="uncompressed")
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
