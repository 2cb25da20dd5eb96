"""The ticker chart: its markers are the ticker's events, its ranges, log scale and comparison
work in a real browser, dark mode follows the system, and the API's numbers are rounded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

import polars as pl
from fastapi.testclient import TestClient

from stockbrief import api
from test_web_market import _open, artifacts, browser, client, server, store  # noqa: F401

DAY = dt.date(2026, 1, 2)
HIDDEN_AT_FIRST = (
    "gap_up",
    "gap_down",
    "sar_flip_up",
    "sar_flip_down",
    "stoch_oversold_cross",
    "stoch_overbought_cross",
)


def test_markers_are_the_tickers_events(client: TestClient, store: Path) -> None:  # noqa: F811
    data = client.get("/api/markers/BABA", params={"as_of": "2026-01-02"}).json()
    found = api.events(["BABA"], as_of=DAY, store=store)
    assert [(m["date"], m["kind"]) for m in data["markers"]] == [
        (d.isoformat(), k) for d, k in found.sort("date", "kind").select("date", "kind").rows()
    ]
    last = [m for m in data["markers"] if m["date"] == "2026-01-02"]
    assert {(m["label"], m["direction"]) for m in last} == {
        ("gap up", "up"),
        ("large gain", "up"),
        ("SAR flip up", "up"),
    }
    assert last[0]["meaning"].startswith(("opened above", "daily gain"))


def test_comparison_reads_the_peer_group_and_spy(client: TestClient) -> None:  # noqa: F811
    data = client.get("/api/compare/BABA", params={"as_of": "2026-01-02"}).json()
    assert (data["peer_group"], data["peers"], data["benchmark"]) == (
        "china-internet",
        ["BIDU", "BILI", "JD", "PDD"],
        "SPY",
    )
    assert set(data["series"]) == {"BABA", "BIDU", "BILI", "JD", "PDD", "SPY"}  # not AAPL, NVDA
    assert data["series"]["BABA"][-1] == ["2026-01-02", 155.74]


def test_api_numbers_are_rounded_and_bars_take_a_range(client: TestClient) -> None:  # noqa: F811
    response = client.get("/api/bars/BABA", params={"from": "2025-12-31", "to": "2026-01-02"})
    bars = response.json()["bars"]
    assert [b["date"] for b in bars] == ["2025-12-31", "2026-01-02"]
    assert bars[-1]["close"] == 155.74  # exactly: not 155.74000549316406
    assert '"close": 155.74,' in response.text
    assert bars[-1]["sma_200"] == 137.0015  # computed over the whole history, not from `from`
    assert (
        client.get("/api/bars/BABA", params={"from": "2026-02-01", "to": "2026-01-02"})
        .json()["detail"]
        .startswith("field 'from': `from` 2026-02-01 is after `to` 2026-01-02")
    )


def _ready(browser: Any, url: str, problems: list[str], **options: Any) -> Any:  # noqa: F811
    page = _open(browser, url, problems, **options)
    page.wait_for_selector('#price-chart[data-state="ready"]', state="attached")
    return page


def test_chart_markers_legend_and_tooltip_in_chromium(
    browser: Any,  # noqa: F811
    server: str,  # noqa: F811
    store: Path,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    page = _ready(
        browser,
        f"{server}/ticker/BABA?as_of=2026-01-02",
        problems,
        viewport={"width": 1400, "height": 1000},
    )
    found = api.events(["BABA"], as_of=DAY, store=store)
    shown = found.filter(~pl.col("kind").is_in(HIDDEN_AT_FIRST)).height
    assert page.get_attribute("#price-chart", "data-markers") == str(shown)
    keys = page.eval_on_selector_all("#marker-legend button", "bs => bs.map(b => b.dataset.kind)")
    assert sorted(keys) == sorted(found["kind"].unique())
    gaps = found.filter(pl.col("kind") == "gap_up").height
    page.click('#marker-legend button[data-kind="gap_up"]')
    assert page.get_attribute("#price-chart", "data-markers") == str(shown + gaps)
    # Hover the last sessions until the tooltip tells the day's events in words.
    chart = page.locator("#price-chart").bounding_box()
    tip = ""
    for x in range(
        int(chart["x"] + chart["width"] - 75), int(chart["x"] + chart["width"] - 200), -2
    ):
        page.mouse.move(x, chart["y"] + chart["height"] / 2)
        if page.is_visible("#chart-tooltip"):
            tip = page.text_content("#chart-tooltip") or ""
            if "2026-01-02" in tip:
                break
    assert "2026-01-02" in tip
    assert "large gain: daily gain beyond 2.5 standard deviations of recent returns" in tip
    page.screenshot(path=str(artifacts / "ticker-1400.png"), full_page=True)
    assert problems == []


def test_chart_ranges_log_scale_and_comparison(
    browser: Any,  # noqa: F811
    server: str,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    page = _ready(
        browser,
        f"{server}/ticker/BABA?as_of=2026-01-02",
        problems,
        viewport={"width": 1400, "height": 900},
    )
    assert page.get_attribute("#price-chart", "data-range") == "1Y"
    page.click('#chart-ranges button[data-range="1M"]')
    assert page.get_attribute("#price-chart", "data-from") == "2025-12-02"
    assert page.get_attribute('#chart-ranges button[data-range="1M"]', "aria-pressed") == "true"
    page.click('#chart-ranges button[data-range="All"]')
    assert page.get_attribute("#price-chart", "data-from") == "2021-01-04"
    page.check("#chart-log")
    assert page.get_attribute("#price-chart", "data-scale") == "log"
    page.click('#chart-ranges button[data-range="3M"]')
    page.check("#chart-compare")
    page.wait_for_selector('#price-chart[data-mode="compare"]', state="attached")
    assert page.get_attribute("#price-chart", "data-compared") == "BABA,peers,SPY"
    page.screenshot(path=str(artifacts / "ticker-compare.png"))
    assert problems == []


def test_dark_mode_follows_the_system_and_the_toggle(
    browser: Any,  # noqa: F811
    server: str,  # noqa: F811
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    background = "getComputedStyle(document.body).backgroundColor"
    light = _open(browser, f"{server}/", problems, color_scheme="light")
    assert light.evaluate(background) == "rgb(245, 246, 248)"
    dark = _ready(
        browser,
        f"{server}/ticker/BABA?as_of=2026-01-02",
        problems,
        color_scheme="dark",
        viewport={"width": 1400, "height": 900},
    )
    assert dark.evaluate(background) == "rgb(13, 17, 23)"
    dark.screenshot(path=str(artifacts / "ticker-dark.png"))
    dark.click("#theme-toggle")  # the reader's choice wins over the system's, and is kept
    assert dark.evaluate(background) == "rgb(245, 246, 248)"
    dark.reload(wait_until="load")
    assert dark.evaluate("document.documentElement.dataset.theme") == "light"
    assert problems == []


def test_ticker_page_fits_a_phone(browser: Any, server: str, artifacts: Path) -> None:  # noqa: F811
    problems: list[str] = []
    page = _ready(
        browser,
        f"{server}/ticker/BABA?as_of=2026-01-02",
        problems,
        viewport={"width": 390, "height": 844},
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "ticker-390.png"), full_page=True)
    assert problems == []
