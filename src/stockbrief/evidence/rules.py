"""The event study's vocabulary: result columns, confidence, and the strength table.

Every other part of :mod:`stockbrief.evidence` reads these, so they live apart from the code
that computes or explains a study.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

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
    "resampling": pl.String(),
    "date_shared": pl.Float64(),
    "p_value": pl.Float64(),
    "mean_ci_low_iid": pl.Float64(),
    "mean_ci_high_iid": pl.Float64(),
    "hit_ci_low_iid": pl.Float64(),
    "hit_ci_high_iid": pl.Float64(),
    "mean_ci_low_date": pl.Float64(),
    "mean_ci_high_date": pl.Float64(),
    "hit_ci_low_date": pl.Float64(),
    "hit_ci_high_date": pl.Float64(),
    "n_car": pl.Int64(),
    "mean_car": pl.Float64(),
    "t_cross_section": pl.Float64(),
    "p_cross_section": pl.Float64(),
    "z_patell": pl.Float64(),
    "p_patell": pl.Float64(),
    "t_bmp": pl.Float64(),
    "p_bmp": pl.Float64(),
}
"""Columns of :attr:`StudyResult.table`, one row per horizon.

``n`` occurrences counted; ``mean``, ``median``, ``hit_rate`` (share of forward returns > 0) and
``std_error`` of their forward returns; ``mean_ci_*`` and ``hit_ci_*`` the bootstrap 95% CIs;
``base_*`` the same tickers' unconditional windows (``base_n`` of them); ``mean_excess`` the mean
return over each ticker's own unconditional mean; ``mean_relative`` the mean return over the
benchmark's (from ``n_relative`` occurrences whose dates the benchmark has; null without a
benchmark); ``n_pending`` occurrences whose window had not closed by the as-of date;
``n_skipped`` occurrences left out by the overlap rule; ``strength`` per :data:`STRENGTH_RULES`.

``mean_ci_*`` and ``hit_ci_*`` are the intervals the verdict uses: the date-cluster bootstrap's
(``*_date``) when ``resampling`` is ``"date"``, else the i.i.d. bootstrap's (``*_iid``); both
are given (rule in :mod:`stockbrief.evidence.clusters`; ``date_shared`` is the share of
occurrences on a date with another one). ``p_value``: two-sided bootstrap p-value of "hit rate
equals the base hit rate" from the same resamples. With a benchmark, the market model of
:mod:`stockbrief.evidence.market_model`: ``n_car`` occurrences with a full estimation window,
``mean_car`` their mean cumulative abnormal return, and the cross-sectional, Patell and BMP
statistics with two-sided p-values.
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
