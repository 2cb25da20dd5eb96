"""The claim grammar: which metric, subject and time each number of a sentence belongs to.

A sentence is read as a sequence of tokens found by the patterns of :mod:`.lexicon`: numbers
(with unit and precision), cues (a metric's phrase, with the kind it gives a number of each
unit), position words, moves, names of companies and indexes, time and forward-looking words.
Structures that bind several tokens are read first and consume their numbers: ranges ("between
$151.80 and $156.65"), distances ("19% below its 52-week high"), positions ("the 50-day is
below the 200-day"), multiples of volume ("more than double the average"), analysts' targets and
company metrics. Every other number then goes to the cue that governs it: the nearest cue before
it that accepts its unit and has no nearer number of its own, or a cue right after it ("2.4
million shares", "a 6% gain"). A number no cue governs is no claim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from stockbrief.claims import lexicon as lx
from stockbrief.claims.numbers import Lang, Number, read_numbers, window_number

Qualifier = Literal["exact", "approx", "above", "below"]
Time = Literal["session", "previous", "intraday", "extended"]
SubjectKind = Literal["main", "stored", "unknown", "index"]
Average = tuple[int, int, list[int], str]
"""A moving average mentioned: start, end, windows (sessions) and "sma" or "ema"."""
Emit = Callable[..., None]
Qualify = Callable[[Number], "Qualifier"]


@dataclass(frozen=True)
class Subject:
    """Whom a figure is about: the note's ticker, another stored one, or someone unknown."""

    ticker: str | None
    name: str
    kind: SubjectKind


@dataclass(frozen=True)
class Reading:
    """One claim as read from a sentence, before it is judged."""

    kind: str
    stated: float | str
    written: str
    span: tuple[int, int]
    """Offsets in the note."""
    sentence: str
    step: float = 0.0
    qualifier: Qualifier = "exact"
    signed: bool = True
    """For a change: the sign is known (written, or from the verb)."""
    subject: Subject | None = None
    time: Time = "session"
    weekday: int | None = None
    window: int | None = None
    """Average volume: the window the note names, in sessions (None: unnamed)."""
    months: bool = False
    """The window was named in months ("3-month average volume")."""
    degree: str = ""
    """A position's qualifier: "just", "well" or ""."""
    firm: str | None = None


@dataclass
class Names:
    """The names a note may use for tickers: the note's own, and every stored one."""

    main: str
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Name or ticker as written -> ticker."""
    firms: Sequence[str] = ()

    def __post_init__(self) -> None:
        words = {self.main: self.main, **dict(self.aliases)}
        ordered = sorted(words, key=len, reverse=True)
        self._words = words
        self._pattern = (
            re.compile(
                r"(?<![\w$])(?:"
                + "|".join(re.escape(w) for w in ordered)
                + r")(?:'s|\u2019s)?(?![\w])"
            )
            if ordered
            else None
        )

    def find(self, sentence: str) -> list[tuple[int, int, Subject]]:
        """Mentions of tickers, companies and indexes, in order."""
        found: list[tuple[int, int, Subject]] = []
        taken: list[tuple[int, int]] = []
        if self._pattern is not None:
            for m in self._pattern.finditer(sentence):
                word = re.sub(r"('s|\u2019s)$", "", m.group(0))
                ticker = self._words.get(word)
                if ticker is None or word in self.firms:
                    continue
                kind: SubjectKind = "main" if ticker == self.main else "stored"
                found.append((m.start(), m.end(), Subject(ticker, word, kind)))
                taken.append(m.span())
        for m in re.finditer(
            r"\b(?:NYSE|NASDAQ|Nasdaq|HKEX|NYSEARCA|AMEX|SEHK):\s*([A-Z0-9.]+)", sentence
        ):
            if any(a <= m.start() < b for a, b in taken):
                continue
            symbol = m.group(1).rstrip(".")
            ticker = self._words.get(symbol)
            kind2: SubjectKind = (
                "main" if ticker == self.main else "stored" if ticker else "unknown"
            )
            found.append((m.start(), m.end(), Subject(ticker, symbol, kind2)))
            taken.append(m.span())
        for m in lx.INDEXES.finditer(sentence):
            if any(a <= m.start() < b for a, b in taken):
                continue
            found.append((m.start(), m.end(), Subject(None, m.group(0), "index")))
            taken.append(m.span())
        for start, end, name in _unknown_companies(sentence, self, taken):
            found.append((start, end, Subject(None, name, "unknown")))
        return sorted(found, key=lambda f: f[0])


_PEER_WORD: Final = re.compile(
    r"\b(?:peers?|rivals?|competitors?|sister\s+company|Konkurrent(?:en)?|Rivalen?|"
    r"Wettbewerber)\s+(?P<n>[A-Z][\w.&-]+(?:\s+[A-Z][\w.&-]+)?)"
)
_CAP_MOVE: Final = re.compile(
    r"(?<![\w.])(?P<n>[A-Z][\w.&-]{1,}(?:\s+[A-Z][\w.&-]+)?)(?:'s|\u2019s)?(?:\s+(?:shares|stock|"
    r"Inc\.?|Corp\.?|Ltd\.?|Holdings|Group))?\s+(?:(?:also|too|meanwhile)\s+)?"
    r"(?=(?:ros[ea]|gain|climb|jump|advanc|add|rall|surg|soar|fell|drop|declin|lost|los|"
    r"slid|slip|shed|sank|tumbl|plung|retreat|eased|dipp|slump|was\s+(?:up|down)|"
    r"were\s+(?:up|down))\w*)"
)


def _unknown_companies(
    sentence: str, names: Names, taken: Sequence[tuple[int, int]]
) -> Iterable[tuple[int, int, str]]:
    """Companies the store does not know, named as the subject of a move or as a peer."""
    for pattern in (_PEER_WORD, _CAP_MOVE):
        for m in pattern.finditer(sentence):
            start, end = m.span("n")
            word = m.group("n")
            first = word.split()[0]
            if first in lx.CAPITAL_STOP or any(
                a <= start < b or start <= a < end for a, b in taken
            ):
                continue
            if first in names.firms or word in names.firms:
                continue
            yield start, end, word


# -- sentences -------------------------------------------------------------------------------

_ABBREVIATIONS: Final = re.compile(
    r"(?:\b(?:Mio|Mrd|Tsd|Inc|Corp|Co|Ltd|approx|ca|vs|Nr|St|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|"
    r"Sept|Oct|Nov|Dec|Okt|Dez|bzw|z\.B|u\.a|d\.h|e\.g|i\.e|Mr|Ms|Dr|U\.S|no|No|avg|Abs)"
    r"|\b[A-Z])\.$"
)


def sentences(text: str) -> list[tuple[int, str]]:
    """Sentences (and lines, list items, table rows) with their offsets in the note."""
    out: list[tuple[int, str]] = []
    for line in re.finditer(r"[^\n]+", text):
        chunk = line.group(0)
        base = line.start()
        start = 0
        for m in re.finditer(r"(?<=[.!?])[\"\u201d\u2019)]?\s+(?=[A-ZÄÖÜ\"\u201c(\d$€-])", chunk):
            piece = chunk[start : m.start()]
            if _ABBREVIATIONS.search(piece.rstrip('"\u201d\u2019)')):
                continue
            out.append((base + start, piece))
            start = m.end()
        out.append((base + start, chunk[start:]))
    return [(s + (len(p) - len(p.lstrip())), p.strip()) for s, p in out if p.strip()]


def detect_language(text: str) -> Lang:
    """German when its function words outnumber English ones."""
    words = re.findall(r"[a-zäöüß]+", text.lower())
    de = sum(w in _DE for w in words)
    en = sum(w in _EN for w in words)
    return "de" if de > en else "en"


_DE: Final = frozenset(
    [
        "der",
        "die",
        "das",
        "und",
        "ist",
        "mit",
        "auf",
        "bei",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einer",
        "im",
        "zum",
        "zur",
        "von",
        "nach",
        "sich",
        "schloss",
        "aktie",
        "aktien",
        "über",
        "unter",
        "liegt",
        "notiert",
        "wurde",
        "seit",
        "gegenüber",
        "damit",
        "auch",
    ]
)
_EN: Final = frozenset(
    [
        "the",
        "and",
        "is",
        "of",
        "to",
        "at",
        "on",
        "in",
        "with",
        "its",
        "it",
        "was",
        "were",
        "by",
        "from",
        "a",
        "an",
        "as",
        "that",
        "this",
        "shares",
        "stock",
        "closed",
        "above",
        "below",
    ]
)


# -- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    """A phrase of a metric found in a sentence."""

    start: int
    end: int
    family: str
    kinds: Mapping[str, str]
    postfix: bool = False
    prefix: bool = True
    direction: int = 0
    window: int | None = None
    months: bool = False


def _window(match: re.Match[str], *groups: str) -> int | None:
    for g in groups:
        try:
            text = match.group(g)
        except IndexError:
            continue
        if text:
            return window_number(text)
    return None


def _moving_averages(sentence: str) -> list[tuple[int, int, list[int], str]]:
    """Each moving average mentioned: span, windows (sessions) and "sma" or "ema"."""
    out: list[tuple[int, int, list[int], str]] = []
    for m in lx.MOVING_AVERAGE.finditer(sentence):
        weeks = m.group("w4")
        window = int(weeks) * 5 if weeks else _window(m, "w", "w2", "w3", "w5", "w6")
        if window is None or window < 2 or window > 400:
            continue
        after = sentence[m.end() :]
        if m.group("w") and not m.group("tail"):
            # A bare "50-day" is an average only where one is expected: "above its 50-day".
            before = sentence[max(0, m.start() - 20) : m.start()].lower()
            if lx.NOT_AN_AVERAGE.match(after) or window not in (10, 20, 21, 30, 50, 100, 150, 200):
                continue
            if re.match(r"s\b", after):
                continue  # "over 20 trading days" is a span of time, "its 20-day" an average
            if not re.search(r"\b(?:its|the|their|above|below|under|over|and|both|of)\s+$", before):
                continue
        elif (
            m.group("w")
            and lx.NOT_AN_AVERAGE.match(after)
            and not re.match(
                r"[- ]?(?:moving[- ]average|MA|SMA|EMA|DMA|line|Linie)", m.group("tail") or ""
            )
        ):
            continue
        kind_words = " ".join(
            filter(None, [m.group("kind0"), m.group("kind1"), m.group("kind2"), m.group(0)])
        ).lower()
        family = "ema" if ("ema" in kind_words or "exponent" in kind_words) else "sma"
        windows = [window]
        if m.group("wa"):
            windows.insert(0, int(m.group("wa")))
        out.append((m.start(), m.end(), windows, family))
    return out


def _cues(sentence: str, averages: Sequence[tuple[int, int, list[int], str]]) -> list[Cue]:
    cues: list[Cue] = []
    for start, end, windows, family in averages:
        kind = f"{family}_{windows[-1]}"
        kinds = {"currency": kind, "plain": kind, "count": "average_volume"}
        cues.append(Cue(start, end, family, kinds, window=windows[-1]))
    for m in lx.AVERAGE_VOLUME.finditer(sentence):
        months = _window(m, "m", "m3")
        code = next((g for g in (m.group("m2"), m.group("m4"), m.group("m5")) if g), None)
        window = _window(m, "w", "w2", "w3")
        is_months = False
        if months:
            window, is_months = months * 21, True
        elif code:
            code = code.lower().replace(" ", "")
            if code in ("3m", "3mo"):
                window, is_months = 63, True
            else:
                window = int(code.rstrip("d"))
        cues.append(
            Cue(
                m.start(),
                m.end(),
                "average_volume",
                {"count": "average_volume", "plain": "average_volume"},
                window=window,
                months=is_months,
            )
        )
    for m in lx.WEEK52.finditer(sentence):
        rest = sentence[m.end() :]
        for words, kind in ((lx.HIGH_WORDS, "high_52w"), (lx.LOW_WORDS, "low_52w")):
            w = words.match(rest)
            if w:
                tail = re.match(r"\s*(?:of|at|was|is|:|von|bei|liegt\s+bei)?", rest[w.end() :])
                end = m.end() + w.end() + (tail.end() if tail else 0)
                cues.append(Cue(m.start(), end, kind, {"currency": kind, "plain": kind}))
    for spec in lx.CUES:
        for m in spec.pattern.finditer(sentence):
            window = None
            if spec.family == "rsi":
                window = _window(m, "w", "w2") or 14
            cues.append(
                Cue(
                    m.start(),
                    m.end(),
                    spec.family,
                    spec.kinds if window in (None, 14) else {},
                    spec.postfix,
                    spec.prefix,
                    spec.direction,
                    window,
                )
            )
    for pattern, direction in ((lx.UP, 1), (lx.DOWN, -1)):
        for m in pattern.finditer(sentence):
            cues.append(
                Cue(
                    m.start(),
                    m.end(),
                    "move",
                    {"percent": "change_1d", "currency": "change_abs"},
                    postfix=True,
                    direction=direction,
                )
            )
    # A longer phrase wins over the shorter one inside it ("previous close" over "close").
    cues.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[Cue] = []
    for cue in cues:
        inside = [
            k
            for k in kept
            if k.start <= cue.start
            and cue.end <= k.end
            and (k.end - k.start) > (cue.end - cue.start)
        ]
        if inside and cue.family != "move":
            continue
        if inside and any(
            k.family in ("previous_close", "close", "day_high", "day_low") for k in inside
        ):
            continue
        kept.append(cue)
    return kept


# -- reading ---------------------------------------------------------------------------------


@dataclass
class _State:
    """What carries from one sentence to the next."""

    carry: Subject | None = None
    last_average: tuple[int, str] | None = None


_PRONOUN_START: Final = re.compile(
    r"^(?:It|Its|The\s+stock|The\s+shares|Shares|The\s+company|The\s+name|Sie|Die\s+Aktie|"
    r"Das\s+Papier|Der\s+Titel|Der\s+Kurs)\b"
)
_AUXILIARY: Final = re.compile(
    r"\s*(?:(?:has|have|had|just|now|finally|then|also|itself|hat|ist|nun|jetzt)\s+)*", re.I
)
"""What may stand between an average and its verb when the average is the subject."""
_CLAUSE_END: Final = re.compile(
    r"[;:]|,\s*(?:and|but|while|whereas|yet|und|aber|während|doch)\b", re.IGNORECASE
)
"""Where the clause after a figure ends: the period named beyond it is another figure's."""
_COMPARED: Final = re.compile(
    r"\b(?:than|versus|vs\.?|compared\s+(?:with|to)|relative\s+to|outpac\w*|outperform\w*|"
    r"beat(?:ing)?|ahead\s+of|behind|like|unlike|alongside|als)\s*$"
)
_BOUNDARY: Final = re.compile(
    r"[;:]|,\s*(?:while|whereas|but|although|though|yet|and|with|as|after|which|während|aber"
    r"|doch|wobei|und)\b|\s[\u2013\u2014]\s|\bwhile\b|\bwhereas\b|\bbut\b"
)


def read(text: str, names: Names, lang: Lang = "en") -> list[Reading]:
    """Every claim a note makes, read but not judged."""
    state = _State(Subject(names.main, names.main, "main"))
    out: list[Reading] = []
    lines = text.split("\n")
    table = _table_readings(text, lines, names)
    table_rows = {r.sentence for r in table}
    out.extend(table)
    for offset, sentence in sentences(text):
        if sentence in table_rows:
            continue
        out.extend(sorted(_sentence(sentence, offset, names, lang, state), key=lambda r: r.span))
    return out


def _main(names: Names) -> Subject:
    return Subject(names.main, names.main, "main")


def _sentence(sentence: str, offset: int, names: Names, lang: Lang, state: _State) -> list[Reading]:
    mentions = names.find(sentence)
    main = _main(names)
    if _PRONOUN_START.match(sentence) and state.carry is not None:
        default = state.carry
    elif mentions and mentions[0][0] < 25 and mentions[0][2].kind != "index":
        default = mentions[0][2]
    else:
        default = main
    state.carry = default

    averages = _moving_averages(sentence)
    masks = [(a, b) for a, b, _, _ in averages] + [(a, b) for a, b, _ in mentions]
    for m in lx.RSI.finditer(sentence):
        masks.append(m.span())
    for m in lx.AVERAGE_VOLUME.finditer(sentence):
        masks.append(m.span())
    for m in lx.WEEK52.finditer(sentence):
        masks.append(m.span())
    numbers = [
        n
        for n in read_numbers(sentence, lang, masks)
        if not lx.LEVEL_AFTER.match(sentence[n.end :])
        and not (
            n.unit == "plain"
            and re.match(
                r"[- ]?(?:day|week|month|year|session|Tage|Wochen|Monat)", sentence[n.end :]
            )
        )
    ]
    cues = _cues(sentence, averages)
    boundaries = [m.start() for m in lx_boundaries(sentence)]
    forward = [m.start() for m in lx.FORWARD.finditer(sentence)]

    def clause_start(at: int) -> int:
        return max([b for b in boundaries if b < at], default=0)

    def subject_at(at: int) -> Subject:
        before = [m for m in mentions if m[1] <= at]
        for start, _end, subject in reversed(before):
            if _COMPARED.search(sentence[:start]):
                continue
            return subject
        return default

    def time_at(at: int) -> tuple[Time, int | None]:
        scope = sentence
        if lx.EXTENDED.search(scope):
            return "extended", None
        day = None
        for m in lx.WEEKDAY.finditer(scope):
            day = lx.WEEKDAYS[m.group("d").lower()]
        for m in lx.PREVIOUS.finditer(scope[: at + 40]):
            if m.start() > at and re.match(r"['\u2019]s\b", scope[m.end() :]):
                continue  # "at $432.51, down from yesterday's close": the close it names
            # "after $438.97 the day before" marks that figure, not one written before it.
            between = re.sub(r"^[$€]?\s*[\d.,]+", "", scope[at : m.start()])
            if m.start() < at or not re.search(r"\d", between):
                return "previous", day
        if lx.INTRADAY.search(scope):
            return "intraday", day
        return "session", day

    def forward_before(at: int) -> bool:
        start = clause_start(at)
        return any(start <= f < at for f in forward)

    out: list[Reading] = []
    used: set[int] = set()

    def emit(
        kind: str,
        stated: float | str,
        at: tuple[int, int],
        written: str,
        *,
        number: Number | None = None,
        subject_pos: int | None = None,
        **more: object,
    ) -> None:
        time, weekday = time_at(at[0])
        subject = subject_at(at[0] if subject_pos is None else subject_pos)
        reading = Reading(
            kind,
            stated,
            written,
            (offset + at[0], offset + at[1]),
            sentence,
            step=number.step if number else 0.0,
            subject=subject,
            time=time,
            weekday=weekday,
        )
        out.append(replace(reading, **more))  # type: ignore[arg-type]

    def qualifier(n: Number) -> Qualifier:
        m = lx.QUALIFIER_BEFORE.search(sentence[max(0, n.start - 25) : n.start])
        if not m:
            return "exact"
        if m.group("above"):
            return "above"
        if m.group("below"):
            return "below"
        return "approx"

    # Analysts and company metrics first: their figures are no prices of the day.
    _analysts(sentence, numbers, names, used, emit, qualifier)
    _company(sentence, numbers, used, emit)
    _ranges(sentence, numbers, cues, used, emit)
    state.last_average = _positions(
        sentence, numbers, averages, cues, used, emit, qualifier, state, forward_before
    )
    _statistics(sentence, numbers, used)
    _gaps(sentence, numbers, used, emit, qualifier)
    _distances(sentence, numbers, averages, used, emit, qualifier)
    _relative_volume(sentence, numbers, cues, used, emit, qualifier)
    _streaks(sentence, numbers, averages, used, emit)

    for i, n in enumerate(numbers):
        if i in used or forward_before(n.start):
            continue
        best = _governing(sentence, n, i, numbers, cues)
        if best is None and n.unit == "currency" and n.signed and i > 0:
            # "-11.6% (-$18.34)": the move in currency beside the move in percent.
            before = numbers[i - 1]
            if before.unit == "percent" and re.fullmatch(
                r"\s*[(/,]\s*", sentence[before.end : n.start]
            ):
                best = (
                    Cue(before.start, before.start, "move", {"currency": "change_abs"}),
                    "currency",
                )
        if best is None and n.unit == "percent" and n.signed:
            named = [m for m in mentions if 0 <= n.start - m[1] <= 3]
            if named:
                best = (Cue(named[0][0], named[0][1], "move", {"percent": "change_1d"}), "percent")
        moved = _moved_to(sentence, n, cues, clause_start(n.start))
        if moved is not None:
            best = (moved, "currency")
        if best is None:
            continue
        cue, unit = best
        kind = cue.kinds[unit]
        gap = sentence[cue.end : n.start] if cue.end <= n.start else ""
        time, _ = time_at(n.start)
        if kind == "volume":
            # "volume fell by 4 million shares": a change of volume, not the volume.
            said = [c.end for c in cues if c.family == "volume" and c.end <= n.start]
            moves = [
                c for c in cues if c.family == "move" and said and max(said) <= c.start < n.start
            ]
            if moves:
                cue, kind = moves[-1], "volume_change"
        if kind == "change_abs" and n.unit == "currency" and cue.family == "move":
            tail = sentence[max(0, n.start - 8) : n.start]
            if re.search(r"\b(?:to|at|auf|bei)\s*$", tail):
                kind = "last_price" if time == "intraday" else "close"
            elif re.search(r"\bfrom\s*$", tail):
                kind = "previous_close"
        if kind in ("change_1d", "change_abs", "volume_change", "gap"):
            # The period of a move is said in its clause: "fell 1.2% on Friday; year to date
            # it is down 4.6%" gives Friday's move, then the year's.
            tail = _CLAUSE_END.split(sentence[n.end : n.end + 30], maxsplit=1)[0]
            scope = sentence[min(cue.start, n.start) : n.end] + tail
            # "Year to date the shares are down 4.6%": the period may open the clause.
            opening = sentence[clause_start(n.start) : n.start]
            if kind == "change_1d" and (lx.PERIOD.search(scope) or lx.PERIOD.search(opening)):
                kind = "change_ytd"
            elif lx.OTHER_PERIOD.search(scope) or lx.OTHER_PERIOD.search(gap):
                continue
        if kind == "change_1d" and time == "intraday":
            kind = "change_intraday"
        if kind == "close" and time == "intraday" and cue.family != "close":
            kind = "last_price"
        value = n.value
        signed = n.signed
        if kind in (
            "change_1d",
            "change_intraday",
            "change_abs",
            "volume_change",
            "gap",
            "change_ytd",
        ):
            direction = _direction(sentence, cue, n)
            if not n.signed and direction:
                value = abs(value) * direction
                signed = True
        if kind == "rsi_14" and not 0 <= value <= 100:
            continue
        written = n.text
        q = qualifier(n)
        if q != "exact":
            quoted = lx.QUALIFIER_BEFORE.search(sentence[max(0, n.start - 25) : n.start])
            if quoted:
                written = f"{quoted.group(0).strip()} {n.text}"
        used.add(i)
        emit(
            kind,
            value,
            (n.start, n.end),
            written,
            number=n,
            qualifier=q,
            signed=signed,
            window=cue.window if kind == "average_volume" else None,
            months=cue.months,
        )
    return out


def _moved_to(sentence: str, n: Number, cues: Sequence[Cue], start: int) -> Cue | None:
    """ "rose 6% to $155.74", "fell from $150": a price after a move in the same clause."""
    if n.unit not in ("currency", "plain") or (n.unit == "plain" and n.step >= 1):
        return None
    if not re.search(r"\b(?:to|from|auf)\s*$", sentence[max(0, n.start - 8) : n.start]):
        return None
    moves = [c for c in cues if c.family == "move" and start <= c.start and c.end <= n.start]
    if not moves:
        # "TSLA +6.8% to $417.78": a signed move written as a number alone.
        lead = re.search(
            r"[+\-\u2212\u2013]\d[\d.,]*\s?%(?:\s*\([^)]*\))?\s+to\s*$",
            sentence[max(start, n.start - 32) : n.start],
        )
        return Cue(n.start, n.start, "move", {"currency": "close"}) if lead else None
    others = [
        c
        for c in cues
        if c.family in ("rsi", "volume", "average_volume", "sma", "ema")
        and start <= c.start
        and c.end <= moves[-1].start
    ]
    return None if others else moves[-1]


def lx_boundaries(sentence: str) -> Iterable[re.Match[str]]:
    """Where a clause ends: a semicolon, ", while", " but ", a dash between words."""
    return _BOUNDARY.finditer(sentence)


def _direction(sentence: str, cue: Cue, n: Number) -> int:
    """+1 or -1 for the move a change figure states, from its cue or the words around it."""
    if cue.direction:
        return cue.direction
    lo = min(cue.start, n.start)
    scope = sentence[lo : n.end + 12]
    ups = [m.start() for m in lx.UP.finditer(scope)]
    downs = [m.start() for m in lx.DOWN.finditer(scope)]
    if ups and not downs:
        return 1
    if downs and not ups:
        return -1
    if ups and downs:
        return 1 if max(ups) > max(downs) else -1
    return 0


_PLAIN_PRICE_GAP: Final = 6


def _governing(
    sentence: str, n: Number, index: int, numbers: Sequence[Number], cues: Sequence[Cue]
) -> tuple[Cue, str] | None:
    """The cue a number belongs to, and the unit it is read with."""
    best: tuple[float, Cue, str] | None = None
    for cue in cues:
        unit = _accepts(cue, n)
        if unit is None:
            continue
        if cue.end <= n.start and cue.prefix:
            gap = sentence[cue.end : n.start]
            if len(gap) > 90:
                continue
            if (
                unit == "plain"
                and cue.family not in ("volume", "rsi", "average_volume", "shares")
                and n.step >= 1
                and len(gap.strip()) > _PLAIN_PRICE_GAP
            ):
                continue
            if cue.family == "rsi" and len(gap) > 30:
                continue
            score = float(len(gap))
            if re.search(r"[;]|\.\s", gap):
                score += 60
            elif "," in gap or "(" in gap:
                score += 8
            between = [
                m
                for j, m in enumerate(numbers)
                if j != index and cue.end <= m.start and m.end <= n.start
            ]
            if any(_accepts(cue, m) and m.unit == n.unit for m in between):
                score += 100
            elif between:
                score += 25
        elif cue.start >= n.end and cue.postfix:
            gap = sentence[n.end : cue.start]
            if len(gap) > 14 or re.search(r"[,;(]|\d", gap):
                continue
            score = len(gap) * 0.5 + 1
            if (
                cue.family == "move"
                and n.unit == "currency"
                and not re.match(
                    r"\s*(?:higher|lower|up|down|gain|loss|decline|drop|rise|jump|advance|Plus|Minus)",
                    sentence[n.end :],
                )
            ):
                continue
        else:
            continue
        if best is None or score < best[0]:
            best = (score, cue, unit)
    if best is None or best[0] >= 100:
        return None
    return best[1], best[2]


def _accepts(cue: Cue, n: Number) -> str | None:
    unit = n.unit
    if unit in cue.kinds:
        if (
            unit == "plain"
            and cue.family in ("volume", "shares", "average_volume")
            and n.value < 1000
        ):
            return None
        return unit
    if (
        unit == "count"
        and "plain" in cue.kinds
        and cue.family in ("volume", "shares", "average_volume")
    ):
        return "plain"
    return None


# -- structures ------------------------------------------------------------------------------


def _analysts(
    sentence: str,
    numbers: Sequence[Number],
    names: Names,
    used: set[int],
    emit: Emit,
    qualifier: Qualify,
) -> None:
    """Targets and upside: a firm's figure after its name, else the consensus's."""
    low = sentence.lower()
    firms = [(low.find(f.lower()), f) for f in names.firms if f.lower() in low]
    has_target = bool(lx.TARGET.search(sentence)) or (
        bool(firms) and bool(lx.FIRM_TARGET_HINT.search(sentence))
    )
    for i, n in enumerate(numbers):
        if i in used:
            continue
        if n.unit == "percent" and re.search(
            r"\b(?:upside|Aufwärtspotenzial|Kurspotenzial|Potenzial)\b",
            sentence[max(0, n.start - 45) : n.end + 25],
            re.I,
        ):
            used.add(i)
            q = qualifier(n)
            emit("upside", n.value, (n.start, n.end), n.text, number=n, qualifier=q)
            continue
        if not has_target or n.unit not in ("currency", "plain"):
            continue
        before = sentence[max(0, n.start - 12) : n.start]
        if re.search(r"\bfrom\s*$|\bvon\s*$", before):
            used.add(i)
            continue
        named = [(at, f) for at, f in firms if 0 <= at < n.start]
        target_at = [m.end() for m in lx.TARGET.finditer(sentence) if m.end() <= n.start]
        if named and (
            not target_at or named[-1][0] > max(target_at) - 60 or not lx.CONSENSUS.search(sentence)
        ):
            used.add(i)
            emit("target_firm", n.value, (n.start, n.end), n.text, number=n, firm=named[-1][1])
        elif target_at and n.start - max(target_at) < 60:
            used.add(i)
            emit("target_mean", n.value, (n.start, n.end), n.text, number=n, qualifier=qualifier(n))


def _company(sentence: str, numbers: Sequence[Number], used: set[int], emit: Emit) -> None:
    """Company metrics: growth year over year, and counts of users or downloads."""
    yoy = bool(lx.YOY.search(sentence))
    kpi = bool(lx.KPI_WORDS.search(sentence))
    for i, n in enumerate(numbers):
        if i in used:
            continue
        if yoy and n.unit == "percent":
            used.add(i)
            emit("kpi_yoy", n.value, (n.start, n.end), n.text, number=n)
        elif kpi and n.unit == "count":
            used.add(i)
            emit("kpi", n.value, (n.start, n.end), n.text, number=n)


_RANGE_CUE: Final = re.compile(
    r"""\b(?:(?:the\s+)?day'?s|daily|intraday|intra-day|session'?s?|today'?s|trading)\s+range
        (?:\s*(?:of|was|is|:|between))? | \btraded\s+(?:in\s+a\s+range\s+of|between|from)
        | \b(?:swung|moved|fluctuated|oscillated|ranged|pendelte|schwankte)\s+between
        | \bTagesspanne\b(?:\s+(?:von|reichte\s+von))? | \bbewegte\s+sich\s+zwischen
        | \bzwischen\b | \bbetween\b""",
    re.I | re.X,
)


def _ranges(
    sentence: str, numbers: Sequence[Number], cues: Sequence[Cue], used: set[int], emit: Emit
) -> None:
    """Two prices joined by "-", "to", "and" after a range word: the low and the high."""
    for i in range(len(numbers) - 1):
        a, b = numbers[i], numbers[i + 1]
        if i in used or i + 1 in used or a.unit not in ("currency", "plain"):
            continue
        if b.unit not in ("currency", "plain"):
            continue
        joint = sentence[a.end : b.start]
        if not re.fullmatch(r"\s*(?:-|\u2013|to|and|und|bis|\u2014)\s*", joint):
            continue
        before = sentence[max(0, a.start - 45) : a.start]
        fifty_two = re.search(
            r"(?:52|fifty-two)[- ]?(?:week|wk|w|Wochen)[-\s]*(?:trading\s+)?(?:range|Spanne)"
            r"\W*(?:of|was|is|:|von)?\s*$",
            before,
            re.I,
        )
        day = _RANGE_CUE.search(before)
        if not (fifty_two or (day and day.end() >= len(before) - 4)):
            continue
        lo, hi = sorted((a, b), key=lambda x: x.value)
        kinds = ("low_52w", "high_52w") if fifty_two else ("day_low", "day_high")
        for kind, n in zip(kinds, (lo, hi), strict=True):
            emit(kind, n.value, (n.start, n.end), n.text, number=n)
        used.update((i, i + 1))


def _positions(
    sentence: str,
    numbers: Sequence[Number],
    averages: Sequence[Average],
    cues: Sequence[Cue],
    used: set[int],
    emit: Emit,
    qualifier: Qualify,
    state: _State,
    forward_before: Callable[[int], bool],
) -> tuple[int, str] | None:
    """Price against an average, an average against another, crossings, distances, zones."""
    last = state.last_average
    for _a, _b, windows, family in averages:
        last = (windows[-1], family)
    for m in lx.COMPARATOR.finditer(sentence):
        if forward_before(m.start()):
            continue
        after = sentence[m.end() :]
        obj = _object(sentence, m.end(), averages, state)
        if (
            not isinstance(obj, tuple)
            and re.match(r"\s*(?:the\s+)?[$€\d+\-]", after)
            and not re.match(
                r"\s*(?:the\s+)?(?:52|fifty-two)[- ]?(?:week|wk|w|Wochen)", after, re.I
            )
        ):
            continue
        word = (
            "above"
            if m.group("c").lower()
            in ("above", "over", "atop", "north of", "oberhalb", "über", "überhalb")
            else "below"
        )
        degree = _degree(m.group("q"))
        cross = re.search(
            rf"{lx.CROSS.pattern}\s*$", sentence[max(0, m.start() - 30) : m.end()], re.I | re.X
        )
        # A percentage just before the position word: a distance ("5.2% above its 50-day").
        dist = None
        for i, n in enumerate(numbers):
            if (
                i not in used
                and n.unit == "percent"
                and 0 <= m.start() - n.end <= 14
                and _ADJACENT.fullmatch(sentence[n.end : m.start()])
            ):
                dist = (i, n)
        week52 = re.match(
            r"\s*(?:its|the|their|seinem|ihrem|dem)?\s*(?:52|fifty-two)[- ]?(?:week|wk|w|Wochen)"
            r"[-\s]*(?P<hl>high|low|Hoch|Tief)",
            after,
            re.I,
        ) or re.match(
            r"\s*(?:its|the|their|dem|seinem|ihrem)?\s*(?:Jahres)(?P<hl>hoch|tief)", after, re.I
        )
        if week52 is None and _WEEK52_BEFORE.search(sentence[: m.start()]):
            # "The 52-week range is $86.60 to $184.45; the close is 2.3% below the high."
            week52 = re.match(r"\s*(?:its|the|dem)\s+(?P<hl>high|low|Hoch|Tief)\b", after, re.I)
        if week52 and dist:
            i, n = dist
            hl = week52.group("hl").lower()
            kind = "pct_from_high_52w" if hl in ("high", "hoch") else "pct_from_low_52w"
            value = abs(n.value) * (1 if word == "above" else -1)
            used.add(i)
            emit(
                kind, value, (n.start, n.end), f"{n.text} {word}", number=n, qualifier=qualifier(n)
            )
            continue
        if obj is None:
            continue
        clause = max([b.end() for b in lx_boundaries(sentence[: m.start()])], default=0)
        if re.search(
            r"\b(?:volume|vol|turnover|Volumen|Umsatz)\b", sentence[clause : m.start()], re.I
        ):
            continue  # "volume well above the 20-day average": not the price
        subject = _left_subject(sentence, m.start(), averages)
        if obj == "price":
            if subject is None or subject[0] == "price":
                continue
            windows, family = subject[1], subject[2]
            word = "below" if word == "above" else "above"
            for w in windows:
                emit(
                    f"position_{family}_{w}",
                    word,
                    m.span("c"),
                    f"{m.group(0).strip()} (inverted)",
                    degree=degree,
                )
            continue
        obj_windows, obj_family = obj
        if subject is not None and subject[0] == "average":
            if subject[1][-1] != obj_windows[-1]:
                emit(
                    f"position_{subject[2]}_{subject[1][-1]}_{obj_family}_{obj_windows[-1]}",
                    word,
                    m.span("c"),
                    m.group(0).strip(),
                    degree=degree,
                )
            continue
        if cross:
            start = max(0, m.start() - 30) + cross.start()
            crossing = [
                a
                for a in averages
                if clause <= a[0] and a[1] <= start and _AUXILIARY.fullmatch(sentence[a[1] : start])
            ]
            if crossing:
                # "The 50-day average crossed below the 200-day": one average crossing
                # another, a death cross, never the price's cross.
                _s, _e, windows, family = crossing[-1]
                if (family, windows[-1], obj_family, obj_windows[-1]) == ("sma", 50, "sma", 200):
                    emit("cross_sma_50_sma_200", word, (start, m.end()), cross.group(0).strip())
                continue
            for w in obj_windows:
                emit(f"cross_{obj_family}_{w}", word, (start, m.end()), cross.group(0).strip())
            continue
        if dist:
            i, n = dist
            used.add(i)
            value = abs(n.value) * (1 if word == "above" else -1)
            for w in obj_windows:
                emit(
                    f"pct_vs_{obj_family}_{w}",
                    value,
                    (n.start, n.end),
                    f"{n.text} {word}",
                    number=n,
                    qualifier=qualifier(n),
                )
            continue
        for w in obj_windows:
            emit(f"position_{obj_family}_{w}", word, m.span("c"), m.group(0).strip(), degree=degree)
    # "reclaimed the 200-day", "cleared the 50-day": a crossing without a position word.
    for m in re.finditer(
        r"\b(?:reclaim(?:ed|s|ing)?|clear(?:ed|s|ing)?|regained|überwand|durchbrach)\s+(?:its|the|their|die|den)?\s*",
        sentence,
        re.I,
    ):
        hit = [a for a in averages if a[0] == m.end()]
        for _a, _b, windows, family in hit:
            for w in windows:
                emit(f"cross_{family}_{w}", "above", m.span(), m.group(0).strip())
    for m in lx.GOLDEN.finditer(sentence):
        emit("cross_sma_50_sma_200", "above", m.span(), m.group(0))
    for m in lx.DEATH.finditer(sentence):
        emit("cross_sma_50_sma_200", "below", m.span(), m.group(0))
    if lx.RSI.search(sentence):
        for m in lx.ZONE.finditer(sentence):
            zone = m.group("z").lower()
            word = {"überkauft": "overbought", "überverkauft": "oversold"}.get(zone, zone)
            word = "neutral" if word.startswith("neutral") else word
            emit("rsi_zone", word, m.span(), m.group(0))
    return last


def _degree(q: str | None) -> str:
    if not q:
        return ""
    q = q.lower()
    if q in ("just", "slightly", "narrowly", "barely", "marginally", "modestly", "knapp", "leicht"):
        return "just"
    return "well"


def _object(
    sentence: str, at: int, averages: Sequence[Average], state: _State
) -> tuple[list[int], str] | Literal["price"] | None:
    """What a position word compares with: an average (windows, family), the price, or None."""
    after = sentence[at:]
    lead = re.match(
        r"\s*(?:both\s+)?(?:its|the|their|his|her|seine[nm]?|ihre[nm]?|der|die|den|dem|das|des)?\s*"
        r"(?:(?:key|closely[- ]watched|widely[- ]watched|important|long-term|short-term|"
        r"rising|falling|"
        r"flat|viel\s+beachteten|wichtigen|gleitenden)\s+)*",
        after,
        re.I,
    )
    pos = at + (lead.end() if lead else 0)
    for a, _b, windows, family in averages:
        if a == pos or (pos <= a <= pos + 3):
            return (windows, family)
    if lx.OBJECT_PRONOUN.match(after) and not lx.PRICE_OBJECT.match(after):
        # "it" is the nearest average before it in the sentence, else the last one before
        earlier = [(windows, family) for _a, b, windows, family in averages if b <= at]
        if earlier:
            return earlier[-1]
        if state.last_average is not None:
            window, family = state.last_average
            return ([window], family)
    if lx.PRICE_OBJECT.match(sentence[pos:]) or lx.PRICE_OBJECT.match(after):
        return "price"
    return None


def _left_subject(
    sentence: str, at: int, averages: Sequence[Average]
) -> tuple[str, list[int], str] | None:
    """The nearest thing before a position word: an average or the price."""
    start = max([m.end() for m in lx_boundaries(sentence[:at])], default=0)
    scope = sentence[start:at]
    for a, b, windows, family in reversed(averages):
        if start <= a and b <= at and _LINK.fullmatch(sentence[b:at]):
            return ("average", windows, family)
    if lx.PRICE_SUBJECT.search(scope):
        return ("price", [], "")
    return None


_LINK: Final = re.compile(
    r"""\s*(?:\([^)]*\)\s*)?(?:(?:is|are|was|were|sits|sit|stays|remains|lies|has|have|had|been
        |moved|trades|stands|now|still|currently|already|liegt|lag|notiert|verläuft|ist|befindet
        |sich|weiterhin|noch|klar|deutlich|knapp|just|well|slightly|far|comfortably)\s*)*""",
    re.I | re.X,
)
"""Words between an average and a position word when the average is the subject."""


_TIMES: Final = {
    "double": 2.0,
    "twice": 2.0,
    "doppelt": 2.0,
    "das doppelte": 2.0,
    "triple": 3.0,
    "three times": 3.0,
    "dreifach": 3.0,
    "das dreifache": 3.0,
    "four times": 4.0,
}


def _relative_volume(
    sentence: str,
    numbers: Sequence[Number],
    cues: Sequence[Cue],
    used: set[int],
    emit: Emit,
    qualifier: Qualify,
) -> None:
    """Volume against its average: "more than double", "2.3 times", "38% above average"."""
    low = sentence.lower()
    if not re.search(r"volume|volumen|umsatz|shares\s+(?:traded|changed)|turnover", low):
        return
    typical = lx.TYPICAL.search(sentence)
    window = None
    for cue in cues:
        if cue.family == "average_volume" and cue.window:
            window = cue.window
    for m in lx.RELATIVE_VOLUME.finditer(sentence):
        if not typical and "volume" not in low[m.end() : m.end() + 40]:
            continue
        q = (m.group("q") or "").lower()
        qual: Qualifier = "above" if q in ("more than", "over", "mehr als") else "approx"
        if q in ("nearly", "almost", "fast"):
            qual = "below"
        emit(
            "relative_volume",
            _TIMES[m.group("m").lower()],
            m.span("m"),
            m.group(0).strip(),
            qualifier=qual,
            window=window,
        )
    for i, n in enumerate(numbers):
        if i in used:
            continue
        value = _volume_multiple(n, sentence[n.end : n.end + 60], bool(typical or "volume" in low))
        if value is None:
            continue
        used.add(i)
        emit(
            "relative_volume",
            value,
            (n.start, n.end),
            n.text,
            number=n,
            qualifier=qualifier(n),
            window=window,
        )


_ABOVE_TYPICAL: Final = re.compile(
    r"\s*(?:above|higher\s+than|over|more\s+than|greater\s+than|über|oberhalb)\s+"
    r"(?:the\s+|its\s+|dem\s+)?(?:\d+[- ]day\s+|3-month\s+|three-month\s+)?"
    r"(?:average|typical|normal|usual|Durchschnitt)",
    re.I,
)
_BELOW_TYPICAL: Final = re.compile(
    r"\s*(?:below|under|less\s+than|unter)\s+(?:the\s+|its\s+)?(?:\d+[- ]day\s+)?"
    r"(?:average|typical|normal|usual|Durchschnitt)",
    re.I,
)
_SURGE_IN_VOLUME: Final = re.compile(
    r"\s*(?:surge|jump|increase|rise|spike|rebound)\s+in\s+(?:trading\s+)?volume", re.I
)


def _volume_multiple(n: Number, after: str, about_volume: bool) -> float | None:
    """Volume over its average as a figure states it: "1.7x", "38% above average", "38%
    below the 50-day average", "a 38% surge in volume"; None for any other figure."""
    if n.unit == "ratio":
        return n.value if about_volume else None
    if n.unit != "percent":
        return None
    if _ABOVE_TYPICAL.match(after) or _SURGE_IN_VOLUME.match(after):
        return 1 + n.value
    if _BELOW_TYPICAL.match(after):
        return 1 - abs(n.value)
    return None


_DISTANCE: Final = re.compile(
    r"""\b(?P<dir>up|down|higher|lower|ahead|behind)\s+
        (?:(?:about|around|roughly|nearly|some|almost|more\s+than|over)\s+)?$""",
    re.I | re.X,
)
_FROM: Final = re.compile(
    r"\s*(?:from|vs\.?|versus|against|on|relative\s+to)\s+(?:its|the|their)?\s*$", re.I
)


_SHARE_OF_CASES: Final = re.compile(
    r"""\s*(?:of|von|der)\s+(?:all\s+|the\s+)?(?:[\d.,]+\s+)?(?:past\s+|earlier\s+|prior\s+|früheren\s+
        |gespeicherten\s+)?(?:cases|occurrences|instances|days|trading\s+days|sessions|Fällen|Fälle)\b
      | \s*aller\s+(?:Handelstage|Tage|Fälle)\b
      | \s*(?:on|an)\s+(?:all|allen)\s+(?:days|trading\s+days|sessions|Handelstagen|Tagen)\b
      | \s*(?:odds|chance|probability)\b""",
    re.I | re.X,
)
"""A share of an event study's cases ("in 57% of 44 past cases", "52% of all days"): a
statistic of history, not a figure of the day."""
_GAP: Final = re.compile(r"\b(?:gap(?:ped|s)?|Kurslücke|opened|eröffnete)\b", re.I)
_FROM_CLOSE: Final = re.compile(
    r"""\s*(?P<dir>below|above|under|over|unter|über)\s+(?:the\s+|dem\s+|its\s+)?
        (?:previous\s+close|prior\s+close|close\s+before|Vortagesschluss\w*|Schlusskurs
         (?:\s+des\s+Vortag(?:e)?s)?)""",
    re.I | re.X,
)
_AGAINST_IT: Final = re.compile(
    r"\s*(?P<dir>darunter|darüber|below\s+it|above\s+it|under\s+it|over\s+it)\b", re.I
)


_INTERVAL: Final = re.compile(r"\([^()]*?(?:confidence|Konfidenz|\bCI\b)[^()]*\)", re.I)
"""A bracketed confidence interval: its bounds are a study's, not the day's."""
_ODDS: Final = re.compile(
    r"(?:\b(?:odds|chances?|probability)\s+(?:of|that)\b|Gewinnchance|Wahrscheinlichkeit)[^.;:]*$",
    re.I,
)
"""Odds stated earlier in the clause ("the odds of a gain ... were 53%", "odds of a gain of 50%
to 60%"): a probability from history, not the day's move."""


_INDICATOR_LEVEL: Final = re.compile(
    r"""\b(?:SAR|Donchian|Keltner|VWAP|pivot|Pivot\w*|highest\s+high|lowest\s+low
        |höchsten\s+Hoch\w*|tiefsten\s+Tief\w*|channel|Kanal\w*|band|Band)\b[^.;:]{0,60}$""",
    re.X,
)
"""A price just after an indicator's level ("the parabolic SAR flipped below the price, to
$145.64", "below the lowest low of the previous 20 trading days ($207.52)"): that level, not
the close."""


def _statistics(sentence: str, numbers: Sequence[Number], used: set[int]) -> None:
    """Shares of an event study's cases, the bounds of its confidence intervals and the levels
    of indicators are no figures of the day: set aside."""
    intervals = [m.span() for m in _INTERVAL.finditer(sentence)]
    for i, n in enumerate(numbers):
        if i in used:
            continue
        if n.unit == "currency" and _INDICATOR_LEVEL.search(sentence[: n.start]):
            used.add(i)
            continue
        if n.unit != "percent":
            continue
        if (
            _SHARE_OF_CASES.match(sentence[n.end :])
            or any(a <= n.start < b for a, b in intervals)
            or _ODDS.search(sentence[: n.start])
        ):
            used.add(i)


def _gaps(
    sentence: str,
    numbers: Sequence[Number],
    used: set[int],
    emit: Emit,
    qualifier: Callable[[Number], Qualifier],
) -> None:
    """The opening gap: "opened with a gap down, 4.3% below the previous close"."""
    for i, n in enumerate(numbers):
        if i in used or n.unit != "percent" or not _GAP.search(sentence[: n.start]):
            continue
        way = _FROM_CLOSE.match(sentence[n.end :])
        if way is None:
            continue
        sign = -1 if way.group("dir").lower() in ("below", "under", "unter") else 1
        used.add(i)
        emit("gap", abs(n.value) * sign, (n.start, n.end), n.text, number=n, qualifier=qualifier(n))


_WEEK52_BEFORE: Final = re.compile(r"\b(?:52|fifty-two)[- ]?(?:week|wk|Wochen)|\bJahres", re.I)
_ADJACENT: Final = re.compile(r"\s*(?:(?:just|well|slightly|comfortably|far|still|now)\s*)?", re.I)
"""What may stand between a distance and its position word ("5.2% well above"): no bracket
or conjunction, which would make the figure another clause's."""
_BRACKETED: Final = re.compile(r"\s*(?:moving\s+)?(?:average|line|MA)?\s*\([^()]*?,\s*$", re.I)
"""An average followed by its bracketed level and distance: "the 200-day ($138.58, +30.0%)"."""


def _distances(
    sentence: str,
    numbers: Sequence[Number],
    averages: Sequence[Average],
    used: set[int],
    emit: Emit,
    qualifier: Callable[[Number], Qualifier],
) -> None:
    """A percentage away from an average: "up about 30% from the 200-day average", the signed
    distance in brackets after it ("the 200-day average ($138.58, +30.0%)"), or "under it"."""
    for i, n in enumerate(numbers):
        if i in used or n.unit != "percent":
            continue
        found = _distance_of(sentence, n, averages)
        if found is None:
            continue
        (_a, _b, windows, family), value, written = found
        used.add(i)
        for w in windows:
            emit(
                f"pct_vs_{family}_{w}",
                value,
                (n.start, n.end),
                written,
                number=n,
                qualifier=qualifier(n),
            )


def _distance_of(
    sentence: str, n: Number, averages: Sequence[Average]
) -> tuple[Average, float, str] | None:
    """The average a percentage measures the close against, the signed distance, as written."""
    before = [a for a in averages if a[1] <= n.start]
    it = _AGAINST_IT.match(sentence[n.end :])
    if it is not None and before:
        # "crossed below the 50-day and closed 9.2% under it"
        below = it.group("dir").lower().startswith(("darunter", "below", "under"))
        return before[-1], abs(n.value) * (-1 if below else 1), n.text
    if n.signed and before and _BRACKETED.fullmatch(sentence[before[-1][1] : n.start]):
        return before[-1], n.value, n.text
    way = _DISTANCE.search(sentence[max(0, n.start - 40) : n.start])
    if way is None:
        return None
    after = [a for a in averages if a[0] >= n.end and _FROM.fullmatch(sentence[n.end : a[0]])]
    if not after:
        return None
    up = way.group("dir").lower() in ("up", "higher", "ahead")
    return after[0], abs(n.value) * (1 if up else -1), f"{n.text} {'above' if up else 'below'}"


_STREAK: Final = re.compile(
    r"""(?P<n>\d{1,3}|two|three|four|five|six|seven|eight|nine|ten)\s+(?:consecutive|straight
        |successive)\s+(?:sessions|days|trading\s+days|closes)\s+(?:above|over)
      | for\s+the\s+(?P<n2>\d{1,3})(?:st|nd|rd|th)\s+(?:straight|consecutive)\s+(?:session|day)""",
    re.I | re.X,
)
_SMALL: Final = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


def _streaks(
    sentence: str,
    numbers: Sequence[Number],
    averages: Sequence[Average],
    used: set[int],
    emit: Emit,
) -> None:
    """Consecutive closes above an average: "12 straight sessions above its 50-day"."""
    for m in _STREAK.finditer(sentence):
        after = [a for a in averages if a[0] >= m.end()]
        if not after:
            continue
        text = m.group("n") or m.group("n2")
        count = int(text) if text.isdigit() else _SMALL[text.lower()]
        for i, n in enumerate(numbers):
            if n.start >= m.start() and n.end <= m.end():
                used.add(i)
        _a, _b, windows, family = after[0]
        span = m.span("n") if m.group("n") else m.span("n2")
        emit(f"sessions_above_{family}_{windows[-1]}", float(count), span, text, step=1.0)


# -- tables ----------------------------------------------------------------------------------

_HEADERS: Final = (
    (r"prev(?:ious)?\.?\s*close|vortag", "previous_close"),
    (r"%\s*(?:from|vs\.?|off)\s*52\s*w(?:ee)?k?\s*high|from\s+high", "pct_from_high_52w"),
    (r"%\s*(?:from|vs\.?)\s*52\s*w(?:ee)?k?\s*low|from\s+low", "pct_from_low_52w"),
    (r"52\s*-?\s*w(?:ee)?k?\.?\s*(?:high|hoch)|52w\s*h", "high_52w"),
    (r"52\s*-?\s*w(?:ee)?k?\.?\s*(?:low|tief)|52w\s*l", "low_52w"),
    (r"(?:%\s*)?vs\.?\s*(?:SMA|MA)\s*(\d+)|(?:SMA|MA)\s*(\d+)\s*%", "pct_vs_sma_{}"),
    (r"(?:SMA|MA|GD)\s*-?\(?(\d+)\)?|(\d+)\s*-?\s*(?:D|day|Tage)\s*(?:SMA|MA|Linie)?$", "sma_{}"),
    (r"EMA\s*-?\(?(\d+)\)?|(\d+)\s*-?\s*(?:D|day)\s*EMA", "ema_{}"),
    (r"rsi", "rsi_14"),
    (r"rel\.?\s*vol|rvol", "relative_volume"),
    (r"avg\.?\s*vol|average\s+vol|ø\s*vol|durchschn", "average_volume"),
    (r"vol(?:ume)?|volumen|umsatz", "volume"),
    (r"ytd", "change_ytd"),
    (r"gap", "gap"),
    (r"(?:%\s*)?(?:chg|change|perf|veränd|änderung|\+/-)\s*%?|%\s*(?:chg|change)|1d", "change_1d"),
    (r"open|eröffnung", "open"),
    (r"high|hoch", "day_high"),
    (r"low|tief", "day_low"),
    (r"close|schluss", "close"),
    (r"last|price|kurs", "last_price"),
    (r"upside|potenzial", "upside"),
    (r"target|kursziel", "target_mean"),
)


def _header_kind(cell: str) -> tuple[str, int | None] | None:
    text = cell.strip().lower()
    window = None
    m = re.search(r"\((\d+)\s*d\)|(\d+)\s*d\b|\(3m\)|3\s*m(?:o|onth)?", text)
    if m and ("vol" in text):
        window = int(m.group(1) or m.group(2)) if (m.group(1) or m.group(2)) else 63
    for pattern, kind in _HEADERS:
        hit = re.search(pattern, text, re.I)
        if hit:
            if "{}" in kind:
                n = next((g for g in hit.groups() if g), None)
                if n is None:
                    continue
                kind = kind.format(int(n))
            return kind, window
    return None


def _cells(line: str) -> list[tuple[int, str]]:
    sep = "|" if line.count("|") >= 2 else "\t"
    out: list[tuple[int, str]] = []
    pos = 0
    for part in line.split(sep):
        out.append((pos, part))
        pos += len(part) + 1
    if sep == "|":
        out = [c for c in out if c[1].strip() or True]
        if line.strip().startswith("|"):
            out = out[1:]
        if line.strip().endswith("|"):
            out = out[:-1]
    return out


def _table_readings(text: str, lines: Sequence[str], names: Names) -> list[Reading]:
    """Rows of a screener's table: each cell is the metric its column header names."""
    out: list[Reading] = []
    offset = 0
    header: list[tuple[str, int | None] | None] | None = None
    lang: Lang = "de" if detect_language(text) == "de" else "en"
    for line in lines:
        is_row = line.count("|") >= 2 or line.count("\t") >= 2
        if not is_row:
            header = None
            offset += len(line) + 1
            continue
        cells = _cells(line)
        if re.fullmatch(r"[\s|:\-+]+", line):
            offset += len(line) + 1
            continue
        if header is None:
            header = [_header_kind(c) for _p, c in cells]
            if sum(h is not None for h in header) < 2:
                header = None
            offset += len(line) + 1
            continue
        subject: Subject | None = None
        for _p, c in cells:
            found = names.find(c.strip())
            if found:
                subject = found[0][2]
                break
        if subject is None:
            first = cells[0][1].strip() if cells else ""
            subject = (
                Subject(None, first, "unknown")
                if first and not re.match(r"[\d$€+-]", first)
                else _main(names)
            )
        for (pos, cell), head in zip(cells, header, strict=False):
            if head is None:
                continue
            kind, window = head
            numbers = read_numbers(cell, lang)
            if not numbers:
                continue
            n = numbers[0]
            value = n.value
            if kind == "change_1d" and n.unit == "currency":
                kind = "change_abs"
            if kind == "change_1d" and n.unit != "percent":
                value /= 100
            if kind.startswith(("pct_", "upside", "change_ytd", "gap")) and n.unit != "percent":
                value /= 100
            start = offset + pos + n.start
            out.append(
                Reading(
                    kind,
                    value,
                    n.text,
                    (start, start + len(n.text)),
                    line.strip(),
                    step=n.step
                    / (
                        100
                        if n.unit != "percent"
                        and kind.startswith(("pct_", "change_1d", "upside", "change_ytd", "gap"))
                        else 1
                    ),
                    subject=subject,
                    window=window,
                    months=window == 63,
                )
            )
        offset += len(line) + 1
    return out
