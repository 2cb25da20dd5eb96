"""Facts: every number a brief states, with its source rows and its formula.

The narrative formats facts and nothing else, so each number in a note can be traced to stored
rows. Facts are plain data (no Markdown, no wording); ``FactSheet.to_json`` gives the JSON
``facts`` object of a brief.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import polars as pl

from stockbrief import levels
from stockbrief.consensus import Consensus
from stockbrief.notes import rating_facts
from stockbrief.peers import Tailwind
from stockbrief.sources.plausibility import THRESHOLDS

Unit = Literal[
    "currency", "fraction", "shares", "ratio", "count", "date", "text", "index", "list", "flag"
]


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: a table, the tickers and the dates read, and for prices their
    basis (``traded`` or ``adjusted`` by the provider), so a reader knows what a level means."""

    table: str
    tickers: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None
    basis: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "table": self.table,
            "tickers": list(self.tickers),
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }
        if self.basis is not None:
            out["basis"] = self.basis
        return out


@dataclass(frozen=True)
class Fact:
    """A value with its unit, source and formula."""

    name: str
    value: Any
    unit: Unit
    source: Source
    formula: str

    def to_json(self) -> dict[str, Any]:
        return {
            "value": _plain(self.value),
            "unit": self.unit,
            "source": self.source.to_json(),
            "formula": self.formula,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass
class FactSheet:
    """The facts of one brief, by name, in the order they were gathered."""

    ticker: str
    as_of: dt.date
    currency: str
    name: str
    facts: dict[str, Fact] = field(default_factory=dict)

    def add(self, name: str, value: Any, unit: Unit, source: Source, formula: str) -> None:
        """Record a fact; a missing value (None) is not recorded, so no section invents one."""
        if value is not None:
            self.facts[name] = Fact(name, value, unit, source, formula)

    def __contains__(self, name: str) -> bool:
        return name in self.facts

    def value(self, name: str) -> Any:
        """The value of a fact, or None when it was not gathered."""
        fact = self.facts.get(name)
        return fact.value if fact else None

    def to_json(self) -> dict[str, Any]:
        return {name: fact.to_json() for name, fact in self.facts.items()}


PRICE_NOTE = "prices adjusted for splits known on the as-of date"


def _streak_above(closes: list[float], levels: list[float | None]) -> int:
    """Consecutive sessions, ending on the last, whose close is above the level."""
    count = 0
    for close, level in zip(reversed(closes), reversed(levels), strict=True):
        if level is None or close <= level:
            break
        count += 1
    return count


def gather(
    ticker: str,
    name: str,
    currency: str,
    frame: pl.DataFrame,
    events: pl.DataFrame,
    *,
    view: Consensus | None = None,
    news: pl.DataFrame | None = None,
    peer_returns: pl.DataFrame | None = None,
    wind: Tailwind | None = None,
    kpis: pl.DataFrame | None = None,
    instrument: str | None = None,
    market: tuple[str, dt.date, float] | None = None,
) -> FactSheet:
    """All the facts of one ticker on the last row of ``frame`` (the as-of session).

    Parameters
    ----------
    frame
        The ticker's bars with indicators up to and including the as-of session.
    events
        The ticker's events up to the as-of session.
    view, news, peer_returns, wind, kpis
        Analysts' consensus, related news (about the ticker and its peers), the peers' daily
        returns on the as-of session, the sector tailwind reading, and company KPIs.
    instrument
        The stored security type (stock, etf, index, fund, ...); without one, an index is
        inferred from a ``^`` ticker or a history without any volume, and nothing else is.
    market
        The market benchmark's ticker, previous session and daily return on the as-of session.
    """
    last = frame.row(frame.height - 1, named=True)
    day: dt.date = last["date"]
    first_day: dt.date = frame["date"][0]
    sheet = FactSheet(ticker, day, currency, name)
    one = Source("bars", (ticker,), day, day)
    two = Source("bars", (ticker,), frame["date"][-2] if frame.height > 1 else day, day)

    def window(n: int, *, include_day: bool = True) -> Source:
        rows = frame.tail(n + (0 if include_day else 1))
        end = day if include_day else (rows["date"][-2] if rows.height > 1 else day)
        return Source("bars", (ticker,), rows["date"][0], end)

    sheet.add("close", last["close"], "currency", one, f"close on {day}; {PRICE_NOTE}")
    sheet.add("open", last["open"], "currency", one, f"open on {day}")
    sheet.add("high", last["high"], "currency", one, f"high on {day}")
    sheet.add("low", last["low"], "currency", one, f"low on {day}")
    if frame.height > 1:
        prev = frame.row(frame.height - 2, named=True)
        sheet.add("prev_close", prev["close"], "currency", two, "close of the previous session")
        sheet.add("change_1d", last["return_1d"], "fraction", two, "close / previous close - 1")
        sheet.add(
            "gap_1d", last["open"] / prev["close"] - 1, "fraction", two, "open / previous close - 1"
        )
    sheet.add("volume", last["volume"], "shares", one, f"shares traded on {day}")
    sheet.add(
        "typical_volume",
        last["typical_volume_50"],
        "shares",
        window(50, include_day=False),
        "mean volume of the 50 sessions before the day",
    )
    sheet.add(
        "rel_volume",
        last["rel_volume"],
        "ratio",
        window(51),
        "volume / typical volume (the mean of the 50 sessions before the day)",
    )
    closes = frame["close"].to_list()
    for n in (50, 200):
        level = last[f"sma_{n}"]
        sheet.add(
            f"sma_{n}",
            level,
            "currency",
            window(n),
            f"mean of the {n} closes up to and including the day",
        )
        if level is not None:
            sheet.add(
                f"pct_vs_sma_{n}",
                last["close"] / level - 1,
                "fraction",
                window(n),
                f"close / SMA {n} - 1",
            )
            sheet.add(
                f"sessions_above_sma_{n}",
                _streak_above(closes, frame[f"sma_{n}"].to_list()),
                "count",
                Source("bars", (ticker,), first_day, day),
                f"consecutive closes above the SMA {n}, ending on the day",
            )
    sheet.add(
        "high_52w",
        last["high_52w"],
        "currency",
        window(252),
        "highest high of the last 252 sessions, the day included",
    )
    sheet.add(
        "low_52w",
        last["low_52w"],
        "currency",
        window(252),
        "lowest low of the last 252 sessions, the day included",
    )
    if last["high_52w"]:
        sheet.add(
            "pct_from_high_52w",
            last["close"] / last["high_52w"] - 1,
            "fraction",
            window(252),
            "close / 52-week high - 1",
        )
    sheet.add("rsi_14", last["rsi_14"], "index", window(15), "Wilder's RSI over 14 sessions")
    sheet.add("atr_14", last["atr_14"], "currency", window(15), "Wilder's average true range, 14")
    sheet.add(
        "volatility_60",
        last["volatility_60"],
        "fraction",
        window(61),
        "standard deviation of the last 60 daily returns",
    )
    add_levels(sheet, frame)
    rating_facts.add_rating(sheet, frame)

    _instrument(sheet, frame, instrument)
    if market is not None:
        bench, before, move = market
        src = Source("bars", (bench,), before, day)
        sheet.add("market_return", move, "fraction", src, f"{bench} close / previous close - 1")
        sheet.add("market_ticker", bench, "text", src, "the market benchmark")
    _day_in_history(sheet, frame)

    crosses = events.filter(pl.col("kind").str.starts_with("cross_")).sort("date")
    for n in (50, 200):
        mine = crosses.filter(pl.col("kind").str.ends_with(f"sma_{n}"))
        if mine.height:
            latest = mine.row(mine.height - 1, named=True)
            direction = "above" if latest["kind"].startswith("cross_above") else "below"
            src = Source("bars", (ticker,), first_day, day)
            sheet.add(
                f"last_cross_sma_{n}",
                latest["date"],
                "date",
                src,
                f"last session whose close crossed the SMA {n}",
            )
            sheet.add(
                f"last_cross_sma_{n}_direction",
                direction,
                "text",
                src,
                f"direction of that crossing ({direction})",
            )
    today = events.filter(pl.col("date") == day)
    sheet.add(
        "events_today",
        today["kind"].to_list(),
        "list",
        Source("events", (ticker,), day, day),
        "event detectors firing on the day",
    )

    if view is not None:
        src = Source(
            "ratings" if view.source == "ratings" else "consensus",
            (ticker,),
            view.window_start or view.as_published,
            view.as_of,
        )
        sheet.add("consensus_label", view.label, "text", src, view.method())
        sheet.add("consensus_score", view.score, "index", src, "mean score of the firms")
        sheet.add("consensus_firms", view.n_firms or None, "count", src, "firms in the consensus")
        sheet.add("consensus_source", view.source, "text", src, "ratings or a provider summary")
        dated = view.as_published or max((firm.date for firm in view.firms), default=None)
        if dated is not None:
            sheet.add(
                "consensus_date",
                dated,
                "date",
                src,
                "date of the provider summary, or of the latest rating in the consensus",
            )
        sheet.add("target_mean", view.target_mean, "currency", src, "mean price target")
        sheet.add("target_high", view.target_high, "currency", src, "highest price target")
        sheet.add("upside", view.upside, "fraction", src, "mean target / close - 1")
        top = view.top_targets(3)
        if top:
            sheet.add(
                "top_targets",
                [
                    {"firm": f.firm, "target": f.target, "date": f.date, "rating": f.rating}
                    for f in top
                ],
                "list",
                Source("ratings", (ticker,), min(f.date for f in top), view.as_of),
                "highest latest targets by firm",
            )
    if news is not None and news.height:
        start = news["published_at"].min().date()  # type: ignore[union-attr]
        sheet.add(
            "news",
            [
                {
                    "headline": r["headline"],
                    "about": r["about"],
                    "role": r["role"],
                    "sentiment": r["sentiment"],
                    "source": r["source"],
                    "published_at": r["published_at"],
                }
                for r in news.iter_rows(named=True)
            ],
            "list",
            Source("news", tuple(sorted(set(news["about"]))), start, day),
            "news about the ticker or its peer group, newest first; sentiment = VADER "
            "compound with finance terms",
        )
    if peer_returns is not None and peer_returns.height:
        peers = tuple(sorted(peer_returns["ticker"]))
        src = Source("bars", peers, day, day)
        sheet.add(
            "peer_returns",
            [
                {"ticker": r["ticker"], "return": r["return_1d"]}
                for r in peer_returns.sort("return_1d", descending=True).iter_rows(named=True)
            ],
            "list",
            src,
            "peers' close / previous close - 1 on the day",
        )
        if wind is not None:
            sheet.add(
                "peer_group_return",
                wind.group_return,
                "fraction",
                src,
                "mean of the peers' daily returns",
            )
            sheet.add(
                "sector_tailwind",
                wind.holds,
                "flag",
                src,
                "positive peer news and a rising peer group on the day",
            )
    if kpis is not None and kpis.height:
        metrics = _breakdown_of_latest_period(
            kpis.sort("period_end").group_by("name", maintain_order=True).last()
        )
        sheet.add(
            "kpis",
            [
                {
                    "name": r["name"],
                    "value": r["value"],
                    "unit": r["unit"],
                    "yoy": r["yoy"],
                    "period_end": r["period_end"],
                    "source": r["source"],
                }
                for r in metrics.sort("period_end", descending=True).iter_rows(named=True)
            ],
            "list",
            Source("kpis", (ticker,), min(metrics["period_end"].to_list()), day),
            "latest value of each company metric for periods ended by the day",
        )
    return sheet


def _instrument(sheet: FactSheet, frame: pl.DataFrame, stored: str | None) -> None:
    """The instrument's type: stored, or an index told by its ticker or its missing volume."""
    ticker, day = sheet.ticker, sheet.as_of
    if stored:
        src = Source("securities", (ticker,), None, None)
        sheet.add("instrument", stored.lower(), "text", src, "security type as stored")
    elif ticker.startswith("^") or _silent(frame):
        src = Source("bars", (ticker,), frame["date"][0], day)
        sheet.add(
            "instrument",
            "index",
            "text",
            src,
            "inferred: no volume reported on any day, or on 9 in 10 of its moving days",
        )


def _silent(frame: pl.DataFrame) -> bool:
    """Whether a series reports no volume, as an index does: on no day, or on at least 9 in 10
    of 20 or more days that moved (one stray bar with volume does not make VIX a stock; it is
    what ``stockbrief doctor`` flags)."""
    volume = frame["volume"].fill_null(0)
    if not (volume > 0).any():
        return True
    t = THRESHOLDS  # the doctor's own rule for an index that reports no volume
    moving = frame.filter(pl.col("high") > pl.col("low"))
    quiet = int((moving["volume"].fill_null(0) == 0).sum())
    return moving.height >= t.no_volume_min_bars and quiet >= t.no_volume_share * moving.height


RANK_MIN_SESSIONS: Final = 250
"""Stored sessions, about a trading year, before a move is ranked in the history: the largest
gain of a listing's third day is no record."""


def _day_in_history(sheet: FactSheet, frame: pl.DataFrame) -> None:
    """Where the day's move ranks among the ticker's stored daily moves in the same direction:
    its rank (1 = the largest) and the last earlier day that moved further, read only up to
    the as-of session."""
    change = sheet.value("change_1d")
    if change is None or change == 0 or frame.height < RANK_MIN_SESSIONS:
        return
    ticker, day = sheet.ticker, sheet.as_of
    moves = frame.select("date", "return_1d").drop_nulls()
    same = moves.filter(pl.col("return_1d") > 0 if change > 0 else pl.col("return_1d") < 0)
    bigger = same.filter(pl.col("return_1d").abs() > abs(change))
    start: dt.date = frame["date"][0]
    src = Source("bars", (ticker,), start, day)
    word = "gain" if change > 0 else "loss"
    sheet.add(
        "move_rank",
        bigger.height + 1,
        "count",
        src,
        f"rank of the day's {word} among all stored daily {word}{'s' if change > 0 else 'es'} up"
        " to the day (1 = largest)",
    )
    if bigger.height:
        sheet.add(
            "move_record_since",
            bigger["date"].max(),
            "date",
            src,
            f"last session before the day with a larger daily {word}",
        )
    sheet.add("history_start", start, "date", src, "first stored session of the ticker")


BREADTH_MIN_STOCKS: Final = 20
"""Below this many stocks traded on the day, breadth says nothing ("2 of 3 rose" is no market)."""


def add_breadth(sheet: FactSheet, counts: Mapping[str, int], start: dt.date) -> None:
    """The breadth of the stored market on the sheet's day, from ``Store.breadth``: how many
    stocks rose and fell, and the share of those with a 200-day average closing above it.

    Nothing is added when fewer than :data:`BREADTH_MIN_STOCKS` stocks traded (or had a
    200-day average, for the share). ``start`` is the first day of bars the counts read.
    """
    traded = counts["traded"]
    if traded < BREADTH_MIN_STOCKS:
        return
    src = Source("bars", (), start, sheet.as_of)
    every = "stored stocks (no etf, fund or index) with a bar on the day and one before it"
    sheet.add("breadth_stocks", traded, "count", src, every)
    sheet.add("breadth_rose", counts["rose"], "count", src, "of them, close above the close before")
    sheet.add("breadth_fell", counts["fell"], "count", src, "of them, close below the close before")
    with_average = counts["with_average"]
    if with_average >= BREADTH_MIN_STOCKS:
        sheet.add(
            "breadth_with_sma_200",
            with_average,
            "count",
            src,
            "of them, stocks with 200 closes up to the day",
        )
        sheet.add(
            "breadth_above_sma_200",
            counts["above_average"] / with_average,
            "fraction",
            src,
            "share of those closing above their mean of the 200 closes up to the day;"
            " prices adjusted for splits known on the day",
        )


SHARES_KPI: Final = "Shares outstanding"
"""The company metric of the shares outstanding (a cover-page count, from SEC filings)."""

SHARES_MAX_AGE: Final = dt.timedelta(days=200)
"""Shares counted longer than this before the day (two quarterly filings) value no company."""


SUSPECT_WORDS: Final[dict[str, str]] = {
    "spike": "a price spike that reverses",
    "unrecorded_split": "a jump like an unrecorded split",
    "index_volume": "volume on an index that reports none on its other days",
    "zero_volume_run": "a run of sessions without volume",
    "stale_bars": "a run of unchanged bars",
    "missing_sessions": "missing sessions",
    "split_not_in_bars": "a stored split the prices do not show",
}
"""What each finding of ``stockbrief doctor`` (:data:`stockbrief.sources.plausibility.KINDS`)
is, as a brief's caution names it."""


def add_suspect(sheet: FactSheet, findings: pl.DataFrame, sessions: list[dt.date]) -> None:
    """Name the first bar the doctor's checks flag on one of ``sessions`` (the day, and the
    session whose close its change is measured from): a note that rests on a wrong bar says so.

    ``findings`` are :func:`stockbrief.sources.plausibility.scan` rows of the ticker's bars as
    stored up to the day, so a later bar never changes what the brief of the day says.
    """
    end = pl.coalesce("last", "date")
    covering = findings.filter(
        pl.any_horizontal(
            [(pl.col("date") <= day) & (end >= day) for day in sessions] or [pl.lit(False)]
        )
    )
    if covering.is_empty():
        return
    row = covering.sort("date", descending=True).row(0, named=True)
    src = Source("bars", (sheet.ticker,), row["date"], sheet.as_of)
    words = SUSPECT_WORDS.get(row["kind"], row["kind"].replace("_", " "))
    sheet.add(
        "suspect_bar",
        words,
        "text",
        src,
        f"flagged by the checks of `stockbrief doctor` on the bars stored up to the day: "
        f"{row['message']}",
    )
    sheet.add("suspect_bar_date", row["date"], "date", src, "the session of the flagged bar")


def add_market_cap(
    sheet: FactSheet, kpis: pl.DataFrame, actions: pl.DataFrame, close: float
) -> None:
    """The market value on the sheet's day: the latest shares outstanding known by then,
    restated for the splits since they were counted, times the day's close.

    ``kpis`` and ``actions`` are the rows known on the day (a filing made later is not among
    them); nothing is added without a count from the last :data:`SHARES_MAX_AGE`.
    """
    day = sheet.as_of
    shares = kpis.filter(
        (pl.col("name") == SHARES_KPI)
        & (pl.col("period_end") <= day)
        & (pl.col("period_end") >= day - SHARES_MAX_AGE)
        & (pl.col("value") > 0)
    ).sort("period_end")
    if shares.is_empty():
        return
    latest = shares.row(-1, named=True)
    counted: dt.date = latest["period_end"]
    splits = actions.filter(
        (pl.col("kind") == "split") & (pl.col("date") > counted) & (pl.col("date") <= day)
    )["value"].to_list()
    factor = 1.0
    for ratio in splits:
        factor *= ratio
    known = latest["known_at"]
    known_text = f", known from {known.date().isoformat()}" if known is not None else ""
    split_text = f" \u00d7 {factor:g} for the splits since" if splits else ""
    sheet.add(
        "market_cap",
        latest["value"] * factor * close,
        "currency",
        Source("kpis", (sheet.ticker,), counted, day),
        f"shares outstanding on {counted.isoformat()} ({latest['value']:,.0f}, source"
        f" {latest['source'] or 'not stated'}{known_text}){split_text}"
        f" \u00d7 close on {day.isoformat()}",
    )


_SWING_RULE: Final = (
    f"swing highs (lows): a high above (low below) the {levels.SWING_SPAN} sessions before it"
    f" and not exceeded by the {levels.SWING_SPAN} after it, in the {levels.SWING_LOOKBACK}"
    f" sessions up to the day; swings within {levels.SWING_TOLERANCE:.1%} of the lowest of them"
    " form one level, the mean of their prices"
)


def add_levels(sheet: FactSheet, frame: pl.DataFrame) -> None:
    """The price levels of the day (pivots, swing levels, round numbers) and the level to
    watch above and below the close, chosen by :func:`stockbrief.levels.watch` among them and
    the moving averages and 52-week extremes already on the sheet. Bars up to the day only."""
    close = sheet.value("close")
    if close is None or frame.height == 0:
        return
    ticker, day = sheet.ticker, sheet.as_of
    dates: list[dt.date] = frame["date"].to_list()
    o, h, lo, c = (frame[k].cast(pl.Float64).to_numpy() for k in ("open", "high", "low", "close"))
    one = Source("bars", (ticker,), day, day)
    week = levels.previous_week(dates, o, h, lo, c)
    if week is not None:
        weekly = levels.pivots(week.high, week.low, week.close, week.open, "classic")
        sheet.add(
            "pivots_week",
            [{"level": k, "value": weekly[k]} for k in levels.WEEKLY_PIVOTS_WATCHED],
            "list",
            Source("bars", (ticker,), week.start, week.end),
            "classic pivot points of the week from the high, low and close of the week before"
            f" ({week.start.isoformat()} to {week.end.isoformat()}): P = (H + L + C) / 3,"
            " R1 = 2P - L, S1 = 2P - H, R2 = P + (H - L), S2 = P - (H - L)",
        )
    swings = levels.swing_levels(dates, h, lo)
    first = dates[max(0, len(dates) - levels.SWING_LOOKBACK)]
    year = Source("bars", (ticker,), first, day)
    sheet.add(
        "swing_levels",
        [
            {"value": s.value, "touches": s.touches, "kind": s.kind, "last_touch": s.last_touch}
            for s in swings
            if s.touches >= levels.MIN_TOUCHES
        ]
        or None,
        "list",
        year,
        f"{_SWING_RULE}; levels of {levels.MIN_TOUCHES} or more swings, most touches first",
    )
    below, above = levels.round_levels(close)
    step = levels.round_step(close)
    rule = f"multiples of {step:g}, the largest 1-2.5-5 step within 10% of the close"
    sheet.add("round_below", below, "currency", one, f"round number at or below the close: {rule}")
    sheet.add("round_above", above, "currency", one, f"round number above the close: {rule}")
    marks = {k: sheet.value(k) for k in ("sma_50", "sma_200", "high_52w", "low_52w")}
    found = levels.candidates(close, averages=marks, swings=swings, week=week)
    for side, level in zip(("above", "below"), levels.watch(close, found), strict=True):
        if level is not None:
            _add_watched(sheet, side, level, sheet.facts, year)


def _add_watched(
    sheet: FactSheet,
    side: str,
    level: levels.Candidate,
    known: Mapping[str, Fact],
    year: Source,
) -> None:
    """One level to watch as facts: its value, what it is, and for a swing level its touches."""
    role = "resistance" if side == "above" else "support"
    why = (
        f"the nearest level {'above' if side == 'above' else 'at or below'} the close ({role}):"
        " moving averages, 52-week extremes and swing levels within"
        f" {levels.WATCH_REACH:.0%} of the close, else the previous week's classic pivots and"
        " round numbers"
    )
    if level.name in known:
        source, what = known[level.name].source, f"the {level.name}: {known[level.name].formula}"
    elif level.name.startswith("pivot_week"):
        source, what = (
            known["pivots_week"].source,
            f"classic weekly pivot {level.name[11:].upper()}",
        )
    elif level.name == "round":
        source, what = (
            known["round_above" if side == "above" else "round_below"].source,
            "a round number",
        )
    else:
        source, what = year, f"a swing level ({_SWING_RULE})"
    sheet.add(f"level_{side}", level.value, "currency", source, f"{why}; here {what}")
    sheet.add(f"level_{side}_kind", level.name, "text", source, "what the level is")
    sheet.add(f"level_{side}_touches", level.touches, "count", year, "swings that make the level")
    sheet.add(
        f"level_{side}_last_touch", level.last_touch, "date", year, "the level's latest swing"
    )


BREAKDOWNS: Final = ("revenue_segment", "revenue_region", "revenue_product")
"""Revenue breakdowns a filing tags (by segment, region, product line), in the order a brief
prefers one of them: a note names one breakdown, not three views of the same sales."""


def _breakdown_of_latest_period(metrics: pl.DataFrame) -> pl.DataFrame:
    """The metrics with one revenue breakdown only: of the most recent period any breakdown
    covers, the first of :data:`BREAKDOWNS` tagged for it (quarter or year alike)."""
    axis = pl.col("name").str.extract(r"^(?:quarterly_)?(revenue_[a-z]+):", 1)
    marked = metrics.with_columns(axis.alias("_axis"))
    parts = marked.filter(pl.col("_axis").is_in(BREAKDOWNS))
    if parts.is_empty():
        return metrics
    latest = parts["period_end"].max()
    recent = parts.filter(pl.col("period_end") == latest)
    chosen = next(b for b in BREAKDOWNS if b in set(recent["_axis"].to_list()))
    kept = recent.filter(pl.col("_axis") == chosen)
    rest = marked.filter(pl.col("_axis").is_null() | ~pl.col("_axis").is_in(BREAKDOWNS))
    return pl.concat([rest, kept]).drop("_axis")
