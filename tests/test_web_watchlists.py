"""Watchlists from the dashboard: stored in the store, checked, same-origin only, and the market
table filtered by one, in the API and in a real browser."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.testclient import TestClient

from helpers import serving
from stockbrief import api
from stockbrief.store import Store
from stockbrief.web import create_app
from test_web_market import _open, browser  # noqa: F401

TICKERS = ("BABA", "JD", "PDD", "SPY")
ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path / "lists.duckdb"
    files = [prices / f"{t}.csv" for t in TICKERS]
    api.ingest("prices", files, store=path, end=dt.date(2026, 3, 25), basis="adjusted")
    return path


@pytest.fixture
def client(store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store), base_url=ORIGIN) as test_client:
        yield test_client


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-ticker="([^"]+)">', html)


def test_save_filter_and_delete_a_list(client: TestClient, store: Path) -> None:
    saved = client.post("/api/watchlists", json={"name": "China tech", "tickers": ["pdd", "BABA"]})
    assert saved.json() == {"name": "China tech", "tickers": ["PDD", "BABA"]}
    with Store(store, read_only=True) as db:
        assert db.watchlist("China tech") == ["PDD", "BABA"]
        assert db.watchlists() == {"China tech": ["PDD", "BABA"]}
    page = client.get("/", params={"watchlist": "China tech"}).text
    assert _rows(page) == ["PDD", "BABA"]  # in the list's order
    assert "Watchlist China tech" in page
    client.post("/api/watchlists", json={"name": "China tech", "tickers": ["JD"]})  # replaces
    assert client.get("/api/watchlists").json() == {"watchlists": {"China tech": ["JD"]}}
    assert client.request("DELETE", "/api/watchlists/China tech", json={}).status_code == 200
    assert client.get("/api/watchlists").json() == {"watchlists": {}}
    assert client.request("DELETE", "/api/watchlists/China tech", json={}).status_code == 404
    assert client.get("/", params={"watchlist": "China tech"}).status_code == 404


def test_bad_names_and_tickers_are_refused(client: TestClient) -> None:
    unknown = client.post("/api/watchlists", json={"name": "x", "tickers": ["BABX"]})
    assert unknown.status_code == 400
    assert "unknown ticker 'BABX': no bars stored; did you mean BABA?" in unknown.json()["detail"]
    bad = client.post("/api/watchlists", json={"name": "<b>x</b>", "tickers": ["JD"]})
    assert (bad.status_code, bad.json()["detail"][:26]) == (400, "field 'name': invalid list")
    script = client.post("/api/watchlists", json={"name": "a", "tickers": ["<script>"]})
    assert script.status_code == 400
    assert client.post("/api/watchlists", json={"name": "a", "tickers": []}).status_code == 400
    assert client.get("/api/watchlists").json() == {"watchlists": {}}


def test_writes_only_from_the_dashboards_own_pages(client: TestClient) -> None:
    body = {"name": "x", "tickers": ["JD"]}
    form = client.post(
        "/api/watchlists", content="name=x&tickers=JD", headers={"content-type": "text/plain"}
    )
    assert form.status_code == 400  # a cross-site form cannot send JSON without a preflight
    foreign = client.post("/api/watchlists", json=body, headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403
    sideways = client.post("/api/watchlists", json=body, headers={"sec-fetch-site": "cross-site"})
    assert sideways.status_code == 403
    assert client.get("/api/watchlists").json() == {"watchlists": {}}
    own = client.post("/api/watchlists", json=body, headers={"origin": ORIGIN})
    assert own.status_code == 200


def test_a_reader_does_not_keep_writes_out(client: TestClient, store: Path) -> None:
    # The page's write takes the writer's lock for a moment and then lets go of it.
    client.post("/api/watchlists", json={"name": "x", "tickers": ["JD"]})
    with Store(store) as db:  # a writer (the daily run) gets in at once afterwards
        db.save_watchlist("daily", ["SPY"])
    assert client.get("/api/watchlists").json()["watchlists"]["daily"] == ["SPY"]


def test_edit_lists_in_chromium(browser: Any, store: Path) -> None:  # noqa: F811
    problems: list[str] = []
    with serving(store) as (host, port):
        page = _open(
            browser, f"http://{host}:{port}/", problems, viewport={"width": 1200, "height": 900}
        )
        page.fill("#watchlist-editor input[name=name]", "Mine")
        page.fill("#watchlist-editor input[name=tickers]", "jd, spy")
        with page.expect_navigation():
            page.click("#watchlist-editor button[type=submit]")
        assert page.eval_on_selector_all(
            "table.market tbody tr", "rows => rows.map(r => r.dataset.ticker)"
        ) == ["JD", "SPY"]
        page.fill("#watchlist-editor input[name=tickers]", "JD, NOPE")
        page.click("#watchlist-editor button[type=submit]")
        page.wait_for_selector("#watchlist-status:has-text('Not saved')")
        assert "unknown ticker 'NOPE'" in (page.text_content("#watchlist-status") or "")
        page.on("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.click("#watchlist-delete")
        assert len(page.eval_on_selector_all("table.market tbody tr", "rows => rows")) == len(
            TICKERS
        )
    with Store(store, read_only=True) as db:
        assert db.watchlists() == {}
    assert problems == [] or all("400" in p for p in problems)  # the refused save logs its 400
