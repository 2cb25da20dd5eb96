"""The price basis of each ticker: recorded at ingest, one per ticker, never adjusted twice, and
named by briefs (JSON sources, a sentence in English and German) and by ``check``.

The real yahoo-30 files are Yahoo's auto-adjusted prices: BABA's closes before its 2025-06-12
ex-dividend date already include the $2.00 dividend (factor 0.98338), so they are ingested with
the ``adjusted`` basis here, and as ``traded`` for contrast.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from helpers import good_rows, write_csv
from stockbrief import api
from stockbrief.errors import ConflictError, InputError
from stockbrief.sources.yahoo_payload import parse_payload
from stockbrief.store import MIGRATIONS, Store

DAY = dt.date(2026, 1, 2)
END = dt.date(2026, 3, 25)
EX_DATE = dt.date(2025, 6, 12)
ACTIONS = [
    "BABA,2025-06-12,dividend,2.00",  # the real one, already in Yahoo's adjusted closes
    "BABA,2025-09-02,split,2",  # fictional: were it applied, earlier closes would halve
]
SENTENCES = {
    "en": "Prices are adjusted by the data provider for splits and dividends",
    "de": "Die Kurse sind vom Datenanbieter dividenden- und splitbereinigt",
}


@pytest.fixture(scope="module")
def baba_file() -> Path:
    from conftest import shared_path

    return shared_path("yahoo-30", "BABA.csv")


@pytest.fixture(scope="module")
def baba_raw(baba_file: Path) -> pl.DataFrame:
    return pl.read_csv(baba_file, try_parse_dates=True).filter(pl.col("Date") <= END)


def build(folder: Path, baba_file: Path, basis: api.PriceBasis) -> Path:
    """BABA's real bars up to 25 March 2026 with the basis given, and the two actions."""
    path = folder / f"{basis}.duckdb"
    api.ingest("prices", [baba_file], store=path, end=END, basis=basis)
    actions = write_csv(folder / "actions.csv", ACTIONS, "ticker,date,kind,value")
    api.ingest("actions", [actions], store=path)
    return path


@pytest.fixture(scope="module")
def adjusted(tmp_path_factory: pytest.TempPathFactory, baba_file: Path) -> Path:
    return build(tmp_path_factory.mktemp("adjusted"), baba_file, "adjusted")


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory, baba_file: Path) -> Path:
    return build(tmp_path_factory.mktemp("traded"), baba_file, "traded")


def snapshot(path: Path) -> tuple[object, ...]:
    with Store(path, read_only=True) as db:
        bars = db.bars()
        return bars.height, bars["close"].sum(), db.price_basis(), db.summary().rows()


# -- recorded, one per ticker ----------------------------------------------------------------


def test_the_basis_is_stored_per_ticker(tmp_path: Path, adjusted: Path, traded: Path) -> None:
    with Store(adjusted, read_only=True) as db:
        assert db.price_basis() == {"BABA": "adjusted"}
    with Store(traded, read_only=True) as db:
        assert db.price_basis(["BABA"]) == {"BABA": "traded"}
    path = tmp_path / "two.duckdb"
    api.ingest("prices", [write_csv(tmp_path / "ABC.csv", good_rows())], store=path)
    api.ingest(
        "prices", [write_csv(tmp_path / "XYZ.csv", good_rows())], store=path, basis="adjusted"
    )
    with Store(path, read_only=True) as db:
        assert db.price_basis() == {"ABC": "traded", "XYZ": "adjusted"}


def test_bars_of_the_other_basis_are_refused_and_the_store_is_unchanged(
    tmp_path: Path, adjusted: Path, baba_file: Path
) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(adjusted.read_bytes())
    before = snapshot(copy)
    later = write_csv(tmp_path / "BABA.csv", ["2026-03-26,126.72,127.03,126.17,126.51,2038229"])
    with pytest.raises(ConflictError) as caught:
        api.ingest("prices", [later], store=copy)  # the default basis, traded
    error = caught.value
    assert (error.file, error.row, error.field) == (str(later), 1, "basis")
    assert "BABA's stored bars are adjusted by their provider for splits and dividends" in str(
        error
    )
    assert "these are as traded" in str(error)
    assert "--basis adjusted" in str(error)
    assert snapshot(copy) == before
    # The same bars with the stored basis go in.
    report = api.ingest("prices", [later], store=copy, basis="adjusted")
    assert report.result.inserted == 1


def test_the_command_line_refuses_a_mixed_basis_in_one_line(tmp_path: Path) -> None:
    store = str(tmp_path / "cli.duckdb")
    rows = str(write_csv(tmp_path / "ABC.csv", good_rows()))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "stockbrief", "ingest", "prices", rows, "--store", store]
        return subprocess.run([*command, *args], capture_output=True, text=True, cwd=tmp_path)

    assert run("--basis", "adjusted").returncode == 0
    mixed = run()
    assert mixed.returncode == 1
    lines = mixed.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {rows}, row 1, field 'basis': ABC's stored bars are")
    assert "Traceback" not in mixed.stderr


def test_a_store_of_the_previous_schema_records_its_bars_as_traded(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, migration in enumerate(MIGRATIONS[:6]):  # schema 6: before the price basis
        con.execute(migration)
        con.execute("INSERT INTO schema_version VALUES (?)", [version + 1])
    con.execute("INSERT INTO bars VALUES ('OLD', DATE '2024-01-02', 1, 2, 0.5, 1.5, 100)")
    con.execute(
        "INSERT INTO ticker_stats VALUES ('OLD', 1, DATE '2024-01-02', DATE '2024-01-02', 0, 0, 0)"
    )
    con.close()
    with Store(path) as db:
        assert db.schema_version == len(MIGRATIONS)
        assert db.price_basis() == {"OLD": "traded"}
        assert db._rows("SELECT * FROM price_basis") == [("OLD", "traded")]


# -- never adjusted twice --------------------------------------------------------------------


def test_an_adjusted_ticker_is_not_adjusted_again_by_its_actions(
    adjusted: Path, traded: Path, baba_raw: pl.DataFrame
) -> None:
    window = {"start": dt.date(2025, 6, 10), "end": END, "adjusted": True}
    as_given = api.prices("BABA", **window, store=adjusted)  # type: ignore[arg-type]
    file = baba_raw.filter(pl.col("Date") >= dt.date(2025, 6, 10))
    assert as_given["close"].to_list() == file["Close"].to_list()
    assert as_given["volume"].to_list() == file["Volume"].to_list()

    # The same bars as traded are adjusted for both actions before the ex-date: the test
    # would see a re-adjustment.
    again = api.prices("BABA", **window, store=traded).row(0, named=True)  # type: ignore[arg-type]
    close_before = baba_raw.filter(pl.col("Date") == dt.date(2025, 6, 11))["Close"].item()
    factor = (1 - 2.00 / close_before) / 2
    assert again["close"] == pytest.approx(file["Close"][0] * factor, rel=1e-12)


def test_the_engine_reads_an_adjusted_ticker_as_given(
    adjusted: Path, traded: Path, baba_raw: pl.DataFrame
) -> None:
    """The 200-day average of 2 January 2026 is the mean of the file's closes (137.00), not of
    closes halved before the fictional split."""
    closes = baba_raw.filter(pl.col("Date") <= DAY)["Close"].to_numpy()
    note = api.brief("BABA", as_of=DAY, store=adjusted)
    assert note.sheet.value("sma_200") == pytest.approx(closes[-200:].mean(), rel=1e-12)
    assert note.sheet.value("sma_200") == pytest.approx(137.00, abs=0.005)
    assert note.sheet.value("close") == pytest.approx(155.74, abs=0.005)
    split_adjusted = api.brief("BABA", as_of=DAY, store=traded).sheet.value("sma_200")
    assert split_adjusted < 0.8 * note.sheet.value("sma_200")


# -- named by briefs and check ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "de"])
def test_briefs_name_the_basis_in_json_and_text(adjusted: Path, traded: Path, lang: str) -> None:
    note = api.brief("BABA", as_of=DAY, lang=lang, store=adjusted)
    facts = json.loads(json.dumps(note.to_json()))["facts"]
    for name in ("close", "prev_close", "change_1d", "volume", "sma_50", "sma_200"):
        assert facts[name]["source"]["table"] == "bars"
        assert facts[name]["source"]["basis"] == "adjusted", name
    assert facts["price_basis"]["value"] == "adjusted"
    assert "splits known on the as-of date" not in facts["close"]["formula"]
    move = next(s for s in note.sections if s.key == "move").text
    assert SENTENCES[lang] in move
    assert move.rstrip().endswith(("at the time.", "abweichen."))

    plain = api.brief("BABA", as_of=DAY, lang=lang, store=traded)
    facts = plain.to_json()["facts"]
    assert facts["close"]["source"]["basis"] == "traded"
    assert facts["price_basis"]["value"] == "traded"
    assert SENTENCES[lang] not in plain.text


def test_check_names_the_basis_when_it_compares_a_quoted_price(
    adjusted: Path, traded: Path
) -> None:
    text = (
        "Alibaba closed at $150.00 on January 2. The stock trades above its 200-day moving"
        " average of $137.00."
    )
    found = {c.metric: c for c in api.check(text, "BABA", as_of=DAY, store=adjusted)}
    close, sma = found["close"], found["SMA 200"]
    assert (close.verdict, close.actual) == ("off", "$155.74")
    assert close.note == (
        "off by $5.74 (+3.8%); compared with prices adjusted by the provider for splits and"
        " dividends, not as traded"
    )
    assert "adjusted by the provider for splits and dividends" in close.source
    assert sma.verdict == "holds"
    assert "adjusted by the provider" in sma.note
    # A position is a ratio of two adjusted prices: its verdict needs no such word.
    assert "adjusted" not in found["close vs SMA 200"].note

    plain = {c.metric: c for c in api.check(text, "BABA", as_of=DAY, store=traded)}
    assert plain["close"].note == "off by $5.74 (+3.8%)"
    assert "by the provider" not in plain["close"].source


# -- the Yahoo provider records the basis of its setting -------------------------------------


def aapl_payload() -> dict[str, object]:
    path = Path(__file__).parent / "data" / "yahoo" / "aapl-2020-09-05.json"
    loaded: dict[str, object] = json.loads(path.read_text())
    return loaded


def test_yahoo_downloads_without_auto_adjust_are_traded() -> None:
    data = parse_payload(aapl_payload())
    assert data.basis == "traded"
    close = data.bars.filter(pl.col("date") == dt.date(2020, 8, 28))["close"].item()
    assert close == 499.23  # Yahoo's 124.8075, its split adjustment undone


def test_a_payload_downloaded_with_auto_adjust_is_kept_adjusted() -> None:
    raw = aapl_payload()
    raw["auto_adjust"] = True
    data = parse_payload(raw)
    assert data.basis == "adjusted"
    bar = data.bars.filter(pl.col("date") == dt.date(2020, 8, 28)).row(0, named=True)
    assert bar["close"] == 124.8075
    assert bar["volume"] == 187_630_000
    dividend = data.actions.filter(pl.col("kind") == "dividend")["value"].item()
    assert dividend == 0.82  # as paid, whatever the prices' basis
    raw["auto_adjust"] = "yes"
    with pytest.raises(InputError, match="auto_adjust"):
        parse_payload(raw)
