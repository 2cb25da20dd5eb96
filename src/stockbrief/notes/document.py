"""A brief as data: facts, events, verdict, sections and text, before any file is written."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from stockbrief.notes.facts import FactSheet
from stockbrief.notes.narrative import Lang, Section
from stockbrief.notes.verdict import Verdict


@dataclass(frozen=True)
class Brief:
    """Everything a market note says about one ticker on one session, and where it came from."""

    ticker: str
    as_of: dt.date
    lang: Lang
    headline: str
    sheet: FactSheet
    events: pl.DataFrame
    verdict: Verdict
    sections: list[Section]
    history: pl.DataFrame
    """Bars with indicators up to the as-of session, for the chart."""

    @property
    def text(self) -> str:
        """The note as plain text: headline, then each section."""
        parts = [self.headline, *(f"{s.title}\n{s.text}" for s in self.sections)]
        return "\n\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The JSON form: facts with sources and formulas, events, verdict, sections, text."""
        events = [
            {**row, "date": row["date"].isoformat(), "detail": json.loads(row["detail"] or "{}")}
            for row in self.events.iter_rows(named=True)
        ]
        return {
            "ticker": self.ticker,
            "as_of": self.as_of.isoformat(),
            "lang": self.lang,
            "headline": self.headline,
            "facts": self.sheet.to_json(),
            "events": events,
            "verdict": self.verdict.to_json(),
            "sections": [{"key": s.key, "title": s.title, "text": s.text} for s in self.sections],
            "text": self.text,
        }
