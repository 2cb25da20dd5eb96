"""What a recorded Yahoo Finance download holds, read into the model's frames: pure, no I/O.

:meth:`stockbrief.sources.yahoo.YahooSource.fetch_raw` writes the payload; :func:`parse_payload`
undoes Yahoo's split adjustment, validates every section into the model schemas and derives
what the payload does not state (a KPI's year-on-year change from the stored periods, the day a
figure became known), so a stored download replays exactly.

The payload, format 1 (keys inside ``history`` and the analyst records are yfinance's own)::

    {
      "provider": "yahoo", "format": 1, "yfinance": "1.7.0",
      "fetched_at": "2020-09-05T14:00:00Z",          # UTC, taken before the first request
      "auto_adjust": false,                          # yfinance's setting; absent means false
      "since": "2020-08-03",
      "tickers": {
        "AAPL": {
          "timezone": "America/New_York",            # the exchange's, from the chart metadata
          "currency": "USD",
          "session_end": "2020-09-04T20:00:00Z",      # end of Yahoo's current regular session
          "history": [{"Date": "2020-08-03", "Open": 108.2, "High": ..., "Low": ...,
                       "Close": ..., "Adj Close": ..., "Volume": 308151200,
                       "Dividends": 0.0, "Stock Splits": 0.0}, ...],
          "upgrades_downgrades": [{"GradeDate": "2020-09-01T11:02:41Z", "Firm": ...,
                                   "ToGrade": ..., "FromGrade": ..., "Action": "main",
                                   "priceTargetAction": ..., "currentPriceTarget": ...,
                                   "priorPriceTarget": ...}, ...],
          "recommendations": [{"period": "0m", "strongBuy": 8, "buy": 21, "hold": 9,
                               "sell": 1, "strongSell": 1}, ...],
          "analyst_price_targets": {"current": ..., "high": ..., "low": ...,
                                    "mean": ..., "median": ...},
          # The sections below may be absent (payloads recorded before them): nothing then.
          "profile": {"longName": ..., "quoteType": "EQUITY", "exchange": "NMS",
                      "currency": "USD", "financialCurrency": "USD", "sector": ...,
                      "industry": ..., "industryKey": "consumer-electronics", ...},
          "news": [...],                            # Ticker.news's items as yfinance gives them
          "income_stmt": {"2024-09-30": {"Total Revenue": ..., "Operating Income": ...,
                                         "Net Income": ..., "Diluted EPS": ..., ...}, ...},
          "quarterly_income_stmt": {...},           # the same, by quarter
          "earnings_dates": [{"Earnings Date": "2024-10-31T20:30:00Z",
                              "EPS Estimate": ..., "Reported EPS": ...}, ...],
          "industry_top": [{"symbol": "SONY", "name": ..., "rating": ...,
                            "market weight": ...}, ...],
          "fetched_at": "2020-09-05T14:00:00Z"      # only in a section read from the cache
        }
      }
    }
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import polars as pl

from stockbrief import calendar, model
from stockbrief.errors import InputError
from stockbrief.sources.validate import (
    FILE,
    ROW,
    Check,
    ExchangeOf,
    parse_actions,
    parse_bars,
    parse_dates,
    parse_numbers,
    run_checks,
)

SOURCE_NAME: Final = "yahoo"
"""The ``source`` of consensus rows, and the ``provider`` of payloads."""

PAYLOAD_FORMAT: Final = 1
"""Version of the payload layout written by :meth:`YahooSource.fetch_raw`."""

PriceBasis = Literal["traded", "adjusted"]

PRICE_DIGITS: Final = 7
"""Significant digits kept in prices and dividends.

Yahoo's chart API sends prices as 32-bit floats (``124.80750274658203`` for ``124.8075``), which
hold 7 significant digits; rounding to them recovers the quoted decimal and absorbs the error of
scaling a split-adjusted price back to the traded one.
"""

ACTION_WORDS: Final[dict[str, str]] = {
    "up": "upgrade",
    "down": "downgrade",
    "init": "initiate",
    "main": "reiterate",
    "reit": "reiterate",
}
"""Yahoo's ``Action`` codes in the model's vocabulary; any other code becomes null (unknown)."""

HISTORY_FIELDS: Final = (
    "Date",
    "Open",
    "High",
    "Low",
    "Close",
    "Volume",
    "Dividends",
    "Stock Splits",
)
"""Keys every history record must have (``Adj Close`` and others are kept but not read)."""

RATING_FIELDS: Final = ("GradeDate", "Firm", "ToGrade", "FromGrade", "Action")
RATING_TARGETS: Final = ("currentPriceTarget", "priorPriceTarget")
COUNT_FIELDS: Final[dict[str, str]] = {
    "strongBuy": "strong_buy",
    "buy": "buy",
    "hold": "hold",
    "sell": "sell",
    "strongSell": "strong_sell",
}
TARGET_FIELDS: Final[dict[str, str]] = {
    "mean": "target_mean",
    "median": "target_median",
    "high": "target_high",
    "low": "target_low",
}
CURRENT_PERIOD: Final = "0m"
"""Yahoo's label for the current month in the recommendation trend."""

QUOTE_TYPES: Final[dict[str, str]] = {
    "EQUITY": "stock",
    "ETF": "etf",
    "INDEX": "index",
    "MUTUALFUND": "fund",
}
"""Yahoo's ``quoteType`` as the securities ``type``; any other becomes null (unknown)."""

YAHOO_EXCHANGES: Final[dict[str, str]] = {
    "NYQ": "XNYS",
    "NMS": "XNAS",
    "NGM": "XNAS",
    "NCM": "XNAS",
    "NAS": "XNAS",
    "ASE": "XASE",
    "HKG": "XHKG",
    "SHH": "XSHG",
    "SHZ": "XSHE",
    "LSE": "XLON",
    "TYO": "XTKS",
    "GER": "XETR",
}
"""Yahoo's exchange codes as ISO MICs; other codes fall back to the ticker's suffix."""

KPI_LINES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("revenue", ("Total Revenue", "Operating Revenue")),
    ("operating income", ("Operating Income",)),
    ("net income", ("Net Income", "Net Income Common Stockholders")),
    ("diluted EPS", ("Diluted EPS", "Basic EPS")),
)
"""Each KPI and the income-statement lines it is read from, the first present winning."""

KPI_PERIODS: Final = (("quarterly_income_stmt", "Quarterly"), ("income_stmt", "Annual"))
"""Payload statements and the word that starts their KPI names ("Quarterly revenue")."""

REPORT_LAG: Final = dt.timedelta(days=120)
"""Longest wait from a period's end to its earnings release that matches the two."""

YOY_TOLERANCE: Final = dt.timedelta(days=16)
"""How far from exactly one year earlier a period may end and still be "a year ago"."""


@dataclass(frozen=True)
class YahooData:
    """Everything one payload holds, as validated frames of the model schemas.

    Each frame carries the provenance columns ``_file`` (payload section, e.g.
    ``yahoo:AAPL:history``) and ``_row`` (1-based record in that section).

    Attributes
    ----------
    bars
        :data:`~stockbrief.model.BARS`, as traded.
    actions
        :data:`~stockbrief.model.ACTIONS`: splits and dividends as paid.
    ratings
        :data:`~stockbrief.model.RATINGS`, one row per firm and day.
    consensus
        :data:`~stockbrief.model.CONSENSUS`, one row per ticker with a current recommendation
        trend, dated the exchange-local day of the download.
    partial_bars
        Bars left out because their session had not closed when the payload was fetched.
    basis
        ``traded``, or ``adjusted`` when the payload was downloaded with ``auto_adjust``.
    duplicate_ratings
        Records left out because the same firm published again later on the same day.
    """

    bars: pl.DataFrame
    actions: pl.DataFrame
    ratings: pl.DataFrame
    consensus: pl.DataFrame
    partial_bars: int = 0
    duplicate_ratings: int = 0
    basis: PriceBasis = "traded"
    securities: pl.DataFrame = field(default_factory=lambda: _empty(model.SECURITIES))
    """The profile of each ticker Yahoo has one for: :data:`~stockbrief.model.SECURITIES`,
    with the quote type in ``type`` where the model has that column."""
    news: pl.DataFrame = field(default_factory=lambda: _news_frame([]))
    """:data:`~stockbrief.model.NEWS` (``id`` null: derived on store) plus ``tickers``."""
    kpis: pl.DataFrame = field(default_factory=lambda: _empty(model.KPIS))
    """Income-statement KPIs, ``yoy`` null: see :func:`year_on_year`."""
    industry_peers: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_PEERS))
    """Per ticker its industry's top companies (``ticker, industry, peer, name``)."""
    skipped_news: int = 0
    """News records left out: no headline or time, or published after the download."""


# -- parsing: pure -------------------------------------------------------------------------------


def parse_payload(
    raw: Mapping[str, Any], *, exchange_of: ExchangeOf = calendar.exchange_for
) -> YahooData:
    """Validate a payload of :meth:`YahooSource.fetch_raw` into model-schema frames.

    Parameters
    ----------
    raw
        The payload, as returned by ``fetch_raw`` or read back from its JSON.
    exchange_of
        Maps a ticker to the exchange whose sessions its dates must be.

    Returns
    -------
    YahooData
        Bars as traded, splits and dividends as paid, ratings, and the consensus snapshot.

    Raises
    ------
    InputError
        For a malformed payload, naming the section (``yahoo:TICKER:history``), the 1-based
        record and the field; or for rows the validators refuse (a date that is not a session,
        OHLC out of order, ...).

    Notes
    -----
    With ``auto_adjust=False`` Yahoo's open, high, low, close, volume and dividends are
    adjusted for splits (not for dividends). With ``r_s`` the ratio of a split on day ``s``
    and ``F_t = prod(r_s for s > t)`` over the splits in the payload, a bar on day ``t`` is
    stored as traded::

        price_t    = round(yahoo_price_t * F_t, 7 significant digits)
        volume_t   = round(yahoo_volume_t / F_t)
        dividend_t = round(yahoo_dividend_t * F_t, 7 significant digits)

    Yahoo adjusts for every split up to the moment of the download, and the history runs from
    ``since`` to that moment, so the payload holds every split that affects its bars. A
    payload downloaded with ``auto_adjust`` true holds prices adjusted for dividends as well;
    they are kept as Yahoo gives them (``price_t = yahoo_price_t``, volume likewise) and the
    data's ``basis`` is ``adjusted``; its dividends are still stored as paid.

    A bar dated the exchange-local day of the download is left out (and counted in
    ``partial_bars``) unless the payload shows the download came after that session's end, and
    so is a bar whose session, by the exchange calendar, had not closed at ``fetched_at``: an
    unfinished session's bar would be stored as if final. Ratings are dated by the
    exchange-local day of their publication time, so an as-of read cannot see them early.
    The consensus row is dated the exchange-local day of the download; it needs
    Yahoo's current-month (``0m``) recommendation counts, and without them no row is made.
    """
    if not isinstance(raw, Mapping):
        raise InputError("a Yahoo payload must be a JSON object", file=SOURCE_NAME)
    fmt = raw.get("format", PAYLOAD_FORMAT)
    if fmt != PAYLOAD_FORMAT:
        raise InputError(
            f"payload format {fmt!r} is not {PAYLOAD_FORMAT}; upgrade stockbrief or fetch again",
            file=SOURCE_NAME,
            field="format",
        )
    downloaded = _timestamp(raw.get("fetched_at"), SOURCE_NAME, "fetched_at", required=True)
    assert downloaded is not None
    adjusted = raw.get("auto_adjust", False)
    if not isinstance(adjusted, bool):
        raise InputError("must be true or false", file=SOURCE_NAME, field="auto_adjust")
    sections = raw.get("tickers")
    if not isinstance(sections, Mapping):
        raise InputError(
            "missing or not an object: expected tickers mapping each symbol to its data",
            file=SOURCE_NAME,
            field="tickers",
        )

    bars, actions, ratings, consensus = [], [], [], []
    securities, news, kpis, peers = [], [], [], []
    partial = duplicates = skipped = 0
    for name, section in sections.items():
        ticker = _ticker(name)
        label = f"{SOURCE_NAME}:{ticker}"
        if not isinstance(section, Mapping):
            raise InputError("not an object", file=label)
        timezone = section.get("timezone")
        if timezone is not None and not isinstance(timezone, str):
            raise InputError("not a time zone name", file=label, field="timezone")
        # A section read from the cache keeps the time it was downloaded.
        fetched_at = _timestamp(section.get("fetched_at"), label, "fetched_at") or downloaded
        fetch_day = local_date(fetched_at, timezone, label)
        session_end = _timestamp(section.get("session_end"), label, "session_end")
        final = session_end is not None and fetched_at >= session_end

        b, a, dropped = _bars_and_actions(
            section.get("history"), ticker, exchange_of, fetch_day, final, fetched_at, adjusted
        )
        r, repeated = _ratings(section.get("upgrades_downgrades", []), ticker, timezone)
        bars.append(b)
        actions.append(a)
        ratings.append(r)
        consensus.append(
            _consensus(
                section.get("recommendations", []),
                section.get("analyst_price_targets", {}),
                ticker,
                fetch_day,
            )
        )
        partial += dropped
        duplicates += repeated
        profile = section.get("profile", {})
        if not isinstance(profile, Mapping):
            raise InputError("not an object", file=f"{label}:profile")
        currency = section.get("currency")
        securities.append(
            _security(profile, ticker, currency if isinstance(currency, str) else None)
        )
        peers.append(_industry_peers(section.get("industry_top", []), ticker, profile))
        items, left_out = _news(section.get("news", []), ticker, fetched_at)
        news.append(items)
        skipped += left_out
        kpis.append(_kpis(section, ticker, fetched_at, profile))

    return YahooData(
        bars=_stack(bars, model.BARS),
        actions=_stack(actions, model.ACTIONS),
        ratings=_stack(ratings, model.RATINGS),
        consensus=_stack(consensus, model.CONSENSUS),
        partial_bars=partial,
        duplicate_ratings=duplicates,
        basis="adjusted" if adjusted else "traded",
        securities=_stack([f for f in securities if f.height], model.SECURITIES),
        news=pl.concat(news) if news else _news_frame([]),
        kpis=_stack(kpis, model.KPIS),
        industry_peers=pl.concat(peers) if peers else pl.DataFrame(schema=_PEERS),
        skipped_news=skipped,
    )


def _ticker(name: object) -> str:
    if not isinstance(name, str):
        raise InputError("ticker keys must be strings", file=SOURCE_NAME, field="tickers")
    try:
        return calendar.normalize_ticker(name)
    except InputError as exc:
        raise InputError(exc.reason, file=SOURCE_NAME, field="tickers") from None


def _timestamp(
    value: object, label: str, field: str, *, required: bool = False
) -> dt.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive means UTC)."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InputError("missing or not an ISO timestamp", file=label, field=field)
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{value!r} is not an ISO timestamp such as 2020-09-05T14:00:00Z",
            file=label,
            field=field,
        ) from None
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def local_date(at: dt.datetime, timezone: str | None, label: str) -> dt.date:
    """The calendar day at the exchange (UTC when the payload does not name its time zone)."""
    if timezone is None:
        return at.date()
    try:
        day = pl.Series([at]).dt.convert_time_zone(timezone).dt.date()[0]
    except pl.exceptions.PolarsError:
        raise InputError(f"unknown time zone {timezone!r}", file=label, field="timezone") from None
    assert isinstance(day, dt.date)
    return day


def _table(
    records: object, label: str, required: Sequence[str], optional: Sequence[str] = ()
) -> pl.DataFrame:
    """JSON records as a frame of text columns plus ``_row``, refusing missing keys.

    Cells are kept as text so that the validators report a bad value where it is instead of
    Polars failing on a mixed column; floats are written with ``repr``, which round-trips.
    """
    if not isinstance(records, list):
        raise InputError("missing or not a list of records", file=label)
    columns: dict[str, list[str | None]] = {name: [] for name in (*required, *optional)}
    for i, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise InputError("not an object", file=label, row=i)
        for name in required:
            if name not in record:
                raise InputError(
                    f"missing; every record needs {', '.join(required)}",
                    file=label,
                    row=i,
                    field=name,
                )
        for name, cells in columns.items():
            cells.append(_text(record.get(name)))
    frame = pl.DataFrame(
        [pl.Series(name, cells, dtype=pl.String) for name, cells in columns.items()]
    )
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"  # not a number: refused where one is expected
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _bars_and_actions(
    records: object,
    ticker: str,
    exchange_of: ExchangeOf,
    fetch_day: dt.date,
    final: bool,
    fetched_at: dt.datetime,
    adjusted: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Bars and the split and dividend actions, from Yahoo's history.

    Bars are as traded (Yahoo's split adjustment undone), or as Yahoo gives them when the
    payload is ``adjusted``; bars of sessions not closed at ``fetched_at`` are left out and
    counted.
    """
    label = f"{SOURCE_NAME}:{ticker}:history"
    frame = _table(records, label, HISTORY_FIELDS)
    frame = parse_dates(frame, label, "Date")
    frame = parse_numbers(frame, label, HISTORY_FIELDS[1:])
    split, dividend, volume = pl.col("Stock Splits"), pl.col("Dividends"), pl.col("Volume")
    run_checks(
        frame,
        label,
        [
            Check("Stock Splits", split < 0, "must not be negative (0 means no split)"),
            Check("Dividends", dividend < 0, "must not be negative (0 means no dividend)"),
            Check("Volume", volume != volume.round(0), "must be a whole number of shares"),
        ],
    )
    ratio = pl.when(split > 0).then(split).otherwise(1.0)
    frame = frame.sort("Date", maintain_order=True).with_columns(
        ratio.reverse().cum_prod().reverse().shift(-1, fill_value=1.0).alias("__factor")
    )
    factor = pl.col("__factor")
    scale = pl.lit(1.0) if adjusted else factor

    traded = frame.select(
        pl.lit(ticker).alias("ticker"),
        pl.col("Date").alias("date"),
        *(
            (pl.col(y) * scale).round_sig_figs(PRICE_DIGITS).alias(y.lower())
            for y in ("Open", "High", "Low", "Close")
        ),
        (volume / scale).round(0).alias("volume"),
        pl.col(ROW),
    )
    unfinished = pl.col("date") == fetch_day if not final else pl.lit(False)
    kept = traded.filter(~unfinished)
    parsed = parse_bars(kept, label, ticker=ticker, exchange_of=exchange_of, at=fetched_at)
    late = parsed.unfinished.count if parsed.unfinished is not None else 0

    events = pl.concat(
        [
            frame.filter(split > 0).select(
                pl.col("Date").alias("date"),
                pl.lit("split").alias("kind"),
                split.alias("value"),
                pl.col(ROW),
            ),
            frame.filter(dividend > 0).select(
                pl.col("Date").alias("date"),
                pl.lit("dividend").alias("kind"),
                (dividend * factor).round_sig_figs(PRICE_DIGITS).alias("value"),
                pl.col(ROW),
            ),
        ]
    ).sort("date", "kind")
    actions = parse_actions(events, label, ticker=ticker, exchange_of=exchange_of).frame
    return parsed.frame, actions, traded.height - kept.height + late


def _target(column: str) -> pl.Expr:
    """A price target; Yahoo writes 0 when a firm gave none, which becomes null."""
    value = pl.col(column).cast(pl.Float64, strict=False)
    return pl.when(value > 0).then(value).otherwise(None)


def _ratings(records: object, ticker: str, timezone: str | None) -> tuple[pl.DataFrame, int]:
    """One row per firm and day from Yahoo's upgrade/downgrade history.

    A rating is dated the exchange-local day of its publication time, so that a brief as of a
    day sees exactly the ratings published by then wherever the stock trades.
    """
    label = f"{SOURCE_NAME}:{ticker}:upgrades_downgrades"
    frame = _table(records, label, RATING_FIELDS, RATING_TARGETS)
    if frame.is_empty():
        return _empty(model.RATINGS), 0
    moment = pl.Series(
        "__moment",
        [_publication(text) for text in frame["GradeDate"].to_list()],
        dtype=pl.Datetime("us", "UTC"),
    )
    local = moment.dt.convert_time_zone(timezone) if timezone is not None else moment
    frame = parse_dates(frame, label, "GradeDate").with_columns(
        moment, pl.coalesce(local.dt.date(), pl.col("GradeDate")).alias("GradeDate")
    )
    firm = pl.col("Firm").str.strip_chars()
    checks = [Check("Firm", firm.is_null() | (firm == ""), "empty firm")]
    for column in RATING_TARGETS:
        number = pl.col(column).cast(pl.Float64, strict=False)
        given = pl.col(column).is_not_null()
        checks.append(
            Check(column, given & (number.is_null() | ~number.is_finite()), "not a finite number")
        )
        checks.append(Check(column, number < 0, "must not be negative (0 means none)"))
    run_checks(frame, label, checks)

    def grade(column: str) -> pl.Expr:
        text = pl.col(column).str.strip_chars()
        return pl.when(text != "").then(text).otherwise(None)

    rows = frame.select(
        pl.lit(ticker).alias("ticker"),
        firm.alias("firm"),
        pl.col("GradeDate").alias("date"),
        pl.col("Action")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(ACTION_WORDS, default=None)
        .alias("action"),
        grade("ToGrade").alias("rating"),
        grade("FromGrade").alias("prior_rating"),
        _target("currentPriceTarget").alias("target"),
        _target("priorPriceTarget").alias("prior_target"),
        pl.col("__moment"),
        pl.col(ROW),
    )
    # The key is (ticker, firm, date): when a firm published twice in a day, its latest word
    # stands, as it would have by the close.
    latest = (
        rows.sort(
            ["firm", "date", "__moment", ROW],
            descending=[False, False, True, False],
            nulls_last=True,
        )
        .unique(subset=["firm", "date"], keep="first", maintain_order=True)
        .sort(["date", "firm"])
    )
    out = latest.select(
        *(pl.col(n).cast(t) for n, t in model.RATINGS.items()),
        pl.col(ROW),
        pl.lit(label, dtype=pl.Categorical).alias(FILE),
    )
    return out, rows.height - latest.height


def _publication(text: str | None) -> dt.datetime | None:
    """A publication time in UTC (naive means UTC, as yfinance writes it); None for a bare date.

    Unreadable text is left to :func:`~stockbrief.sources.validate.parse_dates`, which names
    the record.
    """
    if text is None or len(text.strip()) <= len("YYYY-MM-DD"):
        return None
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def _consensus(records: object, targets: object, ticker: str, fetch_day: dt.date) -> pl.DataFrame:
    """The current month's recommendation counts and the analysts' targets as one row."""
    label = f"{SOURCE_NAME}:{ticker}:recommendations"
    frame = _table(records, label, ("period", *COUNT_FIELDS))
    current = frame.filter(pl.col("period").str.strip_chars() == CURRENT_PERIOD)
    if current.height > 1:
        raise InputError(
            f"period {CURRENT_PERIOD!r} appears on an earlier record too",
            file=label,
            row=int(current[ROW][1]),
            field="period",
        )
    if current.is_empty():
        return _empty(model.CONSENSUS)
    current = parse_numbers(current, label, list(COUNT_FIELDS))
    run_checks(
        current,
        label,
        [
            Check(f, (pl.col(f) < 0) | (pl.col(f) != pl.col(f).round(0)), "must be a count")
            for f in COUNT_FIELDS
        ],
    )

    target_label = f"{SOURCE_NAME}:{ticker}:analyst_price_targets"
    if targets is None:
        targets = {}
    if not isinstance(targets, Mapping):
        raise InputError("not an object", file=target_label)
    values: dict[str, float | None] = {}
    for key, column in TARGET_FIELDS.items():
        value = targets.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InputError("not a finite number", file=target_label, field=key)
        values[column] = float(value) if value is not None and value > 0 else None

    row = current.select(
        pl.lit(ticker).alias("ticker"),
        pl.lit(fetch_day).alias("date"),
        pl.lit(SOURCE_NAME).alias("source"),
        pl.lit(None, dtype=pl.String).alias("label"),
        *(pl.col(y).alias(m) for y, m in COUNT_FIELDS.items()),
        *(pl.lit(v, dtype=pl.Float64).alias(c) for c, v in values.items()),
        pl.col(ROW),
    )
    return row.select(
        *(pl.col(n).cast(t) for n, t in model.CONSENSUS.items()),
        pl.col(ROW),
        pl.lit(label, dtype=pl.Categorical).alias(FILE),
    )


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return model.empty(schema).with_columns(
        pl.lit(None, dtype=pl.Int64).alias(ROW), pl.lit(None, dtype=pl.Categorical).alias(FILE)
    )


def _stack(frames: list[pl.DataFrame], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.concat(frames) if frames else _empty(schema)


# -- company data: profile, news, income statements, industry peers -------------------------------

_PEERS: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "industry": pl.String(),
    "peer": pl.String(),
    "name": pl.String(),
}


def _words(profile: Mapping[str, Any], key: str, label: str) -> str | None:
    value = profile.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError("not text", file=label, field=key)
    text = " ".join(value.split()) if value else ""
    return text or None


def _security(profile: Mapping[str, Any], ticker: str, traded_in: str | None) -> pl.DataFrame:
    """The securities row of a ticker's profile; no row when Yahoo sent no profile.

    The exchange is the MIC of Yahoo's exchange code, else the one the ticker's suffix names;
    the currency is the quote currency, checked against ISO 4217.
    """
    label = f"{SOURCE_NAME}:{ticker}:profile"
    if not profile:
        return _empty(model.SECURITIES)
    code = _words(profile, "exchange", label)
    try:
        exchange: str | None = calendar.check_exchange(YAHOO_EXCHANGES.get(code or "", ""))
    except InputError:
        try:
            exchange = calendar.exchange_for(ticker)
        except InputError:
            exchange = None
    currency = _words(profile, "currency", label) or traded_in
    if currency is not None:
        try:
            currency = calendar.check_currency(currency)
        except InputError as exc:
            raise InputError(exc.reason, file=label, field="currency") from None
    quote = _words(profile, "quoteType", label)
    values: dict[str, Any] = {
        "ticker": ticker,
        "name": _words(profile, "longName", label) or _words(profile, "shortName", label),
        "exchange": exchange,
        "currency": currency,
        "sector": _words(profile, "sector", label),
        "industry": _words(profile, "industry", label),
        "peer_group": None,
        # Written where the store has the column (the instrument picks the brief's template).
        "type": QUOTE_TYPES.get((quote or "").upper()),
    }
    row = pl.DataFrame(
        {c: [values.get(c)] for c in model.SECURITIES}, schema=dict(model.SECURITIES)
    )
    return row.with_columns(
        pl.lit(1, dtype=pl.Int64).alias(ROW), pl.lit(label, dtype=pl.Categorical).alias(FILE)
    )


def _industry_peers(records: object, ticker: str, profile: Mapping[str, Any]) -> pl.DataFrame:
    """The top companies of the ticker's industry, the ticker itself and bad symbols left out."""
    label = f"{SOURCE_NAME}:{ticker}:industry_top"
    industry = _words(profile, "industryKey", f"{SOURCE_NAME}:{ticker}:profile")
    frame = _table(records, label, ("symbol",), ("name",))
    rows = []
    for symbol, name in frame.select("symbol", "name").iter_rows():
        try:
            peer = calendar.normalize_ticker(symbol or "")
        except InputError:
            continue
        if peer != ticker and industry is not None:
            rows.append((ticker, industry, peer, " ".join((name or "").split()) or None))
    return pl.DataFrame(rows, schema=_PEERS, orient="row").unique("peer", maintain_order=True)


def _news_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        **model.NEWS,
        "tickers": pl.List(pl.String()),
        ROW: pl.Int64(),
        FILE: pl.Categorical(),
    }
    return pl.DataFrame(rows, schema=schema)


def _nested(item: Mapping[str, Any], *path: str) -> Any:
    value: Any = item
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _news(records: object, ticker: str, fetched_at: dt.datetime) -> tuple[pl.DataFrame, int]:
    """Yahoo's news about a ticker: headline, publisher, time, link, summary and subjects.

    Reads both shapes yfinance has returned: ``{"id", "content": {"title", "pubDate",
    "provider": {"displayName"}, "canonicalUrl": {"url"}, "summary", "finance":
    {"stockTickers": [{"symbol"}]}}}`` (yfinance 0.2.50 on) and the older flat ``{"title",
    "providerPublishTime" (epoch seconds), "publisher", "link", "relatedTickers"}``. The
    ticker asked for is a subject of each of its items. Items without a headline or a time,
    or published after the download, are left out and counted.
    """
    label = f"{SOURCE_NAME}:{ticker}:news"
    if not isinstance(records, list):
        raise InputError("missing or not a list of records", file=label)
    rows, skipped = [], 0
    for i, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise InputError("not an object", file=label, row=i)
        item = record.get("content") if isinstance(record.get("content"), Mapping) else record
        assert isinstance(item, Mapping)
        headline = item.get("title")
        stamp = item.get("pubDate") or item.get("displayTime")
        epoch = item.get("providerPublishTime")
        published: dt.datetime | None
        if isinstance(stamp, str):
            published = _timestamp(stamp, label, "pubDate")
        elif isinstance(epoch, int | float) and not isinstance(epoch, bool):
            published = dt.datetime.fromtimestamp(epoch, dt.UTC)
        else:
            published = None
        if not isinstance(headline, str) or not headline.strip() or published is None:
            skipped += 1
            continue
        if published > fetched_at:
            skipped += 1
            continue
        url = (
            _nested(item, "canonicalUrl", "url")
            or _nested(item, "clickThroughUrl", "url")
            or item.get("link")
        )
        source = _nested(item, "provider", "displayName") or item.get("publisher")
        body = item.get("summary") or item.get("description")
        symbols = [_nested(t, "symbol") for t in _nested(item, "finance", "stockTickers") or []]
        symbols += list(item.get("relatedTickers") or [])
        subjects = [ticker]
        for symbol in symbols:
            try:
                subjects.append(calendar.normalize_ticker(symbol))
            except (InputError, AttributeError, TypeError):
                continue
        rows.append(
            {
                "id": None,
                "published_at": published,
                "source": source if isinstance(source, str) else None,
                "headline": " ".join(headline.split()),
                "body": body if isinstance(body, str) and body.strip() else None,
                "url": url if isinstance(url, str) and url.strip() else None,
                "sentiment": None,
                "tickers": list(dict.fromkeys(subjects)),
                ROW: i,
                FILE: label,
            }
        )
    return _news_frame(rows), skipped


def _report_dates(records: object, ticker: str) -> list[dt.datetime]:
    """When Yahoo says each set of results was released, oldest first."""
    label = f"{SOURCE_NAME}:{ticker}:earnings_dates"
    frame = _table(records, label, ("Earnings Date",))
    found = [_timestamp(text, label, "Earnings Date") for text in frame["Earnings Date"]]
    return sorted(f for f in found if f is not None)


def _known_at(
    period_end: dt.date, released: list[dt.datetime], fetched_at: dt.datetime
) -> dt.datetime:
    """When a period's figures became known: the first release after the period's end (within
    :data:`REPORT_LAG`) that was before the download, else the download itself."""
    for moment in released:
        if period_end < moment.date() <= period_end + REPORT_LAG and moment <= fetched_at:
            return moment
    return fetched_at


def _kpis(
    section: Mapping[str, Any], ticker: str, fetched_at: dt.datetime, profile: Mapping[str, Any]
) -> pl.DataFrame:
    """Revenue, operating income, net income and diluted EPS of each quarter and fiscal year.

    Amounts are in the currency the company reports in (``financialCurrency``, which can differ
    from the quote currency: Alibaba reports in CNY). Each row is known from the earnings
    release Yahoo lists after the period's end, else from the download; ``yoy`` is left to
    :func:`year_on_year`, computed from stored periods rather than taken from the provider.
    """
    label = f"{SOURCE_NAME}:{ticker}"
    released = _report_dates(section.get("earnings_dates", []), ticker)
    unit = _words(profile, "financialCurrency", f"{label}:profile") or _words(
        profile, "currency", f"{label}:profile"
    )
    rows = []
    for key, word in KPI_PERIODS:
        statement = section.get(key, {})
        where = f"{label}:{key}"
        if not isinstance(statement, Mapping):
            raise InputError("not an object of periods", file=where)
        for n, (period, lines) in enumerate(statement.items(), start=1):
            try:
                end = dt.date.fromisoformat(str(period))
            except ValueError:
                raise InputError(
                    f"{period!r} is not a period end date (YYYY-MM-DD)", file=where, row=n
                ) from None
            if not isinstance(lines, Mapping):
                raise InputError("not an object of statement lines", file=where, row=n)
            if end > fetched_at.date():
                continue
            for metric, names in KPI_LINES:
                value = next(
                    (
                        lines[name]
                        for name in names
                        if isinstance(lines.get(name), int | float)
                        and not isinstance(lines.get(name), bool)
                        and math.isfinite(lines[name])
                    ),
                    None,
                )
                if value is None:
                    continue
                rows.append(
                    {
                        "ticker": ticker,
                        "period_end": end,
                        "name": f"{word} {metric}",
                        "value": float(value),
                        "unit": unit,
                        "yoy": None,
                        "source": SOURCE_NAME,
                        "known_at": _known_at(end, released, fetched_at),
                        ROW: n,
                        FILE: where,
                    }
                )
    schema = {**model.KPIS, ROW: pl.Int64(), FILE: pl.Categorical()}
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def year_on_year(kpis: pl.DataFrame) -> pl.DataFrame:
    """``yoy`` of each row from the same metric's period ended a year earlier.

    Notes
    -----
    ``yoy = value / value_a_year_earlier - 1``, with "a year earlier" the stored period of the
    same ticker and name whose end lies within :data:`YOY_TOLERANCE` of 365 days before;
    null when there is none or its value is not positive (a change from a loss has no
    meaningful ratio). Rows keep their order and every other column.
    """
    if kpis.is_empty():
        return kpis
    keyed = kpis.with_row_index("__i")
    prior = kpis.select(
        "ticker",
        "name",
        pl.col("period_end").alias("__prior_end"),
        pl.col("value").alias("__prior"),
    ).unique(["ticker", "name", "__prior_end"])
    gap = (pl.col("__prior_end") - (pl.col("period_end") - pl.duration(days=365))).abs()
    nearest = (
        keyed.select("__i", "ticker", "name", "period_end")
        .join(prior, on=["ticker", "name"])
        .filter(gap <= YOY_TOLERANCE)
        .sort("__i", gap)
        .unique("__i", keep="first")
        .select("__i", "__prior")
    )
    change = (
        pl.when(pl.col("__prior") > 0).then(pl.col("value") / pl.col("__prior") - 1).otherwise(None)
    )
    return (
        keyed.join(nearest, on="__i", how="left")
        .with_columns(change.alias("yoy"))
        .sort("__i")
        .select(kpis.columns)
    )
