"""The conclusion: which way the evidence leans, how strongly, why, and the level to watch.

Each factor (trend, momentum, volume, analysts, news) leans +1, 0 or -1 for a stated reason.
The lean is the sign of their sum (positive at +2 or more, negative at -2 or less, else mixed).
Strength comes only from the event study, and the study backs the lean only when it points the
same way: without one the verdict says its lean is untested, so it never claims more than the
evidence supports. The verdict states the study's numbers (:class:`Odds`): the odds of a gain
with their interval against the base rate, and how often such odds came true before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from stockbrief.evidence.rules import STRENGTH_RULES
from stockbrief.notes.facts import FactSheet
from stockbrief.notes.wording import WORDING

NOTICE: Final = "not-investment-advice"

Lean = Literal["positive", "negative", "mixed"]
Backing = Literal["untested", "none", "supports", "contradicts", "leans_positive", "leans_negative"]
"""What the event study says of the lean: untested, within chance, for it, against it, or (for
a mixed picture) which way history alone leans."""


@dataclass(frozen=True)
class Reason:
    """One factor's lean and the key the templates explain it with."""

    factor: str
    lean: int
    key: str
    value: float | str | None = None


@dataclass(frozen=True)
class Level:
    """The price level to watch next, and whether it is support or resistance.

    ``name`` says what it is (``sma_50``, ``sma_200``, ``high_52w``, ``low_52w``,
    ``swing_high``, ``swing_low``, ``swing``, ``pivot_week_p`` ... ``pivot_week_s2``,
    ``round``); a swing level carries its ``touches`` and ``last_touch`` (an ISO date, so the
    verdict stays plain JSON). ``other`` is the
    level to watch on the other side of the close, when there is one.
    """

    name: str
    value: float
    role: Literal["support", "resistance"]
    touches: int | None = None
    last_touch: str | None = None
    other: Level | None = None


Judged = Literal["edge", "chance", "adjusted", "few"]
"""Why the odds do or do not back a lean: the interval excludes the base rate and the
adjustment for the setups tried keeps it (edge), the interval contains the base rate (chance),
only the adjustment for the setups tried undoes it (adjusted), too few cases (few)."""


@dataclass(frozen=True)
class Odds:
    """The universe study's odds of a gain behind the verdict, as the brief states them.

    Every number is the study's: ``rate`` (hit rate), ``low`` and ``high`` (its 95% interval,
    by dates when same-day cases are common), ``base`` (share of gains on all days of the same
    stocks), ``horizon`` (trading days) and ``n`` (cases); ``record`` is the reliability-table
    bin of past verdicts that stated odds like ``rate`` (``bin_low``, ``bin_high``, ``n``,
    ``observed``), when the calibration of the stored universe was replayed.
    """

    rate: float
    low: float
    high: float
    base: float
    horizon: int
    n: int
    judged: Judged
    tried: int
    record: dict[str, Any] | None = None


@dataclass(frozen=True)
class Verdict:
    """Lean, reasons and level to watch; ``evidence`` is filled by the event study."""

    lean: Lean
    score: int
    reasons: list[Reason]
    level: Level | None
    evidence: dict[str, Any] | None = None
    strength: str = "untested"
    backing: Backing = "untested"
    odds: Odds | None = None
    notice: str = NOTICE
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _side(sheet: FactSheet, side: str) -> Level | None:
    value = sheet.value(f"level_{side}")
    if value is None:
        return None
    touched: dt.date | None = sheet.value(f"level_{side}_last_touch")
    return Level(
        sheet.value(f"level_{side}_kind"),
        value,
        "resistance" if side == "above" else "support",
        sheet.value(f"level_{side}_touches"),
        touched.isoformat() if touched else None,
    )


def _level(sheet: FactSheet) -> Level | None:
    """The nearer of the levels to watch above and below the close (facts ``level_above``
    and ``level_below``, chosen by :func:`stockbrief.levels.watch`), with the other one."""
    above, below = _side(sheet, "above"), _side(sheet, "below")
    close = sheet.value("close")
    if above is None or below is None or close is None:
        return above or below
    first, second = (above, below) if above.value - close < close - below.value else (below, above)
    return dataclasses.replace(first, other=second)


def _backing(lean: Lean, evidence: dict[str, Any] | None) -> Backing:
    if evidence is None:
        return "untested"
    direction = evidence.get("direction", "none")
    if evidence.get("strength", "none") == "none" or direction not in ("positive", "negative"):
        return "none"
    if lean == "mixed":
        return "leans_positive" if direction == "positive" else "leans_negative"
    return "supports" if direction == lean else "contradicts"


def _odds(evidence: dict[str, Any] | None) -> Odds | None:
    """The odds the universe line of the study states, or None without a complete one."""
    lines = [] if evidence is None else evidence.get("setups", [])
    line = lines[-1] if lines and lines[-1].get("scope") == "universe" else None
    keys = ("rose_pct", "ci_low", "ci_high", "base_pct", "horizon", "n")
    if line is None or any(line.get(key) is None for key in keys):
        return None
    rate, low, high, base = (float(line[key]) for key in keys[:4])
    n = int(line["n"])
    judged: Judged
    if n < STRENGTH_RULES[-1].min_n:
        judged = "few"
    elif low <= base <= high:
        judged = "chance"
    elif line.get("strength", "none") == "none":
        judged = "adjusted"
    else:
        judged = "edge"
    tried = int(evidence.get("tried", 1)) if evidence else 1
    record = evidence.get("calibration") if evidence else None
    return Odds(rate, low, high, base, int(line["horizon"]), n, judged, tried, record)


def judge(sheet: FactSheet, evidence: dict[str, Any] | None = None) -> Verdict:
    """Weigh the facts of a brief into a lean with its reasons."""
    reasons: list[Reason] = []
    vs200 = sheet.value("pct_vs_sma_200")
    if vs200 is not None:
        reasons.append(Reason("trend", 1 if vs200 > 0 else -1, "sma_200", vs200))
    vs50 = sheet.value("pct_vs_sma_50")
    if vs50 is not None:
        reasons.append(Reason("trend", 1 if vs50 > 0 else -1, "sma_50", vs50))
    rsi = sheet.value("rsi_14")
    if rsi is not None:
        if rsi >= WORDING["rsi_overbought"]:
            reasons.append(Reason("momentum", -1, "overbought", rsi))
        elif rsi <= WORDING["rsi_oversold"]:
            reasons.append(Reason("momentum", 1, "oversold", rsi))
        elif abs(rsi - 50) > WORDING["rsi_band"]:
            # An RSI near 50 says nothing about momentum, so it gives no reason either way.
            reasons.append(Reason("momentum", 1 if rsi > 50 else -1, "rsi", rsi))
    rel, change = sheet.value("rel_volume"), sheet.value("change_1d")
    if rel is not None and change is not None and rel >= WORDING["volume_high"] and change:
        reasons.append(Reason("volume", 1 if change > 0 else -1, "confirms", rel))
    upside = sheet.value("upside")
    if upside is not None:
        tilt = 1 if upside > 0.1 else (-1 if upside < 0 else 0)
        reasons.append(Reason("analysts", tilt, "upside", upside))
    if sheet.value("sector_tailwind"):
        reasons.append(Reason("news", 1, "tailwind", sheet.value("peer_group_return")))
    score = sum(r.lean for r in reasons)
    lean: Lean = "positive" if score >= 2 else "negative" if score <= -2 else "mixed"
    strength = "untested" if evidence is None else str(evidence.get("strength", "untested"))
    backing = _backing(lean, evidence)
    odds = _odds(evidence)
    return Verdict(lean, score, reasons, _level(sheet), evidence, strength, backing, odds)
