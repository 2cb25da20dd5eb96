"""Market-model abnormal returns of an event study and their test statistics.

Event studies judge a setup by what a stock did beyond what the market explains. For each
occurrence the market model ``R_s = alpha + beta * M_s + e_s`` is fitted by OLS on the
:data:`ESTIMATION` sessions that end :data:`GAP` sessions before the occurrence, and the
abnormal returns of the sessions after it are summed into the cumulative abnormal return (CAR)
of each horizon. Three test statistics ask whether the mean CAR differs from zero: the
cross-sectional t, Patell's standardised-residual Z and Boehmer-Musumeci-Poulsen's (BMP)
standardised cross-sectional t, which stays honest when the event raises the variance.

The formulas are those of Campbell, Lo and MacKinlay, *The Econometrics of Financial Markets*
(1997), ch. 4 (market model, CAR and its variance with the estimation error of alpha and beta),
Patell (1976) and Boehmer, Musumeci and Poulsen (1991); the tests check alpha, beta, the residual
variance and the CAR variance against ``statsmodels`` OLS on the same inputs to 1e-10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ESTIMATION: Final = 120
"""Daily returns in the estimation window of alpha and beta (about six months of sessions)."""

GAP: Final = 10
"""Sessions between the end of the estimation window and the occurrence, so that a run-up to
the setup does not leak into the normal return it is measured against."""


_US: Final = ("^GSPC", "SPY")
EXCHANGE_INDEXES: Final[dict[str, tuple[str, ...]]] = {
    "XNYS": _US,
    "XNAS": _US,
    "XASE": _US,
    "ARCX": _US,
    "BATS": _US,
    "XHKG": ("^HSI", "2800.HK"),
    "XLON": ("^FTSE", "ISF.L"),
    "XETR": ("^GDAXI", "EXS1.DE"),
    "XFRA": ("^GDAXI", "EXS1.DE"),
    "XPAR": ("^FCHI",),
    "XAMS": ("^AEX",),
    "XSWX": ("^SSMI",),
    "XTKS": ("^N225", "1321.T"),
    "XSHG": ("000001.SS",),
    "XSHE": ("399001.SZ",),
    "XTSE": ("^GSPTSE", "XIU.TO"),
    "XASX": ("^AXJO", "STW.AX"),
    "XKRX": ("^KS11",),
}
"""The market index of each exchange (ISO MIC), then a fund that tracks it: the benchmark a
ticker's market model takes, the first of them that is stored."""

FALLBACK_BENCHMARK: Final = "SPY"
"""The benchmark when no index of a ticker's exchange is stored."""


def benchmark_for(exchange: str | None, stored: frozenset[str] | set[str]) -> str | None:
    """The stored index of ``exchange`` (first of :data:`EXCHANGE_INDEXES`), else
    :data:`FALLBACK_BENCHMARK` when stored, else None."""
    for candidate in EXCHANGE_INDEXES.get((exchange or "").upper(), ()):
        if candidate in stored:
            return candidate
    return FALLBACK_BENCHMARK if FALLBACK_BENCHMARK in stored else None


@dataclass(frozen=True)
class AbnormalReturns:
    """Per counted occurrence of one horizon: the fitted market model and its CAR.

    ``kept`` marks occurrences with a full estimation window and benchmark returns on every
    session it and the event window need; the other arrays hold only the kept ones.
    """

    kept: npt.NDArray[np.bool_]
    alpha: FloatArray
    beta: FloatArray
    sigma2: FloatArray
    car: FloatArray
    car_variance: FloatArray

    @property
    def scar(self) -> FloatArray:
        """Standardised CAR: CAR over the square root of its forecast-error variance."""
        out: FloatArray = self.car / np.sqrt(self.car_variance)
        return out


def row_returns(close: FloatArray, offsets: IntArray) -> FloatArray:
    """Each row's one-session return ``close[i] / close[i-1] - 1``; NaN on a ticker's first row."""
    out = np.full(close.size, np.nan)
    if close.size > 1:
        out[1:] = close[1:] / close[:-1] - 1.0
    out[offsets[:-1][offsets[:-1] < close.size]] = np.nan
    return out


def benchmark_row_returns(
    days: npt.NDArray[np.int32],
    offsets: IntArray,
    bench_days: npt.NDArray[np.int32],
    bench_close: FloatArray,
) -> FloatArray:
    """The benchmark's return between each row's previous session of the same ticker and the
    row's own date; NaN where the benchmark lacks either date or on a ticker's first row."""
    level = np.full(days.size, np.nan)
    if bench_days.size:
        i = np.minimum(np.searchsorted(bench_days, days), bench_days.size - 1)
        hit = bench_days[i] == days
        level[hit] = bench_close[i[hit]]
    return row_returns(level, offsets)


def fit(
    stock: FloatArray,
    market: FloatArray,
    position: IntArray,
    start: IntArray,
    h: int,
    estimation: int = ESTIMATION,
    gap: int = GAP,
) -> AbnormalReturns:
    """Market model and CAR over ``h`` sessions for occurrences at row ``position``.

    Notes
    -----
    Occurrence at row ``t`` of a ticker whose rows begin at ``start``. Estimation window: the
    returns of rows ``t-gap-L+1 .. t-gap`` (``L = estimation``), each needing its previous row,
    so ``t-gap-L >= start``. OLS gives ``beta = S_RM / S_MM``, ``alpha = mean(R) - beta *
    mean(M)``, ``sigma2 = SSR / (L - 2)``. Event window: the returns of rows ``t+1 .. t+h``
    (the setup is known at the close of ``t``, as for the forward return), ``AR = R - alpha -
    beta * M``, ``CAR = sum(AR)``, and (CLM eq. 4.4.8, with the estimation error of alpha and
    beta) ``Var(CAR) = sigma2 * (h + h**2 / L + (sum(M_event) - h * mean(M))**2 / S_MM)``.
    Nothing after ``t+h`` is read.
    """
    lookback = np.arange(-gap - estimation + 1, -gap + 1, dtype=np.int64)
    ahead = np.arange(1, h + 1, dtype=np.int64)
    ok = position - gap - estimation >= start
    where = position[ok]
    est = where[:, None] + lookback[None, :]
    ev = where[:, None] + ahead[None, :]
    r_est, m_est = stock[est], market[est]
    r_ev, m_ev = stock[ev], market[ev]
    finite = (
        np.isfinite(r_est).all(axis=1)
        & np.isfinite(m_est).all(axis=1)
        & np.isfinite(r_ev).all(axis=1)
        & np.isfinite(m_ev).all(axis=1)
    )
    m_mean = m_est.mean(axis=1, keepdims=True)
    r_mean = r_est.mean(axis=1, keepdims=True)
    dm = m_est - m_mean
    s_mm = (dm * dm).sum(axis=1)
    finite &= s_mm > 0
    r_est, m_est, r_ev, m_ev = r_est[finite], m_est[finite], r_ev[finite], m_ev[finite]
    dm, s_mm = dm[finite], s_mm[finite]
    m_mean, r_mean = m_mean[finite], r_mean[finite]
    beta = (dm * (r_est - r_mean)).sum(axis=1) / s_mm
    alpha = r_mean[:, 0] - beta * m_mean[:, 0]
    residual = r_est - alpha[:, None] - beta[:, None] * m_est
    sigma2 = (residual * residual).sum(axis=1) / (estimation - 2)
    car = (r_ev - alpha[:, None] - beta[:, None] * m_ev).sum(axis=1)
    spread = m_ev.sum(axis=1) - h * m_mean[:, 0]
    variance = sigma2 * (h + h * h / estimation + spread * spread / s_mm)
    # A stock that never moved in its window (a halted or stale quote) has no residual scale.
    fitted = sigma2 > 0
    kept = np.zeros(position.size, dtype=np.bool_)
    kept[np.flatnonzero(ok)[finite][fitted]] = True
    return AbnormalReturns(
        kept, alpha[fitted], beta[fitted], sigma2[fitted], car[fitted], variance[fitted]
    )


def _two_sided(z: float) -> float:
    """Two-sided p-value of a standard normal statistic (the large-sample law of all three)."""
    return math.erfc(abs(z) / math.sqrt(2.0)) if math.isfinite(z) else float("nan")


def statistics(result: AbnormalReturns, estimation: int = ESTIMATION) -> dict[str, float | int]:
    """Mean CAR and the three tests of a zero mean CAR, with two-sided normal p-values.

    Notes
    -----
    With ``N`` occurrences, ``CAR_i`` and ``SCAR_i = CAR_i / sd(CAR_i)``:

    - cross-sectional ``t = mean(CAR) / (s(CAR) / sqrt(N))``;
    - Patell ``Z = sum(SCAR) / sqrt(N * (L - 2) / (L - 4))`` (each SCAR is a t with ``L - 2``
      degrees of freedom, whose variance is ``(L - 2) / (L - 4)``);
    - BMP ``t = mean(SCAR) / (s(SCAR) / sqrt(N))``.

    ``s`` uses ``ddof=1``. The p-values take the normal law, the large-N limit of each.
    """
    n = int(result.car.size)
    nan = float("nan")
    if n < 2:
        return {"n_car": n, "mean_car": float(result.car.mean()) if n else nan, **_empty()}
    scar = result.scar
    car_sd = float(result.car.std(ddof=1))
    scar_sd = float(scar.std(ddof=1))
    t_cs = float(result.car.mean()) / (car_sd / math.sqrt(n)) if car_sd > 0 else nan
    patell = float(scar.sum()) / math.sqrt(n * (estimation - 2) / (estimation - 4))
    bmp = float(scar.mean()) / (scar_sd / math.sqrt(n)) if scar_sd > 0 else nan
    return {
        "n_car": n,
        "mean_car": float(result.car.mean()),
        "t_cross_section": t_cs,
        "p_cross_section": _two_sided(t_cs),
        "z_patell": patell,
        "p_patell": _two_sided(patell),
        "t_bmp": bmp,
        "p_bmp": _two_sided(bmp),
    }


def _empty() -> dict[str, float]:
    keys = ("t_cross_section", "p_cross_section", "z_patell", "p_patell", "t_bmp", "p_bmp")
    return dict.fromkeys(keys, float("nan"))
