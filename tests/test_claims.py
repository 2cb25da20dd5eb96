"""Checking other people's notes: the number reader, the claim grammar, the judge and its
conventions, on the seed note, on sentences that tripped earlier readers, and on a corpus of
notes in many house styles with hand-labelled claims (tests/corpus)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from stockbrief import api, claims
from stockbrief.claims.numbers import read_numbers
from stockbrief.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "alibaba-2026-01"
CORPUS = ROOT / "tests" / "corpus"
DAY = dt.date(2026, 1, 2)
LAST = dt.date(2026, 3, 25)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path_factory.mktemp("claims") / "c.duckdb"
    with Store(path) as db:
        files = [prices / f"{t}.csv" for t in ("BABA", "BIDU", "JD", "PDD", "BILI")]
        api.ingest("prices", files, store=db, end=LAST)
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


def by_kind(found: list[claims.Claim]) -> dict[str, list[claims.Claim]]:
    out: dict[str, list[claims.Claim]] = {}
    for c in found:
        out.setdefault(c.kind, []).append(c)
    return out


def test_seed_note_claims(store_path: Path, seed: str) -> None:
    found = by_kind(api.check(seed, "BABA", as_of=DAY, store=store_path))
    verdict = {k: [c.verdict for c in v] for k, v in found.items()}
    assert verdict["change_1d"] == ["holds"]  # "a surge exceeding 6%": +6.25%
    assert verdict["volume"] == ["holds"]  # "15.7 million shares": 15,778,300
    # "more than double the typical level": 1.38x; "124% surge in trading volume": +38%.
    assert [(c.written, c.verdict) for c in found["relative_volume"]] == [
        ("more than double", "contradicted"),
        ("124%", "off"),
    ]
    assert verdict["sma_200"] == ["off"]  # $155.45 stated; the data: $137.00
    assert verdict["position_sma_200"] == ["contradicted"]  # "just above": +13.7%
    assert verdict["sma_50"] == ["off"]  # $150.06 stated; the data: $159.36
    assert verdict["position_sma_50"] == ["contradicted"]  # "well above": 2.3% below
    assert verdict["target_mean"] == ["holds"]
    assert verdict["upside"] == ["holds"]  # "approximately 25%": 24.6%
    assert {c.label: c.verdict for c in found["target_firm"]} == {
        "Jefferies target": "holds",
        "Nomura target": "holds",
    }
    assert verdict["kpi_yoy"] == ["holds"]
    # "The breach of the $155 price level" names a level, not the close.
    assert {(c.written, c.verdict) for c in found["close"]} == {("$155.74", "holds")}
    sma = found["sma_200"][0]
    assert (sma.written, sma.actual, sma.value) == (
        "$155.45",
        "$137.00",
        pytest.approx(137.0015, abs=1e-4),
    )
    assert sma.source.startswith("bars BABA 2025-03-19..2026-01-02")
    # The 200-day was not crossed that day: the stock had been above it for months.
    assert verdict["cross_sma_200"] == ["off"]


def _run(note: Path, store: Path, *extra: str) -> subprocess.CompletedProcess[str]:
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
            str(store),
            *extra,
        ],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "", "PYTHONPATH": str(ROOT / "src")},
    )


GOOD = (
    "Alibaba rose 6.2% to $155.74 on 15.8 million shares. The stock is well above its "
    "200-day moving average of $137.00 and below its 50-day average of $159.36."
)


def test_cli_exit_status(store_path: Path, seed: str, tmp_path: Path) -> None:
    (tmp_path / "seed.txt").write_text(seed)
    failing = _run(tmp_path / "seed.txt", store_path)
    assert failing.returncode == 1
    assert "claims hold" in failing.stdout
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    passing = _run(good, store_path)
    assert passing.returncode == 0, passing.stdout
    assert "7 of 7 claims hold" in passing.stdout


def test_cli_json_and_markdown(store_path: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(GOOD)
    done = _run(good, store_path, "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["kind"] for r in rows] == [
        "change_1d",
        "close",
        "volume",
        "position_sma_200",
        "sma_200",
        "position_sma_50",
        "sma_50",
    ]
    change = rows[0]
    assert change["stated"] == pytest.approx(0.062)
    assert change["actual"] == pytest.approx(155.74 / 146.58 - 1)
    assert (change["verdict"], change["convention"]) == ("holds", None)
    assert GOOD[slice(*change["span"])] == "6.2%"
    assert rows[3]["stated"] == "above"
    assert change["source"].startswith("bars BABA 2025-12-31..2026-01-02")
    md = _run(good, store_path, "--format", "md", "--lang", "en")
    assert md.returncode == 0
    assert "| SMA 200 | $137.00 | $137.00 | holds |" in md.stdout
    bad = _run(good, store_path, "--format", "xml")
    assert bad.returncode == 2
    assert "use table, json or md" in bad.stderr


def test_forward_looking_sentences_are_not_claims() -> None:
    text = "A move above $160 could trigger further buying. It closed at $155.74."
    assert [c.kind for c in claims.extract(text, {})] == ["close"]


# -- the number reader -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "value", "unit", "step"),
    [
        ("$155.74", "en", 155.74, "currency", 0.01),
        ("fell by -10.56%", "en", -0.1056, "percent", 0.0001),
        ("15.7 million", "en", 15.7e6, "count", 1e5),
        ("3.36M", "en", 3.36e6, "count", 1e4),
        ("2,441,839", "en", 2441839, "plain", 1),
        ("155,74 $", "de", 155.74, "currency", 0.01),
        ("15,7 Mio.", "de", 15.7e6, "count", 1e5),
        ("2,3 Mrd.", "de", 2.3e9, "count", 1e8),
        ("1.234,5 Euro", "de", 1234.5, "currency", 0.1),
        ("0,53 Prozent", "de", 0.0053, "percent", 0.0001),
        ("1.38x", "en", 1.38, "ratio", 0.01),
    ],
)
def test_numbers(text: str, lang: str, value: float, unit: str, step: float) -> None:
    (n,) = read_numbers(text, lang)  # type: ignore[arg-type]
    assert (n.value, n.unit, n.step) == (pytest.approx(value), unit, pytest.approx(step))


def test_dates_times_and_years_are_no_figures() -> None:
    text = "03.01.2026 - 13:41:04 In 2025, on January 2, 2026 and in Q3 2025 it closed at $1."
    assert [n.text for n in read_numbers(text)] == ["$1"]


# -- the grammar on sentences that tripped the phrase list -------------------------------


@pytest.fixture(scope="module")
def market() -> claims.Market:
    from conftest import shared_path

    folder = shared_path("yahoo-30")

    def load(ticker: str) -> claims.Bars | None:
        path = folder / f"{ticker}.csv"
        if not path.exists():
            return None
        frame = pl.read_csv(path, try_parse_dates=True).rename(str.lower)
        return claims.Bars(ticker, frame.filter(pl.col("date") <= LAST))

    return claims.Market("BABA", DAY, load)


NAMES = {"Alibaba": "BABA", "Baidu": "BIDU", "JD.com": "JD", "Tencent": "0700.HK"}


def check(text: str, market: claims.Market, **kw: object) -> list[tuple[str, str, str]]:
    found = claims.extract(text, {}, market=market, names=NAMES, **kw)  # type: ignore[arg-type]
    return [(c.kind, c.written, c.verdict) for c in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The first number of a sentence no longer wins.
        (
            "The day's low was $151.80 and it closed at $155.74.",
            [("day_low", "$151.80", "holds"), ("close", "$155.74", "holds")],
        ),
        # An average is not the day's volume.
        (
            "Against a daily average volume of 11.41M, 15,778,300 shares traded.",
            [("average_volume", "11.41M", "holds"), ("volume", "15,778,300", "holds")],
        ),
        # Signs: "losing" and "fell by -x%" are falls.
        ("Alibaba fell by -6.25% on the day.", [("change_1d", "-6.25%", "contradicted")]),
        ("JD.com was losing 2.89% on the day.", [("change_1d", "2.89%", "contradicted")]),
        # A sentence with "-day" keeps its close and volume.
        (
            "Shares closed at $155.74 after mid-day trading on 15.8 million shares, well above "
            "the 10-day average volume of 6.72 million.",
            [
                ("close", "$155.74", "holds"),
                ("volume", "15.8 million", "holds"),
                ("average_volume", "6.72 million", "holds"),
            ],
        ),
        # Averages in any spelling.
        ("The 200 day moving average stands at $137.00.", [("sma_200", "$137.00", "holds")]),
        ("Its fifty-day SMA sits at $159.36.", [("sma_50", "$159.36", "holds")]),
        (
            "SMA-50: $159.36; 200 DMA: $137.00.",
            [("sma_50", "$159.36", "holds"), ("sma_200", "$137.00", "holds")],
        ),
        # Subjects of a comparison: the average, not the price.
        (
            "The 50-day average is above the current price.",
            [("position_sma_50", "above (inverted)", "holds")],
        ),
        ("The 50-day MA is above the 200-day MA.", [("position_sma_50_sma_200", "above", "holds")]),
        # An average crossing another is a death cross, not the price crossing.
        (
            "The 50-day moving average has crossed below the 200-day.",
            [("cross_sma_50_sma_200", "crossed below", "contradicted")],
        ),
        # The wire convention: a 200-day average of calendar days.
        ("Its 200-day average is $144.87.", [("sma_200", "$144.87", "holds")]),
        # A drawdown from the high is not the day's move.
        (
            "The stock trades 19.2% below its 52-week high of $192.67.",
            [("pct_from_high_52w", "19.2% below", "holds"), ("high_52w", "$192.67", "holds")],
        ),
        # A peer mentioned in passing is checked against the peer.
        (
            "Alibaba jumped 6.2% while Baidu gained 15%.",
            [("change_1d", "6.2%", "holds"), ("change_1d", "15%", "holds")],
        ),
        ("Rival Meituan climbed 1.1%.", [("change_1d", "1.1%", "unverifiable")]),
        ("Volume fell by 4 million shares.", [("volume_change", "4 million", "contradicted")]),
        (
            "Its RSI of 53 sits in neutral territory.",
            [("rsi_14", "53", "holds"), ("rsi_zone", "neutral territory", "holds")],
        ),
    ],
)
def test_grammar(text: str, expected: list[tuple[str, str, str]], market: claims.Market) -> None:
    assert check(text, market) == expected


def test_precision_sets_the_tolerance(market: claims.Market) -> None:
    # 15,778,300 shares: "16 million" holds, "15.9 million" is off.
    assert check("Volume was 16 million shares.", market)[0][2] == "holds"
    assert check("Volume was 15.9 million shares.", market)[0][2] == "off"


def test_convention_is_named(market: claims.Market) -> None:
    (found,) = claims.extract("Its 200-day average is $144.87.", {}, market=market)
    assert (found.convention, found.verdict_text) == (
        "200 calendar days",
        "holds (200 calendar days)",
    )


def test_german_note(market: claims.Market) -> None:
    text = (
        "Die Alibaba-Aktie schloss bei 155,74 $ und damit 6,25 Prozent im Plus. Das "
        "Handelsvolumen lag bei 15,78 Mio. Aktien. Der Kurs liegt deutlich über der "
        "200-Tage-Linie von 137,00 $, aber unter dem 50-Tage-Durchschnitt."
    )
    assert claims.detect_language(text) == "de"
    assert check(text, market) == [
        ("close", "155,74 $", "holds"),
        ("change_1d", "6,25 Prozent", "holds"),
        ("volume", "15,78 Mio.", "holds"),
        ("position_sma_200", "deutlich über", "holds"),
        ("sma_200", "137,00 $", "holds"),
        ("position_sma_50", "unter", "holds"),
    ]


def test_adjusted_bars_make_quoted_prices_unverifiable(market: claims.Market) -> None:
    adjusted = claims.Market("BABA", dt.date(2024, 6, 3), market.load, lambda _t: "adjusted")
    # A traded close differs from the provider's adjusted one: never "off".
    (found,) = claims.extract("BABA closed at $79.26.", {}, market=adjusted, names=NAMES)
    assert found.verdict == "unverifiable"
    assert claims.ADJUSTED in found.note


# -- the corpus ------------------------------------------------------------------------------

SECURITIES = ROOT / "tests" / "corpus" / "securities.csv"


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    with Store(path) as db:
        api.ingest("securities", [SECURITIES], store=db)
        files = sorted(p for p in prices.glob("*.csv") if p.stem != "VIX")
        api.ingest("prices", files, store=db, end=LAST, basis="adjusted")
    return path


def _labels() -> list[tuple[Path, dict[str, object]]]:
    return [(p, json.loads(p.read_text())) for p in sorted(CORPUS.glob("*.json"))]


def test_corpus(corpus_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = _labels()
    assert len(notes) >= 60
    styles = {meta["style"] for _p, meta in notes}
    assert len(styles) >= 12
    stats: dict[str, Counter[str]] = {}
    problems: list[str] = []
    total = found_right = false_alarms = 0
    for path, meta in notes:
        text = path.with_suffix(".txt").read_text(encoding="utf-8")
        got = api.check(
            text,
            str(meta["ticker"]),
            as_of=dt.date.fromisoformat(str(meta["as_of"])),
            store=corpus_store,
            lang=meta.get("lang", "auto"),  # type: ignore[arg-type]
        )
        labelled = list(meta["claims"])  # type: ignore[call-overload]
        unmatched = list(got)
        for want in labelled:
            kind, stated = want["kind"], want["stated"]
            counter = stats.setdefault(kind, Counter())
            counter["labelled"] += 1
            total += 1
            match = next((c for c in unmatched if c.kind == kind and _same(c, stated)), None)
            if match is None:
                problems.append(f"{path.stem}: missed {kind} {stated!r}")
                continue
            unmatched.remove(match)
            counter["found"] += 1
            if match.verdict == want["verdict"]:
                counter["right"] += 1
                found_right += 1
            else:
                problems.append(
                    f"{path.stem}: {kind} {stated!r} is {match.verdict_text}, "
                    f"labelled {want['verdict']}"
                )
                if match.verdict in ("off", "contradicted") and want["verdict"] == "holds":
                    false_alarms += 1
        for extra in unmatched:
            stats.setdefault(extra.kind, Counter())["extra"] += 1
            if extra.verdict in ("off", "contradicted"):
                problems.append(
                    f"{path.stem}: unlabelled {extra.kind} {extra.written!r} {extra.verdict}"
                )
                false_alarms += 1
    with capsys.disabled():
        print(f"\ncorpus: {len(notes)} notes, {len(styles)} styles, {total} labelled claims")
        print(f"{'kind':26} {'labelled':>8} {'recall':>7} {'right':>6} {'precision':>9}")
        for kind, c in sorted(stats.items()):
            recall = c["found"] / c["labelled"] if c["labelled"] else float("nan")
            precision = (
                c["found"] / (c["found"] + c["extra"]) if c["found"] + c["extra"] else float("nan")
            )
            print(f"{kind:26} {c['labelled']:8} {recall:7.1%} {c['right']:6} {precision:9.1%}")
        print(f"read right: {found_right}/{total}; false alarms: {false_alarms}")
        for line in problems:
            print("  ", line)
    recall = sum(c["found"] for c in stats.values()) / total
    assert recall >= 0.95
    assert not [p for p in problems if "contradicted" in p and "labelled holds" in p]
    assert false_alarms == 0


def _same(c: claims.Claim, stated: object) -> bool:
    if isinstance(stated, str) or isinstance(c.stated, str):
        return str(c.stated) == str(stated)
    return abs(float(c.stated) - float(stated)) <= 1e-9 * max(1.0, abs(float(stated)))  # type: ignore[arg-type]


NVDA_NOTE = """Market pulse: NVIDIA (NVDA)

NVIDIA shares slipped 0.8% on Thursday to finish at $180.14, as nearly 282 million shares changed
hands. The stock swung between a low of $176.38 and an intraday peak of $184.44, a fresh 52-week
high. Against the previous close of $183.57 the reaction to the quarterly report was muted.
"""
TSLA_NOTE = """Tesla rallied 2.3% to $448.98 after its earnings, printing a session high of $449.40;
the stock still trades about 8% below its 52-week high of $488.54."""


@pytest.mark.parametrize(
    ("ticker", "day", "text", "expected"),
    [
        (
            "NVDA",
            dt.date(2025, 8, 28),
            NVDA_NOTE,
            [
                ("change_1d", "0.8%", "holds"),
                ("close", "$180.14", "holds"),
                ("volume", "nearly 282 million", "holds"),
                ("day_low", "$176.38", "holds"),
                ("day_high", "$184.44", "holds"),
                ("previous_close", "$183.57", "off"),  # it was $181.57
            ],
        ),
        (
            "TSLA",
            dt.date(2025, 10, 23),
            TSLA_NOTE,
            [
                ("change_1d", "2.3%", "holds"),
                ("close", "$448.98", "holds"),
                ("day_high", "$449.40", "holds"),
                ("high_52w", "$488.54", "holds"),
            ],
        ),
    ],
)
def test_a_note_names_its_company_when_the_store_does_not(
    ticker: str, day: dt.date, text: str, expected: list[tuple[str, str, str]]
) -> None:
    """With no stored name, "NVIDIA" and "Tesla" are the note's own stock, not strangers."""
    from conftest import shared_path

    frame = pl.read_csv(shared_path("yahoo-30") / f"{ticker}.csv", try_parse_dates=True)
    bars = claims.Bars(ticker, frame.rename(str.lower).filter(pl.col("date") <= day))
    market = claims.Market(
        ticker, day, lambda t: bars if t == ticker else None, lambda _: "adjusted"
    )
    found = claims.extract(text, {}, market=market, names={ticker: ticker})
    got = [(c.kind, c.written, c.verdict) for c in found]
    assert [g for g in got if g[0] in {e[0] for e in expected}] == expected, got


def _market_of(ticker: str, day: dt.date) -> claims.Market:
    """A market of one real ticker's adjusted bars up to ``day``."""
    from conftest import shared_path

    frame = pl.read_csv(shared_path("yahoo-30") / f"{ticker}.csv", try_parse_dates=True)
    bars = claims.Bars(ticker, frame.rename(str.lower).filter(pl.col("date") <= day))
    return claims.Market(ticker, day, lambda t: bars if t == ticker else None, lambda _: "adjusted")


@pytest.mark.parametrize(
    ("ticker", "day", "text", "expected"),
    [
        # AAPL closed 2025 at 271.61 and 2026-01-30 at 259.24: -4.6% on the year, +0.5% that day.
        ("AAPL", "2026-01-30", "Year to date the shares are down 4.6%.", [("change_ytd", "holds")]),
        (
            "AAPL",
            "2026-01-30",
            "Apple fell 1.2% on the day; year to date it is down 4.6%.",
            [("change_1d", "contradicted"), ("change_ytd", "holds")],
        ),
        ("SPY", "2026-03-20", "SPY is down 4.6% for the year.", [("change_ytd", "holds")]),
        # MSFT closed 480.53 on 2026-01-28 and 432.51 on the 29th: "yesterday's" names its noun.
        (
            "MSFT",
            "2026-01-29",
            "The stock closed at $432.51, down from yesterday's close of $480.53.",
            [("close", "holds"), ("previous_close", "holds")],
        ),
        ("MSFT", "2026-01-29", "Yesterday the stock closed at $480.53.", [("close", "holds")]),
        (
            "BIDU",
            "2025-11-18",
            "Seit Jahresanfang steht ein Plus von 38,9 % zu Buche.",
            [("change_ytd", "holds")],
        ),
    ],
)
def test_a_period_or_a_day_named_in_the_clause_is_the_figures(
    ticker: str, day: str, text: str, expected: list[tuple[str, str]]
) -> None:
    market = _market_of(ticker, dt.date.fromisoformat(day))
    found = claims.extract(text, {}, market=market, names={ticker: ticker})
    assert [(c.kind, c.verdict) for c in found] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A distance from an average, not the day's move.
        ("Shares are up about 30% from the 200-day average.", [("pct_vs_sma_200", "holds")]),
        ("NVIDIA is down 5% versus its 50-day average.", [("pct_vs_sma_50", "contradicted")]),
        # A run of sessions is a duration, never a price.
        (
            "The stock has closed above its 50-day moving average for 20 straight sessions.",
            [("position_sma_50", "holds")],
        ),
        # "Volume averaged" is the average, not the day's volume.
        ("Volume averaged 170 million over the last 50 days.", [("average_volume", "holds")]),
        ("Turnover ran at roughly 1.7 times the 50-day norm.", [("relative_volume", "holds")]),
    ],
)
def test_phrasings_of_distance_duration_and_average(
    text: str, expected: list[tuple[str, str]]
) -> None:
    market = _market_of("NVDA", dt.date(2025, 8, 28))
    found = claims.extract(text, {}, market=market, names={"NVDA": "NVDA", "NVIDIA": "NVDA"})
    assert [(c.kind, c.verdict) for c in found] == expected


@pytest.mark.parametrize(
    "text",
    [
        "After such days the odds of a gain over 20 trading days were 58% (52% to 63% with 95%"
        " confidence), against 53% on all days.",
        "History gives 58% odds of a gain over 20 sessions.",
        "Past verdicts that stated odds of a gain of 50% to 60% were right in 56% of 3,675 cases.",
        "Nach solchen Tagen lagen die Kurse 20 Handelstage später in 52 % der Fälle höher,"
        " gegenüber 52 % an allen Handelstagen.",
        "The parabolic SAR flipped below the price, to $172.40, signalling an uptrend.",
        "Der Parabolic SAR sprang über den Kurs, auf 182,15 $, und signalisierte damit einen"
        " Abwärtstrend.",
        "It closed above the highest high of the previous 20 trading days ($184.10), breaking"
        " out of its Donchian channel.",
    ],
)
def test_odds_from_history_are_no_figures_of_the_day(text: str) -> None:
    """Odds, shares of cases and spans of trading days are the study's, and an indicator's level
    is the indicator's: no move, no average, no close."""
    from conftest import shared_path

    day = dt.date(2025, 8, 28)
    frame = pl.read_csv(shared_path("yahoo-30") / "NVDA.csv", try_parse_dates=True)
    bars = claims.Bars("NVDA", frame.rename(str.lower).filter(pl.col("date") <= day))
    market = claims.Market(
        "NVDA", day, lambda t: bars if t == "NVDA" else None, lambda _: "adjusted"
    )
    assert claims.extract(text, {}, market=market, names={"NVDA": "NVDA"}) == []


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize(
    ("ticker", "day"),
    [
        ("BABA", dt.date(2026, 1, 2)),
        ("AAPL", dt.date(2025, 4, 3)),
        ("TSLA", dt.date(2025, 10, 23)),
        ("0700.HK", dt.date(2025, 4, 7)),
        ("SPY", dt.date(2025, 4, 9)),
        ("NVDA", dt.date(2025, 8, 28)),
    ],
)
def test_a_brief_checks_true_against_its_own_data(
    corpus_store: Path, ticker: str, day: dt.date, lang: str
) -> None:
    """Every figure a brief writes is read back by check and holds: the gap, the distances in
    brackets, "under it", the study's shares of cases and "am Vortag" all bind right."""
    from stockbrief.notes import render

    note = api.brief(ticker, as_of=day, lang=lang, store=corpus_store)  # type: ignore[arg-type]
    found = api.check(render.markdown(note), ticker, as_of=day, store=corpus_store)
    wrong = [(c.kind, c.written, c.verdict, c.note) for c in found if not c.holds]
    assert len(found) >= 12
    assert wrong == []
