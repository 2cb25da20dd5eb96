"""Headline sentiment, peer linkage and the sector tailwind."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from stockbrief import model, peers


@pytest.mark.parametrize(
    ("headline", "tone"),
    [
        # Real headlines of the period and of the seed note.
        ("Baidu plans to spin off its AI chip unit Kunlunxin", "positive"),
        ("Alibaba upgraded to Buy at Jefferies", "positive"),
        ("JD.com misses estimates and cuts its outlook", "negative"),
        ("PDD shares plunge after earnings miss", "negative"),
        ("Morgan Stanley downgrades Bilibili to Equal-Weight", "negative"),
        ("Alibaba's Qwen app tops 10 million downloads in first week", "positive"),
        ("Alibaba to report quarterly results on Thursday", "neutral"),
        ("Regulators fine Alibaba $2.8 billion", "negative"),
        ("Tencent cuts prices, shares fall", "negative"),
        ("Alibaba stock falls 5%", "negative"),
        ("A fine quarter for Alibaba as cloud grows", "positive"),
    ],
)
def test_sentiment_of_real_headlines(headline: str, tone: str) -> None:
    assert peers.tone(peers.sentiment(headline)) == tone


def test_finance_terms_change_what_plain_vader_says() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    plain = SentimentIntensityAnalyzer().polarity_scores("Baidu to spin off chip unit")["compound"]
    assert plain == 0.0
    assert peers.sentiment("Baidu to spin off chip unit") > peers.POSITIVE


SECURITIES = pl.DataFrame(
    [
        ("BABA", "china-internet"),
        ("BIDU", "china-internet"),
        ("JD", "china-internet"),
        ("SPY", None),
    ],
    schema=["ticker", "peer_group"],
    orient="row",
)


def test_peer_news_links_to_every_member_of_the_group() -> None:
    news = pl.DataFrame(
        [
            (
                "n1",
                dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC),
                "x",
                "Baidu spin-off",
                None,
                None,
                0.25,
            ),
            (
                "n2",
                dt.datetime(2026, 1, 2, 9, tzinfo=dt.UTC),
                "x",
                "<script>alert(1)</script>",
                None,
                None,
                0.0,
            ),
            ("n3", dt.datetime(2025, 12, 1, tzinfo=dt.UTC), "x", "Too old", None, None, 0.0),
            ("n4", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "x", "Index news", None, None, 0.0),
        ],
        schema=model.NEWS,
        orient="row",
    )
    links = pl.DataFrame(
        [
            ("n1", "BIDU", "subject"),
            ("n2", "BABA", "subject"),
            ("n3", "BABA", "subject"),
            ("n4", "SPY", "subject"),
        ],
        schema=model.NEWS_TICKERS,
        orient="row",
    )
    found = peers.related_news(
        news, links, SECURITIES, "BABA", start=dt.date(2025, 12, 27), end=dt.date(2026, 1, 2)
    )
    assert found.select("id", "about", "role").rows() == [
        ("n2", "BABA", "subject"),
        ("n1", "BIDU", "peer"),
    ]
    assert found["headline"][0] == "<script>alert(1)</script>"  # stored as given
    assert peers.peers_of(SECURITIES, "JD") == ["BABA", "BIDU"]
    assert peers.peers_of(SECURITIES, "SPY") == []

    returns = pl.DataFrame(
        {"ticker": ["BIDU", "JD"], "date": [dt.date(2026, 1, 2)] * 2, "return_1d": [0.15, -0.01]}
    )
    wind = peers.tailwind(found, returns, dt.date(2026, 1, 2))
    assert wind.holds
    assert wind.group_return == pytest.approx(0.07)
    assert (wind.peers_up, wind.peers, wind.positive_news) == (1, 2, ["n1"])
    falling = returns.with_columns(pl.col("return_1d") - 0.2)
    assert not peers.tailwind(found, falling, dt.date(2026, 1, 2)).holds
