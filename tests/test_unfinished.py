"""Bars of sessions that have not closed yet are left out at ingest, said so, and stored only
when asked for; the Yahoo provider never stores one.

The real yahoo-30 files were downloaded during the 2026-03-26 New York session: their last row
is a partial bar. With the clock pinned to that session, the calendar can tell.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from helpers import HEADER, write_csv
from stockbrief import api, calendar
from stockbrief.errors import InputError
from stockbrief.sources.yahoo_payload import parse_payload
from stockbrief.store import Store

DURING = dt.datetime(2026, 3, 26, 14, 30, tzinfo=dt.UTC)
"""10:30 in New York on 26 March 2026 (trading), 22:30 in Hong Kong (closed at 16:00)."""
AFTER = dt.datetime(2026, 3, 26, 20, 30, tzinfo=dt.UTC)
"""16:30 in New York, half an hour after the close."""
LAST = dt.date(2026, 3, 26)
HONG_KONG = ("0700.HK", "1024.HK", "1810.HK", "2513.HK", "3690.HK")


def pin(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    monkeypatch.setattr(calendar, "now", lambda: moment)


@pytest.fixture(scope="module")
def yahoo30() -> Path:
    from conftest import shared_path

    return shared_path("yahoo-30")


@pytest.fixture(scope="module")
def rows_per_file(yahoo30: Path) -> dict[str, int]:
    return {f.stem: pl.read_csv(f).height for f in sorted(yahoo30.glob("*.csv"))}


def stored(path: Path) -> tuple[int, dict[str, dt.date]]:
    """Bars stored and each ticker's last date."""
    with Store(path, read_only=True) as db:
        summary = db.summary()
    lasts = dict(zip(summary["ticker"].to_list(), summary["last"].to_list(), strict=True))
    return int(summary["bars"].sum()), lasts


def test_the_yahoo_files_without_to_leave_out_the_new_york_session_still_trading(
    tmp_path: Path,
    yahoo30: Path,
    rows_per_file: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pin(monkeypatch, DURING)
    path = tmp_path / "s.duckdb"
    report = api.ingest("prices", sorted(yahoo30.glob("*.csv")), store=path)

    late = report.unfinished
    assert late is not None
    assert not late.stored
    assert late.count == 30 - len(HONG_KONG) == 25
    assert (Path(late.file).name, late.row, late.ticker, late.day) == (
        "AAPL.csv",
        rows_per_file["AAPL"],
        "AAPL",
        LAST,
    )
    assert (late.exchange, calendar.local_time(late.exchange, late.close)) == ("XNYS", "16:00 EDT")
    summary = report.summary()
    assert "25 bars of a session not closed yet left out" in summary
    assert f"AAPL.csv row {rows_per_file['AAPL']}, AAPL on 2026-03-26" in summary
    assert "whose XNYS session closes at 16:00 EDT" in summary
    assert "--allow-unfinished" in summary
    assert report.rows == sum(rows_per_file.values()) - 25

    count, lasts = stored(path)
    assert count == sum(rows_per_file.values()) - 25
    # Hong Kong closed at 16:00 HKT, 08:00 UTC: its 26 March bar on each file's last line is final.
    assert {t: lasts[t] for t in HONG_KONG} == dict.fromkeys(HONG_KONG, LAST)
    assert {t for t, d in lasts.items() if d == dt.date(2026, 3, 25)} == (
        set(rows_per_file) - set(HONG_KONG)
    )


def test_a_left_out_bar_is_not_validated_so_a_broken_partial_row_does_not_fail(
    tmp_path: Path, yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AMZN's partial last row has no open; left out, it stops nothing. Asked for, it is
    checked like any bar and refused, with the store unchanged."""
    amzn = yahoo30 / "AMZN.csv"
    assert pl.read_csv(amzn).tail(1)["Open"].to_list() == [None]
    pin(monkeypatch, DURING)
    path = tmp_path / "s.duckdb"
    api.ingest("prices", [amzn], store=path)
    before = stored(path)
    assert before[1]["AMZN"] == dt.date(2026, 3, 25)
    with pytest.raises(InputError) as caught:
        api.ingest("prices", [amzn], store=path, allow_unfinished=True)
    assert (Path(caught.value.file or "").name, caught.value.field) == ("AMZN.csv", "open")
    assert caught.value.row == pl.read_csv(amzn).height
    assert "partial session" in str(caught.value)
    assert stored(path) == before


def test_allow_unfinished_stores_the_bar_as_it_stands_and_says_so(
    tmp_path: Path, yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, DURING)
    path = tmp_path / "s.duckdb"
    report = api.ingest("prices", [yahoo30 / "BABA.csv"], store=path, allow_unfinished=True)
    assert report.unfinished is not None
    assert report.unfinished.stored
    assert "1 bar of a session not closed yet stored as it stands" in report.summary()
    with Store(path, read_only=True) as db:
        last = db.bars(["BABA"]).tail(1).row(0, named=True)
    assert (last["date"], last["close"], last["volume"]) == (LAST, 126.51000213623047, 2_038_229)


def test_after_the_close_the_last_bar_is_kept_and_nothing_is_said(
    tmp_path: Path, yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, AFTER)
    report = api.ingest("prices", [yahoo30 / "BABA.csv"], store=tmp_path / "s.duckdb")
    assert report.unfinished is None
    assert "not closed" not in report.summary()
    assert stored(tmp_path / "s.duckdb")[1]["BABA"] == LAST


def test_to_leaves_the_partial_bar_out_as_a_filtered_row(
    tmp_path: Path, yahoo30: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, DURING)
    report = api.ingest(
        "prices", [yahoo30 / "BABA.csv"], store=tmp_path / "s.duckdb", end=dt.date(2026, 3, 25)
    )
    assert (report.filtered, report.unfinished) == (1, None)


@pytest.mark.parametrize(
    ("moment", "left_out"),
    [
        (dt.datetime(2025, 11, 28, 12, 0, tzinfo=dt.UTC), True),  # 07:00 EST, before the open
        (dt.datetime(2025, 11, 28, 17, 59, tzinfo=dt.UTC), True),  # 12:59 EST
        (dt.datetime(2025, 11, 28, 18, 0, tzinfo=dt.UTC), False),  # 13:00 EST, the early close
        (dt.datetime(2025, 11, 28, 21, 0, tzinfo=dt.UTC), False),
    ],
)
def test_the_early_close_after_thanksgiving_counts(
    tmp_path: Path,
    yahoo30: Path,
    monkeypatch: pytest.MonkeyPatch,
    moment: dt.datetime,
    left_out: bool,
) -> None:
    """Real BABA bars up to Friday 28 November 2025, when New York closed at 13:00."""
    day = dt.date(2025, 11, 28)
    frame = pl.read_csv(yahoo30 / "BABA.csv", try_parse_dates=True).filter(pl.col("Date") <= day)
    frame.write_csv(tmp_path / "BABA.csv")
    pin(monkeypatch, moment)
    report = api.ingest("prices", [tmp_path / "BABA.csv"], store=tmp_path / "s.duckdb")
    assert (report.unfinished is not None) == left_out
    assert stored(tmp_path / "s.duckdb")[1]["BABA"] == (
        day - dt.timedelta(days=2) if left_out else day
    )
    if left_out:
        assert "whose XNYS session closes at 13:00 EST" in report.summary()


def test_a_long_file_leaves_out_only_the_exchange_still_trading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = write_csv(
        tmp_path / "long.csv",
        [
            "BABA,2026-03-25,129.48,130.65,128.34,129.87,12812200",
            "0700.HK,2026-03-26,501,507.5,495,495.6,22623315",
            "BABA,2026-03-26,126.72,127.03,126.17,126.51,2038229",
        ],
        "ticker," + HEADER,
    )
    pin(monkeypatch, DURING)
    report = api.ingest("prices", [long], store=tmp_path / "s.duckdb")
    assert report.unfinished is not None
    assert (report.unfinished.count, report.unfinished.row, report.unfinished.ticker) == (
        1,
        3,
        "BABA",
    )
    lasts = stored(tmp_path / "s.duckdb")[1]
    assert lasts == {"0700.HK": LAST, "BABA": dt.date(2026, 3, 25)}


def test_the_command_line_reports_it_and_exits_zero(tmp_path: Path, yahoo30: Path) -> None:
    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        argv = ["stockbrief", "ingest", "prices", str(yahoo30 / "BABA.csv"), *extra]
        argv += ["--store", str(tmp_path / "s.duckdb")]
        code = (
            "import datetime as dt, sys\n"
            "from stockbrief import calendar\n"
            f"calendar.now = lambda: dt.datetime.fromisoformat({DURING.isoformat()!r})\n"
            f"sys.argv = {argv!r}\n"
            "from stockbrief.cli import main\n"
            "main()\n"
        )
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    left = run()
    assert left.returncode == 0, left.stderr
    assert "1 bar of a session not closed yet left out" in " ".join(left.stdout.split())
    bad = run("--basis", "sideways")
    assert bad.returncode != 0
    assert "use traded or adjusted" in bad.stderr
    assert "Traceback" not in bad.stderr


# -- the Yahoo provider --------------------------------------------------------------------------


def baba_payload() -> dict[str, Any]:
    """BABA fetched on Monday 2026-01-05 at 10:00 New York time, mid-session."""
    path = Path(__file__).parent / "data" / "yahoo" / "baba-2026-01-05.json"
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def test_yahoo_leaves_out_a_bar_whose_session_had_not_closed_when_fetched() -> None:
    """A stale session end (the previous session's) would let the 5 January bar through as
    final; the calendar, read at the fetch time, leaves it out."""
    raw = baba_payload()
    raw["tickers"]["BABA"]["session_end"] = "2026-01-02T21:00:00Z"
    data = parse_payload(raw)
    assert data.partial_bars == 1
    assert data.bars["date"].max() == dt.date(2026, 1, 2)


def test_yahoo_judges_a_stored_payload_at_its_fetch_time_not_now(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Replayed long after the close, the payload's bar is still the partial one it was."""
    pin(monkeypatch, dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert parse_payload(baba_payload()).partial_bars == 1
    raw = baba_payload()
    raw["fetched_at"] = "2026-01-05T21:00:00Z"  # at the close
    data = parse_payload(raw)
    assert data.partial_bars == 0
    assert data.bars["date"].max() == dt.date(2026, 1, 5)
