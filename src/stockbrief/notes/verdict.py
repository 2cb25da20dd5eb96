"""The conclusion: which way the evidence leans, how strongly, why, and the level to watch.

Each factor (trend, momentum, volume, analysts, news) leans +1, 0 or -1 for a stated reason.
The lean is the sign of their sum (positive at +2 or more, negative at -2 or less, else mixed).
Strength comes only from the event study, and the study backs the lean only when it points the
same way: without one the verdict says its lean is untested, so it never claims more than the
evidence supports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

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
    """The price level to watch next, and whether it is support or resistance."""

    name: str
    value: float
    role: Literal["support", "resistance"]


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
    notice: str = NOTICE
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _level(sheet: FactSheet) -> Level | None:
    close = sheet.value("close")
    candidates = [
        (name, sheet.value(name))
        for name in ("sma_50", "sma_200", "high_52w", "low_52w")
        if sheet.value(name) is not None
    ]
    if close is None or not candidates:
        return None
    name, value = min(candidates, key=lambda c: abs(c[1] / close - 1))
    return Level(name, value, "support" if value <= close else "resistance")


def _backing(lean: Lean, evidence: dict[str, Any] | None) -> Backing:
    if evidence is None:
        return "untested"
    direction = evidence.get("direction", "none")
    if evidence.get("strength", "none") == "none" or direction not in ("positive", "negative"):
        return "none"
    if lean == "mixed":
        return "leans_positive" if direction == "positive" else "leans_negative"
    return "supports" if direction == lean else "contradicts"


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
    return Verdict(lean, score, reasons, _level(sheet), evidence, strength, backing)
