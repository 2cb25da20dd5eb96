"""Judging a read claim against the bars and the brief's facts.

A claim *holds* when the data are within the writer's precision of the stated value (one unit
of the last written digit: "82 million" allows 1 million, "$155.74" a cent), or above or below
it as the note's qualifier says ("more than 6%"). When the project's default convention misses,
the others of :mod:`.conventions` are tried, and the first that holds is named. A claim is
*contradicted* when a direction or threshold is denied (a fall read as a rise, "above" where
the close is below, "more than double" for 1.4 times), *off* when the figure is simply
different, and *unverifiable* when nothing stored can check it: another company or an index
that is not stored, a pre-market figure, too short a history, or a price level over bars that
a provider adjusted for later dividends and splits (such a level is not the price quoted that
day, and is never called off).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from stockbrief.claims.conventions import Bars, Value
from stockbrief.claims.grammar import Reading
from stockbrief.claims.kinds import Claim, Verdict, kind_of

Known = Mapping[str, tuple[Any, str]]

FLOOR: Final = {
    "volume": 0.005,
    "average_volume": 0.005,
    "volume_change": 0.005,
    "sma": 0.0005,
    "ema": 0.0005,
}
"""Relative slack for figures that data vendors report differently (volume is rounded to 100
shares by some, consolidated or primary-exchange by others; averages inherit both)."""
RSI_FLOOR: Final = 0.5
"""RSI points of slack: vendors seed Wilder's average at different bars."""
JUST: Final = 0.03
WELL: Final = 0.02
"""A "just above" (or "slightly", "knapp") position is within 3%; "well above" beyond 2%."""
CROSS_SESSIONS: Final = 5
"""A crossing this many sessions back still holds, named as such."""
ADJUSTED: Final = "bars are adjusted"
ADJUSTED_MOVE: Final = 0.005
"""Half a percentage point: how far a provider's adjustment factors may move a day's change
(Yahoo's factors differ between neighbouring sessions)."""
SAME_DAY: Final = frozenset(
    {"close", "last_price", "previous_close", "open", "day_high", "day_low", "change_abs"}
)
"""Prices of the as-of session alone: once a note's close matches the adjusted bar as written,
no later dividend or split has changed that session's prices, so they can be judged. Levels
over many sessions (averages, 52-week extremes) may span an ex-date and stay unverifiable.
A stated price *below* the adjusted one is off either way: adjusting for dividends and splits
only ever lowers earlier prices."""


@dataclass
class Market:
    """The data a note is checked against: the note's ticker and day, and its stored peers."""

    ticker: str
    as_of: dt.date
    load: Callable[[str], Bars | None]
    """Bars of a stored ticker up to ``as_of``, prices as quoted on each day."""
    basis: Callable[[str], str] = lambda _t: "traded"
    """``traded`` or ``adjusted`` (by a provider, for later splits and dividends)."""
    currency_of: Callable[[str], str] = lambda _t: "USD"
    """ISO code of a ticker's currency, for showing prices."""
    adjusted_words: str = "adjusted by their provider"
    """How a source names bars whose provider adjusted them."""
    _cache: dict[str, Bars | None] = field(default_factory=dict)

    def bars(self, ticker: str) -> Bars | None:
        if ticker not in self._cache:
            self._cache[ticker] = self.load(ticker)
        return self._cache[ticker]


SYMBOLS: Final = {"USD": "$", "HKD": "HK$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5"}


def _fmt(kind: str, value: float | str | None, currency: str = "USD") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    what = kind_of(kind).value
    if what == "price":
        symbol = SYMBOLS.get(currency, f"{currency} ")
        return f"{'-' if value < 0 else ''}{symbol}{abs(value):,.2f}"
    if what == "fraction":
        return f"{value * 100:+.2f}%"
    if what == "shares":
        return f"{value:,.0f}"
    if what == "ratio":
        return f"{value:.2f}x"
    if what == "index":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _tolerance(r: Reading, value: float) -> float:
    """How far the data may be from the stated value: the writer's precision, and more for
    an approximation or a figure that vendors measure differently."""
    step = r.step or 0.0
    tol = step * 1.0
    family = r.kind.split("_")[0] if r.kind.startswith(("sma_", "ema_")) else r.kind
    tol = max(tol, FLOOR.get(family, 0.0) * abs(value))
    if r.kind.startswith("rsi"):
        tol = max(tol, RSI_FLOOR)
    if r.qualifier == "approx":
        rel = 0.02 if kind_of(r.kind).value in ("price", "shares", "count", "ratio") else 0.0
        tol = max(
            2 * step, rel * abs(value), 0.005 if kind_of(r.kind).value == "fraction" else 0.0, tol
        )
    return tol + 1e-9 * max(1.0, abs(value))


def _compare(
    r: Reading, stated: float, actual: float, currency: str = "USD"
) -> tuple[Verdict, str]:
    """Verdict of one stated value against one actual value."""
    if r.qualifier == "above":
        return (
            ("holds", "") if actual > stated - 1e-12 else ("contradicted", "not more than stated")
        )
    if r.qualifier == "below":
        return (
            ("holds", "") if actual < stated + 1e-12 else ("contradicted", "not less than stated")
        )
    gap = actual - stated
    if not r.signed and r.kind.startswith(("change", "gap")):
        gap = abs(actual) - abs(stated)
    if abs(gap) <= _tolerance(r, stated):
        return "holds", ""
    if (
        r.kind.startswith(("change", "gap", "pct_", "volume_change"))
        and r.signed
        and stated * actual < 0
        and min(abs(actual), abs(stated)) > _tolerance(r, stated)
    ):
        return "contradicted", "the move was the other way"
    what = kind_of(r.kind).value
    if what == "fraction":
        return "off", f"off by {gap * 100:+.2f} points"
    if stated:
        return "off", f"off by {_fmt(r.kind, abs(gap), currency)} ({gap / stated:+.1%})"
    return "off", f"off by {_fmt(r.kind, abs(gap), currency)}"


class Judge:
    """Judges the readings of one note; learns the writer's conventions as it goes."""

    def __init__(self, market: Market | None, known: Known) -> None:
        self.market = market
        self.known = known
        self.learned: dict[tuple[str | None, str], str] = {}
        self.as_quoted: set[tuple[str, int]] = set()
        """Sessions whose adjusted bars a note's close matches as written: no later dividend
        or split changed them, so their other price levels can be judged."""

    def currency(self, ticker: str | None) -> str:
        return self.market.currency_of(ticker) if self.market and ticker else "USD"

    def judge_all(self, readings: Sequence[Reading]) -> list[Claim]:
        # Levels first, so a note's convention (calendar days, a 3-month volume) is known
        # when its positions and distances are judged.
        order = sorted(
            range(len(readings)),
            key=lambda i: (
                0 if readings[i].kind == "close" else 1 if _is_level(readings[i].kind) else 2,
                i,
            ),
        )
        out: dict[int, Claim] = {}
        for i in order:
            out[i] = self.judge(readings[i])
        return [out[i] for i in range(len(readings))]

    def judge(self, r: Reading) -> Claim:
        label = kind_of(r.kind).label.replace(" N", f" {_window_of(r.kind)}").replace("SMA M", "")
        label = _label(r)
        subject = r.subject
        if r.kind in ("target_mean", "target_firm", "upside", "kpi", "kpi_yoy"):
            return self._known(r, label)
        if subject is None or subject.kind in ("unknown", "index") or subject.ticker is None:
            name = subject.name if subject else "another company"
            return self._claim(r, label, None, "unverifiable", f"about {name}, which is not stored")
        if r.time == "extended":
            return self._claim(r, label, None, "unverifiable", "outside regular trading hours")
        if self.market is None:
            return self._claim(r, label, None, "unverifiable", "no bars")
        bars = self.market.bars(subject.ticker)
        if bars is None or len(bars) == 0:
            return self._claim(
                r, label, None, "unverifiable", f"no bars of {subject.ticker} stored"
            )
        # "yesterday's close" is the previous close already: it moves back no second session.
        back = 1 if r.time == "previous" and r.kind != "previous_close" else 0
        i = bars.session(self.market.as_of, back=back, weekday=r.weekday)
        if i is None:
            return self._claim(r, label, None, "unverifiable", "no session stored for that day")
        adjusted = self.market.basis(subject.ticker) == "adjusted"
        if r.kind.startswith(("position_", "cross_", "rsi_zone")):
            return self._word(r, label, bars)
        candidates = list(self._values(r, bars, i))
        if not candidates:
            return self._claim(r, label, None, "unverifiable", "too short a history")
        return self._verdict(r, label, candidates, adjusted, bars)

    # -- values --------------------------------------------------------------------------------

    def _values(self, r: Reading, b: Bars, i: int) -> Iterable[Value]:
        k = r.kind
        c, o, h, lo, v = b.close, b.open, b.high, b.low, b.volume
        one = b.span(i, i, "")
        two = b.span(i - 1, i, "")
        if k == "close":
            yield Value(c[i], None, one + f"close on {b.dates[i]}")
        elif k == "last_price":
            yield Value(c[i], None, one + "close of the day")
            if lo[i] <= r.stated <= h[i]:
                yield Value(
                    float(r.stated), "within the day's range", one + f"range {lo[i]:.2f}-{h[i]:.2f}"
                )
        elif k == "previous_close" and i >= 1:
            yield Value(c[i - 1], None, b.span(i - 1, i - 1, "close of the previous session"))
        elif k == "open":
            yield Value(o[i], None, one + "open")
        elif k == "day_high":
            yield Value(h[i], None, one + "high of the day")
        elif k == "day_low":
            yield Value(lo[i], None, one + "low of the day")
        elif k == "change_1d" and i >= 1:
            yield Value(c[i] / c[i - 1] - 1, None, two + "close / previous close - 1")
        elif k == "change_intraday" and i >= 1:
            yield Value(c[i] / c[i - 1] - 1, None, two + "close / previous close - 1")
            lo_pct, hi_pct = lo[i] / c[i - 1] - 1, h[i] / c[i - 1] - 1
            if lo_pct <= float(r.stated) <= hi_pct:
                yield Value(
                    float(r.stated),
                    "within the day's range",
                    two + f"range {lo_pct:+.2%} to {hi_pct:+.2%}",
                )
        elif k == "change_abs" and i >= 1:
            yield Value(c[i] - c[i - 1], None, two + "close - previous close")
        elif k == "gap" and i >= 1:
            yield Value(o[i] / c[i - 1] - 1, None, two + "open / previous close - 1")
        elif k == "change_ytd":
            year = b.dates[i].year
            j = next((j for j in range(i, -1, -1) if b.dates[j].year < year), None)
            if j is not None:
                yield Value(
                    c[i] / c[j] - 1,
                    None,
                    b.span(j, i, "close / last close of the previous year - 1"),
                )
        elif k == "volume":
            yield Value(v[i], None, one + f"shares traded on {b.dates[i]}")
        elif k == "volume_change" and i >= 1:
            if kind_is_percent(r):
                yield Value(v[i] / v[i - 1] - 1, None, two + "volume / previous volume - 1")
                for avg in b.average_volume(i, self._learned_window(r, "average_volume"), False):
                    if avg.value:
                        yield Value(
                            v[i] / avg.value - 1,
                            f"against the {avg.convention or '50-session'} average",
                            avg.source,
                        )
            else:
                yield Value(v[i] - v[i - 1], None, two + "volume - previous volume")
        elif k == "average_volume":
            yield from b.average_volume(i, r.window, r.months)
        elif k == "relative_volume":
            yield from self._relative_volume(r, b, i)
        elif k.startswith(("sma_", "ema_")):
            n = int(k.split("_")[1])
            yield from (b.sma(n, i) if k.startswith("sma") else b.ema(n, i))
        elif k in ("high_52w", "low_52w"):
            yield from b.extreme_52w(i, k == "high_52w")
        elif k in ("pct_from_high_52w", "pct_from_low_52w"):
            for x in self._ordered(r, b.extreme_52w(i, k == "pct_from_high_52w"), "52w"):
                yield Value(c[i] / x.value - 1, x.convention, x.source + "; close / extreme - 1")
        elif k.startswith("pct_vs_"):
            family, n = k.split("_")[2], int(k.split("_")[3])
            for x in self._ordered(r, self._average(b, family, n, i), family):
                yield Value(
                    c[i] / x.value - 1, x.convention, x.source + f"; close / {family.upper()} - 1"
                )
        elif k == "rsi_14":
            yield from b.rsi(i)
        elif k == "sessions_above_sma_" + k.rsplit("_", 1)[-1] and k.startswith("sessions_above"):
            n = int(k.rsplit("_", 1)[-1])
            count = 0
            j = i
            while j + 1 >= n and c[j] > c[j - n + 1 : j + 1].mean():
                count += 1
                j -= 1
            yield Value(float(count), None, b.span(j, i, f"consecutive closes above the SMA {n}"))

    def _average(self, b: Bars, family: str, n: int, i: int) -> Iterable[Value]:
        return b.sma(n, i) if family == "sma" else b.ema(n, i)

    def _ordered(self, r: Reading, values: Iterable[Value], family: str) -> list[Value]:
        """The note's own convention first, when an earlier level of the note showed it."""
        values = list(values)
        learned = self.learned.get((r.subject.ticker if r.subject else None, family))
        if learned:
            values.sort(key=lambda x: 0 if x.convention == learned else 1)
        return values

    def _learned_window(self, r: Reading, family: str) -> int | None:
        learned = self.learned.get((r.subject.ticker if r.subject else None, family))
        if learned and learned.split()[0].isdigit() and "sessions" in learned:
            return int(learned.split()[0])
        return None

    def _relative_volume(self, r: Reading, b: Bars, i: int) -> Iterable[Value]:
        v = b.volume[i]
        window = r.window or self._learned_window(r, "average_volume")
        averages = list(b.average_volume(i, window, r.months))
        learned = self.learned.get((r.subject.ticker if r.subject else None, "average_volume"))
        default = [a for a in averages if a.convention is None or a.convention == learned]
        if not r.window and not learned:
            # No window named: the project's 50 sessions, and the 3-month mean of the wires.
            default = [a for a in averages if a.convention in (None, "63 sessions before the day")]
        for a in default or averages[:1]:
            if a.value:
                yield Value(v / a.value, a.convention, a.source + "; volume / average")

    # -- verdicts ------------------------------------------------------------------------------

    def _verdict(
        self, r: Reading, label: str, candidates: list[Value], adjusted: bool, bars: Bars
    ) -> Claim:
        k = r.kind
        if k.startswith(("position_", "cross_", "rsi_zone")):
            return self._word(r, label, bars)
        default = candidates[0]
        currency = self.currency(r.subject.ticker if r.subject else None)
        stated = float(r.stated)
        verdict, note = _compare(r, stated, default.value, currency)
        if verdict == "holds" or (verdict == "contradicted" and r.qualifier == "exact"):
            chosen, convention = default, default.convention
        else:
            chosen, convention = default, None
            for alt in candidates[1:]:
                v2, _ = _compare(r, stated, alt.value, currency)
                if v2 == "holds":
                    chosen, convention, verdict, note = alt, alt.convention, "holds", ""
                    break
        if verdict == "holds" and convention and _is_level(k):
            family = (
                "52w" if "52w" in k else k.split("_")[0] if k.startswith(("sma_", "ema_")) else k
            )
            self.learned.setdefault((r.subject.ticker if r.subject else None, family), convention)
        ticker = r.subject.ticker if r.subject and r.subject.ticker else ""
        session = (
            (
                ticker,
                bars.session(
                    self.market.as_of, back=1 if r.time == "previous" else 0, weekday=r.weekday
                )
                or 0,
            )
            if self.market
            else ("", 0)
        )
        if k == "close" and verdict == "holds" and convention is None:
            self.as_quoted.add(session)
        quoted = session in self.as_quoted and k in SAME_DAY
        below = stated < chosen.value - _tolerance(r, stated) and r.qualifier == "exact"
        moved = k in ("change_1d", "change_intraday", "gap") and r.signed
        if (
            verdict == "off"
            and adjusted
            and moved
            and session not in self.as_quoted
            and abs(stated - chosen.value) < ADJUSTED_MOVE
        ):
            return self._claim(
                r,
                label,
                chosen.value,
                "unverifiable",
                f"{ADJUSTED}: a provider's factors can shift a day's move slightly",
                chosen.source,
            )
        if verdict != "holds" and adjusted and not quoted and not below and kind_of(k).priced:
            return self._claim(
                r,
                label,
                chosen.value,
                "unverifiable",
                f"{ADJUSTED}: the price quoted that day is not stored"
                f" ({_fmt(k, chosen.value, currency)} adjusted)",
                chosen.source,
            )
        if (
            verdict != "holds"
            and adjusted
            and not quoted
            and k == "volume"
            and stated > 0
            and _split_like(chosen.value / stated)
        ):
            return self._claim(
                r,
                label,
                chosen.value,
                "unverifiable",
                f"{ADJUSTED}: volume adjusted for a later split ({chosen.value / stated:.0f}x)",
                chosen.source,
            )
        return self._claim(r, label, chosen.value, verdict, note, chosen.source, convention)

    def _word(self, r: Reading, label: str, b: Bars) -> Claim:
        """Positions, crossings and zones: words the data confirm or deny."""
        assert self.market is not None
        i = b.session(self.market.as_of, back=1 if r.time == "previous" else 0, weekday=r.weekday)
        assert i is not None
        k, word = r.kind, str(r.stated)
        c = b.close
        if k == "rsi_zone":
            values = list(b.rsi(i))
            if not values:
                return self._claim(r, label, None, "unverifiable", "too short a history")
            for x in values:
                zone = "overbought" if x.value >= 70 else "oversold" if x.value <= 30 else "neutral"
                if zone == word:
                    return self._claim(
                        r, label, f"{zone} (RSI {x.value:.1f})", "holds", "", x.source, x.convention
                    )
            x = values[0]
            zone = "overbought" if x.value >= 70 else "oversold" if x.value <= 30 else "neutral"
            return self._claim(
                r,
                label,
                f"{zone} (RSI {x.value:.1f})",
                "contradicted",
                f"RSI {x.value:.1f} is {zone}",
                x.source,
            )
        parts = k.split("_")
        if k.startswith("position_") and len(parts) == 5:
            fam1, n1, fam2, n2 = parts[1], int(parts[2]), parts[3], int(parts[4])
            a = next(iter(self._average(b, fam1, n1, i)), None)
            z = next(iter(self._average(b, fam2, n2, i)), None)
            if a is None or z is None:
                return self._claim(r, label, None, "unverifiable", "too short a history")
            margin = a.value / z.value - 1
            return self._position(
                r, label, margin, f"{a.source}; {fam2.upper()} {n2} {z.value:.2f}", None
            )
        if k.startswith("position_"):
            family, n = parts[1], int(parts[2])
            values = self._ordered(r, self._average(b, family, n, i), family)
            if not values:
                return self._claim(r, label, None, "unverifiable", "too short a history")
            first = None
            for x in values:
                claim = self._position(r, label, c[i] / x.value - 1, x.source, x.convention)
                first = first or claim
                if claim.holds:
                    return claim
                if x.convention is None or self.learned.get(
                    (r.subject.ticker if r.subject else None, family)
                ):
                    break
            assert first is not None
            return first
        if k.startswith("cross_"):
            if len(parts) == 5:
                n1, n2 = int(parts[2]), int(parts[4])
                series = [_mean(c, j, n1) - _mean(c, j, n2) for j in range(max(0, i - 15), i + 1)]
            else:
                n1 = int(parts[2])
                series = [c[j] - _mean(c, j, n1) for j in range(max(0, i - 15), i + 1)]
            if any(math.isnan(s) for s in series[-2:]):
                return self._claim(r, label, None, "unverifiable", "too short a history")
            up = word == "above"
            last = len(series) - 1
            for back in range(0, min(CROSS_SESSIONS, last) + 1):
                j = last - back
                if j < 1 or math.isnan(series[j - 1]):
                    break
                crossed = series[j - 1] <= 0 < series[j] if up else series[j - 1] >= 0 > series[j]
                if crossed:
                    convention = (
                        None
                        if back == 0
                        else f"crossed {back} session{'s' if back > 1 else ''} earlier"
                    )
                    side_ok = (series[last] > 0) == up
                    if side_ok or back == 0:
                        return self._claim(
                            r,
                            label,
                            f"crossed {word}",
                            "holds",
                            "",
                            b.span(i - back - 1, i, "closes against the average"),
                            convention,
                        )
            now = "above" if series[last] > 0 else "below"
            if now != word:
                return self._claim(
                    r,
                    label,
                    now,
                    "contradicted",
                    f"the close is {now}",
                    b.span(i - 1, i, "closes against the average"),
                )
            return self._claim(
                r,
                label,
                f"{now}, no crossing in {CROSS_SESSIONS + 1} sessions",
                "off",
                f"already {now} before the day",
                b.span(i - CROSS_SESSIONS, i, "closes against the average"),
            )
        return self._claim(r, label, None, "unverifiable", "not a checkable claim")

    def _position(
        self, r: Reading, label: str, margin: float, source: str, convention: str | None
    ) -> Claim:
        side = "above" if margin > 0 else "below"
        size = abs(margin)
        shown = f"{side} ({margin * 100:+.2f}%)"
        if side != r.stated:
            return self._claim(r, label, shown, "contradicted", f"the data say {side}", source)
        if r.degree == "just" and size > JUST:
            return self._claim(
                r, label, shown, "contradicted", f"not just {side}: {margin * 100:+.1f}%", source
            )
        if r.degree == "well" and size < WELL:
            return self._claim(
                r, label, shown, "contradicted", f"not well {side}: {margin * 100:+.1f}%", source
            )
        return self._claim(r, label, shown, "holds", "", source, convention)

    def _known(self, r: Reading, label: str) -> Claim:
        """Targets, upside and company metrics from the brief's facts."""
        if r.subject is not None and r.subject.kind != "main":
            return self._claim(r, label, None, "unverifiable", f"about {r.subject.name}")
        if r.kind == "target_firm":
            name = f"target:{r.firm}"
        elif r.kind in ("kpi", "kpi_yoy"):
            prefix = f"{r.kind}:"
            found = [
                (k, v) for k, v in self.known.items() if k.startswith(prefix) and v[0] is not None
            ]
            if not found:
                return self._claim(r, label, None, "unverifiable", "no company metrics stored")
            key, (actual, source) = min(
                found, key=lambda kv: abs(float(kv[1][0]) - float(r.stated))
            )
            verdict, note = _compare(r, float(r.stated), float(actual))
            if verdict != "holds":
                return self._claim(r, label, None, "unverifiable", "no stored metric matches")
            return self._claim(
                r, f"{label} ({key.split(':', 1)[1]})", float(actual), "holds", "", source
            )
        else:
            name = r.kind
        if name not in self.known:
            return self._claim(r, label, None, "unverifiable", "no data")
        actual, source = self.known[name]
        verdict, note = _compare(r, float(r.stated), float(actual))
        return self._claim(r, label, float(actual), verdict, note, source)

    def _claim(
        self,
        r: Reading,
        label: str,
        actual: float | str | None,
        verdict: Verdict,
        note: str,
        source: str = "",
        convention: str | None = None,
    ) -> Claim:
        if isinstance(actual, float) and math.isnan(actual):
            actual, verdict, note = None, "unverifiable", "too short a history"
        subject = r.subject.ticker if r.subject else None
        if (
            source.startswith("bars ")
            and self.market is not None
            and subject
            and self.market.basis(subject) == "adjusted"
        ):
            head, _, formula = source.partition(": ")
            source = f"{head}, {self.market.adjusted_words}: {formula}"
        return Claim(
            kind=r.kind,
            label=label,
            sentence=r.sentence,
            span=r.span,
            written=r.written,
            stated=r.stated,
            actual=_fmt(r.kind, actual, self.currency(subject)),
            value=float(actual) if isinstance(actual, int | float) else actual,
            verdict=verdict,
            note=note,
            source=source,
            convention=convention,
            subject=subject if subject else (r.subject.name if r.subject else None),
        )


def _split_like(ratio: float) -> bool:
    """A ratio of adjusted to quoted volume that a split explains (2-for-1 ... 50-for-1)."""
    return ratio >= 1.9 and abs(ratio - round(ratio)) < 0.03 * ratio


def kind_is_percent(r: Reading) -> bool:
    return "%" in r.written or "percent" in r.written.lower() or "prozent" in r.written.lower()


def _mean(c: Any, j: int, n: int) -> float:
    return float(c[j - n + 1 : j + 1].mean()) if j + 1 >= n else math.nan


def _is_level(kind: str) -> bool:
    return kind.startswith(("sma_", "ema_")) or kind in ("average_volume", "high_52w", "low_52w")


def _window_of(kind: str) -> str:
    parts = [p for p in kind.split("_") if p.isdigit()]
    return parts[0] if parts else ""


def _label(r: Reading) -> str:
    """A short label: the kind's with windows, the firm, and the subject if not the note's."""
    k = r.kind
    parts = k.split("_")
    if k.startswith(("sma_", "ema_")):
        text = f"{parts[0].upper()} {parts[1]}"
    elif k.startswith("position_") and len(parts) == 5:
        text = f"{parts[1].upper()} {parts[2]} vs {parts[3].upper()} {parts[4]}"
    elif k.startswith("position_"):
        text = f"close vs {parts[1].upper()} {parts[2]}"
    elif k.startswith("pct_vs_"):
        text = f"close / {parts[2].upper()} {parts[3]} - 1"
    elif k.startswith("cross_") and len(parts) == 5:
        text = f"SMA {parts[2]} crossing SMA {parts[4]}"
    elif k.startswith("cross_"):
        text = f"close crossing {parts[1].upper()} {parts[2]}"
    elif k.startswith("sessions_above"):
        text = f"sessions above {parts[2].upper()} {parts[3]}"
    elif k == "target_firm":
        text = f"{r.firm} target"
    elif k == "average_volume" and r.window:
        text = f"average volume ({r.window} sessions)"
    else:
        text = kind_of(k).label
    if r.subject is not None and r.subject.kind != "main":
        text = f"{text} of {r.subject.ticker or r.subject.name}"
    return text
