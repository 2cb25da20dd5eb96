"""The event study's inputs: prices and occurrences checked and laid out as arrays.

Prices become contiguous per-ticker arrays (a panel); occurrences are matched to panel rows by
binary search; every argument is checked with an error that says what to pass instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.errors import InputError
from stockbrief.evidence.rules import _EPOCH, FloatArray, IntArray, Overlap

# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class _Panel:
    """Prices up to the as-of date as contiguous per-ticker arrays (rows sorted by date)."""

    tickers: pl.Series
    offsets: IntArray
    days: npt.NDArray[np.int32]
    close: FloatArray


@dataclass(frozen=True)
class _Occurrences:
    """Occurrences matched to panel rows, sorted by row position, and what was set aside."""

    position: IntArray
    ticker: IntArray
    counts: dict[str, int]


def _require(frame: pl.DataFrame, name: str, columns: Sequence[str], hint: str) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise InputError(f"{name} must be a polars DataFrame with columns {', '.join(columns)}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{name} lacks column(s) {', '.join(missing)}; pass {', '.join(columns)} ({hint})",
            field=missing[0],
        )
    if "date" in columns and frame.schema["date"] != pl.Date:
        raise InputError(
            f"{name}.date is {frame.schema['date']}, not a date; convert it with "
            "pl.col('date').cast(pl.Date)",
            field="date",
        )


def _days(series: pl.Series) -> npt.NDArray[np.int32]:
    return series.to_physical().to_numpy().astype(np.int32, copy=False)


def _to_date(day: int | np.integer[Any]) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def _check_closes(close: FloatArray, where: pl.DataFrame, name: str) -> None:
    bad = ~(np.isfinite(close) & (close > 0))
    if bad.any():
        row = where.row(int(np.argmax(bad)), named=True)
        at = f"{row['ticker']} on {row['date']}" if "ticker" in row else f"{row['date']}"
        raise InputError(
            f"{name} has a missing, non-finite or non-positive close for {at}; pass adjusted "
            "closes (positive numbers) and drop or fill the gaps first",
            field="close",
        )


def _strictly_sorted(days: npt.NDArray[np.int32], offsets: IntArray) -> bool:
    if days.size < 2:
        return True
    rising = np.diff(days) > 0
    rising[offsets[1:-1] - 1] = True
    return bool(rising.all())


def _panel(prices: pl.DataFrame, until: dt.date | None) -> _Panel:
    _require(prices, "prices", ("ticker", "date", "close"), "adjusted closes")
    frame = prices.select(
        pl.col("ticker").cast(pl.String), "date", pl.col("close").cast(pl.Float64)
    )
    if until is not None:
        frame = frame.filter(pl.col("date") <= until)
    if frame["ticker"].null_count() or frame["date"].null_count():
        raise InputError("prices has rows without ticker or date; drop them first")
    for attempt in range(2):
        runs = frame["ticker"].rle().struct.unnest()
        offsets = np.zeros(runs.height + 1, dtype=np.int64)
        np.cumsum(runs["len"].to_numpy(), out=offsets[1:])
        days = _days(frame["date"])
        if runs["value"].is_unique().all() and _strictly_sorted(days, offsets):
            break
        if attempt == 1:
            duplicated = frame.filter(pl.struct("ticker", "date").is_duplicated()).row(
                0, named=True
            )
            raise InputError(
                f"prices has more than one row for {duplicated['ticker']} on "
                f"{duplicated['date']}; keep one close per ticker and date",
                field="date",
            )
        frame = frame.sort("ticker", "date")
    close = frame["close"].to_numpy()
    _check_closes(close, frame, "prices")
    return _Panel(runs["value"].alias("ticker"), offsets, days, close)


def _match(
    panel: _Panel, occurrences: pl.DataFrame, until: dt.date | None
) -> tuple[_Occurrences, str]:
    _require(occurrences, "occurrences", ("ticker", "date"), "one row per setup")
    label = ""
    if "kind" in occurrences.columns:
        kinds = occurrences["kind"].drop_nulls().unique()
        label = str(kinds[0]) if kinds.len() == 1 else ""
    frame = occurrences.select(pl.col("ticker").cast(pl.String), "date")
    given = frame.height
    incomplete = frame.filter(pl.col("ticker").is_null() | pl.col("date").is_null()).height
    frame = frame.drop_nulls()
    after = 0
    if until is not None:
        after = frame.filter(pl.col("date") > until).height
        frame = frame.filter(pl.col("date") <= until)
    unique = frame.unique()
    duplicate = frame.height - unique.height
    index = pl.DataFrame(
        {"ticker": panel.tickers, "__tid": np.arange(panel.tickers.len(), dtype=np.int64)}
    )
    joined = unique.join(index, on="ticker", how="left")
    unknown = joined["__tid"].null_count()
    joined = joined.drop_nulls("__tid")
    tid = joined["__tid"].to_numpy().astype(np.int64, copy=False)
    day = _days(joined["date"])
    # Row positions by binary search on (ticker, day) keys, which the panel order sorts.
    lengths = np.diff(panel.offsets)
    shift = np.int64(1) << 32
    keys = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths) * shift + panel.days
    wanted = tid * shift + day
    # Sorted needles keep the search cache-friendly (several times faster on large panels).
    order = np.argsort(wanted, kind="stable")
    wanted, tid = wanted[order], tid[order]
    position = np.searchsorted(keys, wanted)
    found = position < keys.size
    found[found] = keys[position[found]] == wanted[found]
    counts = {
        "given": given,
        "matched": int(found.sum()),
        "incomplete": incomplete,
        "after_until": after,
        "duplicate": duplicate,
        "unknown_ticker": unknown,
        "not_a_session": int((~found).sum()),
    }
    return _Occurrences(position[found], tid[found], counts), label


@dataclass(frozen=True)
class _Benchmark:
    days: npt.NDArray[np.int32]
    close: FloatArray

    def returns(self, start: npt.NDArray[np.int32], end: npt.NDArray[np.int32]) -> FloatArray:
        """Benchmark return between two dates; NaN where it lacks either date."""
        out = np.full(start.size, np.nan)
        if self.days.size == 0:
            return out
        i = np.minimum(np.searchsorted(self.days, start), self.days.size - 1)
        j = np.minimum(np.searchsorted(self.days, end), self.days.size - 1)
        ok = (self.days[i] == start) & (self.days[j] == end)
        out[ok] = self.close[j[ok]] / self.close[i[ok]] - 1.0
        return out


def _benchmark(benchmark: pl.DataFrame, until: dt.date | None) -> _Benchmark:
    _require(benchmark, "benchmark", ("date", "close"), "adjusted closes of e.g. SPY")
    frame = benchmark.select("date", pl.col("close").cast(pl.Float64)).drop_nulls("date")
    if until is not None:
        frame = frame.filter(pl.col("date") <= until)
    frame = frame.sort("date")
    days = _days(frame["date"])
    if days.size > 1 and not (np.diff(days) > 0).all():
        first = _to_date(days[1:][np.diff(days) == 0][0])
        raise InputError(
            f"benchmark has more than one row on {first}; keep one close per date", field="date"
        )
    close = frame["close"].to_numpy()
    _check_closes(close, frame, "benchmark")
    return _Benchmark(days, close)


@dataclass(frozen=True)
class _Benchmarks:
    """The benchmark series and which one each panel ticker is measured against."""

    names: tuple[str, ...]
    series: tuple[_Benchmark, ...]
    of_ticker: IntArray
    """Index into ``series`` per panel ticker; -1 for a ticker without a benchmark."""

    def returns(
        self, owner: IntArray, start: npt.NDArray[np.int32], end: npt.NDArray[np.int32]
    ) -> FloatArray:
        """Each occurrence's benchmark return between two dates; NaN without one."""
        out = np.full(start.size, np.nan)
        chosen = self.of_ticker[owner]
        for k, bench in enumerate(self.series):
            mine = chosen == k
            out[mine] = bench.returns(start[mine], end[mine])
        return out

    def used(self, involved: npt.NDArray[np.bool_]) -> dict[str, int]:
        """Benchmark name -> how many of the ``involved`` tickers were measured against it."""
        counts = np.bincount(self.of_ticker[involved & (self.of_ticker >= 0)], minlength=0)
        return {self.names[k]: int(c) for k, c in enumerate(counts) if c}


def _benchmarks(
    benchmark: pl.DataFrame,
    benchmark_of: Mapping[str, str] | None,
    tickers: pl.Series,
    until: dt.date | None,
) -> _Benchmarks:
    """One benchmark for every ticker (``date, close``, named by a single ``ticker`` value if
    any), or several (``ticker, date, close``) with ``benchmark_of`` naming each ticker's
    (a ticker it does not name has no benchmark)."""
    several = "ticker" in benchmark.columns and benchmark["ticker"].n_unique() > 1
    if several and benchmark_of is None:
        raise InputError(
            "benchmark holds several series (tickers "
            f"{', '.join(sorted(map(str, benchmark['ticker'].unique())))}); pass benchmark_of "
            "mapping each studied ticker to one of them",
            field="benchmark_of",
        )
    if "ticker" not in benchmark.columns or benchmark.is_empty():
        name = "benchmark"
        parts = {name: benchmark}
    else:
        parts = {
            str(key[0]): part
            for key, part in benchmark.partition_by("ticker", as_dict=True).items()
        }
    names = tuple(sorted(parts))
    series = tuple(_benchmark(parts[name], until) for name in names)
    if benchmark_of is None:
        return _Benchmarks(names, series, np.zeros(tickers.len(), dtype=np.int64))
    unknown = sorted({v for v in benchmark_of.values() if v not in parts})
    if unknown:
        raise InputError(
            f"benchmark_of names {', '.join(unknown)}, not among the benchmark's series "
            f"({', '.join(names)})",
            field="benchmark_of",
        )
    index = {name: k for k, name in enumerate(names)}
    of_ticker = np.array(
        [index.get(benchmark_of.get(t, ""), -1) for t in tickers.to_list()], dtype=np.int64
    )
    return _Benchmarks(names, series, of_ticker)


def _horizons(horizons: Sequence[int]) -> tuple[int, ...]:
    values = list(horizons)
    if not values:
        raise InputError("horizons is empty; pass session counts such as (5, 20, 60)")
    for h in values:
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1:
            raise InputError(
                f"horizon {h!r} is not a positive whole number of trading sessions",
                field="horizons",
            )
    if len(set(values)) != len(values):
        raise InputError(f"horizons {values} repeat a value; pass each once", field="horizons")
    return tuple(sorted(int(h) for h in values))


def _whole(value: object, name: str, least: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise InputError(f"{name} must be {what}, got {value!r}", field=name)
    return int(value)


def _overlap(overlap: str) -> Overlap:
    if overlap == "skip":
        return "skip"
    if overlap == "keep":
        return "keep"
    raise InputError(f"overlap {overlap!r} is not one of 'skip', 'keep'", field="overlap")
