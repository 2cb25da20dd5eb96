"""Checking other people's notes: find each numeric claim and compare it with the data.

A market note states a close, a move, a volume, moving-average levels and the price's position
against them, analysts' targets and upside, company metrics. Each sentence is read for the
claims it makes (by keywords near each number), and each claim is judged against the facts a
brief would state for the same ticker and date: it *holds* (within the rounding the note used),
is *off* by some amount, is *contradicted* (a direction or threshold that the data deny), or is
*unverifiable* (no stored data to check it against).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

Verdict = Literal["holds", "off", "contradicted", "unverifiable"]

AMOUNT_TOLERANCE: Final = 0.005
"""Relative slack for prices and counts: a note rounds $155.45 or 15.7 million."""
PERCENT_TOLERANCE: Final = 0.005
"""Absolute slack for percentages stated to a whole percent (0.5 percentage points)."""
APPROX_TOLERANCE: Final = 0.01
"""Absolute slack for percentages the note calls approximate ("about 25%")."""
JUST: Final = 0.005
WELL: Final = 0.03
"""Margins for "just above" (under 0.5%) and "well above" (over 3%), as in the brief."""

Known = Mapping[str, tuple[Any, str]]
"""Facts by name: value and a one-line source (table, tickers, dates, formula)."""


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a note and what the data say."""

    metric: str
    quote: str
    stated: str
    actual: str
    verdict: Verdict
    note: str
    source: str

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"


_MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)")
_PCT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_MILLIONS = re.compile(r"(\d+(?:\.\d+)?)\s?(million|billion|m\b|bn\b)", re.I)
_ABOVE = re.compile(r"\b(exceed\w*|more than|over|above|at least)\s*$", re.I)
_APPROX = re.compile(r"\b(approximately|about|around|roughly|nearly|some)\s*$", re.I)
_POSITION = re.compile(r"\b((?:just|well|slightly|comfortably)\s+)?(above|below)\b", re.I)
_FORWARD = re.compile(r"\b(would|could|should|may|might|will|if|whether|potential)\b", re.I)


def sentences(text: str) -> list[str]:
    """Split a note into sentences (and list items), keeping decimals intact."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])|\n+", text)
    return [p.strip() for p in parts if p and p.strip()]


def _money(text: str) -> list[tuple[float, int]]:
    return [(float(m.group(1).replace(",", "")), m.start()) for m in _MONEY.finditer(text)]


def _qualifier(sentence: str, start: int) -> str:
    before = sentence[max(0, start - 30) : start]
    if _ABOVE.search(before):
        return "above"
    if _APPROX.search(before):
        return "approx"
    return "exact"


def _fmt_money(value: float) -> str:
    return f"${value:,.2f}"


def _fmt_pct(value: float) -> str:
    return f"{value * 100:+.2f}%"


def _fmt_count(value: float) -> str:
    return f"{value:,.0f}"


def _amount(
    metric: str, quote: str, stated: float, known: Known, name: str, *, money: bool = True
) -> Claim:
    fmt = _fmt_money if money else _fmt_count
    if name not in known:
        return Claim(metric, quote, fmt(stated), "n/a", "unverifiable", "no data", "")
    actual, source = known[name]
    gap = actual - stated
    if abs(gap) <= AMOUNT_TOLERANCE * abs(stated):
        verdict: Verdict = "holds"
        note = "within rounding"
    else:
        verdict = "off"
        note = f"off by {fmt(abs(gap))} ({gap / stated:+.1%})"
    return Claim(metric, quote, fmt(stated), fmt(actual), verdict, note, source)


def _kpi(metric: str, quote: str, stated: float, known: Known, prefix: str, slack: float) -> Claim:
    """A company metric: holds if any stored metric of that kind matches."""
    candidates = [(k, v) for k, v in known.items() if k.startswith(prefix) and v[0] is not None]
    shown = f"{stated:.0%}" if prefix == "kpi_yoy:" else _fmt_count(stated)
    if not candidates:
        return Claim(metric, quote, shown, "n/a", "unverifiable", "no company metrics stored", "")
    key, (actual, source) = min(candidates, key=lambda c: abs(c[1][0] - stated))
    close = abs(actual - stated) <= slack * (1 if prefix == "kpi_yoy:" else abs(stated))
    text = f"{actual:.0%}" if prefix == "kpi_yoy:" else _fmt_count(actual)
    return Claim(
        metric,
        quote,
        shown,
        f"{text} ({key.split(':', 1)[1]})",
        "holds" if close else "unverifiable",
        "" if close else "no stored metric matches",
        source,
    )


def _percent(
    metric: str,
    quote: str,
    stated: float,
    qualifier: str,
    known: Known,
    name: str,
    *,
    offset: float = 0.0,
) -> Claim:
    shown = f"{'>' if qualifier == 'above' else '~' if qualifier == 'approx' else ''}{stated:.0%}"
    if name not in known:
        return Claim(metric, quote, shown, "n/a", "unverifiable", "no data", "")
    actual, source = known[name]
    actual = actual + offset
    if qualifier == "above":
        verdict: Verdict = "holds" if actual > stated else "contradicted"
        note = "more than stated" if verdict == "holds" else "not more than stated"
    else:
        slack = APPROX_TOLERANCE if qualifier == "approx" else PERCENT_TOLERANCE
        gap = actual - stated
        verdict = "holds" if abs(gap) <= slack else "off"
        note = "within rounding" if verdict == "holds" else f"off by {gap * 100:+.1f} points"
    return Claim(metric, quote, shown, f"{actual:.2%}", verdict, note, source)


def _position(metric: str, quote: str, word: str, known: Known, name: str) -> Claim:
    if name not in known:
        return Claim(metric, quote, word, "n/a", "unverifiable", "no data", "")
    margin, source = known[name]
    above = margin > 0
    size = abs(margin)
    actual_word = ("just " if size < JUST else "well " if size > WELL else "") + (
        "above" if above else "below"
    )
    wants_above = "above" in word
    ok = wants_above == above
    if ok and word.startswith("just"):
        ok = size < JUST
    if ok and word.startswith("well"):
        ok = size > WELL
    return Claim(
        metric,
        quote,
        word,
        f"{actual_word} ({_fmt_pct(margin)})",
        "holds" if ok else "contradicted",
        "" if ok else f"the data say {actual_word}",
        source,
    )


def _level_claims(sentence: str, known: Known, days: int) -> list[Claim]:
    """Moving-average level and the close's position against it."""
    claims: list[Claim] = []
    key = f"{days}-day"
    if key not in sentence.lower():
        return claims
    name = f"sma_{days}"
    anchor = sentence.lower().index(key)
    amounts = [(v, s) for v, s in _money(sentence) if s > anchor] or _money(sentence)
    if amounts and not _FORWARD.search(sentence):
        claims.append(_amount(f"SMA {days}", sentence, amounts[0][0], known, name))
    # The position word nearest before this average's mention, else the first after it.
    matches = list(_POSITION.finditer(sentence))
    before = [m for m in matches if m.start() < anchor]
    after = [m for m in matches if m.start() > anchor]
    found = before[-1] if before else (after[0] if after else None)
    if found and not _FORWARD.search(sentence):
        qualifier = (found.group(1) or "").strip().lower()
        qualifier = {"slightly": "just", "comfortably": "well"}.get(qualifier, qualifier)
        word = f"{qualifier} {found.group(2).lower()}".strip()
        claims.append(_position(f"close vs SMA {days}", sentence, word, known, f"pct_vs_{name}"))
    return claims


def _refers_to_level(sentence: str) -> bool:
    low = sentence.lower()
    return any(k in low for k in ("moving average", "-day", "this level", "threshold"))


def extract(text: str, known: Known, firms: Sequence[str] = ()) -> list[Claim]:
    """Every checkable claim of a note, judged against the known facts."""
    claims: list[Claim] = []
    previous_level = 0
    for sentence in sentences(text):
        low = sentence.lower()
        if re.search(r"year[- ]over[- ]year|year on year|\byoy\b", low):
            for match in _PCT.finditer(sentence):
                claims.append(
                    _kpi(
                        "company metric (YoY)",
                        sentence,
                        float(match.group(1)) / 100,
                        known,
                        "kpi_yoy:",
                        PERCENT_TOLERANCE,
                    )
                )
            continue
        if "download" in low or "users" in low:
            for m in _MILLIONS.finditer(sentence):
                unit = 1e9 if m.group(2).lower() in ("billion", "bn") else 1e6
                claims.append(
                    _kpi(
                        "company metric",
                        sentence,
                        float(m.group(1)) * unit,
                        known,
                        "kpi:",
                        AMOUNT_TOLERANCE,
                    )
                )
            continue
        for days in (200, 50):
            if f"{days}-day" in low:
                previous_level = days
        level_claims = _level_claims(sentence, known, 200) + _level_claims(sentence, known, 50)
        if not level_claims and previous_level and "this level" in low:
            # "Closing at $155.74 placed it just above this level": the level named before.
            found = re.search(r"\b(just|well)?\s*(above|below)\s+this level", low)
            if found:
                word = f"{found.group(1) or ''} {found.group(2)}".strip()
                name = f"pct_vs_sma_{previous_level}"
                level_claims.append(
                    _position(f"close vs SMA {previous_level}", sentence, word, known, name)
                )
        claims += level_claims
        if _FORWARD.search(sentence) and "target" not in low:
            continue
        firm_named = [f for f in firms if f.lower() in low]
        if "target" in low or firm_named or "path to" in low:
            for firm in firm_named:
                after = [(v, s) for v, s in _money(sentence) if s > low.index(firm.lower())]
                if after:
                    claims.append(
                        _amount(f"{firm} target", sentence, after[0][0], known, f"target:{firm}")
                    )
            if not firm_named and ("average" in low or "consensus" in low):
                amounts = _money(sentence)
                if amounts:
                    claims.append(
                        _amount("mean target", sentence, amounts[0][0], known, "target_mean")
                    )
            for match in _PCT.finditer(sentence):
                if "upside" in low[max(0, match.start() - 40) : match.end() + 20]:
                    claims.append(
                        _percent(
                            "upside",
                            sentence,
                            float(match.group(1)) / 100,
                            _qualifier(sentence, match.start()),
                            known,
                            "upside",
                        )
                    )
            continue
        if level_claims or _refers_to_level(sentence):
            continue
        shares = _MILLIONS.search(sentence)
        if "share" in low and shares is not None:
            unit = 1e9 if shares.group(2).lower() in ("billion", "bn") else 1e6
            claims.append(
                _amount(
                    "volume", sentence, float(shares.group(1)) * unit, known, "volume", money=False
                )
            )
        if "volume" in low or "typical" in low:
            if re.search(r"more than (double|twice)", low):
                claims.append(
                    _percent("relative volume", sentence, 2.0, "above", known, "rel_volume")
                )
            for match in _PCT.finditer(sentence):
                if "volume" in low[match.end() : match.end() + 40]:
                    # "a 124% surge in volume": volume 2.24 times typical.
                    claims.append(
                        _percent(
                            "volume vs typical",
                            sentence,
                            float(match.group(1)) / 100,
                            "exact",
                            known,
                            "rel_volume",
                            offset=-1.0,
                        )
                    )
        if any(w in low for w in ("surge", "rose", "gain", "jump", "fell", "drop", "rall")):
            for match in _PCT.finditer(sentence):
                tail = low[match.end() : match.end() + 30]
                if "volume" in tail or "year" in tail:
                    continue
                claims.append(
                    _percent(
                        "daily change",
                        sentence,
                        float(match.group(1)) / 100,
                        _qualifier(sentence, match.start()),
                        known,
                        "change_1d",
                    )
                )
                break
            # "rose 6% to $155.74" states the close; "the breach of the $155 level" does not.
            closes = [a for a, at in _money(sentence) if re.search(r"\b(to|at) $", low[:at])]
            if closes:
                claims.append(_amount("close", sentence, closes[-1], known, "close"))
        elif re.search(r"\b(clos\w+|finish\w*) at\b", low) and _money(sentence):
            claims.append(_amount("close", sentence, _money(sentence)[0][0], known, "close"))
    return claims
