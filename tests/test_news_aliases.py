"""Feed items matched to tickers on a corpus of headlines in many styles about real companies:
names, stored aliases, cashtags and exchange-prefixed tickers match; words that only look like
a ticker or contain a name do not."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl
import pytest

from stockbrief import api
from stockbrief.errors import InputError
from stockbrief.store import Store

SECURITIES = (
    "ticker,name,exchange\n"
    "AAPL,Apple Inc.,XNAS\n"
    'META,"Meta Platforms, Inc.",XNAS\n'
    'A,"Agilent Technologies, Inc.",XNYS\n'
    "ON,ON Semiconductor Corporation,XNAS\n"
    'NOW,"ServiceNow, Inc.",XNYS\n'
    "0700.HK,Tencent Holdings Ltd,XHKG\n"
    "BRK-B,Berkshire Hathaway Inc.,XNYS\n"
    "F,Ford Motor Company,XNYS\n"
    "T,AT&T Inc.,XNYS\n"
    "GOOGL,Alphabet Inc.,XNAS\n"
    "ALL,The Allstate Corporation,XNYS\n"
    "KEY,KeyCorp,XNYS\n"
    "BABA,Alibaba Group Holding Limited,XNYS\n"
    'JD,"JD.com, Inc.",XNAS\n'
    "GM,General Motors Company,XNYS\n"
    'AMZN,"Amazon.com, Inc.",XNAS\n'
)

ALIASES = "ticker,alias\nmeta,Meta\nF,Ford\nGOOGL,Google\nGOOGL,$GOOG\nON,onsemi\n"

CORPUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Apple shares slip as iPhone demand cools in China", ("AAPL",)),
    ("Pineapple prices hit a record as the Costa Rica harvest falters", ()),
    ("$META rips higher after Reality Labs update", ("META",)),
    ("Meta to spend up to $65 billion on AI this year, Zuckerberg says", ("META",)),
    ("metaverse hype fades as headset sales stall", ()),
    (
        "Agilent Technologies Reports First-Quarter Fiscal Year 2025 Financial Results (NYSE: A)",
        ("A",),
    ),
    ("A look at the week ahead in markets", ()),
    ("Chipmaker unveils new silicon carbide line (Nasdaq: ON)", ("ON",)),
    ("onsemi Completes Acquisition of Qorvo's Silicon Carbide JFET Business", ("ON",)),
    ("Stocks to watch ON the move: chipmakers rally", ()),
    ("ServiceNow beats estimates; NOW shares jump 10%", ("NOW",)),
    ("STOCKS RALLY NOW THAT THE FED IS DONE HIKING", ()),
    ("Tencent (HKEX: 700) posts 11% revenue growth", ("0700.HK",)),
    ("Hong Kong movers: HKEX:0700 up 3%, index flat", ("0700.HK",)),
    ("Berkshire Hathaway trims its Apple stake again", ("BRK-B", "AAPL")),
    ("Buffett's firm (NYSE:BRK.B) hoards record cash", ("BRK-B",)),
    ("Ford recalls 240,000 Explorer SUVs over seat belt defect", ("F",)),
    ("AT&T adds 482,000 postpaid phone subscribers", ("T",)),
    ("T-Mobile leads wireless adds for the quarter", ()),
    ("Alphabet's Google unveils Gemini 2.0", ("GOOGL",)),
    ("Options traders pile into $GOOG calls", ("GOOGL",)),
    ("googled: how search habits are changing", ()),
    ("Allstate estimates $1.1 billion in catastrophe losses", ("ALL",)),
    ("All eyes on the Fed as inflation cools", ()),
    ("KeyCorp profit rises as net interest income improves", ("KEY",)),
    ("Key takeaways from the jobs report", ()),
    ("Alibaba, JD.com lead Hong Kong tech rebound", ("BABA", "JD")),
    ("JD Sports shares fall on profit warning", ()),
    ("General Motors to cut 1,000 jobs", ("GM",)),
    ("General Mills raises its outlook", ()),
    ("Amazon's AWS outage hits thousands of sites", ("AMZN",)),
)


def feed(items: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    entries = "".join(
        f"<item><title>{escape(title)}</title><link>https://news.example.com/{n}</link>"
        f"<pubDate>Mon, 06 Jan 2025 {n // 60:02d}:{n % 60:02d}:00 GMT</pubDate></item>"
        for n, (title, _) in enumerate(items)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    return f"{head}{entries}</channel></rss>"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    (tmp_path / "securities.csv").write_text(SECURITIES)
    (tmp_path / "aliases.csv").write_text(ALIASES)
    api.ingest("securities", [tmp_path / "securities.csv"], store=path)
    report = api.ingest("aliases", [tmp_path / "aliases.csv"], store=path)
    assert report.result.inserted == 5
    return path


def test_each_headline_is_linked_to_the_companies_it_names(store: Path, tmp_path: Path) -> None:
    (tmp_path / "wire.xml").write_text(feed(CORPUS))
    report = api.ingest("news", [tmp_path / "wire.xml"], store=store)
    with Store(store, read_only=True) as db:
        news, links = db.read("news"), db.read("news_tickers")
    linked = dict(
        news.join(links, on="id").group_by("headline").agg(pl.col("ticker").sort()).iter_rows()
    )
    expected = {title: sorted(tickers) for title, tickers in CORPUS if tickers}
    assert linked == expected
    assert report.filtered == sum(1 for _, tickers in CORPUS if not tickers)


def test_stored_aliases_are_upper_cased_by_ticker(store: Path) -> None:
    with Store(store, read_only=True) as db:
        aliases = db.read("aliases")
    assert ("META", "Meta") in aliases.rows()


def test_an_alias_file_without_the_alias_column_names_it(store: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("ticker,name\nMETA,Meta\n")
    with pytest.raises(InputError, match="alias"):
        api.ingest("aliases", [tmp_path / "bad.csv"], store=store)
