"""Numbers as a writer wrote them: value, sign, unit, scale and the precision they imply.

"155.74 $", "$155.74", "-10.56%", "15,7 Mio. Aktien", "3.36M", "1.2 billion", "0,53 Prozent":
each is read into one :class:`Number` whose ``step`` is the size of its last written digit
(0.01 for "155.74", 100,000 for "15.7 million"), so a judge can allow exactly the rounding the
writer used. Dates, clock times, years and quarter names are not numbers of a claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Unit = Literal["currency", "percent", "points", "count", "ratio", "plain"]
Lang = Literal["en", "de"]

SCALES: Final = {
    "thousand": 1e3,
    "tsd": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millionen": 1e6,
    "mio": 1e6,
    "mln": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "milliarden": 1e9,
    "mrd": 1e9,
    "bn": 1e9,
    "b": 1e9,
}
"""Scale words and suffixes (lower case, without the dot of "Mio.")."""

_CURRENCY_BEFORE = r"(?P<cur1>US\$|HK\$|\$|€|£|¥|USD\s|HKD\s|EUR\s)"
_CURRENCY_AFTER = (
    r"(?P<cur2>\$|€|US-Dollar|Dollar|dollars?|USD|HKD|HK\$|EUR|Euro|Hongkong-Dollar)"
    r"(?![A-Za-z])(?!\s?\d)"
)
_SCALE = (
    r"(?P<scale>thousand|million|billion|Millionen|Milliarden|Mio\.?|Mrd\.?|Tsd\.?|mln|mn|bn"
    r"|[MBK](?![A-Za-z])|m(?![A-Za-z]))"
)
_PERCENT = (
    r"(?P<pct>\s?%|\s?percent(?:age points?)?|\s?per cent|\s?Prozent(?:punkte)?|\s?pct|\s?pp)"
)
_SIGN = r"(?P<sign>[+\-\u2212\u2013](?=\d|\$|€))?"


def _pattern(lang: Lang) -> re.Pattern[str]:
    if lang == "de":
        digits = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?(?![\d.,]\d)|\d+(?:[,.]\d+)?"
    else:
        digits = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d.,]\d)|\d*\.\d+|\d+(?:\.\d+)?"
    return re.compile(
        rf"(?<![\w.,$€])(?<!\d[.,]){_SIGN}\s?{_CURRENCY_BEFORE}?\s?(?P<sign2>[+\-\u2212\u2013])?"
        rf"(?P<num>{digits})"
        rf"(?:\s?{_SCALE})?"
        rf"(?:{_PERCENT}|\s?(?P<ratio>x|times)(?![A-Za-z])|\s?{_CURRENCY_AFTER})?"
    )


_PATTERNS: Final = {"en": _pattern("en"), "de": _pattern("de")}

_MONTHS: Final = (
    r"(?:Jan(?:uary|uar)?|Feb(?:ruary|ruar)?|Mar(?:ch)?|März|Apr(?:il)?|May|Mai|June?|Juni?|"
    r"July?|Juli|Aug(?:ust)?|Sep(?:t|tember)?|Oct(?:ober)?|Okt(?:ober)?|Nov(?:ember)?|"
    r"Dec(?:ember)?|Dez(?:ember)?)\.?"
)
_NOT_CLAIMS: Final = re.compile(
    rf"""
    \b\d{{4}}-\d{{2}}-\d{{2}}\b                       # 2026-01-02
    | (?<![$€\d.,])\b\d{{1,2}}\.\d{{1,2}}\.\d{{2,4}}(?!\d)  # 03.01.2026
    | \b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b           # 1/2/2026
    | \b\d{{1,2}}:\d{{2}}(?::\d{{2}})?\b               # 13:41:04
    | \b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?  # January 2, 2026
    | \b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?{_MONTHS}(?:\s+\d{{4}})?  # 2. Januar 2026
    | \b(?:Q[1-4]|H[12]|FY|CY)\s?'?\d{{2,4}}\b        # Q3 2025, FY2025
    | \b[1-4]Q\d{{2}}\b
    | (?<![\d$€.,])\b(?:19|20)\d{{2}}\b(?![.,]\d|\s?%|\s?(?:million|billion|Mio|Mrd|shares|Aktien))
    | (?<![\d$€.,-])\b\d{{1,4}}\s+(?:straight\s+|consecutive\s+|successive\s+|trading\s+|full\s+)?
      (?:sessions?|days?|weeks?|months?|years?|quarters?|Handelstag(?:e|en)?|Tag(?:e|en)?
         |Wochen|Monat(?:e|en)?|Jahr(?:e|en)?)\b
      (?!\s*(?:moving|average|avg|MA\b|SMA|EMA|line|Linie|Durchschnitt|high|low|range|Hoch|Tief
             |simple|exponential|gleitend))                 # 20 straight sessions: a duration
    """,
    re.VERBOSE | re.IGNORECASE,
)
"""Dates, times, quarters, years and durations: numbers in a note that state no market figure
(a window such as "50 day average" is no duration: the grammar reads it with its average)."""


@dataclass(frozen=True)
class Number:
    """One number of a sentence, as written and as a value."""

    value: float
    """Signed value in plain units: a fraction for a percentage, shares or currency units."""
    unit: Unit
    step: float
    """Size of the last written digit in the same units: the writer's precision."""
    start: int
    end: int
    text: str
    signed: bool
    """An explicit sign was written ("+6.25%", "-10.56%")."""
    scaled: bool
    """A scale word or suffix was written ("15.7 million", "3.36M")."""
    currency: str | None = None

    def negated(self) -> Number:
        """The same number with its sign turned, for "fell 2%" when no sign was written."""
        return Number(
            -self.value,
            self.unit,
            self.step,
            self.start,
            self.end,
            self.text,
            self.signed,
            self.scaled,
            self.currency,
        )


def _plain(digits: str, lang: Lang) -> tuple[float, int]:
    """Value and count of decimals of a digit string in the note's convention."""
    if lang == "de":
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", digits):
            digits = digits.replace(".", "")
        digits = digits.replace(",", ".")
    else:
        digits = digits.replace(",", "")
    decimals = len(digits.split(".", 1)[1]) if "." in digits else 0
    return float(digits), decimals


def masked(text: str) -> list[tuple[int, int]]:
    """Spans of dates, clock times, years and quarter names."""
    return [m.span() for m in _NOT_CLAIMS.finditer(text)]


def read_numbers(
    text: str, lang: Lang = "en", skip: list[tuple[int, int]] | None = None
) -> list[Number]:
    """Every number of ``text`` with its unit and precision, except inside ``skip`` spans,
    dates, times and years."""
    blocked = masked(text) + list(skip or [])
    found: list[Number] = []
    for m in _PATTERNS[lang].finditer(text):
        start, end = m.span("num")
        if any(a <= start < b or a < end <= b for a, b in blocked):
            continue
        value, decimals = _plain(m.group("num"), lang)
        step = 10.0**-decimals
        scale_word = m.group("scale")
        if scale_word:
            key = scale_word.rstrip(".").lower()
            factor = SCALES.get(key, 1.0)
            # "M" alone after a bare integer of a money figure is a scale; "50 M" in a
            # sentence about moving averages is rare, and the grammar decides what it is.
            value *= factor
            step *= factor
        sign_text = m.group("sign") or m.group("sign2")
        signed = sign_text is not None
        if sign_text and sign_text != "+":
            value = -value
        currency = m.group("cur1") or m.group("cur2")
        unit: Unit = "plain"
        if m.group("pct"):
            pct = m.group("pct").strip().lower()
            unit = "points" if pct in ("pp", "percentage point", "percentage points") else "percent"
            if "punkte" in pct:
                unit = "points"
            value /= 100
            step /= 100
        elif m.group("ratio"):
            unit = "ratio"
        elif currency:
            unit = "currency"
        elif scale_word:
            unit = "count"
        # The span starts at the sign or currency written before the digits, so a reader sees
        # the number as written.
        left = m.start() if (m.group("sign") or m.group("sign2") or m.group("cur1")) else start
        while left < start and text[left].isspace():
            left += 1
        right = m.end()
        while right > end and text[right - 1].isspace():
            right -= 1
        found.append(
            Number(
                value,
                unit,
                step,
                left,
                right,
                text[left:right],
                signed,
                bool(scale_word),
                currency.strip() if currency else None,
            )
        )
    return found


_WORD_NUMBERS: Final = {
    "five": 5,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "twenty-one": 21,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
    "one-hundred": 100,
    "one hundred": 100,
    "hundred-fifty": 150,
    "one-hundred-fifty": 150,
    "two-hundred": 200,
    "two hundred": 200,
    "fünfzig": 50,
    "zwanzig": 20,
    "hundert": 100,
    "zweihundert": 200,
    "dreißig": 30,
}
"""Spelled-out windows of averages ("the fifty-day", "two-hundred day", "200-Tage-Linie")."""


def window_number(word: str) -> int | None:
    """The number of a spelled window: "200", "fifty", "two-hundred"."""
    word = word.strip().lower().replace("\u2013", "-")
    if word.isdigit():
        return int(word)
    return _WORD_NUMBERS.get(word) or _WORD_NUMBERS.get(word.replace(" ", "-"))
