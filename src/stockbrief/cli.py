"""The ``stockbrief`` command: a thin face over :mod:`stockbrief.api`.

:mod:`stockbrief.api` pulls in numba, Polars, DuckDB and the rest, and Rich takes a while to load
too, so every command imports what it uses inside its body: ``--help`` and ``--version`` answer
at once.

Annotations are objects, not postponed strings: Typer reads the hints of all commands at
every start, and evaluating them from strings cost each command about 30 ms.
"""

import datetime as dt
import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, ParamSpec

import typer

from stockbrief.console import (
    DISPLAY,
    check_format,
    err,
    out,
    require_extra,
    write_frame,
    write_records,
)
from stockbrief.errors import StockbriefError
from stockbrief.lazy import compile_notice

if TYPE_CHECKING:
    from stockbrief import api, catalog
    from stockbrief.notes.document import Brief
    from stockbrief.notes.render import Format

P = ParamSpec("P")

COMPILING = "compiling the compute kernels (first run only, up to a minute)..."
"""Said on stderr when a kernel compiles: its on-disk cache is empty or stale."""
NOTHING_NEW = "incremental compute: 0 new rows for 0 tickers, 0 events"
"""What ``compute`` says when the stored events already cover every stored bar (as
:meth:`stockbrief.api.RefreshReport.summary` words it)."""

app = typer.Typer(
    name="stockbrief",
    help="Data-backed market notes: ingest bars, compute indicators and events, explain them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
ingest_app = typer.Typer(help="Load data files into the store.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
export_app = typer.Typer(help="Write stored data for other engines.", no_args_is_help=True)
app.add_typer(export_app, name="export")


def _print_version(value: bool) -> None:
    """Answer ``--version`` from the installed metadata, before any command is parsed."""
    if value:
        from stockbrief import __version__

        typer.echo(f"stockbrief {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options of ``stockbrief`` itself, before any command; the help text is the app's."""


def _may_compile(command: Callable[P, None]) -> Callable[P, None]:
    """Say so on stderr, once, if the command compiles stockbrief's numba kernels, and spin
    beside the notice on a terminal until the command's next step shows progress or it ends.

    Loading them from numba's on-disk cache takes a fraction of a second; compiling them (the
    first run, or the first after an upgrade) takes up to a minute, which would otherwise pass in
    silence. The wrapper also refuses, before any work, a ``--format pdf`` that the installed
    extras cannot write.
    """

    @functools.wraps(command)
    def announcing(*args: P.args, **kwargs: P.kwargs) -> None:
        if kwargs.get("fmt") == "pdf":
            require_extra("pdf")

        def notify() -> None:
            err().print(COMPILING, highlight=False)
            DISPLAY.compiling()

        try:
            if "stockbrief.kernels" not in sys.modules:
                # numba loads only if the command needs kernels (an up-to-date `compute` does not).
                with compile_notice(notify):
                    command(*args, **kwargs)
                return
            from stockbrief.kernels import on_compile

            with on_compile(notify):
                command(*args, **kwargs)
        finally:
            DISPLAY.compiled()

    return announcing


OutputFormat = Annotated[
    str, typer.Option("--format", help="table, json or csv.", show_default=True)
]
"""``--format`` of the commands that print a table: JSON and CSV carry the API's column names."""


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="DuckDB store file [default: $STOCKBRIEF_STORE or ./stockbrief.duckdb]",
        show_default=False,
    ),
]
FilesArgument = Annotated[
    list[Path], typer.Argument(help="CSV, Parquet or JSON files.", show_default=False)
]
TickerOption = Annotated[
    str | None, typer.Option(help="Ticker for every row (overrides column and file name).")
]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="Overwrite stored rows that differ instead of refusing.")
]
ExchangeOption = Annotated[
    str | None,
    typer.Option(help="Exchange (ISO MIC, e.g. XNYS, XHKG) whose sessions the dates must be."),
]


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date; expected YYYY-MM-DD", param_hint=option
        ) from None


FromOption = Annotated[str | None, typer.Option("--from", help="First date, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last date, YYYY-MM-DD.")]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="Date to compute as of, YYYY-MM-DD [default: last]")
]


@ingest_app.command("prices")
def ingest_prices(
    files: FilesArgument,
    store: StoreOption = None,
    ticker: TickerOption = None,
    exchange: ExchangeOption = None,
    replace: ReplaceOption = False,
    start: FromOption = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Last date, YYYY-MM-DD; leaves out a trailing partial session."),
    ] = None,
    basis: Annotated[
        str,
        typer.Option(
            "--basis",
            help="traded (as traded; stored splits and dividends adjust them on read) or"
            " adjusted (by the provider for splits and dividends; never adjusted again).",
            show_default=True,
        ),
    ] = "traded",
    allow_unfinished: Annotated[
        bool,
        typer.Option(
            "--allow-unfinished",
            help="Store bars of a session that has not closed yet as they stand (by default"
            " they are left out, and the report says so).",
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse the files if a bar looks wrong (spike, unrecorded split, volume on an"
            " index, zero-volume run, stale repeats) instead of storing them with a warning.",
        ),
    ] = False,
) -> None:
    """Daily OHLCV bars, one file per ticker or a long file with a ticker column."""
    if basis not in ("traded", "adjusted"):
        raise typer.BadParameter("use traded or adjusted", param_hint="--basis")
    from stockbrief import api

    with DISPLAY.task("reading files", total=len(files)) as update:
        report = api.ingest(
            "prices",
            files,
            store=store,
            ticker=ticker,
            exchange=exchange,
            replace=replace,
            start=_date(start, "--from"),
            end=_date(end, "--to"),
            basis="adjusted" if basis == "adjusted" else "traded",
            allow_unfinished=allow_unfinished,
            strict=strict,
            progress=update,
        )
    _print_warnings(report)
    out().print(report.summary())


WARNINGS_SHOWN: Final = 20
"""Warnings an ingest prints one by one; `stockbrief doctor` lists them all."""


def _print_warnings(report: "api.IngestReport") -> None:
    """Each suspicious bar as one line on stderr: where, what, and the command that says more."""
    for warning in report.warnings[:WARNINGS_SHOWN]:
        err().print(
            f"warning: {warning.line()}; run `stockbrief doctor {warning.ticker}`",
            highlight=False,
            soft_wrap=True,
        )
    hidden = len(report.warnings) - WARNINGS_SHOWN
    if hidden > 0:
        err().print(
            f"warning: {hidden:,} more suspicious bars; run `stockbrief doctor` to list them all",
            highlight=False,
            soft_wrap=True,
        )


@ingest_app.command("actions")
def ingest_actions(
    files: FilesArgument,
    store: StoreOption = None,
    ticker: TickerOption = None,
    exchange: ExchangeOption = None,
    replace: ReplaceOption = False,
) -> None:
    """Splits and dividends: columns [ticker,] date, kind (split|dividend), value."""
    from stockbrief import api

    with DISPLAY.task("reading files", total=len(files)) as update:
        report = api.ingest(
            "actions",
            files,
            store=store,
            ticker=ticker,
            exchange=exchange,
            replace=replace,
            progress=update,
        )
    out().print(report.summary())


def _ingest_command(kind: "api.IngestKind", doc: str) -> None:
    def command(
        files: FilesArgument,
        store: StoreOption = None,
        ticker: TickerOption = None,
        replace: ReplaceOption = False,
    ) -> None:
        from stockbrief import api

        with DISPLAY.task("reading files", total=len(files)) as update:
            report = api.ingest(
                kind, files, store=store, ticker=ticker, replace=replace, progress=update
            )
        out().print(report.summary())

    command.__doc__ = doc
    ingest_app.command(kind)(command)


_ingest_command(
    "ratings",
    "Analyst ratings: ticker, firm, date, rating (as published), [action, target, prior_target].",
)
_ingest_command(
    "consensus",
    "Provider consensus summaries: ticker, date, [source, label, strong_buy..strong_sell, "
    "target_mean/median/high/low].",
)
_ingest_command(
    "news",
    "News (JSON lines or CSV): published_at, headline, tickers, [source, body, url, id]; or RSS"
    " and Atom feeds (.xml, .rss, .atom), each item linked to the stored securities it names.",
)
_ingest_command(
    "securities",
    "Reference data: ticker, [name, exchange, currency, sector, industry, peer_group].",
)
_ingest_command(
    "kpis", "Company metrics: ticker, period_end, name, value, [unit, yoy (a fraction), source]."
)
_ingest_command(
    "aliases",
    "Other names news gives a security: ticker, alias (a brand, a short name or a $cashtag),"
    " matched when feed items are linked to tickers.",
)
_ingest_command(
    "notes",
    "Your theses, quoted in briefs as yours: Markdown notes whose front matter gives ticker,"
    " date and [author], or a table: ticker, written_on, text, [author].",
)


@app.command("consensus")
def show_consensus(
    ticker: Annotated[str, typer.Argument(help="Ticker, e.g. BABA.")],
    store: StoreOption = None,
    as_of: AsOfOption = None,
    fmt: OutputFormat = "table",
) -> None:
    """The analysts' consensus on a date: label, targets, upside and the firms behind it."""
    check_format(fmt)
    from rich.text import Text

    from stockbrief import api
    from stockbrief.text import strip_controls, terminal_text

    view = api.analyst_view(ticker, as_of=_date(as_of, "--as-of"), store=store)
    if fmt != "table":
        _write_consensus(view, fmt)
        return
    if view is None:
        when = f" on or before {as_of}" if as_of else ""
        out().print(f"no analyst ratings or consensus summary for {ticker.upper()}{when}")
        return
    upside = f"{view.upside:+.1%}" if view.upside is not None else "n/a"
    target = f"{view.target_mean:,.2f}" if view.target_mean is not None else "n/a"
    out().print(
        Text.assemble(
            f"{strip_controls(view.ticker)} as of {view.as_of}: ",
            (strip_controls(view.label or "n/a"), "bold"),
            f" (score {'n/a' if view.score is None else f'{view.score:.2f}'}), "
            f"mean target {target}, upside {upside} from {view.close:,.2f}",
        )
    )
    out().print(terminal_text(f"source: {view.method()}"))
    for firm in view.top_targets(5):
        out().print(
            terminal_text(f"  {firm.firm}: {firm.rating}, target {firm.target:,.2f} ({firm.date})")
        )


def _write_consensus(view: Any, fmt: str) -> None:
    """A consensus as one record: :class:`stockbrief.consensus.Consensus`'s fields and its
    ``upside`` and ``method``; JSON adds the per-label ``counts`` and the ``firms`` behind it,
    which CSV's one row cannot hold. No consensus: an empty list, or a header alone."""
    import dataclasses

    import polars as pl

    from stockbrief.consensus import Consensus

    nested = ("counts", "firms")
    names = [f.name for f in dataclasses.fields(Consensus)]
    scalar = [n for n in names if n not in nested] + ["upside", "method"]
    if view is None:
        if fmt == "json":
            write_records([])
        else:
            sys.stdout.write(",".join(scalar) + "\n")
        return
    record = {n: getattr(view, n) for n in names} | {"upside": view.upside, "method": view.method()}
    if fmt == "json":
        record["firms"] = [dataclasses.asdict(f) for f in view.firms]
        write_records([record])
        return
    row = {n: record[n] for n in scalar}
    sys.stdout.write(pl.DataFrame([row]).write_csv())


@app.command("news")
def show_news(
    ticker: Annotated[str, typer.Argument(help="Ticker, e.g. BABA.")],
    store: StoreOption = None,
    as_of: AsOfOption = None,
    days: Annotated[int, typer.Option(help="Days of news up to the date.")] = 7,
    fmt: OutputFormat = "table",
) -> None:
    """News about a ticker and its peers, with sentiment."""
    check_format(fmt)
    from rich.table import Table

    from stockbrief import api
    from stockbrief.peers import tone
    from stockbrief.text import terminal_text

    frame = api.news(ticker, as_of=_date(as_of, "--as-of"), days=days, store=store)
    if fmt != "table":
        write_frame(frame, fmt)
        return
    table = Table(title=f"news for {ticker.upper()} and peers")
    for name in ("published", "about", "role", "tone", "headline"):
        table.add_column(name)
    for row in frame.iter_rows(named=True):
        table.add_row(
            str(row["published_at"])[:16],
            terminal_text(row["about"]),
            terminal_text(row["role"]),
            f"{tone(row['sentiment'])} ({row['sentiment']:+.2f})",
            terminal_text(row["headline"]),
        )
    out().print(table)


@app.command()
def prices(
    ticker: Annotated[str, typer.Argument(help="Ticker, e.g. BABA.")],
    store: StoreOption = None,
    start: FromOption = None,
    end: ToOption = None,
    adjusted: Annotated[
        bool, typer.Option("--adjusted", help="Adjust for splits and dividends up to --to.")
    ] = False,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Print the daily bars of one ticker."""
    from stockbrief import api

    frame = api.prices(
        ticker, start=_date(start, "--from"), end=_date(end, "--to"), adjusted=adjusted, store=store
    )
    if csv:
        sys.stdout.write(frame.write_csv())
        return
    from rich.table import Table

    table = Table(
        title=f"{frame['ticker'][0] if frame.height else ticker.upper()}"
        f" ({'adjusted' if adjusted else 'as traded'})"
    )
    for name in ("date", "open", "high", "low", "close", "volume"):
        table.add_column(name, justify="left" if name == "date" else "right")
    for row in frame.iter_rows(named=True):
        table.add_row(
            row["date"].isoformat(),
            *(f"{row[c]:,.4f}" for c in ("open", "high", "low", "close")),
            f"{row['volume']:,}",
        )
    out().print(table)


INFO_LIST_MAX: Final = 40
"""Tickers up to which `info` lists each one; beyond, a summary (``--all`` lists them all)."""


@app.command()
def info(
    store: StoreOption = None,
    every: Annotated[
        bool, typer.Option("--all", help=f"List every ticker, also beyond {INFO_LIST_MAX}.")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", help="table, csv or json.", show_default=True)
    ] = "table",
) -> None:
    """List tickers with their date ranges and row counts."""
    from stockbrief import catalog

    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json", param_hint="--format")
    rows = catalog.holdings(store)
    if rows is None:  # no store, or one to migrate first: the full path says or does it
        from stockbrief import api

        rows = [catalog.Holding(*r) for r in api.info(store=store).iter_rows()]
    if fmt != "table":
        _write_holdings(rows, fmt)
        return
    from stockbrief.text import strip_controls, terminal_text

    where = str(catalog.store_path(store))
    if len(rows) <= INFO_LIST_MAX or every:
        from rich.table import Table

        table = Table(title=where)
        for name in catalog.Holding._fields:
            table.add_column(name, justify="right" if name in ("bars", "actions") else "left")
        for row in rows:
            table.add_row(
                terminal_text(row.ticker),
                str(row.first),
                str(row.last),
                f"{row.bars:,}",
                f"{row.actions:,}",
            )
        out().print(table)
        out().print(_holdings_total(rows))
        return
    # A universe is summed up in plain lines: loading Rich would cost more than the answer.
    latest = max(r.last for r in rows)
    behind = sorted((r for r in rows if r.last < latest), key=lambda r: (r.last, r.ticker))
    print(strip_controls(f"{where}: bars from {min(r.first for r in rows)} to {latest}"))
    if behind:
        names = ", ".join(r.ticker for r in behind[:5])
        print(
            strip_controls(
                f"{len(behind):,} {'ticker ends' if len(behind) == 1 else 'tickers end'} "
                f"before {latest} (earliest: {names}); "
                "--all lists every ticker"
            )
        )
    print(_holdings_total(rows))


def _holdings_total(rows: "list[catalog.Holding]") -> str:
    return (
        f"{len(rows)} tickers, {sum(r.bars for r in rows):,} bars, "
        f"{sum(r.actions for r in rows):,} actions"
    )


def _write_holdings(rows: "list[catalog.Holding]", fmt: str) -> None:
    """``info`` as CSV or JSON records on stdout, dates in ISO form."""
    import csv
    import json

    from stockbrief import catalog

    records = [{**r._asdict(), "first": str(r.first), "last": str(r.last)} for r in rows]
    if fmt == "json":
        sys.stdout.write(json.dumps(records) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=catalog.Holding._fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)


@app.command("doctor")
def run_doctor(
    ticker: Annotated[
        str | None,
        typer.Argument(
            help="Ticker to examine [default: every stored ticker].", show_default=False
        ),
    ] = None,
    store: StoreOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="text, csv or json.", show_default=True)
    ] = "text",
) -> None:
    """Suspicious bars, missing sessions and unadjusted splits, each with what to run to mend
    it; exits 1 when anything is found, 0 when the data look clean."""
    if fmt not in ("text", "csv", "json"):
        raise typer.BadParameter("use text, csv or json", param_hint="--format")
    from stockbrief import api

    report = api.doctor(ticker, store=store)
    for note in report.unchecked:
        err().print(f"note: {note}", highlight=False, soft_wrap=True)
    if fmt == "text":
        for row in report.findings.iter_rows(named=True):
            span = (
                str(row["date"]) if row["last"] == row["date"] else f"{row['date']}..{row['last']}"
            )
            out().print(
                f"{row['ticker']} {span} {row['kind']} (field {row['field']!r}): {row['message']}",
                highlight=False,
            )
            out().print(f"  to mend: {row['hint']}", highlight=False)
        out().print(report.summary(), highlight=False)
    else:
        frame = report.findings.drop("file", "row")
        sys.stdout.write(frame.write_csv() if fmt == "csv" else frame.write_json() + "\n")
        err().print(report.summary(), highlight=False)
    if not report.clean:
        raise typer.Exit(1)


def _list_indicators(fmt: str) -> None:
    """The default indicator set: name, output columns, lookback (warm-up sessions), reference."""
    import polars as pl
    from rich.table import Table

    from stockbrief.kernels import INDICATORS, reference

    frame = pl.DataFrame(
        {
            "name": list(INDICATORS),
            "columns": [", ".join(ind.outputs) for ind in INDICATORS.values()],
            "lookback": [ind.lookback for ind in INDICATORS.values()],
            "reference": [reference(ind) for ind in INDICATORS.values()],
        }
    )
    if fmt != "table":
        write_frame(frame, fmt)
        return
    table = Table(title=f"{frame.height} indicators (lookback: leading sessions without a value)")
    for name in frame.columns:
        table.add_column(name, justify="right" if name == "lookback" else "left")
    for row in frame.iter_rows():
        table.add_row(*(str(v) for v in row))
    out().print(table)


@app.command("indicators")
@_may_compile
def show_indicators(
    ticker: Annotated[
        str | None, typer.Argument(help="Ticker, e.g. BABA.", show_default=False)
    ] = None,
    store: StoreOption = None,
    as_of: AsOfOption = None,
    fmt: OutputFormat = "table",
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="JSON or CSV: every session up to the date, not the date alone."
        ),
    ] = False,
    catalogue: Annotated[
        bool,
        typer.Option(
            "--list", help="The indicators computed: columns, warm-up and reference, no ticker."
        ),
    ] = False,
) -> None:
    """Every indicator of one ticker on one date (prices adjusted for splits known then)."""
    check_format(fmt)
    from rich.table import Table

    if catalogue:
        _list_indicators(fmt)
        return
    if ticker is None:
        raise typer.BadParameter("name a ticker, or pass --list", param_hint="TICKER")
    from stockbrief import api

    frame = api.indicators(ticker, as_of=_date(as_of, "--as-of"), store=store)
    if fmt != "table":
        write_frame(frame if history else frame.tail(1), fmt)
        return
    last = frame.row(frame.height - 1, named=True)
    table = Table(title=f"{last['ticker']} as of {last['date']}")
    table.add_column("name")
    table.add_column("value", justify="right")
    for name, value in last.items():
        if name in ("ticker", "date"):
            continue
        if value is None:
            # Past the longest warm-up (252 sessions) a null means the value is undefined for
            # this input, such as relative volume of an index that reports no volume.
            text = "n/a (warm-up)" if frame.height <= 252 else "n/a (undefined for this data)"
        elif name in ("volume", "typical_volume_50", "obv", "ad", "adosc_3_10"):
            text = f"{value:,.0f}"
        elif name in ("return_1d", "roc_12", "volatility_60"):
            text = f"{value:+.4%}" if name != "volatility_60" else f"{value:.4%}"
        else:
            text = f"{value:,.4f}"
        table.add_row(name, text)
    out().print(table)


@app.command("events")
@_may_compile
def show_events(
    tickers: Annotated[
        list[str] | None, typer.Argument(help="Tickers [default: all].", show_default=False)
    ] = None,
    store: StoreOption = None,
    as_of: AsOfOption = None,
    since: Annotated[str | None, typer.Option("--since", help="First date, YYYY-MM-DD.")] = None,
    fmt: OutputFormat = "table",
) -> None:
    """Events (crosses, breakouts, surges, gaps, new highs) up to a date."""
    check_format(fmt)
    from rich.table import Table

    from stockbrief import api
    from stockbrief.text import terminal_text

    frame = api.events(
        tickers or None, as_of=_date(as_of, "--as-of"), since=_date(since, "--since"), store=store
    )
    if fmt != "table":
        write_frame(frame, fmt, json_columns=("detail",))
        return
    table = Table(title=f"{frame.height} events")
    for name in ("ticker", "date", "kind", "value", "detail"):
        table.add_column(name, justify="right" if name == "value" else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(
            terminal_text(row["ticker"]),
            str(row["date"]),
            terminal_text(row["kind"]),
            f"{row['value']:,.4f}",
            terminal_text(row["detail"]),
        )
    out().print(table)


@app.command("compute")
@_may_compile
def compute_store(
    store: StoreOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Recompute all history instead of extending it.")
    ] = False,
    engine: Annotated[
        str, typer.Option(help="local (one process) or dask (partitions on Dask workers).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address; default: a local cluster of 2 processes."),
    ] = None,
    dataset: Annotated[
        Path | None,
        typer.Option(
            help="Folder the bars are exported to for the workers (dask engine); on a "
            "multi-machine cluster, one every host mounts at the same path."
        ),
    ] = None,
    partitions: Annotated[
        int, typer.Option(min=1, help="Ticker-hash partitions of the export (dask engine).")
    ] = 16,
) -> None:
    """Bring indicators and stored events up to date (incrementally after the first run)."""
    if engine not in ("local", "dask"):
        raise typer.BadParameter("use local or dask", param_hint="--engine")
    if engine == "dask":
        require_extra("dask")
    from stockbrief import catalog

    if engine == "local" and not full and catalog.engine_current(store):
        print(NOTHING_NEW)  # plain: loading Rich would double the cost of saying it
        return
    from stockbrief import api

    if engine == "dask":
        with DISPLAY.task(f"computing {partitions} partitions on Dask"):
            report = api.refresh_on_dask(
                dataset=dataset, scheduler=scheduler, partitions=partitions, store=store
            )
        out().print(report.summary() + " (on Dask)")
        return
    with DISPLAY.task("computing tickers") as update:
        report = api.refresh(store, full=full, progress=update)
    from stockbrief.text import strip_controls

    print(strip_controls(report.summary()))  # plain, as above: the daily run need not load Rich


@app.command("brief")
@_may_compile
def write_brief(
    ticker: Annotated[str, typer.Argument(help="Ticker, e.g. BABA.")],
    store: StoreOption = None,
    as_of: AsOfOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="md, html, json or pdf.", show_default=True)
    ] = "md",
    lang: Annotated[str, typer.Option(help="en or de.")] = "en",
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="File or folder to write; default: print (md, json)."),
    ] = None,
    no_facts: Annotated[
        bool,
        typer.Option(
            "--no-facts",
            help="Leave out the facts: the appendix of html and pdf, the facts object of json.",
        ),
    ] = False,
) -> None:
    """Write the market note of one ticker on one date."""
    from stockbrief import api
    from stockbrief.notes import render
    from stockbrief.notes.narrative import LANGS

    if fmt not in render.FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(render.FORMATS)}", param_hint="--format")
    if lang not in LANGS:
        raise typer.BadParameter("use en or de", param_hint="--lang")
    kind = fmt
    asked = _date(as_of, "--as-of")
    printed = out_path is None and kind in ("md", "json")
    where = out_path or Path("briefs")
    if not printed:
        api.check_out(where, folder=_names_folder(where))
    note = api.brief(ticker, as_of=asked, lang=lang, store=store)
    if asked is not None and note.as_of != asked:
        err().print(
            f"note: {note.ticker} has no session on {asked}; the brief is as of {note.as_of}"
        )
    if printed:
        sys.stdout.write(str(render.render(note, kind, facts=not no_facts)))
        return
    _write_note(note, kind, where, facts=not no_facts)


def _names_folder(path: Path) -> bool:
    """Whether ``--out`` names a folder (an existing one, or a name without a suffix), as
    :func:`stockbrief.notes.render.write` reads it."""
    return path.is_dir() or path.suffix == ""


def _write_note(note: "Brief", fmt: "Format", where: Path, *, facts: bool = True) -> Path:
    """Write a brief to a file or a folder and say so, and whether it replaced a file."""
    from stockbrief.notes import render

    target = where / render.default_name(note, fmt) if _names_folder(where) else where
    existed = target.exists()
    try:
        render.write(note, fmt, target, facts=facts)
    except OSError as exc:
        raise StockbriefError(f"cannot write {target}: {exc.strerror or exc}") from None
    out().print(f"{'replaced' if existed else 'wrote'} {target}")
    return target


@app.command("fetch")
def fetch(
    tickers: Annotated[
        list[str] | None,
        typer.Argument(help="Tickers, e.g. BABA 0700.HK (or `news` with --feed only)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="First date, YYYY-MM-DD (default: five years ago)."),
    ] = None,
    feed: Annotated[
        list[str] | None,
        typer.Option("--feed", help="An RSS or Atom feed URL to read news from (repeatable)."),
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option(
            "--provider",
            help="yahoo or sec (SEC EDGAR's KPIs of US filers; set STOCKBRIEF_SEC_USER_AGENT);"
            " repeat for both, the first one's KPIs standing (default: STOCKBRIEF_PROVIDERS,"
            " else the settings' [providers], else yahoo).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Settings file (TOML) whose [providers] table says which provider to try for"
            " prices, KPIs and news; default $STOCKBRIEF_CONFIG, then stockbrief.toml beside"
            " the store.",
        ),
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Download again a ticker already fetched today (kept beside the store).",
        ),
    ] = False,
    store: StoreOption = None,
    replace: ReplaceOption = False,
) -> None:
    """Download prices, splits, dividends, analysts' ratings and consensus, the profile, news
    and income-statement KPIs from Yahoo Finance; with --feed, news from RSS or Atom feeds."""
    from stockbrief import api

    symbols = list(tickers or [])
    if feed and [t.lower() for t in symbols] == ["news"]:
        symbols = []
    if not symbols and not feed:
        raise typer.BadParameter("name at least one ticker, or --feed URL", param_hint="TICKERS")
    from stockbrief import config as settings

    for name in provider or []:
        if name not in api.PROVIDERS:
            raise typer.BadParameter(
                f"{name!r}: use {' or '.join(api.PROVIDERS)}", param_hint="--provider"
            )
    path, asked = settings.config_path(config, api.store_path(store))
    plan = settings.load(path, required=asked).providers
    if symbols:
        chosen = api.provider_plan(provider or None, plan)
        if "yahoo" in chosen.downloads:
            require_extra("yahoo")
        start = _date(since, "--since")
        reports = api.fetch(
            symbols,
            since=start,
            store=store,
            replace=replace,
            cached=not refresh,
            providers=provider or None,  # type: ignore[arg-type]
            plan=plan,
        )
        for report in reports:
            out().print(report.summary())
    if feed:
        out().print(api.ingest("news", feed, store=store, replace=replace).summary())


@app.command("check")
@_may_compile
def check_note(
    note: Annotated[Path, typer.Argument(help="A market note (text file) to check.")],
    ticker: Annotated[str, typer.Option("--ticker", help="The ticker the note is about.")],
    store: StoreOption = None,
    as_of: AsOfOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table, json or md.", show_default=True)
    ] = "table",
    lang: Annotated[
        str, typer.Option("--lang", help="en, de or auto (told from the text).", show_default=True)
    ] = "auto",
) -> None:
    """Check the numeric claims of someone else's note; exit 1 unless every claim holds."""
    if fmt not in ("table", "json", "md"):
        raise typer.BadParameter("use table, json or md", param_hint="--format")
    if lang not in ("en", "de", "auto"):
        raise typer.BadParameter("use en, de or auto", param_hint="--lang")
    if not note.is_file():
        raise typer.BadParameter(f"{note}: no such file", param_hint="NOTE")
    from stockbrief import api, claims

    found = api.check(
        note.read_text(encoding="utf-8"),
        ticker,
        as_of=_date(as_of, "--as-of"),
        store=store,
        lang=lang,  # type: ignore[arg-type]
    )
    held = sum(c.holds for c in found)
    if fmt == "json":
        sys.stdout.write(claims.to_json(found) + "\n")
    elif fmt == "md":
        sys.stdout.write(claims.to_markdown(found, f"{len(found)} claims in {note.name}"))
    else:
        from rich.table import Table
        from rich.text import Text

        from stockbrief.text import strip_controls, terminal_text

        table = Table(title=terminal_text(f"{len(found)} claims in {note.name}"), show_lines=True)
        for name in ("claim", "in the note", "in the data", "verdict", "source"):
            table.add_column(name, overflow="fold")
        colours = {"holds": "green", "off": "yellow", "contradicted": "red", "unverifiable": "dim"}
        for claim in found:
            table.add_row(
                terminal_text(claim.label),
                terminal_text(claim.written),
                terminal_text(claim.actual),
                Text(strip_controls(claim.verdict_text), style=colours[claim.verdict]),
                terminal_text(claim.source),
            )
        out().print(table)
        out().print(f"{held} of {len(found)} claims hold")
    if held < len(found):
        raise typer.Exit(1)


@app.command("study")
@_may_compile
def run_study(
    event: Annotated[
        str | None, typer.Argument(help="Event kind, e.g. cross_above_sma_200.")
    ] = None,
    ticker: Annotated[
        list[str] | None, typer.Option("--ticker", help="Study these tickers only.")
    ] = None,
    universe: Annotated[
        bool, typer.Option("--universe", help="Study every stored ticker (the default).")
    ] = False,
    horizons: Annotated[str, typer.Option(help="Sessions ahead, comma-separated.")] = "5,20,60",
    until: Annotated[
        str | None, typer.Option("--until", help="Last date whose data may be used.")
    ] = None,
    where: Annotated[
        str | None, typer.Option("--where", help="Extra condition, e.g. 'rel_volume >= 2'.")
    ] = None,
    store: StoreOption = None,
    fmt: OutputFormat = "table",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the whole result as one JSON object: table, counts, method."
        ),
    ] = False,
    strategy: Annotated[
        bool, typer.Option("--strategy", help="Trade the event: next open, hold, vs buy-and-hold.")
    ] = False,
    hold: Annotated[int, typer.Option("--hold", help="Sessions a --strategy trade is held.")] = 20,
    cost_bp: Annotated[
        float, typer.Option("--cost-bp", help="Cost of each --strategy buy and sale, in bp.")
    ] = 5.0,
    calibration: Annotated[
        bool,
        typer.Option("--calibration", help="Replay past verdicts and measure how often they held."),
    ] = False,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Write the --strategy or --calibration PNG here.")
    ] = None,
) -> None:
    """Event study: what followed every past occurrence of an event, against the base rate.

    ``--format json|csv`` prints the table of horizons (the result's ``table`` frame); the
    method and counts are in ``--json``. ``--strategy`` trades the event instead and
    ``--calibration`` (no event) replays every past verdict; ``--chart FILE.png`` draws them."""
    check_format(fmt)
    if chart is not None:
        if chart.suffix.lower() != ".png":
            raise typer.BadParameter("name a .png file", param_hint="--chart")
        if not (strategy or calibration):
            raise typer.BadParameter("needs --strategy or --calibration", param_hint="--chart")
    if strategy and calibration:
        raise typer.BadParameter(
            "use --strategy or --calibration, not both", param_hint="--strategy"
        )
    if calibration or strategy:
        _study_extra(event, ticker, until, store, strategy, hold, cost_bp, chart)
        return
    if event is None:
        raise typer.BadParameter("name an event kind, e.g. golden_cross", param_hint="EVENT")
    try:
        spans = [int(h) for h in horizons.split(",") if h.strip()]
    except ValueError:
        raise typer.BadParameter(
            "use whole numbers, e.g. 5,20,60", param_hint="--horizons"
        ) from None
    if ticker and universe:
        raise typer.BadParameter("use --ticker or --universe, not both", param_hint="--universe")
    from stockbrief import api

    with DISPLAY.task(f"studying {event}"):
        result = api.study(
            event,
            tickers=ticker or None,
            horizons=spans,
            until=_date(until, "--until"),
            where=where,
            store=store,
        )
    if as_json:
        import json

        sys.stdout.write(json.dumps(result.to_json(), indent=2, default=str) + "\n")
        return
    if fmt != "table":
        write_frame(result.table, fmt)
        return
    from stockbrief.text import terminal_text

    out().print(terminal_text(result.summary()), highlight=False)


def _study_extra(
    event: str | None,
    ticker: list[str] | None,
    until: str | None,
    store: Any,
    strategy: bool,
    hold: int,
    cost_bp: float,
    chart: Path | None,
) -> None:
    """``study --strategy`` and ``study --calibration``: a table, and the chart when asked."""
    from stockbrief import api
    from stockbrief.text import terminal_text

    if chart is not None:
        api.check_out(chart, folder=False)
    if strategy:
        if event is None:
            raise typer.BadParameter("name the event to trade", param_hint="EVENT")
        from stockbrief.evidence.strategy import plot_strategy

        with DISPLAY.task(f"trading {event}"):
            traded = api.study_strategy(
                event,
                tickers=ticker or None,
                hold=hold,
                cost_bp=cost_bp,
                until=_date(until, "--until"),
                store=store,
            )
        text, figure = traded.summary(), (plot_strategy(traded) if chart else None)
    else:
        if event is not None or ticker:
            raise typer.BadParameter(
                "--calibration replays every setup of the stored universe; drop the event "
                "and --ticker",
                param_hint="--calibration",
            )
        from stockbrief.evidence.calibration import plot_reliability

        with DISPLAY.task("replaying past verdicts"):
            replayed = api.study_calibration(until=_date(until, "--until"), store=store)
        text, figure = replayed.summary(), (plot_reliability(replayed) if chart else None)
    out().print(terminal_text(text), highlight=False)
    if figure is not None and chart is not None:
        figure.savefig(chart, dpi=110)
        out().print(f"chart written to {terminal_text(str(chart))}", highlight=False)


@app.command("screen")
@_may_compile
def run_screen(
    expression: Annotated[
        str | None, typer.Argument(help="A condition, e.g. 'close > sma_200', or a preset name.")
    ] = None,
    store: StoreOption = None,
    as_of: AsOfOption = None,
    sort: Annotated[str | None, typer.Option(help="Column to sort by (descending).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    presets: Annotated[
        bool, typer.Option("--list", help="List the presets and saved screens, and exit.")
    ] = False,
    save: Annotated[
        str | None, typer.Option("--save", help="Keep the screen (and --sort) under this name.")
    ] = None,
    saved: Annotated[
        str | None, typer.Option("--saved", help="Run the screen saved under this name.")
    ] = None,
) -> None:
    """Today's setups across the universe: a condition over indicators and events, or a preset."""
    check_format(fmt)
    from rich.table import Table

    from stockbrief import api, screening
    from stockbrief.text import terminal_text

    if saved is not None and (expression is not None or save is not None):
        raise typer.BadParameter(
            "--saved runs a saved screen; drop the expression and --save", param_hint="--saved"
        )
    if save is not None and expression is None:
        raise typer.BadParameter("name the screen to save", param_hint="EXPRESSION")
    if presets or (expression is None and saved is None):
        table = Table(title="screen presets")
        for name in ("preset", "expression", "meaning"):
            table.add_column(name)
        for name, (text, meaning) in screening.PRESETS.items():
            table.add_row(name, text, meaning)
        out().print(table)
        if api.store_path(store).exists() and (kept := api.saved_screens(store=store)):
            table = Table(title="saved screens (stockbrief screen --saved NAME)")
            for name in ("name", "expression", "sort"):
                table.add_column(name)
            for screen in kept:
                parts = (screen.name, screen.expression, screen.sort or "by ticker")
                table.add_row(*map(terminal_text, parts))
            out().print(table)
        return
    shown: tuple[str, ...] = ()
    if saved is not None:
        found = api.saved_screen(saved, store=store)
        expression, sort, shown = found.expression, sort or found.sort, found.columns
    elif save is not None:
        kept_as = api.save_screen(save, expression or "", sort=sort, store=store)
        out().print(terminal_text(f"saved as {kept_as.name!r}"), highlight=False)
    assert expression is not None
    found_rows = api.screen(expression, as_of=_date(as_of, "--as-of"), sort=sort, store=store)
    picked = [c for c in shown if c in found_rows.columns and c != "ticker"]
    frame = found_rows.select("ticker", *picked) if picked else found_rows
    if fmt != "table":
        write_frame(frame, fmt)
        return
    matches = f"{frame.height} match{'' if frame.height == 1 else 'es'}"
    table = Table(title=terminal_text(f"{matches}: {expression}"))
    for name in frame.columns:
        table.add_column(name, justify="left" if name in ("ticker", "date") else "right")
    for row in frame.iter_rows():
        table.add_row(*(f"{v:,.4g}" if isinstance(v, float) else terminal_text(v) for v in row))
    out().print(table)
    session, traded, stored = api.screen_coverage(_date(as_of, "--as-of"), store=store)
    if session is not None and traded < stored:
        out().print(
            f"screened {session}: {traded} of {stored} tickers traded that day; the other "
            f"{stored - traded} have no bar on it and were not screened"
        )


@app.command("run")
@_may_compile
def daily_run(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the briefs and index.")],
    watchlist: Annotated[
        str | None,
        typer.Option(
            "--watchlist",
            help="A file of tickers (one per line, or a CSV ticker column), or the name of a"
            " list stored from the dashboard. Without it, the [[alert]] tables of the settings"
            " file say what to run.",
        ),
    ] = None,
    store: StoreOption = None,
    as_of: AsOfOption = None,
    lang: Annotated[str, typer.Option(help="en or de.")] = "en",
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            help="Send each brief as an alert to this Apprise URL (mailto://, json://, ntfy://,"
            " slack://, ...); repeatable. Each goes once per session and destination.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Settings file (TOML) with [[alert]] tables; default $STOCKBRIEF_CONFIG, then"
            " stockbrief.toml beside the store.",
        ),
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help="Files written per brief: md, html, json, pdf; repeatable or comma-separated"
            " [default: md, html, json].",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what alerts would be sent; send nothing.")
    ] = False,
) -> None:
    """The daily run: update events, brief every watched ticker with a notable event, index.

    Exit codes: 0 done, 1 a user error, 2 some alerts could not be delivered (the next run of
    the same session retries them).
    """
    from stockbrief import api

    # Mistakes in the options and the settings are told before the progress display starts.
    jobs = _run_jobs(watchlist, lang, notify or [], config, store)
    written_formats = _run_formats(formats)
    for job in jobs:
        job["formats"] = written_formats
    api.check_out(out_dir)
    if "pdf" in written_formats or any(job.get("attach") == "pdf" for job in jobs):
        require_extra("pdf")
    if any(job["notify"] for job in jobs):
        require_extra("alerts")
    reports = []
    try:
        with DISPLAY.task("updating events, then writing briefs") as update:
            written = 0

            def step(ticker: str) -> None:
                nonlocal written
                written += 1
                update(written, description=f"brief {ticker}")

            for job in jobs:
                reports.append(
                    api.daily_run(
                        out=out_dir,
                        as_of=_date(as_of, "--as-of"),
                        store=store,
                        progress=step,
                        dry_run=dry_run,
                        **job,
                    )
                )
    except KeyboardInterrupt as exc:
        # The run keeps its index current, and says in a note where it is.
        notes = getattr(exc, "__notes__", [])
        err().print("; ".join(["interrupted", *notes]), highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except StockbriefError as exc:
        notes = getattr(exc, "__notes__", [])
        if notes:
            raise StockbriefError("; ".join([str(exc), *notes])) from None
        raise
    for job, report in zip(jobs, reports, strict=True):
        _print_run(report, job.get("alert"))
    if any(report.failed for report in reports):
        raise typer.Exit(EXIT_FAILED_DELIVERIES)


def _run_jobs(
    watchlist: str | None, lang: str, notify: list[str], config: Path | None, store: Path | None
) -> list[dict[str, Any]]:
    """What the daily run does: the watchlist of the options, or each ``[[alert]]`` table."""
    from stockbrief import api
    from stockbrief import config as settings
    from stockbrief.notes.narrative import LANGS

    if lang not in LANGS:
        raise typer.BadParameter("use en or de", param_hint="--lang")
    if watchlist is not None:
        if Path(watchlist).exists():
            api.read_watchlist(Path(watchlist))
        return [{"watchlist": watchlist, "lang": lang, "notify": notify}]
    path, asked = settings.config_path(config, api.store_path(store))
    rules = settings.load(path, required=asked).alerts
    if not rules:
        raise typer.BadParameter(
            f"give a watchlist, or [[alert]] tables in a settings file ({path} has none)",
            param_hint="--watchlist",
        )
    jobs = []
    for rule in rules:
        beside = path.parent / rule.watchlist
        listed: str | Path = beside if beside.exists() else rule.watchlist
        if isinstance(listed, Path):
            api.read_watchlist(listed)
        jobs.append(
            {
                "watchlist": listed,
                "lang": rule.lang,
                "notify": list(rule.notify),
                "rule": rule.rule,
                "alert": rule.name,
                "attach": rule.format,
            }
        )
    return jobs


RUN_FORMATS: Final = ("md", "html", "json", "pdf")


def _run_formats(given: list[str] | None) -> tuple[str, ...]:
    """The brief formats the daily run writes, from ``--format`` (repeated or comma lists)."""
    if not given:
        return ("md", "html", "json")
    asked = [f.strip().lower() for value in given for f in value.split(",") if f.strip()]
    wrong = [f for f in asked if f not in RUN_FORMATS]
    if wrong or not asked:
        raise typer.BadParameter(
            f"{wrong[0] if wrong else 'nothing'!r}: use {', '.join(RUN_FORMATS)}",
            param_hint="--format",
        )
    return tuple(dict.fromkeys(asked))


def _print_run(report: "api.RunReport", alert: str | None) -> None:
    from stockbrief.text import strip_controls

    for path in report.replaced[:REPLACED_SHOWN]:
        out().print(f"replaced {path}")
    if len(report.replaced) > REPLACED_SHOWN:
        out().print(f"replaced {len(report.replaced) - REPLACED_SHOWN:,} more files")
    for ticker in report.skipped:
        err().print(f"warning: {ticker} is not in the store; skipped", highlight=False)
    for delivery in report.deliveries:
        line = f"alert {delivery.ticker} -> {delivery.shown}: {delivery.outcome}"
        if delivery.error:
            line += f" ({delivery.error})"
        out().print(strip_controls(line), highlight=False, soft_wrap=True)
    prefix = f"[{strip_controls(alert)}] " if alert else ""
    out().print(prefix + report.summary(), highlight=False, soft_wrap=True)


EXIT_FAILED_DELIVERIES: Final = 2
"""Exit code of a daily run in which some alerts were not delivered."""

REPLACED_SHOWN: Final = 10
"""Replaced files the daily run names one by one; the rest it counts."""


@export_app.command("parquet")
def export_parquet(
    folder: Annotated[Path, typer.Argument(help="Folder for the partitioned dataset.")],
    store: StoreOption = None,
    partitions: Annotated[int, typer.Option(help="Partitions (by ticker hash).")] = 16,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing dataset in the folder.")
    ] = False,
) -> None:
    """Bars as Parquet partitioned by ticker hash (folder/part=K/), for Dask workers."""
    from stockbrief import api

    rows = api.export_parquet(folder, partitions=partitions, overwrite=overwrite, store=store)
    out().print(f"wrote {rows:,} bars in {partitions} partitions to {folder}")


@app.command("serve")
@_may_compile
def serve(
    store: StoreOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback exposes the store.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the local web dashboard (extra [web])."""
    require_extra("web")
    from stockbrief import api
    from stockbrief.web import serve as run_server

    run_server(api.store_path(store), host=host, port=port)


@app.command("delete")
def delete(
    ticker: Annotated[str, typer.Argument(help="Ticker, e.g. BABA.")],
    store: StoreOption = None,
    start: FromOption = None,
    end: ToOption = None,
    what: Annotated[
        str,
        typer.Option(
            "--what",
            help="bars, actions, ratings, consensus, news, kpis or all.",
            show_default=True,
        ),
    ] = "all",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be deleted; change nothing.")
    ] = False,
) -> None:
    """Delete a ticker's rows (all, or from/to a date) in one transaction; the next compute
    recomputes its events."""
    from stockbrief import api

    if what not in api.DELETE_WHAT:
        raise typer.BadParameter(f"use one of {', '.join(api.DELETE_WHAT)}", param_hint="--what")
    report = api.delete(
        ticker,
        what=what,  # type: ignore[arg-type]  # checked against DELETE_WHAT above
        start=_date(start, "--from"),
        end=_date(end, "--to"),
        dry_run=dry_run,
        store=store,
    )
    out().print(report.summary(), highlight=False)


@app.command()
@_may_compile
def demo(
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Store file for the sample [default: stockbrief-demo.duckdb beside the"
            " default store, never that store itself]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load the embedded sample (AAPL, FB, GOOG, IBM, MSFT 2000-2013) into a store of its
    own, and write a brief."""
    from stockbrief import api

    path = api.demo_store_path(store)
    folder = api.Settings().briefs
    api.check_out(folder)
    out().print(
        f"demo store: {path} (the sample's own; ingest and the other commands use"
        f" {api.store_path()} unless given --store)",
        highlight=False,
    )
    for report in api.load_sample(path):
        out().print(report.summary())
    info(path)
    ticker, day = api.notable_day(path)
    note = api.brief(ticker, as_of=day, store=path)
    out().print()
    out().print(note.headline, style="bold")
    out().print(f"brief for {ticker} on {day}:")
    for fmt in ("md", "html", "json"):
        _write_note(note, fmt, folder)
    out().print(
        f"to explore the sample, give commands --store {path}, e.g."
        f" stockbrief screen breakouts --store {path}",
        highlight=False,
    )


def main() -> None:
    """Entry point: user mistakes print one line and exit 1, never a traceback."""
    # The store says on stderr when it waits for another stockbrief command.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        app()
    except StockbriefError as exc:
        from rich.text import Text

        err().print(
            Text.assemble(("error:", "bold red"), f" {exc}"), highlight=False, soft_wrap=True
        )
        sys.exit(1)
