"""Writing briefs: Markdown, HTML with an embedded chart, JSON and PDF. The only writer."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl

from stockbrief.errors import InputError, StockbriefError
from stockbrief.notes.document import Brief
from stockbrief.notes.narrative import environment, sheet_environment
from stockbrief.text import markdown_text

Format = Literal["md", "html", "json", "pdf"]
FORMATS: Final[tuple[Format, ...]] = ("md", "html", "json", "pdf")
CHART_SESSIONS: Final = 180
CHART_EVENTS: Final = (
    "cross_",
    "breakout_",
    "volume_surge",
    "large_move_",
    "golden_cross",
    "death_cross",
)
"""Event kinds marked on the chart; gaps, new highs and the indicator signals (stochastic
crosses, SAR flips, OBV divergences, Donchian breakouts) are too frequent to mark usefully."""


def markdown(brief: Brief) -> str:
    """The note in Markdown: headline, date line, sections.

    The narrative is plain text holding stored names and headlines as given, so every line is
    escaped here, in the one place Markdown is written (:func:`stockbrief.text.markdown_text`):
    a headline shows as written and cannot add a tag, link, image or heading.
    """
    day = environment(brief.lang, brief.sheet.currency).filters["day"](brief.as_of)
    who = (
        brief.ticker if brief.sheet.name == brief.ticker else f"{brief.sheet.name} ({brief.ticker})"
    )
    md = markdown_text
    lines = [f"# {md(brief.headline)}", "", f"*{md(f'{who}, {day}')}*", ""]
    for section in brief.sections:
        lines += [f"## {md(section.title)}", "", md(section.text), ""]
    return "\n".join(lines)


def chart_png(brief: Brief) -> bytes:
    """The price chart of a brief as PNG bytes (deterministic for the same brief)."""
    from matplotlib import pyplot as plt

    from stockbrief.notes.chart import price_chart

    marked = brief.events.filter(
        pl.any_horizontal(pl.col("kind").str.starts_with(prefix) for prefix in CHART_EVENTS)
    )
    figure = price_chart(
        brief.history,
        marked,
        title=brief.ticker
        if brief.sheet.name == brief.ticker
        else f"{brief.sheet.name} ({brief.ticker})",
        sessions=CHART_SESSIONS,
        lang=brief.lang,
    )
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    finally:
        plt.close(figure)
    return buffer.getvalue()


def html(brief: Brief, *, chart: bool = True, facts: bool = True) -> str:
    """A standalone HTML page; every text is escaped by the template's autoescape.

    ``facts`` adds the appendix of facts with their formulas and sources (printed on pages of
    its own); without it the page is the note alone, to forward.
    """
    template = sheet_environment(brief.sheet, brief.lang).get_template("html/brief.html.j2")
    image = base64.b64encode(chart_png(brief)).decode("ascii") if chart else None
    return template.render(
        brief=brief,
        chart=image,
        facts=brief.sheet.facts if facts else {},
        data=json.dumps(brief.to_json(), indent=2, ensure_ascii=False),
    )


def pdf(brief: Brief, *, facts: bool = True) -> bytes:
    """The HTML page printed to PDF with WeasyPrint (extra ``[pdf]``), with or without the
    facts appendix."""
    try:
        from weasyprint import HTML
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise StockbriefError(
            "PDF output needs WeasyPrint: pip install 'stockbrief[pdf]'"
        ) from None
    document: bytes = HTML(string=html(brief, facts=facts)).write_pdf()
    return document


def render(brief: Brief, fmt: Format, *, facts: bool = True) -> str | bytes:
    """The brief in one format, as text (md, html, json) or bytes (pdf).

    Markdown and HTML escape stored text for their medium; JSON keeps it raw (it is data, and the
    encoder escapes what JSON must). ``facts=False`` leaves out the facts: the appendix of HTML
    and PDF, the ``facts`` object of JSON (Markdown has none).
    """
    if fmt == "md":
        return markdown(brief)
    if fmt == "html":
        return html(brief, facts=facts)
    if fmt == "json":
        data = brief.to_json()
        if not facts:
            del data["facts"]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "pdf":
        return pdf(brief, facts=facts)
    raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", field="format")


def default_name(brief: Brief, fmt: Format) -> str:
    """``BABA-2026-01-02-en.md``: ticker, date, language, format."""
    safe = brief.ticker.replace("^", "").replace("/", "-")
    return f"{safe}-{brief.as_of.isoformat()}-{brief.lang}.{fmt}"


def write(brief: Brief, fmt: Format, out: Path, *, facts: bool = True) -> Path:
    """Write a brief to ``out`` (a file, or a folder to put a default-named file in); with
    ``facts=False`` without its facts (see :func:`render`)."""
    target = out / default_name(brief, fmt) if out.is_dir() or out.suffix == "" else out
    target.parent.mkdir(parents=True, exist_ok=True)
    content = render(brief, fmt, facts=facts)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")
    return target


def write_index(
    day: dt.date, entries: list[dict[str, Any]], moves: list[dict[str, Any]], folder: Path
) -> Path:
    """The day's index: ``index.html`` (escaped, linking each brief) and ``index.json``.

    ``moves`` has every watched ticker's close and change (see the daily run), so the index
    also lists the quiet ones and sums up the day among the watched.
    """
    folder.mkdir(parents=True, exist_ok=True)
    briefed = {e["ticker"] for e in entries}
    quiet = [m for m in moves if m["ticker"] not in briefed]
    changed = sorted((m for m in moves if m["change"] is not None), key=lambda m: m["change"])
    summary = {
        "rose": sum(1 for m in changed if m["change"] > 0),
        "fell": sum(1 for m in changed if m["change"] < 0),
        "no_bar": [m["ticker"] for m in moves if m["change"] is None],
        "best": changed[-1] if changed and changed[-1]["change"] > 0 else None,
        "worst": changed[0] if changed and changed[0]["change"] < 0 else None,
    }
    data = {
        "date": day.isoformat(),
        "watched": len(moves),
        "briefs": entries,
        "quiet": quiet,
        "summary": summary,
    }
    (folder / "index.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    template = environment("en", "USD").get_template("html/index.html.j2")
    page = folder / "index.html"
    page.write_text(
        template.render(day=day, entries=entries, watched=len(moves), quiet=quiet, summary=summary),
        encoding="utf-8",
    )
    return page
