"""Event study: forward returns after a setup, hit rates, confidence intervals and base rates.

:func:`study` answers "what happened after setups like this one?": for every occurrence of a
setup (a ``ticker, date`` row, typically an event kind's rows of ``compute(...).events``,
filtered by whatever conditions the caller calls a setup) and every horizon ``h`` it measures
the forward return over the next ``h`` trading sessions of that ticker, compares it with what any
day of the same stocks gave over the same period (the base rate), and bootstraps confidence
intervals. The :class:`StudyResult` carries its method, sample sizes and assumptions beside the
numbers, prints itself with :meth:`StudyResult.summary`, and reduces to a lean and a strength word
for the brief's verdict with :meth:`StudyResult.lean`.

Nothing here looks ahead: a study as of ``D`` reads no price dated after ``D`` and counts an
occurrence only once its whole forward window has closed on or before ``D``. The module takes and
returns frames and never touches the store.

Example
-------
>>> from stockbrief.compute import compute                              # doctest: +SKIP
>>> computed = compute(bars)                                            # doctest: +SKIP
>>> setups = computed.events.filter(pl.col("kind") == "golden_cross")   # doctest: +SKIP
>>> result = study(bars.select("ticker", "date", "close"), setups)      # doctest: +SKIP
>>> print(result.summary())                                             # doctest: +SKIP
>>> result.lean(20)                                                     # doctest: +SKIP
('positive', 'moderate')
"""

from __future__ import annotations

import datetime as dt
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CONFIDENCE",
    "PATH_SCHEMA",
    "RETURNS_SCHEMA",
    "STRENGTH_RULES",
    "TABLE_SCHEMA",
    "Direction",
    "Overlap",
    "Strength",
    "StrengthRule",
    "StudyResult",
    "average_path",
    "grade_strength",
    "plot",
    "study",
]

Overlap = Literal["skip", "keep"]
Strength = Literal["none", "weak", "moderate", "strong"]
Direction = Literal["positive", "negative", "none"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CONFIDENCE: Final = 0.95
"""Coverage of every confidence interval; the percentile method takes the 2.5th and 97.5th."""

_EPOCH: Final = dt.date(1970, 1, 1)
_TOLERANCE: Final = 1e-9
"""Slack when comparing a gap with a threshold, so 0.65 - 0.55 counts as 0.10."""

_CHUNK_ELEMENTS: Final = 1 << 22
"""Bootstrap indices drawn at once (resamples x occurrences); bounds memory to ~50 MB a thread."""


@dataclass(frozen=True)
class StrengthRule:
    """One row of :data:`STRENGTH_RULES`: the least gap and sample size a word needs."""

    word: Strength
    min_gap: float
    min_n: int
    meaning: str


STRENGTH_RULES: Final[tuple[StrengthRule, ...]] = (
    StrengthRule(
        "strong",
        0.10,
        100,
        "hit rate at least 10 points from the base rate, at least 100 occurrences",
    ),
    StrengthRule(
        "moderate",
        0.05,
        30,
        "hit rate at least 5 points from the base rate, at least 30 occurrences",
    ),
    StrengthRule(
        "weak",
        0.0,
        10,
        "hit rate away from the base rate by less, or with fewer occurrences, at least 10",
    ),
)
"""How strongly a setup's hit rate differs from the base rate, strongest first.

A horizon is ``"none"`` when the 95% confidence interval of its hit rate contains the base hit
rate (bounds included) or when no row below applies (fewer than 10 occurrences counted).
Otherwise it takes the word of the first row whose ``min_gap`` (on ``|hit rate - base hit
rate|``) and ``min_n`` (occurrences counted) it meets.
"""

TABLE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "horizon": pl.Int64(),
    "n": pl.Int64(),
    "mean": pl.Float64(),
    "median": pl.Float64(),
    "hit_rate": pl.Float64(),
    "std_error": pl.Float64(),
    "mean_ci_low": pl.Float64(),
    "mean_ci_high": pl.Float64(),
    "hit_ci_low": pl.Float64(),
    "hit_ci_high": pl.Float64(),
    "base_n": pl.Int64(),
    "base_hit_rate": pl.Float64(),
    "base_mean": pl.Float64(),
    "mean_excess": pl.Float64(),
    "mean_relative": pl.Float64(),
    "n_relative": pl.Int64(),
    "n_pending": pl.Int64(),
    "n_skipped": pl.Int64(),
    "strength": pl.String(),
}
"""Columns of :attr:`StudyResult.table`, one row per horizon.

``n`` occurrences counted; ``mean``, ``median``, ``hit_rate`` (share of forward returns > 0) and
``std_error`` of their forward returns; ``mean_ci_*`` and ``hit_ci_*`` the bootstrap 95% CIs;
``base_*`` the same tickers' unconditional windows (``base_n`` of them); ``mean_excess`` the mean
return over each ticker's own unconditional mean; ``mean_relative`` the mean return over the
benchmark's (from ``n_relative`` occurrences whose dates the benchmark has; null without a
benchmark); ``n_pending`` occurrences whose window had not closed by the as-of date;
``n_skipped`` occurrences left out by the overlap rule; ``strength`` per :data:`STRENGTH_RULES`.
"""

RETURNS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "horizon": pl.Int64(),
    "end_date": pl.Date(),
    "forward_return": pl.Float64(),
    "excess": pl.Float64(),
    "relative": pl.Float64(),
}

PATH_SCHEMA: Final[dict[str, pl.DataType]] = {
    "offset": pl.Int64(),
    "n": pl.Int64(),
    "mean": pl.Float64(),
    "median": pl.Float64(),
    "hit_rate": pl.Float64(),
}


def grade_strength(
    n: int, hit_rate: float, hit_ci: tuple[float, float], base_hit_rate: float
) -> Strength:
    """The strength word of a hit rate against its base rate, per :data:`STRENGTH_RULES`.

    Parameters
    ----------
    n
        Occurrences counted.
    hit_rate
        Share of them followed by a rise.
    hit_ci
        ``(low, high)`` confidence interval of ``hit_rate``.
    base_hit_rate
        Share of all windows of the same stocks over the same period that rose.

    Returns
    -------
    str
        ``"none"``, ``"weak"``, ``"moderate"`` or ``"strong"``.

    Notes
    -----
    ``"none"`` when ``low <= base_hit_rate <= high`` or any input is missing (NaN); otherwise the
    first rule with ``|hit_rate - base_hit_rate| >= min_gap`` and ``n >= min_n`` (a gap within
    1e-9 of a threshold meets it, so decimal inputs behave as written).
    """
    low, high = hit_ci
    values = (hit_rate, low, high, base_hit_rate)
    if any(math.isnan(v) for v in values) or low <= base_hit_rate <= high:
        return "none"
    gap = abs(hit_rate - base_hit_rate)
    for rule in STRENGTH_RULES:
        if gap >= rule.min_gap - _TOLERANCE and n >= rule.min_n:
            return rule.word
    return "none"


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


# --------------------------------------------------------------------------------------------
# Computation


def _non_overlapping(position: IntArray, ticker: IntArray, h: int) -> BoolArray:
    """Greedy keep-first rule: keep an occurrence only h or more sessions after the last kept.

    Each ticker's chain of kept occurrences is followed one link per step for all tickers at
    once, so the loop runs (longest chain) times, not once per occurrence.
    """
    m = position.size
    kept = np.zeros(m, dtype=np.bool_)
    if m == 0:
        return kept
    nxt = np.searchsorted(position, position + h, side="left")
    first = np.ones(m, dtype=np.bool_)
    first[1:] = ticker[1:] != ticker[:-1]
    frontier = np.flatnonzero(first)
    while frontier.size:
        kept[frontier] = True
        following = nxt[frontier]
        inside = following < m
        following, frontier = following[inside], frontier[inside]
        frontier = following[ticker[following] == ticker[frontier]]
    return kept


@dataclass(frozen=True)
class _Base:
    """Per-ticker unconditional h-session windows: count, sum and rises."""

    count: IntArray
    total: FloatArray
    rises: IntArray


def _base(panel: _Panel, h: int) -> _Base:
    starts, ends = panel.offsets[:-1], panel.offsets[1:]
    count = np.maximum(ends - starts - h, 0)
    size = panel.close.size
    if starts.size == 0:
        return _Base(count, np.zeros(0), np.zeros(0, dtype=np.int64))
    # forward[i] is row i's h-session return, zeroed where the window leaves its ticker, so
    # per-ticker sums are one reduceat over the ticker segments.
    forward = np.zeros(size)
    np.divide(panel.close[h:], panel.close[:-h], out=forward[: max(size - h, 0)])
    forward[: max(size - h, 0)] -= 1.0
    tail = ends[:, None] - 1 - np.arange(min(h, size), dtype=np.int64)[None, :]
    forward[tail[tail >= starts[:, None]]] = 0.0
    total = np.add.reduceat(forward, starts)
    rises = np.add.reduceat((forward > 0).view(np.int8), starts, dtype=np.int64)
    return _Base(count, total, rises)


def _mean_resamples(values: FloatArray, resamples: int, seed: int, h: int) -> FloatArray:
    """Means of ``resamples`` samples of len(values) drawn with replacement.

    The draws are cut into chunks fixed by (resamples, n) alone, each with its own stream from
    (seed, horizon, chunk), so the result does not depend on how many threads ran them.
    """
    n = values.size
    rows = max(1, _CHUNK_ELEMENTS // n)
    chunks = [min(rows, resamples - start) for start in range(0, resamples, rows)]
    dtype = np.uint32 if n < 2**32 else np.int64

    def draw(k: int) -> FloatArray:
        size = chunks[k]
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(h, 0, k)))
        )
        index = rng.integers(0, n, size=(size, n), dtype=dtype)
        means: FloatArray = np.take(values, index).mean(axis=1)
        return means

    workers = min(len(chunks), _cores())
    if workers <= 1 or resamples * n < _CHUNK_ELEMENTS:
        parts = [draw(k) for k in range(len(chunks))]
    else:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(draw, range(len(chunks))))
    return np.concatenate(parts)


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _hit_resamples(n: int, rises: int, resamples: int, seed: int, h: int) -> FloatArray:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(h, 1))))
    hits: FloatArray = rng.binomial(n, rises / n, size=resamples) / n
    return hits


def _interval(draws: FloatArray) -> tuple[float, float]:
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def _statistics(
    values: FloatArray, resamples: int, seed: int, h: int
) -> dict[str, float | int | None]:
    n = values.size
    if n == 0:
        keys = ("mean", "median", "hit_rate", "std_error", "mean_ci_low", "mean_ci_high")
        return {"n": 0, **dict.fromkeys((*keys, "hit_ci_low", "hit_ci_high"))}
    rises = int(np.count_nonzero(values > 0))
    mean_low, mean_high = _interval(_mean_resamples(values, resamples, seed, h))
    hit_low, hit_high = _interval(_hit_resamples(n, rises, resamples, seed, h))
    return {
        "n": n,
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "hit_rate": rises / n,
        "std_error": float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
        "mean_ci_low": mean_low,
        "mean_ci_high": mean_high,
        "hit_ci_low": hit_low,
        "hit_ci_high": hit_high,
    }


def study(
    prices: pl.DataFrame,
    occurrences: pl.DataFrame,
    *,
    horizons: Sequence[int] = (5, 20, 60),
    until: dt.date | None = None,
    benchmark: pl.DataFrame | None = None,
    overlap: Overlap = "skip",
    resamples: int = 1000,
    seed: int = 0,
    label: str = "",
) -> StudyResult:
    """What followed the occurrences of a setup: an event study with base rates.

    Parameters
    ----------
    prices
        ``ticker, date, close`` of the universe, closes adjusted for splits and dividends
        (total-return prices); any row order. Its sessions define the studied period.
    occurrences
        ``ticker, date`` of each setup (e.g. one kind's rows of ``compute(...).events``, filtered
        by the caller's conditions). A ``kind`` column with one value names the study.
    horizons
        Forward windows in trading sessions of each ticker.
    until
        As-of date: nothing dated after it is read (see Notes). Default: no cut.
    benchmark
        ``date, close`` of a benchmark (e.g. SPY, adjusted) for benchmark-relative returns.
    overlap
        ``"skip"``: per ticker and horizon, skip an occurrence that starts fewer than ``h``
        sessions after the last counted one, so one ticker's windows never overlap; ``"keep"``:
        count every occurrence (the standard error and CIs then understate uncertainty).
    resamples
        Bootstrap resamples per horizon.
    seed
        Seed of the bootstrap; the same inputs and seed give identical intervals.
    label
        Name of the setup for the summary (default: the single ``kind`` of the occurrences).

    Returns
    -------
    StudyResult
        Table per horizon, the forward returns, and the method text.

    Raises
    ------
    stockbrief.errors.InputError
        A frame lacks a column, has a non-date ``date``, a duplicate row or a non-positive close;
        a horizon is not a positive integer; ``overlap`` or ``resamples`` is invalid.

    Notes
    -----
    For an occurrence of ticker ``i`` at session ``t`` (its row position among the ticker's own
    rows, so sessions, not calendar days) and horizon ``h``:

    - forward return ``r = close[t+h] / close[t] - 1``;
    - excess ``r - mean_i(h)``, where ``mean_i(h)`` is the mean of ``close[s+h] / close[s] - 1``
      over every session ``s`` of ticker ``i`` in the studied period whose window completed;
    - relative ``r - (B[d(t+h)] / B[d(t)] - 1)`` for benchmark closes ``B`` on the same dates
      ``d``; null when the benchmark lacks either date.

    Per horizon: ``n`` counted, mean, median, hit rate ``k / n`` with ``k = #{r > 0}`` (a flat
    window is not a rise), standard error ``s / sqrt(n)`` (``s`` with ``ddof=1``), and 95%
    percentile-bootstrap CIs: ``resamples`` samples of ``n`` indices drawn with replacement
    (numpy PCG64 seeded from ``seed`` and ``h``), the 2.5th and 97.5th percentiles of their
    means (linear interpolation between order statistics); the hit-rate resamples are drawn as
    ``Binomial(n, k / n) / n``, which is exactly the law of the share of rises in such a
    resample. Each horizon's draws depend only on ``seed`` and ``h``. The base rate pools every
    completed window of the tickers with at least one matched occurrence over the same period
    (``base_n`` windows).

    Look-ahead rule: with ``until = D`` only price rows dated on or before ``D`` are read, an
    occurrence counts for horizon ``h`` only if its session ``t+h`` is on or before ``D``
    (otherwise it is *pending*), and the base rate obeys the same rule, so appending later
    prices never changes the result. Without ``until`` the last stored session plays ``D``'s
    role. Occurrences dated after ``D``, duplicated, with an unknown ticker or on a date that is
    not a session of their ticker are counted in :attr:`StudyResult.counts`, never silently
    dropped.

    Occurrences are treated as independent draws. Different tickers' windows over the same
    dates share market moves, so even with ``overlap="skip"`` the intervals can be too narrow.
    """
    chosen_horizons = _horizons(horizons)
    chosen_overlap = _overlap(overlap)
    resamples = _whole(resamples, "resamples", 1, "a positive integer such as 1000")
    seed = _whole(seed, "seed", 0, "a non-negative integer")
    panel = _panel(prices, until)
    matched, kind = _match(panel, occurrences, until)
    bench = _benchmark(benchmark, until) if benchmark is not None else None
    ends = panel.offsets[1:]
    involved = np.zeros(panel.offsets.size - 1, dtype=np.bool_)
    involved[matched.ticker] = True
    tickers = panel.tickers

    rows: list[dict[str, Any]] = []
    parts: list[pl.DataFrame] = []
    for h in chosen_horizons:
        base = _base(panel, h)
        with np.errstate(invalid="ignore", divide="ignore"):
            ticker_mean = base.total / base.count
        completed = matched.position + h < ends[matched.ticker]
        position, owner = matched.position[completed], matched.ticker[completed]
        if chosen_overlap == "skip":
            kept = _non_overlapping(position, owner, h)
            position, owner = position[kept], owner[kept]
        forward = panel.close[position + h] / panel.close[position] - 1.0
        excess = forward - ticker_mean[owner]
        relative = (
            forward - bench.returns(panel.days[position], panel.days[position + h])
            if bench is not None
            else np.full(forward.size, np.nan)
        )
        base_n = int(base.count[involved].sum())
        stats = _statistics(forward, resamples, seed, h)
        n = int(forward.size)
        known = ~np.isnan(relative)
        row: dict[str, Any] = {
            "horizon": h,
            **stats,
            "base_n": base_n,
            "base_hit_rate": base.rises[involved].sum() / base_n if base_n else None,
            "base_mean": float(base.total[involved].sum() / base_n) if base_n else None,
            "mean_excess": float(excess.mean()) if n else None,
            "mean_relative": float(relative[known].mean()) if known.any() else None,
            "n_relative": int(known.sum()) if bench is not None else None,
            "n_pending": int((~completed).sum()),
            "n_skipped": int(completed.sum()) - n,
        }
        row["strength"] = grade_strength(
            n,
            _float(row["hit_rate"]),
            (_float(row["hit_ci_low"]), _float(row["hit_ci_high"])),
            _float(row["base_hit_rate"]),
        )
        rows.append(row)
        parts.append(
            pl.DataFrame(
                {
                    "ticker": tickers.gather(owner),
                    "date": pl.Series(panel.days[position], dtype=pl.Int32).cast(pl.Date),
                    "horizon": np.full(n, h, dtype=np.int64),
                    "end_date": pl.Series(panel.days[position + h], dtype=pl.Int32).cast(pl.Date),
                    "forward_return": forward,
                    "excess": excess,
                    "relative": relative,
                },
                schema=RETURNS_SCHEMA,
            ).with_columns(pl.col("relative").fill_nan(None))
        )
    table = pl.DataFrame(rows, schema=TABLE_SCHEMA, orient="row")
    period = (_to_date(panel.days.min()), _to_date(panel.days.max())) if panel.days.size else None
    settings = _Settings(
        label=label or kind,
        until=until,
        period=period,
        n_tickers=int(involved.sum()),
        overlap=chosen_overlap,
        resamples=resamples,
        seed=seed,
        benchmark=bench is not None,
    )
    return StudyResult(
        label=settings.label,
        horizons=chosen_horizons,
        table=table,
        returns=pl.concat(parts),
        method=_method(settings, matched.counts, chosen_horizons),
        counts=matched.counts,
        until=until,
        period=period,
        overlap=chosen_overlap,
        resamples=resamples,
        seed=seed,
        _inputs=(panel, matched),
    )


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


@dataclass
class Tally:
    """A universe study of several setups at one horizon, gathered a batch of tickers at a time.

    Each batch adds, per setup kind, the forward returns of its counted occurrences and the
    count and rises of its involved tickers' base windows; :meth:`rows` then gives the figures
    :func:`study` reports for the whole universe (n, hit rate and its interval, mean, base hit
    rate, strength), bit for bit, because batches of ascending tickers concatenate to the order
    one study would see. Memory follows the batch, not the universe.
    """

    horizon: int
    until: dt.date | None = None
    forward: dict[str, list[FloatArray]] = field(default_factory=dict)
    base_count: dict[str, int] = field(default_factory=dict)
    base_rises: dict[str, int] = field(default_factory=dict)

    def add(self, prices: pl.DataFrame, occurrences: pl.DataFrame) -> None:
        """Fold in one batch: ``prices`` (``ticker, date, close``, total-return closes) of some
        tickers, and ``occurrences`` (``ticker, date, kind``) of the same tickers; batches must
        come in ascending ticker order and never share a ticker."""
        if occurrences.is_empty() or prices.is_empty():
            return
        h = self.horizon
        panel = _panel(prices, self.until)
        base = _base(panel, h)
        ends = panel.offsets[1:]
        for (kind,), part in occurrences.partition_by("kind", as_dict=True).items():
            matched, _ = _match(panel, part.select("ticker", "date"), self.until)
            involved = np.zeros(panel.offsets.size - 1, dtype=np.bool_)
            involved[matched.ticker] = True
            completed = matched.position + h < ends[matched.ticker]
            position, owner = matched.position[completed], matched.ticker[completed]
            kept = _non_overlapping(position, owner, h)
            position = position[kept]
            name = str(kind)
            self.forward.setdefault(name, []).append(
                panel.close[position + h] / panel.close[position] - 1.0
            )
            self.base_count[name] = self.base_count.get(name, 0) + int(base.count[involved].sum())
            self.base_rises[name] = self.base_rises.get(name, 0) + int(base.rises[involved].sum())

    def rows(self, resamples: int = 1000, seed: int = 0) -> dict[str, dict[str, Any]]:
        """Per kind with a counted occurrence: ``n, hit_rate, hit_ci_low, hit_ci_high, mean,
        base_n, base_hit_rate, strength, direction`` as :func:`study` and
        :meth:`StudyResult.lean` give them."""
        h = self.horizon
        found: dict[str, dict[str, Any]] = {}
        for kind, parts in self.forward.items():
            values = np.concatenate(parts)
            n = int(values.size)
            if not n:
                continue
            rises = int(np.count_nonzero(values > 0))
            low, high = _interval(_hit_resamples(n, rises, resamples, seed, h))
            base_n = self.base_count[kind]
            base_hit = self.base_rises[kind] / base_n if base_n else float("nan")
            strength = grade_strength(n, rises / n, (low, high), base_hit)
            direction = (
                "none"
                if strength == "none"
                else ("positive" if rises / n > base_hit else "negative")
            )
            found[kind] = {
                "n": n,
                "hit_rate": rises / n,
                "hit_ci_low": low,
                "hit_ci_high": high,
                "mean": float(values.mean()),
                "base_n": base_n,
                "base_hit_rate": base_hit if base_n else None,
                "strength": strength,
                "direction": direction,
            }
        return found


# --------------------------------------------------------------------------------------------
# Explaining the result


@dataclass(frozen=True)
class _Settings:
    label: str
    until: dt.date | None
    period: tuple[dt.date, dt.date] | None
    n_tickers: int
    overlap: Overlap
    resamples: int
    seed: int
    benchmark: bool


def _set_aside(counts: Mapping[str, int]) -> str:
    names = {
        "incomplete": "without ticker or date",
        "after_until": "dated after the as-of date",
        "duplicate": "duplicates",
        "unknown_ticker": "of tickers without prices",
        "not_a_session": "on dates that are not a session of their ticker",
    }
    parts = [f"{counts[key]:,} {words}" for key, words in names.items() if counts[key]]
    return "; set aside: " + ", ".join(parts) if parts else "; none set aside"


def _method(settings: _Settings, counts: Mapping[str, int], horizons: tuple[int, ...]) -> str:
    what = settings.label or "the setup"
    period = f"{settings.period[0]} to {settings.period[1]}" if settings.period else "no sessions"
    as_of = (
        f"As of {settings.until}: no price dated after it was read; an occurrence counts for a "
        f"horizon h only if its session t+h is on or before {settings.until}, otherwise it is "
        "pending; the base rate follows the same rule."
        if settings.until
        else "No as-of date: the last session in the prices plays its role; an occurrence "
        "counts for a horizon h only if its session t+h is stored, otherwise it is pending; "
        "the base rate follows the same rule."
    )
    overlap = (
        "Overlap: for each ticker and horizon h an occurrence fewer than h sessions after the "
        "last counted one is skipped (keep-first), so one ticker's forward windows never "
        "overlap; skipped occurrences are reported."
        if settings.overlap == "skip"
        else "Overlap: every occurrence is kept, so forward windows of one ticker can overlap "
        "and share returns; the standard error and bootstrap intervals then understate the "
        "uncertainty."
    )
    relative = (
        " Relative return: r minus the benchmark's return between the same two dates (none "
        "where the benchmark lacks a date)."
        if settings.benchmark
        else ""
    )
    rules = "; ".join(f"{r.word}: {r.meaning}" for r in STRENGTH_RULES)
    paragraphs = [
        f"Occurrences of {what}: {counts['given']:,} given, {counts['matched']:,} matched to "
        f"a session of their ticker on {settings.n_tickers:,} tickers"
        f"{_set_aside(counts)}. Studied period: {period}. Horizons: "
        f"{', '.join(map(str, horizons))} sessions.",
        "Forward return over h sessions: r = close[t+h] / close[t] - 1, where t+h is the h-th "
        "session of the same ticker after t (its own rows; sessions, not calendar days). "
        "Closes are assumed adjusted for splits and dividends, so r is a total return. "
        "Excess: r minus the mean h-session forward return of the same ticker over all its "
        f"completed windows in the studied period.{relative}",
        as_of,
        overlap,
        f"Statistics: hit rate = share of r > 0; standard error = s / sqrt(n). "
        f"{CONFIDENCE:.0%} confidence intervals by the percentile bootstrap: "
        f"{settings.resamples:,} resamples of n occurrences drawn with replacement (numpy "
        f"PCG64, seed {settings.seed} and the horizon), 2.5th and 97.5th percentiles of the "
        "resampled means; resampled hit rates are drawn as Binomial(n, hit rate) / n, the exact "
        "law of the share of rises in such a resample.",
        "Base rate: hit rate and mean of every completed h-session window of the same tickers "
        "over the same period, pooled.",
        f"Strength compares the hit rate with the base rate: none if the {CONFIDENCE:.0%} "
        f"interval of the hit rate contains the base rate or fewer than "
        f"{STRENGTH_RULES[-1].min_n} occurrences were counted; otherwise {rules}.",
        "Assumptions: occurrences are independent draws; windows of different tickers over "
        "the same dates share market moves, so the intervals may still be too narrow.",
    ]
    return "\n".join(paragraphs)


def _pct(value: object, digits: int = 2) -> str:
    return f"{value:.{digits}%}" if isinstance(value, int | float) else "n/a"


@dataclass(frozen=True)
class StudyResult:
    """The outcome of :func:`study`: numbers per horizon, the returns behind them, the method.

    Attributes
    ----------
    label
        Name of the setup studied.
    horizons
        Horizons in trading sessions, ascending.
    table
        One row per horizon with the columns of :data:`TABLE_SCHEMA`.
    returns
        ``ticker, date, horizon, end_date, forward_return, excess, relative`` of every counted
        occurrence (``relative`` null without a benchmark).
    method
        What was counted and how: rules, CI method, resamples, seed and assumptions.
    counts
        Occurrences given, matched, and set aside by reason.
    until
        As-of date, if any.
    period
        First and last session of the studied period.
    overlap
        Overlap rule used.
    resamples, seed
        Bootstrap settings.
    """

    label: str
    horizons: tuple[int, ...]
    table: pl.DataFrame
    returns: pl.DataFrame
    method: str
    counts: dict[str, int]
    until: dt.date | None
    period: tuple[dt.date, dt.date] | None
    overlap: Overlap
    resamples: int
    seed: int
    _inputs: tuple[_Panel, _Occurrences] | None = field(default=None, repr=False, compare=False)

    def row(self, horizon: int) -> dict[str, Any]:
        """The table row of one horizon."""
        if horizon not in self.horizons:
            raise InputError(
                f"horizon {horizon} was not studied; studied horizons: "
                f"{', '.join(map(str, self.horizons))}",
                field="horizon",
            )
        return self.table.row(self.horizons.index(horizon), named=True)

    def lean(self, horizon: int) -> tuple[Direction, Strength]:
        """Which way the setup leans at a horizon, and how strongly.

        Returns
        -------
        tuple
            ``("positive" | "negative" | "none", strength)``: positive when the hit rate is
            above the base rate and the strength is not ``"none"``, negative when below;
            ``("none", "none")`` otherwise.
        """
        row = self.row(horizon)
        strength: Strength = row["strength"]
        if strength == "none":
            return "none", "none"
        return ("positive" if row["hit_rate"] > row["base_hit_rate"] else "negative"), strength

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON types (the returns frame excluded)."""
        leans = {
            str(h): dict(zip(("direction", "strength"), self.lean(h), strict=True))
            for h in self.horizons
        }
        return {
            "label": self.label,
            "horizons": list(self.horizons),
            "until": self.until.isoformat() if self.until else None,
            "period": [d.isoformat() for d in self.period] if self.period else None,
            "overlap": self.overlap,
            "resamples": self.resamples,
            "seed": self.seed,
            "confidence": CONFIDENCE,
            "counts": dict(self.counts),
            "table": self.table.to_dicts(),
            "lean": leans,
            "method": self.method,
        }

    def summary(self, width: int = 100) -> str:
        """A readable text table of the study, with its method."""
        header = (
            f"{'horizon':>7} {'n':>8} {'mean':>8} {'mean 95% CI':>18} {'median':>8} "
            f"{'hit':>6} {'hit 95% CI':>14} {'base hit':>8} {'base mean':>9} {'excess':>8} "
            f"{'vs bench':>8} {'strength':>8} {'pending':>7} {'skipped':>7}"
        )
        lines = []
        for row in self.table.iter_rows(named=True):
            mean_ci = (
                f"[{_pct(row['mean_ci_low'])}, {_pct(row['mean_ci_high'])}]" if row["n"] else "n/a"
            )
            hit_ci = (
                f"[{_pct(row['hit_ci_low'], 1)}, {_pct(row['hit_ci_high'], 1)}]"
                if row["n"]
                else "n/a"
            )
            lines.append(
                f"{row['horizon']:>7} {row['n']:>8,} {_pct(row['mean']):>8} {mean_ci:>18} "
                f"{_pct(row['median']):>8} {_pct(row['hit_rate'], 1):>6} {hit_ci:>14} "
                f"{_pct(row['base_hit_rate'], 1):>8} {_pct(row['base_mean']):>9} "
                f"{_pct(row['mean_excess']):>8} {_pct(row['mean_relative']):>8} "
                f"{row['strength']:>8} {row['n_pending']:>7,} {row['n_skipped']:>7,}"
            )
        rule_width = max(width, len(header))
        period = f"{self.period[0]} .. {self.period[1]}" if self.period else "no sessions"
        facts = [
            f"Setup: {self.label or 'unnamed'}",
            f"Period: {period}" + (f" (as of {self.until})" if self.until else ""),
            f"Occurrences: {self.counts['given']:,} given, {self.counts['matched']:,} matched",
            f"Overlap: {self.overlap}",
            f"Bootstrap: {self.resamples:,} resamples, seed {self.seed}",
        ]
        method = [
            wrapped
            for paragraph in self.method.split("\n")
            for wrapped in textwrap.wrap(
                paragraph, rule_width, initial_indent="  ", subsequent_indent="    "
            )
        ]
        title = "Event study" + (f": {self.label}" if self.label else "")
        return "\n".join(
            [
                title.center(rule_width).rstrip(),
                "=" * rule_width,
                *facts,
                "-" * rule_width,
                header,
                *lines,
                "-" * rule_width,
                "Method",
                *method,
            ]
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        counted = ", ".join(f"{row['horizon']}d n={row['n']:,}" for row in self.table.to_dicts())
        return f"<StudyResult {self.label or 'unnamed'}: {counted or 'no horizons'}>"

    def _repr_html_(self) -> str:
        """The study as a notebook shows it: what was counted, the table, then the method."""
        import html

        head = (
            "horizon",
            "n",
            "mean",
            "mean 95% CI",
            "median",
            "hit rate",
            "hit 95% CI",
            "base hit rate",
            "base mean",
            "excess",
            "vs bench",
            "strength",
            "pending",
            "skipped",
        )
        rows = []
        for row in self.table.iter_rows(named=True):
            counted = bool(row["n"])
            cells = (
                row["horizon"],
                f"{row['n']:,}",
                _pct(row["mean"]),
                f"{_pct(row['mean_ci_low'])} to {_pct(row['mean_ci_high'])}" if counted else "n/a",
                _pct(row["median"]),
                _pct(row["hit_rate"], 1),
                f"{_pct(row['hit_ci_low'], 1)} to {_pct(row['hit_ci_high'], 1)}"
                if counted
                else "n/a",
                _pct(row["base_hit_rate"], 1),
                _pct(row["base_mean"]),
                _pct(row["mean_excess"]),
                _pct(row["mean_relative"]),
                row["strength"],
                f"{row['n_pending']:,}",
                f"{row['n_skipped']:,}",
            )
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells))
        period = f"{self.period[0]} to {self.period[1]}" if self.period else "no sessions"
        facts = [
            f"Period: {period}" + (f" (as of {self.until})" if self.until else ""),
            f"Occurrences: {self.counts['given']:,} given, {self.counts['matched']:,} matched",
            f"Overlap: {self.overlap}; bootstrap: {self.resamples:,} resamples, seed {self.seed}",
        ]
        method = "".join(f"<p>{html.escape(p)}</p>" for p in self.method.split("\n"))
        return "".join(
            [
                f"<h4>Event study: {html.escape(self.label or 'unnamed')}</h4>",
                "<p>" + "<br>".join(html.escape(f) for f in facts) + "</p>",
                "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>",
                *rows,
                "</table>",
                f"<details><summary>Method</summary>{method}</details>",
            ]
        )


# --------------------------------------------------------------------------------------------
# Average path and plot


def average_path(
    source: StudyResult | tuple[pl.DataFrame, pl.DataFrame],
    max_horizon: int | None = None,
    *,
    until: dt.date | None = None,
    overlap: Overlap | None = None,
) -> pl.DataFrame:
    """Mean cumulative return at each session after the occurrences, for a plot of the path.

    Parameters
    ----------
    source
        A :class:`StudyResult` (its prices, occurrences, as-of date and overlap rule are used)
        or a ``(prices, occurrences)`` pair as :func:`study` takes them.
    max_horizon
        Last session offset; default the study's longest horizon (required for a pair).
    until, overlap
        As in :func:`study` (overlap default ``"skip"``); only for a ``(prices, occurrences)``
        pair, since a result keeps its own.

    Returns
    -------
    polars.DataFrame
        ``offset, n, mean, median, hit_rate`` for offsets ``1 .. max_horizon``.

    Notes
    -----
    The path at offset ``k`` is the mean of ``close[t+k] / close[t] - 1`` over one fixed set of
    occurrences: those whose ``max_horizon`` window completed on or before the as-of date,
    thinned by the overlap rule with ``h = max_horizon``, so every offset averages the same
    occurrences (``n`` is constant).
    """
    if isinstance(source, StudyResult):
        if until is not None or overlap is not None:
            raise InputError(
                "until and overlap come from the study; pass them to study(), not here"
            )
        if source._inputs is None:
            raise InputError("this StudyResult carries no inputs; pass (prices, occurrences)")
        panel, matched = source._inputs
        chosen_overlap = source.overlap
        horizon = max(source.horizons) if max_horizon is None else max_horizon
    else:
        if max_horizon is None:
            raise InputError("max_horizon is required with (prices, occurrences)")
        prices, occurrences = source
        panel = _panel(prices, until)
        matched, _ = _match(panel, occurrences, until)
        chosen_overlap = _overlap(overlap or "skip")
        horizon = max_horizon
    (horizon,) = _horizons([horizon])
    completed = matched.position + horizon < panel.offsets[1:][matched.ticker]
    position, owner = matched.position[completed], matched.ticker[completed]
    if chosen_overlap == "skip":
        position = position[_non_overlapping(position, owner, horizon)]
    start = panel.close[position]
    rows: list[tuple[int, int, float | None, float | None, float | None]] = []
    for k in range(1, horizon + 1):
        path = panel.close[position + k] / start - 1.0
        if path.size:
            rows.append(
                (k, path.size, float(path.mean()), float(np.median(path)), float((path > 0).mean()))
            )
        else:
            rows.append((k, 0, None, None, None))
    return pl.DataFrame(rows, schema=PATH_SCHEMA, orient="row")


def plot(result: StudyResult, path: pl.DataFrame | None = None) -> Figure:
    """Histogram of forward returns per horizon, and the average path after the setup.

    Parameters
    ----------
    result
        A study.
    path
        Output of :func:`average_path`; computed from ``result`` when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        On its own Agg canvas, outside pyplot; nothing is written or shown.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    if path is None:
        path = average_path(result)
    k = len(result.horizons)
    fig = Figure(figsize=(3.6 * max(k, 2), 7.0), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, k)
    title = "Event study" + (f": {result.label}" if result.label else "")
    fig.suptitle(title)
    percent = PercentFormatter(1.0, decimals=0)
    for i, h in enumerate(result.horizons):
        ax = fig.add_subplot(grid[0, i])
        row = result.row(h)
        values = result.returns.filter(pl.col("horizon") == h)["forward_return"].to_numpy()
        if values.size:
            ax.hist(values, bins=min(50, max(10, values.size // 20)), color="#90a4ae")
            ax.axvline(float(values.mean()), color="#1565c0", label="setup mean")
        if row["base_mean"] is not None:
            ax.axvline(row["base_mean"], color="#ef6c00", linestyle="--", label="all days mean")
        ax.axvline(0.0, color="#37474f", linewidth=0.8)
        ax.xaxis.set_major_formatter(percent)
        ax.set_title(f"{h} sessions: n={row['n']:,}, rose {_pct(row['hit_rate'], 0)}", fontsize=9)
        ax.set_xlabel("forward return")
        if i == 0:
            ax.set_ylabel("occurrences")
            ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[1, :])
    ax.plot(path["offset"].to_numpy(), path["mean"].to_numpy(), color="#1565c0", label="mean")
    ax.plot(
        path["offset"].to_numpy(),
        path["median"].to_numpy(),
        color="#1565c0",
        linestyle=":",
        label="median",
    )
    bases = result.table.filter(pl.col("base_mean").is_not_null())
    ax.plot(
        bases["horizon"].to_numpy(),
        bases["base_mean"].to_numpy(),
        "o",
        color="#ef6c00",
        label="all days (base rate)",
    )
    ax.axhline(0.0, color="#37474f", linewidth=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    n = int(path["n"][0]) if path.height else 0
    ax.set_title(f"Average path after the setup (n={n:,})", fontsize=9)
    ax.set_xlabel("sessions after the occurrence")
    ax.set_ylabel("cumulative return")
    ax.legend(fontsize=7)
    return fig
