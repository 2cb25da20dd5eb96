"""Bootstrap intervals that keep same-day occurrences together.

Occurrences of a setup on one date, in different stocks, share that date's market move: they
are one draw of the market, not several. Resampling single occurrences then treats them as
independent and gives intervals that are too narrow. The date-cluster bootstrap resamples whole
dates (every occurrence of a drawn date comes along), the standard remedy for cross-sectional
dependence in event studies (Cameron, Gelbach and Miller 2008; Kolari and Pynnonen 2010).

Rule: the study grades its verdict on the by-date interval when more than
:data:`CLUSTER_SHARE` of its counted occurrences share their date with another counted one,
and on the i.i.d. interval otherwise; both are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

CLUSTER_SHARE: Final = 0.10
"""Share of occurrences on a date with another occurrence above which dates are resampled."""

Resampling = Literal["iid", "date"]


@dataclass(frozen=True)
class DateClusters:
    """Per distinct date: how many occurrences, the sum of their returns and their rises."""

    count: FloatArray
    total: FloatArray
    rises: FloatArray
    shared: float
    """Share of occurrences whose date holds another occurrence."""

    @property
    def resampling(self) -> Resampling:
        """Which interval the verdict uses, by the rule of :data:`CLUSTER_SHARE`."""
        return "date" if self.shared > CLUSTER_SHARE else "iid"


def clusters(values: FloatArray, days: npt.NDArray[np.int32]) -> DateClusters:
    """Group ``values`` (returns, in any order) by their occurrence dates ``days``."""
    if values.size == 0:
        empty: FloatArray = np.zeros(0)
        return DateClusters(empty, empty, empty, 0.0)
    unique, code = np.unique(days, return_inverse=True)
    count: FloatArray = np.bincount(code, minlength=unique.size).astype(np.float64)
    total: FloatArray = np.bincount(code, weights=values, minlength=unique.size).astype(np.float64)
    rises: FloatArray = np.bincount(
        code, weights=(values > 0).astype(np.float64), minlength=unique.size
    ).astype(np.float64)
    shared = float(count[count > 1].sum() / values.size)
    return DateClusters(count, total, rises, shared)


def resample(
    groups: DateClusters, resamples: int, seed: int, h: int
) -> tuple[FloatArray, FloatArray]:
    """Means and hit rates of ``resamples`` date-cluster bootstrap samples.

    Each sample draws as many dates as there are, with replacement (numpy PCG64 seeded from
    ``seed`` and ``h``), and pools every occurrence of the drawn dates: mean = sum of returns /
    occurrences, hit rate = rises / occurrences.
    """
    g = groups.count.size
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(h, 2))))
    means = np.empty(resamples)
    hits = np.empty(resamples)
    rows = max(1, (1 << 22) // max(g, 1))
    for start in range(0, resamples, rows):
        size = min(rows, resamples - start)
        index = rng.integers(0, g, size=(size, g))
        n = groups.count[index].sum(axis=1)
        means[start : start + size] = groups.total[index].sum(axis=1) / n
        hits[start : start + size] = groups.rises[index].sum(axis=1) / n
    return means, hits
