"""The narrative: facts and verdict into titled sections of plain text, in English or German.

Sentences live in Jinja2 templates (``templates/{lang}/brief.j2``, one macro per section and one
line per event kind) and numbers are formatted with Babel, so "155,74 $" and "2. Januar 2026"
come from the locale, not from string concatenation. Negative numbers carry the true minus sign
(U+2212) in both languages. An index is quoted in points, not in a currency. A section whose
facts are missing is left out.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Literal

import polars as pl
from babel.dates import format_date
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
)
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from stockbrief.notes import glossary, wording
from stockbrief.notes.facts import FactSheet
from stockbrief.notes.thesis import Thesis
from stockbrief.notes.verdict import Verdict
from stockbrief.text import strip_controls

Lang = Literal["en", "de"]
LANGS: Final[tuple[Lang, ...]] = ("en", "de")
LOCALES: Final[dict[str, str]] = {"en": "en_US", "de": "de_DE"}
DATE_PATTERNS: Final[dict[str, str]] = {"en": "d MMMM y", "de": "d. MMMM y"}
"""Dates in running text are written in words: 2 January 2026, 2. Januar 2026."""
MINUS: Final = "\u2212"
POINTS: Final[dict[str, str]] = {"en": "points", "de": "Punkte"}
SECTIONS: Final = ("move", "chart", "analysts", "sector", "milestones", "evidence", "conclusion")


@dataclass(frozen=True)
class Section:
    """A titled paragraph of the brief."""

    key: str
    title: str
    text: str


def _minus(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def _filters(lang: Lang, currency: str, points: bool = False) -> dict[str, Any]:
    locale = LOCALES[lang]

    def money(value: float) -> str:
        """A price in the security's currency; an index level in points."""
        if points:
            return _minus(format_decimal(value, "#,##0.00", locale=locale)) + " " + POINTS[lang]
        return _minus(format_currency(value, currency, locale=locale))

    def money_dat(value: float) -> str:
        """:func:`money` after a German preposition that takes the dative: "bei 65,73 Punkten"."""
        text = money(value)
        return text + "n" if points and lang == "de" else text

    def money_bare(value: float) -> str:
        """The first end of a range: "10.62 to 65.73 points" names the points once."""
        if points:
            return _minus(format_decimal(value, "#,##0.00", locale=locale))
        return money(value)

    def pct(value: float, signed: bool = False, digits: int = 1) -> str:
        pattern = ("+" if signed and value > 0 else "") + "#,##0." + "0" * digits
        text = _minus(format_decimal(value * 100, pattern, locale=locale))
        return text + ("\u00a0%" if lang == "de" else "%")

    def num(value: float, digits: int = 0) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return _minus(format_decimal(value, pattern, locale=locale))

    def compact(value: float) -> str:
        return format_compact_decimal(value, format_type="long", locale=locale, fraction_digits=1)

    def money_compact(value: float) -> str:
        """A large sum in the security's currency: $3.5T, 3,5 Bio. $."""
        return format_compact_currency(value, currency, locale=locale, fraction_digits=1)

    def day(value: dt.date | dt.datetime) -> str:
        return format_date(value, DATE_PATTERNS[lang], locale=locale)

    def clock(value: dt.datetime) -> str:
        """The UTC time of a stored timestamp: 12:00 UTC, 12:00 Uhr UTC."""
        text = (
            value.astimezone(dt.UTC).strftime("%H:%M") if value.tzinfo else value.strftime("%H:%M")
        )
        return f"{text} UTC" if lang == "en" else f"{text} Uhr UTC"

    def longday(value: dt.date | dt.datetime) -> str:
        """A date as running text writes it: 2 January 2026, 2. Januar 2026."""
        return format_date(value, "long", locale=locale)

    def ratio(value: float) -> str:
        """A multiple in a table cell: 1.4 with the times sign in English, 1,4-fach in German."""
        figure = format_decimal(value, "0.0", locale=locale)
        return figure + ("\u00d7" if lang == "en" else "-fach")

    def fact(value: Any, unit: str, name: str = "") -> str:
        """A fact's value as a reader of the facts table expects it, by its unit."""
        if value is None:
            return "n/a"
        if unit == "currency":
            return money(value)
        if unit == "fraction":
            # Changes and margins carry a sign; a volatility is a size.
            return pct(value, signed=not name.startswith("volatility"), digits=2)
        if unit == "ratio":
            return ratio(value)
        if unit == "shares":
            return num(value)
        if unit == "index":
            return num(value, 1)
        if unit == "date":
            return day(value if isinstance(value, dt.date) else dt.date.fromisoformat(value))
        if unit == "flag":
            yes, no = ("yes", "no") if lang == "en" else ("ja", "nein")
            return yes if value else no
        return glossary.text_value(str(value), lang)

    def plain(value: Any) -> str:
        """A list item's field: whole numbers without a fraction, others to four places (in
        the language's digits and minus sign), a date as running text writes it, a missing
        value as a dash."""
        if value is None:
            return "\u2013"
        if isinstance(value, float):
            return num(value) if value.is_integer() else num(value, 4)
        if isinstance(value, dt.datetime):
            return f"{day(value)}, {clock(value)}"
        if isinstance(value, dt.date):
            return day(value)
        return glossary.text_value(str(value), lang)

    def times(value: float) -> str:
        """A multiple in words a sentence can carry: "3.8 times", "das 3,8-Fache"."""
        figure = format_decimal(value, "0.0", locale=locale)
        return f"{figure} times" if lang == "en" else f"das {figure}-Fache"

    def cssstring(value: str) -> Markup:
        """Text safe inside a CSS string of a style sheet: characters that could end the string
        or the style element are CSS escapes (HTML entities are not read inside <style>)."""
        return Markup(re.sub(r"[\"'\\<>&\n\r]", lambda m: f"\\{ord(m.group()):x} ", str(value)))

    return {
        "cssstring": cssstring,
        "times": times,
        "money_dat": money_dat,
        "money_bare": money_bare,
        "kpi_name": lambda name: glossary.kpi_name(name, lang),
        "kpi_unit": lambda unit, name="": glossary.kpi_unit(unit, name, lang),
        "fact_label": lambda name: glossary.fact_label(name, lang),
        "formula": lambda fact: glossary.formula(fact, lang, day),
        "fact": fact,
        "plain": plain,
        "money": money,
        "pct": pct,
        "num": num,
        "compact": compact,
        "money_compact": money_compact,
        "day": day,
        "longday": longday,
        "clock": clock,
        "ratio": ratio,
        "fromjson": json.loads,
    }


def _printable(value: Any) -> Any:
    # Stored names and headlines are printed as given, less what a terminal would act on; the
    # HTML templates escape the rest, and render.markdown escapes it for Markdown.
    return strip_controls(value) if type(value) is str else value


@lru_cache(maxsize=16)
def environment(lang: Lang, currency: str, points: bool = False) -> Environment:
    """Jinja2 environment of one language and currency (autoescape for HTML, strict names);
    with ``points`` prices are index points, not money.

    Every printed value loses its terminal escapes (:func:`stockbrief.text.strip_controls`).
    """
    env = Environment(
        loader=PackageLoader("stockbrief.notes", "templates"),
        autoescape=select_autoescape(["html", "html.j2", "xml"]),
        undefined=StrictUndefined,
        finalize=_printable,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(_filters(lang, currency, points))
    return env


def sheet_environment(sheet: FactSheet, lang: Lang) -> Environment:
    """The environment of one brief: its language, its currency, points for an index."""
    return environment(lang, sheet.currency, sheet.value("instrument") == "index")


def _clean(text: str) -> str:
    # Fold template whitespace; keep the non-breaking spaces Babel puts in "155,74 $".
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def _wording(sheet: FactSheet) -> dict[str, str]:
    words: dict[str, str] = {}
    for n in (50, 200):
        margin = sheet.value(f"pct_vs_sma_{n}")
        if margin is not None:
            words[f"sma_{n}"] = wording.position(margin)
    if sheet.value("rel_volume") is not None:
        words["volume"] = wording.volume(sheet.value("rel_volume"))
    if sheet.value("change_1d") is not None:
        words["move"] = wording.move(sheet.value("change_1d"))
    if sheet.value("rsi_14") is not None:
        words["rsi"] = wording.rsi(sheet.value("rsi_14"))
    return words


def compose(
    sheet: FactSheet,
    events: pl.DataFrame,
    verdict: Verdict,
    lang: Lang,
    thesis: Thesis | None = None,
) -> tuple[str, list[Section]]:
    """The headline and the sections of a brief; the user's ``thesis``, when there is one, is
    quoted as theirs in a section of its own, just before the conclusion."""
    env = sheet_environment(sheet, lang)
    module = env.get_template(f"{lang}/brief.j2").module
    today = events.filter(pl.col("date") == sheet.as_of)
    context = {
        "f": {name: fact.value for name, fact in sheet.facts.items()},
        "w": _wording(sheet),
        "v": verdict,
        "name": sheet.name,
        "ticker": sheet.ticker,
        "day": sheet.as_of,
        "today": today.to_dicts(),
        "kinds": today["kind"].to_list(),
        "instrument": sheet.value("instrument") or "security",
        "min_cases": int(wording.WORDING["evidence_min_cases"]),
    }
    headline = _clean(str(module.headline(**context)))  # type: ignore[attr-defined]
    sections = []
    for key in SECTIONS:
        if key == "conclusion" and thesis is not None:
            quoted = {"author": thesis.author, "written_on": thesis.written_on}
            text = _clean(str(module.thesis(quoted, thesis.words)))  # type: ignore[attr-defined]
            sections.append(Section("thesis", _clean(str(module.title("thesis"))), text))  # type: ignore[attr-defined]
        text = _clean(str(getattr(module, key)(**context)))
        if text:
            sections.append(Section(key, _clean(str(module.title(key))), text))  # type: ignore[attr-defined]
    return headline, sections


def event_line(kind: str, value: float, detail: dict[str, Any], lang: Lang, currency: str) -> str:
    """The sentence a template gives one event (empty for an unknown kind)."""
    module = environment(lang, currency).get_template(f"{lang}/brief.j2").module
    return _clean(str(module.event(kind, value, detail)))  # type: ignore[attr-defined]
