"""Peer groups, news linkage and headline sentiment.

A news item names its subjects; every other member of a subject's peer group is linked to it as a
peer, so Baidu's news reaches Alibaba's brief as sector news. Sentiment is VADER's compound score
with a small table of finance terms that a general-purpose lexicon misreads or does not know.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import polars as pl

FINANCE_TERMS: Final[dict[str, float]] = {
    "upgrade": 2.0,
    "upgrades": 2.0,
    "upgraded": 2.0,
    "downgrade": -2.0,
    "downgrades": -2.0,
    "downgraded": -2.0,
    "beat": 1.5,
    "beats": 1.5,
    "tops": 1.2,
    "miss": -1.5,
    "misses": -1.5,
    "missed": -1.5,
    "raises": 1.2,
    "lifts": 1.2,
    "cuts": -1.2,
    "slashes": -1.8,
    "spinoff": 1.0,
    "buyback": 1.2,
    "outperform": 1.5,
    "underperform": -1.5,
    "overweight": 1.2,
    "underweight": -1.2,
    "surge": 2.0,
    "surges": 2.0,
    "soar": 2.0,
    "jump": 1.5,
    "rally": 1.5,
    "plunge": -2.2,
    "tumble": -2.0,
    "slump": -2.0,
    "sink": -1.8,
    "soars": 2.0,
    "jumps": 1.5,
    "rallies": 1.5,
    "plunges": -2.2,
    "tumbles": -2.0,
    "slumps": -2.0,
    "sinks": -1.8,
    "probe": -1.5,
    "lawsuit": -1.5,
    "delisting": -2.5,
    "sanctions": -1.5,
    "layoffs": -1.2,
    "bankruptcy": -3.0,
    "record": 1.0,
    "rise": 1.0,
    "rises": 1.0,
    "gains": 1.0,
    "climbs": 1.0,
    "fall": -1.0,
    "falls": -1.0,
    "drop": -1.2,
    "drops": -1.2,
    "slides": -1.2,
    "fined": -1.8,
    "fines": -1.5,
    "penalty": -1.5,
    "recall": -1.5,
    "warns": -1.5,
    "halts": -1.2,
    "guidance": 0.0,
}
"""Finance words and their VADER valence (-4..4), added to or overriding the lexicon."""

POSITIVE: Final = 0.05
"""Compound score at or above which a headline reads as positive (VADER's convention)."""
NEGATIVE: Final = -0.05

_PHRASES: Final = (
    (re.compile(r"\bspin[- ]offs?\b", re.I), "spinoff"),
    # "fine" is praise ("a fine quarter") unless an amount follows ("fine Alibaba $2.8 billion").
    (re.compile(r"\bfines?\b(?=(?:\s+\S+){0,3}?\s+[$€£¥]\s?\d)", re.I), "fined"),
)


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(FINANCE_TERMS)
    return analyzer


def sentiment(headline: str) -> float:
    """Tone of a headline from -1 (negative) to 1 (positive).

    Notes
    -----
    VADER compound score over the headline after folding finance phrases ("spin-off") into
    single terms of :data:`FINANCE_TERMS`.
    """
    text = headline
    for pattern, term in _PHRASES:
        text = pattern.sub(term, text)
    return float(_analyzer().polarity_scores(text)["compound"])


def tone(score: float | None) -> str:
    """``positive``, ``negative`` or ``neutral`` by the thresholds above."""
    if score is None:
        return "neutral"
    if score >= POSITIVE:
        return "positive"
    return "negative" if score <= NEGATIVE else "neutral"


def peers_of(securities: pl.DataFrame, ticker: str) -> list[str]:
    """Other members of the ticker's peer group, sorted."""
    group = securities.filter(pl.col("ticker") == ticker)["peer_group"]
    if group.is_empty() or group[0] is None:
        return []
    members = securities.filter(pl.col("peer_group") == group[0], pl.col("ticker") != ticker)
    return sorted(members["ticker"].to_list())


def related_news(
    news: pl.DataFrame,
    links: pl.DataFrame,
    securities: pl.DataFrame,
    ticker: str,
    *,
    start: dt.date,
    end: dt.date,
) -> pl.DataFrame:
    """News about a ticker or its peers published from ``start`` to ``end`` (UTC days).

    Returns the news columns plus ``about`` (the subject ticker) and ``role`` (``subject`` or
    ``peer``), newest first.
    """
    peers = peers_of(securities, ticker)
    wanted = links.filter(pl.col("ticker").is_in([ticker, *peers])).select(
        "id",
        pl.col("ticker").alias("about"),
        pl.when(pl.col("ticker") == ticker)
        .then(pl.lit("subject"))
        .otherwise(pl.lit("peer"))
        .alias("role"),
    )
    day = pl.col("published_at").dt.convert_time_zone("UTC").dt.date()
    return (
        news.filter(day >= start, day <= end)
        .join(wanted, on="id")
        .sort(["published_at", "role", "about"], descending=[True, True, False])
        .unique(subset=["id"], keep="first", maintain_order=True)
    )


@dataclass(frozen=True)
class Tailwind:
    """Whether peers' positive news coincided with the group rising on a day."""

    day: dt.date
    positive_news: list[str]
    """Ids of positive peer news items."""
    group_return: float | None
    """Mean daily return of the peer group on ``day`` (a fraction)."""
    peers_up: int
    peers: int

    @property
    def holds(self) -> bool:
        """Positive peer news and a group that rose that day."""
        return bool(self.positive_news) and (self.group_return or 0.0) > 0


def tailwind(related: pl.DataFrame, peer_returns: pl.DataFrame, day: dt.date) -> Tailwind:
    """Sector tailwind on ``day`` from peer news and the peers' returns that day.

    ``peer_returns`` has ``ticker, date, return_1d`` for the peers.
    """
    positive = related.filter(pl.col("role") == "peer", pl.col("sentiment") >= POSITIVE)
    today = peer_returns.filter(pl.col("date") == day, pl.col("return_1d").is_not_null())
    mean = today["return_1d"].mean() if today.height else None
    return Tailwind(
        day,
        positive["id"].to_list(),
        float(mean) if mean is not None else None,  # type: ignore[arg-type]
        int((today["return_1d"] > 0).sum()),
        today.height,
    )
