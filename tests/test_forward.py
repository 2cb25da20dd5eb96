"""A brief fit to forward: the facts in an appendix of their own pages, or left out with
``--no-facts``, and a chart whose marks a legend explains in the brief's language."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from stockbrief import api
from stockbrief.notes import render
from stockbrief.notes.chart import price_chart
from stockbrief.store import Store

DAY = dt.date(2026, 1, 2)
PEERS = ("BABA", "BIDU", "JD", "PDD", "BILI")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store, so that a command in another process can read it too."""
    from conftest import shared_path

    path = tmp_path_factory.mktemp("forward") / "f.duckdb"
    with Store(path) as db:
        files = [shared_path("yahoo-30", f"{t}.csv") for t in PEERS]
        api.ingest("prices", files, store=db, end=DAY)
    return path


def test_the_facts_are_an_appendix_after_the_note_and_can_be_left_out(store: Path) -> None:
    note = api.brief("BABA", as_of=DAY, store=store)
    page = render.html(note, chart=False)
    appendix = page.index('<section class="appendix" id="facts">')
    assert appendix > page.index('<section id="conclusion">')
    assert "Appendix: facts and sources" in page
    assert page.count("<tr>") == len(note.sheet.facts) + 1  # a row per fact and the header
    bare = render.html(note, chart=False, facts=False)
    assert '<section class="appendix"' not in bare
    assert "<table>" not in bare
    assert note.sections[-1].text.split(".")[0] in bare
    german = render.html(api.brief("BABA", as_of=DAY, lang="de", store=store), chart=False)
    assert "Anhang: Fakten und Quellen" in german
    data = json.loads(render.render(note, "json", facts=False))
    assert "facts" not in data
    assert data["sections"] == note.to_json()["sections"]


def test_brief_save_and_the_cli_leave_the_facts_out(store: Path, tmp_path: Path) -> None:
    note = api.brief("BABA", as_of=DAY, store=store)
    saved = note.save(tmp_path / "baba.html", facts=False).read_text(encoding="utf-8")
    assert '<section class="appendix"' not in saved
    assert "<img" in saved  # the chart stays
    full = note.save(tmp_path / "full.html").read_text(encoding="utf-8")
    assert '<section class="appendix"' in full
    command = ["brief", "BABA", "--as-of", "2026-01-02", "--format", "json", "--no-facts"]
    done = subprocess.run(
        [sys.executable, "-m", "stockbrief", *command, "--store", str(store)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "facts" not in json.loads(done.stdout)


def page_texts(html: str) -> list[str]:
    """The words printed on each PDF page."""
    weasyprint = pytest.importorskip("weasyprint")
    document = weasyprint.HTML(string=html).render()
    texts = []
    for page in document.pages:
        words = [box.text for box in page._page_box.descendants() if hasattr(box, "text")]
        texts.append(" ".join(words).lower())  # headings are printed in capitals
    return texts


def test_the_printed_appendix_starts_on_a_page_of_its_own(store: Path) -> None:
    note = api.brief("BABA", as_of=DAY, store=store)
    full = page_texts(render.html(note))
    bare = page_texts(render.html(note, facts=False))
    first_appendix = next(i for i, text in enumerate(full) if "appendix: facts and sources" in text)
    assert first_appendix >= 1
    assert "conclusion" not in full[first_appendix]
    assert "conclusion" in full[first_appendix - 1]
    assert len(bare) == first_appendix  # the note alone: the pages before the appendix
    assert all("page" in text for text in full)
    assert all("not investment advice" in text for text in full)


def test_the_chart_legend_names_the_drawn_marks_in_the_briefs_language(store: Path) -> None:
    note = api.brief("BABA", as_of=DAY, lang="de", store=store)
    marked = note.events.filter(pl.col("kind").str.starts_with("cross_above_sma"))
    figure = price_chart(note.history, marked, title="BABA", lang="de")
    legend = figure.axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "GD 50",
        "GD 200",
        "GD nach oben gekreuzt",
    ]
    english = price_chart(note.history, note.events, title="BABA", lang="en")
    labels = [t.get_text() for t in english.axes[0].get_legend().get_texts()]
    assert labels[:2] == ["SMA 50", "SMA 200"]
    assert labels[2].startswith("crossed above an average")
    assert labels[3].startswith("crossed below an average")
