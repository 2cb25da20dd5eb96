"""Briefs a reader would publish: golden notes of varied real days, read line by line in English
and German, and the slips a native reader and an editor found, which must never come back.

The golden files are the code's own output, kept under ``tests/golden/{en,de}/``; after a
deliberate change of wording, rewrite them with ``python tests/test_golden.py`` and read the
difference before keeping it.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest

from stockbrief import api
from stockbrief.notes import narrative, render
from stockbrief.notes.document import Brief
from stockbrief.store import Store

GOLDEN = Path(__file__).parent / "golden"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
END = dt.date(2026, 3, 25)
CASES: dict[str, tuple[str, dt.date]] = {
    "baba-2026-01-02": ("BABA", dt.date(2026, 1, 2)),
    "nvda-2025-01-27": ("NVDA", dt.date(2025, 1, 27)),
    "aapl-2025-04-03": ("AAPL", dt.date(2025, 4, 3)),
    "0700hk-2025-04-07": ("0700.HK", dt.date(2025, 4, 7)),
    "spy-2025-04-09": ("SPY", dt.date(2025, 4, 9)),
    "tsla-2024-10-24": ("TSLA", dt.date(2024, 10, 24)),
    "vix-2025-04-08": ("VIX", dt.date(2025, 4, 8)),
    "vix-2026-03-25": ("VIX", dt.date(2026, 3, 25)),
    "spy-2026-01-28": ("SPY", dt.date(2026, 1, 28)),
    "2513hk-2026-01-12": ("2513.HK", dt.date(2026, 1, 12)),
    "baba-2026-03-19": ("BABA", dt.date(2026, 3, 19)),
}
"""A name-day surge with analysts and news, the largest losses and gains of 2021-2026 for a
chip maker, a phone maker, a Hong Kong listing, an ETF and a carmaker, and an index; the index
on a bar of the file that carries another instrument's volume, a flat day on thin volume, and
the third day of a new listing; a consensus eleven weeks old."""

FORBIDDEN: dict[str, list[str]] = {
    "en": [
        "session",  # a trading day, said as one
        "summary published by",  # a source id is not a publisher
        "downloads downloads",
        "History does not back it",
        "RSI midline",
        "0700.HK (0700.HK)",
        "\u00d7",
        "shares traded.Prices",
        " 1 past cases",
        "0.0%",  # a move too small to print is "unchanged"
    ],
    "de": [
        "Sitzung",  # a meeting, not a trading day
        "Evidenz",  # a false friend: Statistik, historische Auswertung
        "dem üblichen Volumen",  # "doppelt so hoch wie dem": the wrong case
        "doppelt so hoch wie",  # shares are not "hoch"
        "\u00d7",  # the English sign inside a German noun phrase
        "notiert sie",  # a pronoun with no antecedent
        "erstmals am",  # "seit dem" is meant
        "über 20 Sitzungen",
        "im Rahmen des Zufalls um den Anteil",
        "Schluss unter dem",  # a cross is a cross, not a close below
        "Schluss über dem",
        "ein bei",  # a separable particle followed by more of the clause
        "RSI-Mittellinie",
        "Millionen downloads",  # a unit left in lower-case English
        "0700.HK (0700.HK)",
        "Aktie eröffnete",
        " revenue",
        "Zusammenfassung von",
        "Stück.Die",
        " 1 frühere Fälle",
        "0,0\u00a0%",
    ],
}
"""Phrases that were slips in an earlier version of the brief, per language."""

NUMERIC_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")
HYPHEN_MINUS = re.compile(r"(?<![\w\-])-\d")


def build(path: Path, yahoo: Path, end: dt.date = END) -> Store:
    db = Store(path)
    api.ingest("prices", sorted(yahoo.glob("*.csv")), store=db, end=end, basis="adjusted")
    for kind in ("securities", "ratings", "consensus", "kpis"):
        api.ingest(kind, [EXAMPLE / f"{kind}.csv"], store=db)  # type: ignore[arg-type]
    api.ingest("news", [EXAMPLE / "news.jsonl"], store=db)
    typed = path.parent / "types.csv"
    typed.write_text("ticker,name,type\nSPY,SPDR S&P 500 ETF Trust,ETF\nAAPL,Apple,stock\n")
    api.ingest("securities", [typed], store=db)
    return db


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Brief]:
    from conftest import shared_path

    db = build(tmp_path_factory.mktemp("golden") / "g.duckdb", shared_path("yahoo-30"))
    out = {
        (case, lang): api.brief(ticker, as_of=day, lang=lang, store=db)
        for case, (ticker, day) in CASES.items()
        for lang in narrative.LANGS
    }
    db.close()
    return out


@pytest.mark.parametrize("lang", narrative.LANGS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_brief_reads_as_the_golden_file(
    notes: dict[tuple[str, str], Brief], case: str, lang: str
) -> None:
    golden = (GOLDEN / lang / f"{case}.md").read_text(encoding="utf-8")
    assert render.markdown(notes[case, lang]) == golden


@pytest.mark.parametrize("lang", narrative.LANGS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_no_known_slip_comes_back(
    notes: dict[tuple[str, str], Brief], case: str, lang: str
) -> None:
    note = notes[case, lang]
    text = render.markdown(note)
    for phrase in FORBIDDEN[lang]:
        assert phrase not in text, phrase
    assert not NUMERIC_DATE.findall(text), "dates in running text are written in words"
    assert not HYPHEN_MINUS.findall(text), "a negative number takes the minus sign U+2212"
    since = "since" if lang == "en" else "Seit dem"
    day = narrative.environment(lang, "USD").filters["day"](note.as_of)
    assert f"{since} {day}" not in text, "no 'since' the same day"


def test_each_number_is_said_once(notes: dict[tuple[str, str], Brief]) -> None:
    nvda = render.markdown(notes["nvda-2025-01-27", "en"])
    assert nvda.count("3.8 times") == 1  # volume against typical: the move section only
    assert nvda.count(" 2.7%") == 1  # the cross below the 200-day average and its margin
    tsla = render.markdown(notes["tsla-2024-10-24", "de"])
    assert tsla.count("13,5\u00a0%") == 1
    assert "Er kreuzte den 50-Tage-Durchschnitt (229,47\u00a0$) nach oben" in tsla


def test_words_follow_the_magnitude(notes: dict[tuple[str, str], Brief]) -> None:
    aapl = notes["aapl-2025-04-03", "en"]
    assert aapl.sheet.value("rel_volume") == pytest.approx(1.99, abs=0.005)  # just under 2
    assert "about twice its typical volume" in aapl.headline
    assert "above-typical" not in aapl.headline
    assert "bei etwa doppeltem Volumen" in notes["aapl-2025-04-03", "de"].headline
    nvda = notes["nvda-2025-01-27", "de"]
    assert nvda.headline.startswith(
        "NVDA bricht bei mehr als dreifachem Volumen um 17,0\u00a0% auf 118,38\u00a0$ ein"
    )
    # RSI 53 is no reason either way.
    baba = notes["baba-2026-01-02", "en"]
    assert baba.sheet.value("rsi_14") == pytest.approx(53, abs=0.5)
    assert all(r.key != "rsi" for r in baba.verdict.reasons)


def test_the_day_is_ranked_in_the_stored_history(notes: dict[tuple[str, str], Brief]) -> None:
    spy = notes["spy-2025-04-09", "en"]
    assert spy.sheet.value("move_rank") == 1
    assert spy.sheet.facts["move_rank"].source.start == dt.date(2021, 1, 4)
    assert "It was the largest one-day gain in the stored history, which begins on 4 January" in (
        spy.text
    )
    baba = notes["baba-2026-01-02", "en"].sheet
    assert baba.value("move_rank") > 3  # a 6.2% gain is not a record for BABA
    assert baba.value("move_record_since") < dt.date(2026, 1, 2)


def test_the_day_is_set_against_the_market(notes: dict[tuple[str, str], Brief]) -> None:
    aapl = notes["aapl-2025-04-03", "en"]
    fact = aapl.sheet.facts["market_return"]
    assert fact.value == pytest.approx(530.6172485 / 558.1219482 - 1, rel=1e-9)  # SPY.csv
    assert (fact.source.tickers, fact.source.start, fact.source.end) == (
        ("SPY",),
        dt.date(2025, 4, 2),
        dt.date(2025, 4, 3),
    )
    assert "The market benchmark SPY fell 4.9% the same day." in aapl.text
    assert "Der Vergleichswert SPY fiel am selben Tag um 4,9\u00a0%." in (
        notes["aapl-2025-04-03", "de"].text
    )
    assert "market_return" not in notes["spy-2025-04-09", "en"].sheet  # not against itself
    assert "market_return" not in notes["0700hk-2025-04-07", "en"].sheet  # another market


def test_the_day_in_history_reads_nothing_later(
    notes: dict[tuple[str, str], Brief], tmp_path: Path, yahoo30: Path
) -> None:
    """The rank of the move and the market's move are the same with or without later bars."""
    day = CASES["aapl-2025-04-03"][1]
    with build(tmp_path / "cut.duckdb", yahoo30, day) as cut:
        for lang in narrative.LANGS:
            alone = api.brief("AAPL", as_of=day, lang=lang, store=cut)
            for fmt in ("md", "json"):
                assert render.render(alone, fmt) == render.render(
                    notes["aapl-2025-04-03", lang], fmt
                )


def test_the_most_informative_setup_is_studied(notes: dict[tuple[str, str], Brief]) -> None:
    """TSLA's 6.5-sigma gain, not its cross above the 50-day average, which it also made."""
    tsla = notes["tsla-2024-10-24", "en"]
    assert "cross_above_sma_50" in tsla.sheet.value("events_today")
    evidence = tsla.verdict.evidence
    assert evidence is not None
    assert {s["kind"] for s in evidence["setups"]} == {"large_move_up"}
    stock = evidence["setups"][0]
    assert stock["scope"] == "stock"
    assert stock["n"] < 10
    assert "For TSLA there are only 5 past cases, too few to judge" in tsla.text
    assert "Bei TSLA gab es erst 5 frühere Fälle, zu wenige für ein Urteil" in (
        notes["tsla-2024-10-24", "de"].text
    )


def test_closings_vary_with_the_evidence(notes: dict[tuple[str, str], Brief]) -> None:
    for lang in narrative.LANGS:
        closings = {notes[case, lang].sections[-1].text.split(". ")[1] for case in CASES}
        assert len(closings) >= 3, closings


def test_an_index_is_quoted_in_points_without_volume(notes: dict[tuple[str, str], Brief]) -> None:
    vix = notes["vix-2025-04-08", "en"]
    assert vix.sheet.value("instrument") == "index"
    assert "52.33 points" in vix.headline
    assert "$" not in vix.text
    assert "shares" not in vix.text
    german = notes["vix-2025-04-08", "de"].text
    assert "auf 52,33 Punkte, nach 46,98 Punkten am Vortag" in german
    # No volume of its own: the only shares named are the stored stocks of the day's breadth.
    assert "Gehandelt wurden" not in german
    assert "Aktie" not in german.replace("im Datenbestand erfassten Aktien", "")
    assert "Stück" not in german


def test_thin_flat_and_new_days_are_worded_as_they_are(
    notes: dict[tuple[str, str], Brief],
) -> None:
    spy = notes["spy-2026-01-28", "en"]
    assert spy.sheet.value("change_1d") == pytest.approx(693.53 / 693.60 - 1, abs=1e-4)
    assert spy.headline == "SPDR S&P 500 ETF Trust was unchanged at $693.53"
    assert spy.sheet.value("rel_volume") == pytest.approx(0.75, abs=0.01)
    assert "61.2 million shares traded, 25% below the typical 81.4 million" in spy.text
    german = notes["spy-2026-01-28", "de"]
    assert german.headline == "SPDR S&P 500 ETF Trust bleibt bei 693,53\u00a0$ unverändert"
    assert "Anteile, 25\u00a0% weniger als üblich" in german.text
    listing = notes["2513hk-2026-01-12", "en"]
    assert "move_rank" not in listing.sheet  # the third stored day ranks nothing
    assert "largest" not in listing.text
    assert "9.4 million shares traded. Prices are adjusted" in listing.text
    assert "Gehandelt wurden 9,4 Millionen Stück. Die Kurse" in (
        notes["2513hk-2026-01-12", "de"].text
    )


def test_a_flagged_bar_is_named_and_an_index_with_one_stray_volume_stays_an_index(
    notes: dict[tuple[str, str], Brief],
) -> None:
    vix = notes["vix-2026-03-25", "en"]
    assert vix.sheet.value("instrument") == "index"
    assert vix.sheet.value("suspect_bar_date") == dt.date(2026, 3, 25)
    assert vix.sections[0].text.startswith(
        "Caution: a check of the stored bars flags the bar of 25 March 2026 (volume on an index"
    )
    assert "shares" not in vix.text
    german = notes["vix-2026-03-25", "de"].sections[0].text
    assert german.startswith(
        "Vorsicht: Die Prüfung der gespeicherten Kurse meldet den Kurs vom 25. März 2026 als"
        " verdächtig (Umsatz bei einem Index"
    )
    assert "suspect_bar" not in notes["vix-2025-04-08", "en"].sheet  # the days before are sound


def test_an_old_consensus_says_its_date(notes: dict[tuple[str, str], Brief]) -> None:
    later = notes["baba-2026-03-19", "en"]
    assert later.sheet.value("consensus_date") == dt.date(2026, 1, 2)
    assert "(a provider's summary; source: seed-note; as of 2 January 2026)" in later.text
    assert "Quelle: seed-note; Stand: 2. Januar 2026)" in notes["baba-2026-03-19", "de"].text
    assert "as of 2 January" not in notes["baba-2026-01-02", "en"].text  # of the day itself


def test_german_kpis_and_facts_table_are_german(notes: dict[tuple[str, str], Brief]) -> None:
    baba = notes["baba-2026-01-02", "de"]
    text = baba.text
    assert "Umsatz (Cloud Intelligence Group): 39,8 Milliarden CNY" in text
    assert "„Qwen app downloads in its first week“: 10 Millionen" in text
    page = render.html(baba, chart=False)
    assert "<td>Schlusskurs</td>" in page
    assert "Volumen / übliches Volumen" in page
    assert ">1,4-fach<" in page
    assert "Zusammenfassung eines Anbieters vom 2. Januar 2026" in page
    assert "eine Kurslücke nach oben" in page  # the day's events by name, not large_move_up
    assert "large_move_up" not in page
    assert "rel_volume" not in page
    assert "close / previous close" not in page


def regenerate() -> None:
    """Write the golden files from the code (read them before keeping them)."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import SHARED_DATA

    with tempfile.TemporaryDirectory() as tmp:
        db = build(Path(tmp) / "g.duckdb", SHARED_DATA / "yahoo-30")
        for case, (ticker, day) in CASES.items():
            for lang in narrative.LANGS:
                note = api.brief(ticker, as_of=day, lang=lang, store=db)
                target = GOLDEN / lang / f"{case}.md"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(render.markdown(note), encoding="utf-8")
        db.close()


if __name__ == "__main__":
    regenerate()
