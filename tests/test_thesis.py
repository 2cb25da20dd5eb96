"""The user's thesis: ingested from notes, quoted as the user's, never from after the brief."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from stockbrief import api
from stockbrief.errors import ConflictError, InputError
from stockbrief.notes import render
from stockbrief.notes.thesis import plain_words
from stockbrief.store import Store

DAY = dt.date(2026, 1, 2)
NOTE = """---
ticker: BABA
date: 2025-12-15
author: "Jane Doe"
---
# Why I hold it

**Cloud growth** is re-accelerating, while the market still prices a
[retailer](javascript:alert(1)) <script>alert(1)</script>.
"""


@pytest.fixture
def store(tmp_path: Path, yahoo30: Path) -> Store:
    db = Store(tmp_path / "t.duckdb")
    api.ingest("prices", [yahoo30 / "BABA.csv", yahoo30 / "JD.csv"], store=db, end=DAY)
    yield db
    db.close()


def note(folder: Path, text: str, name: str = "baba.md") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_brief_quotes_the_thesis_as_the_users_in_both_languages(
    store: Store, tmp_path: Path
) -> None:
    report = api.ingest("notes", [note(tmp_path, NOTE)], store=store)
    assert (report.rows, report.result.inserted) == (1, 1)
    english = api.brief("BABA", as_of=DAY, store=store)
    section = next(s for s in english.sections if s.key == "thesis")
    assert section.title == "Your thesis"
    assert section.text.startswith(
        'Your thesis (Jane Doe, written 15 December 2025): "Why I hold it Cloud growth is'
        " re-accelerating, while the market still prices a retailer alert(1)."
    )
    assert [s.key for s in english.sections][-2:] == ["thesis", "conclusion"]
    german = api.brief("BABA", as_of=DAY, lang="de", store=store)
    text = next(s.text for s in german.sections if s.key == "thesis")
    assert text.startswith("Ihre These (Jane Doe, verfasst am 15. Dezember 2025): „Why I hold it")
    # Quoted, not data: no fact carries it, the JSON keeps it apart with its raw text.
    data = english.to_json()
    assert not any("thesis" in name for name in data["facts"])
    assert data["thesis"]["written_on"] == "2025-12-15"
    assert data["thesis"]["text"].startswith("# Why I hold it")


def test_untrusted_thesis_is_escaped_in_html_and_plain_in_markdown(
    store: Store, tmp_path: Path
) -> None:
    api.ingest("notes", [note(tmp_path, NOTE)], store=store)
    brief = api.brief("BABA", as_of=DAY, store=store)
    page = render.html(brief, chart=False)
    assert "<script>" not in page
    assert "javascript:" not in page
    assert "Cloud growth is re-accelerating" in page
    md = render.markdown(brief)
    assert "**" not in md
    assert "javascript" not in md
    assert "# Why" not in md
    assert "Cloud growth is re-accelerating" in md


def test_no_thesis_from_after_the_brief_and_later_ones_change_nothing(
    store: Store, tmp_path: Path
) -> None:
    before = {
        fmt: render.render(api.brief("BABA", as_of=DAY, store=store), fmt) for fmt in ("md", "json")
    }
    later = note(tmp_path, NOTE.replace("2025-12-15", "2026-01-05"), "later.md")
    api.ingest("notes", [later], store=store)
    after = api.brief("BABA", as_of=DAY, store=store)
    assert after.thesis is None
    assert render.render(after, "md") == before["md"]
    assert render.render(after, "json") == before["json"]
    # Written on the day itself, it is quoted; the one written later still is not.
    api.ingest("notes", [note(tmp_path, NOTE.replace("2025-12-15", "2026-01-02"))], store=store)
    on_day = api.brief("BABA", as_of=DAY, store=store)
    assert on_day.thesis is not None
    assert on_day.thesis.written_on == DAY


def test_newest_thesis_by_the_day_wins_from_a_csv(store: Store, tmp_path: Path) -> None:
    table = tmp_path / "theses.csv"
    table.write_text(
        "ticker,written_on,author,text\n"
        "BABA,2025-11-03,,Old view: a value trap.\n"
        'baba,2025-12-01,Sam,"New view: cloud, AI and buybacks."\n'
        "JD,2025-12-20,,Price war hurts margins.\n",
        encoding="utf-8",
    )
    report = api.ingest("notes", [table], store=store)
    assert (report.rows, report.tickers) == (3, 2)
    assert (
        api.brief("BABA", as_of=DAY, store=store).thesis.text == "New view: cloud, AI and buybacks."
    )  # type: ignore[union-attr]
    assert api.brief("BABA", as_of=dt.date(2025, 11, 28), store=store).thesis.text.startswith(
        "Old view"
    )  # type: ignore[union-attr]
    assert api.brief("BABA", as_of=dt.date(2025, 10, 31), store=store).thesis is None
    again = api.ingest("notes", [table], store=store)
    assert (again.result.inserted, again.result.unchanged) == (0, 3)
    table.write_text(table.read_text().replace("value trap", "bargain"), encoding="utf-8")
    with pytest.raises(ConflictError, match="--replace"):
        api.ingest("notes", [table], store=store)
    assert api.ingest("notes", [table], store=store, replace=True).result.replaced == 1


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (NOTE.replace("ticker: BABA", "ticker: BABX"), "ticker", "did you mean BABA"),
        (
            NOTE.replace("2025-12-15", "2025-13-01"),
            "written_on",
            "line 3: '2025-13-01' is not a date",
        ),
        (NOTE.replace("2025-12-15", "2999-01-01"), "written_on", "line 3: dated after today"),
        (NOTE.split("---\n# Why")[0] + "---\n\n", "text", "line 6: no text after the front matter"),
        (NOTE.replace("author:", "writer:"), "writer", "line 4: unknown key 'writer'"),
        (NOTE.replace("date: 2025-12-15\n", ""), "written_on", "no date: line"),
        ("Cloud is great.\n", None, "line 1: a note starts with a front matter"),
        (NOTE.replace("---\n# Why", "# Why"), None, "line 7: '**Cloud growth** is re"),
        ("---\nticker: BABA\ndate: 2025-12-15\n", None, "the front matter is not closed"),
    ],
)
def test_bad_notes_are_refused_with_their_line(
    store: Store, tmp_path: Path, text: str, field: str | None, reason: str
) -> None:
    path = note(tmp_path, text)
    with pytest.raises(InputError) as caught:
        api.ingest("notes", [path], store=store)
    error = caught.value
    assert (error.file, error.field) == (str(path), field), str(error)
    assert reason in str(error)
    assert store.thesis("BABA", DAY) is None


def test_bad_table_rows_name_their_row(store: Store, tmp_path: Path) -> None:
    table = tmp_path / "theses.csv"
    table.write_text(
        "ticker,date,text\nBABA,2025-12-01,Fine.\nBABA,2025-12-02,\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        api.ingest("notes", [table], store=store)
    assert (caught.value.row, caught.value.field) == (2, "text")
    assert "empty value" in str(caught.value)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_ingests_notes_and_refuses_bad_ones_in_one_line(store: Store, tmp_path: Path) -> None:
    path = str(store.path)
    store.close()
    good = cli("ingest", "notes", str(note(tmp_path, NOTE)), "--store", path, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "notes: 1 row for 1 ticker from 1 file: 1 new" in good.stdout
    bad = note(tmp_path, NOTE.replace("2025-12-15", "15.12.2025"), "bad.md")
    refused = cli("ingest", "notes", str(bad), "--store", path, cwd=tmp_path)
    assert refused.returncode != 0
    assert "line 3: '15.12.2025' is not a date; expected YYYY-MM-DD" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    shown = cli(
        "brief", "BABA", "--as-of", "2026-01-02", "--format", "json", "--store", path, cwd=tmp_path
    )
    data = json.loads(shown.stdout)
    assert data["thesis"]["author"] == "Jane Doe"
    assert data["sections"][-2]["title"] == "Your thesis"


def test_plain_words_keep_words_and_drop_markup() -> None:
    assert plain_words("cross_above_sma_200 is ***big*** and _quiet_ ~~old~~") == (
        "cross_above_sma_200 is big and quiet old"
    )
    assert plain_words(
        "<scr<script>ipt>x</script> ![chart](http://a/b.png) [r][1]\n\n[1]: http://e"
    ) == ("x chart r")
