"""Checking other people's notes: read each numeric claim and judge it against the data.

A market note states a close, a move, a volume, averages and the price's position against
them, 52-week extremes, RSI, analysts' targets and company metrics, in English or German, in
wire, newsletter, chart-site or screener style. The note is read in three steps:

- :mod:`.numbers` reads each number with its sign, unit, scale and precision ("-10.56%",
  "15,7 Mio.", "3.36M", "155,74 $");
- :mod:`.grammar` finds the metric, the subject (this ticker, a stored peer, an unknown company
  or an index) and the time (the session, the previous one, intraday, extended hours) each
  number belongs to, from the phrases of :mod:`.lexicon`;
- :mod:`.judge` compares each claim with the bars and the brief's facts, within the writer's
  precision, trying the conventions of :mod:`.conventions` when the default misses.

Why a token grammar of regular expressions and not a parser library: notes are not a formal
language. A grammar over whole sentences (``lark`` 1.3 was considered) fails on every
phrasing it does not foresee, and most published sentences are of that kind; what carries the
meaning is a few local structures (a cue and its number, a position word and what stands on
either side of it, a range) that tolerate any words between them. spaCy's ``Matcher`` and
``EntityRuler`` would express the same local patterns, but need a language model for each
language, installed offline (about 15 MB each), and add a second or more to every start; the
regular expressions here are loaded in milliseconds, cover English and German with one table
each, and every phrase family is a named, tested pattern.

Verdicts: *holds* (within rounding, or under a named convention), *off* (a different figure),
*contradicted* (a direction or threshold the data deny) and *unverifiable* (nothing stored can
check it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from stockbrief.claims.conventions import Bars
from stockbrief.claims.grammar import Names, Reading, detect_language, read, sentences
from stockbrief.claims.judge import ADJUSTED, Judge, Known, Market
from stockbrief.claims.kinds import KINDS, VERDICTS, Claim, Kind, Verdict, kind_of

LangOption = Literal["en", "de", "auto"]

__all__ = [
    "ADJUSTED",
    "KINDS",
    "VERDICTS",
    "Bars",
    "Claim",
    "Kind",
    "Known",
    "LangOption",
    "Market",
    "Names",
    "Reading",
    "Verdict",
    "aliases",
    "detect_language",
    "extract",
    "kind_of",
    "read",
    "sentences",
    "to_json",
    "to_markdown",
]


def extract(
    text: str,
    known: Known,
    firms: Sequence[str] = (),
    *,
    market: Market | None = None,
    names: Mapping[str, str] | None = None,
    lang: LangOption = "auto",
) -> list[Claim]:
    """Every checkable claim of a note, judged.

    Parameters
    ----------
    text
        The note.
    known
        The brief's facts by name (targets, upside, company metrics), value and source.
    firms
        Names of the firms whose targets are known.
    market
        The bars to judge price, volume and indicator claims with; without it those claims
        are judged on ``known`` alone where it has them (close, volume, SMA 50/200).
    names
        Names and tickers a note may use for stored tickers (name -> ticker).
    lang
        ``en``, ``de``, or ``auto`` to tell from the text.
    """
    language = detect_language(text) if lang == "auto" else lang
    main = market.ticker if market is not None else "?"
    words = dict(names or {})
    own = own_name(text, main, words, firms)
    if own is not None:
        words[own] = main
    readings = read(text, Names(main, words, tuple(firms)), language)
    if market is None:
        market = _known_market(known)
    return Judge(market, known).judge_all(readings)


_SUFFIXES = re.compile(
    r"[,.]?\s+(?:Inc\.?|Corp(?:oration)?\.?|Co\.?|Ltd\.?|Limited|plc|PLC|AG|SE|N\.V\.|S\.A\.|"
    r"Holdings?|Group|Class\s+[A-C]|ADR|Technologies|Technology|Platforms|Company)$"
)


def aliases(
    securities: Iterable[tuple[str, str | None]], tickers: Iterable[str] = ()
) -> dict[str, str]:
    """The names a note may use for each stored ticker: the ticker (and a Hong Kong code
    without its suffix), the name, and the name without "Inc.", "Holdings", "Group"."""
    out: dict[str, str] = {}
    for ticker in tickers:
        out.setdefault(ticker, ticker)
    for ticker, name in securities:
        out.setdefault(ticker, ticker)
        if ticker.endswith(".HK"):
            out.setdefault(f"{int(ticker[:-3])} HK" if ticker[:-3].isdigit() else ticker, ticker)
        if not name:
            continue
        out.setdefault(name, ticker)
        short = name
        while True:
            cut = _SUFFIXES.sub("", short).strip()
            if cut == short:
                break
            short = cut
        if len(short) >= 3:
            out.setdefault(short, ticker)
    return out


def own_name(
    text: str, ticker: str, names: Mapping[str, str], firms: Sequence[str] = ()
) -> str | None:
    """The name a note gives its own company when the store holds none for its ticker.

    A note calls its stock "NVIDIA" or "Tesla", rarely by ticker; without the name its claims
    would all read as about an unknown company. The name is the one written before the ticker
    ("NVIDIA (NVDA)", "Tesla Inc. (NASDAQ: TSLA)"), else the company that moves in the note's
    first sentences and most often overall; a name the store gives another ticker never is.
    """
    if any(t == ticker and word != ticker for word, t in names.items()):
        return None
    symbol = re.escape(ticker)
    named = re.search(
        rf"(?P<n>[A-Z][\w.&-]+(?:\s+[A-Z][\w.&-]+){{0,2}})\s*\((?:[A-Za-z]+:\s*)?{symbol}\)",
        text,
    )
    if named is not None and named.group("n") not in names:
        return _SUFFIXES.sub("", named.group("n")).strip() or None
    probe = Names(ticker, dict(names), tuple(firms))
    counts: dict[str, int] = {}
    leading: set[str] = set()
    for index, (_, sentence) in enumerate(sentences(text)):
        for _, _, subject in probe.find(sentence):
            if subject.kind == "unknown" and subject.name not in names:
                counts[subject.name] = counts.get(subject.name, 0) + 1
                if index < 3:
                    leading.add(subject.name)
    ranked = sorted(leading, key=lambda w: (-counts[w], w))
    return ranked[0] if ranked else None


def _known_market(known: Known) -> Market | None:
    """Without bars, claims are judged on the brief's facts through a one-session market."""
    return None


def to_json(found: Sequence[Claim]) -> str:
    """The claims as a JSON list, for tools."""
    return json.dumps([c.to_json() for c in found], indent=2, ensure_ascii=False, default=str)


def to_markdown(found: Sequence[Claim], title: str) -> str:
    """The claims as a Markdown table."""
    rows = [
        f"### {_md(title)}",
        "",
        "| claim | in the note | in the data | verdict | source |",
        "|---|---|---|---|---|",
    ]
    for c in found:
        rows.append(
            "| "
            + " | ".join(_md(x) for x in (c.label, c.written, c.actual, c.verdict_text, c.source))
            + " |"
        )
    held = sum(c.holds for c in found)
    rows += ["", f"{held} of {len(found)} claims hold"]
    return "\n".join(rows) + "\n"


def _md(text: Any) -> str:
    from stockbrief.text import markdown_text

    return markdown_text(str(text)).replace("|", "\\|").replace("\n", " ")
