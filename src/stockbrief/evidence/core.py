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
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.evidence import clusters as _clusters
from stockbrief.evidence import market_model as _mm
from stockbrief.evidence.explain import StudyResult, _method, _Settings
from stockbrief.evidence.inputs import (
    _Benchmarks,
    _benchmarks,
    _horizons,
    _match,
    _overlap,
    _Panel,
    _panel,
    _to_date,
    _whole,
)
from stockbrief.evidence.rules import (
    _CHUNK_ELEMENTS,
    CONFIDENCE,
    RETURNS_SCHEMA,
    TABLE_SCHEMA,
    BoolArray,
    FloatArray,
    IntArray,
    Overlap,
    grade_strength,
)

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


def _p_value(draws: FloatArray, null: float) -> float | None:
    """Two-sided bootstrap p-value of ``null``: twice the smaller tail beyond it, +1 smoothed."""
    if math.isnan(null) or draws.size == 0:
        return None
    tail = min(int(np.count_nonzero(draws <= null)), int(np.count_nonzero(draws >= null)))
    return min(1.0, 2.0 * (tail + 1) / (draws.size + 1))


def _intervals(
    values: FloatArray,
    days: npt.NDArray[np.int32],
    base_hit: float,
    resamples: int,
    seed: int,
    h: int,
    *,
    with_mean: bool = True,
) -> dict[str, Any]:
    """The i.i.d. and date-cluster intervals, the one the verdict uses, and its p-value."""
    n = values.size
    rises = int(np.count_nonzero(values > 0))
    hit_iid = _hit_resamples(n, rises, resamples, seed, h)
    groups = _clusters.clusters(values, days)
    mean_date, hit_date = _clusters.resample(groups, resamples, seed, h)
    out: dict[str, Any] = {"resampling": groups.resampling, "date_shared": groups.shared}
    out["hit_ci_low_iid"], out["hit_ci_high_iid"] = _interval(hit_iid)
    out["hit_ci_low_date"], out["hit_ci_high_date"] = _interval(hit_date)
    if with_mean:
        out["mean_ci_low_iid"], out["mean_ci_high_iid"] = _interval(
            _mean_resamples(values, resamples, seed, h)
        )
        out["mean_ci_low_date"], out["mean_ci_high_date"] = _interval(mean_date)
    chosen = groups.resampling
    for key in ("hit_ci_low", "hit_ci_high", "mean_ci_low", "mean_ci_high"):
        if f"{key}_{chosen}" in out:
            out[key] = out[f"{key}_{chosen}"]
    out["p_value"] = _p_value(hit_date if chosen == "date" else hit_iid, base_hit)
    return out


def _statistics(
    values: FloatArray,
    days: npt.NDArray[np.int32],
    base_hit: float,
    resamples: int,
    seed: int,
    h: int,
) -> dict[str, Any]:
    n = values.size
    if n == 0:
        keys = ("mean", "median", "hit_rate", "std_error", "mean_ci_low", "mean_ci_high")
        return {"n": 0, **dict.fromkeys((*keys, "hit_ci_low", "hit_ci_high"))}
    rises = int(np.count_nonzero(values > 0))
    return {
        "n": n,
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "hit_rate": rises / n,
        "std_error": float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else None,
        **_intervals(values, days, base_hit, resamples, seed, h),
    }


def study(
    prices: pl.DataFrame,
    occurrences: pl.DataFrame,
    *,
    horizons: Sequence[int] = (5, 20, 60),
    until: dt.date | None = None,
    benchmark: pl.DataFrame | None = None,
    benchmark_of: Mapping[str, str] | None = None,
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
        ``date, close`` of a benchmark (e.g. SPY, adjusted) for benchmark-relative returns
        and market-model abnormal returns; or ``ticker, date, close`` of several benchmarks
        (e.g. the index of each exchange), with ``benchmark_of``.
    benchmark_of
        Studied ticker -> the benchmark ``ticker`` it is measured against; a ticker it leaves
        out has no benchmark. The result's :attr:`StudyResult.benchmarks` says which was used.
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

    Different tickers' windows over the same dates share market moves, so the study also
    bootstraps whole dates (:mod:`stockbrief.evidence.clusters`) and grades on that interval
    when same-day occurrences are common; both intervals are in the table. With a benchmark,
    market-model abnormal returns and the cross-sectional, Patell and BMP statistics are added
    (:mod:`stockbrief.evidence.market_model`; the estimation window ends before ``t``, so they
    read nothing later than the forward return does).
    """
    chosen_horizons = _horizons(horizons)
    chosen_overlap = _overlap(overlap)
    resamples = _whole(resamples, "resamples", 1, "a positive integer such as 1000")
    seed = _whole(seed, "seed", 0, "a non-negative integer")
    panel = _panel(prices, until)
    matched, kind = _match(panel, occurrences, until)
    bench = (
        _benchmarks(benchmark, benchmark_of, panel.tickers, until)
        if benchmark is not None
        else None
    )
    ends = panel.offsets[1:]
    involved = np.zeros(panel.offsets.size - 1, dtype=np.bool_)
    involved[matched.ticker] = True
    tickers = panel.tickers
    market = stock_returns = None
    if bench is not None:
        stock_returns = _mm.row_returns(panel.close, panel.offsets)
        market = _market_returns(panel, bench)

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
            forward - bench.returns(owner, panel.days[position], panel.days[position + h])
            if bench is not None
            else np.full(forward.size, np.nan)
        )
        base_n = int(base.count[involved].sum())
        base_hit = base.rises[involved].sum() / base_n if base_n else None
        stats = _statistics(forward, panel.days[position], _float(base_hit), resamples, seed, h)
        if market is not None and stock_returns is not None:
            fitted = _mm.fit(stock_returns, market, position, panel.offsets[:-1][owner], h)
            stats.update(_mm.statistics(fitted))
        n = int(forward.size)
        known = ~np.isnan(relative)
        row: dict[str, Any] = {
            "horizon": h,
            **stats,
            "base_n": base_n,
            "base_hit_rate": base_hit,
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
        rows.append(
            {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        )
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
        benchmarks=bench.used(involved) if bench is not None else {},
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
        benchmarks=settings.benchmarks,
        _inputs=(panel, matched),
    )


def _market_returns(panel: _Panel, bench: _Benchmarks) -> FloatArray:
    """Each panel row's one-session return of its ticker's benchmark (NaN without one)."""
    market = np.full(panel.close.size, np.nan)
    row_bench = np.repeat(bench.of_ticker, np.diff(panel.offsets))
    for k, series in enumerate(bench.series):
        mine = row_bench == k
        if mine.any():
            whole = _mm.benchmark_row_returns(panel.days, panel.offsets, series.days, series.close)
            market[mine] = whole[mine]
    return market


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
    days: dict[str, list[npt.NDArray[np.int32]]] = field(default_factory=dict)
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
            self.days.setdefault(name, []).append(panel.days[position])
            self.base_count[name] = self.base_count.get(name, 0) + int(base.count[involved].sum())
            self.base_rises[name] = self.base_rises.get(name, 0) + int(base.rises[involved].sum())

    def rows(self, resamples: int = 1000, seed: int = 0) -> dict[str, dict[str, Any]]:
        """Per kind with a counted occurrence: ``n, hit_rate, hit_ci_low, hit_ci_high, mean,
        base_n, base_hit_rate, strength, direction`` as :func:`study` and
        :meth:`StudyResult.lean` give them, with ``resampling`` and ``p_value``."""
        h = self.horizon
        found: dict[str, dict[str, Any]] = {}
        for kind, parts in self.forward.items():
            values = np.concatenate(parts)
            n = int(values.size)
            if not n:
                continue
            rises = int(np.count_nonzero(values > 0))
            base_n = self.base_count[kind]
            base_hit = self.base_rises[kind] / base_n if base_n else float("nan")
            days = np.concatenate(self.days[kind])
            spread = _intervals(values, days, base_hit, resamples, seed, h, with_mean=False)
            low, high = spread["hit_ci_low"], spread["hit_ci_high"]
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
                "resampling": spread["resampling"],
                "p_value": spread["p_value"],
            }
        return found
