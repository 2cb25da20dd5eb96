"""The library as a notebook user meets it: any date they have, results that show themselves."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import stockbrief as sb
from stockbrief.calendar import as_date, required_date
from stockbrief.errors import InputError, StockbriefError
from stockbrief.notes import render
from stockbrief.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
DAY = dt.date(2026, 1, 2)
HOLIDAY = dt.date(2026, 1, 19)  # Martin Luther King Jr. Day: NYSE closed, Hong Kong trading
TICKERS = ("BABA", "BIDU", "JD", "PDD", "BILI", "0700.HK")

SAME_DAY: list[object] = [
    "2026-01-02",
    " 2026-01-02 ",
    "2026-01-02T21:00:00",
    DAY,
    dt.datetime(2026, 1, 2, 23, 59),
    dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.UTC),
    np.datetime64("2026-01-02"),
    np.datetime64("2026-01-02T15:30:00.000000000"),
    pd.Timestamp("2026-01-02"),
    pd.Timestamp("2026-01-02 16:00", tz="America/New_York"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from conftest import shared_path

    yahoo = shared_path("yahoo-30")
    db = Store(tmp_path_factory.mktemp("library") / "lib.duckdb")
    sb.ingest("prices", [yahoo / f"{t}.csv" for t in TICKERS], store=db, end="2026-01-21")
    for kind in ("securities", "ratings", "consensus"):
        sb.ingest(kind, [EXAMPLE / f"{kind}.csv"], store=db)  # type: ignore[arg-type]
    sb.ingest("news", [EXAMPLE / "news.jsonl"], store=db)
    yield db
    db.close()


@pytest.fixture(scope="module")
def note(store: Store) -> sb.Brief:
    return sb.brief("BABA", as_of=pd.Timestamp("2026-01-02"), store=store)


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", SAME_DAY, ids=lambda v: f"{type(v).__name__}:{v}")
def test_every_kind_of_date_means_its_own_calendar_day(value: object) -> None:
    assert as_date(value, "as_of") == DAY
    assert required_date(value, "since") == DAY


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-13-02", "'2026-13-02' is not a date; expected YYYY-MM-DD"),
        ("yesterday", "'yesterday' is not a date"),
        (20260102, "20260102 (int) is not a date"),
        (True, "True (bool) is not a date"),
        (pd.NaT, "a missing date (NaT or NaN)"),
        (np.datetime64("NaT"), "is not a date"),
        (float("nan"), "a missing date (NaT or NaN)"),
    ],
)
def test_anything_else_is_one_error_naming_the_parameter(value: object, words: str) -> None:
    with pytest.raises(InputError, match=r"^field 'until': ") as caught:
        as_date(value, "until")
    assert words in str(caught.value)
    assert caught.value.field == "until"
    with pytest.raises(InputError, match="a date is required"):
        required_date(None, "since")


def test_reading_a_date_imports_neither_numpy_nor_pandas() -> None:
    code = (
        "import sys, datetime as dt\n"
        "from stockbrief.calendar import as_date\n"
        "assert as_date('2026-01-02', 'as_of') == dt.date(2026, 1, 2)\n"
        "assert as_date(dt.datetime(2026, 1, 2, 5), 'as_of') == dt.date(2026, 1, 2)\n"
        "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


BAD_DATE = "2026-02-30"
DATE_PARAMETERS: list[tuple[str, Callable[..., Any], str]] = [
    ("brief", lambda s, d: sb.brief("BABA", as_of=d, store=s), "as_of"),
    ("events", lambda s, d: sb.events(["BABA"], as_of=d, store=s), "as_of"),
    ("events since", lambda s, d: sb.events(["BABA"], since=d, store=s), "since"),
    ("indicators", lambda s, d: sb.indicators("BABA", as_of=d, store=s), "as_of"),
    ("screen", lambda s, d: sb.screen("close > 0", as_of=d, store=s), "as_of"),
    ("news", lambda s, d: sb.news("BABA", as_of=d, store=s), "as_of"),
    ("analyst_view", lambda s, d: sb.analyst_view("BABA", as_of=d, store=s), "as_of"),
    ("kpis", lambda s, d: sb.kpis("BABA", as_of=d, store=s), "as_of"),
    ("prices start", lambda s, d: sb.prices("BABA", start=d, store=s), "start"),
    ("prices end", lambda s, d: sb.prices("BABA", end=d, store=s), "end"),
    ("study", lambda s, d: sb.study("large_move_up", until=d, store=s), "until"),
    ("check", lambda s, d: sb.check("BABA closed at $155.74.", "BABA", as_of=d, store=s), "as_of"),
    ("screen_coverage", lambda s, d: sb.screen_coverage(d, store=s), "as_of"),
    ("universe_evidence", lambda s, d: sb.universe_evidence(s, d), "day"),
    ("delete", lambda s, d: sb.delete("BABA", start=d, dry_run=True, store=s), "start"),
    ("fetch", lambda s, d: sb.fetch(["BABA"], since=d, store=s), "since"),
    ("ingest", lambda s, d: sb.ingest("prices", [EXAMPLE / "x.csv"], end=d, store=s), "end"),
    (
        "daily_run",
        lambda s, d: sb.daily_run(EXAMPLE / "none.txt", Path("out"), as_of=d, store=s),
        "as_of",
    ),
]


@pytest.mark.parametrize(("name", "call", "field"), DATE_PARAMETERS, ids=lambda v: str(v))
def test_every_public_date_parameter_refuses_a_bad_date_by_name(
    store: Store, name: str, call: Callable[..., Any], field: str
) -> None:
    with pytest.raises(InputError, match=rf"^field '{field}': '{BAD_DATE}' is not a date"):
        call(store, BAD_DATE)


def test_date_strings_and_objects_give_the_same_answers(store: Store) -> None:
    """The calls that failed on a string: the same rows for every form of the date."""
    calls: dict[str, Callable[[object], Any]] = {
        "events": lambda d: sb.events(["BABA"], as_of=d, since="2025-12-01", store=store),
        "screen": lambda d: sb.screen("close > sma_200", as_of=d, store=store),
        "news": lambda d: sb.news("BABA", as_of=d, store=store),
        "kpis": lambda d: sb.kpis("BABA", as_of=d, store=store),
        "prices": lambda d: sb.prices("BABA", start="2025-12-29", end=d, store=store),
    }
    for name, call in calls.items():
        expected = call(DAY)
        for value in ("2026-01-02", np.datetime64("2026-01-02"), pd.Timestamp("2026-01-02")):
            assert call(value).equals(expected), (name, value)
    closes = sb.prices("BABA", start="2025-12-31", end=np.datetime64("2026-01-02"), store=store)
    assert closes["date"].to_list() == [dt.date(2025, 12, 31), DAY]
    assert closes["close"][-1] == pytest.approx(155.74, abs=0.005)
    view = sb.analyst_view("BABA", as_of="2026-01-02", store=store)
    assert view == sb.analyst_view("BABA", as_of=dt.datetime(2026, 1, 2, 12), store=store)


# -- briefs ----------------------------------------------------------------------------------


def test_a_brief_shows_itself_in_a_notebook(note: sb.Brief) -> None:
    assert note.as_of == DAY
    assert note._repr_markdown_() == render.markdown(note)
    assert note._repr_markdown_().startswith(f"# {note.headline}")
    page = note._repr_html_()
    assert page.startswith('<iframe title="BABA 2026-01-02" sandbox srcdoc="&lt;!doctype html&gt;')
    assert "data:image/png;base64," in page  # the chart
    assert "<style>" not in page  # the page's styles stay inside the frame
    assert repr(note) == f"<Brief BABA 2026-01-02 (en): {note.headline}>"


def test_the_facts_are_a_frame_with_value_unit_source_and_formula(note: sb.Brief) -> None:
    frame = note.facts
    assert frame.columns == ["name", "value", "text", "unit", "source", "formula"]
    assert frame.height == len(note.sheet.facts)
    close = frame.filter(pl.col("name") == "close").row(0, named=True)
    assert close["value"] == pytest.approx(155.74, abs=0.005)
    assert close["unit"] == "currency"
    assert close["source"].startswith("bars BABA ")
    assert close["source"].endswith("..2026-01-02 (traded)")
    assert close["formula"]
    volume = frame.filter(pl.col("name") == "volume").row(0, named=True)
    assert volume["value"] == 15_778_300
    dates = frame.filter(pl.col("unit") == "date")
    assert dates.height
    assert dates["value"].is_null().all()
    assert dates["text"].str.contains(r"^\d{4}-\d\d-\d\d$").all()


def test_save_takes_the_format_from_the_suffix(note: sb.Brief, tmp_path: Path) -> None:
    md = note.save(tmp_path / "baba.md")
    assert md.read_text(encoding="utf-8") == render.markdown(note)
    page = note.save(str(tmp_path / "baba.HTML"))
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    data = json.loads(note.save(tmp_path / "baba.json").read_text(encoding="utf-8"))
    assert data["facts"]["close"]["value"] == pytest.approx(155.74, abs=0.005)
    named = note.save(tmp_path, format="json")
    assert named == tmp_path / "BABA-2026-01-02-en.json"
    forced = note.save(tmp_path / "note.txt", format="md")
    assert forced.read_text(encoding="utf-8") == md.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "fmt", "words"),
    [
        ("note.txt", None, "suffix '.txt', so no format to write; end the name with one of .md"),
        ("note", None, "no suffix, so no format to write"),
        ("note.md", "docx", "unknown format 'docx'; use one of md, html, json, pdf"),
    ],
)
def test_save_refuses_what_it_cannot_write(
    note: sb.Brief, tmp_path: Path, name: str, fmt: Any, words: str
) -> None:
    with pytest.raises(InputError, match="field 'format'") as caught:
        note.save(tmp_path / name, format=fmt)
    assert words in str(caught.value)
    assert list(tmp_path.iterdir()) == []


# -- frames ----------------------------------------------------------------------------------


def test_prices_in_the_shape_of_yfinance(store: Store) -> None:
    frame = sb.prices("BABA", start="2025-12-29", end="2026-01-02", style="yfinance", store=store)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.name == "Date"
    assert frame.index[-1] == pd.Timestamp("2026-01-02")
    assert frame.loc["2026-01-02", "Close"] == pytest.approx(155.74, abs=0.005)
    assert frame.loc["2026-01-02", "Volume"] == 15_778_300
    assert frame["Volume"].dtype == np.int64
    native = sb.prices("BABA", start="2025-12-29", end="2026-01-02", store=store)
    assert native.to_pandas()["close"].tolist() == frame["Close"].tolist()


def test_prices_say_what_is_wrong_with_the_style(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match="unknown style 'pandas'; use one of polars, yfinance"):
        sb.prices("BABA", style="pandas", store=store)  # type: ignore[call-overload]
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pandas" else real(name, *a)
    )
    with pytest.raises(StockbriefError, match="pip install pandas"):
        sb.prices("BABA", style="yfinance", store=store)


def test_a_screen_result_names_its_screen_and_session(store: Store) -> None:
    found = sb.screen("close > sma_200", as_of="2026-01-02", store=store)
    assert isinstance(found, pl.DataFrame)
    assert found.session == DAY
    assert (found.traded, found.universe) == (6, 6)
    tickers = found["ticker"].to_list()
    assert tickers == ["0700.HK", "BABA", "BIDU", "BILI"]  # BABA: 155.74 over 137.00
    lines = found.summary().split("\n")
    assert lines[0] == "Screen close > sma_200"
    assert lines[1] == "Session: 2026-01-02 (6 of 6 tickers traded)"
    assert lines[2] == f"Matches: {len(tickers)} ({', '.join(tickers)})"
    html = found._repr_html_()
    assert html.startswith("<p>Screen close &gt; sma_200<br>Session: 2026-01-02")
    assert "<table" in html
    assert found.filter(pl.col("ticker") == tickers[0]).height == 1  # still a frame


def test_a_screen_on_a_holiday_says_who_was_not_screened(store: Store) -> None:
    found = sb.screen("golden-cross", as_of=pd.Timestamp("2026-01-19"), store=store)
    lines = found.summary().split("\n")
    assert lines[0].startswith("Screen golden-cross: ")
    assert lines[1] == (
        "Session: 2026-01-19 (1 of 6 tickers traded; 5 had no bar that day and were not screened)"
    )


def test_a_study_result_shows_itself(store: Store) -> None:
    result = sb.study(
        "large_move_up", horizons=(5, 20), until=np.datetime64("2026-01-02"), store=store
    )
    assert result.until == DAY
    n5, n20 = result.row(5)["n"], result.row(20)["n"]
    assert n5 > 0
    assert repr(result) == f"<StudyResult large_move_up: 5d n={n5:,}, 20d n={n20:,}>"
    text = result.summary()
    assert text.splitlines()[0].strip() == "Event study: large_move_up"
    page = result._repr_html_()
    assert page.startswith("<h4>Event study: large_move_up</h4>")
    assert f"<tr><td>5</td><td>{n5:,}</td>" in page
    assert "<details><summary>Method</summary>" in page


def test_a_screen_before_any_bar_says_nothing_was_screened(store: Store) -> None:
    found = sb.screen("close > 0", as_of=dt.date(2020, 1, 2), store=store)
    assert found.is_empty()
    assert found.session is None
    assert found.summary() == (
        "Screen close > 0\nNo bars stored on or before the date: nothing was screened"
    )
