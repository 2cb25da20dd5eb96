"""What each user command costs on a small and on a big store, paid the way a user pays it.

Run: ``python -m benchmarks.store``. Every command is its own ``python -m stockbrief`` process,
so interpreter start, imports and opening the store count, as they do at a prompt. Two stores:
the 30 real files of ``../shared/data/yahoo-30`` and a synthetic universe of 5,000 tickers x
2,520 sessions. Each store is built with its last session held back, computed, then given that
session and computed again, so ``compute`` after one new session can be timed on a copy of the
store as it was the evening before.

Targets: per-ticker commands (brief, indicators, events, check) at most 1.5x slower on the big
store than on the small one; ``compute`` after one new session under 0.5 s beyond interpreter
start, with nothing new under 0.2 s beyond start; ``--help`` under 0.2 s; ``info`` on the big
store under 0.3 s.

Beside ``compute`` after one new session, the table times its floor: the store work that no
implementation of the daily path can skip, done with numpy and DuckDB alone
(:mod:`benchmarks.daily_floor`), so the distance between the two is what the code costs.

Options: ``--tickers N --days N`` scale the big store down for a quick try; ``--keep DIR`` keeps
the built stores there and reuses them on the next run (the big one costs minutes to build);
``--python-path DIR`` times another copy of the code (e.g. a worktree's ``src``); ``--repeat N``
runs of each command (a run slower than ``--slow`` seconds is not repeated).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from benchmarks.universe import sessions, write_universe

SHARED = Path(__file__).resolve().parents[2] / "shared"
YAHOO = SHARED / "data" / "yahoo-30"
NOTE = SHARED / "seed" / "alibaba-2026-01-03.txt"
DAILY_FLOOR = Path(__file__).with_name("daily_floor.py")
"""The store work any daily compute pays, timed beside it (see :mod:`benchmarks.daily_floor`)."""
YAHOO_DAY = dt.date(2026, 3, 25)
"""The last finished session of the yahoo-30 files (their last row is a partial session)."""
LAUNCHER = """
import json, os, subprocess, sys, threading, time
result, timeout, *argv = sys.argv[1:]
start = time.perf_counter()
proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
killer = threading.Timer(float(timeout), proc.kill)
killer.start()
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - start
killer.cancel()
proc.returncode = code = os.waitstatus_to_exitcode(status)
with open(result, "w") as f:
    json.dump({"wall": wall, "rss_kib": usage.ru_maxrss, "code": code}, f)
"""
"""Starts one command and reports its wall time, exit code and peak RSS (``wait4``).

A child's ``ru_maxrss`` starts from the peak of the process that started it (Linux carries
it across ``exec``), and this benchmark holds a whole synthetic universe at times; so each
command is started from this bare interpreter (``-S``: no site, about 10 MiB), not from here.
"""
SETTLE = "import sys; from stockbrief.store import Store; Store(sys.argv[1]).close()"
"""Opens and closes a store as a writer, changing nothing."""
SETUP_KINDS = "kind LIKE 'gap_%' OR kind LIKE 'cross_%' OR kind = 'volume_surge' \
OR kind IN ('golden_cross', 'death_cross')"
"""Events a brief treats as the day's setup: it then runs the setup's event study."""


class StepError(Exception):
    """A command the benchmark needs in order to time another one failed."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


@dataclass(frozen=True)
class Run:
    """One finished child process."""

    wall: float
    rss_mib: float
    code: int
    stdout: str
    stderr: str

    def last_error_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"exit {self.code}, nothing on stderr"


@dataclass
class Timing:
    """The runs of one command on one store; ``error`` is set when a run failed."""

    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def best(self) -> float:
        return min(r.wall for r in self.runs)

    @property
    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def peak_mib(self) -> float:
        return max(r.rss_mib for r in self.runs)

    def cell(self) -> str:
        if self.error is not None:
            return f"{'FAILED':>25}"
        return f"{self.best:7.3f} {self.median:7.3f} {self.peak_mib:6.0f} {len(self.runs):2d}"


class Runner:
    """Starts ``python -m stockbrief`` children with one environment, in one working folder.

    The working folder is the temp (or kept) folder, so anything a command writes beside
    itself never lands in the checkout.
    """

    def __init__(self, python_path: str | None, cwd: Path, timeout: float) -> None:
        self.env = dict(os.environ)
        self.env.pop("STOCKBRIEF_STORE", None)
        if python_path:
            self.env["PYTHONPATH"] = python_path
        self.cwd = cwd
        self.timeout = timeout

    def compile_code(self) -> None:
        """Byte-compile the code under test, as an install does: a run with
        ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every module from source
        each time (a quarter of a second no user pays twice)."""
        self.must_python(
            "-c",
            "import compileall, os, stockbrief; "
            "compileall.compile_dir(os.path.dirname(stockbrief.__file__), quiet=1)",
        )

    def python(self, *args: str) -> Run:
        """Run the interpreter with ``args`` through :data:`LAUNCHER`, which times it."""
        with (
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
            tempfile.TemporaryDirectory() as tmp,
        ):
            result = Path(tmp) / "run.json"
            launcher = [sys.executable, "-S", "-c", LAUNCHER, str(result), str(self.timeout)]
            subprocess.run(
                [*launcher, sys.executable, *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=self.env,
                cwd=self.cwd,
                check=True,
            )
            measured = json.loads(result.read_text())
            out.seek(0)
            err.seek(0)
            stdout, stderr = (f.read().decode(errors="replace") for f in (out, err))
        if measured["code"] == -9 and measured["wall"] >= self.timeout:
            stderr += f"\nkilled after the {self.timeout:.0f} s timeout"
        return Run(measured["wall"], measured["rss_kib"] / 1024, measured["code"], stdout, stderr)

    def stockbrief(self, *args: str) -> Run:
        return self.python("-m", "stockbrief", *args)

    def must(self, *args: str) -> Run:
        """A step the timing depends on (building, resetting a store): raise if it fails."""
        run = self.stockbrief(*args)
        if run.code != 0:
            raise StepError(f"stockbrief {args[0]} failed: {run.last_error_line()}", run.stderr)
        return run

    def must_python(self, *args: str) -> Run:
        """:meth:`must` for a plain interpreter step."""
        run = self.python(*args)
        if run.code != 0:
            raise StepError(f"python {' '.join(args)} failed: {run.last_error_line()}", run.stderr)
        return run


@dataclass(frozen=True)
class Built:
    """A computed store, a copy of it from before its last session, and what to ask it."""

    name: str
    path: Path
    previous: Path
    last_session: list[str]
    """``ingest prices`` arguments that add the held-back session."""
    ticker: str
    event_day: dt.date
    quiet_day: dt.date

    @property
    def work(self) -> Path:
        """Where ``compute`` after one new session runs, on a fresh copy of ``previous``."""
        return self.path.with_name(f"{self.path.stem}-work.duckdb")


def previous_of(path: Path) -> Path:
    """The copy of a store taken before its last session was ingested."""
    return path.with_name(f"{path.stem}-previous.duckdb")


def remove_store(path: Path) -> None:
    """Remove a DuckDB file, its write-ahead log if one was left, its summary and its engine
    folder."""
    for suffix in ("", ".wal", ".summary.json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{path}.engine", ignore_errors=True)


def copy_store(source: Path, target: Path) -> None:
    """Copy a DuckDB file with its write-ahead log, if one was left, and its engine folder."""
    remove_store(target)
    for suffix in ("", ".wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    if Path(f"{source}.engine").is_dir():
        shutil.copytree(f"{source}.engine", f"{target}.engine")


def build(
    runner: Runner, name: str, path: Path, held_back: list[str], last_session: list[str]
) -> None:
    """Ingest all but the last session, compute, keep a copy, add the session, compute again."""
    remove_store(path)
    store = ["--store", str(path)]
    for label, args in (
        ("ingest", ["ingest", "prices", *held_back, *store]),
        ("compute (full)", ["compute", *store]),
    ):
        run = runner.must(*args)
        print(f"  {name + ': ' + label:<45} {run.wall:8.2f} s {run.rss_mib:7.0f} MiB", flush=True)
    copy_store(path, previous_of(path))
    runner.must("ingest", "prices", *last_session, *store)
    run = runner.must("compute", *store)
    print(f"  {name + ': compute (one more session)':<45} {run.wall:8.2f} s", flush=True)


def ready(marker: Path, recipe: dict[str, object]) -> bool:
    """Whether a kept store was built completely, by the same copy of the code, to the recipe."""
    try:
        return bool(json.loads(marker.read_text()) == recipe)
    except (OSError, ValueError):
        return False


def prepared(
    runner: Runner,
    name: str,
    folder: Path,
    recipe: dict[str, object],
    make: Callable[[Path], tuple[list[str], list[str]]],
) -> tuple[Path, list[str]]:
    """Build a store unless a finished one with this recipe is kept.

    ``make`` writes any input files and returns the ``ingest prices`` arguments for all but
    the last session and for the last session only; returned: the store and the latter.
    """
    path = folder / f"{name}.duckdb"
    marker = folder / f"{name}.json"
    held_back, last_session = make(folder)
    if ready(marker, recipe):
        print(f"  {name}: reusing {path}", flush=True)
        # a kept store may come from another copy of the code: a writer's close leaves what
        # this copy's writers leave (the summary), as any ingest or compute would
        runner.must_python("-c", SETTLE, str(path))
    else:
        marker.unlink(missing_ok=True)
        build(runner, name, path, held_back, last_session)
        marker.write_text(json.dumps(recipe))
    return path, last_session


def yahoo_inputs(_: Path) -> tuple[list[str], list[str]]:
    """The real files, with their partial session and the last full one left out."""
    files = [str(p) for p in sorted(YAHOO.glob("*.csv"))]
    before = (YAHOO_DAY - dt.timedelta(days=1)).isoformat()
    day = YAHOO_DAY.isoformat()
    return [*files, "--to", before], [*files, "--from", day, "--to", day]


def synthetic_inputs(n_tickers: int, n_days: int) -> Callable[[Path], tuple[list[str], list[str]]]:
    """One long Parquet file of the synthetic universe, written once per folder."""

    def make(folder: Path) -> tuple[list[str], list[str]]:
        parquet = folder / f"universe-{n_tickers}x{n_days}.parquet"
        if not parquet.exists():
            partial = parquet.with_suffix(".partial")
            write_universe(partial, n_tickers, n_days)
            partial.rename(parquet)
        days = sessions(n_days)
        before, day = days[-2].isoformat(), days[-1].isoformat()
        return [str(parquet), "--to", before], [str(parquet), "--from", day, "--to", day]

    return make


def pick(path: Path, ticker: str | None, up_to: dt.date | None) -> tuple[str, dt.date, dt.date]:
    """A ticker, its last day with a setup event and its last day with no event at all.

    The middle ticker when none is given; ``up_to`` caps both days (default: the last stored
    session). Read from the stored events, so the choice is the same on every run.
    """
    with duckdb.connect(str(path), read_only=True) as db:
        if ticker is None:
            tickers = [
                t for (t,) in db.sql("SELECT DISTINCT ticker FROM bars ORDER BY 1").fetchall()
            ]
            ticker = tickers[len(tickers) // 2]
        cap = (
            up_to
            or db.execute("SELECT max(date) FROM bars WHERE ticker = ?", [ticker]).fetchone()[0]
        )
        event = db.execute(
            f"SELECT max(date) FROM events WHERE ticker = ? AND date <= ? AND ({SETUP_KINDS})",
            [ticker, cap],
        ).fetchone()[0]
        quiet = db.execute(
            "SELECT max(date) FROM bars WHERE ticker = ? AND date <= ? AND date NOT IN"
            " (SELECT date FROM events WHERE ticker = ?)",
            [ticker, cap, ticker],
        ).fetchone()[0]
    if event is None or quiet is None:
        raise SystemExit(f"{path}: {ticker} has no day with a setup event or none without")
    return ticker, event, quiet


def exited_zero(run: Run) -> bool:
    return run.code == 0


@dataclass(frozen=True)
class Case:
    """One row of the table: a command, what to do before each run, and its target.

    ``store`` names the file the command runs on: ``path`` (the computed store), ``work`` (a
    copy ``prepare`` resets before each run) or ``""`` for none. ``program`` is what the
    interpreter runs: the command, or a script timed beside it.
    """

    label: str
    args: Callable[[Built], list[str]]
    target: str = ""
    met: Callable[[Timing, Timing, float], bool] | None = None
    prepare: Callable[[Runner, Built], None] | None = None
    store: str = "path"
    succeeded: Callable[[Run], bool] = exited_zero
    program: tuple[str, ...] = ("-m", "stockbrief")

    def argv(self, built: Built) -> list[str]:
        where = ["--store", str(getattr(built, self.store))] if self.store else []
        return [*self.program, *self.args(built), *where]


def per_ticker(small: Timing, big: Timing, _: float) -> bool:
    """A per-ticker command should not pay for the rest of the universe."""
    return big.best <= 1.5 * small.best


def checked(run: Run) -> bool:
    """``check`` exits 1 when a claim does not hold (the seed note's do not): not a failure."""
    return run.code in (0, 1) and "claims hold" in run.stdout


def restore_evening(runner: Runner, store: Built) -> None:
    """The store as it was before the last session, then that session ingested (untimed)."""
    copy_store(store.previous, store.work)
    runner.must("ingest", "prices", *store.last_session, "--store", str(store.work))


PER_TICKER = "big/small <= 1.5x"
CASES: list[Case] = [
    Case(
        "brief, quiet day",
        lambda s: ["brief", s.ticker, "--as-of", str(s.quiet_day)],
        PER_TICKER,
        per_ticker,
    ),
    Case(
        "brief, setup day",
        lambda s: ["brief", s.ticker, "--as-of", str(s.event_day)],
        PER_TICKER,
        per_ticker,
    ),
    Case(
        "indicators",
        lambda s: ["indicators", s.ticker, "--as-of", str(s.event_day)],
        PER_TICKER,
        per_ticker,
    ),
    Case(
        "events --since",
        lambda s: [
            "events",
            s.ticker,
            "--since",
            str(s.event_day - dt.timedelta(days=31)),
            "--as-of",
            str(s.event_day),
        ],
        PER_TICKER,
        per_ticker,
    ),
    Case(
        "check NOTE",
        lambda s: ["check", str(NOTE), "--ticker", s.ticker, "--as-of", str(s.event_day)],
        PER_TICKER,
        per_ticker,
        succeeded=checked,
    ),
    Case("screen breakouts", lambda _: ["screen", "breakouts"]),
    Case("info", lambda _: ["info"], "big < 0.3 s", lambda _, big, __: big.best < 0.3),
    Case(
        "compute, one new session",
        lambda _: ["compute"],
        "< start + 0.5 s",
        lambda small, big, start: max(small.best, big.best) - start < 0.5,
        restore_evening,
        "work",
    ),
    Case(
        "  its floor (store I/O)",
        lambda _: [],
        "(no computing)",
        prepare=restore_evening,
        store="work",
        program=(str(DAILY_FLOOR),),
    ),
    Case(
        "compute, nothing new",
        lambda _: ["compute"],
        "< start + 0.2 s",
        lambda small, big, start: max(small.best, big.best) - start < 0.2,
    ),
    Case(
        "--help",
        lambda _: ["--help"],
        "< 0.2 s",
        lambda small, big, _: max(small.best, big.best) < 0.2,
        store="",
    ),
]


def measure(runner: Runner, case: Case, store: Built, repeat: int, slow: float) -> Timing:
    """Run a case up to ``repeat`` times; a failed or slow first run is not repeated."""
    timing = Timing()
    for _ in range(repeat):
        if case.prepare is not None:
            try:
                case.prepare(runner, store)
            except StepError as exc:
                timing.error = f"before the run: {exc}"
                break
        run = runner.python(*case.argv(store))
        if not case.succeeded(run):
            timing.error = f"exit {run.code}: {run.last_error_line()}"
            timing.runs.append(run)
            break
        timing.runs.append(run)
        if run.wall > slow:
            break
    return timing


def verdict(case: Case, small: Timing, big: Timing, start: float) -> str:
    if small.error or big.error:
        return "failed"
    if case.met is None:
        return ""
    return "met" if case.met(small, big, start) else "MISSED"


def print_table(
    results: list[tuple[Case, Timing, Timing]], stores: tuple[Built, Built], start: float
) -> None:
    small, big = stores
    head = "best     med    MiB  n"
    print()
    print(f"{'':24} {'small: ' + small.name:>25}   {'big: ' + big.name:>25}")
    print(f"{'command':24} {head:>25}   {head:>25}  {'big/small':>9}  {'target':<18} result")
    for case, s, b in results:
        ratio = "" if s.error or b.error else f"{b.best / s.best:8.2f}x"
        print(
            f"{case.label:24} {s.cell()}   {b.cell()}  {ratio:>9}  {case.target:<18} "
            f"{verdict(case, s, b, start)}"
        )
    print("\nseconds: wall time of the whole process, best and median of n runs; big/small of")
    print(f"the best; MiB: the largest peak resident set; interpreter start: {start:.3f} s")
    for case, s, b in results:
        for store, timing in ((small, s), (big, b)):
            if timing.error:
                print(f"failed: {case.label} on {store.name}: {timing.error}")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"


@contextmanager
def workdir(keep: Path | None) -> Iterator[Path]:
    """The kept folder when given (stores survive the run), else a temp folder."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="storebench-") as tmp:
        yield Path(tmp)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tickers", type=int, metavar="N", default=5_000, help="big store tickers")
    parser.add_argument(
        "--days", type=int, metavar="N", default=2_520, help="big store sessions per ticker"
    )
    parser.add_argument("--repeat", type=int, metavar="N", default=3, help="runs of each command")
    parser.add_argument("--slow", type=float, default=20.0, help="seconds past which not to repeat")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds before a run is killed"
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="folder to keep and reuse the built stores in"
    )
    parser.add_argument(
        "--python-path", metavar="DIR", help="PYTHONPATH of the children: the code to time"
    )
    return parser.parse_args(argv)


def stores(runner: Runner, folder: Path, args: argparse.Namespace) -> tuple[Built, Built]:
    """Build (or reuse) both stores and choose the ticker and days each command asks about."""
    code = runner.python("-c", "import stockbrief; print(stockbrief.__file__)").stdout.strip()
    print(f"code under test: {code}", flush=True)
    base = {"code": code}
    small_path, small_last = prepared(
        runner, "yahoo-30", folder, {**base, "to": YAHOO_DAY.isoformat()}, yahoo_inputs
    )
    name = f"synthetic-{args.tickers}x{args.days}"
    recipe = {**base, "tickers": args.tickers, "days": args.days}
    big_path, big_last = prepared(
        runner, name, folder, recipe, synthetic_inputs(args.tickers, args.days)
    )
    built = []
    for label, path, last, ticker, up_to in (
        ("yahoo-30", small_path, small_last, "BABA", dt.date(2026, 1, 2)),
        (name, big_path, big_last, None, None),
    ):
        chosen, event, quiet = pick(path, ticker, up_to)
        built.append(Built(label, path, previous_of(path), last, chosen, event, quiet))
        print(f"  {label}: {chosen}, setup day {event}, quiet day {quiet}", flush=True)
    return built[0], built[1]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not YAHOO.is_dir():
        raise SystemExit(f"{YAHOO} not found: the small store is built from it")
    print(f"load at start: {load()}", flush=True)
    with workdir(args.keep) as folder:
        runner = Runner(args.python_path, folder, args.timeout)
        try:
            runner.compile_code()
            small, big = stores(runner, folder, args)
        except StepError as exc:
            raise SystemExit(f"cannot build the stores: {exc}\n{exc.stderr}") from None
        start = min(runner.python("-c", "pass").wall for _ in range(5))
        imports = min(runner.python("-c", "import stockbrief.cli").wall for _ in range(3))
        print(f"  interpreter start {start:.3f} s, with stockbrief.cli imported {imports:.3f} s")
        results = []
        for case in CASES:
            timings = [measure(runner, case, s, args.repeat, args.slow) for s in (small, big)]
            results.append((case, timings[0], timings[1]))
            print(f"  timed {case.label:<26} load {load()}", flush=True)
        for store in (small, big):
            remove_store(store.work)
        print_table(results, (small, big), start)
    print(f"load at end: {load()}")


if __name__ == "__main__":
    main()
