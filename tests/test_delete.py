"""Mending a store: `stockbrief delete` removes a ticker's rows in one transaction, keeps the
per-ticker stats true, and leaves the next incremental compute equal to a full one."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from helpers import good_rows, write_csv
from stockbrief import api
from stockbrief.errors import InputError, NotFoundError
from stockbrief.store import Store

END = dt.date(2026, 3, 25)
JUNE = (dt.date(2025, 6, 1), dt.date(2025, 6, 30))


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real bars of three tickers, a split and dividends, fully computed; tests copy it."""
    from conftest import shared_path

    folder = tmp_path_factory.mktemp("delete")
    prices = shared_path("yahoo-30")
    path = folder / "base.duckdb"
    with Store(path) as db:
        files = [prices / f"{t}.csv" for t in ("BABA", "JD", "SPY")]
        api.ingest("prices", files, store=db, end=END)
        actions = write_csv(
            folder / "actions.csv",
            [
                "JD,2024-06-03,split,2",
                "JD,2025-04-08,dividend,0.5",
                "BABA,2025-06-12,dividend,1.05",
            ],
            "ticker,date,kind,value",
        )
        api.ingest("actions", [actions], store=db)
        assert api.refresh(db).mode == "full"
    return path


def copy(source: Path, target: Path) -> Path:
    """A store is its file and, beside it, the engine state's folder."""
    shutil.copy(source, target)
    engine = source.with_name(source.name + ".engine")
    if engine.is_dir():
        shutil.copytree(engine, target.with_name(target.name + ".engine"))
    return target


def engine(db: Store) -> dict[str, pl.DataFrame]:
    """Everything the engine derived and keeps: events, state frames and their fingerprint."""
    frames, meta = db.load_engine_state(api.STATE_FRAMES)
    kept = {
        name: frame.sort("ticker", *(["date"] if "date" in frame.columns else []))
        for name, frame in frames.items()
    }
    return {"events": db.events(), "meta": meta, **kept}


@pytest.mark.parametrize(
    ("ticker", "what", "span", "gone"),
    [
        ("BABA", "bars", JUNE, {"bars": (20, dt.date(2025, 6, 2), dt.date(2025, 6, 30))}),
        ("JD", "actions", (None, None), {"actions": (2, dt.date(2024, 6, 3), dt.date(2025, 4, 8))}),
        ("BABA", "bars", (dt.date(2026, 3, 1), None), {"bars": (18, dt.date(2026, 3, 2), END)}),
        ("SPY", "all", (None, None), {"bars": (1312, dt.date(2021, 1, 4), END)}),
    ],
    ids=["bars-in-june", "every-action", "the-latest-bars", "a-whole-ticker"],
)
def test_the_next_compute_after_a_delete_equals_a_full_compute(
    tmp_path: Path,
    computed: Path,
    ticker: str,
    what: api.DeleteWhat,
    span: tuple[dt.date | None, dt.date | None],
    gone: dict[str, tuple[int, dt.date, dt.date]],
) -> None:
    path = copy(computed, tmp_path / "mended.duckdb")
    with Store(path) as db:
        before = db.summary().filter(pl.col("ticker") == ticker).row(0, named=True)
        report = api.delete(ticker, what=what, start=span[0], end=span[1], store=db)
        assert {t: v for t, v in report.removed.items() if v[0]} == gone
        # The stats every write keeps say what is left, as a scan of the bars does.
        left = db.bars([ticker])
        kept = db.summary().filter(pl.col("ticker") == ticker)
        if left.is_empty():
            assert kept.is_empty()
            assert ticker not in db.tickers()
        else:
            row = kept.row(0, named=True)
            assert (row["first"], row["last"], row["bars"]) == (
                left["date"].min(),
                left["date"].max(),
                left.height,
            )
            assert row["actions"] == db.actions([ticker]).height
            assert row["bars"] + gone.get("bars", (0,))[0] == before["bars"]
        assert db.events([ticker]).is_empty()
    full = copy(path, tmp_path / "full.duckdb")
    with Store(path) as db:
        update = api.refresh(db)
        assert update.mode == "incremental"
        # Only the mended ticker is computed, over every bar it has left.
        assert (update.tickers, update.rows) == ((1, left.height) if left.height else (0, 0))
        incremental = engine(db)
    with Store(full) as db:
        assert api.refresh(db, full=True).mode == "full"
        complete = engine(db)
    assert incremental.keys() == complete.keys()
    for name, frame in complete.items():
        assert incremental[name].equals(frame), name
    assert set(complete["events"]["ticker"].unique()) == {"BABA", "JD", "SPY"} - (
        {ticker} if left.is_empty() else set()
    )


def test_deleting_bars_the_engine_has_not_seen_yet(tmp_path: Path, yahoo30: Path) -> None:
    # Stored after the last compute, then deleted before the next: the older history the
    # engine kept is untouched, and the result must still be a full compute's.
    files = [yahoo30 / f"{t}.csv" for t in ("BABA", "JD")]
    path = tmp_path / "late.duckdb"
    with Store(path) as db:
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 18))
        api.refresh(db)
        api.ingest("prices", files, store=db, end=END)
        report = api.delete("BABA", what="bars", start=dt.date(2026, 3, 23), store=db)
        assert report.removed["bars"] == (3, dt.date(2026, 3, 23), END)
    full = copy(path, tmp_path / "late-full.duckdb")
    with Store(path) as db:
        api.refresh(db)
        incremental = engine(db)
    with Store(full) as db:
        api.refresh(db, full=True)
        complete = engine(db)
    for name, frame in complete.items():
        assert incremental[name].equals(frame), name
    assert complete["meta"].filter(pl.col("ticker") == "BABA")["last_date"][0] == dt.date(
        2026, 3, 20
    )


def test_a_dry_run_counts_and_changes_nothing(tmp_path: Path, computed: Path) -> None:
    path = copy(computed, tmp_path / "dry.duckdb")
    with Store(path) as db:
        before = (db.summary(), engine(db), db.actions())
        report = api.delete("baba", what="all", start=JUNE[0], end=JUNE[1], dry_run=True, store=db)
        assert report.ticker == "BABA"
        assert report.removed["bars"] == (20, dt.date(2025, 6, 2), dt.date(2025, 6, 30))
        assert report.removed["actions"] == (1, dt.date(2025, 6, 12), dt.date(2025, 6, 12))
        assert report.rows == 21
        assert "would delete from BABA (from 2025-06-01 to 2025-06-30)" in report.summary()
        assert "nothing was changed" in report.summary()
        after = (db.summary(), engine(db), db.actions())
    assert before[0].equals(after[0])
    assert before[2].equals(after[2])
    for name, frame in before[1].items():
        assert frame.equals(after[1][name]), name


def test_kept_universe_studies_that_counted_the_rows_go(tmp_path: Path, computed: Path) -> None:
    path = copy(computed, tmp_path / "studies.duckdb")
    with Store(path) as db:
        assert db.universe_evidence(END) is not None  # kept by the full compute, for END
        api.delete(
            "BABA", what="bars", start=dt.date(2021, 1, 4), end=dt.date(2021, 1, 8), store=db
        )
        assert db.universe_evidence(END) is None


def news_line(published: str, headline: str, tickers: list[str]) -> str:
    return json.dumps({"published_at": published, "headline": headline, "tickers": tickers})


def test_news_ratings_kpis_and_consensus_by_date(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
    news = tmp_path / "news.jsonl"
    news.write_text(
        "\n".join(
            [
                news_line("2026-01-02T14:00:00Z", "Alibaba alone", ["BABA"]),
                news_line("2026-01-02T15:00:00Z", "Alibaba and JD", ["BABA", "JD"]),
                news_line("2026-01-05T09:00:00Z", "Alibaba later", ["BABA"]),
                news_line("2026-01-02T16:00:00Z", "JD alone", ["JD"]),
            ]
        )
        + "\n"
    )
    with Store(tmp_path / "n.duckdb") as db:
        api.ingest("news", [news], store=db)
        for kind in ("ratings", "kpis", "consensus"):
            api.ingest(kind, [examples / f"{kind}.csv"], store=db)
        day = dt.date(2026, 1, 2)
        report = api.delete("BABA", what="news", start=day, end=day, store=db)
        assert report.removed == {"news_tickers": (2, day, day), "news": (1, day, day)}
        left = db.read("news").sort("published_at")["headline"].to_list()
        assert left == ["Alibaba and JD", "JD alone", "Alibaba later"]
        assert db.read("news_tickers", ["BABA"]).height == 1
        assert db.read("news_tickers", ["JD"]).height == 2
        ratings = api.delete("BABA", what="ratings", store=db)
        assert ratings.removed == {"ratings": (2, day, day)}
        assert db.read("ratings").is_empty()
        # KPIs are dated by their period end.
        kpis = api.delete("BABA", what="kpis", end=dt.date(2025, 10, 31), store=db)
        assert kpis.removed["kpis"] == (1, dt.date(2025, 9, 30), dt.date(2025, 9, 30))
        assert db.read("kpis")["period_end"].to_list() == [
            dt.date(2025, 11, 24),
            dt.date(2025, 12, 31),
        ]
        rest = api.delete("BABA", store=db)
        assert {t: n for t, (n, _, _) in rest.removed.items() if n} == {
            "consensus": 1,
            "news_tickers": 1,
            "news": 1,
            "kpis": 2,
        }
        # An item JD is linked to stays; so does JD's link to it.
        assert sorted(db.read("news")["headline"]) == ["Alibaba and JD", "JD alone"]
        assert db.read("news_tickers", ["JD"]).height == 2


def test_unknown_tickers_empty_ranges_and_bad_options(tmp_path: Path, computed: Path) -> None:
    path = copy(computed, tmp_path / "errors.duckdb")
    with Store(path) as db:
        before = db.summary()
        with pytest.raises(NotFoundError, match=r"unknown ticker 'BABX': .*did you mean BABA\?"):
            api.delete("BABX", store=db)
        with pytest.raises(InputError, match="--from 2025-07-01 is after --to 2025-06-01"):
            api.delete("BABA", start=dt.date(2025, 7, 1), end=dt.date(2025, 6, 1), store=db)
        with pytest.raises(InputError, match="unknown kind 'prices'"):
            api.delete("BABA", what="prices", store=db)  # type: ignore[arg-type]
        weekend = api.delete("BABA", start=dt.date(2026, 1, 3), end=dt.date(2026, 1, 4), store=db)
        assert weekend.rows == 0
        assert weekend.summary().startswith(
            "nothing to delete: BABA has no bars, actions, ratings, consensus rows, news links,"
            " KPIs from 2026-01-03 to 2026-01-04"
        )
        assert db.summary().equals(before)
    missing = tmp_path / "missing.duckdb"
    with pytest.raises(NotFoundError, match="no store here"):
        api.delete("BABA", store=missing)
    assert not missing.exists()


def test_deleting_the_close_a_dividend_stands_on_is_refused(tmp_path: Path) -> None:
    # Closes 101..105 on five sessions; a dividend of 103.5 on the last is below the 104 before it.
    with Store(tmp_path / "d.duckdb") as db:
        api.ingest("prices", [write_csv(tmp_path / "ABC.csv", good_rows())], store=db)
        dividend = write_csv(
            tmp_path / "a.csv", ["ABC,2024-01-08,dividend,103.5"], "ticker,date,kind,value"
        )
        api.ingest("actions", [dividend], store=db)
        before = db.summary()
        with pytest.raises(
            InputError, match=r"ABC: after this delete, dividend 103\.5 on 2024-01-08"
        ):
            api.delete(
                "ABC", what="bars", start=dt.date(2024, 1, 5), end=dt.date(2024, 1, 5), store=db
            )
        assert db.summary().equals(before)
        assert db.bars(["ABC"]).height == 5
        # Deleting the dividend with its bar is fine.
        done = api.delete("ABC", start=dt.date(2024, 1, 5), store=db)
        assert (done.removed["bars"][0], done.removed["actions"][0]) == (2, 1)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args], capture_output=True, text=True, cwd=cwd
    )


def test_the_command(tmp_path: Path) -> None:
    store = str(tmp_path / "cli.duckdb")
    prices = write_csv(tmp_path / "ABC.csv", good_rows())
    assert run("ingest", "prices", str(prices), "--store", store, cwd=tmp_path).returncode == 0
    dry = run("delete", "abc", "--to", "2024-01-03", "--dry-run", "--store", store, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[:2] == [
        "would delete from ABC (up to 2024-01-03):",
        "  2 bars, 2024-01-02 to 2024-01-03",
    ]
    done = run(
        "delete", "ABC", "--to", "2024-01-03", "--what", "bars", "--store", store, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deleted from ABC (up to 2024-01-03):\n  2 bars")
    info = run("info", "--store", store, cwd=tmp_path)
    assert "1 tickers, 3 bars" in info.stdout
    unknown = run("delete", "ABD", "--store", store, cwd=tmp_path)
    assert unknown.returncode == 1
    assert (
        unknown.stderr.strip()
        == "error: unknown ticker 'ABD': nothing stored for it; did you mean ABC?"
    )
    bad = run("delete", "ABC", "--what", "prices", "--store", store, cwd=tmp_path)
    assert bad.returncode == 2
    assert "use one of bars, actions, ratings, consensus, news, kpis, all" in bad.stderr
    assert "3 bars" in run("info", "--store", store, cwd=tmp_path).stdout
