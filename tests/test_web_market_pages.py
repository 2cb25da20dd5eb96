"""The market table in pages: sorted, filtered by sector and paged on the server over the 30
real tickers, the column chooser in a real browser, and a changed store read afresh."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

import polars as pl
from fastapi.testclient import TestClient

from helpers import serving
from stockbrief import api
from stockbrief.store import Store
from stockbrief.web import create_app, market
from test_web_market import EXAMPLE, _open, artifacts, browser  # noqa: F401

HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 30 real tickers; the example's securities, and one with a hostile name and sector."""
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    folder = tmp_path_factory.mktemp("pages")
    path = folder / "pages.duckdb"
    api.ingest(
        "prices",
        sorted(prices.glob("*.csv")),
        store=path,
        end=dt.date(2026, 3, 25),
        basis="adjusted",
    )
    hostile = folder / "hostile.csv"
    pl.DataFrame(
        {
            "ticker": ["TLT"],
            "name": [HOSTILE],
            "exchange": ["XNAS"],
            "currency": ["USD"],
            "sector": ["<b>Bonds</b> & co"],
            "industry": ["Bonds"],
            "peer_group": ["bonds"],
        }
    ).write_csv(hostile)
    api.ingest("securities", [EXAMPLE / "securities.csv", hostile], store=path)
    api.refresh(path)
    return path


@pytest.fixture(scope="module")
def client(store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as test_client:
        yield test_client


def _tickers(html: str) -> list[str]:
    return re.findall(r'<tr data-ticker="([^"]+)">', html)


def _by(frame: pl.DataFrame, column: str, descending: bool) -> list[str]:
    return frame.sort([column, "ticker"], descending=[descending, False], nulls_last=True)[
        "ticker"
    ].to_list()


def test_pages_of_the_whole_table_sorted_on_the_server(client: TestClient, store: Path) -> None:
    table = market.table(store, None)
    assert table.height > 20  # the Hong Kong listings may not trade on the last session
    by_change = _by(table, "change", descending=True)
    first = client.get("/", params={"sort": "change", "per": 10}).text
    second = client.get("/", params={"sort": "change", "per": 10, "page": 2}).text
    assert _tickers(first) == by_change[:10]  # the largest gains of all, not of a page
    assert _tickers(second) == by_change[10:20]
    assert f"Rows 11&ndash;20 of {table.height:,} · page 2 of" in second
    assert 'href="/?sort=change&amp;order=desc&amp;page=3&amp;per=10"' in second  # next page
    rising = client.get("/", params={"sort": "rsi_14", "order": "asc", "per": 10}).text
    assert _tickers(rising) == _by(table, "rsi_14", descending=False)[:10]
    last = client.get("/", params={"per": 10, "page": 99}).text  # past the end: the last page
    assert _tickers(last) == sorted(table["ticker"])[(len(table) - 1) // 10 * 10 :]


def test_the_api_gives_the_same_pages_as_data(client: TestClient, store: Path) -> None:
    table = market.table(store, None)
    asked = {"sort": "to_sma_200", "order": "asc", "per": 10, "page": 2}
    got = client.get("/api/market", params=asked).json()
    assert (got["total"], got["page"], got["per"]) == (table.height, 2, 10)
    assert got["pages"] == -(-table.height // 10)
    assert [r["ticker"] for r in got["rows"]] == _by(table, "to_sma_200", False)[10:20]
    row = got["rows"][0]
    stored = table.filter(pl.col("ticker") == row["ticker"]).row(0, named=True)
    assert row["to_sma_200"] == pytest.approx(stored["to_sma_200"], rel=1e-6)
    assert row["events"] == stored["events"]
    assert client.get("/api/market", params={"sort": "price"}).status_code == 400


def test_a_sector_narrows_table_movers_and_breadth(client: TestClient, store: Path) -> None:
    html = client.get("/", params={"sector": "Consumer Cyclical"}).text
    assert _tickers(html) == ["BABA", "JD", "PDD"]  # the example's consumer-cyclical names
    advancing = re.search(r"<dt>Advancing</dt><dd>(\d+) of (\d+)</dd>", html)
    assert advancing is not None
    assert advancing[2] == "3"
    assert '<option value="Consumer Cyclical" selected>' in html
    unknown = client.get("/", params={"sector": "Shipping"})
    assert unknown.status_code == 404
    assert "no ticker of sector &#39;Shipping&#39; here; sectors:" in unknown.text


def test_bad_paging_parameters_say_what_is_allowed(client: TestClient) -> None:
    bad_sort = client.get("/", params={"sort": "price"})
    assert bad_sort.status_code == 400
    assert "cannot sort by &#39;price&#39;; sort by one of ticker, name, close" in bad_sort.text
    bad_size = client.get("/", params={"per": 7})
    assert bad_size.status_code == 400
    assert "7 rows a page: choose 10, 25, 50" in bad_size.text
    assert client.get("/", params={"order": "up"}).status_code == 400
    assert client.get("/", params={"page": 0}).status_code == 422


def test_hostile_names_and_sectors_stay_text(client: TestClient) -> None:
    html = client.get("/", params={"sort": "name", "per": 100}).text
    assert HOSTILE not in html
    assert "<b>Bonds</b>" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    link = "sector=%3Cb%3EBonds%3C%2Fb%3E+%26+co"  # the sector's filter link, quoted
    assert link in html
    assert _tickers(client.get(f"/?{link}").text) == ["TLT"]


def test_a_changed_store_is_read_afresh(store: Path, client: TestClient) -> None:
    kept = market.snapshot(store, None, ())
    assert market.snapshot(store, None, ()) is kept  # unchanged: no second read
    with Store(store) as db:
        db.save_watchlist("Bonds", ["TLT", "GLD"])
    try:
        assert market.snapshot(store, None, ()).watchlists["Bonds"] == ["TLT", "GLD"]
        assert _tickers(client.get("/", params={"watchlist": "Bonds"}).text) == ["TLT", "GLD"]
    finally:
        with Store(store) as db:
            db.delete_watchlist("Bonds")
    assert "Bonds" not in market.snapshot(store, None, ()).watchlists


# -- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    with serving(store) as (host, port):
        yield f"http://{host}:{port}"


def test_page_through_and_choose_columns_in_chromium(
    browser: Any,  # noqa: F811
    server: str,
    store: Path,
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    page = _open(browser, f"{server}/?per=10", problems, viewport={"width": 1400, "height": 900})
    rows = "rows => rows.map(r => r.dataset.ticker)"
    table = market.table(store, None)
    with page.expect_navigation():
        page.click("table.market th[data-column=volume] a")
    by_volume = _by(table, "volume", descending=True)
    assert page.eval_on_selector_all("table.market tbody tr", rows) == by_volume[:10]
    with page.expect_navigation():
        page.click("nav.pager a[rel=next] >> nth=0")
    assert page.eval_on_selector_all("table.market tbody tr", rows) == by_volume[10:20]
    # Hide the volume and events columns: their headings and cells go, and stay gone.
    page.click("details.columns summary")
    page.uncheck("details.columns input[value=volume]")
    page.uncheck("details.columns input[value=events]")
    visible = "cells => cells.filter(c => c.offsetParent !== null).map(c => c.textContent.trim())"
    headings = page.eval_on_selector_all("table.market thead th", visible)
    assert headings[:4] == ["ticker", "name", "close", "change"]
    assert "volume" not in headings
    assert "events" not in headings
    assert "rel. volume" in headings
    page.reload()
    assert page.eval_on_selector_all("table.market thead th", visible) == headings
    assert not page.is_checked("details.columns input[value=volume]")
    cells = page.eval_on_selector_all("table.market tbody tr:first-child td", visible)
    assert len(cells) == len(headings)
    page.screenshot(path=str(artifacts / "market-columns-1400.png"), full_page=True)
    phone = _open(browser, f"{server}/?per=10", problems, viewport={"width": 390, "height": 844})
    phone.click("details.columns summary")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.eval_on_selector("details.columns fieldset", "e => e.getBoundingClientRect().right")
    assert box <= 390
    phone.uncheck("details.columns input[value=name]")
    assert phone.eval_on_selector("table.market td[data-column=name]", "e => e.hidden")
    phone.screenshot(path=str(artifacts / "market-columns-390.png"), full_page=True)
    assert problems == []
