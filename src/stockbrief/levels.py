"""Price levels of one ticker: pivot points, swing support and resistance, round numbers.

Pure numpy over one ticker's bars, ordered by date. Every level as of a session reads bars up
to and including that session only: a swing high is counted once the sessions after it that
confirm it have traded, so a level never appears before a chart reader could have drawn it.
:func:`watch` picks, among these levels and the moving averages and 52-week extremes, the nearest
meaningful one above and below the close: the brief's level to watch.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

PivotMethod = Literal["classic", "fibonacci", "camarilla", "woodie", "demark"]
PIVOT_METHODS: Final[tuple[PivotMethod, ...]] = (
    "classic",
    "fibonacci",
    "camarilla",
    "woodie",
    "demark",
)

SWING_SPAN: Final = 5
"""Sessions each side a swing high (low) must exceed (undercut): a fractal of 5 + 1 + 5."""
SWING_TOLERANCE: Final = 0.015
"""Swings within this fraction of the lowest of them form one level (1.5%)."""
SWING_LOOKBACK: Final = 252
"""Sessions, the as-of session included, whose swings count (one year)."""
MIN_TOUCHES: Final = 2
"""Swings a level needs to be worth watching: one turn is a point, two make a level."""
ROUND_SHARE: Final = 0.10
"""Round numbers are multiples of the largest 1-2.5-5 step no larger than 10% of the close."""
WATCH_REACH: Final = 0.10
"""A structural level further than this from the close (10%) gives way to a nearer pivot or
round number as the level to watch: it is too far to be tested soon."""
WEEKLY_PIVOTS_WATCHED: Final = ("P", "R1", "S1", "R2", "S2")
"""The previous week's classic pivots the level to watch considers (session pivots last one
session, too short for a note that looks beyond the next day)."""

Float = NDArray[np.float64]


def pivots(
    high: float, low: float, close: float, open_: float, method: PivotMethod = "classic"
) -> dict[str, float]:
    """Pivot point and its resistances (R) and supports (S) from one period's bar.

    Notes
    -----
    With H, L, C, O the period's high, low, close and open:

    - classic (floor): P = (H + L + C) / 3; R1 = 2P - L; S1 = 2P - H; R2 = P + (H - L);
      S2 = P - (H - L); R3 = H + 2(P - L); S3 = L - 2(H - P).
    - fibonacci: P as classic; R/S k = P +/- f (H - L) with f = 0.382, 0.618, 1.
    - camarilla: P as classic; R/S k = C +/- 1.1 (H - L) / d with d = 12, 6, 4, 2.
    - woodie: P = (H + L + 2C) / 4; R1, S1, R2, S2, R3, S3 as classic from that P;
      R4 = R3 + (H - L); S4 = S3 - (H - L) (TradingView's convention).
    - demark: X = H + 2L + C if C < O, 2H + L + C if C > O, else H + L + 2C;
      P = X / 4; R1 = X / 2 - L; S1 = X / 2 - H.

    The levels apply to the period after the bar: a session's pivots to the next session,
    a week's to the next week.
    """
    span = high - low
    if method in ("classic", "woodie"):
        p = (high + low + close) / 3 if method == "classic" else (high + low + 2 * close) / 4
        out = {
            "P": p,
            "R1": 2 * p - low,
            "S1": 2 * p - high,
            "R2": p + span,
            "S2": p - span,
            "R3": high + 2 * (p - low),
            "S3": low - 2 * (high - p),
        }
        if method == "woodie":
            out["R4"] = out["R3"] + span
            out["S4"] = out["S3"] - span
        return out
    if method == "fibonacci":
        p = (high + low + close) / 3
        out = {"P": p}
        for k, share in enumerate((0.382, 0.618, 1.0), start=1):
            out[f"R{k}"] = p + share * span
            out[f"S{k}"] = p - share * span
        return out
    if method == "camarilla":
        out = {"P": (high + low + close) / 3}
        for k, divisor in enumerate((12, 6, 4, 2), start=1):
            out[f"R{k}"] = close + 1.1 * span / divisor
            out[f"S{k}"] = close - 1.1 * span / divisor
        return out
    if method == "demark":
        if close < open_:
            x = high + 2 * low + close
        elif close > open_:
            x = 2 * high + low + close
        else:
            x = high + low + 2 * close
        return {"P": x / 4, "R1": x / 2 - low, "S1": x / 2 - high}
    raise ValueError(f"unknown pivot method {method!r}; use one of {', '.join(PIVOT_METHODS)}")


@dataclass(frozen=True)
class PeriodBar:
    """The open, high, low and close of a period (a session or a week) and its dates."""

    start: dt.date
    end: dt.date
    open: float
    high: float
    low: float
    close: float


def previous_week(
    dates: Sequence[dt.date], open_: Float, high: Float, low: Float, close: Float
) -> PeriodBar | None:
    """The last complete calendar week (Monday to Sunday) before the week of the last bar.

    The week of the last bar is never used, even on its Friday: whether more sessions follow
    in it is not known from the bars, and the pivots of a week are those of the week before.
    """
    if not dates:
        return None
    last = dates[-1]
    monday = last - dt.timedelta(days=last.weekday())
    before = [i for i, day in enumerate(dates) if monday - dt.timedelta(days=7) <= day < monday]
    if not before:
        return None
    first, final = before[0], before[-1]
    return PeriodBar(
        dates[first],
        dates[final],
        float(open_[first]),
        float(np.max(high[first : final + 1])),
        float(np.min(low[first : final + 1])),
        float(close[final]),
    )


@dataclass(frozen=True)
class SwingLevel:
    """A horizontal level where the price turned: swing highs and lows within the tolerance.

    ``value`` is the mean of the swings' prices; ``touches`` how many swings make it;
    ``highs`` and ``lows`` how many of them were highs and lows; ``dates`` their sessions.
    """

    value: float
    touches: int
    highs: int
    lows: int
    dates: tuple[dt.date, ...]

    @property
    def last_touch(self) -> dt.date:
        return max(self.dates)

    @property
    def kind(self) -> Literal["swing_high", "swing_low", "swing"]:
        return "swing_high" if not self.lows else "swing_low" if not self.highs else "swing"


def swing_points(high: Float, low: Float, span: int = SWING_SPAN) -> tuple[NDArray[np.intp], ...]:
    """Indices of the confirmed swing highs and swing lows.

    Notes
    -----
    Bar i is a swing high when its high is above the highs of the ``span`` bars before it and
    at least the highs of the ``span`` bars after it (of equal highs, the first is the swing);
    a swing low likewise with lows. A swing needs ``span`` bars on each side, so the last
    ``span`` bars of a series are never swings yet: they are confirmed only by later bars.
    """
    n = high.shape[0]
    if n < 2 * span + 1:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    windows_h = np.lib.stride_tricks.sliding_window_view(high, 2 * span + 1)
    windows_l = np.lib.stride_tricks.sliding_window_view(low, 2 * span + 1)
    mid_h, mid_l = windows_h[:, span], windows_l[:, span]
    is_high = (mid_h > windows_h[:, :span].max(axis=1)) & (
        mid_h >= windows_h[:, span + 1 :].max(axis=1)
    )
    is_low = (mid_l < windows_l[:, :span].min(axis=1)) & (
        mid_l <= windows_l[:, span + 1 :].min(axis=1)
    )
    return np.flatnonzero(is_high) + span, np.flatnonzero(is_low) + span


def cluster(prices: Float, tolerance: float = SWING_TOLERANCE) -> list[NDArray[np.intp]]:
    """Groups of prices, each within ``tolerance`` (a fraction) of its lowest member.

    Prices are taken from the lowest up: a group starts at the lowest price not yet grouped
    and takes every price up to that price times (1 + tolerance), so no group is wider than
    the tolerance and the grouping does not depend on the order the swings came in.
    """
    order = np.argsort(prices, kind="stable")
    groups: list[NDArray[np.intp]] = []
    start = 0
    while start < order.size:
        ceiling = prices[order[start]] * (1 + tolerance)
        stop = start
        while stop < order.size and prices[order[stop]] <= ceiling:
            stop += 1
        groups.append(order[start:stop])
        start = stop
    return groups


def swing_levels(
    dates: Sequence[dt.date],
    high: Float,
    low: Float,
    *,
    span: int = SWING_SPAN,
    tolerance: float = SWING_TOLERANCE,
    lookback: int = SWING_LOOKBACK,
) -> list[SwingLevel]:
    """Support and resistance levels as of the last bar, from the swings of the last
    ``lookback`` sessions, strongest (most touches) first, then the most recently touched.

    Only swings confirmed by the last bar count (see :func:`swing_points`).
    """
    first = max(0, len(dates) - lookback)
    highs, lows = swing_points(high, low, span)
    highs, lows = highs[highs >= first], lows[lows >= first]
    prices = np.concatenate([high[highs], low[lows]]).astype(np.float64)
    where = np.concatenate([highs, lows])
    is_high = np.concatenate([np.ones(highs.size, bool), np.zeros(lows.size, bool)])
    levels = []
    for group in cluster(prices, tolerance):
        levels.append(
            SwingLevel(
                float(prices[group].mean()),
                int(group.size),
                int(is_high[group].sum()),
                int((~is_high[group]).sum()),
                tuple(sorted(dates[int(i)] for i in where[group])),
            )
        )
    return sorted(levels, key=lambda lv: (-lv.touches, -lv.last_touch.toordinal()))


def round_step(price: float) -> float:
    """The step of the round numbers at this price: the largest of 1, 2.5, 5 times a power
    of ten that is no more than :data:`ROUND_SHARE` of it (155.74: 10; 46.2: 2.5; 8.3: 0.5)."""
    if not price > 0 or not math.isfinite(price):
        raise ValueError(f"round numbers need a positive price, not {price!r}")
    ceiling = price * ROUND_SHARE
    power = 10.0 ** math.floor(math.log10(ceiling))
    return max(m * power for m in (1.0, 2.5, 5.0) if m * power <= ceiling * (1 + 1e-12))


def round_levels(price: float) -> tuple[float, float]:
    """The round numbers at or below and above the price, at :func:`round_step`."""
    step = round_step(price)
    below = math.floor(price / step + 1e-9) * step
    return round(below, 10), round(below + step, 10)


@dataclass(frozen=True)
class Candidate:
    """A level the brief may name: its name (``sma_50``, ``swing_high``, ``pivot_week_r1``,
    ``round`` ...), its value, and for swing levels their touches and last touch."""

    name: str
    value: float
    touches: int | None = None
    last_touch: dt.date | None = None


def candidates(
    close: float,
    *,
    averages: dict[str, float | None],
    swings: Sequence[SwingLevel],
    week: PeriodBar | None,
) -> list[Candidate]:
    """The meaningful levels: the given moving averages and 52-week extremes, swing levels of
    :data:`MIN_TOUCHES` or more, the previous week's classic pivots (:data:`WEEKLY_PIVOTS_WATCHED`)
    and the round numbers either side of the close."""
    found = [Candidate(name, float(v)) for name, v in averages.items() if v is not None]
    found += [
        Candidate(s.kind, s.value, s.touches, s.last_touch)
        for s in swings
        if s.touches >= MIN_TOUCHES
    ]
    if week is not None:
        weekly = pivots(week.high, week.low, week.close, week.open, "classic")
        found += [Candidate(f"pivot_week_{k.lower()}", weekly[k]) for k in WEEKLY_PIVOTS_WATCHED]
    if close > 0:
        found += [Candidate("round", v) for v in round_levels(close)]
    return found


def is_structural(candidate: Candidate) -> bool:
    """Whether a level comes from the chart's own history (a swing level, a moving average, a
    52-week extreme) rather than from arithmetic on one week or on the price (pivots, round
    numbers)."""
    return not candidate.name.startswith(("pivot_", "round"))


def watch(
    close: float, levels: Sequence[Candidate], reach: float = WATCH_REACH
) -> tuple[Candidate | None, Candidate | None]:
    """The level to watch above the close (resistance) and at or below it (support).

    On each side: the nearest structural level (:func:`is_structural`) within ``reach`` (a
    fraction of the close); without one, the nearest pivot or round number; without any,
    None. A level at the close counts as support, as the close holds it. Of two levels
    equally near, the earlier in ``levels`` wins.
    """

    def pick(side: list[Candidate]) -> Candidate | None:
        near = [c for c in side if is_structural(c) and abs(c.value / close - 1) <= reach]
        pool = near or side
        return min(pool, key=lambda c: abs(c.value - close)) if pool else None

    return (
        pick([c for c in levels if c.value > close]),
        pick([c for c in levels if c.value <= close]),
    )


def closed_above_resistance(
    high: Float,
    low: Float,
    close: Float,
    *,
    span: int = SWING_SPAN,
    tolerance: float = SWING_TOLERANCE,
    lookback: int = SWING_LOOKBACK,
) -> NDArray[np.bool_]:
    """For each session, whether its close is above the nearest swing resistance that stood
    over the previous close (a level of :data:`MIN_TOUCHES` or more, as of the session before).

    Notes
    -----
    The resistance of session t is read from the swings confirmed by session t - 1, within the
    ``lookback`` sessions up to t - 1, so the answer on t uses bars up to t only. Levels are
    re-clustered only when the set of counted swings changes.
    """
    n = close.shape[0]
    out = np.zeros(n, dtype=bool)
    highs, lows = swing_points(high, low, span)
    points = np.concatenate([highs, lows])
    prices = np.concatenate([high[highs], low[lows]]).astype(np.float64)
    order = np.argsort(points, kind="stable")
    points, prices = points[order], prices[order]
    confirmed = points + span
    key: tuple[int, int] | None = None
    levels = np.empty(0)
    for t in range(1, n):
        prior = t - 1
        lo = int(np.searchsorted(points, prior - lookback + 1))
        hi = int(np.searchsorted(confirmed, prior, side="right"))
        if (lo, hi) != key:
            key = (lo, hi)
            kept = prices[lo:hi] if hi > lo else np.empty(0)
            groups = [g for g in cluster(kept, tolerance) if g.size >= MIN_TOUCHES]
            levels = np.sort(np.array([kept[g].mean() for g in groups]))
        where = np.searchsorted(levels, close[prior], side="right")
        if where < levels.size:
            out[t] = close[t] > levels[where]
    return out
