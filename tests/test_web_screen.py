"""The screener page: the filter builder writes the expression, results sort, CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.testclient import TestClient

from stockbrief import api
from test_web_market import _open, artifacts, browser, client, server, store  # noqa: F401

DAY = dt.date(2026, 1, 2)


def test_csv_export_is_the_screens_rows(client: TestClient, store: Path) -> None:  # noqa: F811
    response = client.get(
        "/api/screen", params={"q": "close > sma_200", "as_of": "2026-01-02", "format": "csv"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = api.screen("close > sma_200", as_of=DAY, store=store)
    assert [r["ticker"] for r in rows] == expected["ticker"].to_list()
    assert {"ticker", "date", "close", "sma_200"} <= set(rows[0])


def test_builder_sort_and_download_in_chromium(
    browser: Any,  # noqa: F811
    server: str,  # noqa: F811
    store: Path,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    page = _open(browser, f"{server}/screen?as_of=2026-01-02", problems)
    page.select_option("#screen-builder select[name=field]", "rsi_14")
    page.select_option("#screen-builder select[name=op]", ">")
    page.fill("#screen-builder input[name=value]", "40")
    page.click("#screen-builder button[type=submit]")
    page.select_option("#screen-builder select[name=field]", "rel_volume")
    page.select_option("#screen-builder select[name=op]", ">=")
    page.fill("#screen-builder input[name=value]", "0.5")
    page.click("#screen-builder button[type=submit]")
    expression = "rsi_14 > 40 and rel_volume >= 0.5"
    assert page.input_value("form.screen input[name=q]") == expression
    with page.expect_navigation():
        page.click("form.screen button[type=submit]")
    found = api.screen(expression, as_of=DAY, store=store)
    rows = "rows => rows.map(r => r.dataset.ticker)"
    assert sorted(page.eval_on_selector_all("table.results tbody tr", rows)) == sorted(
        found["ticker"]
    )
    column = found.columns.index("rsi_14")  # the ticker is the first column in both
    page.click(f"table.results th:nth-child({column + 1}) button")
    by_rsi = found.sort("rsi_14", descending=True)["ticker"].to_list()
    assert page.eval_on_selector_all("table.results tbody tr", rows) == by_rsi
    link = page.get_attribute("#screen-csv", "href") or ""
    assert "format=csv" in link
    page.screenshot(path=str(artifacts / "screen-1400.png"), full_page=True)
    assert problems == []


def test_choose_columns_save_load_and_delete_a_screen_in_chromium(
    browser: Any,  # noqa: F811
    server: str,  # noqa: F811
    store: Path,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    expression = "rsi_14 > 30 and rel_volume > 0.2"
    page = _open(browser, f"{server}/screen?q={expression}&as_of=2026-01-02", problems)
    found = api.screen(expression, as_of=DAY, store=store)
    rows = "rows => rows.map(r => r.dataset.ticker)"
    visible = "cells => cells.filter(c => c.offsetParent !== null).map(c => c.textContent.trim())"
    assert page.eval_on_selector_all("table.results thead th", visible) == list(found.columns)
    page.click("details.columns summary")
    page.uncheck("details.columns input[value=close]")
    assert "close" not in page.eval_on_selector_all("table.results thead th", visible)
    page.click("table.results th[data-column=rel_volume] button")  # largest first
    by_volume = found.sort("rel_volume", descending=True)["ticker"].to_list()
    assert page.eval_on_selector_all("table.results tbody tr", rows) == by_volume
    page.fill("#screen-save input[name=name]", "<b>bad</b>")
    page.click("#screen-save button[type=submit]")  # the browser's pattern check refuses it
    assert (page.text_content("#screen-save-status") or "") == ""
    page.fill("#screen-save input[name=name]", "Busy names")
    with page.expect_navigation():
        page.click("#screen-save button[type=submit]")
    assert "saved=Busy+names" in page.url
    [saved] = api.saved_screens(store=store)
    assert (saved.expression, saved.sort) == (expression, "rel_volume")
    assert saved.columns == tuple(c for c in found.columns if c not in ("ticker", "close"))
    # The saved screen comes back as it was left: its sort and its columns.
    assert page.eval_on_selector_all("table.results tbody tr", rows) == by_volume
    headings = page.eval_on_selector_all("table.results thead th", visible)
    assert headings == [c for c in found.columns if c != "close"]
    assert page.input_value("form.screen input[name=q]") == expression
    assert page.text_content("#saved-screens a") == "Busy names"
    page.screenshot(path=str(artifacts / "screen-saved-1400.png"), full_page=True)
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#saved-screens button.delete-screen")
    assert api.saved_screens(store=store) == []
    assert "No saved screens yet" in (page.text_content("#saved-screens") or "")
    assert problems == []


def test_screen_page_fits_a_phone(
    browser: Any,  # noqa: F811
    server: str,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    page = _open(
        browser,
        f"{server}/screen?q=close > 0&as_of=2026-01-02",
        problems,
        viewport={"width": 390, "height": 844},
    )
    page.click("details.columns summary")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    right = page.eval_on_selector(
        "details.columns fieldset", "e => e.getBoundingClientRect().right"
    )
    assert right <= 390
    page.uncheck("details.columns input[value=date]")
    assert page.eval_on_selector("table.results td[data-column=date]", "e => e.hidden")
    page.screenshot(path=str(artifacts / "screen-390.png"), full_page=True)
    assert problems == []
