"""The web dashboard: JSON API, pages, errors, escaping, and the ticker page in a real browser."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.testclient import TestClient

from helpers import serving
from stockbrief import api
from stockbrief.errors import StoreError
from stockbrief.notes.narrative import LANGS
from stockbrief.web import create_app, pages, serve
from stockbrief.web.app import LOOPBACK_HOSTS, is_loopback

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
PEERS = ("BABA", "BIDU", "JD", "PDD", "BILI")
DAY = dt.date(2026, 1, 2)
XSS = '<script>alert("x")</script> Alibaba news'
XSS_ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Alibaba news"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Alibaba example with real prices, and a news headline that tries to run a script."""
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    folder = tmp_path_factory.mktemp("web")
    path = folder / "web.duckdb"
    files = [prices / f"{t}.csv" for t in PEERS]
    api.ingest("prices", files, store=path, end=dt.date(2026, 3, 25))
    for kind in ("securities", "ratings", "consensus", "kpis"):
        api.ingest(kind, [EXAMPLE / f"{kind}.csv"], store=path)
    api.ingest("news", [EXAMPLE / "news.jsonl"], store=path)
    hostile = {
        "published_at": "2026-01-02T09:00:00Z",
        "source": "test",
        "headline": XSS,
        "body": None,
        "url": "javascript:alert(1)",
        "tickers": ["BABA"],
    }
    extra = folder / "hostile.jsonl"
    extra.write_text(json.dumps(hostile) + "\n", encoding="utf-8")
    api.ingest("news", [extra], store=path)
    return path


@pytest.fixture(scope="module")
def client(store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as test_client:
        yield test_client


# -- JSON API ---------------------------------------------------------------------------------


def test_tickers(client: TestClient) -> None:
    response = client.get("/api/tickers")
    assert response.status_code == 200
    rows = response.json()["tickers"]
    assert [r["ticker"] for r in rows] == sorted(PEERS)
    assert {(r["first"], r["last"]) for r in rows} == {("2021-01-04", "2026-03-25")}


def test_bars_for_the_chart(client: TestClient) -> None:
    data = client.get("/api/bars/BABA").json()
    assert data["columns"] == [
        "date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "sma_50",
        "sma_200",
    ]
    bars = {b["date"]: b for b in data["bars"]}
    day = bars["2026-01-02"]
    assert day["close"] == pytest.approx(155.74, abs=0.005)
    assert day["sma_200"] == pytest.approx(137.0015, abs=0.005)
    assert day["sma_50"] == pytest.approx(159.3618, abs=0.005)
    assert data["bars"][0]["sma_50"] is None  # warm-up is null, never filled
    assert data["bars"][-1]["date"] == data["as_of"] == "2026-03-25"
    cut = client.get("/api/bars/baba", params={"as_of": "2026-01-03"}).json()
    assert (cut["ticker"], cut["as_of"], cut["bars"][-1]["date"]) == (
        "BABA",
        "2026-01-02",
        "2026-01-02",
    )


def test_brief_json_has_the_facts(client: TestClient) -> None:
    response = client.get("/api/brief/BABA", params={"as_of": "2026-01-02"})
    assert response.status_code == 200
    brief = response.json()
    facts = brief["facts"]
    assert (brief["ticker"], brief["as_of"]) == ("BABA", "2026-01-02")
    assert facts["close"]["value"] == pytest.approx(155.74, abs=0.005)
    assert facts["close"]["source"]["table"] == "bars"
    assert facts["target_mean"]["value"] == 194.0
    assert facts["consensus_label"]["value"] == "Moderate Buy"
    assert brief["sections"][0]["key"] == "move"
    assert brief["verdict"]["evidence"]["setups"][0]["n"] > 0
    german = client.get("/api/brief/BABA", params={"as_of": "2026-01-02", "lang": "de"}).json()
    assert german["lang"] == "de"


def test_events(client: TestClient) -> None:
    found = client.get("/api/events", params={"as_of": "2026-01-02", "since": "2026-01-02"}).json()
    kinds = {(e["ticker"], e["kind"]) for e in found["events"]}
    assert {("BABA", "gap_up"), ("BABA", "large_move_up")} <= kinds
    assert {e["date"] for e in found["events"]} == {"2026-01-02"}
    one = client.get("/api/events", params={"since": "2026-01-02", "ticker": "JD"}).json()
    assert {e["ticker"] for e in one["events"]} == {"JD"}


def test_screen(client: TestClient) -> None:
    matched = client.get("/api/screen", params={"q": "close > sma_200", "as_of": "2026-01-02"})
    assert matched.status_code == 200
    assert "BABA" in {r["ticker"] for r in matched.json()["rows"]}
    assert matched.json()["session"] == "2026-01-02"
    preset = client.get("/api/screen", params={"q": "volume-surge"}).json()
    assert {r["ticker"] for r in preset["rows"]} == {"JD", "PDD"}


def test_bad_screen_expression_is_400_with_the_message(client: TestClient) -> None:
    response = client.get("/api/screen", params={"q": "close > sma200"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "unknown column 'sma200' at position 9; did you mean 'sma_200'?" in detail
    assert detail.endswith("close > sma200\n            ^^^^^^")


def test_bad_screen_on_the_page_is_400_and_escaped(client: TestClient) -> None:
    response = client.get("/screen", params={"q": "close > sma200 <b>x</b>"})
    assert response.status_code == 400
    assert "did you mean &#39;sma_200&#39;?" in response.text
    assert "<b>x</b>" not in response.text
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text
    good = client.get("/screen", params={"q": "close > sma_200", "as_of": "2026-01-02"})
    assert good.status_code == 200
    assert '<a href="/ticker/BABA?as_of=2026-01-02">BABA</a>' in good.text


def test_unknown_ticker_is_404_as_a_page_and_as_json(client: TestClient) -> None:
    page = client.get("/ticker/NOPE")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "unknown ticker &#39;NOPE&#39;" in page.text
    for url in ("/api/bars/NOPE", "/api/brief/NOPE", "/api/events?ticker=NOPE"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["detail"].startswith("unknown ticker 'NOPE'")
    assert client.get("/no/such/page").headers["content-type"].startswith("text/html")
    assert client.get("/api/no-such-thing").json() == {"detail": "Not Found"}


def test_tickers_in_urls_are_validated_before_use(client: TestClient) -> None:
    page = client.get("/ticker/%3Cimg%20src=x%3E")
    assert page.status_code == 400
    assert "<img" not in page.text
    assert "&lt;img src=x&gt;" in page.text
    response = client.get("/api/bars/BA%20BA")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("field 'ticker': invalid ticker 'BA BA'")
    assert client.get("/api/brief/%5E" + "A" * 30).status_code == 400
    lookup = client.get("/ticker", params={"t": " bidu "}, follow_redirects=False)
    assert (lookup.status_code, lookup.headers["location"]) == (303, "/ticker/BIDU")


def test_openapi_lists_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/tickers",
        "/api/bars/{ticker}",
        "/api/brief/{ticker}",
        "/api/events",
        "/api/screen",
        "/api/presets",
    } <= set(paths)
    assert not any(p in paths for p in ("/", "/ticker/{ticker}", "/screen"))
    assert client.get("/docs").status_code == 200


# -- pages --------------------------------------------------------------------------------------


def test_ticker_page_escapes_the_headline(client: TestClient) -> None:
    response = client.get("/ticker/BABA", params={"as_of": "2026-01-02"})
    assert response.status_code == 200
    html = response.text
    assert XSS not in html
    assert "<script>alert" not in html
    assert XSS_ESCAPED in html
    assert "javascript:" not in html  # the stored URL is not http(s): no link
    assert "Alibaba jumped 6.2% to $155.74 on above-typical volume" in html
    assert '<div id="price-chart" data-ticker="BABA" data-as-of="2026-01-02"' in html
    assert "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js" in html
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy


def test_ticker_page_panels(client: TestClient) -> None:
    html = client.get("/ticker/BABA", params={"as_of": "2026-01-02"}).text
    assert "Moderate Buy" in html
    assert "$194.00" in html
    assert "+24.6%" in html  # upside of the mean target over the close
    assert '<td>Jefferies</td><td>Buy</td><td class="num">$230.00</td>' in html
    assert "Baidu plans to spin off its AI chip unit Kunlunxin" in html
    assert 'class="tone-positive"' in html
    assert "daily gain beyond 2.5 standard deviations of recent returns" in html
    assert "TradingView Lightweight Charts, Copyright (c) 2023 TradingView, Inc." in html


def test_market_page(client: TestClient) -> None:
    html = client.get("/", params={"as_of": "2026-01-03"}).text  # a Saturday: Friday's session
    assert "<h1>Market on 2026-01-02</h1>" in html
    assert '<a href="/ticker/BABA?as_of=2026-01-02">BABA</a>' in html
    assert '<span class="chip" title="daily gain beyond 2.5 standard deviations' in html
    assert "large_move_up" not in html  # event kinds are told in words
    assert '<a href="/screen?q=breakouts&amp;as_of=2026-01-02"' in html
    latest = client.get("/").text
    assert "<h1>Market on 2026-03-25</h1>" in latest
    assert '<a class="chip" href="/ticker/JD?as_of=2026-03-25">JD</a>' in latest  # volume-surge
    early = client.get("/", params={"as_of": "2000-01-03"}).text
    assert "No stored session on or before 2000-01-03." in early


def test_market_page_of_an_empty_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    with api.using_store(empty):
        pass  # creates the file with its tables
    with TestClient(create_app(empty)) as fresh:
        page = fresh.get("/")
        assert page.status_code == 200
        assert "The store holds no bars yet" in page.text
        assert fresh.get("/api/tickers").json() == {"tickers": []}


def test_vendored_chart_library_and_its_licence(client: TestClient) -> None:
    base = "/static/vendor/lightweight-charts/"
    script = client.get(base + "lightweight-charts.standalone.production.js")
    assert script.status_code == 200
    assert "TradingView Lightweight Charts™ v4.2.3" in script.text[:300]
    assert "Apache License" in client.get(base + "LICENSE.txt").text
    assert "TradingView, Inc." in client.get(base + "NOTICE.txt").text


def test_page_languages_match_the_briefs() -> None:
    assert get_args(pages.Lang) == LANGS


def test_stored_links_only_when_http() -> None:
    assert pages.web_url("https://example.com/a") == "https://example.com/a"
    assert pages.web_url("javascript:alert(1)") is None
    assert pages.web_url(" data:text/html,x") is None
    assert pages.web_url(None) is None


# -- serving ------------------------------------------------------------------------------------


def test_a_missing_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store here"):
        create_app(tmp_path / "none.duckdb")


def test_loopback_serving_refuses_foreign_host_headers(store: Path) -> None:
    app = create_app(store, allowed_hosts=LOOPBACK_HOSTS)
    with TestClient(app, base_url="http://rebound.example") as foreign:
        assert foreign.get("/api/tickers").status_code == 400
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/tickers").status_code == 200


def test_serve_warns_off_loopback(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    serve(store)
    assert capsys.readouterr().err == ""
    serve(store, host="0.0.0.0", port=8123)
    assert "warning: serving on 0.0.0.0" in capsys.readouterr().err
    assert calls == [{"host": "127.0.0.1", "port": 8000}, {"host": "0.0.0.0", "port": 8123}]
    assert [is_loopback(h) for h in ("localhost", "127.0.0.1", "::1", "0.0.0.0", "example")] == [
        True,
        True,
        True,
        False,
        False,
    ]


# -- in a browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, stopped afterwards."""
    with serving(store) as (host, port):
        yield f"http://{host}:{port}"


def test_ticker_page_in_chromium(server: str, store: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    headline = api.brief("BABA", as_of=DAY, store=store).headline
    dialogs: list[str] = []
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            page.on("dialog", on_dialog)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.goto(f"{server}/ticker/BABA?as_of=2026-01-02", wait_until="load")
            page.wait_for_selector("#price-chart canvas", state="attached")
            page.wait_for_selector('#price-chart[data-state="ready"]', state="attached")
            assert page.text_content("#headline") == headline
            assert XSS in (page.text_content("#news") or "")
            assert "2026-01-02" in (page.text_content("#chart-legend") or "")
            assert page.locator("#price-chart canvas").count() >= 2
            shot = tmp_path / "ticker.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 20_000
    if os.environ.get("STOCKBRIEF_WEB_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["STOCKBRIEF_WEB_SCREENSHOT"])
    assert dialogs == []
    assert problems == []  # script errors, failed requests and CSP violations all land here
