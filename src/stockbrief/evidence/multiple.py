"""Many setups tried on one day: p-values and the Benjamini-Hochberg adjustment.

A brief that studies every setup of the day and reports the best one would find "support" by
luck alone one time in twenty per setup. The adjustment controls the false discovery rate
across the setups tried (Benjamini and Hochberg 1995), so a verdict backs a setup only when its
adjusted p-value is under :data:`ALPHA`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np

ALPHA: Final = 0.05
"""False discovery rate a setup's adjusted p-value must stay under for the verdict to use it."""

_Z95: Final = 1.959963984540054
"""The standard normal's 97.5th percentile: a 95% interval spans 2 * _Z95 standard errors."""


def p_from_interval(hit_rate: float, low: float, high: float, base: float) -> float:
    """Two-sided p-value of "hit rate equals the base rate" from the hit rate's 95% interval.

    Notes
    -----
    The standard error is read off the interval, ``se = (high - low) / (2 * 1.96)``, so the test
    inherits whatever dependence the interval respects (the date-cluster bootstrap's when the
    study used it); ``z = (hit_rate - base) / se`` and ``p = erfc(|z| / sqrt(2))``. A zero-width
    interval gives 0 when the rates differ and 1 when they agree.
    """
    values = (hit_rate, low, high, base)
    if any(not isinstance(v, int | float) or math.isnan(v) for v in values):
        return 1.0
    se = (high - low) / (2 * _Z95)
    if se <= 0:
        return 0.0 if hit_rate != base else 1.0
    return math.erfc(abs(hit_rate - base) / se / math.sqrt(2.0))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values, in the order given.

    Notes
    -----
    For ``m`` p-values sorted ascending, ``p_adj(i) = min_{j >= i} min(1, m * p(j) / j)``; the
    same as ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = adjusted
    return [float(v) for v in out]
