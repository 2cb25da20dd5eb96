"""The market page: every ticker's session from the saved rows, movers, breadth and sectors,
checked against the store, and the page in a real browser (sorting, phone width, dark mode)."""

from __future__ import annotations

import datetime as dt
import os
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
from stockbrief.web import create_app, market

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
TICKERS = ("BABA", "BIDU", "JD", "PDD", "BILI", "SPY", "AAPL", "NVDA")
DAY = dt.date(2026, 1, 2)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real prices of eight tickers, the example's names and sectors, events computed."""
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path_factory.mktemp("market") / "market.duckdb"
    files = [prices / f"{t}.csv" for t in TICKERS]
    api.ingest("prices", files, store=path, end=dt.date(2026, 3, 25), basis="adjusted")
    api.ingest("securities", [EXAMPLE / "securities.csv"], store=path)
    api.refresh(path)
    return path


@pytest.fixture(scope="module")
def client(store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as test_client:
        yield test_client


def _row(html: str, ticker: str) -> list[str]:
    """The cells' text of one ticker's row in the market table."""
    found = re.search(rf'<tr data-ticker="{re.escape(ticker)}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {ticker}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", found[1])]


def test_the_table_has_every_ticker_of_the_session(store: Path) -> None:
    latest = market.table(store, None)
    assert sorted(latest["ticker"]) == sorted(TICKERS)
    assert latest["date"].unique().to_list() == [dt.date(2026, 3, 25)]


def test_table_values_are_the_stored_indicators(store: Path) -> None:
    # The latest session comes from the saved rows; an earlier one is computed from the bars.
    for day in (None, DAY):
        table = market.table(store, day)
        for ticker in ("BABA", "NVDA"):
            row = table.filter(pl.col("ticker") == ticker).row(0, named=True)
            history = api.indicators(ticker, as_of=day, store=store)
            last = history.row(-1, named=True)
            assert row["date"] == last["date"]
            assert row["close"] == pytest.approx(last["close"])
            assert row["change"] == pytest.approx(last["close"] / history["close"][-2] - 1)
            assert row["rel_volume"] == pytest.approx(last["rel_volume"])
            assert row["to_sma_200"] == pytest.approx(last["close"] / last["sma_200"] - 1)
            assert row["rsi_14"] == pytest.approx(last["rsi_14"])


def test_market_page_row_as_people_read_it(client: TestClient) -> None:
    html = client.get("/", params={"as_of": "2026-01-02"}).text
    cells = _row(html, "BABA")
    assert cells[:3] == ["BABA", "Alibaba", "155.74"]
    assert cells[3].startswith("+6.2")  # Alibaba jumped 6.2% that day
    assert cells[6] == "-2.3%"  # 2.3% below the 50-day average of $159.36
    assert cells[7] == "+13.7%"  # above the 200-day average of $137.00
    assert "large gain" in cells[-1]
    assert "gap up" in cells[-1]
    assert 'title="daily gain beyond 2.5 standard deviations of recent returns"' in html
    start = html.index('<table class="market')
    table = html[start : html.index("</table>", start)]
    assert "gap_up" not in table  # words, not kinds
    assert "0.01799" not in html  # nor raw fractions


def test_breadth_and_movers_agree_with_screens(store: Path, client: TestClient) -> None:
    table = market.table(store, DAY)
    found = market.breadth(table)
    assert found.tickers == len(TICKERS)
    above = api.screen("close > sma_200", as_of=DAY, store=store).height
    assert found.above_200 == above
    up = api.screen("return_1d > 0", as_of=DAY, store=store).height
    assert (found.advancing, found.declining) == (up, len(TICKERS) - up - found.unchanged)
    highs = api.events(as_of=DAY, since=DAY, store=store).filter(pl.col("kind") == "new_52w_high")
    assert found.new_highs == highs.height
    gainers, losers = market.movers(table)
    assert gainers["change"].to_list() == sorted(gainers["change"], reverse=True)
    assert gainers["ticker"][0] == table.sort("change", descending=True)["ticker"][0]
    assert (losers["change"] < 0).all()
    html = client.get("/", params={"as_of": "2026-01-02"}).text
    assert f"<dt>Advancing</dt><dd>{up} of {len(TICKERS)}</dd>" in html
    sectors = market.sectors(table)
    internet = sectors.filter(pl.col("sector") == "Consumer Cyclical").row(0, named=True)
    assert internet["tickers"] == 3  # BABA, JD and PDD in the example's securities


def test_the_page_reads_the_saved_rows_in_one_pass(store: Path) -> None:
    # The presets and the table come from one read: the same rows a single screen returns.
    frame, matches = market.tables(store, None, ["breakouts", "above-200"])
    assert sorted(matches["above-200"]) == sorted(
        api.screen("above-200", store=store)["ticker"].to_list()
    )
    assert frame.height == len(TICKERS)


def test_ticker_box_corrects_a_typo(client: TestClient) -> None:
    typo = client.get("/ticker", params={"t": "BABX"}, follow_redirects=False)
    assert typo.status_code == 404
    assert 'Did you mean <a href="/ticker/BABA">BABA</a>' in typo.text
    by_name = client.get("/ticker", params={"t": "alibaba"}, follow_redirects=False)
    assert '<a href="/ticker/BABA">BABA</a>' in by_name.text
    found = client.get("/ticker", params={"t": " jd "}, follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, "/ticker/JD")
    direct = client.get("/ticker/NVDX")
    assert direct.status_code == 404
    assert '<a href="/ticker/NVDA">NVDA</a>' in direct.text
    hostile = client.get("/ticker", params={"t": "<script>x</script>"})
    assert hostile.status_code == 404
    assert "<script>x" not in hostile.text


# -- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    with serving(store) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$STOCKBRIEF_ARTIFACTS`` when set (CI keeps it), else tmp."""
    folder = Path(os.environ.get("STOCKBRIEF_ARTIFACTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            yield launched
        finally:
            launched.close()


def _open(browser: Any, url: str, problems: list[str], **options: Any) -> Any:
    page = browser.new_page(**options)
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(url, wait_until="load")
    return page


def test_market_table_sorts_in_chromium(
    browser: Any, server: str, store: Path, artifacts: Path
) -> None:
    problems: list[str] = []
    page = _open(
        browser, f"{server}/?as_of=2026-01-02", problems, viewport={"width": 1400, "height": 900}
    )
    rows = "rows => rows.map(r => r.dataset.ticker)"
    assert page.eval_on_selector_all("table.market tbody tr", rows) == sorted(TICKERS)
    assert page.get_attribute("table.market th[data-column=ticker]", "aria-sort") == "ascending"
    with page.expect_navigation():
        page.click("table.market th[data-column=change] a")  # change: largest first
    order = market.table(store, DAY).sort("change", descending=True)["ticker"].to_list()
    assert page.eval_on_selector_all("table.market tbody tr", rows) == order
    assert page.get_attribute("table.market th[data-column=change]", "aria-sort") == "descending"
    with page.expect_navigation():
        page.click("table.market th[data-column=change] a")
    assert page.eval_on_selector_all("table.market tbody tr", rows) == order[::-1]
    assert page.input_value("input[name=as_of]") == "2026-01-02"  # the session is kept
    page.screenshot(path=str(artifacts / "market-1400.png"), full_page=True)
    assert problems == []


def test_ticker_box_suggests_stored_tickers(browser: Any, server: str) -> None:
    problems: list[str] = []
    page = _open(browser, f"{server}/", problems)
    page.focus("form.lookup input[name=t]")
    page.wait_for_selector(f'#stored-tickers[data-count="{len(TICKERS)}"]', state="attached")
    options = page.eval_on_selector_all("#stored-tickers option", "os => os.map(o => o.value)")
    assert options == sorted(TICKERS)
    assert problems == []


def test_market_page_fits_a_phone(browser: Any, server: str, artifacts: Path) -> None:
    problems: list[str] = []
    page = _open(browser, f"{server}/", problems, viewport={"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The wide table scrolls inside its panel instead of widening the page.
    scroll = page.eval_on_selector("#market .scroll", "e => [e.scrollWidth, e.clientWidth]")
    assert scroll[0] > scroll[1]
    page.screenshot(path=str(artifacts / "market-390.png"), full_page=True)
    assert problems == []
