"""Saved screens: kept in the store after the screen language parsed them, listed, run and
deleted from the JSON API (same origin only) and from the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.testclient import TestClient

from stockbrief import api
from stockbrief.store import Store
from stockbrief.web import create_app

TICKERS = ("BABA", "JD", "PDD", "SPY", "NVDA", "AAPL")
ORIGIN = "http://127.0.0.1:8000"
OVERSOLD = {
    "name": "Weak RSI",
    "expression": "rsi_14 < 50",
    "columns": ["rsi_14"],
    "sort": "rsi_14",
}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path / "screens.duckdb"
    files = [prices / f"{t}.csv" for t in TICKERS]
    api.ingest("prices", files, store=path, end=dt.date(2026, 3, 25), basis="adjusted")
    return path


@pytest.fixture
def client(store: Path) -> Iterator[TestClient]:
    with TestClient(create_app(store), base_url=ORIGIN) as test_client:
        yield test_client


def test_save_list_run_and_delete(client: TestClient, store: Path) -> None:
    saved = client.post("/api/screens", json=OVERSOLD)
    assert saved.status_code == 200, saved.text
    assert {k: saved.json()[k] for k in OVERSOLD} == OVERSOLD
    with Store(store, read_only=True) as db:
        [row] = db.saved_screens()
    assert (row["name"], row["expression"], row["columns"], row["sort"]) == (
        "Weak RSI",
        "rsi_14 < 50",
        ["rsi_14"],
        "rsi_14",
    )
    assert [s["name"] for s in client.get("/api/screens").json()["screens"]] == ["Weak RSI"]
    page = client.get("/screen", params={"saved": "Weak RSI"})
    expected = api.screen("rsi_14 < 50", sort="rsi_14", store=store)
    assert expected.height > 0
    shown = [line.split('"')[1] for line in page.text.split("<tr data-ticker=")[1:]]
    assert shown == expected["ticker"].to_list()  # by the saved sort, largest RSI first
    assert f"Weak RSI: {expected.height} match" in page.text
    assert 'data-columns="rsi_14"' in page.text
    again = client.post("/api/screens", json={**OVERSOLD, "expression": "breakouts"})
    assert again.json()["expression"] == "breakouts"  # a preset name, replacing the screen
    assert len(client.get("/api/screens").json()["screens"]) == 1
    assert client.request("DELETE", "/api/screens/Weak RSI", json={}).json() == {
        "deleted": "Weak RSI"
    }
    assert client.get("/api/screens").json() == {"screens": []}
    gone = client.request("DELETE", "/api/screens/Weak RSI", json={})
    assert gone.status_code == 404
    missing = client.get("/screen", params={"saved": "Weak RSI"})
    assert missing.status_code == 404
    assert "no saved screen named &#39;Weak RSI&#39;; none is saved yet" in missing.text


def test_only_screens_that_parse_are_saved(client: TestClient) -> None:
    broken = client.post("/api/screens", json={**OVERSOLD, "expression": "rsi_14 <"})
    assert broken.status_code == 400
    assert "rsi_14 <" in broken.json()["detail"]  # the parser shows the expression and a caret
    typo = client.post("/api/screens", json={**OVERSOLD, "expression": "rsi14 < 30"})
    assert "rsi_14" in typo.json()["detail"]  # the nearest column is suggested
    hostile = client.post("/api/screens", json={**OVERSOLD, "name": "<script>x</script>"})
    assert hostile.status_code == 400
    assert "invalid screen name" in hostile.json()["detail"]
    column = client.post("/api/screens", json={**OVERSOLD, "columns": ["rsi14"]})
    assert "unknown column 'rsi14'; did you mean rsi_14?" in column.json()["detail"]
    assert client.post("/api/screens", json={**OVERSOLD, "sort": "x; DROP"}).status_code == 400
    assert client.post("/api/screens", json={**OVERSOLD, "columns": "rsi_14"}).status_code == 400
    long = client.post("/api/screens", json={**OVERSOLD, "expression": "close > 1 and " * 100})
    assert "at most 1,000" in long.json()["detail"]
    assert client.get("/api/screens").json() == {"screens": []}


def test_writes_only_from_the_dashboards_own_pages(client: TestClient) -> None:
    foreign = client.post("/api/screens", json=OVERSOLD, headers={"origin": "http://evil.example"})
    assert foreign.status_code == 403
    form = client.post("/api/screens", content="name=x", headers={"content-type": "text/plain"})
    assert form.status_code == 400
    delete = client.request(
        "DELETE", "/api/screens/x", json={}, headers={"sec-fetch-site": "cross-site"}
    )
    assert delete.status_code == 403
    assert client.get("/api/screens").json() == {"screens": []}


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *map(str, args)], capture_output=True, text=True
    )


def test_command_line_saves_and_runs_a_screen(store: Path) -> None:
    saved = _cli("screen", "rsi_14 < 50", "--sort", "rsi_14", "--save", "weak", "--store", store)
    assert saved.returncode == 0, saved.stderr
    assert "saved as 'weak'" in saved.stdout
    run = _cli("screen", "--saved", "weak", "--format", "csv", "--store", store)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    expected = api.screen("rsi_14 < 50", sort="rsi_14", store=store)
    assert [r["ticker"] for r in rows] == expected["ticker"].to_list()
    listed = _cli("screen", "--list", "--store", store)
    assert "saved screens" in listed.stdout
    assert "weak" in listed.stdout
    bad = _cli("screen", "rsi_14 <", "--save", "broken", "--store", store)
    assert bad.returncode != 0
    assert "found the end of the expression" in bad.stderr
    assert "Traceback" not in bad.stderr
    nothing = _cli("screen", "--save", "empty", "--store", store)
    assert nothing.returncode != 0
    assert "name the screen to save" in nothing.stderr
    unknown = _cli("screen", "--saved", "wek", "--store", store)
    assert unknown.returncode != 0
    assert "no saved screen named 'wek'; saved: weak" in unknown.stderr + unknown.stdout
    assert [s.name for s in api.saved_screens(store=store)] == ["weak"]
