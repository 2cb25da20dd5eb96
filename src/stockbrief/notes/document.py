"""A brief as data: facts, events, verdict, sections and text, before any file is written."""

from __future__ import annotations

import datetime as dt
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from stockbrief.notes.facts import FactSheet
from stockbrief.notes.narrative import Lang, Section
from stockbrief.notes.thesis import Thesis
from stockbrief.notes.verdict import Verdict

if TYPE_CHECKING:
    from stockbrief.notes.render import Format

SUFFIX_FORMATS: Final[dict[str, Format]] = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".pdf": "pdf",
}
"""File suffixes :meth:`Brief.save` reads the format from."""

FACT_COLUMNS: Final = ("name", "value", "text", "unit", "source", "formula")


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
    thesis: Thesis | None = None
    """The user's newest thesis written by the as-of session: quoted as theirs, not a fact."""

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
        } | ({"thesis": self.thesis.to_json()} if self.thesis else {})

    @property
    def facts(self) -> pl.DataFrame:
        """Every fact as a row, to filter and join like any other frame.

        ``name``, ``value`` (the number; null for a date, a text, a list), ``text`` (the value
        as the JSON facts write it), ``unit``, ``source`` (table, tickers, first and last date
        read, and the price basis when known) and ``formula``.
        """
        rows = []
        for name, fact in self.sheet.facts.items():
            plain = fact.to_json()["value"]
            number = plain if isinstance(plain, int | float) else None
            where = fact.source
            span = f"{where.start or ''}..{where.end or ''}" if where.start or where.end else ""
            source = " ".join(filter(None, (where.table, ",".join(where.tickers), span)))
            if where.basis:
                source += f" ({where.basis})"
            text = plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)
            rows.append((name, number, text, fact.unit, source, fact.formula))
        schema = dict.fromkeys(FACT_COLUMNS, pl.String) | {"value": pl.Float64}
        return pl.DataFrame(rows, schema=schema, orient="row")

    def save(self, path: str | Path, format: Format | None = None, *, facts: bool = True) -> Path:
        """Write the brief to a file and return its path.

        The format is ``format`` when given, else the file's suffix (``.md``, ``.html``,
        ``.json``, ``.pdf``); a folder gets a file named ``BABA-2026-01-02-en.md`` in it.
        PDF needs the extra ``[pdf]``. ``facts=False`` leaves out the facts (the appendix of
        HTML and PDF, the facts object of JSON), to forward the note alone.
        """
        from stockbrief.errors import InputError
        from stockbrief.notes import render

        target = Path(path)
        if format is None:
            found = SUFFIX_FORMATS.get(target.suffix.lower())
            if found is None:
                known = ", ".join(SUFFIX_FORMATS)
                said = f"suffix {target.suffix!r}" if target.suffix else "no suffix"
                raise InputError(
                    f"{target}: {said}, so no format to write; end the name with one of "
                    f"{known} or pass format='md', 'html', 'json' or 'pdf'",
                    field="format",
                )
            format = found
        elif format not in render.FORMATS:
            raise InputError(
                f"unknown format {format!r}; use one of {', '.join(render.FORMATS)}",
                field="format",
            )
        return render.write(self, format, target, facts=facts)

    def _repr_markdown_(self) -> str:
        """The note in Markdown, for notebooks that show Markdown (text only, no chart)."""
        from stockbrief.notes import render

        return render.markdown(self)

    def _repr_html_(self) -> str:
        """The HTML brief with its chart, framed so its page styles stay out of the notebook."""
        from stockbrief.notes import render

        page = render.html(self)
        title = html.escape(f"{self.ticker} {self.as_of.isoformat()}", quote=True)
        return (
            f'<iframe title="{title}" sandbox srcdoc="{html.escape(page, quote=True)}" '
            'style="width: 100%; height: 48rem; border: 1px solid #ddd"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<Brief {self.ticker} {self.as_of.isoformat()} ({self.lang}): {self.headline}>"
