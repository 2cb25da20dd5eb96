"""What the faces call: open a store, ingest, read prices, describe the store.

Every function takes ``store`` as a :class:`Store`, a path, or ``None`` for the configured one
(``STOCKBRIEF_STORE``, else ``./stockbrief.duckdb``). Paths are opened and closed per call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, get_args, overload

import polars as pl

from stockbrief import calendar
from stockbrief.config import NOTABLE_RULE, Providers
from stockbrief.errors import ConflictError, InputError, NotFoundError, StockbriefError
from stockbrief.lazy import lazy_module
from stockbrief.results import ScreenResult
from stockbrief.sources.base import Parsed
from stockbrief.sources.files import ActionFile, PriceFile, read_table
from stockbrief.sources.plausibility import Finding, check_incoming, refusal
from stockbrief.sources.sample import SampleSource
from stockbrief.sources.validate import (
    FILE,
    ROW,
    SPECS,
    ExchangeOf,
    ParsedBars,
    Unfinished,
    check_closes_under_dividends,
    check_dividends,
    exchange_lookup,
    parse_table,
    split_news,
)
from stockbrief.store import (
    BREADTH_WINDOW_DAYS,
    PRICE_BASES,
    TABLES,
    PriceBasis,
    Store,
    Table,
    UpsertResult,
)

if TYPE_CHECKING:
    from stockbrief import alerts, claims, compute, consensus, evidence, peers
    from stockbrief import detectors as ev
    from stockbrief.calendar import DateLike
    from stockbrief.diagnosis import DoctorReport
    from stockbrief.evidence import multiple
    from stockbrief.notes import document, facts, narrative, verdict
    from stockbrief.notes import thesis as user_thesis
    from stockbrief.notes.document import Brief
    from stockbrief.notes.narrative import Lang
else:
    # Bound on first use: `info` and an up-to-date `compute` never load numba or Jinja.
    alerts = lazy_module("stockbrief.alerts")
    claims = lazy_module("stockbrief.claims")
    compute = lazy_module("stockbrief.compute")
    consensus = lazy_module("stockbrief.consensus")
    evidence = lazy_module("stockbrief.evidence")
    multiple = lazy_module("stockbrief.evidence.multiple")
    peers = lazy_module("stockbrief.peers")
    ev = lazy_module("stockbrief.detectors")
    document = lazy_module("stockbrief.notes.document")
    facts = lazy_module("stockbrief.notes.facts")
    narrative = lazy_module("stockbrief.notes.narrative")
    verdict = lazy_module("stockbrief.notes.verdict")
    user_thesis = lazy_module("stockbrief.notes.thesis")

IngestKind = Literal[
    "prices", "actions", "ratings", "consensus", "news", "securities", "kpis", "notes", "aliases"
]
INGEST_KINDS: tuple[str, ...] = get_args(IngestKind)
StoreLike = Store | str | Path | None


def _env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(f"STOCKBRIEF_{name}") or default)


@dataclass(frozen=True)
class Settings:
    """Configuration from the environment: ``STOCKBRIEF_STORE`` and ``STOCKBRIEF_BRIEFS``."""

    store: Path = field(default_factory=lambda: _env_path("STORE", "stockbrief.duckdb"))
    briefs: Path = field(default_factory=lambda: _env_path("BRIEFS", "briefs"))


def store_path(path: str | Path | None = None) -> Path:
    """The store file: the argument, else ``STOCKBRIEF_STORE``, else ``./stockbrief.duckdb``."""
    return Path(path) if path is not None else Settings().store


@contextmanager
def using_store(store: StoreLike = None, *, read_only: bool = False) -> Iterator[Store]:
    """Yield an open store; close it afterwards only if it was opened here."""
    if isinstance(store, Store):
        yield store
        return
    opened = Store(store_path(store), read_only=read_only)
    try:
        yield opened
    finally:
        opened.close()


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingest command."""

    kind: str
    files: int
    rows: int
    tickers: int
    result: UpsertResult
    filtered: int = 0
    filter_reason: str = "rows outside --from/--to left out"
    unfinished: Unfinished | None = None
    """Bars of sessions that had not closed yet: left out, or stored as asked."""
    warnings: tuple[Finding, ...] = ()
    """Suspicious bars stored anyway (see :mod:`stockbrief.sources.plausibility`)."""

    def summary(self) -> str:
        """One line for a person."""
        r = self.result
        text = (
            f"{self.kind}: {_count(self.rows, 'row')} for {_count(self.tickers, 'ticker')} from "
            f"{_count(self.files, 'file')}: {r.inserted:,} new, {r.unchanged:,} already stored"
        )
        if r.replaced:
            text += f", {r.replaced:,} replaced"
        if self.filtered:
            text += f"; {self.filtered:,} {self.filter_reason}"
        late = self.unfinished
        if late is not None and late.stored:
            text += (
                f"; {_count(late.count, 'bar')} of a session not closed yet stored as it stands"
                f" (--allow-unfinished; {late.describe()}); ingest a download taken after the"
                " close with --replace to store the final bar"
            )
        elif late is not None:
            text += (
                f"; {_count(late.count, 'bar')} of a session not closed yet left out"
                f" ({late.describe()}): ingest a download taken after the close to store the"
                " final bar, or pass --allow-unfinished to store it as it stands"
            )
        if self.warnings:
            text += f"; {_count(len(self.warnings), 'warning')} about suspicious bars"
        return text


def _check_unique_across(frames: Sequence[pl.DataFrame], key: Sequence[str]) -> pl.DataFrame:
    frame = pl.concat(frames, how="vertical")
    if len(frames) > 1:
        dup = frame.filter(
            pl.struct(list(key)).is_duplicated() & ~pl.struct(list(key)).is_first_distinct()
        )
        if dup.height:
            first = dup.row(0, named=True)
            what = ", ".join(f"{k}={first[k]}" for k in key)
            raise InputError(
                f"({what}) also appears in an earlier file of the same command",
                file=first[FILE],
                row=first[ROW],
                field=key[-1],
            )
    return frame


def _parse_file(
    kind: IngestKind,
    path: Path,
    ticker: str | None,
    exchange_of: ExchangeOf,
    start: dt.date | None,
    end: dt.date | None,
    allow_unfinished: bool = False,
) -> Parsed:
    if kind == "prices":
        return PriceFile(path, ticker, exchange_of, start, end, allow_unfinished).load()
    if kind == "actions":
        return ActionFile(path, ticker, exchange_of).load()
    keep = ("tickers",) if kind == "news" else ()
    spec, file = SPECS[kind], str(path)
    raw = read_table(path, lambda header: spec.check_header(header, file, keep))
    parsed = parse_table(raw, file, spec, ticker=ticker, keep=keep, exchange_of=exchange_of)
    if kind == "news" and ticker is not None:
        parsed = Parsed(_with_subject(parsed.frame, calendar.normalize_ticker(ticker)))
    return parsed


def _with_subject(news: pl.DataFrame, ticker: str) -> pl.DataFrame:
    """News rows with ``ticker`` among each item's subjects (``--ticker`` of a news file)."""
    if "tickers" not in news.columns:
        return news.with_columns(pl.lit(ticker).alias("tickers"))
    named = pl.col("tickers")
    if isinstance(news.schema["tickers"], pl.List):
        named = named.cast(pl.List(pl.String)).list.join(",")
    return news.with_columns(
        pl.concat_str([pl.lit(ticker), named.cast(pl.String).fill_null("")], separator=",").alias(
            "tickers"
        )
    )


def _prepare(kind: IngestKind, frame: pl.DataFrame) -> dict[Table, pl.DataFrame]:
    """Checks that need the analysis vocabulary, and the tables a kind writes."""
    if kind == "ratings":
        consensus.check_words(frame, "rating")
        consensus.check_words(frame, "prior_rating")
        frame = frame.with_columns(consensus.normalize_action(frame))
        return {"ratings": frame}
    if kind == "consensus":
        counts = [pl.col(b).is_not_null() for b in consensus.BUCKETS]
        empty = frame.filter(pl.col("label").is_null() & ~pl.any_horizontal(counts))
        if empty.height:
            first = empty.row(0, named=True)
            raise InputError(
                "a consensus row needs a label or the counts strong_buy..strong_sell",
                file=first[FILE],
                row=first[ROW],
                field="label",
            )
        consensus.check_words(frame, "label")
        return {"consensus": frame.with_columns(pl.col("source").fill_null("file"))}
    if kind == "news":
        news, links = split_news(Parsed(frame))
        return {"news": _scored(news), "news_tickers": links}
    if kind == "securities":
        return {"securities": frame.with_columns(pl.col("exchange").str.to_uppercase())}
    assert kind != "notes", "ingest() stores theses through _ingest_notes"
    table: Table = "bars" if kind == "prices" else kind
    return {table: frame}


def ingest(
    kind: IngestKind,
    files: Sequence[str | Path],
    *,
    store: StoreLike = None,
    ticker: str | None = None,
    exchange: str | None = None,
    replace: bool = False,
    start: DateLike | None = None,
    end: DateLike | None = None,
    basis: PriceBasis = "traded",
    allow_unfinished: bool = False,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Validate every row of every file, then store them all in one transaction.

    Parameters
    ----------
    kind
        ``prices`` (daily OHLCV bars), ``actions`` (splits and dividends), ``ratings``
        (analyst ratings and targets), ``consensus`` (provider summaries), ``news``,
        ``securities`` (names, exchanges, peer groups), ``kpis`` (company metrics) or
        ``notes`` (a user's theses: Markdown notes with a front matter, or a table of them).
    files
        CSV, Parquet or JSON files; one ticker per file (named by the file or ``ticker``) or a
        ``ticker`` column.
    ticker
        Overrides the ticker column and the file name.
    exchange
        ISO MIC whose sessions price dates must be (default: stored securities, else suffix).
    replace
        Overwrite stored rows that differ instead of refusing them.
    start, end
        Inclusive date filter for prices; the rows left out are counted in the report.
    basis
        What the prices are: ``traded`` (adjusted on read from the stored actions) or
        ``adjusted`` by their provider for splits and dividends (never adjusted again). A
        ticker's bars keep the basis they were first stored with.
    allow_unfinished
        Store bars of a session that has not closed yet (by its exchange's calendar, now)
        as they stand; by default they are left out and the report says so.
    strict
        Refuse prices with a suspicious bar (a spike that reverts, a jump like an unrecorded
        split, volume on an index, zero-volume runs, stale repeats; judged with the stored
        bars around them) instead of storing them with warnings in the report.
    progress
        Called with (files read, files in all) after each file is validated.

    Raises
    ------
    InputError
        On the first bad row, naming file, row and field; nothing is stored. Also for prices
        of a ticker whose stored bars have the other basis.

    Notes
    -----
    Dividends are checked against the stored closes before their ex-dates, and bars against
    the stored dividends after them, inside the write transaction: under the writer's lock no
    other command can change those closes between the check and the write.
    """
    start, end = calendar.as_date(start, "start"), calendar.as_date(end, "end")
    if not files:
        raise InputError("no files given")
    if kind not in INGEST_KINDS:
        raise InputError(
            f"unknown kind {kind!r}; expected one of {', '.join(INGEST_KINDS)}", field="kind"
        )
    if basis not in PRICE_BASES:
        raise InputError(f"unknown price basis {basis!r}; use traded or adjusted", field="basis")
    if kind != "prices" and (basis != "traded" or allow_unfinished):
        raise InputError("the price basis and unfinished sessions apply to prices only")
    if kind != "prices" and strict:
        raise InputError("--strict applies to prices only", field="strict")
    if kind == "news" and any(_is_feed(f) for f in files):
        return _ingest_feeds(files, store=store, ticker=ticker, replace=replace)
    if kind == "notes":
        return _ingest_notes(files, store=store, ticker=ticker, replace=replace, progress=progress)
    exchange_of = exchange_lookup(_stored_exchanges(store), exchange)
    parsed = []
    for count, f in enumerate(files, 1):
        parsed.append(_parse_file(kind, Path(f), ticker, exchange_of, start, end, allow_unfinished))
        if progress is not None:
            progress(count, len(files))
    main: Table = "bars" if kind == "prices" else kind
    frame = _check_unique_across([p.frame for p in parsed], TABLES[main][1])
    tables = _prepare(kind, frame)
    result = UpsertResult(0, 0, 0)
    warnings: tuple[Finding, ...] = ()
    with using_store(store) as db:
        try:
            with db.transaction():
                if kind == "actions":
                    check_dividends(frame, db)
                elif kind == "prices":
                    check_closes_under_dividends(frame, db)
                    warnings = check_incoming(frame, db, adjusted=basis == "adjusted")
                    if strict and (refused := refusal(warnings)) is not None:
                        raise refused
                    db.record_price_basis(frame["ticker"].unique().to_list(), basis)
                elif kind == "securities":
                    _check_exchange_moves(frame, db)
                for table, rows in tables.items():
                    done = db.upsert(table, rows, replace=replace)
                    result = result + done if table == main else result
        except ConflictError as exc:
            raise _located(exc, frame) from None
    named = tables.get("news_tickers", frame)
    tickers = named["ticker"].n_unique() if "ticker" in named.columns else 0
    late = [p.unfinished for p in parsed if isinstance(p, ParsedBars) and p.unfinished]
    return IngestReport(
        kind,
        len(files),
        frame.height,
        tickers,
        result,
        sum(p.filtered for p in parsed),
        unfinished=sum(late[1:], late[0]) if late else None,
        warnings=warnings,
    )


def _is_feed(location: str | Path) -> bool:
    from stockbrief.sources.feeds import is_feed

    text = str(location)
    return text.lower().startswith(("http://", "https://")) or is_feed(Path(text))


def _ingest_feeds(
    locations: Sequence[str | Path],
    *,
    store: StoreLike,
    ticker: str | None,
    replace: bool,
    fetching: Sequence[str] = (),
    profiles: pl.DataFrame | None = None,
) -> IngestReport:
    """RSS or Atom feeds (files or URLs) into news, each item linked to the stored securities
    it names (or to ``ticker``), stories already stored or repeated across feeds left out.

    During a fetch, the tickers ``fetching`` brings (named by their fetched ``profiles``)
    are matched too, stored or not."""
    from stockbrief.sources.feeds import FeedItems, FeedSource, known_securities

    if not all(_is_feed(f) for f in locations):
        raise InputError(
            "feeds (.xml, .rss, .atom or a URL) and news files (JSON lines, CSV) go in"
            " separate commands"
        )
    symbol = calendar.normalize_ticker(ticker) if ticker is not None else None
    if isinstance(store, Store) or store_path(store).exists():
        with using_store(store, read_only=not isinstance(store, Store)) as db:
            known = db.securities().select("ticker", "name")
            others = db.read("aliases")
    else:
        known = pl.DataFrame(schema={"ticker": pl.String, "name": pl.String})
        others = None
    known = known_securities(known, fetching, profiles)
    if known.is_empty() and symbol is None:
        raise InputError(
            "no stored securities to match feed items against: ingest securities (or fetch"
            " the tickers) first, or pass --ticker"
        )
    items: list[FeedItems] = []
    for location in locations:
        source = FeedSource(location, known, symbol, others)
        items.append(source.parse(source.fetch_raw()))
    frame = pl.concat([i.frame for i in items])
    with using_store(store) as db, db.transaction():
        tables, repeated = _provider_news(db, frame)
        result = db.upsert("news", tables["news"], replace=replace)
        db.upsert("news_tickers", tables["news_tickers"], replace=replace)
    unmatched = sum(i.unmatched for i in items)
    untimed = sum(i.untimed for i in items)
    parts = [
        f"{n:,} {what}"
        for n, what in (
            (repeated, "already stored or repeated"),
            (unmatched, f"naming no {'stored or fetched' if fetching else 'stored'} security"),
            (untimed, "without a time"),
        )
        if n
    ]
    return IngestReport(
        "news",
        len(locations),
        tables["news"].height,
        tables["news_tickers"]["ticker"].n_unique(),
        result,
        repeated + unmatched + untimed,
        f"feed items left out ({', '.join(parts)})",
    )


def _ingest_notes(
    files: Sequence[str | Path],
    *,
    store: StoreLike,
    ticker: str | None,
    replace: bool,
    progress: Callable[[int, int], None] | None,
) -> IngestReport:
    """Users' theses (Markdown notes or tables of them, see :mod:`stockbrief.sources.theses`),
    each on a ticker the store holds, stored under the writer's lock in one transaction."""
    from stockbrief.sources.theses import read_theses

    parsed = []
    for count, f in enumerate(files, 1):
        parsed.append(read_theses(Path(f), ticker))
        if progress is not None:
            progress(count, len(files))
    frame = _check_unique_across([p.frame for p in parsed], ("ticker", "written_on", "author"))
    with using_store(store) as db:
        known = set(db.tickers()) | set(db.securities()["ticker"].to_list())
        for row in frame.filter(~pl.col("ticker").is_in(list(known))).head(1).iter_rows(named=True):
            reason = _unknown_ticker(row["ticker"], sorted(known))
            raise InputError(
                f"{reason}; a thesis is kept on a stored ticker, so ingest its prices first",
                file=row[FILE],
                row=row[ROW],
                field="ticker",
            )
        try:
            result = db.add_theses(frame, replace=replace)
        except ConflictError as exc:
            # A thesis without an author has a null in its key: matched with eq_missing.
            found = frame.filter(*(pl.col(k).eq_missing(v) for k, v in exc.key.items()))
            row = found.row(0, named=True) if found.height else {FILE: None, ROW: None}
            raise ConflictError(
                exc.reason, key=exc.key, file=row[FILE], row=row[ROW], field=exc.field
            ) from None
    return IngestReport("notes", len(files), frame.height, frame["ticker"].n_unique(), result)


def _check_exchange_moves(securities: pl.DataFrame, db: Store) -> None:
    """Refuse a new exchange for a ticker whose stored bars are another exchange's sessions.

    The exchange decides the calendar a ticker's dates are checked against and the currency
    its brief quotes; moved under stored bars, BABA's New York closes would read as HK$.
    """
    stored = {r["ticker"]: r["exchange"] for r in db.securities().iter_rows(named=True)}
    held = set(db.tickers())
    for row in securities.filter(pl.col("exchange").is_not_null()).iter_rows(named=True):
        ticker, exchange = row["ticker"], row["exchange"].upper()
        if ticker not in held:
            continue
        try:
            before = stored.get(ticker) or calendar.exchange_for(ticker)
        except InputError:
            continue  # stored with --exchange and no securities row: nothing to compare
        if calendar.calendar_name(before) != calendar.calendar_name(exchange):
            raise InputError(
                f"{ticker}'s stored bars are {before} sessions; to list it on {exchange}, delete"
                f" them first (stockbrief delete {ticker} --what bars) and ingest its {exchange}"
                " bars",
                file=row[FILE],
                row=row[ROW],
                field="exchange",
            )


def _stored_exchanges(store: StoreLike) -> dict[str, str]:
    """Each stored security's exchange; nothing (and no file created) for a new store."""
    if not isinstance(store, Store) and not store_path(store).exists():
        return {}
    with using_store(store) as db:
        return {
            r["ticker"]: r["exchange"]
            for r in db.securities().iter_rows(named=True)
            if r["exchange"]
        }


def _located(exc: ConflictError, frame: pl.DataFrame) -> ConflictError:
    """The same conflict, naming the file and row the offending value came from."""
    match = frame.filter(*(pl.col(k) == v for k, v in exc.key.items()))
    if match.is_empty():
        return exc
    first = match.row(0, named=True)
    return ConflictError(exc.reason, key=exc.key, file=first[FILE], row=first[ROW], field=exc.field)


DEMO_STORE: Final = "stockbrief-demo.duckdb"
"""The file name of the demo's own store."""


def demo_store_path(path: str | Path | None = None) -> Path:
    """The demo's store: the argument, else ``stockbrief-demo.duckdb`` in the folder of the
    configured store, never that store itself, so that the sample's 2000-2013 bars do not mix
    with data ingested there (and change every universe statistic)."""
    return Path(path) if path is not None else store_path().with_name(DEMO_STORE)


def load_sample(store: StoreLike = None) -> list[IngestReport]:
    """Store the embedded sample (bars and the splits and dividends recovered from it) in a
    store of its own: ``store``, else :func:`demo_store_path`, never the configured store.

    Raises
    ------
    InputError
        When the store holds anything besides the sample (other tickers, or other rows of the
        sample's tickers): the sample would mix with them unnoticed. Nothing is written then.
    """
    sample = SampleSource().load_all()
    names: list[str] = sample.securities["ticker"].to_list()
    target = store if isinstance(store, Store) else demo_store_path(store)
    with using_store(target) as db, db.transaction():
        _check_only_sample(db, sample.securities, names)
        try:
            bars = db.upsert("bars", sample.bars.frame)
            actions = db.upsert("actions", sample.actions.frame)
        except ConflictError as exc:
            raise _mixed(
                db, f"{exc.key.get('ticker')} bars that differ from the sample's"
            ) from None
        db.upsert("securities", sample.securities)
        # Counts after the load equal the sample's only if nothing else of its tickers is kept.
        expected = {
            t: (n, sample.actions.frame.filter(pl.col("ticker") == t).height)
            for t, n in sample.bars.frame["ticker"].value_counts().iter_rows()
        }
        for row in db.summary().iter_rows(named=True):
            bars_n, actions_n = expected.get(row["ticker"], (0, 0))
            extra = [
                _count(n, noun)
                for n, noun in (
                    (row["bars"] - bars_n, "bar"),
                    (row["actions"] - actions_n, "action"),
                )
                if n
            ]
            if extra:
                raise _mixed(db, f"{' and '.join(extra)} of {row['ticker']} besides the sample's")
    return [
        IngestReport(
            "prices", 1, sample.bars.frame.height, sample.bars.frame["ticker"].n_unique(), bars
        ),
        IngestReport(
            "actions",
            1,
            sample.actions.frame.height,
            sample.actions.frame["ticker"].n_unique(),
            actions,
        ),
    ]


def _check_only_sample(db: Store, securities: pl.DataFrame, names: Sequence[str]) -> None:
    """Refuse a store holding other tickers, or rows of the sample's tickers that the sample
    does not bring (their reference data would be overwritten, their history joined)."""
    others = [t for t in db.stored_tickers() if t not in names]
    if others:
        shown = ", ".join(others[:3]) + (
            f" and {len(others) - 3:,} more" if len(others) > 3 else ""
        )
        raise _mixed(db, f"{_count(len(others), 'other ticker')} ({shown})")
    columns = securities.columns
    kept = db.securities().filter(pl.col("ticker").is_in(list(names))).select(columns)
    given = {r[0]: r for r in securities.rows()}
    for row in kept.rows():
        if row != given[row[0]]:
            raise _mixed(db, f"reference data of {row[0]} that differs from the sample's")
    tables: tuple[Table, ...] = ("ratings", "consensus", "news_tickers", "kpis")
    for table in tables:
        rows = db.read(table, list(names))
        if rows.height:
            label = "news links" if table == "news_tickers" else table
            raise _mixed(db, f"{label} of {rows['ticker'][0]}, which the sample does not have")


def _mixed(db: Store, detail: str) -> InputError:
    return InputError(
        f"holds {detail}; the demo sample is kept apart from other data, so nothing was "
        "loaded: give the demo a new file (--store NEW.duckdb)",
        file=db.path,
    )


def notable_day(store: StoreLike = None) -> tuple[str, dt.date]:
    """The sample's most striking session of its last year: the largest one-day move among
    tickers with a full 200-day history, for the demo to write a brief about."""
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        frame = compute.compute(_engine_bars(db, None, None)).frame
    last = frame["date"].max()
    assert isinstance(last, dt.date)
    recent = frame.filter(
        pl.col("date") > last - dt.timedelta(days=365), pl.col("sma_200").is_not_null()
    )
    if recent.is_empty():
        raise NotFoundError("no ticker has a 200-session history yet; ingest more bars")
    row = recent.sort(pl.col("return_1d").abs(), descending=True).row(0, named=True)
    return row["ticker"], row["date"]


PriceStyle = Literal["polars", "yfinance"]
PRICE_STYLES: Final[tuple[str, ...]] = get_args(PriceStyle)
YFINANCE_COLUMNS: Final = ("Open", "High", "Low", "Close", "Volume")


@overload
def prices(
    ticker: str,
    *,
    start: DateLike | None = None,
    end: DateLike | None = None,
    adjusted: bool = False,
    style: Literal["polars"] = "polars",
    store: StoreLike = None,
) -> pl.DataFrame: ...


@overload
def prices(
    ticker: str,
    *,
    start: DateLike | None = None,
    end: DateLike | None = None,
    adjusted: bool = False,
    style: Literal["yfinance"],
    store: StoreLike = None,
) -> Any: ...


def prices(
    ticker: str,
    *,
    start: DateLike | None = None,
    end: DateLike | None = None,
    adjusted: bool = False,
    style: PriceStyle = "polars",
    store: StoreLike = None,
) -> Any:
    """Daily bars of one ticker, as traded or adjusted for the actions up to ``end``.

    ``style="yfinance"`` returns them as ``yfinance.download`` does, for code written against
    it: a pandas frame of ``Open, High, Low, Close, Volume`` on a ``DatetimeIndex`` named
    ``Date``. Otherwise a Polars frame (``ticker, date, open, high, low, close, volume``).
    """
    start, end = calendar.as_date(start, "start"), calendar.as_date(end, "end")
    if style not in PRICE_STYLES:
        raise InputError(
            f"unknown style {style!r}; use one of {', '.join(PRICE_STYLES)}", field="style"
        )
    if style == "yfinance":
        import importlib.util

        if importlib.util.find_spec("pandas") is None:
            raise StockbriefError("style='yfinance' returns a pandas frame: pip install pandas")
    symbol = calendar.normalize_ticker(ticker)
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        frame = db.bars([symbol], start=start, end=end, adjusted=adjusted)
        if frame.is_empty() and symbol not in db.tickers():
            raise NotFoundError(_unknown_ticker(symbol, db.tickers()))
    if style == "yfinance":
        shaped = frame.select(
            pl.col("date").cast(pl.Datetime("ns")).alias("Date"),
            *(pl.col(name.lower()).alias(name) for name in YFINANCE_COLUMNS),
        )
        return shaped.to_pandas().set_index("Date")
    return frame


def info(store: StoreLike = None) -> pl.DataFrame:
    """Per ticker: first and last date, number of bars and actions."""
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        return db.summary()


def doctor(ticker: str | None = None, *, store: StoreLike = None) -> DoctorReport:
    """Suspicious bars, missing sessions and unadjusted splits of one ticker or of the store,
    each with what to run to mend it (see :mod:`stockbrief.diagnosis`)."""
    from stockbrief.diagnosis import diagnose

    with using_store(store, read_only=not isinstance(store, Store)) as db:
        if ticker is None:
            return diagnose(db)
        symbol = calendar.normalize_ticker(ticker)
        if not db.has_ticker(symbol):
            raise NotFoundError(_unknown_ticker(symbol, db.tickers()))
        return diagnose(db, [symbol])


def _check_stored(db: Store, symbols: Sequence[str]) -> None:
    """Refuse the first ticker the store does not hold, suggesting the nearest ones."""
    stored = db.tickers()
    for symbol in symbols:
        if symbol not in stored:
            raise NotFoundError(_unknown_ticker(symbol, stored))


def _unknown_ticker(ticker: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(ticker, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown ticker {ticker!r}: no bars stored{hint}"


FETCH_YEARS: Final = 5
"""Years of daily history `fetch` asks for when no start date is given."""

Provider = Literal["yahoo", "sec"]
PROVIDERS: Final[tuple[str, ...]] = get_args(Provider)


def fetch(
    tickers: Sequence[str],
    *,
    since: DateLike | None = None,
    store: StoreLike = None,
    replace: bool = False,
    session: object | None = None,
    cached: bool = True,
    providers: Sequence[Provider] | None = None,
    plan: Providers | None = None,
) -> list[IngestReport]:
    """Download from the providers (Yahoo Finance, extra ``[yahoo]``; SEC EDGAR; RSS or Atom
    feeds) and store it.

    Bars are stored as traded (Yahoo's split adjustment undone), and their basis recorded as
    such; a bar of a session still trading when the download was made is left out and counted.
    Besides prices, ratings and the day's consensus (a snapshot that cannot be had later), it
    stores each ticker's profile (name, type, exchange, currency, sector, industry: stored
    values win, Yahoo's fill the gaps), its news (a story already stored, by link or by a
    near-identical headline, is left out), its quarterly and annual revenue, operating income,
    net income and diluted EPS (each known from its earnings release, with the year-on-year
    change computed from the stored periods), and, for a ticker without a stored peer group,
    its industry's top companies as peers. ``since`` defaults to :data:`FETCH_YEARS` years ago.

    ``sec`` brings the same KPIs and the shares outstanding of US filers from their filings
    (known from the day after each filing; needs a User-Agent, ``sec_user_agent`` or
    ``STOCKBRIEF_SEC_USER_AGENT``).

    Which provider serves which data, in which order, is ``plan`` (the ``[providers]`` table of
    the settings); a plain ``providers`` list (else ``STOCKBRIEF_PROVIDERS``, e.g.
    ``yahoo,sec``) overrides it, and without either Yahoo serves all. Providers are stored in
    the order of each kind: a KPI or news story one of them stored first stands. The providers'
    downloads are stored in one transaction; feeds, when ``news`` names them, in their own.

    Each ticker's Yahoo download is kept in a folder beside the store (``STORE.cache/yahoo``):
    a refetch the same day reads it instead of Yahoo, unless a session has closed since; the
    SEC's documents likewise (``STORE.cache/sec``, the same UTC day). ``cached=False``
    downloads anew all the same (and keeps that download).
    """
    start = (
        calendar.required_date(since, "since")
        if since is not None
        else calendar.today_anywhere() - dt.timedelta(days=365 * FETCH_YEARS)
    )
    plan = provider_plan(providers, plan)
    from stockbrief.sources.edgar import EdgarSource
    from stockbrief.sources.yahoo import YahooSource

    symbols = [calendar.normalize_ticker(t) for t in tickers]
    where = store.path if isinstance(store, Store) else store_path(store)
    folder = Path(f"{where}.cache")
    downloads: dict[str, Any] = {}
    for provider in plan.downloads:
        if provider == "yahoo":
            downloads[provider] = YahooSource(
                symbols,
                start,
                session,
                cache=folder / "yahoo",
                reuse=cached,
                pause_seconds=plan.yahoo_pause_seconds,
            ).load_all()
        else:
            source = EdgarSource(
                symbols,
                plan.sec_user_agent,
                cache=folder / "sec",
                reuse=cached,
                requests_per_second=plan.sec_requests_per_second,
            )
            downloads[provider] = source.load().frame
    feeds_first = "feeds" in plan.news and plan.news[0] == "feeds"
    reports: list[IngestReport] = []
    profiles = downloads["yahoo"].securities if "yahoo" in downloads else None
    read_feeds = functools.partial(
        _ingest_feeds,
        plan.feeds,
        store=store,
        ticker=None,
        replace=replace,
        fetching=symbols,
        profiles=profiles,
    )
    if feeds_first:
        reports.append(read_feeds())
    with using_store(store) as db, db.transaction():
        if "yahoo" in downloads:
            reports += _store_yahoo(db, downloads["yahoo"], replace, plan)
        for name in plan.kpis:
            if name == "yahoo":
                reports.append(_store_kpis(db, downloads[name].kpis, name, replace))
            else:
                reports.append(_store_kpis(db, downloads[name], name, replace))
    if "feeds" in plan.news and not feeds_first:
        reports.append(read_feeds())
    return reports


def provider_plan(providers: Sequence[str] | None, plan: Providers | None) -> Providers:
    """The plan to fetch by: a plain list first, then ``STOCKBRIEF_PROVIDERS``, then ``plan``,
    else Yahoo for everything."""
    if providers is None and os.environ.get("STOCKBRIEF_PROVIDERS"):
        configured = os.environ["STOCKBRIEF_PROVIDERS"]
        providers = [p.strip() for p in configured.split(",") if p.strip()]
    if providers is None:
        return plan if plan is not None else Providers()
    wanted = list(dict.fromkeys(providers))
    unknown = [p for p in wanted if p not in PROVIDERS]
    if unknown or not wanted:
        raise InputError(
            f"unknown provider {unknown[0] if unknown else ''!r}; use {', '.join(PROVIDERS)}",
            field="provider",
        )
    chosen = Providers.of(wanted)
    if plan is None:
        return chosen
    return dataclasses.replace(
        plan, prices=chosen.prices, kpis=chosen.kpis, news=chosen.news, feeds=()
    )


def _store_yahoo(db: Store, data: Any, replace: bool, plan: Providers) -> list[IngestReport]:
    """A Yahoo download (its KPIs apart) into the open transaction; one report per table."""
    frames: dict[Table, pl.DataFrame] = {}
    if "yahoo" in plan.prices:
        frames["bars"], frames["actions"] = data.bars, data.actions
    frames["ratings"], frames["consensus"] = data.ratings, data.consensus
    reports = []
    duplicates = 0
    try:
        if "yahoo" in plan.prices:
            db.record_price_basis(data.bars["ticker"].unique().to_list(), data.basis)
        frames["securities"] = _fetched_securities(db.securities(), data)
        if "yahoo" in plan.news:
            news, duplicates = _provider_news(db, data.news)
            frames.update(news)
        skipped = duplicates + data.skipped_news
        left_out = {
            "bars": (data.partial_bars, "bars of a session still trading left out"),
            "news": (
                skipped,
                f"news item{'' if skipped == 1 else 's'} left out"
                " (stories already stored, or without a headline or time)",
            ),
        }
        for table, frame in frames.items():
            result = db.upsert(table, frame, replace=replace)
            if table == "news_tickers":
                continue
            named = frames["news_tickers"] if table == "news" else frame
            count = named["ticker"].n_unique() if named.height else 0
            filtered, reason = left_out.get(table, (0, ""))
            reports.append(
                IngestReport(f"yahoo {table}", 1, frame.height, count, result, filtered, reason)
            )
    except ConflictError as exc:
        raise _located(exc, frames.get("bars", data.bars)) from None
    return reports


def _store_kpis(db: Store, fetched: pl.DataFrame, provider: str, replace: bool) -> IngestReport:
    """A provider's KPIs into the open transaction; a figure another provider stored first
    stands."""
    key = list(TABLES["kpis"][1])
    stored = db.read("kpis", fetched["ticker"].unique().to_list())
    others = stored.filter(pl.col("source") != provider).select(key)
    fresh = fetched.join(others, on=key, how="anti")
    rows = _fetched_kpis(db, fresh)
    try:
        result = db.upsert("kpis", rows, replace=replace)
    except ConflictError as exc:
        raise _located(exc, rows) from None
    count = rows["ticker"].n_unique() if rows.height else 0
    dropped = fetched.height - fresh.height
    return IngestReport(
        f"{provider} kpis",
        1,
        rows.height,
        count,
        result,
        dropped,
        f"figure{'' if dropped == 1 else 's'} another provider stored first left out",
    )


def _fetched_securities(stored: pl.DataFrame, data: Any) -> pl.DataFrame:
    """Fetched profiles merged into the stored rows: a stored value wins, Yahoo fills gaps.

    A ticker without a stored peer group gets its Yahoo industry as one, and the industry's
    top companies that are not stored yet are added with their names in the same group.
    """
    columns = [c for c in stored.columns if c in data.securities.columns]
    fetched = data.securities.select(columns)
    peers = data.industry_peers
    grouped = stored.filter(pl.col("peer_group").is_not_null())["ticker"].to_list()
    needing = peers.filter(~pl.col("ticker").is_in(grouped))
    group = needing.select(
        "ticker", pl.concat_str(pl.lit("yahoo:"), pl.col("industry")).alias("__group")
    ).unique("ticker")
    fetched = (
        fetched.join(group, on="ticker", how="left")
        .with_columns(pl.coalesce("peer_group", "__group").alias("peer_group"))
        .drop("__group")
    )
    members = (
        needing.join(group, on="ticker")
        .filter(~pl.col("peer").is_in(stored["ticker"].implode()))
        .filter(~pl.col("peer").is_in(fetched["ticker"].implode()))
        .unique("peer", maintain_order=True)
        .select(pl.col("peer").alias("ticker"), "name", pl.col("__group").alias("peer_group"))
    )
    incoming = pl.concat([fetched, members], how="diagonal_relaxed").select(
        pl.col(c).cast(stored.schema[c]) for c in columns
    )
    merged = incoming.join(stored, on="ticker", how="left", suffix="__stored").select(
        "ticker",
        *(pl.coalesce(f"{c}__stored", c).alias(c) for c in columns if c != "ticker"),
    )
    out: pl.DataFrame = merged.select(columns)
    return out


def _provider_news(db: Store, incoming: pl.DataFrame) -> tuple[dict[Table, pl.DataFrame], int]:
    """A provider's news as rows and links to store: links made canonical, ids derived as
    for files, stories already stored (or repeated) left out, headlines scored."""
    from stockbrief.sources.feeds import DUPLICATE_DAYS, canonical_url, drop_duplicates

    frame = incoming.with_columns(pl.col("url").map_elements(canonical_url, return_dtype=pl.String))
    if frame.is_empty():
        news, links = frame.drop("tickers"), pl.DataFrame(schema=dict(TABLES["news_tickers"][0]))
        return {"news": news, "news_tickers": links}, 0
    news, links = split_news(Parsed(frame))
    window = dt.timedelta(days=DUPLICATE_DAYS)
    first, last = news["published_at"].min(), news["published_at"].max()
    assert isinstance(first, dt.datetime)
    assert isinstance(last, dt.datetime)
    stored = db.news_between(first - window, last + window)
    kept, dropped = drop_duplicates(news, stored)
    links = links.filter(pl.col("id").is_in(kept["id"].implode()))
    return {"news": _scored(kept), "news_tickers": links}, dropped


def _scored(news: pl.DataFrame) -> pl.DataFrame:
    """News with each missing sentiment scored from its headline."""
    return news.with_columns(
        pl.coalesce(
            pl.col("sentiment"),
            pl.col("headline").map_elements(peers.sentiment, return_dtype=pl.Float64),
        ).alias("sentiment")
    )


def _fetched_kpis(db: Store, fetched: pl.DataFrame) -> pl.DataFrame:
    """Fetched KPIs with ``yoy`` computed over the stored and fetched periods together.

    A period already stored keeps the earlier of the two ``known_at``: a refetch must not
    make a figure look newer than when it was first seen.
    """
    from stockbrief.sources.yahoo_payload import year_on_year

    if fetched.is_empty():
        return fetched
    stored = db.read("kpis", fetched["ticker"].unique().to_list()).filter(
        pl.col("name").is_in(fetched["name"].unique().implode())
    )
    key = list(TABLES["kpis"][1])
    rows = (
        fetched.join(
            stored.select(*key, pl.col("known_at").alias("__stored_at")), on=key, how="left"
        )
        .with_columns(pl.min_horizontal("known_at", "__stored_at").alias("known_at"))
        .drop("__stored_at")
    )
    others = stored.join(rows, on=key, how="anti")
    both = pl.concat(
        [
            rows.with_columns(pl.lit(True).alias("__new")),
            others.with_columns(pl.lit(False).alias("__new")),
        ],
        how="diagonal_relaxed",
    )
    return year_on_year(both).filter(pl.col("__new")).drop("__new")


# -- mending ---------------------------------------------------------------------------------

DeleteWhat = Literal["bars", "actions", "ratings", "consensus", "news", "kpis", "all"]
DELETE_WHAT: Final[tuple[str, ...]] = get_args(DeleteWhat)
_DELETE_NOUNS: Final = {
    "bars": "bar",
    "actions": "action",
    "ratings": "rating",
    "consensus": "consensus row",
    "news_tickers": "news link",
    "news": "news item",
    "kpis": "KPI",
}


@dataclass(frozen=True)
class DeleteReport:
    """What a delete removed, or would remove as a dry run: per table the rows and their
    first and last date (``news_tickers`` are the ticker's links, ``news`` the items left with
    no ticker)."""

    ticker: str
    start: dt.date | None
    end: dt.date | None
    removed: dict[str, tuple[int, dt.date | None, dt.date | None]]
    dry_run: bool = False

    @property
    def rows(self) -> int:
        """Rows deleted (or that would be) in all tables."""
        return sum(n for n, _, _ in self.removed.values())

    def summary(self) -> str:
        """Lines for a person: the counts per table with their dates, and what follows."""
        span = (
            f"from {self.start} to {self.end}"
            if self.start and self.end
            else f"from {self.start} on"
            if self.start
            else f"up to {self.end}"
            if self.end
            else "at any date"
        )
        if not self.rows:
            asked = ", ".join(_DELETE_NOUNS[t] + "s" for t in self.removed if t != "news")
            return f"nothing to delete: {self.ticker} has no {asked} {span}"
        verb = "would delete" if self.dry_run else "deleted"
        lines = [f"{verb} from {self.ticker} ({span}):"]
        for table, (n, first, last) in self.removed.items():
            if n:
                dates = str(first) if first == last else f"{first} to {last}"
                left = " (left with no ticker)" if table == "news" else ""
                lines.append(f"  {_count(n, _DELETE_NOUNS[table])}{left}, {dates}")
        if any(self.removed.get(t, (0,))[0] for t in ("bars", "actions")):
            verb = "would be" if self.dry_run else "are"
            lines.append(
                f"{self.ticker}'s events and engine state {verb} dropped: the next "
                "`stockbrief compute` recomputes them from the bars left"
            )
        if self.dry_run:
            lines.append("nothing was changed (dry run)")
        return "\n".join(lines)


def delete(
    ticker: str,
    *,
    what: DeleteWhat = "all",
    start: DateLike | None = None,
    end: DateLike | None = None,
    dry_run: bool = False,
    store: StoreLike = None,
) -> DeleteReport:
    """Delete one ticker's rows dated from ``start`` to ``end`` (inclusive), in one transaction.

    Mends a store that took bad rows, without rebuilding it. The events and engine state
    derived from the ticker's bars and actions go with them, so the next ``compute``
    recomputes it and stores what a full compute would.

    Parameters
    ----------
    what
        ``bars``, ``actions``, ``ratings``, ``consensus``, ``news`` (the ticker's links, and
        the items left with no ticker), ``kpis`` (by ``period_end``) or ``all`` of them.
        Reference data (``ingest securities``) is kept.
    dry_run
        Count what would go and change nothing.

    Raises
    ------
    NotFoundError
        When nothing at all is stored for the ticker (with the closest stored tickers).
    InputError
        For an unknown ``what``, ``start`` after ``end``, or bars whose deletion would leave a
        stored dividend at or above the close before it (adjusted prices would turn negative).
    """
    start, end = calendar.as_date(start, "start"), calendar.as_date(end, "end")
    if what not in DELETE_WHAT:
        raise InputError(
            f"unknown kind {what!r}; use one of {', '.join(DELETE_WHAT)}", field="--what"
        )
    if start is not None and end is not None and start > end:
        raise InputError(f"--from {start} is after --to {end}: no date lies between them")
    symbol = calendar.normalize_ticker(ticker)
    if not isinstance(store, Store) and not store_path(store).exists():
        raise NotFoundError(f"{store_path(store)}: no store here, so nothing to delete")
    tables = DELETE_WHAT[:-1] if what == "all" else (what,)
    with using_store(store, read_only=dry_run and not isinstance(store, Store)) as db:
        known = db.stored_tickers()
        if symbol not in known:
            import difflib

            close = difflib.get_close_matches(symbol, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise NotFoundError(f"unknown ticker {symbol!r}: nothing stored for it{hint}")
        with db.transaction():
            removed = db.delete(symbol, tables, start=start, end=end, dry_run=dry_run)
            if not dry_run and removed.get("bars", (0,))[0]:
                _check_kept_dividends(db, symbol)
    return DeleteReport(symbol, start, end, removed, dry_run)


def _check_kept_dividends(db: Store, symbol: str) -> None:
    """Refuse a delete of bars that leaves a stored dividend at or above the close now before
    it: the store's adjustment would turn every earlier price negative."""
    dividends = db.actions([symbol]).filter(pl.col("kind") == "dividend")
    if dividends.is_empty():
        return
    rows = dividends.with_columns(
        pl.lit(f"stored actions of {symbol}").alias(FILE),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
    )
    try:
        check_dividends(rows, db)
    except InputError as exc:
        raise InputError(
            f"{symbol}: after this delete, {exc.reason.split(';')[0]}; delete that dividend"
            " too (--what actions) or fewer bars; nothing was deleted"
        ) from None


# -- compute ---------------------------------------------------------------------------------


def _engine_bars(db: Store, tickers: Sequence[str] | None, as_of: dt.date | None) -> pl.DataFrame:
    """Bars the engine reads: adjusted for splits known on ``as_of``, as price levels are quoted."""
    return db.bars(tickers, end=as_of, adjusted=True, dividends=False)


def _required_bars(db: Store, symbol: str, as_of: dt.date | None) -> pl.DataFrame:
    """The engine's bars of one ticker, or an error saying why there are none."""
    bars = _engine_bars(db, [symbol], as_of)
    if bars.is_empty():
        if symbol not in db.tickers():
            raise NotFoundError(_unknown_ticker(symbol, db.tickers()))
        raise NotFoundError(f"{symbol} has no bars on or before {as_of}")
    return bars


def indicators(
    ticker: str, *, as_of: DateLike | None = None, store: StoreLike = None
) -> pl.DataFrame:
    """Bars of one ticker with every indicator, up to ``as_of`` (default: the last stored day).

    Notes
    -----
    Prices are adjusted for the splits known on ``as_of`` and for nothing later, so the result
    for a date never changes when later data are stored.
    """
    as_of = calendar.as_date(as_of, "as_of")
    symbol = calendar.normalize_ticker(ticker)
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        bars = _required_bars(db, symbol, as_of)
    return compute.compute(bars).frame


def events(
    tickers: Sequence[str] | None = None,
    *,
    as_of: DateLike | None = None,
    since: DateLike | None = None,
    store: StoreLike = None,
) -> pl.DataFrame:
    """Events of the given tickers (all when None) from ``since`` to ``as_of``, with the
    numbers behind each in ``detail``.

    The universe's events are read from the store when ``stockbrief compute`` is current and no
    split stored after ``as_of`` changes their price levels; otherwise, and for named tickers,
    they are computed from the bars known on ``as_of``, a batch of tickers at a time.
    """
    as_of, since = calendar.as_date(as_of, "as_of"), calendar.as_date(since, "since")
    symbols = None if tickers is None else [calendar.normalize_ticker(t) for t in tickers]
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        if symbols is not None:
            unknown = [s for s in symbols if not db.has_ticker(s)]
            if unknown:
                raise NotFoundError(_unknown_ticker(unknown[0], db.tickers()))
        if symbols is None and _events_current(db) and not db.has_splits_after(as_of):
            found = db.events(start=since, end=as_of)
        else:
            parts = [
                compute.compute(_engine_bars(db, batch, as_of)).events
                for batch in _batches(symbols or db.tickers())
            ]
            found = pl.concat(parts) if parts else compute.empty_events()
        ratings = db.read("ratings", symbols, until=as_of)
        found = _with_analyst_events(found, ratings)
        if since is not None:
            found = found.filter(pl.col("date") >= since)
        return ev.with_detail(found, db.event_params())


def _with_analyst_events(found: pl.DataFrame, ratings: pl.DataFrame) -> pl.DataFrame:
    """Events from bars plus the consensus changes the stored ratings imply."""
    if ratings.is_empty():
        return found
    analyst = consensus.changes(consensus.history(ratings, ratings["ticker"].unique()))
    # Stored events may come as their keys alone (``keys_only``); the changes follow suit.
    return pl.concat([found, analyst.select(found.columns)]).sort("ticker", "date", "kind")


def _close_on(db: Store, ticker: str, as_of: dt.date | None) -> tuple[dt.date, float]:
    bars = db.bars([ticker], end=as_of)
    if bars.is_empty():
        if ticker not in db.tickers():
            raise NotFoundError(_unknown_ticker(ticker, db.tickers()))
        raise NotFoundError(f"{ticker} has no bars on or before {as_of}")
    last = bars.row(bars.height - 1, named=True)
    return last["date"], last["close"]


def analyst_view(
    ticker: str,
    *,
    as_of: DateLike | None = None,
    scheme: consensus.SchemeName = "marketbeat",
    store: StoreLike = None,
) -> consensus.Consensus | None:
    """The analysts' consensus on ``as_of`` with the upside from that day's close."""
    as_of = calendar.as_date(as_of, "as_of")
    symbol = calendar.normalize_ticker(ticker)
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        day, close = _close_on(db, symbol, as_of)
        when = as_of or day
        ratings = db.read("ratings", [symbol], until=when)
        summaries = db.read("consensus", [symbol], until=when)
    return consensus.consensus(ratings, summaries, symbol, when, close=close, scheme=scheme)


def news(
    ticker: str, *, as_of: DateLike | None = None, days: int = 7, store: StoreLike = None
) -> pl.DataFrame:
    """News about a ticker and its peers in the ``days`` up to ``as_of``, newest first."""
    as_of = calendar.as_date(as_of, "as_of")
    symbol = calendar.normalize_ticker(ticker)
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        end = as_of or _close_on(db, symbol, None)[0]
        return peers.related_news(
            db.read("news", until=end),
            db.read("news_tickers"),
            db.securities(),
            symbol,
            start=end - dt.timedelta(days=days - 1),
            end=end,
        )


def kpis(ticker: str, *, as_of: DateLike | None = None, store: StoreLike = None) -> pl.DataFrame:
    """Company metrics of a ticker for periods ended on or before ``as_of``."""
    as_of = calendar.as_date(as_of, "as_of")
    symbol = calendar.normalize_ticker(ticker)
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        return db.read("kpis", [symbol], until=as_of)


@dataclass(frozen=True)
class RefreshReport:
    """What a compute or update of the store did."""

    mode: Literal["full", "incremental"]
    tickers: int
    rows: int
    events: int
    recomputed: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for a person."""
        text = (
            f"{self.mode} compute: {self.rows:,} new rows for {self.tickers:,} tickers, "
            f"{self.events:,} events"
        )
        if self.recomputed:
            text += f"; recomputed from scratch (history changed): {', '.join(self.recomputed)}"
        return text


STATE_FRAMES = ("history", "kernels", "recent")

ENGINE_BATCH: Final = 500
"""Tickers a universe job computes at once: memory follows the batch, not the universe."""


ENGINE_BATCH_BARS: Final = 450_000
"""Bars the engine computes at once: its memory follows the batch, not the universe, however
long the tickers' histories are (46 columns and 30 event kinds: about 1.3 GB at the peak for
5,000 x 2,520, against 1.5-1.7 GB with 650,000, in the same time)."""


def _batches(tickers: Sequence[str], size: int = ENGINE_BATCH) -> Iterator[list[str]]:
    for start in range(0, len(tickers), size):
        yield list(tickers[start : start + size])


def _bar_batches(fingerprint: pl.DataFrame) -> Iterator[list[str]]:
    """Tickers in batches of at most :data:`ENGINE_BATCH_BARS` bars (a ticker longer than
    that goes alone) and at most :data:`ENGINE_BATCH` tickers."""
    batch: list[str] = []
    bars = 0
    for ticker, count in fingerprint.select("ticker", "bars").iter_rows():
        if batch and (bars + count > ENGINE_BATCH_BARS or len(batch) >= ENGINE_BATCH):
            yield batch
            batch, bars = [], 0
        batch.append(ticker)
        bars += count
    if batch:
        yield batch


def refresh(
    store: StoreLike = None,
    *,
    full: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RefreshReport:
    """Bring indicators and stored events up to date with the stored bars.

    The first run, or ``full=True``, computes everything, streaming the universe through the
    engine in batches of :data:`ENGINE_BATCH` tickers; later runs extend the saved engine state
    by the sessions stored since, and recompute from scratch only the tickers whose history
    changed underneath (backfilled or replaced bars, new splits). What changed is read from the
    per-ticker counts and checksums every write keeps, never from a scan of the bars.
    ``progress`` is called with (tickers done, tickers in all) after each batch of a full run.
    """
    with using_store(store) as db:
        meta = db.engine_meta()
        saved_with = db.engine_indicators()
        if (
            full
            or meta.is_empty()
            or not db.has_engine_state(STATE_FRAMES)
            or (saved_with is not None and saved_with != compute.indicator_names())
        ):
            return _full_refresh(db, progress)
        now = db.new_sessions()
        changed = meta.join(now.drop("new_bars"), on=list(meta.columns), how="anti")
        stored = db.tickers()
        gone = set(changed["ticker"].to_list()) | (set(meta["ticker"].to_list()) - set(stored))
        known = [t for t in meta["ticker"].to_list() if t not in gone]
        fresh = sorted(set(stored) - set(known))
        waiting = now.filter(pl.col("ticker").is_in(known))["new_bars"].sum()
        if not fresh and not waiting and len(known) == meta.height:
            return RefreshReport("incremental", 0, 0, 0)
        frames, _ = db.load_engine_state(STATE_FRAMES)
        state = compute.EngineState.from_frames(frames)
        if not set(compute.output_columns()) <= set(state.recent.values) or not state.resumable:
            # saved by a version with other indicators, or whose detectors looked back less
            return _full_refresh(db, progress)
        if len(known) < len(state.tickers):
            state = state.subset(known)
        new_bars = pl.concat(
            [
                db.bars_after(meta.filter(pl.col("ticker").is_in(known))),
                _engine_bars(db, fresh, None) if fresh else db.bars([]),
            ]
        )
        result = compute.update(state, new_bars)
        with db.transaction():
            db.replace_events(
                result.events.filter(pl.col("ticker").is_in(fresh)), fresh, params=ev.params_frame()
            )
            db.add_events(result.events.filter(~pl.col("ticker").is_in(fresh)))
            db.save_engine_state(result.state.to_frames(), db.fingerprint())
    return RefreshReport(
        "incremental",
        new_bars["ticker"].n_unique(),
        result.rows,
        result.events.height,
        tuple(t for t in changed["ticker"].to_list() if t in stored),
    )


def _full_refresh(db: Store, progress: Callable[[int, int], None] | None) -> RefreshReport:
    """Recompute every ticker, a batch at a time, and replace events and state in one
    transaction (a run that fails leaves the store as it was)."""
    fingerprint = db.fingerprint()
    tickers = fingerprint["ticker"].to_list()
    states: list[compute.EngineState] = []
    rows = found = done = 0
    latest = fingerprint["last_date"].max()
    tally = evidence.Tally(STUDY_HORIZON, until=latest if isinstance(latest, dt.date) else None)
    with db.bounded_memory(), db.transaction():
        db.replace_events(compute.empty_events(), params=ev.params_frame())
        for batch in _bar_batches(fingerprint):
            result = compute.compute(_engine_bars(db, batch, None))
            db.add_events(result.events)
            setups = result.events.filter(pl.col("kind").is_in(SETUP_PRIORITY))
            tally.add(
                _total_return_closes(db, batch, None), setups.select("ticker", "date", "kind")
            )
            states.append(result.state)
            rows += result.rows
            found += result.events.height
            done += len(batch)
            if progress:
                progress(done, len(tickers))
        db.save_engine_state(compute.EngineState.concat(states).to_frames(), db.fingerprint())
        if isinstance(latest, dt.date):
            db.save_universe_evidence(latest, _tally_rows(tally).drop("setup"))
    return RefreshReport("full", len(tickers), rows, found)


# -- briefs ----------------------------------------------------------------------------------

NEWS_DAYS: Final = 3
"""Days of news, up to the as-of session, a brief mentions."""


def brief(
    ticker: str,
    *,
    as_of: DateLike | None = None,
    lang: Lang = "en",
    store: StoreLike = None,
) -> Brief:
    """The market note for one ticker on one session, with every fact's source.

    Nothing dated after ``as_of`` is read: bars, splits, ratings, news and KPIs are all cut at
    that date, so the brief is the same whether or not later data are stored.
    """
    as_of = calendar.as_date(as_of, "as_of")
    if lang not in narrative.LANGS:
        raise InputError(
            f"unknown language {lang!r}; use one of {', '.join(narrative.LANGS)}", field="lang"
        )
    symbol = calendar.normalize_ticker(ticker)
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        return _brief(db, symbol, as_of, lang)


MARKET_BENCHMARK: Final = "SPY"
"""The stored ticker a US-quoted brief compares its day with, when it is stored."""


def _market_move(
    db: Store, symbol: str, currency: str, day: dt.date
) -> tuple[str, dt.date, float] | None:
    """The benchmark's close-to-close move on ``day`` (its ticker, previous session, return),
    for a security quoted in dollars; None when it is the benchmark, is quoted elsewhere, or
    the benchmark has no bar that day. One ticker's last sessions are read, nothing later."""
    bench = MARKET_BENCHMARK
    if symbol == bench or currency != "USD" or bench not in db.tickers():
        return None
    bars = db.bars([bench], start=day - dt.timedelta(days=14), end=day, adjusted=True)
    if bars.height < 2 or bars["date"][-1] != day:
        return None
    return bench, bars["date"][-2], float(bars["close"][-1] / bars["close"][-2] - 1)


def _brief(
    db: Store,
    symbol: str,
    as_of: dt.date | None,
    lang: Lang,
    universe: pl.DataFrame | None = None,
    calibrated: Any = None,
) -> Brief:
    """:func:`brief` on an open store; ``universe`` holds the universe's evidence of the day
    (:func:`universe_evidence`) and ``calibrated`` its :func:`_calibration`, when many briefs of
    one session are written."""
    result = compute.compute(_required_bars(db, symbol, as_of))
    day: dt.date = result.frame["date"][-1]
    securities = db.securities()
    info = securities.filter(pl.col("ticker") == symbol)
    name = (info["name"][0] if info.height and info["name"][0] else None) or symbol
    stored_currency = info["currency"][0] if info.height else None
    stored_type = info["type"][0] if info.height and "type" in info.columns else None
    currency = stored_currency or calendar.currency_for(symbol)
    ratings = db.read("ratings", [symbol], until=day)
    summaries = db.read("consensus", [symbol], until=day)
    close = result.frame["close"][-1]
    view = consensus.consensus(ratings, summaries, symbol, day, close=close)
    related = peers.related_news(
        db.read("news", until=day),
        db.read("news_tickers"),
        securities,
        symbol,
        start=day - dt.timedelta(days=NEWS_DAYS - 1),
        end=day,
    )
    group = peers.peers_of(securities, symbol)
    peer_bars = _engine_bars(db, group, day) if group else db.bars([])
    company = db.read("kpis", [symbol], until=day)
    today = result.events.filter(pl.col("date") == day)["kind"].to_list()
    proof = _setup_evidence(db, symbol, day, today, result.events, universe, calibrated)
    peer_returns = (
        peer_bars.with_columns(
            (pl.col("close") / pl.col("close").shift(1).over("ticker") - 1).alias("return_1d")
        )
        .filter((pl.col("date") == day) & pl.col("return_1d").is_not_null())
        .select("ticker", "date", "return_1d")
    )
    wind = peers.tailwind(related, peer_returns, day) if peer_returns.height else None
    events = ev.with_detail(_with_analyst_events(result.events, ratings), db.event_params())
    sheet = facts.gather(
        symbol,
        name,
        currency,
        result.frame,
        events,
        view=view,
        news=related,
        peer_returns=peer_returns,
        wind=wind,
        kpis=company,
        instrument=stored_type,
        market=_market_move(db, symbol, currency, day),
    )
    basis = db.price_basis([symbol]).get(symbol, "traded")
    _with_basis(sheet, basis)
    sessions = result.frame["date"].tail(2).to_list()
    facts.add_suspect(sheet, _suspect_bars(db, symbol, day, securities, basis), sessions)
    facts.add_market_cap(sheet, company, db.read("actions", [symbol], until=day), close)
    window = day - dt.timedelta(days=BREADTH_WINDOW_DAYS)
    facts.add_breadth(sheet, db.breadth(day), window)
    judgement = verdict.judge(sheet, proof)
    mine = user_thesis.Thesis.of(db.thesis(symbol, day))
    headline, sections = narrative.compose(sheet, events, judgement, lang, mine)
    return document.Brief(
        symbol, day, lang, headline, sheet, events, judgement, sections, result.frame, mine
    )


def _suspect_bars(
    db: Store, symbol: str, day: dt.date, securities: pl.DataFrame, basis: PriceBasis
) -> pl.DataFrame:
    """What ``stockbrief doctor`` finds in the ticker's bars as stored up to the day (never
    later ones: the brief of a day does not change when the next bar arrives)."""
    from stockbrief.sources.plausibility import index_tickers, scan

    return scan(
        db.bars([symbol], end=day),
        splits=db.actions([symbol], as_of=day),
        indexes=index_tickers(securities),
        adjusted=[symbol] if basis == "adjusted" else [],
    )


ADJUSTED_WORDS: Final = "adjusted by the provider for splits and dividends"
"""How ``check`` names the ``adjusted`` price basis."""


def _with_basis(sheet: facts.FactSheet, basis: PriceBasis) -> None:
    """Name the price basis in the source of every fact read from the ticker's bars, and as a
    fact of its own, so a reader (and ``check``) knows whether a level is as traded."""
    mine = (sheet.ticker,)
    for name, fact in sheet.facts.items():
        if fact.source.table == "bars" and fact.source.tickers == mine:
            source = dataclasses.replace(fact.source, basis=basis)
            formula = fact.formula
            if basis == "adjusted":
                formula = formula.replace(facts.PRICE_NOTE, f"prices {ADJUSTED_WORDS}")
            sheet.facts[name] = dataclasses.replace(fact, source=source, formula=formula)
    sheet.add(
        "price_basis",
        basis,
        "text",
        facts.Source("price_basis", mine, None, None, basis),
        "traded: prices as traded, adjusted on read for the splits known on the day;"
        " adjusted: prices adjusted by their provider for splits and dividends",
    )


def _known_facts(note: Brief) -> dict[str, tuple[Any, str]]:
    """The brief's facts as claims.py reads them: value and a one-line source."""
    known: dict[str, tuple[Any, str]] = {}
    for name, fact in note.sheet.facts.items():
        src = fact.source
        basis = f", {ADJUSTED_WORDS}" if src.basis == "adjusted" else ""
        where = f"{src.table} {','.join(src.tickers)} {src.start}..{src.end}{basis}: {fact.formula}"
        if fact.unit == "list":
            for item in fact.value:
                if name == "top_targets":
                    known[f"target:{item['firm']}"] = (
                        item["target"],
                        f"ratings {item['firm']} {item['date']}: latest target",
                    )
                if name == "kpis":
                    label = f"{item['name']} ({item['period_end']}, {item['source']})"
                    known[f"kpi:{item['name']}"] = (item["value"], f"kpis {label}")
                    if item["yoy"] is not None:
                        known[f"kpi_yoy:{item['name']}"] = (item["yoy"], f"kpis {label}")
        elif isinstance(fact.value, int | float) and not isinstance(fact.value, bool):
            known[name] = (fact.value, where)
    return known


def check(
    text: str,
    ticker: str,
    *,
    as_of: DateLike | None = None,
    store: StoreLike = None,
    lang: claims.LangOption = "auto",
) -> list[claims.Claim]:
    """Each numeric claim of a market note, judged against the data of ``ticker`` on ``as_of``.

    Claims about another stored ticker (a peer named in passing) are judged against its bars
    of the same session; ``lang`` is ``en``, ``de`` or ``auto`` (told from the text).
    """
    as_of = calendar.as_date(as_of, "as_of")
    if lang not in ("en", "de", "auto"):
        raise InputError(f"unknown language {lang!r}; use en, de or auto", field="lang")
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        note = brief(ticker, as_of=as_of, store=db)
        firms = [item["firm"] for item in note.sheet.value("top_targets") or []]
        known = _known_facts(note)
        day = note.sheet.as_of
        bases = db.price_basis()
        market = claims.Market(
            note.sheet.ticker,
            day,
            lambda t: claims.Bars(t, _engine_bars(db, [t], day)) if t in bases else None,
            lambda t: bases.get(t, "traded"),
            lambda t: note.sheet.currency if t == note.sheet.ticker else calendar.currency_for(t),
            ADJUSTED_WORDS,
        )
        names = claims.aliases(db.securities().select("ticker", "name").rows(), bases)
        found = claims.extract(text, known, firms, market=market, names=names, lang=lang)
    if note.sheet.value("price_basis") != "adjusted":
        return found
    # A note quotes prices as traded that day; an adjusted close differs by every later
    # dividend and split, so a verdict on a price says which close it was compared with.
    priced = {
        known[name][1]
        for name, fact in note.sheet.facts.items()
        if name in known
        and ((fact.unit == "currency" and fact.source.table == "bars") or name == "upside")
    }
    return [
        dataclasses.replace(
            c,
            note="; ".join(
                filter(None, [c.note, f"compared with prices {ADJUSTED_WORDS}, not as traded"])
            ),
        )
        if c.value is not None
        and (
            claims.kind_of(c.kind).priced
            or (c.source in priced and claims.kind_of(c.kind).value != "word")
        )
        else c
        for c in found
    ]


# -- evidence --------------------------------------------------------------------------------

STUDY_HORIZON: Final = 20
"""Sessions ahead a brief's evidence sentence speaks of."""
SETUP_PRIORITY: Final = (
    "large_move_up",
    "large_move_down",
    "cross_above_sma_200",
    "cross_below_sma_200",
    "breakout_confirmed_sma_200",
    "breakout_failed_sma_200",
    "golden_cross",
    "death_cross",
    "cross_above_sma_50",
    "cross_below_sma_50",
    "breakout_confirmed_sma_50",
    "breakout_failed_sma_50",
    "donchian_breakout_up",
    "donchian_breakout_down",
    "adx_trend_start",
    "obv_divergence_bull",
    "obv_divergence_bear",
    "volume_surge",
    "new_52w_high",
    "new_52w_low",
    "sar_flip_up",
    "sar_flip_down",
    "stoch_oversold_cross",
    "stoch_overbought_cross",
    "gap_up",
    "gap_down",
)
"""Which of a day's events a brief studies first: a move beyond 2.5 standard deviations (the
rarest, most informative setup of a day), then trend changes (average crossings, channel
breakouts, a trend's start, divergences), then the other one-day signals."""


def _total_return_closes(
    db: Store, tickers: Sequence[str] | None, until: dt.date | None
) -> pl.DataFrame:
    """Closes adjusted for splits and dividends known on ``until``: what a holder earned."""
    return db.bars(tickers, end=until, adjusted=True, dividends=True).select(
        "ticker", "date", "close"
    )


def study(
    event: str,
    *,
    tickers: Sequence[str] | None = None,
    horizons: Sequence[int] = (5, 20, 60),
    until: DateLike | None = None,
    benchmark: str | None = "auto",
    where: str | None = None,
    resamples: int = 1000,
    store: StoreLike = None,
) -> evidence.StudyResult:
    """What followed every past occurrence of an event: forward returns, hit rates, base rates.

    Parameters
    ----------
    event
        An event kind (``stockbrief events`` lists them), e.g. ``cross_above_sma_200``.
    tickers
        The tickers to study (default: every stored ticker, the universe).
    until
        Only occurrences whose horizon completed by this date count (no look-ahead).
    benchmark
        A stored ticker to measure relative and abnormal returns against (skipped when not
        stored); ``"auto"``: for each ticker the stored index of its exchange (e.g. ^HSI for
        Hong Kong listings, ^GSPC for New York), else SPY; None: no benchmark. The result's
        ``benchmarks`` names the one used.
    where
        A screen expression the occurrence must also satisfy, e.g. ``rel_volume >= 2``; it
        may also name :data:`LEVEL_CONDITIONS`, e.g. ``closed_above_resistance > 0``.
    """
    until = calendar.as_date(until, "until")
    if event not in ev.MEANINGS:
        import difflib

        close = difflib.get_close_matches(event, list(ev.MEANINGS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"unknown event {event!r}{hint}", field="event")
    symbols = None if tickers is None else [calendar.normalize_ticker(t) for t in tickers]
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        _check_stored(db, symbols or ())
        frame = None
        if where is None and _saved_recent(db, until) is not None:
            # `stockbrief compute` left the stored events current: no need to recompute them.
            found = db.events(symbols, kinds=[event], keys_only=True)
        else:
            result = compute.compute(_engine_bars(db, symbols, until))
            frame, found = result.frame, result.events
        prices = _total_return_closes(db, symbols, until)
        bench, bench_of = _study_benchmarks(db, prices, benchmark, until)
        if event not in ev.EVENT_KINDS:  # a consensus change, from the ratings
            found = _with_analyst_events(found, db.read("ratings", symbols, until=until))
    found = found.filter(pl.col("kind") == event)
    label = event
    if where:
        from stockbrief import screening

        assert frame is not None  # a condition always reads the computed frame
        frame = _with_level_conditions(frame, where)
        rule = screening.parse(where, frame.columns, ev.MEANINGS)
        matching = frame.filter(rule.where).select("ticker", "date")
        kept = found.join(matching, on=["ticker", "date"], how="semi")
        label = (
            f"{event} and {where} ({kept.height:,} of {found.height:,} occurrences meet the "
            "condition)"
        )
        found = kept
    return evidence.study(
        prices,
        found.select("ticker", "date"),
        horizons=horizons,
        until=until,
        benchmark=bench,
        benchmark_of=bench_of,
        resamples=resamples,
        label=label,
    )


LEVEL_CONDITIONS: Final = ("closed_above_resistance",)
"""Columns a study's ``where`` may name beyond the engine's: computed per ticker from its bars,
only when named (``closed_above_resistance > 0``: the close is above the nearest swing
resistance that stood over the previous close; see :mod:`stockbrief.levels`)."""


def _with_level_conditions(frame: pl.DataFrame, where: str) -> pl.DataFrame:
    """``frame`` with the level conditions ``where`` names, 1.0 or 0.0 on each row (a row
    reads the ticker's bars up to its own date only)."""
    import re

    from stockbrief import levels

    if not re.search(r"\bclosed_above_resistance\b", where):
        return frame
    parts = []
    for part in frame.sort("ticker", "date").partition_by("ticker", maintain_order=True):
        h, lo, c = (part[k].cast(pl.Float64).to_numpy() for k in ("high", "low", "close"))
        flag = levels.closed_above_resistance(h, lo, c)
        parts.append(part.with_columns(pl.Series("closed_above_resistance", flag, pl.Float64)))
    return pl.concat(parts) if parts else frame


def _study_benchmarks(
    db: Store, prices: pl.DataFrame, benchmark: str | None, until: dt.date | None
) -> tuple[pl.DataFrame | None, dict[str, str] | None]:
    """The benchmark closes of a study and, for ``"auto"``, which one each ticker takes: the
    stored index of its exchange (stored securities row, else its ticker's suffix), else SPY."""
    from stockbrief.evidence import market_model

    stored = set(db.tickers())
    if benchmark != "auto":
        if not benchmark or benchmark not in stored:
            return None, None
        return _total_return_closes(db, [benchmark], until), None
    securities = db.securities()
    exchanges = dict(zip(securities["ticker"], securities["exchange"], strict=True))
    chosen: dict[str, str] = {}
    for ticker in prices["ticker"].unique().to_list():
        exchange = exchanges.get(ticker)
        if not exchange:
            try:
                exchange = calendar.exchange_for(ticker)
            except InputError:
                exchange = None
        found = market_model.benchmark_for(exchange, stored)
        if found is not None:
            chosen[ticker] = found
    if not chosen:
        return None, None
    return _total_return_closes(db, sorted(set(chosen.values())), until), chosen


def _kind_occurrences(
    db: Store, symbols: Sequence[str] | None, kinds: Sequence[str], until: dt.date | None
) -> pl.DataFrame:
    """``ticker, date, kind`` of the given event kinds: stored when current, else computed."""
    if _saved_recent(db, until) is not None:
        found = db.events(symbols, end=until, kinds=list(kinds), keys_only=True)
    else:
        found = compute.compute(_engine_bars(db, symbols, until)).events
    return found.filter(pl.col("kind").is_in(list(kinds))).select("ticker", "date", "kind")


def _known_event(event: str) -> None:
    if event not in ev.EVENT_KINDS:
        import difflib

        close = difflib.get_close_matches(event, list(ev.EVENT_KINDS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"unknown event {event!r}{hint}", field="event")


def study_strategy(
    event: str,
    *,
    tickers: Sequence[str] | None = None,
    hold: int = STUDY_HORIZON,
    cost_bp: float = 5.0,
    until: DateLike | None = None,
    store: StoreLike = None,
) -> Any:
    """Trading an event: buy at the next open, hold ``hold`` sessions, against buy-and-hold.

    Returns a :class:`stockbrief.evidence.strategy.StrategyResult` (trades, equity curves and
    the table of hit rate, mean, max drawdown and Sharpe) over the universe or ``tickers``.
    """
    from stockbrief.evidence import strategy

    until = calendar.as_date(until, "until")
    _known_event(event)
    symbols = None if tickers is None else [calendar.normalize_ticker(t) for t in tickers]
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        _check_stored(db, symbols or ())
        found = _kind_occurrences(db, symbols, [event], until)
        prices = db.bars(symbols, end=until, adjusted=True, dividends=True)
    return strategy.backtest(
        prices.select("ticker", "date", "open", "close"),
        found.select("ticker", "date"),
        hold=hold,
        cost_bp=cost_bp,
        until=until,
        label=event,
    )


def study_calibration(*, until: DateLike | None = None, store: StoreLike = None) -> Any:
    """How often the brief's stated odds of a gain came true, replayed day by day.

    Returns a :class:`stockbrief.evidence.calibration.CalibrationResult` for the stored
    universe: every replayed verdict, the reliability table and the Brier score.
    """
    from stockbrief.evidence import calibration

    until = calendar.as_date(until, "until")
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        found = _kind_occurrences(db, None, SETUP_PRIORITY, until)
        prices = _total_return_closes(db, None, until)
    return calibration.calibrate(prices, found, SETUP_PRIORITY)


CALIBRATION_TICKERS: Final = (50, 500)
"""Largest stored universe whose calibration a brief replays itself: with events computed for
the purpose, and with the events ``stockbrief compute`` stored (about a second either way); the
briefs of a larger one leave the track record of their odds to ``stockbrief study
--calibration``."""


def _calibration(db: Store, day: dt.date) -> Any:
    """The walk-forward calibration of the stored universe as of ``day`` (nothing later read),
    or None when the universe is larger than :data:`CALIBRATION_TICKERS` allows."""
    stored = _saved_recent(db, day) is not None
    if len(db.tickers()) > CALIBRATION_TICKERS[stored]:
        return None
    from stockbrief.evidence import calibration

    found = _kind_occurrences(db, None, SETUP_PRIORITY, day)
    return calibration.calibrate(_total_return_closes(db, None, day), found, SETUP_PRIORITY)


def _evidence_row(result: evidence.StudyResult, kind: str, scope: str) -> dict[str, Any] | None:
    """The brief's line of an event study at :data:`STUDY_HORIZON`, or None with no cases."""
    row = result.row(STUDY_HORIZON)
    if not row["n"]:
        return None
    return {
        "setup": ev.MEANINGS[kind],
        "kind": kind,
        "scope": scope,
        "n": row["n"],
        "horizon": STUDY_HORIZON,
        "rose_pct": row["hit_rate"],
        "ci_low": row["hit_ci_low"],
        "ci_high": row["hit_ci_high"],
        "base_pct": row["base_hit_rate"],
        "mean": row["mean"],
        "direction": result.lean(STUDY_HORIZON)[0],
        "strength": row["strength"],
    }


def _study_one(prices: pl.DataFrame, found: pl.DataFrame, kind: str, day: dt.date) -> Any:
    return evidence.study(
        prices,
        found.select("ticker", "date"),
        horizons=(STUDY_HORIZON,),
        until=day,
        resamples=1000,
        label=kind,
    )


def universe_evidence(db: Store, day: DateLike) -> pl.DataFrame:
    """The universe's event study of every setup a brief may lead with, as of ``day``.

    It reads the events ``stockbrief compute`` stored and the total-return closes, a batch of
    tickers at a time (the events are never recomputed, and memory follows the batch). One row
    per setup kind with counted occurrences, in :data:`EVIDENCE_SCHEMA`.
    """
    day = calendar.required_date(day, "day")
    tally = evidence.Tally(STUDY_HORIZON, until=day)
    for batch in _batches(db.tickers()):
        found = db.events(batch, end=day, kinds=SETUP_PRIORITY, keys_only=True)
        if found.height:
            tally.add(_total_return_closes(db, batch, day), found.select("ticker", "date", "kind"))
    return _tally_rows(tally)


def _tally_rows(tally: evidence.Tally) -> pl.DataFrame:
    rows = []
    found = tally.rows()
    for kind in SETUP_PRIORITY:
        if kind in found:
            row = found[kind]
            rows.append(
                {
                    "setup": ev.MEANINGS[kind],
                    "kind": kind,
                    "scope": "universe",
                    "n": row["n"],
                    "horizon": tally.horizon,
                    "rose_pct": row["hit_rate"],
                    "ci_low": row["hit_ci_low"],
                    "ci_high": row["hit_ci_high"],
                    "base_pct": row["base_hit_rate"],
                    "mean": row["mean"],
                    "direction": row["direction"],
                    "strength": row["strength"],
                }
            )
    return pl.DataFrame(rows, schema=EVIDENCE_SCHEMA)


EVIDENCE_SCHEMA: Final = {
    "setup": pl.String(),
    "kind": pl.String(),
    "scope": pl.String(),
    "n": pl.Int64(),
    "horizon": pl.Int64(),
    "rose_pct": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "base_pct": pl.Float64(),
    "mean": pl.Float64(),
    "direction": pl.String(),
    "strength": pl.String(),
}


def _store_universe_evidence(db: Store, day: dt.date) -> pl.DataFrame:
    """Compute and keep the universe's evidence valid for ``day`` (a writer's job)."""
    rows = universe_evidence(db, day)
    db.save_universe_evidence(day, rows.drop("setup"))
    return rows


def _universe_lines(
    db: Store, kinds: Sequence[str], day: dt.date
) -> dict[str, dict[str, Any] | None]:
    """The universe's study of each of ``kinds`` for a brief on ``day``: from the newest kept
    study valid on or before ``day`` (saying its date when earlier), else computed in one pass
    from the stored events if they reach ``day``, else from events computed afresh."""
    kept = db.universe_evidence(day)
    if kept is not None:
        valid_for, rows = kept
        lines: dict[str, dict[str, Any] | None] = dict.fromkeys(kinds)
        for kind in kinds:
            match = rows.filter(pl.col("kind") == kind)
            if match.is_empty():
                continue
            line = {"setup": ev.MEANINGS[kind], **match.row(0, named=True)}
            if valid_for != day:
                line["as_of"] = valid_for
            lines[kind] = line
        return lines
    stored = _events_current(db)
    tally = evidence.Tally(STUDY_HORIZON, until=day)
    for batch in _batches(db.tickers()):
        if stored:
            found = db.events(batch, end=day, kinds=list(kinds), keys_only=True)
        else:
            found = compute.compute(_engine_bars(db, batch, day)).events
            found = found.filter(pl.col("kind").is_in(list(kinds)))
        if found.height:
            tally.add(_total_return_closes(db, batch, day), found.select("ticker", "date", "kind"))
    counted = {row["kind"]: row for row in _tally_rows(tally).iter_rows(named=True)}
    return {kind: counted.get(kind) for kind in kinds}


def _events_current(db: Store) -> bool:
    """Whether the stored events cover every stored bar (``stockbrief compute`` is current)."""
    meta = db.engine_meta()
    return not meta.is_empty() and meta.equals(db.fingerprint())


def _setup_evidence(
    db: Store,
    symbol: str,
    day: dt.date,
    events_today: Sequence[str],
    found: pl.DataFrame,
    universe: pl.DataFrame | None = None,
    calibrated: Any = None,
) -> dict[str, Any] | None:
    """Event studies of the day's leading setup, for this stock and for the stored universe,
    and how often past verdicts that stated the universe's odds came true (``calibrated``: the
    day's :func:`_calibration`, given with ``universe`` when many briefs of one session are
    written; otherwise replayed here).

    ``found`` holds the stock's events (computed for the brief); the universe's side comes from
    kept studies or stored events (``universe``: rows of :func:`universe_evidence` for
    ``day``, when many briefs of one session are written), so a brief never recomputes the
    universe when ``stockbrief compute`` has run.
    """
    tried = [k for k in SETUP_PRIORITY if k in events_today]
    if not tried:
        return None
    kind = tried[0]
    rows = []
    mine = found.filter(pl.col("kind") == kind)
    if not mine.is_empty():
        stock = _study_one(_total_return_closes(db, [symbol], day), mine, kind, day)
        row = _evidence_row(stock, kind, "stock")
        if row is not None:
            rows.append(row)
    if universe is not None:
        lines: dict[str, dict[str, Any] | None] = {}
        for each in tried:
            match = universe.filter(pl.col("kind") == each)
            lines[each] = match.row(0, named=True) if match.height else None
    else:
        lines = _universe_lines(db, tried, day)
    whole = lines[kind]
    # The day's setups are tested together: the lead one backs the verdict only if its
    # Benjamini-Hochberg adjusted p-value across all of them stays under the FDR level.
    p_values = [
        1.0
        if line is None
        else multiple.p_from_interval(
            line["rose_pct"], line["ci_low"], line["ci_high"], line["base_pct"]
        )
        for line in lines.values()
    ]
    adjusted = multiple.benjamini_hochberg(p_values)[0]
    record = None
    if whole is not None:
        whole = {**whole, "p_value": p_values[0], "p_adjusted": adjusted}
        if adjusted >= multiple.ALPHA:
            whole.update(strength="none", direction="none")
        rows.append(whole)
        from stockbrief.evidence import calibration

        replayed = calibrated if universe is not None else _calibration(db, day)
        record = None if replayed is None else calibration.track_record(replayed, whole["rose_pct"])
    if not rows:
        return None
    last = rows[-1] if rows[-1]["scope"] == "universe" else None
    return {
        "setups": rows,
        "strength": last["strength"] if last else "none",
        "direction": last["direction"] if last else "none",
        "tried": len(tried),
        "p_adjusted": adjusted if last else None,
        "calibration": record,
        "method": "event study, see stockbrief study; p-value adjusted (Benjamini-Hochberg) "
        "across the setups of the day",
    }


# -- screening and the daily run ---------------------------------------------------------------


def screen(
    expression: str,
    *,
    as_of: DateLike | None = None,
    sort: str | None = None,
    descending: bool = True,
    store: StoreLike = None,
) -> ScreenResult:
    """Tickers whose latest session on or before ``as_of`` matches a screen or a preset name.

    The universe is computed in one pass from the stored bars up to ``as_of``; expressions are
    parsed by :mod:`stockbrief.screening` (never evaluated as code or SQL). The result is a
    Polars frame that also names the screen and the session it read (``summary()``).
    """
    found = screens([expression], as_of=as_of, sort=sort, descending=descending, store=store)
    return found[expression]


def screens(
    expressions: Sequence[str],
    *,
    as_of: DateLike | None = None,
    sort: str | None = None,
    descending: bool = True,
    store: StoreLike = None,
) -> dict[str, ScreenResult]:
    """Several screens of one session (see :func:`screen`), by expression, over one read of the
    universe: a page that shows every preset reads the saved rows once, not once per preset."""
    from stockbrief import screening

    as_of = calendar.as_date(as_of, "as_of")
    results: dict[str, ScreenResult] = {}
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        ratings = db.read("ratings", until=as_of)
        saved = _current_universe(db, as_of)
        current = None if saved is None else (saved[0], _with_analyst_events(saved[1], ratings))
        computed: tuple[pl.DataFrame, pl.DataFrame] | None = None
        for expression in dict.fromkeys(expressions):
            preset = screening.PRESETS.get(expression)
            text = expression if preset is None else preset[0]
            if current is not None:
                frame, found = current
                rule = screening.parse(text, frame.columns, ev.MEANINGS)
            if current is None or rule.lookback is None or rule.lookback >= ev.LOOKBACK:
                # No saved state, or too few saved rows for this screen: compute the universe.
                if computed is None:
                    result = compute.compute(_engine_bars(db, None, as_of))
                    computed = result.frame, _with_analyst_events(result.events, ratings)
                frame, found = computed
                rule = screening.parse(text, frame.columns, ev.MEANINGS)
            matched = screening.run(
                rule, frame, found, as_of=as_of, sort=sort, descending=descending
            )
            results[expression] = ScreenResult.of(
                matched, frame, expression=expression, rule=text, as_of=as_of
            )
    return results


def _current_universe(db: Store, as_of: dt.date | None) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The last rows of every ticker, indicators included, and their stored events, when the
    engine state `stockbrief compute` saved is current and ``as_of`` is not before it.

    A screen of the latest session then reads them instead of recomputing every history; the
    rows are those a full computation gives (incremental and full runs agree bitwise).
    """
    recent = _saved_recent(db, as_of)
    if recent is None:
        return None
    first: dt.date = recent["date"].min()  # type: ignore[assignment]
    return recent, db.events(start=first, keys_only=True)


def _saved_recent(db: Store, as_of: dt.date | None) -> pl.DataFrame | None:
    """The saved last rows of every ticker, if the state is current and reaches ``as_of``."""
    frames, meta = db.load_engine_state(("recent",))
    if not frames or frames["recent"].is_empty() or not meta.equals(db.fingerprint()):
        return None
    if not set(compute.output_columns()) <= set(frames["recent"].columns):
        return None  # saved by a version with other indicators
    recent = compute.recent_rows(frames["recent"])
    last: dt.date = recent["date"].max()  # type: ignore[assignment]
    return None if as_of is not None and as_of < last else recent


def screen_coverage(
    as_of: DateLike | None = None, *, store: StoreLike = None
) -> tuple[dt.date | None, int, int]:
    """The session a screen reads, how many tickers traded on it, and how many are stored.

    On a day one exchange is closed (a US holiday in a universe with Hong Kong listings), its
    tickers have no bar on the session and are not screened; this says how many.
    """
    as_of = calendar.as_date(as_of, "as_of")
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        return db.session_coverage(as_of)


@dataclass(frozen=True)
class SavedScreen:
    """A screen kept by name: its expression (or preset name), the result columns to show
    (empty: all) and the column to sort by, descending (None: by ticker)."""

    name: str
    expression: str
    columns: tuple[str, ...] = ()
    sort: str | None = None
    saved_at: dt.datetime | None = None


SCREEN_NAME: Final = r"[A-Za-z0-9][A-Za-z0-9 _.\-]{0,39}"
"""A saved screen's name: letters, digits, spaces and ``_ . -``, at most 40 characters."""

MAX_SAVED_EXPRESSION: Final = 1000
"""Characters a saved expression may have (the dashboard's address holds twice as many)."""


def _checked_screen(
    name: Any, expression: Any, columns: Any, sort: Any
) -> tuple[str, str, tuple[str, ...], str | None]:
    """The parts of a screen to save, or an :class:`InputError` naming the first bad one: the
    expression is parsed by the screen language, columns and sort must be result columns."""
    import re

    from stockbrief import screening

    if not isinstance(name, str) or not re.fullmatch(SCREEN_NAME, name.strip()):
        shown = name[:60] if isinstance(name, str) else type(name).__name__
        raise InputError(
            f"invalid screen name {shown!r}: use letters, digits, spaces and _ . - (at most 40"
            " characters, starting with a letter or digit)",
            field="name",
        )
    if not isinstance(expression, str) or not expression.strip():
        raise InputError("a saved screen needs an expression or a preset name", field="expression")
    text = expression.strip()
    if len(text) > MAX_SAVED_EXPRESSION:
        raise InputError(
            f"the expression has {len(text):,} characters; at most {MAX_SAVED_EXPRESSION:,}",
            field="expression",
        )
    if text not in screening.PRESETS:
        screening.parse(text)  # a ScreenError points at the offending token
    known = ("ticker", "date", *screening.DEFAULT_COLUMNS)
    if columns is None:
        columns = []
    if not isinstance(columns, list | tuple) or not all(isinstance(c, str) for c in columns):
        raise InputError("columns must be a list of column names", field="columns")
    for column in [*columns, *([] if sort in (None, "") else [sort])]:
        if not isinstance(column, str) or column not in known:
            import difflib

            close = difflib.get_close_matches(str(column), known, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise InputError(f"unknown column {str(column)[:40]!r}{hint}", field="columns")
    return name.strip(), text, tuple(dict.fromkeys(columns)), sort or None


def save_screen(
    name: str,
    expression: str,
    *,
    columns: Sequence[str] = (),
    sort: str | None = None,
    store: StoreLike = None,
) -> SavedScreen:
    """Keep a screen under ``name`` (replacing one of that name), after parsing it.

    Raises
    ------
    InputError
        A bad name, an expression that does not parse (``ScreenError``, pointing at the
        token), or a column or sort that no screen returns.
    """
    valid, text, shown, by = _checked_screen(name, expression, list(columns), sort)
    with using_store(store) as db:
        db.save_screen(valid, text, shown, by)
    return saved_screen(valid, store=store)


def saved_screens(*, store: StoreLike = None) -> list[SavedScreen]:
    """Every saved screen, by name."""
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        rows = db.saved_screens()
    return [SavedScreen(**{**row, "columns": tuple(row["columns"])}) for row in rows]


def saved_screen(name: str, *, store: StoreLike = None) -> SavedScreen:
    """One saved screen; a :class:`NotFoundError` naming the saved ones when there is none."""
    found = {s.name: s for s in saved_screens(store=store)}
    if name not in found:
        known = f"; saved: {', '.join(found)}" if found else "; none is saved yet"
        raise NotFoundError(f"no saved screen named {name[:60]!r}{known}")
    return found[name]


def delete_screen(name: str, *, store: StoreLike = None) -> str:
    """Remove a saved screen; a :class:`NotFoundError` when there is none of that name."""
    with using_store(store) as db:
        if not db.delete_screen(name):
            raise NotFoundError(f"no saved screen named {name[:60]!r}")
    return name


FREQUENT: Final = ("gap_", "sar_flip_", "stoch_")
"""Setups too common to earn a brief alone: most tickers show one every few weeks."""

NOTABLE: Final = (
    *(k for k in SETUP_PRIORITY if not k.startswith(FREQUENT)),
    "consensus_upgrade",
    "consensus_downgrade",
    "target_raised",
    "target_lowered",
)
"""Events that earn a ticker a brief in the daily run (the :data:`FREQUENT` ones alone do not)."""


@dataclass(frozen=True)
class RunReport:
    """What a daily run wrote; ``replaced`` are the files that were there before it."""

    day: dt.date
    watched: int
    notable: dict[str, list[str]]
    files: list[Path]
    index: Path
    replaced: tuple[Path, ...] = ()
    skipped: tuple[str, ...] = ()
    """Watched tickers the store does not hold: left out, with a warning, not an abort."""
    deliveries: tuple[alerts.Delivery, ...] = ()
    """Each alert's outcome per destination (``--notify``)."""

    @property
    def failed(self) -> tuple[alerts.Delivery, ...]:
        """Deliveries that did not go out; the next run of the session retries them."""
        return tuple(d for d in self.deliveries if d.outcome == "failed")

    def summary(self) -> str:
        text = (
            f"{self.day}: {len(self.notable)} of {self.watched} watched tickers had notable "
            f"events; {len(self.files)} files and the index {self.index} written"
        )
        if self.replaced:
            text += f" ({_count(len(self.replaced), 'existing file')} replaced)"
        if self.skipped:
            text += f"; skipped, not in the store: {', '.join(self.skipped)}"
        if self.deliveries:
            tally: dict[str, int] = {}
            for delivery in self.deliveries:
                tally[delivery.outcome] = tally.get(delivery.outcome, 0) + 1
            text += "; alerts: " + ", ".join(f"{n} {outcome}" for outcome, n in tally.items())
        return text


def check_out(path: Path, *, folder: bool = True) -> None:
    """Refuse an output path that cannot be written, before any work is done.

    ``folder`` says the path names a folder (made when missing), else a file. A file where a
    folder is expected, a path inside a file, and a folder that cannot be written to are an
    :class:`InputError` naming the path, rather than an OS error after minutes of work.
    """
    where = path if folder else path.parent
    probe = where
    # os.path.exists says False (never raises) for a path inside a file or an unreadable folder.
    while not os.path.exists(probe) and probe != probe.parent:
        probe = probe.parent
    if os.path.exists(probe) and not probe.is_dir():
        inside = "" if probe == where else f", so {where} cannot be made in it"
        raise InputError(f"cannot write to {path}: {probe} is a file, not a folder{inside}")
    if not folder and path.is_dir():
        probe = path
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise InputError(
            f"cannot write to {path}: files cannot be made in {probe} ({exc.strerror});"
            " choose a folder you can write to"
        ) from None
    if not folder and path.is_file() and not os.access(path, os.W_OK):
        raise InputError(f"cannot write to {path}: the file is read-only")


WATCHLIST_MAX_BYTES: Final = 16 << 20
"""A watchlist larger than this is not one (5,000 tickers take 40 KB): refused unread."""


def read_watchlist(path: Path) -> list[str]:
    """Tickers of a watchlist: one per line (``#`` starts a comment) or a CSV ticker column.

    The file must be UTF-8 text; binary or non-UTF-8 content is refused, naming the file.
    """
    if path.is_dir():
        raise InputError("is a folder, not a watchlist file", file=path)
    if not path.is_file():
        raise NotFoundError(f"{path}: no such watchlist file")
    try:
        size = path.stat().st_size
        if size > WATCHLIST_MAX_BYTES:
            raise InputError(
                f"{size / (1 << 20):,.0f} MiB is too large for a watchlist (at most"
                f" {WATCHLIST_MAX_BYTES >> 20} MiB); check that this is the file you meant",
                file=path,
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the watchlist: {exc.strerror}", file=path) from None
    if b"\x00" in data:
        raise InputError(
            f"binary data, not a watchlist (a NUL byte at byte {data.index(0)}); a watchlist is"
            " text: one ticker per line, or a CSV file with a ticker column",
            file=path,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start} cannot be decoded); save the watchlist as UTF-8",
            file=path,
        ) from None
    lines = text.splitlines()
    numbered = list(enumerate(lines, start=1))
    header = lines[0].lower() if lines else ""
    if "," in header and ("ticker" in header or "symbol" in header):
        try:
            frame = pl.read_csv(text.encode(), infer_schema=False)
        except pl.exceptions.PolarsError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"cannot read as CSV: {first}", file=path) from None
        column = next((c for c in frame.columns if c.strip().lower() in ("ticker", "symbol")), None)
        if column is None:
            raise InputError(
                f"the header {lines[0]!r} names no ticker column; call it ticker or symbol",
                file=path,
            )
        numbered = [
            (number, str(value))
            for number, value in enumerate(frame[column].to_list(), start=1)
            if value is not None
        ]
    tickers: list[str] = []
    for number, line in numbered:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            symbol = calendar.normalize_ticker(text)
        except InputError as exc:
            raise InputError(exc.reason, file=path, row=number, field="ticker") from None
        if symbol not in tickers:
            tickers.append(symbol)
    if not tickers:
        raise InputError("the watchlist names no ticker", file=path)
    return tickers


def _watched_tickers(db: Store, watchlist: Path | str) -> list[str]:
    """The tickers of a watchlist file, or of the stored watchlist of that name (one saved on
    the dashboard) when no such file exists."""
    path = Path(watchlist)
    if path.exists() or any(sep in str(watchlist) for sep in ("/", "\\")):
        return read_watchlist(path)
    stored = db.watchlist(str(watchlist))
    if stored:
        return stored
    names = sorted(db.watchlists())
    known = f"; stored lists: {', '.join(names)}" if names else "; the store holds no lists"
    raise NotFoundError(
        f"{watchlist}: no such watchlist file, nor a stored list of that name{known}"
    )


def daily_run(
    watchlist: Path | str,
    out: Path,
    *,
    as_of: DateLike | None = None,
    store: StoreLike = None,
    progress: Callable[[str], None] | None = None,
    lang: Lang = "en",
    notify: Sequence[str] = (),
    dry_run: bool = False,
    rule: str = NOTABLE_RULE,
    alert: str | None = None,
    attach: Literal["md", "html", "json", "pdf"] = "md",
    formats: Sequence[Literal["md", "html", "json", "pdf"]] = ("md", "html", "json"),
) -> RunReport:
    """Update events, then write a brief for each watched ticker with a notable event and an
    index page (HTML and JSON) of the day. Running it twice writes the same files.

    ``watchlist`` is a file, or the name of a list stored from the dashboard. Watched tickers
    the store does not hold are skipped and named in the report. With
    ``notify`` (Apprise URLs), each brief is also sent as an alert (headline, the move, the
    evidence, the Markdown brief attached), once per session and destination: a rerun sends
    nothing twice and retries what failed. ``dry_run`` says what would be sent, and sends and
    records nothing. ``rule`` picks the tickers briefed: :data:`NOTABLE_RULE`, or a screen
    expression or preset evaluated on the session; ``alert`` names the rule in the deliveries
    (an ``[[alert]]`` table's name) and ``attach`` the brief format the message carries.
    ``formats`` are the files written per brief (``pdf`` needs the ``pdf`` extra).

    The index is rewritten (atomically) after each brief, so a run stopped by an error or
    Ctrl-C leaves one listing the briefs it wrote; the exception then carries a note saying
    where it is. ``out`` is checked before any work.
    """
    from stockbrief.notes import render

    as_of = calendar.as_date(as_of, "as_of")

    if Path(watchlist).exists():
        read_watchlist(Path(watchlist))  # a bad file is refused before any work
    check_out(out)
    for url in notify:
        alerts.redacted(url)  # an unknown URL is refused before any work
    with using_store(store) as db:
        tickers = _watched_tickers(db, watchlist)
        refresh(db)
        stored = set(db.tickers())
        skipped = tuple(t for t in tickers if t not in stored)
        tickers = [t for t in tickers if t in stored]
        if not tickers:
            raise NotFoundError(_unknown_ticker(skipped[0], sorted(stored)))
        frame = compute.compute(_engine_bars(db, tickers, as_of))
        last: dt.date = frame.frame["date"].to_list()[-1] if frame.frame.height else dt.date.min
        last = max(frame.frame["date"].to_list(), default=last)
        day = min(as_of, last) if as_of else last
        ratings = db.read("ratings", tickers, until=day)
        found = _with_analyst_events(frame.events, ratings).filter(pl.col("date") == day)
        notable: dict[str, list[str]] = {}
        if rule == NOTABLE_RULE:
            chosen = found.filter(pl.col("kind").is_in(NOTABLE))
        else:
            matched = set(screen(rule, as_of=day, store=db)["ticker"].to_list()) & set(tickers)
            notable = {t: [] for t in matched}
            chosen = found.filter(pl.col("ticker").is_in(list(matched)))
        for row in chosen.sort("ticker", "kind").iter_rows(named=True):
            notable.setdefault(row["ticker"], []).append(row["kind"])
        moves = _day_moves(frame.frame, day)
        folder = out / day.isoformat()
        check_out(folder)
        before = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        files: list[Path] = []
        entries: list[dict[str, Any]] = []
        index = folder / "index.html"
        whole = _store_universe_evidence(db, day) if notable else None
        calibrated = _calibration(db, day) if notable else None
        sent: list[alerts.Delivery] = []
        if notify:
            sent += _retry_earlier(db, alert or rule, day, notify, out, dry_run=dry_run)
        try:
            for ticker in sorted(notable):
                if progress:
                    progress(ticker)
                note = _brief(db, ticker, day, lang, whole, calibrated)
                written = [
                    _written(folder / render.default_name(note, fmt), note, fmt)
                    for fmt in dict.fromkeys(formats)
                ]
                files += written
                if notify:
                    kept = {p.suffix[1:]: p for p in written}
                    attached = kept.get(attach) or _written(
                        folder / render.default_name(note, attach), note, attach
                    )
                    message = _alert_message(note, attached)
                    sent += alerts.deliver(
                        db, alert or rule, ticker, day, notify, message, dry_run=dry_run
                    )
                entries.append(
                    {
                        "ticker": ticker,
                        "headline": note.headline,
                        "events": notable[ticker],
                        "lean": note.verdict.lean,
                        "strength": note.verdict.strength,
                        "files": {p.suffix[1:]: p.name for p in written},
                    }
                )
                index = _write_index(day, entries, moves, folder)
        except BaseException as exc:
            if len(entries) == 1:
                exc.add_note(f"the brief written before it is listed in {index}")
            elif entries:
                exc.add_note(f"the {len(entries):,} briefs written before it are listed in {index}")
            raise
    if not entries:
        index = _write_index(day, entries, moves, folder)
    replaced = [p for p in [*files, index, index.with_name("index.json")] if p.name in before]
    return RunReport(
        day, len(tickers), notable, files, index, tuple(replaced), skipped, tuple(sent)
    )


ALERT_SECTIONS: Final = ("move", "evidence", "conclusion")
"""The brief's sections an alert carries in its body (the conclusion states the odds history
gives, against the base rate); the whole brief is attached."""


def _retry_earlier(
    db: Store, rule: str, day: dt.date, notify: Sequence[str], out: Path, *, dry_run: bool
) -> list[alerts.Delivery]:
    """Send again the alerts of earlier sessions that failed, to the destinations still asked
    for, with the brief written on that session (a run with ``--out`` elsewhere, or whose files
    were removed, leaves them failed)."""
    urls = {alerts.destination_key(url): url for url in notify}
    retried: list[alerts.Delivery] = []
    for row in db.failed_deliveries_before(day).iter_rows(named=True):
        url = urls.get(row["destination"])
        if row["rule"] != rule or url is None:
            continue
        folder = out / row["session"].isoformat()
        try:
            index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        entry = next((e for e in index.get("briefs", []) if e.get("ticker") == row["ticker"]), None)
        if entry is None or not entry.get("files"):
            continue
        attachment = folder / next(iter(entry["files"].values()))
        message = alerts.Message(
            f"{row['ticker']}: {entry['headline']}",
            f"This alert of {row['session'].day} {row['session']:%B %Y} could not be delivered"
            " then; its brief is"
            " attached.",
            attachment if attachment.is_file() else None,
        )
        retried += alerts.deliver(
            db, rule, row["ticker"], row["session"], [url], message, dry_run=dry_run
        )
    return retried


def _alert_message(note: Brief, markdown: Path) -> alerts.Message:
    """An alert for one brief: its headline, what moved, what history says and the verdict."""
    from stockbrief.text import strip_controls

    body = "\n\n".join(s.text for s in note.sections if s.key in ALERT_SECTIONS)
    return alerts.Message(
        strip_controls(f"{note.ticker}: {note.headline}"), strip_controls(body), markdown
    )


def _written(target: Path, note: Brief, fmt: Literal["md", "html", "json", "pdf"]) -> Path:
    """Write one brief to ``target``; an OS error (a full disk) is one line naming the file."""
    from stockbrief.notes import render

    try:
        return render.write(note, fmt, target)
    except OSError as exc:
        raise StockbriefError(f"cannot write {target}: {exc.strerror or exc}") from None


def _day_moves(bars: pl.DataFrame, day: dt.date) -> list[dict[str, Any]]:
    """Each watched ticker's last close up to ``day`` and its change from the close before; a
    ticker with no bar on ``day`` has no change and shows the date of its last bar."""
    last = (
        bars.filter(pl.col("date") <= day)
        .sort("ticker", "date")
        .group_by("ticker", maintain_order=True)
        .agg(
            pl.col("date").last(),
            pl.col("close").last(),
            pl.col("close").tail(2).first().alias("previous"),
            pl.len().alias("bars"),
        )
    )
    return [
        {
            "ticker": row["ticker"],
            "date": row["date"].isoformat(),
            "close": row["close"],
            "change": row["close"] / row["previous"] - 1
            if row["date"] == day and row["bars"] > 1
            else None,
        }
        for row in last.iter_rows(named=True)
    ]


def _write_index(
    day: dt.date, entries: list[dict[str, Any]], moves: list[dict[str, Any]], folder: Path
) -> Path:
    """The day's index, written beside and then renamed over the old one: a reader or an
    interruption sees the old index or the new, never half of one."""
    from stockbrief.notes import render

    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".index-") as tmp:
            page = render.write_index(day, entries, moves, Path(tmp))
            for name in ("index.json", page.name):
                os.replace(Path(tmp) / name, folder / name)
    except OSError as exc:
        raise StockbriefError(
            f"cannot write the index in {folder}: {exc.strerror or exc}"
        ) from None
    return folder / page.name


# -- scale-out --------------------------------------------------------------------------------


def export_parquet(
    folder: Path, *, partitions: int = 16, overwrite: bool = False, store: StoreLike = None
) -> int:
    """Write the engine's bars as Parquet partitioned by ticker hash, for Dask workers."""
    with using_store(store, read_only=not isinstance(store, Store)) as db:
        return db.export_bars(folder, partitions, overwrite=overwrite)


def refresh_on_dask(
    *,
    dataset: Path | None = None,
    scheduler: str | None = None,
    partitions: int = 16,
    n_workers: int = 2,
    store: StoreLike = None,
) -> RefreshReport:
    """Recompute every ticker's indicators and events on Dask workers, then store the events.

    The bars are exported as Parquet partitioned by ticker hash (to ``dataset``, default a
    folder beside the store), each partition is computed by a worker with the same kernels, and
    the gathered events replace the stored ones in one transaction: a failed run leaves the store
    as it was, and rerunning finishes the job.
    """
    from stockbrief.scale.dask import PARTITION, compute_dataset

    if dataset is not None and dataset.is_dir():
        # The export replaces the folder's contents: never wipe a folder that is not a dataset.
        stray = [p.name for p in dataset.iterdir() if not PARTITION.fullmatch(p.name)]
        if stray:
            raise InputError(
                f"{dataset} holds {stray[0]!r}, which is not part of a bars dataset; pass an "
                "empty folder or one written by `stockbrief export parquet`",
                field="dataset",
            )
    with using_store(store) as db:
        folder = dataset or db.path.with_name(db.path.name + ".parquet")
        db.export_bars(folder, partitions, overwrite=True)
        result = compute_dataset(folder, scheduler=scheduler, n_workers=n_workers)
        with db.transaction():
            db.replace_events(result.events, params=ev.params_frame())
            # The gathered state lets the next `stockbrief compute` continue incrementally.
            db.save_engine_state(result.state.to_frames(), db.fingerprint())
    return RefreshReport("full", result.latest.height, result.rows, result.events.height)
