"""The verdict states the event study's numbers, and the market model takes the index of each
ticker's exchange: briefs of real days in both languages, checked against the study itself."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from stockbrief import api
from stockbrief.evidence import market_model
from stockbrief.notes import narrative, verdict
from stockbrief.notes.document import Brief
from stockbrief.store import Store

DAY = dt.date(2026, 1, 2)
END = dt.date(2026, 3, 25)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from conftest import shared_path

    yahoo = shared_path("yahoo-30")
    db = Store(tmp_path_factory.mktemp("verdict") / "v.duckdb")
    api.ingest("prices", sorted(yahoo.glob("*.csv")), store=db, end=END, basis="adjusted")
    yield db
    db.close()


@pytest.fixture(scope="module")
def notes(store: Store) -> dict[str, Brief]:
    return {lang: api.brief("BABA", as_of=DAY, lang=lang, store=store) for lang in narrative.LANGS}


def en(x: float) -> str:
    return f"{round(x * 100)}%"


def de(x: float) -> str:
    return f"{round(x * 100)}\u00a0%"


def test_the_conclusion_states_the_universe_studys_odds(
    store: Store, notes: dict[str, Brief]
) -> None:
    """The odds, their interval and the base rate are the universe study's, to the digit."""
    evidence = notes["en"].verdict.evidence
    assert evidence is not None
    kind = evidence["setups"][-1]["kind"]
    assert kind == "large_move_up"  # BABA's 6% gain of 2 January 2026
    row = api.study(kind, horizons=(20,), until=DAY, benchmark=None, store=store).row(20)
    odds = notes["en"].verdict.odds
    assert odds is not None
    assert (odds.rate, odds.low, odds.high, odds.base, odds.n, odds.horizon) == (
        row["hit_rate"],
        row["hit_ci_low"],
        row["hit_ci_high"],
        row["base_hit_rate"],
        row["n"],
        20,
    )
    assert row["hit_ci_low"] <= row["base_hit_rate"] <= row["hit_ci_high"]
    assert odds.judged == "chance"
    rate, low, high, base = (
        row[k] for k in ("hit_rate", "hit_ci_low", "hit_ci_high", "base_hit_rate")
    )
    assert notes["en"].verdict.lean == "mixed"  # prices alone: no analysts, no news
    english = notes["en"].sections[-1].text
    assert (
        "History does not settle it either: across all stored tickers, after such days the odds"
        " of a gain over 20 "
        f"trading days were {en(rate)} ({en(low)} to {en(high)} with 95% confidence), against "
        f"{en(base)} on all days, a difference within chance." in english
    )
    german = notes["de"].sections[-1].text
    assert (
        "Auch die Historie gibt nicht den Ausschlag: Über alle gespeicherten Werte lagen die Kurse"
        " nach solchen Tagen 20 "
        f"Handelstage später in {de(rate)} der Fälle höher (95-%-Konfidenzintervall "
        f"{round(low * 100)} bis {de(high)}), gegenüber {de(base)} an allen Handelstagen "
        "\u2013 ein Unterschied, der sich durch Zufall erklären lässt." in german
    )
    # Each number once: the evidence section gives the count and the mean, not the odds again.
    evidence_text = next(s.text for s in notes["en"].sections if s.key == "evidence")
    assert f"the {row['n']:,} past cases of the setup returned" in evidence_text
    assert f"{en(rate)} of" not in evidence_text


def test_the_conclusion_says_how_often_such_odds_came_true(
    store: Store, notes: dict[str, Brief]
) -> None:
    """The record is the share of gains after the replayed verdicts whose stated odds fell in
    the same tenth as today's, counted here from the replayed verdicts themselves."""
    odds = notes["en"].verdict.odds
    assert odds is not None
    assert odds.record is not None
    replayed = api.study_calibration(until=DAY, store=store).verdicts
    low = int(odds.rate * 10) / 10
    same = replayed.filter((pl.col("predicted") >= low) & (pl.col("predicted") < low + 0.1))
    observed = same["outcome"].mean()
    assert isinstance(observed, float)
    assert (odds.record["n"], odds.record["observed"]) == (same.height, pytest.approx(observed))
    assert same.height > 1000
    assert (
        f"Past verdicts across the stored universe that stated odds of a gain of {en(low)} to "
        f"{en(low + 0.1)} were followed by a gain in {en(observed)} of {same.height:,} cases."
        in notes["en"].sections[-1].text
    )
    assert (
        f"Auf frühere Urteile, die eine Gewinnchance von {round(low * 100)} bis "
        f"{de(low + 0.1)} nannten, folgte über alle gespeicherten Werte in {de(observed)} von "
        f"{format(same.height, ',').replace(',', '.')} Fällen ein Kursgewinn."
        in notes["de"].sections[-1].text
    )


def test_the_stated_odds_read_nothing_later(tmp_path: Path, notes: dict[str, Brief]) -> None:
    """A store cut at the day gives the same odds and the same track record."""
    from conftest import shared_path

    yahoo = shared_path("yahoo-30")
    with Store(tmp_path / "cut.duckdb") as cut:
        api.ingest("prices", sorted(yahoo.glob("*.csv")), store=cut, end=DAY, basis="adjusted")
        alone = api.brief("BABA", as_of=DAY, lang="de", store=cut)
    assert alone.verdict.odds == notes["de"].verdict.odds
    assert alone.sections[-1].text == notes["de"].sections[-1].text


@pytest.mark.parametrize(
    ("strength", "direction", "en_start", "de_start"),
    [
        ("moderate", "positive", "History alone moderately favours a rise", "spricht mäßig für"),
        ("strong", "negative", "History alone strongly favours a fall", "spricht deutlich für"),
    ],
)
def test_a_backed_or_contradicted_lean_carries_the_same_numbers(
    notes: dict[str, Brief], strength: str, direction: str, en_start: str, de_start: str
) -> None:
    """With the study's line graded otherwise, the wording changes and the numbers stay."""
    for lang, start in (("en", en_start), ("de", de_start)):
        note = notes[lang]
        assert note.verdict.evidence is not None
        graded = {**note.verdict.evidence, "strength": strength, "direction": direction}
        lines = [dict(line) for line in graded["setups"]]
        lines[-1].update(strength=strength, direction=direction)
        graded["setups"] = lines
        judged = verdict.judge(note.sheet, graded)
        assert judged.odds is not None
        assert judged.odds == dataclasses.replace(note.verdict.odds, judged="chance")
        _, sections = narrative.compose(note.sheet, note.events, judged, lang)  # type: ignore[arg-type]
        text = sections[-1].text
        rate = en(judged.odds.rate) if lang == "en" else de(judged.odds.rate)
        assert f"{start}" in text
        assert rate in text
        assert "within chance" not in text
        assert "durch Zufall" not in text


def test_a_lean_undone_by_the_adjustment_says_so() -> None:
    """The interval excludes the base rate, but the adjustment for the day's setups does not
    keep it: the sentence names the setups tried."""
    line = {
        "scope": "universe",
        "kind": "gap_up",
        "n": 400,
        "horizon": 20,
        "rose_pct": 0.6,
        "ci_low": 0.55,
        "ci_high": 0.65,
        "base_pct": 0.53,
        "strength": "none",
        "direction": "none",
    }
    odds = verdict._odds({"setups": [line], "tried": 6})
    assert odds is not None
    assert (odds.judged, odds.tried) == ("adjusted", 6)
    few = verdict._odds({"setups": [{**line, "n": 8}], "tried": 1})
    assert few is not None
    assert few.judged == "few"
    assert verdict._odds({"setups": [{**line, "scope": "stock"}]}) is None


def test_each_ticker_is_measured_against_the_index_of_its_exchange(store: Store) -> None:
    """SPY for New York (no ^GSPC stored) and for Hong Kong while no index of Hong Kong is
    stored; the first stored of an exchange's index and tracker fund otherwise."""
    stored = set(store.tickers())
    assert market_model.benchmark_for("XNYS", stored) == "SPY"
    assert market_model.benchmark_for("XHKG", stored) == "SPY"  # no Hong Kong index stored
    assert market_model.benchmark_for("XHKG", stored | {"2800.HK"}) == "2800.HK"
    assert market_model.benchmark_for("XHKG", {"^HSI", "2800.HK", "SPY"}) == "^HSI"
    assert market_model.benchmark_for("XXXX", set()) is None
    auto = api.study("large_move_up", horizons=(20,), until=DAY, store=store)
    found = api._kind_occurrences(store, None, ["large_move_up"], DAY)
    assert auto.benchmarks == {"SPY": found["ticker"].n_unique()}
    assert "Benchmark: SPY" in auto.summary()
    assert api.study("large_move_up", horizons=(20,), until=DAY, benchmark=None, store=store)
    assert api.study(
        "large_move_up", horizons=(20,), until=DAY, benchmark="QQQ", store=store
    ).benchmarks == {"QQQ": found["ticker"].n_unique()}


def test_a_stored_hong_kong_index_is_used_for_hong_kong_listings(tmp_path: Path) -> None:
    """An equal-weighted basket of four real Hong Kong listings, stored as ^HSI on Hong Kong
    sessions, stands in for the index: the Hong Kong listings' abnormal returns are measured
    against it, the others against SPY, exactly as a study given both benchmarks computes."""
    from conftest import shared_path
    from helpers import load_yahoo
    from stockbrief.evidence import study

    bars = load_yahoo(shared_path("yahoo-30"), end=DAY)
    basket = ["0700.HK", "3690.HK", "1810.HK", "1024.HK"]
    daily = (
        bars.filter(pl.col("ticker").is_in(basket))
        .with_columns((pl.col("close") / pl.col("close").shift(1).over("ticker")).alias("g"))
        .group_by("date")
        .agg(pl.col("g").mean(), pl.len().alias("k"))
        .filter(pl.col("k") == len(basket))
        .sort("date")
    )
    level = 100 * daily["g"].fill_null(1.0).cum_prod()
    index = daily.select("date").with_columns(
        open=level, high=level, low=level, close=level, volume=pl.lit(0)
    )
    names = ["SPY", "0700.HK", "3690.HK", "1810.HK", "AAPL", "MSFT", "NVDA"]
    with Store(tmp_path / "hk.duckdb") as db:
        path = tmp_path / "stocks.csv"
        bars.filter(pl.col("ticker").is_in(names)).write_csv(path)
        api.ingest("prices", [path], store=db, basis="adjusted")
        index.write_csv(tmp_path / "hsi.csv")
        api.ingest(
            "prices",
            [tmp_path / "hsi.csv"],
            store=db,
            ticker="^HSI",
            exchange="XHKG",
            basis="adjusted",
        )
        auto = api.study("large_move_up", horizons=(20,), until=DAY, store=db)
        prices = api._total_return_closes(db, None, DAY)
        found = api._kind_occurrences(db, None, ["large_move_up"], DAY)
    involved = sorted(set(found["ticker"].to_list()))
    mapping = {t: "^HSI" if t.endswith(".HK") else "SPY" for t in involved}
    hong_kong = sum(t.endswith(".HK") for t in involved)
    assert hong_kong >= 2
    assert auto.benchmarks == {"^HSI": hong_kong, "SPY": len(involved) - hong_kong}
    both = prices.filter(pl.col("ticker").is_in(["^HSI", "SPY"]))
    by_hand = study(
        prices,
        found.select("ticker", "date"),
        horizons=(20,),
        until=DAY,
        benchmark=both,
        benchmark_of=mapping,
    )
    assert auto.row(20)["mean_car"] == by_hand.row(20)["mean_car"]
    assert auto.row(20)["n_car"] == by_hand.row(20)["n_car"] > 0
    only_spy = study(
        prices,
        found.select("ticker", "date"),
        horizons=(20,),
        until=DAY,
        benchmark=prices.filter(pl.col("ticker") == "SPY"),
    )
    assert only_spy.row(20)["mean_car"] != auto.row(20)["mean_car"]


def test_calibration_replays_several_setups_as_a_plain_loop_does(yahoo30: Path) -> None:
    """Every replayed verdict of five real stocks and all setups, recounted one by one: the
    lead setup of the day, the share of rises among its earlier completed occurrences."""
    from helpers import load_yahoo
    from stockbrief.compute import compute
    from stockbrief.errors import InputError
    from stockbrief.evidence import calibration

    bars = load_yahoo(yahoo30).filter(pl.col("ticker").is_in(["BABA", "JD", "PDD", "AAPL", "MU"]))
    found = compute(bars).events.select("ticker", "date", "kind")
    prices = bars.select("ticker", "date", "close")
    priority = list(api.SETUP_PRIORITY)
    result = calibration.calibrate(prices, found, priority)
    h = calibration.HORIZON
    ahead = prices.with_columns(
        pl.col("date").shift(-h).over("ticker").alias("end"),
        (pl.col("close").shift(-h).over("ticker") > pl.col("close")).alias("rose"),
    )
    cases = (
        found.filter(pl.col("kind").is_in(priority))
        .unique()
        .join(ahead, on=["ticker", "date"])
        .with_columns(
            pl.col("kind").replace_strict(priority, list(range(len(priority)))).alias("r")
        )
    )
    done = cases.filter(pl.col("end").is_not_null())
    lead = cases.sort("r").group_by("ticker", "date").first().filter(pl.col("end").is_not_null())
    expected = {}
    for row in lead.iter_rows(named=True):
        prior = done.filter((pl.col("kind") == row["kind"]) & (pl.col("end") <= row["date"]))
        if prior.height >= calibration.MIN_PRIOR:
            expected[row["ticker"], row["date"]] = (row["kind"], prior.height, prior["rose"].mean())
    got = {
        (r["ticker"], r["date"]): (r["kind"], r["prior_n"], r["predicted"])
        for r in result.verdicts.iter_rows(named=True)
    }
    assert len(got) == len(expected) > 500
    for key, (kind, n, share) in expected.items():
        assert got[key][:2] == (kind, n)
        assert got[key][2] == pytest.approx(share, abs=1e-12)
    with pytest.raises(InputError, match="at most 32"):
        calibration.calibrate(prices, found, [f"kind_{i}" for i in range(33)])


def test_several_benchmarks_need_a_map_that_names_them(yahoo30: Path) -> None:
    from helpers import load_yahoo
    from stockbrief.errors import InputError
    from stockbrief.evidence import study

    prices = load_yahoo(yahoo30).select("ticker", "date", "close")
    stocks = prices.filter(pl.col("ticker").is_in(["AAPL", "0700.HK"]))
    both = prices.filter(pl.col("ticker").is_in(["SPY", "QQQ"]))
    found = stocks.filter(pl.col("date").dt.day() == 15).select("ticker", "date")
    with pytest.raises(InputError, match="pass benchmark_of"):
        study(stocks, found, benchmark=both)
    with pytest.raises(InputError, match=r"names \^HSI, not among"):
        study(stocks, found, benchmark=both, benchmark_of={"0700.HK": "^HSI"})
    partial = study(stocks, found, horizons=(20,), benchmark=both, benchmark_of={"AAPL": "QQQ"})
    assert partial.benchmarks == {"QQQ": 1}
    relative = partial.returns.group_by("ticker").agg(pl.col("relative").is_null().all())
    assert dict(relative.iter_rows()) == {"AAPL": False, "0700.HK": True}
