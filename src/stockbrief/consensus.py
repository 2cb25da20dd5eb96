"""Analyst consensus as of any date: broker words -> scheme scores -> label, targets, upside.

Brokers publish in their own words ("Outperform", "Overweight", "Accumulate"); one vocabulary table
maps each word to a bucket, and a scheme scores buckets and names the mean. The default scheme,
``marketbeat``, takes the latest rating of each firm in the 12 months up to the as-of date, scores
Sell 1, Hold 2, Buy 3, Strong Buy 4, and names the mean score:

=============  =================
mean score     label
=============  =================
< 1.5          Sell
[1.5, 2.5)     Hold
[2.5, 3.0)     Moderate Buy
[3.0, 3.5]     Buy
> 3.5          Strong Buy
=============  =================

The consensus target is the mean of each firm's latest target in the same window.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Literal

import polars as pl

from stockbrief.errors import InputError

Bucket = Literal["strong_buy", "buy", "hold", "sell", "strong_sell"]
BUCKETS: Final[tuple[Bucket, ...]] = ("strong_buy", "buy", "hold", "sell", "strong_sell")

_WORDS: Final[dict[Bucket, tuple[str, ...]]] = {
    "strong_buy": (
        "strong buy",
        "top pick",
        "conviction buy",
        "buy conviction",
        "strong outperform",
    ),
    "buy": (
        "buy",
        "outperform",
        "overweight",
        "accumulate",
        "add",
        "positive",
        "market outperform",
        "sector outperform",
        "outperformer",
        "long-term buy",
        "speculative buy",
        "moderate buy",
        "above average",
        "trading buy",
    ),
    "hold": (
        "hold",
        "neutral",
        "equal-weight",
        "equal weight",
        "market perform",
        "sector perform",
        "peer perform",
        "in-line",
        "in line",
        "sector weight",
        "perform",
        "market weight",
        "mixed",
        "average",
        "fair value",
    ),
    "sell": (
        "sell",
        "underperform",
        "underweight",
        "reduce",
        "negative",
        "sector underperform",
        "market underperform",
        "underperformer",
        "below average",
        "moderate sell",
    ),
    "strong_sell": ("strong sell",),
}

VOCABULARY: Final[dict[str, Bucket]] = {
    word: bucket for bucket, words in _WORDS.items() for word in words
}
"""Every broker word stockbrief understands, lower-case, mapped to its bucket."""


@dataclass(frozen=True)
class Scheme:
    """How buckets are scored and a mean score is named."""

    name: str
    scores: Mapping[Bucket, int]
    window_days: int
    labels: tuple[tuple[float, bool, str], ...]
    """(upper bound, bound included, label), checked in order; the last bound is infinite."""

    def label(self, score: float) -> str:
        """The name of a mean score."""
        for bound, inclusive, name in self.labels:
            if score < bound or (inclusive and score == bound):
                return name
        return self.labels[-1][2]


SCHEMES: Final[dict[str, Scheme]] = {
    "marketbeat": Scheme(
        "marketbeat",
        {"strong_buy": 4, "buy": 3, "hold": 2, "sell": 1, "strong_sell": 1},
        365,
        (
            (1.5, False, "Sell"),
            (2.5, False, "Hold"),
            (3.0, False, "Moderate Buy"),
            (3.5, True, "Buy"),
            (float("inf"), True, "Strong Buy"),
        ),
    ),
}

SchemeName = Literal["marketbeat"]

MIN_FIRMS: Final = 3
"""Fewest firms whose ratings make a consensus when a provider summary is also available."""


def _normalize(word: str) -> str:
    return re.sub(r"\s+", " ", word.strip().lower().replace("_", " "))


def bucket_of(word: str) -> Bucket:
    """The bucket of a broker word.

    Raises
    ------
    InputError
        For a word not in :data:`VOCABULARY`, suggesting the nearest known ones.
    """
    key = _normalize(word)
    if key in VOCABULARY:
        return VOCABULARY[key]
    close = difflib.get_close_matches(key, list(VOCABULARY), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(f"unknown rating {word!r}{hint}", field="rating")


def check_words(frame: pl.DataFrame, column: str = "rating") -> None:
    """Refuse the first row whose rating word is unknown, naming its file and row if known."""
    words = frame[column].drop_nulls().unique().to_list()
    for word in sorted(words):
        try:
            bucket_of(word)
        except InputError as exc:
            first = frame.filter(pl.col(column) == word).row(0, named=True)
            raise InputError(
                exc.reason, file=first.get("_file"), row=first.get("_row"), field=column
            ) from None


ACTIONS: Final[dict[str, str]] = {
    "upgrade": "upgrade",
    "up": "upgrade",
    "upgraded": "upgrade",
    "downgrade": "downgrade",
    "down": "downgrade",
    "downgraded": "downgrade",
    "initiate": "initiate",
    "init": "initiate",
    "initiated": "initiate",
    "initiates": "initiate",
    "reiterate": "reiterate",
    "reit": "reiterate",
    "main": "reiterate",
    "maintain": "reiterate",
    "maintains": "reiterate",
    "reiterated": "reiterate",
    "target_raised": "target_raised",
    "raise": "target_raised",
    "raises": "target_raised",
    "target_lowered": "target_lowered",
    "lower": "target_lowered",
    "lowers": "target_lowered",
}
"""Words for what a firm did, mapped to the model's action names."""


def normalize_action(frame: pl.DataFrame) -> pl.Expr:
    """The ``action`` column in the model's words; unknown words are refused by :func:`check_words`.

    Raises
    ------
    InputError
        For an action word not in :data:`ACTIONS`, naming its row.
    """
    key = pl.col("action").str.to_lowercase().str.strip_chars().str.replace_all(r"[\s-]+", "_")
    unknown = frame.filter(
        pl.col("action").is_not_null() & key.replace_strict(ACTIONS, default=None).is_null()
    )
    if unknown.height:
        first = unknown.row(0, named=True)
        raise InputError(
            f"unknown action {first['action']!r}; expected one of "
            f"{', '.join(sorted(set(ACTIONS.values())))}",
            file=first.get("_file"),
            row=first.get("_row"),
            field="action",
        )
    return key.replace_strict(ACTIONS, default=None).alias("action")


@dataclass(frozen=True)
class FirmTarget:
    """One firm's latest view in the window."""

    firm: str
    date: dt.date
    rating: str
    target: float | None


@dataclass(frozen=True)
class Consensus:
    """The analysts' view of a ticker on a date, and how it was reached."""

    ticker: str
    as_of: dt.date
    source: str
    """``ratings`` (individual ratings, scored by the scheme) or the provider's name."""
    scheme: str
    label: str | None
    score: float | None
    n_firms: int
    counts: dict[str, int]
    target_mean: float | None
    target_median: float | None
    target_high: float | None
    target_low: float | None
    close: float | None
    window_start: dt.date | None
    firms: list[FirmTarget] = field(default_factory=list)
    as_published: dt.date | None = None
    """Date of the provider summary used (None for individual ratings)."""

    @property
    def upside(self) -> float | None:
        """Mean target over the close, minus one (a fraction)."""
        if self.target_mean is None or not self.close:
            return None
        return self.target_mean / self.close - 1

    def top_targets(self, n: int = 3) -> list[FirmTarget]:
        """The highest targets with their firms, highest first."""
        with_target = [f for f in self.firms if f.target is not None]
        return sorted(with_target, key=lambda f: (-(f.target or 0.0), f.firm))[:n]

    def method(self) -> str:
        """How the numbers were made, in one sentence."""
        if self.source == "ratings":
            return (
                f"{self.scheme} scheme: latest rating of "
                f"{'the one firm' if self.n_firms == 1 else f'each of {self.n_firms} firms'} from "
                f"{self.window_start} to {self.as_of}, scored Sell 1 to Strong Buy 4; target = "
                "mean of each firm's latest target"
            )
        return f"{self.source} consensus summary of {self.as_published}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data, with the upside and method included."""
        data = asdict(self)
        data["upside"] = self.upside
        data["method"] = self.method()
        return data


def _window(as_of: dt.date, scheme: Scheme) -> dt.date:
    return as_of - dt.timedelta(days=scheme.window_days - 1)


def _firms(
    ratings: pl.DataFrame, ticker: str, start: dt.date, as_of: dt.date
) -> tuple[pl.DataFrame, list[FirmTarget]]:
    """Ratings in the window, and each firm's latest one."""
    rows = ratings.filter(
        pl.col("ticker") == ticker, pl.col("date") >= start, pl.col("date") <= as_of
    ).sort("firm", "date")
    latest = rows.group_by("firm", maintain_order=True).last()
    firms = [
        FirmTarget(r["firm"], r["date"], r["rating"], r["target"])
        for r in latest.iter_rows(named=True)
    ]
    return rows, firms


def from_ratings(
    ratings: pl.DataFrame,
    ticker: str,
    as_of: dt.date,
    *,
    close: float | None = None,
    scheme: SchemeName = "marketbeat",
) -> Consensus | None:
    """Consensus from individual ratings published in the scheme's window up to ``as_of``."""
    rules = SCHEMES[scheme]
    start = _window(as_of, rules)
    rows, firms = _firms(ratings, ticker, start, as_of)
    if not firms:
        return None
    buckets = [bucket_of(f.rating) for f in firms]
    score = sum(rules.scores[b] for b in buckets) / len(buckets)
    # A firm's latest target may come from an earlier note than its latest rating.
    targets = (
        rows.filter(pl.col("target").is_not_null())
        .group_by("firm", maintain_order=True)
        .last()["target"]
    )
    return Consensus(
        ticker=ticker,
        as_of=as_of,
        source="ratings",
        scheme=scheme,
        label=rules.label(score),
        score=score,
        n_firms=len(firms),
        counts={b: buckets.count(b) for b in BUCKETS},
        target_mean=float(targets.mean()) if targets.len() else None,  # type: ignore[arg-type]
        target_median=float(targets.median()) if targets.len() else None,  # type: ignore[arg-type]
        target_high=float(targets.max()) if targets.len() else None,  # type: ignore[arg-type]
        target_low=float(targets.min()) if targets.len() else None,  # type: ignore[arg-type]
        close=close,
        window_start=start,
        firms=firms,
    )


def from_summary(
    summaries: pl.DataFrame,
    ticker: str,
    as_of: dt.date,
    *,
    close: float | None = None,
    scheme: SchemeName = "marketbeat",
) -> Consensus | None:
    """Consensus from the latest provider summary on or before ``as_of``.

    With bucket counts the label is recomputed by the scheme; otherwise the provider's label is
    used as published.
    """
    rows = summaries.filter(pl.col("ticker") == ticker, pl.col("date") <= as_of).sort("date")
    if rows.is_empty():
        return None
    row = rows.row(rows.height - 1, named=True)
    rules = SCHEMES[scheme]
    by_bucket: dict[Bucket, int] = {b: int(row[b] or 0) for b in BUCKETS}
    counts: dict[str, int] = {str(b): c for b, c in by_bucket.items()}
    n = sum(by_bucket.values())
    score = sum(rules.scores[b] * c for b, c in by_bucket.items()) / n if n else None
    return Consensus(
        ticker=ticker,
        as_of=as_of,
        source=row["source"] or "provider",
        scheme=scheme,
        label=rules.label(score) if score is not None else row["label"],
        score=score,
        n_firms=n,
        counts=counts,
        target_mean=row["target_mean"],
        target_median=row["target_median"],
        target_high=row["target_high"],
        target_low=row["target_low"],
        close=close,
        window_start=None,
        as_published=row["date"],
    )


def consensus(
    ratings: pl.DataFrame,
    summaries: pl.DataFrame,
    ticker: str,
    as_of: dt.date,
    *,
    close: float | None = None,
    scheme: SchemeName = "marketbeat",
) -> Consensus | None:
    """Individual ratings of at least :data:`MIN_FIRMS` firms, else the provider summary.

    A handful of ratings is no consensus, so with fewer firms a provider summary is preferred
    when one exists; the firms' own targets (e.g. a firm's $230) stay in ``firms`` so a brief can
    cite them beside it. Which source was used is ``Consensus.source``.
    """
    own = from_ratings(ratings, ticker, as_of, close=close, scheme=scheme)
    if own is not None and own.n_firms >= MIN_FIRMS:
        return own
    summary = from_summary(summaries, ticker, as_of, close=close, scheme=scheme)
    if summary is None:
        return own
    rules = SCHEMES[scheme]
    return replace(summary, firms=_firms(ratings, ticker, _window(as_of, rules), as_of)[1])


CONSENSUS_EVENT_KINDS: Final[dict[str, str]] = {
    "consensus_upgrade": "the consensus label moved up",
    "consensus_downgrade": "the consensus label moved down",
    "target_raised": "the consensus price target rose",
    "target_lowered": "the consensus price target fell",
}


def history(
    ratings: pl.DataFrame, tickers: Iterable[str], *, scheme: SchemeName = "marketbeat"
) -> pl.DataFrame:
    """The ratings-based consensus of each ticker on every date a rating was published."""
    rows = []
    for ticker in sorted(set(tickers)):
        dates = ratings.filter(pl.col("ticker") == ticker)["date"].unique().sort().to_list()
        for day in dates:
            c = from_ratings(ratings, ticker, day, scheme=scheme)
            if c is not None:
                rows.append((ticker, day, c.label, c.score, c.target_mean, c.n_firms))
    return pl.DataFrame(
        rows,
        schema={
            "ticker": pl.String,
            "date": pl.Date,
            "label": pl.String,
            "score": pl.Float64,
            "target_mean": pl.Float64,
            "n_firms": pl.Int64,
        },
        orient="row",
    )


def _params_id(kind: str, params: Mapping[str, float | str]) -> int:
    """The id ``stockbrief.detectors.params_id`` gives these parameters (CRC-32 of the canonical
    JSON ``[kind, params]``, folded to a positive ``Int32``); consensus sits below events, so
    the few lines are repeated here, and a test holds the two to the same ids."""
    numbers = {k: v if isinstance(v, str) else float(v) for k, v in params.items()}
    canonical = json.dumps([kind, numbers], sort_keys=True, separators=(",", ":"))
    return zlib.crc32(canonical.encode()) & 0x7FFF_FFFF


def changes(consensus_history: pl.DataFrame, scheme: SchemeName = "marketbeat") -> pl.DataFrame:
    """Consensus changes as events, in the columns of ``stockbrief.detectors.EVENTS_SCHEMA``.

    Parameters
    ----------
    consensus_history
        ``ticker, date, label, score, target_mean`` per rating date, as :func:`history` gives.
    scheme
        The scheme that named the labels; its name and window are the events' parameters.

    Returns
    -------
    polars.DataFrame
        ``ticker, date, kind, value, level, observed, sessions, label, prev_label, params_id``
        sorted by ticker, date and kind. A label change (``consensus_upgrade``/``_downgrade``)
        has ``value = observed =`` the mean score, ``level`` the score before, and both labels;
        a target change (``target_raised``/``_lowered``) has ``value`` the relative move,
        ``observed`` the consensus target and ``level`` the target before.
    """
    rules = SCHEMES[scheme]
    rank = {label: i for i, (_, _, label) in enumerate(rules.labels)}
    params: dict[str, float | str] = {"scheme": scheme, "window_days": float(rules.window_days)}
    frame = consensus_history.sort("ticker", "date").with_columns(
        pl.col("label").replace_strict(rank, default=None).alias("rank"),
        pl.col("label").shift(1).over("ticker").alias("prev_label"),
        pl.col("label")
        .replace_strict(rank, default=None)
        .shift(1)
        .over("ticker")
        .alias("prev_rank"),
        pl.col("score").shift(1).over("ticker").alias("prev_score"),
        pl.col("target_mean").shift(1).over("ticker").alias("prev_target"),
    )
    move = pl.col("target_mean") / pl.col("prev_target") - 1
    no_label = pl.lit(None, pl.String)
    label_change = (pl.col("score"), pl.col("prev_score"), pl.col("score"), True)
    target_change = (move, pl.col("prev_target"), pl.col("target_mean"), False)
    parts: Sequence[tuple[str, pl.Expr, tuple[pl.Expr, pl.Expr, pl.Expr, bool]]] = (
        ("consensus_upgrade", pl.col("rank") > pl.col("prev_rank"), label_change),
        ("consensus_downgrade", pl.col("rank") < pl.col("prev_rank"), label_change),
        ("target_raised", move > 0, target_change),
        ("target_lowered", move < 0, target_change),
    )
    return pl.concat(
        [
            frame.filter(cond.fill_null(False)).select(
                "ticker",
                "date",
                pl.lit(kind).alias("kind"),
                value.cast(pl.Float64).alias("value"),
                level.cast(pl.Float64).alias("level"),
                observed.cast(pl.Float64).alias("observed"),
                pl.lit(None, pl.Int32).alias("sessions"),
                (pl.col("label") if labels else no_label).cast(pl.String).alias("label"),
                (pl.col("prev_label") if labels else no_label).cast(pl.String).alias("prev_label"),
                pl.lit(_params_id(kind, params), pl.Int32).alias("params_id"),
            )
            for kind, cond, (value, level, observed, labels) in parts
        ]
    ).sort("ticker", "date", "kind")
