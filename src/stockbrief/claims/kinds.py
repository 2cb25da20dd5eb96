"""The kinds of claim a note can make, and the judged claim itself.

One table, :data:`KINDS`, names every kind with its label and what its stated value is; a
kind with a window (``sma_N``) is listed once with ``N`` in its name. JSON output, the
terminal table and the tests all read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

Verdict = Literal["holds", "off", "contradicted", "unverifiable"]
VERDICTS: Final[tuple[Verdict, ...]] = ("holds", "off", "contradicted", "unverifiable")

Value = Literal["price", "fraction", "shares", "index", "count", "word", "ratio"]


@dataclass(frozen=True)
class Kind:
    """What a claim of this kind states, and how a person reads its name."""

    label: str
    value: Value
    priced: bool = False
    """A price level: a provider's adjustment for later splits and dividends changes it."""


KINDS: Final[dict[str, Kind]] = {
    "close": Kind("close", "price", priced=True),
    "last_price": Kind("last or intraday price", "price", priced=True),
    "previous_close": Kind("previous close", "price", priced=True),
    "open": Kind("open", "price", priced=True),
    "day_high": Kind("day's high", "price", priced=True),
    "day_low": Kind("day's low", "price", priced=True),
    "change_1d": Kind("daily change", "fraction"),
    "change_intraday": Kind("change so far in the session", "fraction"),
    "change_abs": Kind("daily change in currency", "price", priced=True),
    "change_ytd": Kind("change since the end of last year", "fraction"),
    "gap": Kind("opening gap", "fraction"),
    "volume": Kind("volume", "shares"),
    "volume_change": Kind("volume change from the previous session", "shares"),
    "average_volume": Kind("average volume", "shares"),
    "relative_volume": Kind("volume / average volume", "ratio"),
    "sma_N": Kind("N-session simple moving average", "price", priced=True),
    "ema_N": Kind("N-session exponential moving average", "price", priced=True),
    "position_sma_N": Kind("close against the SMA N", "word"),
    "position_ema_N": Kind("close against the EMA N", "word"),
    "pct_vs_sma_N": Kind("close / SMA N - 1", "fraction"),
    "position_sma_N_sma_M": Kind("SMA N against SMA M", "word"),
    "cross_sma_N": Kind("close crossing the SMA N", "word"),
    "cross_sma_N_sma_M": Kind("SMA N crossing SMA M (golden or death cross)", "word"),
    "sessions_above_sma_N": Kind("consecutive closes above the SMA N", "count"),
    "high_52w": Kind("52-week high", "price", priced=True),
    "low_52w": Kind("52-week low", "price", priced=True),
    "pct_from_high_52w": Kind("close / 52-week high - 1", "fraction"),
    "pct_from_low_52w": Kind("close / 52-week low - 1", "fraction"),
    "rsi_14": Kind("RSI (14)", "index"),
    "rsi_zone": Kind("RSI zone (overbought > 70, oversold < 30)", "word"),
    "target_mean": Kind("mean analyst target", "price"),
    "target_firm": Kind("a firm's latest target", "price"),
    "upside": Kind("mean target / close - 1", "fraction"),
    "kpi": Kind("company metric", "count"),
    "kpi_yoy": Kind("company metric, change year over year", "fraction"),
}
"""Every claim kind, by name (``N`` and ``M`` stand for windows in sessions)."""


def kind_of(name: str) -> Kind:
    """The table row of a kind name such as ``sma_50`` or ``position_sma_50_sma_200``."""
    generic = re.sub(r"(?<=_)\d+", "N", name, count=1)
    generic = re.sub(r"(?<=_sma_)\d+$|(?<=_ema_)\d+$", "M", generic)
    return KINDS.get(name) or KINDS[generic]


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a note and what the data say about it."""

    kind: str
    """A name of :data:`KINDS` (windows filled in: ``sma_200``)."""
    label: str
    """How a person reads it, with the subject when it is not the note's ticker."""
    sentence: str
    span: tuple[int, int]
    """Where the stated value is in the note (character offsets)."""
    written: str
    """The stated value as written: "$155.74", "more than 6%", "just above"."""
    stated: float | str
    """The stated value as a plain value: a fraction for a percentage, a word for a position."""
    actual: str
    """The value in the data, formatted for a person ("n/a" when there is none)."""
    value: float | str | None
    verdict: Verdict
    note: str = ""
    source: str = ""
    convention: str | None = None
    """The writer's convention that makes the claim hold when the default does not."""
    subject: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"

    @property
    def metric(self) -> str:
        """The label, as earlier versions named it."""
        return self.label

    @property
    def verdict_text(self) -> str:
        """The verdict with its convention or reason: "holds (200 calendar days)"."""
        if self.verdict == "holds":
            return f"holds ({self.convention})" if self.convention else "holds"
        if not self.note:
            return self.verdict
        return self.note if self.note.startswith(self.verdict) else f"{self.verdict}: {self.note}"

    def to_json(self) -> dict[str, Any]:
        """The claim as plain data, for tools."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "stated": self.stated,
            "written": self.written,
            "actual": self.value,
            "verdict": self.verdict,
            "convention": self.convention,
            "note": self.note,
            "sentence": self.sentence,
            "span": list(self.span),
            "source": self.source,
        }
