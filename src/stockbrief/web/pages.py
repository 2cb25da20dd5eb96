"""What each page and JSON endpoint shows, built from the API's results and nothing else.

View-models hold plain, already formatted text; the templates only lay it out and escape it (the
environment autoescapes everything, and nothing here is marked safe). Every function takes the
store path and passes it through to :mod:`stockbrief.api`, which opens it read-only per call.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlencode

import polars as pl
from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined

from stockbrief import api
from stockbrief.detectors import MEANINGS
from stockbrief.errors import InputError
from stockbrief.peers import tone
from stockbrief.screening import PRESETS
from stockbrief.text import strip_controls
from stockbrief.web import market

Lang = Literal["en", "de"]
"""Languages of a brief (``stockbrief.notes.narrative.LANGS``; a test keeps them equal)."""

TICKER: Final = re.compile(r"\^?[A-Za-z0-9][A-Za-z0-9.\-=]{0,19}")
"""A ticker as a URL may carry it: letters, digits and ``. - = ^``, at most 20 characters."""

NEWS_DAYS: Final = 7
"""Days of news, up to the session, the ticker page lists."""

CHART_COLUMNS: Final = ("date", "open", "high", "low", "close", "volume", "sma_50", "sma_200")
"""What ``/api/bars`` returns per session: the candles, the volume and the two averages."""

MISSING: Final = "\N{EN DASH}"
"""What a table shows for a value that is not there."""
TIMES: Final = "\N{MULTIPLICATION SIGN}"

_WEB_URL: Final = re.compile(r"https?://", re.IGNORECASE)


# -- input -----------------------------------------------------------------------------------


def ticker_of(raw: str) -> str:
    """The upper-cased ticker of a URL, or an :class:`InputError` before anything reads it."""
    if not TICKER.fullmatch(raw):
        raise InputError(
            f"invalid ticker {raw!r}: use letters, digits and . - = ^ (at most 20 characters)",
            field="ticker",
        )
    return raw.upper()


def nearest_tickers(store: Path, raw: str, n: int = 5) -> list[str]:
    """Stored tickers nearest to what was typed (the ticker itself first when stored), by
    ticker and by company name ("alibaba" finds BABA), from the stored summary only."""
    import difflib

    wanted = raw.strip().upper()
    tickers = api.info(store)["ticker"].to_list()
    if wanted in tickers:
        return [wanted]
    with api.using_store(store, read_only=True) as db:
        names = {
            str(r["name"]).upper(): r["ticker"]
            for r in db.securities().iter_rows(named=True)
            if r["name"] and r["ticker"] in tickers
        }
    by_name = [names[m] for m in difflib.get_close_matches(wanted, list(names), n=n, cutoff=0.6)]
    starting = [t for t in tickers if wanted and t.startswith(wanted)]
    close = difflib.get_close_matches(wanted, tickers, n=n, cutoff=0.5)
    return list(dict.fromkeys([*by_name, *starting, *close]))[:n]


def date_of(raw: str | None, field: str = "as_of") -> dt.date | None:
    """A ``YYYY-MM-DD`` query value; empty (an unfilled form field) means none."""
    if raw is None or not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"{raw!r} is not a date; use YYYY-MM-DD", field=field) from None


# -- formatting ------------------------------------------------------------------------------


def finite(value: Any) -> bool:
    """Whether a value is a number a table can show (not None, NaN, infinite or a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def money(value: Any, currency: str) -> str:
    """``$155.74``; :data:`MISSING` when there is no value."""
    return format_currency(value, currency, locale="en_US") if finite(value) else MISSING


def percent(value: Any, *, signed: bool = False) -> str:
    """A fraction as a percentage: ``0.0625`` -> ``6%``, or ``+6.2%`` when signed."""
    if not finite(value):
        return MISSING
    return f"{value:+.1%}" if signed else f"{value:.0%}"


def number(value: Any) -> str:
    """A count or measure for a table: integers with separators, others to 4 significant digits."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return MISSING
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"
    return str(value)


def fact_value(value: Any, unit: str, currency: str) -> str:
    """A brief fact in its unit, as the facts table shows it."""
    if unit == "currency":
        return money(value, currency)
    if unit == "fraction":
        return percent(value, signed=True)
    if unit == "ratio":
        return f"{value:.2f}{TIMES}" if finite(value) else MISSING
    if unit == "index":
        return f"{value:.1f}" if finite(value) else MISSING
    if unit in ("shares", "count"):
        return f"{value:,.0f}" if finite(value) else MISSING
    if isinstance(value, dt.date):
        return value.isoformat()
    return number(value) if not isinstance(value, str) else value


def web_url(url: Any) -> str | None:
    """A stored link, only when it is http(s): a ``javascript:`` URL stays text, never a link."""
    return url if isinstance(url, str) and _WEB_URL.match(url) else None


# -- JSON ------------------------------------------------------------------------------------


SIGNIFICANT: Final = 7
"""Digits a float keeps in JSON: prices are stored as float32, whose seven digits are all it
has, so ``155.74000549316406`` goes out as ``155.74``."""


def plain(value: Any) -> Any:
    """Data JSON can carry: dates as ISO text, NaN and infinities as null, floats rounded to
    :data:`SIGNIFICANT` digits."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT}g}") if math.isfinite(value) else None
    return value


def to_json(data: Any) -> bytes:
    """Compact UTF-8 JSON of :func:`plain` data; refuses anything else rather than guessing."""
    return json.dumps(plain(data), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = plain(frame.to_dicts())
    return rows


def _events(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{**row, "detail": json.loads(row["detail"] or "{}")} for row in _rows(frame)]


def tickers_json(store: Path) -> dict[str, Any]:
    """Every stored ticker with its first and last session and its number of bars."""
    info = api.info(store)
    return {"tickers": _rows(info.select("ticker", "first", "last", "bars"))}


def bars_json(
    store: Path, ticker: str, as_of: dt.date | None, start: dt.date | None = None
) -> dict[str, Any]:
    """Bars from ``start`` up to ``as_of`` with the 50- and 200-day simple moving averages
    (null in warm-up).

    Prices are adjusted for the splits known on ``as_of``, as the brief quotes them.
    """
    frame = api.indicators(ticker, as_of=as_of, store=store)
    last = frame["date"].max()
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    return {
        "ticker": ticker,
        "as_of": last,
        "from": start,
        "columns": list(CHART_COLUMNS),
        "bars": _rows(frame.select(CHART_COLUMNS)),
    }


def brief_json(store: Path, ticker: str, as_of: dt.date | None, lang: Lang) -> dict[str, Any]:
    """The brief's JSON form: facts with sources and formulas, events, verdict, sections."""
    return api.brief(ticker, as_of=as_of, lang=lang, store=store).to_json()


def events_json(
    store: Path, tickers: list[str] | None, as_of: dt.date | None, since: dt.date | None
) -> dict[str, Any]:
    """Events from ``since`` to ``as_of`` (every stored one when both are open)."""
    frame = api.events(tickers, as_of=as_of, since=since, store=store)
    return {"as_of": as_of, "since": since, "events": _events(frame)}


def screen_json(store: Path, query: str, as_of: dt.date | None, sort: str | None) -> dict[str, Any]:
    """The rows a screen expression or preset name matches on the session of ``as_of``."""
    frame = api.screen(query, as_of=as_of, sort=sort, store=store)
    session = frame["date"].max() if frame.height else None
    return {"query": query, "as_of": as_of, "session": session, "rows": _rows(frame)}


# -- presets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresetRow:
    name: str
    expression: str
    description: str
    tickers: list[str]


# -- ticker page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionView:
    key: str
    title: str
    text: str


@dataclass(frozen=True)
class EvidenceRow:
    setup: str
    scope: str
    n: str
    horizon: str
    rose: str
    interval: str
    base: str
    mean: str
    strength: str


@dataclass(frozen=True)
class FirmRow:
    firm: str
    date: str
    rating: str
    target: str


@dataclass(frozen=True)
class ConsensusView:
    label: str
    target_mean: str
    upside: str
    close: str
    method: str
    firms: list[FirmRow]


@dataclass(frozen=True)
class NewsRow:
    published: str
    source: str
    headline: str
    url: str | None
    about: str
    role: str
    tone: str
    sentiment: str


@dataclass(frozen=True)
class FactRow:
    name: str
    value: str
    formula: str
    source: str


@dataclass(frozen=True)
class VoteRow:
    indicator: str
    value: str
    vote: str


@dataclass(frozen=True)
class RatingView:
    """The technical rating of the session: TradingView's method, shown as a cross-check."""

    summary: str
    label: str
    ma: str
    ma_label: str
    oscillators: str
    oscillators_label: str
    ma_votes: list[VoteRow]
    oscillator_votes: list[VoteRow]
    method: str


@dataclass(frozen=True)
class TickerPage:
    ticker: str
    name: str
    as_of: dt.date
    lang: Lang
    headline: str
    lean: str
    strength: str
    events: list[tuple[str, str]]
    """The day's events in a few words, and what each means."""
    sections: list[SectionView]
    evidence: list[EvidenceRow]
    evidence_method: str | None
    consensus: ConsensusView | None
    news: list[NewsRow]
    news_days: int
    facts: list[FactRow]
    rating: RatingView | None = None


def _evidence_rows(evidence: dict[str, Any] | None) -> list[EvidenceRow]:
    rows = []
    for row in (evidence or {}).get("setups", []):
        rows.append(
            EvidenceRow(
                setup=str(row["setup"]),
                scope=str(row["scope"]),
                n=number(row["n"]),
                horizon=f"{row['horizon']} sessions",
                rose=percent(row["rose_pct"]),
                interval=f"{percent(row['ci_low'])} to {percent(row['ci_high'])}",
                base=percent(row["base_pct"]),
                mean=percent(row["mean"], signed=True),
                strength=str(row.get("strength", "")),
            )
        )
    return rows


def _consensus(store: Path, ticker: str, day: dt.date, currency: str) -> ConsensusView | None:
    view = api.analyst_view(ticker, as_of=day, store=store)
    if view is None:
        return None
    firms = [
        FirmRow(f.firm, f.date.isoformat(), f.rating, money(f.target, currency))
        for f in sorted(view.firms, key=lambda f: (-(f.target or 0.0), f.firm))
    ]
    return ConsensusView(
        label=view.label or MISSING,
        target_mean=money(view.target_mean, currency),
        upside=percent(view.upside, signed=True),
        close=money(view.close, currency),
        method=view.method(),
        firms=firms,
    )


def _news(store: Path, ticker: str, day: dt.date) -> list[NewsRow]:
    frame = api.news(ticker, as_of=day, days=NEWS_DAYS, store=store)
    return [
        NewsRow(
            published=f"{row['published_at']:%Y-%m-%d %H:%M} UTC",
            source=row["source"] or "",
            headline=row["headline"],
            url=web_url(row.get("url")),
            about=row["about"],
            role=row["role"],
            tone=tone(row["sentiment"]),
            sentiment=f"{row['sentiment']:+.2f}" if finite(row["sentiment"]) else MISSING,
        )
        for row in frame.iter_rows(named=True)
    ]


def _facts(facts: dict[str, Any], currency: str) -> list[FactRow]:
    rows = []
    for name, fact in facts.items():
        if fact["unit"] == "list":
            continue  # Lists (targets, news, peers, KPIs) have their own panels.
        source = fact["source"]
        start, end = source["from"], source["to"]
        span = f"{start} to {end}" if start != end else (start or "")
        rows.append(
            FactRow(
                name=name,
                value=fact_value(fact["value"], fact["unit"], currency),
                formula=fact["formula"],
                source=f"{source['table']} {', '.join(source['tickers'])} {span}".strip(),
            )
        )
    return rows


def _signed(value: Any) -> str:
    """A rating from -1 to 1 with its sign and two decimals: ``+0.39``."""
    return f"{value:+.2f}" if finite(value) else MISSING


def _vote_rows(items: Any) -> list[VoteRow]:
    return [
        VoteRow(
            indicator=str(item["indicator"]),
            value=f"{item['value']:,.2f}" if finite(item["value"]) else MISSING,
            vote=str(item["vote"]) if item["vote"] is not None else MISSING,
        )
        for item in items or []
    ]


def _rating(facts: dict[str, Any]) -> RatingView | None:
    """The rating facts of a brief (:mod:`stockbrief.notes.rating_facts`), when it has them."""
    if "rating_summary" not in facts:
        return None

    def value(name: str) -> Any:
        fact = facts.get(name)
        return fact["value"] if fact else None

    return RatingView(
        summary=_signed(value("rating_summary")),
        label=str(value("rating_label") or MISSING),
        ma=_signed(value("rating_ma")),
        ma_label=str(value("rating_ma_label") or MISSING),
        oscillators=_signed(value("rating_oscillators")),
        oscillators_label=str(value("rating_oscillators_label") or MISSING),
        ma_votes=_vote_rows(value("rating_ma_votes")),
        oscillator_votes=_vote_rows(value("rating_oscillator_votes")),
        # The label fact's formula ends with its scheme and bounds, which the page quotes.
        method=str(facts["rating_label"]["formula"]).split("; ", 1)[-1]
        if "rating_label" in facts
        else "",
    )


def ticker_page(store: Path, ticker: str, as_of: dt.date | None, lang: Lang) -> TickerPage:
    """The brief of one session with its evidence, the analysts' view and the news."""
    note = api.brief(ticker, as_of=as_of, lang=lang, store=store)
    currency = note.sheet.currency
    data = note.to_json()
    evidence = note.verdict.evidence
    return TickerPage(
        ticker=note.ticker,
        name=note.sheet.name,
        as_of=note.as_of,
        lang=lang,
        headline=note.headline,
        lean=note.verdict.lean,
        strength=note.verdict.strength,
        events=[
            (market.LABELS.get(kind, kind.replace("_", " ")), MEANINGS.get(kind, ""))
            for kind in note.events.filter(pl.col("date") == note.as_of)["kind"].to_list()
        ],
        sections=[SectionView(s.key, s.title, s.text) for s in note.sections],
        evidence=_evidence_rows(evidence),
        evidence_method=str(evidence["method"]) if evidence else None,
        consensus=_consensus(store, note.ticker, note.as_of, currency),
        news=_news(store, note.ticker, note.as_of),
        news_days=NEWS_DAYS,
        facts=_facts(data["facts"], currency),
        rating=_rating(data["facts"]),
    )


# -- screener page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreenRow:
    ticker: str
    cells: list[str]
    values: list[float | str | None] = field(default_factory=list)
    """What a sort compares, cell by cell."""


@dataclass(frozen=True)
class SavedScreenRow:
    name: str
    expression: str
    saved_at: str
    href: str


@dataclass(frozen=True)
class ScreenPage:
    query: str
    as_of: dt.date | None
    session: dt.date | None
    columns: list[str]
    rows: list[ScreenRow]
    error: str | None
    presets: list[PresetRow]
    fields: tuple[tuple[str, str], ...] = ()
    sort: str | None = None
    """The column the rows are sorted by, largest first (None: by ticker)."""
    saved: str | None = None
    """The name of the saved screen shown, if one is."""
    shown: list[str] = field(default_factory=list)
    """The columns the saved screen shows (empty: every column, or the reader's choice)."""
    saved_screens: list[SavedScreenRow] = field(default_factory=list)


SCREEN_FIELDS: Final = (
    ("close", "close"),
    ("pct(close, sma_50)", "distance to SMA 50"),
    ("pct(close, sma_200)", "distance to SMA 200"),
    ("return_1d", "change (1 day)"),
    ("rel_volume", "relative volume"),
    ("volume", "volume"),
    ("rsi_14", "RSI 14"),
    ("sma_50", "SMA 50"),
    ("sma_200", "SMA 200"),
    ("high_52w", "52-week high"),
    ("low_52w", "52-week low"),
    ("atr_14", "ATR 14"),
    ("roc_12", "rate of change 12"),
)
"""The filter builder's fields: (what it writes into the expression, what it shows)."""


def _sort_value(value: Any) -> float | str | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return float(value)
    return float(f"{value:.6g}") if finite(value) else None


def screen_csv(store: Path, query: str, as_of: dt.date | None, sort: str | None) -> str:
    """The rows a screen matches as CSV (written by Polars), as ``stockbrief screen --format
    csv`` writes them."""
    frame = api.screen(query, as_of=as_of, sort=sort, store=store)
    return pl.DataFrame(frame).write_csv()


def presets() -> list[PresetRow]:
    """The named screens, without running them."""
    return [PresetRow(n, e, d, []) for n, (e, d) in PRESETS.items()]


def saved_screen_rows(store: Path) -> list[SavedScreenRow]:
    """The saved screens as the screener lists them, each linking to its results."""
    return [
        SavedScreenRow(
            s.name,
            s.expression,
            f"{s.saved_at:%Y-%m-%d %H:%M} UTC" if s.saved_at else "",
            "/screen?" + urlencode({"saved": s.name}),
        )
        for s in api.saved_screens(store=store)
    ]


def screen_page(
    store: Path,
    query: str,
    as_of: dt.date | None,
    error: str | None = None,
    sort: str | None = None,
    saved: str | None = None,
) -> ScreenPage:
    """The form, and the rows a screen matches when a query (or a saved screen's name) is
    given, sorted by ``sort`` (largest first) when one is.

    Raises
    ------
    InputError
        The expression does not parse (``ScreenError``, whose message points at the token),
        or ``sort`` is not one of its columns.
    NotFoundError
        There is no saved screen named ``saved``.
    """
    kept = saved_screen_rows(store)
    shown: list[str] = []
    if saved is not None:
        found = api.saved_screen(saved, store=store)
        query, sort, shown = found.expression, found.sort, list(found.columns)
    empty = ScreenPage(query, as_of, None, [], [], error, presets(), SCREEN_FIELDS, sort, saved)
    if error is not None or not query.strip():
        return replace(empty, saved_screens=kept)
    frame = api.screen(query.strip(), as_of=as_of, sort=sort, store=store)
    columns = [c for c in frame.columns if c != "ticker"]
    rows = [
        ScreenRow(
            row["ticker"],
            [
                row[c].isoformat() if isinstance(row[c], dt.date) else number(row[c])
                for c in columns
            ],
            [_sort_value(row[c]) for c in columns],
        )
        for row in frame.iter_rows(named=True)
    ]
    session = frame["date"].max() if frame.height else None
    return replace(
        empty,
        session=session if isinstance(session, dt.date) else None,
        columns=columns,
        rows=rows,
        shown=[c for c in shown if c in columns],
        saved_screens=kept,
    )


# -- templates -------------------------------------------------------------------------------


def _printable(value: Any) -> Any:
    # Markup (a macro's output) is already escaped; plain text is escaped after this.
    return strip_controls(value) if type(value) is str else value


_ENV: Final = Environment(
    loader=PackageLoader("stockbrief.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_printable,
)


def render(template: str, **context: Any) -> str:
    """A page from ``web/templates``; every value is escaped on output, without terminal
    escape sequences or control characters (:func:`stockbrief.text.strip_controls`)."""
    return _ENV.get_template(template).render(**context)
