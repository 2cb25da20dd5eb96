"""``--format json|csv`` for scripts: the API's column names, ISO dates, the same numbers."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from stockbrief import api
from stockbrief.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
PEERS = ("BABA", "BIDU", "JD", "PDD", "BILI")
DAY = dt.date(2026, 1, 2)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Alibaba example over the real Yahoo bars of BABA and its peers up to 2026-01-02."""
    from conftest import shared_path

    yahoo = shared_path("yahoo-30")
    path = tmp_path_factory.mktemp("formats") / "f.duckdb"
    files = [yahoo / f"{t}.csv" for t in PEERS]
    api.ingest("prices", files, store=path, end=DAY, basis="adjusted")
    for kind in ("securities", "ratings", "consensus"):
        api.ingest(kind, [EXAMPLE / f"{kind}.csv"], store=path)  # type: ignore[arg-type]
    api.ingest("news", [EXAMPLE / "news.jsonl"], store=path)
    return str(path)


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def as_json(*args: str) -> list[dict[str, Any]]:
    records = json.loads(cli(*args, "--format", "json"))
    assert isinstance(records, list)
    return records


def as_csv(*args: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(cli(*args, "--format", "csv")), try_parse_dates=True)


def test_indicators_as_json_and_csv(store: str) -> None:
    frame = api.indicators("BABA", as_of=DAY, store=store)
    [row] = as_json("indicators", "BABA", "--as-of", "2026-01-02", "--store", store)
    assert list(row) == frame.columns
    assert row["date"] == "2026-01-02"
    assert row["close"] == pytest.approx(155.74, abs=0.005)
    assert row["volume"] == 15_778_300
    assert row["sma_200"] == pytest.approx(frame["sma_200"][-1], rel=1e-12)
    table = as_csv("indicators", "BABA", "--as-of", "2026-01-02", "--store", store)
    assert table.columns == frame.columns
    assert table.height == 1
    assert table["date"][0] == DAY
    assert table["rsi_14"][0] == pytest.approx(frame["rsi_14"][-1], rel=1e-12)
    history = as_csv("indicators", "BABA", "--history", "--store", store)
    assert history.height == frame.height
    assert history["date"].to_list() == frame["date"].to_list()
    assert history["sma_50"].null_count() == 49  # the warm-up stays null


def test_events_as_json_and_csv(store: str) -> None:
    frame = api.events(["BABA"], as_of=DAY, since=dt.date(2025, 12, 1), store=store)
    args = ("events", "BABA", "--since", "2025-12-01", "--as-of", "2026-01-02", "--store", store)
    records = as_json(*args)
    assert len(records) == frame.height > 0
    assert list(records[0]) == frame.columns
    gap = next(r for r in records if r["date"] == "2026-01-02" and r["kind"] == "gap_up")
    # The day opened at 152.62, above the previous high: detail is an object, not JSON text.
    assert gap["detail"]["open"] == pytest.approx(152.62, abs=0.005)
    assert gap["observed"] == pytest.approx(152.62, abs=0.005)
    # Above the previous high, 147.37, by 4.12% of the previous close, 146.58.
    assert gap["level"] == pytest.approx(147.37, abs=0.005)
    assert gap["detail"]["previous_high"] == gap["level"]
    assert gap["value"] == pytest.approx(152.62 / 146.58 - 1, abs=1e-4)
    table = as_csv(*args)
    assert table.columns == frame.columns
    assert table["kind"].to_list() == frame["kind"].to_list()
    assert json.loads(table["detail"][0]) == json.loads(frame["detail"][0])


def test_consensus_as_json_and_csv(store: str) -> None:
    [view] = as_json("consensus", "BABA", "--as-of", "2026-01-02", "--store", store)
    assert view["label"] == "Moderate Buy"
    assert view["target_mean"] == 194.0
    assert view["as_of"] == "2026-01-02"
    assert view["upside"] == pytest.approx(194.0 / 155.74 - 1, abs=1e-4)
    assert {f["firm"]: f["target"] for f in view["firms"]} == {"Jefferies": 230.0, "Nomura": 215.0}
    table = as_csv("consensus", "BABA", "--as-of", "2026-01-02", "--store", store)
    assert table.height == 1
    assert table["label"][0] == "Moderate Buy"
    assert table["upside"][0] == pytest.approx(view["upside"], rel=1e-12)
    assert "firms" not in table.columns
    # A ticker no analyst covers: an empty list, or the header alone.
    assert as_json("consensus", "JD", "--as-of", "2026-01-02", "--store", store) == []
    header = cli("consensus", "JD", "--format", "csv", "--store", store)
    assert header.splitlines() == [",".join(table.columns)]


def test_news_as_json_and_csv(store: str) -> None:
    frame = api.news("BABA", as_of=DAY, store=store)
    [item] = as_json("news", "BABA", "--as-of", "2026-01-02", "--store", store)
    assert list(item) == frame.columns
    assert item["headline"] == "Baidu plans to spin off its AI chip unit Kunlunxin"
    assert (item["about"], item["role"]) == ("BIDU", "peer")
    assert dt.datetime.fromisoformat(item["published_at"]) == frame["published_at"][0]
    assert item["sentiment"] == pytest.approx(frame["sentiment"][0])
    table = as_csv("news", "BABA", "--as-of", "2026-01-02", "--store", store)
    assert table.columns == frame.columns
    assert table["headline"].to_list() == [item["headline"]]


def test_screen_as_json_and_csv(store: str) -> None:
    frame = api.screen("close > sma_200", as_of=DAY, store=store)
    records = as_json("screen", "close > sma_200", "--as-of", "2026-01-02", "--store", store)
    assert [r["ticker"] for r in records] == frame["ticker"].to_list()
    assert "BABA" in frame["ticker"].to_list()  # 155.74 above its 200-day mean of 137.00
    assert {r["date"] for r in records} == {"2026-01-02"}
    table = as_csv("screen", "close > sma_200", "--as-of", "2026-01-02", "--store", store)
    assert table.columns == frame.columns
    assert table["close"].to_list() == pytest.approx(frame["close"].to_list())


def test_study_as_json_and_csv(store: str) -> None:
    result = api.study("gap_up", until=DAY, store=store)
    rows = as_json("study", "gap_up", "--until", "2026-01-02", "--store", store)
    assert [r["horizon"] for r in rows] == [5, 20, 60]
    assert list(rows[0]) == result.table.columns
    assert [r["n"] for r in rows] == result.table["n"].to_list()
    assert rows[0]["hit_rate"] == pytest.approx(result.table["hit_rate"][0], rel=1e-12)
    table = as_csv("study", "gap_up", "--until", "2026-01-02", "--store", store)
    assert table.columns == result.table.columns
    assert table["n"].to_list() == result.table["n"].to_list()


@pytest.mark.parametrize("command", ["indicators BABA", "events", "consensus BABA", "news BABA"])
def test_an_unknown_format_is_a_usage_error(command: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "none.duckdb")
    result = CliRunner().invoke(app, [*command.split(), "--format", "xml", "--store", missing])
    assert result.exit_code == 2
    assert "use table, json or csv" in result.output
    assert not Path(missing).exists()  # refused before the store is opened
