"""Market capitalisation in the brief: SEC shares outstanding known on the day times the close,
in both languages, never from a filing made after the day."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import shared_path
from stockbrief import api
from stockbrief.notes import facts, render
from stockbrief.sources.edgar import EdgarSource
from stockbrief.store import Store

SEC = Path(__file__).parent / "data" / "edgar" / "aapl-2025-02-03.json"

OCTOBER_SHARES = 15_115_823_000
"""Apple's shares outstanding on 18 October 2024, from its 10-K filed 1 November 2024."""
JANUARY_SHARES = 14_935_826_000
"""On 17 January 2025, from its 10-Q filed 31 January 2025 (known from 1 February)."""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    raw = json.loads(SEC.read_text())
    path = tmp_path_factory.mktemp("cap") / "s.duckdb"
    db = Store(path)
    api.ingest("prices", [shared_path("yahoo-30", "AAPL.csv")], store=db)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EdgarSource, "fetch_raw", lambda self: copy.deepcopy(raw))
        api.fetch(["AAPL"], store=db, providers=["sec"])
    yield db
    db.close()


def close_on(day: str) -> float:
    frame = pl.read_csv(shared_path("yahoo-30", "AAPL.csv"), try_parse_dates=True)
    return float(frame.filter(pl.col("Date") == dt.date.fromisoformat(day))["Close"][0])


def market_cap(store: Store, day: str, lang: str = "en") -> tuple[dict[str, Any], str]:
    note = api.brief("AAPL", as_of=day, store=store, lang=lang)  # type: ignore[arg-type]
    text = render.markdown(note).replace("\xa0", " ")
    return note.to_json()["facts"].get("market_cap"), text


def test_the_day_of_a_filing_uses_the_count_known_before_it(store: Store) -> None:
    fact, text = market_cap(store, "2025-01-31")
    assert fact["value"] == pytest.approx(OCTOBER_SHARES * close_on("2025-01-31"), rel=1e-12)
    assert fact["unit"] == "currency"
    assert fact["source"] == {
        "table": "kpis",
        "tickers": ["AAPL"],
        "from": "2024-10-18",
        "to": "2025-01-31",
    }
    assert fact["formula"] == (
        "shares outstanding on 2024-10-18 (15,115,823,000, source sec, known from 2024-11-02)"
        " \u00d7 close on 2025-01-31"
    )
    assert "Market capitalisation: $3.5T (shares outstanding" in text  # 15.1 bn shares at $234.72


def test_the_next_session_uses_the_new_filing(store: Store) -> None:
    fact, _ = market_cap(store, "2025-02-03")
    assert fact["value"] == pytest.approx(JANUARY_SHARES * close_on("2025-02-03"), rel=1e-12)
    assert "shares outstanding on 2025-01-17" in fact["formula"]


def test_german_names_it_and_writes_german_numbers(store: Store) -> None:
    _, text = market_cap(store, "2025-02-03", "de")
    assert "Börsenwert (Marktkapitalisierung): 3,4 Bio. $ (Aktien im Umlauf" in text
    assert "Aktien im Umlauf: 14,9 Milliarden" in text  # the count itself, by its German name


def test_no_count_in_the_last_two_quarters_no_market_cap(store: Store) -> None:
    fact, text = market_cap(store, "2023-10-19")  # before the first count of the payload
    assert fact is None
    assert "Market capitalisation" not in text
    late, _ = market_cap(store, "2024-09-30")  # January's count is over 200 days old
    assert late is None


def test_a_split_after_the_count_is_applied() -> None:
    sheet = facts.FactSheet("NVDA", dt.date(2024, 6, 10), "USD", "NVIDIA Corporation")
    kpis = pl.DataFrame(
        {
            "name": ["Shares outstanding"],
            "period_end": [dt.date(2024, 5, 17)],
            "value": [2_464_000_000.0],
            "source": ["sec"],
            "known_at": [dt.datetime(2024, 5, 30, tzinfo=dt.UTC)],
        }
    )
    actions = pl.DataFrame({"date": [dt.date(2024, 6, 10)], "kind": ["split"], "value": [10.0]})
    facts.add_market_cap(sheet, kpis, actions, 121.79)
    fact = sheet.facts["market_cap"]
    assert fact.value == pytest.approx(24_640_000_000 * 121.79)
    assert "\u00d7 10 for the splits since \u00d7 close on 2024-06-10" in fact.formula
