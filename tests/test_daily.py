"""The screen command and the daily run over a watchlist."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from stockbrief import api
from stockbrief.errors import InputError, NotFoundError
from stockbrief.store import Store

DAY = dt.date(2026, 1, 2)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    db = Store(tmp_path_factory.mktemp("daily") / "d.duckdb")
    files = [prices / f"{t}.csv" for t in ("BABA", "BIDU", "JD", "PDD", "BILI", "SPY", "MU")]
    api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
    yield db
    db.close()


def test_screen_expression_and_preset(store: Store) -> None:
    found = api.screen("close > sma_200 and rsi_14 > 60", as_of=DAY, sort="rsi_14", store=store)
    assert found["ticker"].to_list() == ["BIDU", "MU"]
    assert found["date"].unique().to_list() == [DAY]
    assert api.screen("oversold", as_of=DAY, store=store).is_empty()
    with pytest.raises(InputError, match="did you mean 'sma_200'"):
        api.screen("close > sma200", store=store)


def test_screen_and_study_see_consensus_changes(tmp_path: Path) -> None:
    from helpers import write_csv

    rows = ["BABA,A,2025-12-01,Buy,180", "BABA,B,2025-12-01,Buy,190", "BABA,A,2026-01-05,Buy,230"]
    ratings = write_csv(tmp_path / "r.csv", rows, "ticker,firm,date,rating,target")
    copy = Store(tmp_path / "copy.duckdb")
    try:
        api.ingest("prices", shared_prices(["BABA", "JD"]), store=copy)
        api.ingest("ratings", [ratings], store=copy)
        day = dt.date(2026, 1, 5)
        found = api.screen("event(target_raised)", as_of=day, store=copy)
        assert found["ticker"].to_list() == ["BABA"]
        assert api.screen("event(target_raised)", as_of=DAY, store=copy).is_empty()
        study = api.study("target_raised", horizons=(5,), until=dt.date(2026, 3, 25), store=copy)
        assert study.row(5)["n"] == 1
    finally:
        copy.close()


def shared_prices(tickers: list[str]) -> list[Path]:
    from conftest import shared_path

    return [shared_path("yahoo-30") / f"{t}.csv" for t in tickers]


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_daily_run_writes_notable_briefs_and_an_index_idempotently(
    tmp_path: Path, store: Store
) -> None:
    watchlist = tmp_path / "watch.txt"
    watchlist.write_text("# China internet\nBABA\nbidu\nJD  # comment\nPDD\nBILI\nSPY\n")
    report = api.daily_run(watchlist, tmp_path / "out", as_of=DAY, store=store)
    folder = tmp_path / "out" / "2026-01-02"
    index = json.loads((folder / "index.json").read_text())
    assert report.day == DAY
    assert report.watched == 6
    assert [e["ticker"] for e in index["briefs"]] == sorted(report.notable)
    assert "BABA" in report.notable  # a 2.5-sigma gain
    assert "SPY" not in report.notable  # a quiet day
    assert (folder / "BABA-2026-01-02-en.html").exists()
    # Quiet tickers are listed with their close and change, and the day is summed up.
    spy = api.prices("SPY", store=store).filter(pl.col("date") <= DAY).tail(2)["close"].to_list()
    quiet = {m["ticker"]: m for m in index["quiet"]}
    assert set(quiet) == {"BABA", "BIDU", "JD", "PDD", "BILI", "SPY"} - set(report.notable)
    assert quiet["SPY"]["close"] == pytest.approx(spy[1], rel=1e-12)
    assert quiet["SPY"]["change"] == pytest.approx(spy[1] / spy[0] - 1, rel=1e-12)
    summary = index["summary"]
    assert summary["rose"] + summary["fell"] == 6
    closes = {
        t: api.prices(t, store=store).filter(pl.col("date") <= DAY).tail(2)["close"].to_list()
        for t in ("BABA", "BIDU", "JD", "PDD", "BILI", "SPY")
    }
    best = max(closes, key=lambda t: closes[t][1] / closes[t][0])
    assert best == "BIDU"  # Baidu's +15.0% led the Chinese names that day
    assert summary["best"]["ticker"] == best
    html = (folder / "index.html").read_text()
    assert "Nothing notable" in html
    assert "the biggest gain was BIDU (+15.0%)" in html
    first = digests(folder)
    api.daily_run(watchlist, tmp_path / "out", as_of=DAY, store=store)
    assert digests(folder) == first


def test_watchlist_errors(tmp_path: Path, store: Store) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("BABA\nnot a ticker!\n")
    with pytest.raises(InputError) as caught:
        api.read_watchlist(bad)
    assert caught.value.row == 2
    unknown = tmp_path / "unknown.txt"
    unknown.write_text("BABX\n")
    with pytest.raises(NotFoundError, match="did you mean BABA"):
        api.daily_run(unknown, tmp_path / "o", store=store)


def test_a_screen_of_the_latest_session_reads_the_saved_engine_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stockbrief import compute

    db = Store(tmp_path / "fast.duckdb")
    try:
        files = shared_prices(["BABA", "JD", "PDD", "BIDU", "SPY", "0700.HK"])
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
        screens = [
            "crossed_above(sma_50) and rel_volume >= 2",
            "event(gap_up) or event(volume_surge)",
            "breakouts",
            "close > prev(close) and rsi_14 < 60",
        ]
        computed = {s: api.screen(s, store=db) for s in screens}  # no saved state yet
        assert computed[screens[0]]["ticker"].to_list() == ["JD"]
        studied = api.study("gap_up", horizons=(5, 20), store=db)
        api.refresh(db)

        def recompute(*args: object, **kwargs: object) -> None:
            raise AssertionError("the screen recomputed the universe")

        with monkeypatch.context() as patch:
            patch.setattr(compute, "compute", recompute)
            for text in screens:
                assert api.screen(text, store=db).equals(computed[text]), text
            again = api.study("gap_up", horizons=(5, 20), store=db)
            assert again.to_json() == studied.to_json()
        # An earlier session is computed afresh, and so is a bar the state has not seen.
        assert api.screen("close > 0", as_of=DAY, store=db)["date"].unique().to_list() == [DAY]
        api.ingest("prices", shared_prices(["BABA"]), store=db)  # adds 2026-03-26
        with monkeypatch.context() as patch:
            patch.setattr(compute, "compute", recompute)
            for as_of in (DAY, None):
                with pytest.raises(AssertionError, match="recomputed"):
                    api.screen("close > 0", as_of=as_of, store=db)
    finally:
        db.close()


def test_the_daily_run_alerts_each_brief_once_and_skips_unknown_tickers(
    tmp_path: Path, store: Store
) -> None:
    from test_alerts import free_port, webhook_server

    watchlist = tmp_path / "watch.txt"
    watchlist.write_text("BABA\nBABX\nSPY\n")
    with webhook_server() as (port, received):
        url = f"json://127.0.0.1:{port}/hook"
        dry = api.daily_run(
            watchlist, tmp_path / "out", as_of=DAY, store=store, notify=[url], dry_run=True
        )
        assert [d.outcome for d in dry.deliveries] == ["would send"]
        assert received == []
        report = api.daily_run(
            watchlist, tmp_path / "out", as_of=DAY, store=store, notify=[url], lang="de"
        )
        assert report.skipped == ("BABX",)
        assert "skipped, not in the store: BABX" in report.summary()
        assert [(d.ticker, d.outcome) for d in report.deliveries] == [("BABA", "sent")]
        (payload,) = received
        assert str(payload["title"]).startswith("BABA: ")
        assert "Standardabweichungen" in str(payload["message"])  # the German evidence line
        again = api.daily_run(watchlist, tmp_path / "out", as_of=DAY, store=store, notify=[url])
        assert [d.outcome for d in again.deliveries] == ["already sent"]
        assert len(received) == 1

    # A destination that is down: the run still writes its briefs, says so and exits 2.
    from typer.testing import CliRunner

    from stockbrief.cli import app

    path = tmp_path / "cli.duckdb"
    api.ingest("prices", shared_prices(["BABA", "SPY"]), store=path, end=dt.date(2026, 3, 25))
    dead = f"json://127.0.0.1:{free_port()}/hook"
    args = ["run", "--watchlist", str(watchlist), "--out", str(tmp_path / "o2")]
    args += ["--notify", dead, "--as-of", DAY.isoformat(), "--store", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "alert BABA -> json://127.0.0.1" in result.output
    assert "failed" in result.output
    assert (tmp_path / "o2" / "2026-01-02" / "BABA-2026-01-02-en.md").exists()


def test_the_daily_run_takes_a_list_stored_from_the_dashboard(tmp_path: Path, store: Store) -> None:
    store.save_watchlist("china internet", ["BABA", "JD"])
    report = api.daily_run("china internet", tmp_path / "out", as_of=DAY, store=store)
    assert report.watched == 2
    assert "BABA" in report.notable
    with pytest.raises(NotFoundError, match="stored lists: china internet"):
        api.daily_run("chinese internet", tmp_path / "out", as_of=DAY, store=store)
    with pytest.raises(NotFoundError, match="no such watchlist file"):
        api.daily_run(tmp_path / "missing.txt", tmp_path / "out", as_of=DAY, store=store)


def test_alert_tables_of_a_settings_file_run_their_own_rules(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stockbrief.cli import app
    from test_alerts import webhook_server

    path = tmp_path / "s.duckdb"
    tickers = ["BABA", "BIDU", "JD", "SPY"]
    api.ingest("prices", shared_prices(tickers), store=path, end=dt.date(2026, 3, 25))
    (tmp_path / "china.txt").write_text("BABA\nBIDU\nJD\n")
    with webhook_server() as (port, received):
        settings = tmp_path / "stockbrief.toml"
        settings.write_text(
            "[[alert]]\n"
            'name = "ten percent days"\n'
            'watchlist = "china.txt"\n'
            'rule = "close > prev(close) * 1.1"\n'
            'lang = "de"\n'
            'format = "html"\n'
            f'notify = "json://127.0.0.1:{port}/hook"\n'
        )
        args = ["run", "--out", str(tmp_path / "out"), "--as-of", DAY.isoformat()]
        args += ["--store", str(path), "--config", str(settings)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "[ten percent days]" in result.output
        # Only Baidu rose more than 10% that day (+15.0%); BABA's +6.2% does not count here.
        assert [str(p["title"]).split(":")[0] for p in received] == ["BIDU"]
        assert (tmp_path / "out" / "2026-01-02" / "BIDU-2026-01-02-de.html").exists()
        again = CliRunner().invoke(app, args)
        assert again.exit_code == 0, again.output
        assert "already sent" in again.output
        assert len(received) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[alert]]\nname = "x"\nwatchlist = "china.txt"\nlang = "fr"\nnotify = "json://h"\n'
    )
    result = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "o"), "--config", str(bad)])
    # main() prints a user error as one line and exits 1; here it reaches the runner as raised.
    assert isinstance(result.exception, InputError)
    assert "bad.toml, field 'alert[1].lang': 'fr' is not one of en, de" in str(result.exception)


def test_the_daily_run_writes_the_formats_asked(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stockbrief.cli import app

    path = tmp_path / "f.duckdb"
    api.ingest("prices", shared_prices(["BABA", "SPY"]), store=path, end=dt.date(2026, 3, 25))
    (tmp_path / "w.txt").write_text("BABA\nSPY\n")
    args = ["run", "--watchlist", str(tmp_path / "w.txt"), "--out", str(tmp_path / "out")]
    args += ["--as-of", DAY.isoformat(), "--store", str(path)]
    result = CliRunner().invoke(app, [*args, "--format", "md,pdf", "--lang", "de"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "2026-01-02"
    assert sorted(p.name for p in folder.glob("BABA-*")) == [
        "BABA-2026-01-02-de.md",
        "BABA-2026-01-02-de.pdf",
    ]
    assert (folder / "BABA-2026-01-02-de.pdf").read_bytes().startswith(b"%PDF")
    index = json.loads((folder / "index.json").read_text())
    assert index["briefs"][0]["files"] == {
        "md": "BABA-2026-01-02-de.md",
        "pdf": "BABA-2026-01-02-de.pdf",
    }
    bad = CliRunner().invoke(app, [*args, "--format", "docx"])
    assert bad.exit_code == 2
    assert "'docx': use md, html, json, pdf" in bad.output


def test_an_alert_that_failed_goes_out_with_the_next_sessions_run(tmp_path: Path) -> None:
    from test_alerts import free_port, webhook_server

    path = tmp_path / "r.duckdb"
    api.ingest("prices", shared_prices(["BABA", "SPY"]), store=path, end=dt.date(2026, 3, 25))
    watchlist = tmp_path / "w.txt"
    watchlist.write_text("BABA\n")
    port = free_port()
    url = f"json://127.0.0.1:{port}/hook"
    first = api.daily_run(watchlist, tmp_path / "out", as_of=DAY, store=path, notify=[url])
    assert [(d.ticker, d.session, d.outcome) for d in first.deliveries] == [("BABA", DAY, "failed")]
    with webhook_server(port) as (_, received):  # the destination is up again
        later = api.daily_run(
            watchlist, tmp_path / "out", as_of=dt.date(2026, 1, 5), store=path, notify=[url]
        )
        retried = [d for d in later.deliveries if d.session == DAY]
        assert [(d.ticker, d.outcome, d.attempts) for d in retried] == [("BABA", "sent", 2)]
        assert str(received[0]["title"]).startswith("BABA: ")
        assert "of 2 January 2026 could not be delivered then" in str(received[0]["message"])
        again = api.daily_run(
            watchlist, tmp_path / "out", as_of=dt.date(2026, 1, 5), store=path, notify=[url]
        )
        assert [d for d in again.deliveries if d.session == DAY] == []
        assert len(received) == len(later.deliveries)
