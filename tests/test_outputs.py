"""Where output goes: bad --out paths refused before any work, replaced files named, an
interrupted daily run that leaves an index of what it wrote, watchlists that are not text, and
a demo that keeps its sample in its own store."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from helpers import good_rows, write_csv
from stockbrief import api, cli
from stockbrief.errors import InputError, StockbriefError
from stockbrief.store import Store

DAY = dt.date(2026, 1, 2)
WATCHED = ("BABA", "BIDU", "JD", "PDD", "BILI", "SPY", "MU")
NOTABLE = ["BABA", "BIDU", "BILI", "MU"]
"""The watched tickers with a notable event on DAY (a 2.5-sigma gain of BABA among them)."""


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path_factory.mktemp("outputs") / "o.duckdb"
    with Store(path) as db:
        api.ingest(
            "prices", [prices / f"{t}.csv" for t in WATCHED], store=db, end=dt.date(2026, 3, 25)
        )
        api.refresh(db)
    return path


@pytest.fixture
def watchlist(tmp_path: Path) -> Path:
    path = tmp_path / "watch.txt"
    path.write_text("\n".join(WATCHED) + "\n")
    return path


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written in, for this user (root writes anywhere on a normal
    file system, so for root it is /proc, where no file can be made)."""
    if os.geteuid() == 0:
        if not Path("/proc/self").exists():
            pytest.skip("running as root without /proc: no folder is unwritable")
        yield Path("/proc")
        return
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    yield folder
    folder.chmod(stat.S_IRWXU)


def bad_outs(tmp_path: Path, unwritable: Path) -> list[tuple[str, str]]:
    """--out values that cannot work, with what the error must say."""
    notes = tmp_path / "notes"
    notes.write_text("a file, not a folder\n")
    return [
        (str(notes), f"cannot write to {notes}: {notes} is a file, not a folder"),
        (
            str(notes / "daily"),
            f"{notes} is a file, not a folder, so {notes / 'daily'} cannot be made in it",
        ),
        (str(unwritable / "briefs"), f"files cannot be made in {unwritable}"),
    ]


def test_bad_out_paths_are_refused_before_any_work(
    tmp_path: Path, watchlist: Path, unwritable: Path
) -> None:
    # The store does not exist: an error about it would mean work began before --out was checked.
    missing = str(tmp_path / "missing.duckdb")
    for out, message in bad_outs(tmp_path, unwritable):
        for command in (
            ["brief", "BABA", "--format", "html", "--out", out],
            ["run", "--watchlist", str(watchlist), "--out", out],
        ):
            result = run(*command, "--store", missing, cwd=tmp_path)
            assert result.returncode == 1, (command, result.stdout)
            assert "Traceback" not in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr
            assert message in result.stderr, (command, result.stderr)
    assert not Path(missing).exists()
    # A brief file named inside a file is refused the same way.
    result = run("brief", "BABA", "--out", str(tmp_path / "notes" / "BABA.md"), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / 'notes'} is a file, not a folder" in result.stderr


def test_out_says_when_it_replaces_a_file(tmp_path: Path, store_file: Path) -> None:
    folder = tmp_path / "briefs"
    args = ["brief", "BABA", "--as-of", "2026-01-02", "--store", str(store_file), "--out"]
    first = run(*args, str(folder), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    target = folder / "BABA-2026-01-02-en.md"
    assert first.stdout == f"wrote {target}\n"
    again = run(*args, str(folder), cwd=tmp_path)
    assert again.stdout == f"replaced {target}\n"
    assert target.read_text().startswith("# BABA jumped 6.2%")
    named = tmp_path / "note.md"
    assert run(*args, str(named), cwd=tmp_path).stdout == f"wrote {named}\n"
    assert run(*args, str(named), cwd=tmp_path).stdout == f"replaced {named}\n"


def listed(folder: Path) -> list[str]:
    """The tickers the day's index lists, after checking that its files are all there."""
    index = json.loads((folder / "index.json").read_text())
    for entry in index["briefs"]:
        assert all((folder / name).is_file() for name in entry["files"].values())
    assert f'href="{index["briefs"][-1]["files"]["html"]}"' in (folder / "index.html").read_text()
    return [entry["ticker"] for entry in index["briefs"]]


def test_an_interrupted_run_leaves_an_index_of_what_it_wrote(
    tmp_path: Path, store_file: Path, watchlist: Path
) -> None:
    out = tmp_path / "daily"
    folder = out / DAY.isoformat()
    started: list[str] = []

    def stop_at_the_third(ticker: str) -> None:
        started.append(ticker)
        if len(started) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        api.daily_run(watchlist, out, as_of=DAY, store=store_file, progress=stop_at_the_third)
    assert caught.value.__notes__ == [
        f"the 2 briefs written before it are listed in {folder / 'index.html'}"
    ]
    assert listed(folder) == NOTABLE[:2]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            *(f"{t}-2026-01-02-en.{x}" for t in NOTABLE[:2] for x in ("md", "html", "json")),
            "index.html",
            "index.json",
        ]
    )
    # A run finished afterwards lists them all and names what it replaced.
    report = api.daily_run(watchlist, out, as_of=DAY, store=store_file)
    assert listed(folder) == NOTABLE
    assert sorted(p.name for p in report.replaced) == sorted(
        [
            *(f"{t}-2026-01-02-en.{x}" for t in NOTABLE[:2] for x in ("md", "html", "json")),
            "index.html",
            "index.json",
        ]
    )
    assert report.summary().endswith("(8 existing files replaced)")


def test_an_error_mid_run_says_where_the_index_is(
    tmp_path: Path, store_file: Path, watchlist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brief = api._brief

    def failing(db: Store, symbol: str, *args: object) -> object:
        if symbol == "BILI":
            raise InputError("a stored row cannot be read", file="bars", row=7, field="close")
        return brief(db, symbol, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "_brief", failing)
    out = tmp_path / "daily"
    result = CliRunner().invoke(
        cli.app,
        [
            "run",
            "--watchlist",
            str(watchlist),
            "--out",
            str(out),
            "--as-of",
            "2026-01-02",
            "--store",
            str(store_file),
        ],
    )
    assert isinstance(result.exception, StockbriefError)
    index = out / DAY.isoformat() / "index.html"
    assert str(result.exception) == (
        "bars, row 7, field 'close': a stored row cannot be read; the 2 briefs written before it"
        f" are listed in {index}"
    )
    assert listed(index.parent) == ["BABA", "BIDU"]

    def interrupted(db: Store, symbol: str, *args: object) -> object:
        if symbol == "BIDU":
            raise KeyboardInterrupt
        return brief(db, symbol, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "_brief", interrupted)
    other = tmp_path / "other"
    result = CliRunner().invoke(
        cli.app,
        [
            "run",
            "--watchlist",
            str(watchlist),
            "--out",
            str(other),
            "--as-of",
            "2026-01-02",
            "--store",
            str(store_file),
        ],
    )
    assert result.exit_code == 130
    index = other / "2026-01-02" / "index.html"
    assert result.output.strip() == f"interrupted; the brief written before it is listed in {index}"
    assert listed(other / "2026-01-02") == ["BABA"]


def test_watchlists_that_are_not_text(tmp_path: Path) -> None:
    binary = tmp_path / "watch.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x06\x00BABA")
    with pytest.raises(
        InputError, match=r"watch\.xlsx: binary data, not a watchlist \(a NUL byte at byte 5\)"
    ):
        api.read_watchlist(binary)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("BABA\nNESN.SW # Nestl\u00e9\n".encode("latin-1"))
    with pytest.raises(
        InputError, match=r"latin\.txt: not UTF-8 text \(byte 20 cannot be decoded\)"
    ):
        api.read_watchlist(latin)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(17 << 20)
    with pytest.raises(InputError, match=r"huge\.txt: 17 MiB is too large for a watchlist"):
        api.read_watchlist(huge)
    columns = write_csv(tmp_path / "list.csv", ["BABA,Alibaba"], "tickers,name")
    with pytest.raises(InputError, match="names no ticker column; call it ticker or symbol"):
        api.read_watchlist(columns)
    with pytest.raises(InputError, match="is a folder"):
        api.read_watchlist(tmp_path)
    table = write_csv(tmp_path / "table", ["Alibaba,baba", "Nobody,", "JD.com,JD"], "name,Symbol")
    assert api.read_watchlist(table) == ["BABA", "JD"]
    result = run("run", "--watchlist", str(binary), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {binary}: binary data, not a watchlist")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_the_demo_store_is_beside_the_configured_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("STOCKBRIEF_STORE", raising=False)
    assert api.demo_store_path() == Path("stockbrief-demo.duckdb")
    monkeypatch.setenv("STOCKBRIEF_STORE", str(tmp_path / "data" / "mine.duckdb"))
    assert api.demo_store_path() == tmp_path / "data" / "stockbrief-demo.duckdb"
    assert api.demo_store_path(tmp_path / "x.duckdb") == tmp_path / "x.duckdb"


def test_the_sample_never_joins_other_data(tmp_path: Path, yahoo30: Path) -> None:
    with Store(tmp_path / "mine.duckdb") as db:
        api.ingest("prices", [write_csv(tmp_path / "ABC.csv", good_rows())], store=db)
        with pytest.raises(
            InputError,
            match=r"mine\.duckdb: holds 1 other ticker \(ABC\); the demo sample is kept apart",
        ):
            api.load_sample(db)
        assert db.tickers() == ["ABC"]
    # Real bars of one of the sample's tickers: its 2000-2013 history would join them unseen.
    with Store(tmp_path / "aapl.duckdb") as db:
        api.ingest("prices", [yahoo30 / "AAPL.csv"], store=db, end=dt.date(2026, 3, 25))
        before = db.summary()
        with pytest.raises(InputError, match=r"holds 1,312 bars of AAPL besides the sample's"):
            api.load_sample(db)
        assert db.summary().equals(before)
        assert db.actions().is_empty()
        assert db.securities().is_empty()
    # The demo's own store takes the sample again as often as asked.
    with Store(tmp_path / "demo.duckdb") as db:
        first = api.load_sample(db)
        again = api.load_sample(db)
        assert [r.result.inserted for r in first] == [12154, 95]
        assert [(r.result.inserted, r.result.unchanged) for r in again] == [(0, 12154), (0, 95)]
        assert db.tickers() == ["AAPL", "FB", "GOOG", "IBM", "MSFT"]


def test_the_demo_and_then_ingest_keep_apart(tmp_path: Path, yahoo30: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKBRIEF_")}
    demo = run("demo", cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.startswith(
        "demo store: stockbrief-demo.duckdb (the sample's own; ingest and the other commands use"
        " stockbrief.duckdb unless given --store)\n"
    )
    assert "wrote briefs/" in demo.stdout
    assert (tmp_path / "stockbrief-demo.duckdb").exists()
    assert not (tmp_path / "stockbrief.duckdb").exists()
    ingest = run(
        "ingest", "prices", str(yahoo30 / "BABA.csv"), "--to", "2026-03-25", cwd=tmp_path, env=env
    )
    assert ingest.returncode == 0, ingest.stderr
    info = run("info", "--format", "csv", cwd=tmp_path, env=env)
    assert pl.read_csv(info.stdout.encode())["ticker"].to_list() == ["BABA"]
    # Run again, the demo says it replaced its brief files.
    assert "replaced briefs/" in run("demo", cwd=tmp_path, env=env).stdout
