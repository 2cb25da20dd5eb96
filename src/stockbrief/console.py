"""What the command line writes: its consoles, the progress display, machine-readable output,
and the check that an optional extra is installed before any work.

Kept apart from :mod:`stockbrief.cli`, which holds the commands; nothing here loads Rich or
Polars until a command writes something.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import typer

from stockbrief.errors import StockbriefError

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console
    from rich.progress import Progress, TaskID


@functools.cache
def out() -> Console:
    """Standard output, created on first use so that ``--help`` never loads Rich.

    Markup is off: tickers, headlines, firm names and file names are data, never Rich markup.
    """
    from rich.console import Console

    return Console(soft_wrap=True, markup=False)


@functools.cache
def err() -> Console:
    """Standard error, for notes, progress and the one-line errors; markup off as in :func:`out`."""
    from rich.console import Console

    return Console(stderr=True, markup=False)


EXTRAS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "alerts": ("notifications (--notify, [[alert]])", ("apprise",)),
    "dask": ("the dask engine", ("dask", "distributed")),
    "pdf": ("PDF output", ("weasyprint",)),
    "web": ("the dashboard", ("fastapi", "uvicorn", "fastapi_offline")),
    "yahoo": ("downloading from Yahoo Finance", ("yfinance", "requests")),
}
"""Each optional extra of the package: what needs it, and the modules it installs."""


def require_extra(extra: str) -> None:
    """Refuse at once, with the line that installs it, when an optional extra is missing.

    Called before any work, so that a missing extra never costs a computation first. Only
    looks the modules up (no import): importing WeasyPrint or Dask alone takes a second.
    """
    import importlib.util

    what, modules = EXTRAS[extra]
    missing = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(module)
    if missing:
        raise StockbriefError(
            f"{what} needs the {extra} extra ({', '.join(missing)} not installed):"
            f" pip install 'stockbrief[{extra}]'"
        )


class Display:
    """The progress display on stderr, one per process, shared by a command's steps and the
    compile spinner (Rich shows one live display per console at a time).

    It shows only on a terminal: piped or redirected, stderr gets the plain notes alone. While
    it shows, standard output is routed above it when that is the terminal too, so a table
    printed meanwhile is never torn by the spinner.
    """

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._open = 0
        self._compiling: TaskID | None = None

    def _start(self) -> Progress | None:
        if not sys.stderr.isatty() or not err().is_terminal:  # asked first: Rich costs a load
            return None
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err(),
                transient=True,
                redirect_stdout=sys.stdout.isatty(),
                redirect_stderr=False,
            )
            self._progress.start()
        self._open += 1
        return self._progress

    def _release(self) -> None:
        self._open -= 1
        if self._open <= 0 and self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._open = 0

    @contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
        """A bar (or, without a total, a spinner) for one step; yields ``update(done, total)``."""
        progress = self._start()
        if progress is None:
            yield lambda *_, **__: None
            return
        task = progress.add_task(description, total=total)
        progress.refresh()

        def update(done: int, total: int | None = None, description: str | None = None) -> None:
            self.compiled()  # the first step that reports has its kernels
            # Drawn at once: the display's own refresh comes 10 times a second, and a step
            # that ends sooner would never be seen done.
            progress.update(
                task, completed=done, total=total, description=description, refresh=True
            )

        try:
            yield update
        finally:
            progress.remove_task(task)
            self._release()

    def compiling(self) -> None:
        """Spin beside the compile notice until :meth:`compiled`."""
        if self._compiling is not None:
            return
        progress = self._start()
        if progress is not None:
            self._compiling = progress.add_task("compiling kernels", total=None)
            progress.refresh()

    def compiled(self) -> None:
        """Stop the compile spinner, if it spins."""
        if self._compiling is not None and self._progress is not None:
            self._progress.remove_task(self._compiling)
            self._compiling = None
            self._release()


DISPLAY: Final = Display()
"""The process's progress display on stderr."""


def check_format(fmt: str) -> None:
    """A usage error for an unknown ``--format``, before any work."""
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("use table, json or csv", param_hint="--format")


def json_value(value: Any) -> Any:
    """A frame cell as JSON: ISO dates and times, and null for NaN (which JSON cannot carry)."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


def write_records(records: list[dict[str, Any]]) -> None:
    """A JSON list of records on stdout."""
    import json

    rows = [{k: json_value(v) for k, v in r.items()} for r in records]
    sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=json_value) + "\n")


def write_frame(frame: pl.DataFrame, fmt: str, *, json_columns: tuple[str, ...] = ()) -> None:
    """A frame as JSON records (ISO dates) or CSV (Polars), its columns named as in the API.

    ``json_columns`` hold JSON text (an event's ``detail``): JSON output nests them as
    objects, CSV keeps the text.
    """
    if fmt == "csv":
        sys.stdout.write(frame.write_csv())
        return
    import json

    records = frame.to_dicts()
    for record in records:
        for name in json_columns:
            if isinstance(record.get(name), str):
                record[name] = json.loads(record[name])
    write_records(records)
