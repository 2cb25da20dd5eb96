"""The brief: facts pinned to independently computed values, no look-ahead, two languages."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from helpers import write_csv
from stockbrief import api
from stockbrief import detectors as events
from stockbrief.notes import facts, narrative, render, verdict, wording
from stockbrief.store import Store

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "alibaba-2026-01"
DAY = dt.date(2026, 1, 2)
PEERS = ("BABA", "BIDU", "JD", "PDD", "BILI")


def build(path: Path, yahoo: Path, end: dt.date) -> Store:
    db = Store(path)
    api.ingest("prices", [yahoo / f"{t}.csv" for t in PEERS], store=db, end=end)
    for kind in ("securities", "ratings", "consensus", "kpis"):
        api.ingest(kind, [EXAMPLE / f"{kind}.csv"], store=db)  # type: ignore[arg-type]
    api.ingest("news", [EXAMPLE / "news.jsonl"], store=db)
    return db


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from conftest import shared_path

    db = build(tmp_path_factory.mktemp("brief") / "b.duckdb", shared_path("yahoo-30"), DAY)
    yield db
    db.close()


def test_facts_match_independent_computation(store: Store, yahoo30: Path) -> None:
    note = api.brief("BABA", as_of=DAY, store=store)
    raw = pl.read_csv(yahoo30 / "BABA.csv", try_parse_dates=True).filter(pl.col("Date") <= DAY)
    close = raw["Close"].to_numpy()
    volume = raw["Volume"].to_numpy().astype(float)
    f = note.to_json()["facts"]
    assert f["close"]["value"] == pytest.approx(155.74, abs=0.005)
    assert f["change_1d"]["value"] == pytest.approx(close[-1] / close[-2] - 1, rel=1e-12)
    assert f["change_1d"]["value"] == pytest.approx(0.0625, abs=5e-4)
    assert f["volume"]["value"] == 15_778_300
    assert f["typical_volume"]["value"] == pytest.approx(volume[-51:-1].mean(), rel=1e-12)
    assert f["rel_volume"]["value"] == pytest.approx(volume[-1] / volume[-51:-1].mean(), rel=1e-12)
    assert f["sma_50"]["value"] == pytest.approx(close[-50:].mean(), rel=1e-12)
    assert f["sma_200"]["value"] == pytest.approx(close[-200:].mean(), rel=1e-12)
    assert f["pct_vs_sma_200"]["value"] == pytest.approx(close[-1] / close[-200:].mean() - 1)
    assert f["pct_vs_sma_50"]["value"] < 0  # the data: below the 50-day, not "well above" it
    for name in (
        "close",
        "change_1d",
        "volume",
        "typical_volume",
        "rel_volume",
        "sma_50",
        "sma_200",
        "pct_vs_sma_50",
        "pct_vs_sma_200",
    ):
        assert set(f[name]) == {"value", "unit", "source", "formula"}
        assert f[name]["source"]["table"] == "bars"
        assert f[name]["source"]["to"] == (
            "2025-12-31" if name == "typical_volume" else "2026-01-02"
        )
    assert f["sma_200"]["source"]["from"] == raw["Date"][-200].isoformat()
    assert f["typical_volume"]["source"]["to"] == "2025-12-31"
    assert f["upside"]["value"] == pytest.approx(194 / close[-1] - 1)


def test_the_note_says_what_the_data_say(store: Store) -> None:
    note = api.brief("BABA", as_of=DAY, store=store)
    assert note.headline == "Alibaba jumped 6.2% to $155.74 on above-typical volume"
    text = note.text
    assert "well above the 200-day moving average ($137.00, +13.7%)" in text
    assert "below the 50-day ($159.36, \u22122.3%)" in text
    assert "15.8 million shares traded, 1.4 times the typical 11.4 million" in text
    assert '"Moderate Buy"' in text
    assert "Jefferies $230.00 (Buy), Nomura $215.00 (Buy)" in text
    assert "Peer news from BIDU" in text
    assert "sector tailwind" in text
    assert "+34% year on year" in text
    assert "The level to watch is the 50-day average at $159.36, now resistance" in text
    assert [s.key for s in note.sections] == [
        "move",
        "chart",
        "analysts",
        "sector",
        "milestones",
        "evidence",
        "conclusion",
    ]
    assert note.verdict.lean == "positive"
    # The day's leading setup is a 2.5-sigma gain; across the five stocks it was followed by
    # a 20-session gain no more often than any day, so the verdict says history does not back it.
    evidence = note.verdict.evidence
    assert evidence is not None
    assert [s["scope"] for s in evidence["setups"]] == ["stock", "universe"]
    assert all(s["kind"] == "large_move_up" for s in evidence["setups"])
    universe = evidence["setups"][1]
    assert universe["ci_low"] <= universe["base_pct"] <= universe["ci_high"]
    assert note.verdict.strength == "none"
    assert "History does not confirm the positive lean" in text
    assert f"against {universe['base_pct']:.0%} on all days, a difference within chance." in text


def test_german_numbers_dates_and_money(store: Store) -> None:
    text = api.brief("BABA", as_of=DAY, lang="de", store=store).text
    assert "155,74\u00a0$" in text
    assert "Am 2. Januar 2026 sprang Alibaba (BABA) um 6,2\u00a0% auf 155,74\u00a0$" in text
    assert "15,8 Millionen Stück, das 1,4-Fache des üblichen Volumens von 11,4 Millionen" in text
    assert "(159,36\u00a0$, \u22122,3\u00a0%)" in text  # the true minus sign
    assert "keine Anlageberatung" in text


def test_later_data_leave_the_brief_byte_identical(
    tmp_path: Path, store: Store, yahoo30: Path
) -> None:
    later = build(tmp_path / "later.duckdb", yahoo30, dt.date(2026, 3, 25))
    extra = write_csv(
        tmp_path / "r.csv",
        ["BABA,Citi,2026-01-05,Sell,100", "BABA,UBS,2026-02-01,Buy,300"],
        "ticker,firm,date,rating,target",
    )
    api.ingest("ratings", [extra], store=later)
    split = write_csv(tmp_path / "s.csv", ["BABA,2026-02-02,split,2"], "ticker,date,kind,value")
    api.ingest("actions", [split], store=later)
    for lang in narrative.LANGS:
        before = api.brief("BABA", as_of=DAY, lang=lang, store=store)
        after = api.brief("BABA", as_of=DAY, lang=lang, store=later)
        for fmt in ("md", "json"):
            assert render.render(before, fmt) == render.render(after, fmt)
    later.close()


def test_sections_without_data_are_left_out(tmp_path: Path, yahoo30: Path) -> None:
    with Store(tmp_path / "bare.duckdb") as db:
        api.ingest("prices", [yahoo30 / "SPY.csv"], store=db, end=DAY)
        note = api.brief("SPY", as_of=DAY, store=db)
    assert [s.key for s in note.sections] == ["move", "chart", "conclusion"]
    assert "analyst" not in note.text.lower()


def test_html_escapes_untrusted_text_and_embeds_the_chart(tmp_path: Path, store: Store) -> None:
    news = tmp_path / "evil.jsonl"
    news.write_text(
        '{"published_at": "2026-01-02T09:00:00Z", "headline": "<script>alert(1)</script> & co",'
        ' "tickers": ["JD"]}\n'
    )
    api.ingest("news", [news], store=store)
    page = render.html(api.brief("BABA", as_of=DAY, store=store))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert 'src="data:image/png;base64,iVBOR' in page
    # The chart's marks are explained beside it, in the note's language.
    assert "</span> above a bar: a close crossing above the 50- or 200-day average" in page
    german = render.html(api.brief("BABA", as_of=DAY, lang="de", store=store))
    assert "</span> unter einem Balken: Der Schlusskurs kreuzt einen Durchschnitt" in german


def test_cli_writes_each_format(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "copy.duckdb"
    store._con.execute("CHECKPOINT")
    shutil.copy(store.path, path)
    from typer.testing import CliRunner

    from stockbrief.cli import app

    runner = CliRunner()
    for fmt in ("md", "json", "html"):
        result = runner.invoke(
            app,
            [
                "brief",
                "baba",
                "--as-of",
                "2026-01-02",
                "--format",
                fmt,
                "--store",
                str(path),
                "--out",
                str(tmp_path / "out"),
            ],
        )
        assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [
        "BABA-2026-01-02-en.html",
        "BABA-2026-01-02-en.json",
        "BABA-2026-01-02-en.md",
    ]
    data = json.loads((tmp_path / "out" / "BABA-2026-01-02-en.json").read_text())
    assert set(data) == {
        "ticker",
        "as_of",
        "lang",
        "headline",
        "facts",
        "events",
        "verdict",
        "sections",
        "text",
    }


@pytest.mark.parametrize(
    ("margin", "key"),
    [
        (0.0049, "just_above"),
        (0.005, "above"),
        (0.03, "above"),
        (0.0301, "well_above"),
        (-0.0049, "just_below"),
        (-0.0301, "well_below"),
    ],
)
def test_position_words_on_each_side_of_their_thresholds(margin: float, key: str) -> None:
    assert wording.position(margin) == key


@pytest.mark.parametrize(
    ("rel", "key"),
    [
        (1.89, "above_typical"),
        (1.9, "about_double"),
        (1.99, "about_double"),
        (2.0, "more_than_double"),
        (2.99, "more_than_double"),
        (3.0, "more_than_triple"),
        (1.29, "typical"),
        (1.3, "above_typical"),
        (0.75, "below_typical"),  # a quarter below is not "close to typical"
        (0.8, "below_typical"),
        (0.81, "typical"),
    ],
)
def test_volume_words_on_each_side_of_their_thresholds(rel: float, key: str) -> None:
    assert wording.volume(rel) == key


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (0.0499, "up"),
        (0.05, "big_up"),
        (0.0099, "small_up"),
        (-0.01, "down"),
        (0.0, "unchanged"),
        (-0.0001, "unchanged"),  # prints as 0.0%: "edged down 0.0%" says nothing
        (0.0005, "small_up"),
    ],
)
def test_move_words(change: float, key: str) -> None:
    assert wording.move(change) == key


@pytest.mark.parametrize("kind", sorted(events.MEANINGS))
@pytest.mark.parametrize("lang", narrative.LANGS)
def test_every_event_kind_has_a_line_in_every_language(kind: str, lang: narrative.Lang) -> None:
    detail = {"sigma": 3.0, "label": "Buy", "target_mean": 200.0}
    line = narrative.event_line(kind, 0.05, detail, lang, "USD")
    assert line
    assert np.isfinite(len(line))


def test_a_brief_for_every_real_ticker_in_both_languages(tmp_path: Path, yahoo30: Path) -> None:
    with Store(tmp_path / "all.duckdb") as db:
        api.ingest("prices", sorted(yahoo30.glob("*.csv")), store=db, end=dt.date(2026, 3, 25))
        for ticker in db.tickers():
            if ticker == "2513.HK":  # listed after the date
                continue
            for lang in narrative.LANGS:
                note = api.brief(ticker, as_of=DAY, lang=lang, store=db)
                assert note.headline
                assert render.markdown(note).startswith("# ")


@pytest.mark.parametrize("kind", sorted(events.EVENT_KINDS))
def test_every_studied_setup_has_a_german_name(kind: str) -> None:
    template = Path(narrative.__file__).parent / "templates" / "de" / "brief.j2"
    assert f'"{kind}":' in template.read_text()


def sheet_with(**values: float) -> facts.FactSheet:
    sheet = facts.FactSheet("T", DAY, "USD", "T")
    source = facts.Source("bars", ("T",), DAY, DAY)
    for name, value in values.items():
        sheet.add(name, value, "fraction", source, name)
    return sheet


@pytest.mark.parametrize(
    ("direction", "strength", "backing"),
    [
        ("positive", "moderate", "supports"),
        ("negative", "strong", "contradicts"),
        ("none", "none", "none"),
    ],
)
def test_history_backs_a_lean_only_when_it_points_the_same_way(
    direction: str, strength: str, backing: str
) -> None:
    rising = sheet_with(pct_vs_sma_200=0.05, pct_vs_sma_50=0.02)
    evidence = {"setups": [], "strength": strength, "direction": direction}
    judged = verdict.judge(rising, evidence)
    assert (judged.lean, judged.backing) == ("positive", backing)
    assert verdict.judge(rising).backing == "untested"
    mixed = verdict.judge(sheet_with(pct_vs_sma_200=0.05, pct_vs_sma_50=-0.02), evidence)
    assert mixed.lean == "mixed"
    assert mixed.backing == {"supports": "leans_positive", "contradicts": "leans_negative"}.get(
        backing, backing
    )


def test_the_conclusion_names_reasons_for_and_against(store: Store) -> None:
    text = api.brief("BABA", as_of=DAY, store=store).sections[-1].text
    assert text.startswith(
        "On balance the picture leans positive: above the 200-day average, volume confirming the"
        " move, analysts' targets above the price and a sector tailwind; against it, below the"
        " 50-day average."
    )


def test_pdf_is_the_html_page_printed(store: Store) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    note = api.brief("BABA", as_of=DAY, store=store)
    pdf = render.pdf(note)
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 50_000  # the chart is embedded
    printed = weasyprint.HTML(string=render.html(note)).render()
    # The note, its chart and the facts appendix (levels and the rating's votes included) on a
    # few A4 pages.
    assert 2 <= len(printed.pages) <= 6
    first = printed.pages[0]
    assert (round(first.width / 96 * 25.4), round(first.height / 96 * 25.4)) == (210, 297)


def test_the_universe_evidence_is_kept_by_compute_and_never_looks_ahead(
    tmp_path: Path, yahoo30: Path
) -> None:
    """A brief reads the universe's study that `compute` kept for its session; one of an
    earlier session computes it from the stored events; both say what a fresh computation says,
    and a later session's study is never used for an earlier brief."""
    store = build(tmp_path / "fresh.duckdb", yahoo30, DAY)  # never computed
    fresh = {
        lang: render.render(api.brief("BABA", as_of=DAY, lang=lang, store=store), "json")
        for lang in narrative.LANGS
    }
    assert json.loads(fresh["en"])["verdict"]["evidence"]["setups"][-1]["scope"] == "universe"
    kept = build(tmp_path / "kept.duckdb", yahoo30, DAY)
    api.refresh(kept)
    later = build(tmp_path / "later.duckdb", yahoo30, dt.date(2026, 3, 25))
    api.refresh(later)
    assert later.universe_evidence(DAY) is None  # its study is valid for 25 March only
    for lang in narrative.LANGS:
        for db in (kept, later):
            note = api.brief("BABA", as_of=DAY, lang=lang, store=db)
            assert render.render(note, "json") == fresh[lang]
    # A session after the kept study: the brief says which session its statistics are from.
    api.ingest(
        "prices", [yahoo30 / f"{t}.csv" for t in PEERS], store=kept, end=dt.date(2026, 2, 27)
    )
    found = api.events(["BABA"], as_of=dt.date(2026, 2, 27), since=dt.date(2026, 1, 5), store=kept)
    day = found.filter(pl.col("kind").is_in(api.SETUP_PRIORITY))["date"].min()
    assert isinstance(day, dt.date)
    note = api.brief("BABA", as_of=day, store=kept)
    lines = note.verdict.evidence["setups"]
    assert lines[-1]["scope"] == "universe"
    assert lines[-1]["as_of"] == DAY
    assert "(statistics as of 2 January 2026)" in render.render(note, "md")
    german = api.brief("BABA", as_of=day, lang="de", store=kept)
    assert "(Statistik zum 2. Januar 2026)" in render.render(german, "md")
    kept.close()
    later.close()
    store.close()


@pytest.mark.parametrize(("rsi", "lean"), [(44.9, -1), (45.0, None), (55.0, None), (55.1, 1)])
def test_an_rsi_near_50_is_no_reason_either_way(rsi: float, lean: int | None) -> None:
    sheet = sheet_with()
    sheet.add("rsi_14", rsi, "index", facts.Source("bars", ("T",), DAY, DAY), "rsi")
    found = [r.lean for r in verdict.judge(sheet).reasons if r.key == "rsi"]
    assert found == ([] if lean is None else [lean])


@pytest.mark.parametrize(
    ("name", "unit", "lang", "label", "shown"),
    [
        ("Qwen model family cumulative downloads", "downloads", "en", None, ""),
        (
            "Cloud Intelligence Group revenue",
            "CNY",
            "de",
            "Umsatz (Cloud Intelligence Group)",
            "CNY",
        ),
        ("Monthly active users", "users", "de", "monatlich aktive Nutzer", ""),
        ("Qwen app downloads in its first week", "downloads", "de", None, ""),
        ("Paying accounts", "members", "de", "„Paying accounts“", "members"),
        ("Deliveries", "vehicles", "de", "Auslieferungen", "Fahrzeuge"),
    ],
)
def test_kpi_names_and_units_by_the_glossary(
    name: str, unit: str, lang: str, label: str | None, shown: str
) -> None:
    from stockbrief.notes import glossary

    assert glossary.kpi_name(name, lang) == (label or (name if lang == "en" else f"„{name}“"))
    assert glossary.kpi_unit(unit, name, lang) == shown


def test_the_security_type_is_checked_and_stored(tmp_path: Path, yahoo30: Path) -> None:
    from stockbrief.errors import InputError

    with Store(tmp_path / "typed.duckdb") as db:
        api.ingest("prices", [yahoo30 / "SPY.csv"], store=db, end=DAY)
        bad = write_csv(tmp_path / "bad.csv", ["SPY,SPDR S&P 500,ETN"], "ticker,name,type")
        with pytest.raises(InputError, match="unknown security type 'ETN'; use one of stock, etf"):
            api.ingest("securities", [bad], store=db)
        good = write_csv(tmp_path / "good.csv", ["SPY,SPDR S&P 500,ETF"], "ticker,name,type")
        api.ingest("securities", [good], store=db)
        assert db.securities()["type"].to_list() == ["etf"]
        note = api.brief("SPY", as_of=DAY, store=db)
    assert note.sheet.value("instrument") == "etf"
    assert note.sheet.facts["instrument"].source.table == "securities"
    assert "SPDR S&P 500 (SPY), an exchange-traded fund, edged up 0.2%" in note.text


def test_every_printed_page_names_the_note_its_page_and_the_notice(store: Store) -> None:
    weasyprint = pytest.importorskip("weasyprint")
    note = api.brief("BABA", as_of=DAY, lang="de", store=store)
    printed = weasyprint.HTML(string=render.html(note)).render()
    total = len(printed.pages)
    assert total >= 2
    for number, page in enumerate(printed.pages, start=1):
        texts = [t for box in page._page_box.descendants() if (t := getattr(box, "text", None))]
        assert "BABA · 2. Januar 2026" in texts
        assert "Diese Notiz beschreibt Daten; sie ist keine Anlageberatung." in texts
        assert f"Seite {number} / {total}" in texts
