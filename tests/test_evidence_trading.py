"""Trading a setup, replaying past verdicts, and the adjustment for many setups on one day:
hand-computed cases, real prices, statsmodels' Benjamini-Hochberg and the command line."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockbrief.errors import InputError
from stockbrief.evidence import calibration, multiple, strategy

START = dt.date(2022, 1, 3)


def frame(ticker: str, opens: list[float], closes: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticker": [ticker] * len(closes),
            "date": [START + dt.timedelta(days=i) for i in range(len(closes))],
            "open": opens,
            "close": closes,
        }
    )


def setups(rows: list[tuple[str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"ticker": [t for t, _ in rows], "date": [START + dt.timedelta(days=i) for _, i in rows]}
    )


def test_one_trade_buys_the_next_open_and_sells_the_close_hold_sessions_later() -> None:
    """Setup at row 1, hold 3, 10 bp each way: bought at open[2] = 101, sold at close[4] = 110;
    a setup during the held position is skipped, one on the session of the sale trades."""
    opens = [100.0, 99.0, 101.0, 104.0, 108.0, 111.0, 111.0, 112.0, 113.0]
    closes = [100.0, 100.0, 103.0, 106.0, 110.0, 109.0, 112.0, 112.0, 112.0]
    prices = frame("A", opens, closes)
    result = strategy.backtest(prices, setups([("A", 1), ("A", 3)]), hold=3, cost_bp=10)
    trade = 110.0 / 101.0 * 0.999**2 - 1
    assert result.trades["return"].to_list() == pytest.approx([trade], abs=1e-12)
    assert result.curve["strategy"][-1] == pytest.approx(1 + trade, abs=1e-12)
    # Buy-and-hold from the first session a trade could be open: close[8] / close[1].
    assert result.curve["buy_and_hold"][-1] == pytest.approx(112.0 / 100.0, abs=1e-12)
    assert result.curve["open_positions"].to_list()[:4] == [1, 1, 1, 0]
    again = strategy.backtest(prices, setups([("A", 1), ("A", 4)]), hold=3, cost_bp=0)
    assert again.trades["return"].to_list() == pytest.approx(
        [110.0 / 101.0 - 1, 112.0 / 111.0 - 1], abs=1e-12
    )
    table = {row["name"]: row for row in result.table.iter_rows(named=True)}
    assert table["strategy"]["trades"] == 1
    assert table["strategy"]["hit_rate"] == 1.0
    # The buy-and-hold path 103 -> 106 -> 110 -> 109 falls at most 109 / 110 - 1.
    assert table["buy-and-hold"]["max_drawdown"] == pytest.approx(109 / 110 - 1, abs=1e-12)
    with pytest.raises(InputError, match="cost_bp"):
        strategy.backtest(prices, setups([("A", 1)]), cost_bp=-1)


def test_trades_on_real_prices_match_the_frame(yahoo30: Path) -> None:
    """Every NVDA gap-up trade's entry, exit and return equal the next open and the close 20
    sessions later read straight from the file, net of 5 bp each way."""
    from helpers import load_yahoo
    from stockbrief.compute import compute

    bars = load_yahoo(yahoo30).filter(pl.col("ticker") == "NVDA")
    found = compute(bars).events.filter(pl.col("kind") == "gap_up")
    result = strategy.backtest(bars, found, hold=20, cost_bp=5)
    want = bars.with_columns(
        pl.col("open").shift(-1).alias("entry"), pl.col("close").shift(-20).alias("exit")
    ).join(result.trades.select("date"), on="date", how="semi")
    assert result.trades.height == want.height > 20
    assert result.trades["entry"].to_list() == want["entry"].to_list()
    assert result.trades["exit"].to_list() == want["exit"].to_list()
    net = (want["exit"] / want["entry"] * 0.9995**2 - 1).to_numpy()
    np.testing.assert_allclose(result.trades["return"].to_numpy(), net, rtol=0, atol=1e-12)
    gaps = np.diff(bars.with_row_index().join(result.trades, on="date")["index"].to_numpy())
    assert (gaps >= 20).all()


def test_a_verdict_states_the_hit_rate_of_setups_completed_before_it() -> None:
    """Replayed by hand: with a 20-session horizon and 30 prior cases needed, the verdict on
    each day states the share of rises among the earlier setups whose window had closed."""
    rng = np.random.default_rng(3)
    n = 400
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    prices = frame("A", list(closes), list(closes)).select("ticker", "date", "close")
    rows = list(range(0, 360, 3))
    found = setups([("A", i) for i in rows]).with_columns(pl.lit("gap_up").alias("kind"))
    result = calibration.calibrate(prices, found, ["gap_up"])
    rose = {i: closes[i + 20] > closes[i] for i in rows}
    expected = []
    for i in rows:
        prior = [j for j in rows if j + 20 <= i]
        if len(prior) >= calibration.MIN_PRIOR:
            expected.append((i, sum(rose[j] for j in prior) / len(prior), rose[i]))
    assert result.verdicts.height == len(expected)
    assert result.verdicts["predicted"].to_list() == pytest.approx([e[1] for e in expected])
    assert result.verdicts["outcome"].to_list() == [int(e[2]) for e in expected]
    p = np.array([e[1] for e in expected])
    y = np.array([e[2] for e in expected], dtype=float)
    assert result.brier == pytest.approx(float(((p - y) ** 2).mean()), abs=1e-12)
    assert result.table["n"].sum() == len(expected)


def test_replayed_verdicts_do_not_change_when_later_data_arrives(yahoo30: Path) -> None:
    """Verdicts replayed with data up to D equal those of the full history whose outcome was
    known by D: nothing looks ahead."""
    from helpers import load_yahoo
    from stockbrief.api import SETUP_PRIORITY
    from stockbrief.compute import compute

    bars = load_yahoo(yahoo30)
    found = compute(bars).events.select("ticker", "date", "kind")
    prices = bars.select("ticker", "date", "close")
    cut = dt.date(2024, 6, 28)
    full = calibration.calibrate(prices, found, SETUP_PRIORITY).verdicts
    early = calibration.calibrate(
        prices.filter(pl.col("date") <= cut), found.filter(pl.col("date") <= cut), SETUP_PRIORITY
    ).verdicts
    assert early.height > 1000
    known = full.join(early.select("ticker", "date"), on=["ticker", "date"], how="semi")
    assert known.equals(early)


def test_benjamini_hochberg_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.5, 0.002, 0.04, 0.9]
    want = multipletests(p, method="fdr_bh")[1]
    assert multiple.benjamini_hochberg(p) == pytest.approx(list(want), abs=1e-15)
    # One setup alone keeps its p-value; the interval 0.45-0.55 around 0.50 gives p = 1.
    assert multiple.benjamini_hochberg([0.03]) == [0.03]
    assert multiple.p_from_interval(0.5, 0.45, 0.55, 0.5) == 1.0
    # A hit rate 1.96 standard errors from the base rate has p = 0.05.
    assert multiple.p_from_interval(0.6, 0.5, 0.7, 0.5) == pytest.approx(0.05, abs=1e-12)


def test_the_command_line_trades_and_calibrates(tmp_path: Path, yahoo30: Path) -> None:
    """``study --strategy`` and ``study --calibration`` print their tables and write PNGs;
    bad options get one line and exit 2."""
    store = str(tmp_path / "s.duckdb")
    files = [str(yahoo30 / f"{t}.csv") for t in ("AAPL", "MSFT", "NVDA", "SPY", "TSLA")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "stockbrief", *args, "--store", store],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    assert run("ingest", "prices", *files, "--to", "2026-03-25").returncode == 0
    assert run("compute").returncode == 0
    traded = run(
        "study",
        "gap_up",
        "--strategy",
        "--ticker",
        "NVDA",
        "--cost-bp",
        "10",
        "--chart",
        str(tmp_path / "s.png"),
    )
    assert traded.returncode == 0, traded.stderr
    assert "10 bp cost each way" in traded.stdout
    assert "buy-and-hold" in traded.stdout
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    replay = run("study", "--calibration", "--chart", str(tmp_path / "c.png"))
    assert replay.returncode == 0, replay.stderr
    assert "Brier score" in replay.stdout
    assert (tmp_path / "c.png").stat().st_size > 10_000
    bad = run("study", "gap_up", "--strategy", "--chart", str(tmp_path / "s.txt"))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert ".png" in bad.stderr
    unknown = run("study", "gap_upp", "--strategy")
    assert unknown.returncode == 1
    assert "did you mean gap_up" in unknown.stderr


def test_support_needs_the_adjusted_p_value_across_the_days_setups() -> None:
    """A leading setup whose hit rate is 2.17 standard errors above the base rate (p = 0.03)
    backs the brief when it is the day's only setup; tried beside a second setup (p = 0.5),
    Benjamini-Hochberg lifts it to 0.06 and the brief no longer calls it support."""
    from stockbrief import api

    se = 0.1 / 2.17
    half = multiple._Z95 * se

    def line(kind: str, rose: float, base: float, strength: str, direction: str) -> dict:
        return {
            "setup": kind,
            "kind": kind,
            "scope": "universe",
            "n": 400,
            "horizon": 20,
            "rose_pct": rose,
            "ci_low": rose - half,
            "ci_high": rose + half,
            "base_pct": base,
            "mean": 0.01,
            "direction": direction,
            "strength": strength,
        }

    universe = pl.DataFrame(
        [
            line("large_move_up", 0.6, 0.5, "moderate", "positive"),
            line("volume_surge", 0.5 + 0.6745 * se, 0.5, "none", "none"),
        ],
        schema=api.EVIDENCE_SCHEMA,
        orient="row",
    )
    no_events = pl.DataFrame(schema={"ticker": pl.String, "date": pl.Date, "kind": pl.String})
    day = dt.date(2026, 3, 2)
    alone = api._setup_evidence(None, "X", day, ["large_move_up"], no_events, universe)  # type: ignore[arg-type]
    assert alone is not None
    assert (alone["tried"], alone["strength"], alone["direction"]) == (1, "moderate", "positive")
    assert alone["p_adjusted"] == pytest.approx(0.030, abs=5e-4)
    both = api._setup_evidence(
        None,  # type: ignore[arg-type]
        "X",
        day,
        ["volume_surge", "large_move_up"],
        no_events,
        universe,
    )
    assert both is not None
    assert (both["tried"], both["strength"], both["direction"]) == (2, "none", "none")
    assert both["p_adjusted"] == pytest.approx(0.060, abs=1e-3)
    assert both["setups"][0]["kind"] == "large_move_up"
