"""The words of the claim grammar, in English and German.

Each cue is a regular expression for one phrase family ("closed at", "50-Tage-Linie",
"average daily volume") with the kind a number takes after (or, for a few, before) it, by the
number's unit. Words that are not cues steer the reading: directions of a move, comparators,
qualifiers of a number, time and forward-looking words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

Units = frozenset[str]
PRICE: Final = frozenset({"currency", "plain"})
PCT: Final = frozenset({"percent"})
COUNT: Final = frozenset({"count", "plain"})


@dataclass(frozen=True)
class CueSpec:
    """A phrase family: its pattern and the kind of the number it governs, by unit."""

    family: str
    pattern: re.Pattern[str]
    kinds: dict[str, str]
    """Unit ("currency", "percent", "count", "plain", "ratio") to kind."""
    postfix: bool = False
    """The cue may follow its number ("2.4 million shares", "a 6% gain")."""
    prefix: bool = True
    direction: int = 0
    """+1 or -1 for a cue that is itself a move up or down ("fell", "Minus")."""
    extra: dict[str, str] = field(default_factory=dict)


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.VERBOSE)


WINDOW_WORD: Final = (
    r"(?:\d{1,3}|ten|twenty|thirty|fifty|one[- ]hundred|two[- ]hundred|hundred|"
    r"one[- ]hundred[- ]fifty|zwanzig|fünfzig|hundert|zweihundert)"
)
_DAYS = r"(?:[- ]?(?:day|d|session|sessions|days|trading[- ]day|Tage|Tages))"

MOVING_AVERAGE: Final = _c(
    rf"""
    (?:(?P<kind0>exponential|simple|exponentielle[nr]?|einfache[nr]?)\s+)?
    (?:
      (?:(?P<wa>\d{{1,3}})-?\s*(?:and|und|&)\s*)?(?P<w>{WINDOW_WORD}){_DAYS}
        (?:[- ](?:simple|exponential|exponentielle[nr]?|gleitende[nr]?))?
        (?P<tail>[- ]?(?:moving[- ]averages?|M\.?A\.?s?\b|SMAs?\b|EMAs?\b|DMAs?\b|averages?\b
            |lines?\b|trend[- ]?lines?\b|Linie\b|Durchschnitt(?:s?linie)?\b|Schnitt\b
            |GD\b))?
    | (?P<kind1>SMA|EMA|MA|DMA|GD)[- ]?\(?(?P<w2>\d{{1,3}})\)?(?![\d.,]\d)
    | (?P<w3>\d{{1,3}})[- ]?(?P<kind2>DMA|SMA|EMA|MA|GD)\b
    | (?P<w4>\d{{1,2}})[- ]week[- ](?:simple\s+|exponential\s+)?(?:moving[- ])?average
    | gleitende[nr]?\s+(?:Durchschnitt|Mittel)\s+(?:der\s+(?:letzten\s+)?)?(?P<w5>\d{{1,3}})\s+Tage
    | (?P<w6>\d{{1,3}})[- ]?Tage[- ](?:Linie|Durchschnitt|Schnitt)
    )
    """
)
"""A moving average of any window in any spelling: "200-day", "SMA-50", "50 DMA", "the
fifty-day", "200-Tage-Linie", "GD 200", "10-week moving average" (50 sessions)."""

NOT_AN_AVERAGE: Final = _c(
    r"""\s*(?:(?:average\s+|durchschnittliche[ns]?\s+)?(?:daily\s+)?(?:trading\s+)?
        (?:volume|vol\b|Volumen|Umsatz|turnover)
       |high|low|range|streak|change|return|performance|period|window|RSI|winning|losing
       |rally|decline|gain|loss|stretch|run|move|slide|advance|drop|Hoch|Tief|Plus|Minus
       |volatility|ATR|chart)"""
)
"""What follows "N-day" when it is not a moving average ("10-day average volume", "5-day
winning streak")."""

AVERAGE_VOLUME: Final = _c(
    r"""
    (?:(?P<w>\d{1,3}|ten|twenty|thirty|fifty|sixty|ninety)[- ](?:day|session|trading[- ]day)s?\s+
       |(?P<m>\d|three|one|six)[- ]month\s+|(?P<m2>3M)\s+)?
    (?:average|avg\.?|typical|normal|usual|mean)\s+(?:daily\s+|session\s+)?(?:trading\s+)?
       (?:volume|vol\b|turnover)
       (?:\s+\(?(?:over|of|for|across)?\s*(?:the\s+)?(?:past|last|prior|previous)?\s*
          (?:(?P<w2>\d{1,3}|ten|twenty|thirty|fifty|sixty|ninety)\s+(?:trading\s+)?
             (?:days|sessions)|(?P<m3>\d|three|one|six)\s+months?|\(?(?P<m4>3M|10D|30D|50D)\)?)
          \)?)?
    | \bADV\b | \bavg\.?\s?vol\b
    | (?:volume\s+)?(?:average|avg)\s*\((?P<m5>3m|10d|30d|3\s?mo)\)
    | durchschnittliche[ns]?\s+(?:tägliche[ns]?\s+)?(?:Handels|Tages)?volumen
      (?:\s+der\s+(?:letzten\s+)?(?P<w3>\d{1,3})\s+(?:Handels)?tage)?
    | Durchschnittsvolumen | (?:übliche|normale|typische)[ns]?\s+(?:Handels)?volumen
    """
)
"""Average volume with its window: "30-day average volume", "average daily volume over the
last 20 sessions", "3-month average volume", "Durchschnittsvolumen"."""

WEEK52: Final = _c(
    r"""
    (?:52|fifty-two)[- ]?(?:week|wk|w)s?\b[- ]?
    | 12[- ]month\s+ | one[- ]year\s+ | annual\s+ | year(?:ly)?\s+(?=high|low)
    | 52-Wochen-? | Jahres(?=hoch|tief)
    """
)
"""The 52-week window: "52-week", "52-wk", "12-month", "52-Wochen-", "Jahres-"."""

RANGE_WORDS: Final = _c(r"\s*(?:trading\s+)?(?:range|Spanne|Bandbreite)")
HIGH_WORDS: Final = _c(r"\s*(?:high|peak|top|Hoch|Hochs|Höchststand)")
LOW_WORDS: Final = _c(r"\s*(?:low|bottom|trough|Tief|Tiefs|Tiefststand)")

RSI: Final = _c(
    r"""(?:(?P<w>\d{1,2})[- ](?:day|period|session|Tage)[- ])?
        (?:RSI|relative\s+strength\s+index|Relative[- ]Stärke[- ]Index|Relative\s+Strength)
        (?:[- ]?\(?(?P<w2>\d{1,2})\)?(?![\d.,]\d))?"""
)

CUES: Final[tuple[CueSpec, ...]] = (
    CueSpec(
        "previous_close",
        _c(
            r"""(?:previous|prior|yesterday'?s|the\s+day\s+before'?s?|last\s+session'?s|
                (?:Mon|Tues|Wednes|Thurs|Fri)day'?s\s+(?=close))\s*(?:session'?s?\s+)?
                (?:close|closing(?:\s+price)?|settle(?:ment)?)(?:\s+(?:of|at|was|:))?
              | Vortagesschluss(?:kurs)? | Schlusskurs\s+(?:vom|des)\s+Vortag(?:es)?
              | Vortag(?:es)?kurs"""
        ),
        {"currency": "previous_close", "plain": "previous_close"},
    ),
    CueSpec(
        "close",
        _c(
            r"""\b(?:clos(?:ed|es|ing)|finish(?:ed|es|ing)?|end(?:ed|s|ing)|settl(?:ed|es|ing)
                   |wrapp(?:ed|ing)\s+up)\b
                (?:\s+(?:the|its|out)\s+(?:day|session|trading\s+day|week|regular\s+session))?
                (?:\s+(?:trading|Friday|Monday|Tuesday|Wednesday|Thursday))?
                (?:\s+(?:at|on|near|around)\b)?
              | \b(?:(?:Friday|Monday|Tuesday|Wednesday|Thursday)'?s\s+|the\s+|last\s+|final\s+)?
                (?:close|closing\s+price|closing\s+level|settlement\s+price)\b(?!\s+(?:above|below))
                (?:\s+(?:of|at|was|:))?
              | \bschlo(?:ss|ß)\b | \bSchlusskurs\b | \bSchlussstand\b | \bbeendete\b
              | \bging\b(?=[^.;]{0,40}\baus\s+dem\s+Handel) | \bzum\s+(?:Handels)?schluss\b"""
        ),
        {"currency": "close", "plain": "close", "percent": "change_1d"},
    ),
    CueSpec(
        "last_price",
        _c(
            r"""\blast\s+(?:trade|traded|price|sale|quote)d?\b(?:\s+(?:of|at|was|:))?
              | \b(?:current(?:ly)?|now)\s+(?:market\s+)?(?:trad(?:ing|es)\s+at|price|quoted\s+at
                  |at|stands?\s+at|sits?\s+at|changing\s+hands\s+at)(?:\s+of)?
              | \b(?:is|are|was|were)\s+trading\s+(?:at|around|near)
              | \btrad(?:es|ed|ing)\s+(?:at|around|near)\b | \bchanging\s+hands\s+at\b
              | \b(?:share|stock)\s+price\s+(?:of|at|is|was|stands\s+at|:)
              | \bpriced\s+at\b | \bquoted\s+at\b | \bhover(?:s|ed|ing)\s+(?:around|near|at)\b
              | \bnotiert(?:e)?\b(?:\s+(?:aktuell|derzeit|zuletzt|bei|mit))* | \bkostet\b
              | \baktuelle[rn]?\s+(?:Aktien)?kurs\b(?:\s+(?:von|liegt\s+bei|bei))?
              | \bAktienkurs\s+von\b | \bKurs\s+von\b | \bgehandelt\s+(?:zu|bei|für)\b
              | \bzu\s+haben\b | \b(?:hitting|reaching|touching|landing\s+at)\b"""
        ),
        {"currency": "last_price", "plain": "last_price"},
    ),
    CueSpec(
        "open",
        _c(
            r"""\bopen(?:ed|ing)?\s+(?:the\s+(?:day|session)\s+)?(?:at|near|around|price\s+of)\b
              | \bopened\b(?=\s*[$\d])
              | \bopening\s+(?:price|print|trade)\b(?:\s+(?:of|at|was))?
              | \bEröffnungskurs\b | \beröffnete\b(?:\s+bei)?"""
        ),
        {"currency": "open", "plain": "open", "percent": "gap"},
    ),
    CueSpec(
        "change",
        _c(r"\b(?:(?:net\s+)?change|chg|Veränderung|Änderung|Tagesveränderung)\b\s*:?"),
        {"percent": "change_1d", "currency": "change_abs"},
    ),
    CueSpec(
        "gap",
        _c(r"\bgapp(?:ed|ing)\s+(?:up|higher|down|lower)\b|\bgap\s+(?:up|down)\s+of\b"),
        {"percent": "gap", "currency": "open"},
    ),
    CueSpec(
        "day_high",
        _c(
            r"""\b(?:(?:the\s+)?day'?s|daily|session'?s?|intraday|intra-day|today'?s|the)\s+
                (?:high|peak|top)\b(?:\s+(?:of|at|was|:))?
              | \bhigh\s+of\s+the\s+(?:day|session)\b(?:\s+(?:of|at|was))?
              | \b(?:hit|touched|reached|set|marked|notched)\s+(?:an?\s+)?(?:intraday\s+)?
                high\s+of\b
              | \bas\s+high\s+as\b | \bhi\b\.?:? | \bhigh\b:?(?=\s*[$\d])
              | \b(?:between|from)\s+an?\s+(?:intraday\s+|session\s+)?(?:high|peak)\s+of\b
              | \band\s+an?\s+(?:intraday\s+|session\s+)?(?:high|peak)\s+of\b
              | \b(?:Tageshoch|Intraday-Hoch|Tageshöchststand)\b
                (?:\s+(?:von|bei|lag\s+bei))?"""
        ),
        {"currency": "day_high", "plain": "day_high"},
    ),
    CueSpec(
        "day_low",
        _c(
            r"""\b(?:(?:the\s+)?day'?s|daily|session'?s?|intraday|intra-day|today'?s|the)\s+
                (?:low|bottom|trough)\b(?:\s+(?:of|at|was|:))?
              | \blow\s+of\s+the\s+(?:day|session)\b(?:\s+(?:of|at|was))?
              | \b(?:hit|touched|reached|set|marked)\s+(?:an?\s+)?(?:intraday\s+)?low\s+of\b
              | \bas\s+low\s+as\b | \blo\b\.?:? | \blow\b:?(?=\s*[$\d])
              | \b(?:between|from)\s+an?\s+(?:intraday\s+|session\s+)?(?:low|bottom)\s+of\b
              | \band\s+an?\s+(?:intraday\s+|session\s+)?(?:low|bottom)\s+of\b
              | \b(?:Tagestief|Intraday-Tief|Tagestiefststand)\b
                (?:\s+(?:von|bei|lag\s+bei))?"""
        ),
        {"currency": "day_low", "plain": "day_low"},
    ),
    CueSpec(
        "volume",
        _c(
            r"""(?<!average\s)(?<!avg\.\s)(?<!avg\s)(?<!typical\s)(?<!daily\s)
                \b(?:trading\s+|share\s+|daily\s+)?(?:volume|turnover)\b
                (?!\s+(?:has\s+|have\s+)?averag)
                (?:\s+(?:of|was|at|came\s+in\s+at|reached|stood\s+at|totall?ed|hit|:))?
              | \b(?:Handels)?volumen\b(?!\s+um\b)(?:\s+(?:von|lag\s+bei|bei|betrug))?
              | \bUmsatz\s+von\b | \bvol\b\.?:?(?=\s*\d)"""
        ),
        {"count": "volume", "plain": "volume", "percent": "volume_change"},
    ),
    CueSpec(
        "shares",
        _c(
            r"""\b(?:shares|shs|shrs|Aktien|Stück|Papiere)\b
                (?=\s+(?:traded|changed\s+hands|were\s+traded|were\s+exchanged|wurden|gehandelt
                   |swapped|exchanged)|[\s,.;)]|$)"""
        ),
        {"count": "volume", "plain": "volume"},
        postfix=True,
        prefix=False,
    ),
    CueSpec(
        "average_volume",
        _c(
            r"""\b(?:avg\.?|average|Durchschnitt)(?:\s+(?:daily\s+)?vol(?:ume)?\.?)?(?=[\s,.;)]|$)
              | \b(?:volume|turnover)\s+(?:has\s+|have\s+)?averaged\b"""
        ),
        {"count": "average_volume"},
        postfix=True,
    ),
    CueSpec(
        "rsi",
        RSI,
        {"plain": "rsi_14"},
    ),
    CueSpec(
        "upside",
        _c(r"\b(?:upside|Aufwärtspotenzial|Kurspotenzial|Potenzial)\b(?:\s+(?:of|von))?"),
        {"percent": "upside"},
        postfix=True,
    ),
)
"""Cues with a kind for the number they govern."""

UP: Final = _c(
    r"""\b(?:ros[ea]|ris(?:e|es|ing)|gain(?:ed|ing|s)?|climb(?:ed|ing|s)?|jump(?:ed|ing|s)?
        |advanc(?:ed|ing|es|e)|add(?:ed|ing|s)?|rall(?:ied|ying|ies|y)|surg(?:ed|ing|es|e)
        |soar(?:ed|ing|s)?|rebound(?:ed|ing|s)?|increas(?:ed|ing|es|e)|popp(?:ed|ing)
        |spik(?:ed|ing|e)|firm(?:ed|ing)|higher|up|ran\s+up|ticked\s+up|edged\s+up|lifted
        |pushed\s+higher|moved\s+higher|put\s+on|tacked\s+on|picked\s+up|outperform(?:ed|ing)|stieg|steigt|stiegen|kletterte
        |klettert|kletterten|gewann|gewannen|gewinnt|legte|legten|legt|zulegen|stiegen|zog|verteuerte|Plus|Gewinn|Aufschlag
        |höher|fester|Kurssprung|sprang|Anstieg)\b"""
)
DOWN: Final = _c(
    r"""\b(?:fell|fall(?:s|ing)?|dropp?(?:ed|ing|s)?|declin(?:ed|ing|es|e)|lost|los(?:ing|es|s)
        |slid(?:e|es|ing)?|slipp?(?:ed|ing|s)?|shed(?:ding|s)?|sank|sink(?:s|ing)?|sunk
        |tumbl(?:ed|ing|es|e)|plung(?:ed|ing|es|e)|retreat(?:ed|ing|s)?|decreas(?:ed|ing|es|e)
        |eas(?:ed|ing)|dipp?(?:ed|ing|s)?|slump(?:ed|ing|s)?|lower|down|gave\s+up|gave\s+back
        |ticked\s+down|edged\s+down|skid(?:ded)?|tank(?:ed|ing)|weaken(?:ed|ing)
        |underperform(?:ed|ing)|fiel|fielen|fällt|sank|sanken|sinkt|verlor|verloren|verliert|gab|gaben|nachgeben|rutschte
        |rutscht|büßte|verbilligte|Minus|Verlust|Abschlag|schwächer|Rückgang|knickte)\b"""
)
"""Words of a move up or down; the sign a number without one takes."""

COMPARATOR: Final = _c(
    r"""(?P<q>just|slightly|narrowly|barely|marginally|modestly|well|comfortably|far|firmly
          |significantly|substantially|sharply|knapp|deutlich|klar|leicht|weit|solide)?\s*
        \b(?P<c>above|over|below|under|beneath|atop|north\s+of|south\s+of|oberhalb|unterhalb
          |über|unter|überhalb)\b"""
)
"""A position word ("just above", "deutlich unter") and its qualifier."""

CROSS: Final = _c(
    r"""\b(?:cross(?:ed|es|ing)?|broke|break(?:s|ing)?|broken|pierc(?:ed|ing)|punch(?:ed)?
         |slic(?:ed|ing)|reclaim(?:ed|ing|s)?|clear(?:ed|ing|s)?|moved|fell|dropped|slipped
         |rose|climbed|pushed|surged|sank|durchbrach|durchbricht|überwand|überwindet
         |rutschte|fiel|sprang|kletterte|überschritt|unterschritt|durchstieß)\b
        (?:\s+(?:back\s+)?(?P<c>above|over|below|under|through|beneath|über|unter))?"""
)
"""Verbs of a crossing; "reclaimed" and "cleared" cross upwards."""

GOLDEN: Final = _c(r"\b(?:golden\s+cross|Golden\s+Cross|goldene[ns]?\s+Kreuz)\b")
DEATH: Final = _c(r"\b(?:death\s+cross|Todeskreuz|Death\s+Cross)\b")

ZONE: Final = _c(
    r"\b(?P<z>overbought|oversold|überkauft|überverkauft|neutral(?:\s+(?:territory|zone))?)\b"
)

QUALIFIER_BEFORE: Final = _c(
    r"""(?:(?P<above>more\s+than|over|above|exceeding|in\s+excess\s+of|at\s+least|north\s+of
          |upwards\s+of|better\s+than|mehr\s+als|über|gut)
        |(?P<below>less\s+than|under|below|fewer\s+than|just\s+under|shy\s+of|weniger\s+als
          |unter|knapp\s+unter)
        |(?P<approx>about|approximately|around|roughly|some|close\s+to|near(?:ly)?|almost
          |nearly|circa|ca\.|rund|etwa|fast|knapp|approx\.?|~))\s*$"""
)
"""A qualifier just before a number: "more than 6%", "about 25%", "rund 15 Mio."."""

INTRADAY: Final = _c(
    r"""\b(?:currently|(?:in\s+)?intra-?day\s+trading|mid-?day|midday|so\s+far\s+(?:today|this\s+session)
         |as\s+of\s+(?:this\s+)?writing|at\s+(?:last|the\s+time\s+of)\s+(?:check|writing)
         |in\s+(?:early|late|morning|afternoon|midday)\s+trading|last\s+trade|is\s+trading
         |are\s+trading|at\s+the\s+moment|right\s+now|aktuell|derzeit|im\s+(?:frühen\s+)?
           (?:Handelsverlauf|Tagesverlauf|Vormittagshandel)|zur\s+Stunde|momentan)\b"""
)
EXTENDED: Final = _c(
    r"""\b(?:pre-?market|after[- ]hours|extended\s+trading|overnight\s+trading|before\s+the\s+bell
         |vorbörslich\w*|nachbörslich\w*)\b"""
)
PREVIOUS: Final = _c(
    r"""\b(?:yesterday|the\s+previous\s+session|the\s+prior\s+session|the\s+session\s+before
         |gestern|am\s+Vortag)\b"""
)
WEEKDAY: Final = _c(
    r"\b(?:on\s+|am\s+)?(?P<d>Monday|Tuesday|Wednesday|Thursday|Friday|Montag|Dienstag"
    r"|Mittwoch|Donnerstag|Freitag)\b"
)
WEEKDAYS: Final = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
}
PERIOD: Final = _c(
    r"""\b(?:year[- ]to[- ]date|YTD|this\s+year|since\s+(?:the\s+start\s+of\s+)?(?:January|the\s+
         (?:start|beginning)\s+of\s+the\s+year)|seit\s+Jahresbeginn|seit\s+Jahresanfang
         |im\s+bisherigen\s+Jahresverlauf|seit\s+Jahresstart|(?:for|on)\s+the\s+year(?!\s+ago)
         |so\s+far\s+this\s+year)\b"""
)
OTHER_PERIOD: Final = _c(
    r"""\b(?:this\s+week|last\s+week|past\s+week|the\s+week|weekly|month|months|monthly|quarter
         |past\s+(?:\d+|few|several|two|three|five|ten)\s+(?:days|sessions|weeks|trading\s+days)
         |over\s+(?:\d+|the\s+past|the\s+last)|in\s+\d+\s+(?:days|sessions)|since|year\s+ago
         |last\s+year|past\s+year|12\s+months|52\s+weeks|(?:five|ten|\d+)[- ]day\s+(?:gain
         |loss|change|return|decline|rally|advance|winning|losing|streak|stretch|run)
         |Woche|Monat|Monaten|Quartal|seit|Vorjahr|all[- ]time|Allzeit|record|Rekord
         |streak|in\s+a\s+row|consecutive|straight|winning\s+streak|losing\s+streak|YoY
         |year[- ]over[- ]year)\b"""
)
"""A move over a span other than the session: its percentage is not the daily change."""

FORWARD: Final = re.compile(
    r"""\b(?:could|would|might|may|should|will|if|whether|potential(?:ly)?|expects?|expected
         |forecast\w*|projects?|projected|estimates?|next|watch(?:ing)?|eye(?:ing)?|aims?
         |would-be|könnte|würde|sollte|falls|wenn|dürfte|erwartet|Ziel|Widerstand|Unterstützung
         |resistance|support|stop|entry|buy\s+zone|if\s+it|unless|needs?\s+to|must|target(?:s|ing)?)\b""",
    re.VERBOSE,
)
"""Words after which a price is a level someone watches, not a figure of the session."""

LEVEL_AFTER: Final = _c(
    r"""\s*(?:-?\s*(?:price\s+)?(?:level|mark|threshold|area|zone|handle|barrier|region|figure
         |line|ceiling|floor|hurdle|resistance|support|Marke|Schwelle|Bereich|Niveau|Zone
         |Widerstand|Unterstützung|Hürde))\b"""
)
"""What follows a price that names a level ("the $155 level"), not a figure of the day."""

PRICE_SUBJECT: Final = _c(
    r"""\b(?:price|prices|stock|shares|share|it|its|close|closing|trading|trades|traded
         |the\s+stock|equity|Aktie|Kurs|Papier|Titel|sie|notiert|schloss|closed|ticker
         |trades|sits|stands|remains|stays|is|are|was|were|liegt|lag|placed)\b"""
)
OBJECT_PRONOUN: Final = _c(
    r"""\s*(?:it|this\s+level|that\s+level|this\s+average|that\s+average|the\s+average
         |this\s+line|that\s+line|this\s+mark|that\s+mark|this\s+threshold|dieser\s+Marke
         |dieser\s+Linie|diesem\s+Niveau|ihr|ihm)\b"""
)
PRICE_OBJECT: Final = _c(
    r"""\s*(?:the\s+|its\s+)?(?:current\s+|share\s+|stock\s+|last\s+)?(?:price|close|stock
         |shares|Kurs|Aktienkurs)\b"""
)

RELATIVE_VOLUME: Final = _c(
    r"""(?P<q>more\s+than|over|nearly|almost|about|roughly|around|less\s+than|mehr\s+als
         |fast|rund|etwa)?\s*
        \b(?P<m>double|twice|triple|three\s+times|four\s+times|doppelt|dreifach|das\s+Doppelte
         |das\s+Dreifache)\b"""
)
"""Multiples of typical volume in words: "more than double", "twice", "das Doppelte"."""

TYPICAL: Final = _c(
    r"""\b(?:average|typical|normal|usual|norm|avg\.?|ADV|Durchschnitt|durchschnittlich\w*
         |übliche\w*|normale\w*|typische\w*)\b"""
)

TARGET: Final = _c(
    r"\b(?:price\s+targets?|targets?|price\s+objective|Kursziel\w*|Zielkurs\w*|fair\s+value)\b"
)
CONSENSUS: Final = _c(r"\b(?:average|consensus|mean|median|durchschnittlich\w*|Konsens\w*)\b")
FIRM_TARGET_HINT: Final = _c(r"\b(?:path\s+to|sees|set|raised|lifted|cut|lowered|hebt|senkt)\b")
YOY: Final = _c(r"year[- ]over[- ]year|year[- ]on[- ]year|\byoy\b|\bim\s+Jahresvergleich\b")
KPI_WORDS: Final = _c(r"\b(?:downloads?|users?|subscribers?|Nutzer|Downloads?)\b")

INDEXES: Final = _c(
    r"""\b(?:S&P\s*500|S&P|Nasdaq(?:\s+(?:100|Composite|Golden\s+Dragon))?|NASDAQ(?:\s+100)?
         |Dow(?:\s+Jones)?(?:\s+Industrial\s+Average)?|Russell\s+\d{4}|Hang\s+Seng(?:\s+Tech)?
         |DAX|MDAX|TecDAX|Euro\s*Stoxx\s*50|Stoxx\s*(?:Europe\s*)?600|Nikkei(?:\s+225)?
         |FTSE(?:\s+100)?|CSI\s+300|Shanghai\s+Composite|the\s+broader\s+market
         |the\s+index|Philadelphia
         \s+Semiconductor\s+Index|SOX)\b"""
)
"""Indexes and groups: figures about them are not about the note's ticker."""

CAPITAL_STOP: Final = frozenset(
    [
        "The",
        "It",
        "Its",
        "This",
        "That",
        "These",
        "Those",
        "Shares",
        "Stock",
        "Stocks",
        "Analysts",
        "Volume",
        "Friday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "RSI",
        "SMA",
        "EMA",
        "MACD",
        "Investors",
        "Traders",
        "Technical",
        "Meanwhile",
        "However",
        "Overall",
        "Today",
        "Yesterday",
        "Trading",
        "Momentum",
        "Market",
        "Markets",
        "Sector",
        "Tech",
        "AI",
        "US",
        "USA",
        "China",
        "Chinese",
        "Hong",
        "Kong",
        "Wall",
        "Street",
        "Bulls",
        "Bears",
        "Price",
        "Prices",
        "Close",
        "Closing",
        "Volume",
        "On",
        "In",
        "At",
        "As",
        "After",
        "Before",
        "During",
        "With",
        "While",
        "Although",
        "Despite",
        "Over",
        "Under",
        "Since",
        "The",
        "A",
        "An",
        "And",
        "But",
        "Or",
        "So",
        "Yet",
        "For",
        "Of",
        "From",
        "To",
        "By",
        "Also",
        "Still",
        "Then",
        "Now",
        "New",
        "Key",
        "Daily",
        "Weekly",
        "Session",
        "Chart",
        "Charts",
        "Summary",
        "Outlook",
        "Bottom",
        "Line",
        "Note",
        "Data",
        "Source",
        "Why",
        "What",
        "How",
        "When",
        "Where",
        "Who",
        "Support",
        "Resistance",
        "Levels",
        "Level",
        "Average",
        "Averages",
        "Moving",
        "Day",
        "Week",
        "Year",
        "Die",
        "Der",
        "Das",
        "Den",
        "Dem",
        "Aktie",
        "Aktien",
        "Kurs",
        "Anleger",
        "Analysten",
        "Handel",
        "Am",
        "Im",
        "Mit",
        "Und",
        "Auf",
        "Bei",
        "Zum",
        "Zur",
        "Nach",
        "Vor",
        "Seit",
        "Freitag",
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Januar",
        "Februar",
        "März",
        "Mai",
        "Juni",
        "Juli",
        "Oktober",
        "Dezember",
        "Fazit",
        "Chartbild",
        "Chartanalyse",
        "Börse",
        "Papier",
        "Titel",
        "Plus",
        "Minus",
        "Ein",
        "Eine",
        "Einen",
        "Sie",
        "Er",
        "Es",
        "Auch",
        "Noch",
        "Damit",
        "Dabei",
        "Zudem",
        "Jedoch",
        "Außerdem",
        "Allerdings",
        "Hier",
        "Dort",
        "Quelle",
        "Stand",
        "Lage",
        "Intraday",
        "Previous",
        "Prior",
        "Last",
        "Open",
        "Opening",
        "High",
        "Low",
        "Range",
        "Change",
        "Gap",
        "Rating",
        "Buy",
        "Sell",
        "Hold",
        "Target",
        "Targets",
        "Consensus",
        "Upside",
        "Downside",
        "Earnings",
        "Revenue",
        "Q1",
        "Q2",
        "Q3",
        "Q4",
        "NYSE",
        "NASDAQ",
        "Nasdaq",
        "HKEX",
        "ETF",
        "ETFs",
        "EPS",
        "CEO",
        "CFO",
        "IPO",
        "GDP",
        "CPI",
        "Fed",
        "FOMC",
        "YTD",
        "ADV",
        "DMA",
        "MA",
        "SMAs",
        "EMAs",
        "ATR",
        "Mio",
        "Mrd",
        "Tsd",
        "Wochen",
        "Tage",
        "Linie",
        "Tagen",
        "Ticker",
        "Top",
        "Gainers",
        "Losers",
        "Movers",
        "Name",
        "Symbol",
        "Last",
        "Chg",
        "Vol",
    ]
)
"""Capitalised words that are not a company (sentence starts, months, terms of the trade)."""
