"""The command line as a user runs it: exit codes, one-line errors, tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import good_rows, write_csv


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args], capture_output=True, text=True, cwd=cwd
    )


def ingest_abc(folder: Path, store: str) -> subprocess.CompletedProcess[str]:
    """Store five good bars of ABC."""
    rows = str(write_csv(folder / "ABC.csv", good_rows()))
    return run("ingest", "prices", rows, "--store", store, cwd=folder)


def test_ingest_prices_info_and_bad_input(tmp_path: Path) -> None:
    store = str(tmp_path / "cli.duckdb")
    ok = run(
        "ingest",
        "prices",
        str(write_csv(tmp_path / "ABC.csv", good_rows())),
        "--store",
        store,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert "5 new" in ok.stdout

    rows = good_rows()
    rows[2] = rows[2].replace("2024-01-04", "2024-01-06")
    bad = run(
        "ingest",
        "prices",
        str(write_csv(tmp_path / "DEF.csv", rows)),
        "--store",
        store,
        cwd=tmp_path,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "DEF.csv, row 3, field 'date': not a trading session of XNYS" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    info = run("info", "--store", store, cwd=tmp_path)
    assert info.returncode == 0
    assert "ABC" in info.stdout
    assert "DEF" not in info.stdout

    prices = run("prices", "abc", "--csv", "--store", store, "--from", "2024-01-04", cwd=tmp_path)
    assert prices.stdout.splitlines()[1] == "ABC,2024-01-04,102.0,104.0,101.0,103.0,3000"


def test_unknown_ticker_and_missing_store(tmp_path: Path) -> None:
    missing = run("info", "--store", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert missing.returncode == 1
    assert "no store here" in missing.stderr
    store = str(tmp_path / "s.duckdb")
    ingest_abc(tmp_path, store)
    unknown = run("prices", "ABD", "--store", store, cwd=tmp_path)
    assert unknown.returncode == 1
    assert "did you mean ABC?" in unknown.stderr


def test_bad_date_option_is_a_usage_error(tmp_path: Path) -> None:
    result = run("prices", "ABC", "--to", "yesterday", cwd=tmp_path)
    assert result.returncode == 2
    assert "not a date" in result.stderr


def test_screen_says_which_tickers_a_holiday_left_out(tmp_path: Path) -> None:
    from conftest import shared_path

    store = str(tmp_path / "h.duckdb")
    files = [str(shared_path("yahoo-30") / f"{t}.csv") for t in ("SPY", "BABA", "0700.HK")]
    assert run("ingest", "prices", *files, "--to", "2026-03-25", "--store", store, cwd=tmp_path)
    # 19 January 2026 is Martin Luther King Day: New York is closed, Hong Kong trades.
    found = run("screen", "close > 0", "--as-of", "2026-01-19", "--store", store, cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "1 match: close > 0" in found.stdout
    assert "1 of 3 tickers traded that day; the other 2 have no bar on it" in found.stdout


def test_untrusted_text_is_printed_as_written(tmp_path: Path) -> None:
    store = str(tmp_path / "n.duckdb")
    news = tmp_path / "n.jsonl"
    news.write_text(
        '{"published_at": "2024-01-03T12:00:00Z", "headline": "ABC [bold]cuts[/bold] [pdf]",'
        ' "tickers": "ABC"}\n'
    )
    ingest_abc(tmp_path, store)
    assert run("ingest", "news", str(news), "--store", store, cwd=tmp_path).returncode == 0
    shown = run("news", "ABC", "--as-of", "2024-01-08", "--store", store, cwd=tmp_path)
    assert "[bold]cuts[/bold]" in shown.stdout
    assert "[pdf]" in shown.stdout
