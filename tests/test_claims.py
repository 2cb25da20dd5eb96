"""Checking the seed note's numeric claims against the real data."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from stockbrief import api, claims
from stockbrief.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "alibaba-2026-01"
DAY = dt.date(2026, 1, 2)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path_factory.mktemp("claims") / "c.duckdb"
    with Store(path) as db:
        files = [prices / f"{t}.csv" for t in ("BABA", "BIDU", "JD", "PDD", "BILI")]
        api.ingest("prices", files, store=db, end=dt.date(2026, 3, 25))
        for kind in ("securities", "ratings", "consensus", "kpis"):
            api.ingest(kind, [EXAMPLE / f"{kind}.csv"], store=db)  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def seed() -> str:
    from conftest import SHARED_DATA

    path = SHARED_DATA.parent / "seed" / "alibaba-2026-01-03.txt"
    if not path.exists():
        pytest.skip(f"seed note not available: {path}")
    return path.read_text()


def verdicts(found: list[claims.Claim]) -> dict[str, str]:
    return {c.metric: c.verdict for c in found}


def test_seed_note_claims(store_path: Path, seed: str) -> None:
    found = api.check(seed, "BABA", as_of=DAY, store=store_path)
    by_metric = verdicts(found)
    assert by_metric["daily change"] == "holds"  # "a surge exceeding 6%": +6.25%
    assert by_metric["volume"] == "holds"  # "15.7 million shares": 15,778,300
    assert by_metric["relative volume"] == "contradicted"  # "more than double": 1.38x
    assert by_metric["volume vs typical"] == "off"  # "124% surge in volume": +38%
    assert by_metric["SMA 200"] == "off"  # $155.45 stated; the data: $137.00
    assert by_metric["close vs SMA 200"] == "contradicted"  # "just above": +13.7%
    assert by_metric["SMA 50"] == "off"  # $150.06 stated; the data: $159.36
    assert by_metric["close vs SMA 50"] == "contradicted"  # "well above": 2.3% below
    assert by_metric["mean target"] == "holds"
    assert by_metric["upside"] == "holds"  # "approximately 25%": 24.6%
    assert by_metric["Jefferies target"] == "holds"
    assert by_metric["Nomura target"] == "holds"
    assert by_metric["company metric (YoY)"] == "holds"
    # "The breach of the $155 price level" names a level, not the close.
    assert [(c.stated, c.verdict) for c in found if c.metric == "close"] == [("$155.74", "holds")]
    sma = next(c for c in found if c.metric == "SMA 200")
    assert (sma.stated, sma.actual) == ("$155.45", "$137.00")
    assert sma.source.startswith("bars BABA 2025-03-19..2026-01-02")


def test_cli_exit_status(store_path: Path, seed: str, tmp_path: Path) -> None:
    def run(note: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "stockbrief",
                "check",
                str(note),
                "--ticker",
                "BABA",
                "--as-of",
                "2026-01-02",
                "--store",
                str(store_path),
            ],
            capture_output=True,
            text=True,
            env={"COLUMNS": "200", "PATH": ""},
        )

    (tmp_path / "seed.txt").write_text(seed)
    failing = run(tmp_path / "seed.txt")
    assert failing.returncode == 1
    assert "claims hold" in failing.stdout
    good = tmp_path / "good.txt"
    good.write_text(
        "Alibaba rose 6.2% to $155.74 on 15.8 million shares. The stock is well above its "
        "200-day moving average of $137.00 and below its 50-day average of $159.36."
    )
    passing = run(good)
    assert passing.returncode == 0, passing.stdout
    assert "7 of 7 claims hold" in passing.stdout


def test_forward_looking_sentences_are_not_claims() -> None:
    known = {"close": (155.74, "bars")}
    text = "A move above $160 could trigger further buying. It closed at $155.74."
    assert [c.metric for c in claims.extract(text, known)] == ["close"]
