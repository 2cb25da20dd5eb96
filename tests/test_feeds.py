"""News from RSS and Atom feeds: items matched to stored securities, one copy of each story.

The feeds in ``tests/data/feeds/`` are written by hand in the shapes publishers send (see the
README there); no test reads a feed from the network.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from stockbrief import api
from stockbrief.cli import app
from stockbrief.errors import InputError, ProviderError
from stockbrief.sources.feeds import (
    FeedSource,
    aliases,
    canonical_url,
    drop_duplicates,
    known_securities,
    match_tickers,
)
from stockbrief.sources.yahoo import YahooSource
from stockbrief.store import Store

DATA = Path(__file__).parent / "data"
RSS = DATA / "feeds" / "markets-rss.xml"
ATOM = DATA / "feeds" / "company-atom.xml"

SECURITIES = (
    "ticker,name,exchange\n"
    "BABA,Alibaba Group Holding Limited,XNYS\n"
    'BIDU,"Baidu, Inc.",XNAS\n'
    'JD,"JD.com, Inc.",XNAS\n'
    "PDD,PDD Holdings Inc.,XNAS\n"
    "0700.HK,Tencent Holdings Ltd,XHKG\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store that knows the five companies the feeds write about."""
    path = tmp_path / "s.duckdb"
    (tmp_path / "securities.csv").write_text(SECURITIES)
    api.ingest("securities", [tmp_path / "securities.csv"], store=path)
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: errors reach the terminal as they would."""
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args], capture_output=True, text=True, check=False
    )


def stored_news(store: Path) -> dict[str, list[str]]:
    """Each stored headline with the tickers it is linked to."""
    with Store(store, read_only=True) as db:
        news, links = db.read("news"), db.read("news_tickers")
    joined = news.join(links, on="id").group_by("headline").agg(pl.col("ticker").sort())
    return dict(joined.iter_rows())


def test_rss_items_are_linked_by_name_and_cashtag(store: Path) -> None:
    report = api.ingest("news", [RSS], store=store)
    assert stored_news(store) == {
        "Chinese tech stocks rally at the start of 2026 as AI optimism builds": [
            "BABA",
            "BIDU",
            "JD",
        ],
        "$PDD slides after Temu flags slower overseas sales": ["PDD"],
        "JD.com launches a food-delivery push in three more cities": ["JD"],
        "Baidu unveils Ernie 5 model ahead of its AI developer conference": ["BIDU"],
    }
    assert (report.rows, report.tickers, report.result.inserted) == (4, 4, 4)
    assert report.filtered == 2
    assert report.summary().endswith(
        "; 2 feed items left out (1 naming no stored security, 1 without a time)"
    )


def test_rss_times_sources_links_and_summaries_as_stored(store: Path) -> None:
    api.ingest("news", [RSS], store=store)
    with Store(store, read_only=True) as db:
        news = {r["headline"]: r for r in db.read("news").iter_rows(named=True)}
    rally = news["Chinese tech stocks rally at the start of 2026 as AI optimism builds"]
    assert rally["published_at"] == dt.datetime(2026, 1, 2, 15, 42, tzinfo=dt.UTC)
    assert rally["source"] == "Asia Markets Wire"  # the channel, as no item names its own
    assert rally["url"] == (  # tracking parameters and fragment gone
        "https://www.reuters.com/markets/asia/chinese-tech-stocks-rally-start-2026-2026-01-02"
    )
    assert rally["body"] == (  # markup gone
        "Alibaba, Baidu and JD.com led a rally in US-listed Chinese shares on the first trading"
        " day of the year."
    )
    jd = news["JD.com launches a food-delivery push in three more cities"]
    assert jd["published_at"] == dt.datetime(2026, 1, 1, 0, 30, tzinfo=dt.UTC)  # from +0800
    assert news["$PDD slides after Temu flags slower overseas sales"]["sentiment"] < -0.05


def test_atom_entries_and_a_near_identical_headline_across_feeds(store: Path) -> None:
    api.ingest("news", [RSS], store=store)
    report = api.ingest("news", [ATOM], store=store)
    assert report.summary().endswith(
        "; 2 feed items left out (1 already stored or repeated, 1 naming no stored security)"
    )
    news = stored_news(store)
    assert news["Tencent posts record mini-game revenue over the holidays"] == ["0700.HK"]
    assert news["BABA options show traders betting on further gains"] == ["BABA"]
    assert "JD.com launches food delivery push in three more cities" not in news  # a copy
    assert not any(h.startswith("Babalu") for h in news)  # not BABA
    with Store(store, read_only=True) as db:
        tencent = db.read("news").filter(pl.col("headline").str.starts_with("Tencent"))
    assert tencent["source"].to_list() == ["Games Industry Asia"]  # the entry's own source
    assert tencent["published_at"].to_list() == [dt.datetime(2026, 1, 2, 1, 15, tzinfo=dt.UTC)]
    assert tencent["body"].to_list() == ["Tencent Holdings said WeChat mini-games set a record."]


def test_both_feeds_in_one_command_keep_one_copy(store: Path) -> None:
    report = api.ingest("news", [RSS, ATOM], store=store)
    assert report.result.inserted == 6
    assert report.files == 2
    again = api.ingest("news", [RSS, ATOM], store=store)
    assert again.result.inserted == 0
    assert again.filtered == 6 + 4  # six stored stories, two items of no company, two others


def test_a_story_fetched_from_yahoo_and_read_in_a_feed_is_stored_once(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw: dict[str, Any] = json.loads((DATA / "yahoo" / "baba-2026-01-05.json").read_text())
    monkeypatch.setattr(YahooSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    api.fetch(["BABA"], since="2025-12-29", store=store)
    report = api.ingest("news", [RSS], store=store)
    assert report.result.inserted == 3
    with Store(store, read_only=True) as db:
        rally = db.read("news").filter(pl.col("headline").str.starts_with("Chinese tech"))
    assert rally["source"].to_list() == ["Reuters"]  # Yahoo's copy, stored first


def test_ticker_links_every_item_to_it(store: Path) -> None:
    report = api.ingest("news", [ATOM], store=store, ticker="baba")
    assert report.rows == 4  # the restaurant too: the user said these are about BABA
    news = stored_news(store)
    assert news["Babalu, a Cuban restaurant, opens its first branch in Shanghai"] == ["BABA"]
    assert news["Tencent posts record mini-game revenue over the holidays"] == ["0700.HK", "BABA"]


def test_feeds_need_stored_securities_to_match_against(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no stored securities to match feed items against"):
        api.ingest("news", [RSS], store=tmp_path / "empty.duckdb")


def test_feeds_and_news_files_go_in_separate_commands(store: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "news.jsonl"
    jsonl.write_text('{"published_at": "2026-01-02", "headline": "x", "tickers": "BABA"}\n')
    with pytest.raises(InputError, match="separate commands"):
        api.ingest("news", [RSS, jsonl], store=store)


def test_a_file_that_is_no_feed_is_one_line(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "page.xml"
    bad.write_text("this is not XML at all, just a sentence.\n")
    result = run("ingest", "news", str(bad), "--store", str(store))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {bad}: not an RSS or Atom feed (<unknown>:2:0: syntax error)"
    )


def test_an_unreachable_feed_url_is_one_line(store: Path) -> None:
    url = "http://127.0.0.1:9/rss.xml"  # the discard port: nothing listens, nothing leaves
    with pytest.raises(ProviderError, match="cannot reach the feed") as caught:
        api.ingest("news", [url], store=store)
    assert "check your network connection" in str(caught.value)
    assert "\n" not in str(caught.value)
    result = run("fetch", "news", "--feed", url, "--store", str(store))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach the feed {url}: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_fetch_news_feed_reads_a_feed(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FeedSource, "fetch_raw", lambda self: RSS.read_bytes())
    result = CliRunner().invoke(
        app, ["fetch", "news", "--feed", "https://news.example.com/rss.xml", "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    assert "news: 4 rows for 4 tickers from 1 file" in result.output


# -- matching and links --------------------------------------------------------------------------


@pytest.fixture
def known() -> Any:
    frame = pl.DataFrame(
        {
            "ticker": ["BABA", "AAPL", "A", "JD", "0700.HK", "META"],
            "name": [
                "Alibaba Group Holding Limited",
                "Apple Inc.",
                "Agilent Technologies, Inc.",
                "JD.com, Inc.",
                "Tencent Holdings Ltd",
                "Meta Platforms, Inc.",
            ],
        }
    )
    return aliases(frame)


@pytest.mark.parametrize(
    ("text", "tickers"),
    [
        ("Alibaba's cloud unit grows 34%", ["BABA"]),
        ("Alibaba Group Holding Limited files its annual report", ["BABA"]),
        ("Why $baba and $AAPL moved today", ["BABA", "AAPL"]),
        ("BABA, JD slip in Hong Kong", ["BABA"]),  # JD is two letters: by name or cashtag only
        ("JD.com and Tencent lead gains; 0700.HK up 3%", ["JD", "0700.HK"]),
        ("Apple unveils a new iPhone", ["AAPL"]),
        ("An apple a day: fruit prices rise", []),
        ("A rally in chip stocks", []),  # the word "A" is not Agilent
        ("$A upgraded at Barclays", ["A"]),
        ("Babalu opens in Shanghai", []),
        ("Meta Platforms and Metaverse hype", ["META"]),
        ("metadata standards for filings", []),
    ],
)
def test_items_name_securities_by_name_ticker_or_cashtag(
    known: Any, text: str, tickers: list[str]
) -> None:
    assert sorted(match_tickers(text, known)) == sorted(tickers)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://WWW.Reuters.com/markets/x/?utm_source=rss&utm_campaign=a#top",
            "https://www.reuters.com/markets/x",
        ),
        ("https://example.com/story?id=42&mod=yahoo", "https://example.com/story?id=42"),
        ("https://example.com/", "https://example.com"),
        (" https://example.com/a?b=1 ", "https://example.com/a?b=1"),
        ("not a link", "not a link"),
        ("", None),
        (None, None),
    ],
)
def test_canonical_links(url: str | None, canonical: str | None) -> None:
    assert canonical_url(url) == canonical


def _news(*items: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [i for i, _, _ in items],
            "headline": [h for _, h, _ in items],
            "published_at": [dt.datetime.fromisoformat(t) for _, _, t in items],
        }
    )


def test_near_identical_headlines_are_one_story_and_opposite_ones_two() -> None:
    stored = _news(("a", "Alibaba shares rise 5% after earnings beat", "2026-01-02T12:00:00+00:00"))
    incoming = _news(
        ("b", "Alibaba Shares Rise 5% After Earnings Beat!", "2026-01-02T13:00:00+00:00"),
        ("c", "Alibaba shares fall 5% after earnings miss", "2026-01-02T13:00:00+00:00"),
        ("d", "Alibaba shares rise 5% after earnings beat", "2026-01-09T12:00:00+00:00"),
        ("a", "Alibaba posts results", "2026-01-02T12:00:00+00:00"),
        ("e", "Alibaba shares fall 5% after earnings misses", "2026-01-02T14:00:00+00:00"),
    )
    kept, dropped = drop_duplicates(incoming, stored)
    # b: the same headline in other case; a: the same link; e: a copy of c, kept before it.
    # d: the same words a week later is another day's story.
    assert kept["id"].to_list() == ["c", "d"]
    assert dropped == 3


def test_feeds_named_in_the_settings_are_read_after_yahoo(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw: dict[str, Any] = json.loads((DATA / "yahoo" / "baba-2026-01-05.json").read_text())
    monkeypatch.setattr(YahooSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    monkeypatch.setattr(FeedSource, "fetch_raw", lambda self: RSS.read_bytes())
    monkeypatch.delenv("STOCKBRIEF_PROVIDERS", raising=False)
    settings = store.with_name("stockbrief.toml")
    settings.write_text(
        "[providers]\nnews = ['yahoo', 'feeds']\nfeeds = ['https://news.example.com/rss.xml']\n"
    )
    result = CliRunner().invoke(
        app, ["fetch", "BABA", "--since", "2025-12-29", "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("news: 3 rows for")  # the fourth story came from Yahoo first
    with Store(store, read_only=True) as db:
        rally = db.read("news").filter(pl.col("headline").str.starts_with("Chinese tech"))
    assert rally["source"].to_list() == ["Reuters"]


def test_settings_without_yahoo_news_store_the_feeds_alone(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stockbrief import config

    raw: dict[str, Any] = json.loads((DATA / "yahoo" / "baba-2026-01-05.json").read_text())
    monkeypatch.setattr(YahooSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    monkeypatch.setattr(FeedSource, "fetch_raw", lambda self: RSS.read_bytes())
    monkeypatch.delenv("STOCKBRIEF_PROVIDERS", raising=False)
    plan = config.Providers(news=("feeds",), feeds=("https://news.example.com/rss.xml",))
    reports = api.fetch(["BABA"], since="2025-12-29", store=store, plan=plan)
    assert "yahoo news" not in [r.kind for r in reports]
    assert reports[0].kind == "news"  # feeds first: they are the only news
    assert reports[0].result.inserted == 4


# -- feeds read during a fetch, into a store that knows nothing yet ------------------------------

NO_SECURITIES = pl.DataFrame(schema={"ticker": pl.String, "name": pl.String})


def test_the_tickers_being_fetched_are_known_with_their_fetched_names() -> None:
    profiles = pl.DataFrame(
        {
            "ticker": ["BABA", "AMZN"],  # AMZN: an industry peer in the download, not fetched
            "name": ["Alibaba Group Holding Limited", "Amazon.com, Inc."],
        }
    )
    stored = pl.DataFrame({"ticker": ["JD", "BIDU"], "name": ["JD.com, Inc.", None]})
    known = known_securities(stored, ["baba", "BIDU", "PDD"], profiles)
    assert known.rows() == [
        ("JD", "JD.com, Inc."),
        ("BIDU", None),  # a stored row without a name, and no profile to fill it
        ("BABA", "Alibaba Group Holding Limited"),
        ("PDD", None),  # no profile: matched by ticker and cashtag
    ]


def test_a_feed_on_an_empty_store_matches_the_fetched_tickers_and_counts_the_rest() -> None:
    profiles = pl.DataFrame({"ticker": ["BABA"], "name": ["Alibaba Group Holding Limited"]})
    source = FeedSource(RSS, known_securities(NO_SECURITIES, ["BABA", "PDD"], profiles))
    items = source.parse(source.fetch_raw())
    assert dict(zip(items.frame["headline"], items.frame["tickers"].to_list(), strict=True)) == {
        "Chinese tech stocks rally at the start of 2026 as AI optimism builds": ["BABA"],
        "$PDD slides after Temu flags slower overseas sales": ["PDD"],
    }
    assert (items.unmatched, items.untimed, items.filtered) == (3, 1, 4)  # JD, Baidu, the Fed


def test_settings_with_feeds_first_read_into_an_empty_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw: dict[str, Any] = json.loads((DATA / "yahoo" / "baba-2026-01-05.json").read_text())
    monkeypatch.setattr(YahooSource, "fetch_raw", lambda self: copy.deepcopy(raw))
    monkeypatch.setattr(FeedSource, "fetch_raw", lambda self: RSS.read_bytes())
    monkeypatch.delenv("STOCKBRIEF_PROVIDERS", raising=False)
    store = tmp_path / "s.duckdb"
    (tmp_path / "stockbrief.toml").write_text(
        "[providers]\nnews = ['feeds', 'yahoo']\nfeeds = ['https://news.example.com/rss.xml']\n"
    )
    result = CliRunner().invoke(
        app, ["fetch", "BABA", "--since", "2025-12-29", "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first == (
        "news: 1 row for 1 ticker from 1 file: 1 new, 0 already stored; 5 feed items left out"
        " (4 naming no stored or fetched security, 1 without a time)"
    )
    rally = "Chinese tech stocks rally at the start of 2026 as AI optimism builds"
    assert stored_news(store)[rally] == ["BABA"]  # by the name the profile just gave
