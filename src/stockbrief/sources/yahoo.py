"""Yahoo Finance through yfinance: daily bars, splits and dividends, analyst ratings, consensus,
and the company: profile, news, income-statement KPIs and its industry's top companies.

The provider follows the three steps of :class:`~stockbrief.sources.base.Source`.
:meth:`YahooSource.fetch_raw` is the only code that talks to Yahoo; it turns what yfinance returns
into one plain JSON document, the *payload*, so a download can be stored and replayed.
:func:`~stockbrief.sources.yahoo_payload.parse_payload`, a pure function of that payload, undoes
Yahoo's split adjustment and validates the rows into the model schemas.

The payload and its format are :mod:`stockbrief.sources.yahoo_payload`'s.

yfinance is an optional dependency (``pip install 'stockbrief[yahoo]'``), imported only when a
download is made, so that parsing stored payloads and the rest of stockbrief work without it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from stockbrief import calendar
from stockbrief.errors import InputError, ProviderError
from stockbrief.sources.base import Parsed, Source
from stockbrief.sources.validate import (
    ExchangeOf,
)
from stockbrief.sources.yahoo_payload import (
    PAYLOAD_FORMAT,
    SOURCE_NAME,
    YahooData,
    local_date,
    parse_payload,
)

INSTALL_HINT: Final = "pip install 'stockbrief[yahoo]'"

AUTO_ADJUST: Final = False
"""yfinance's ``auto_adjust`` for downloads. Off, Yahoo's prices are adjusted for splits only,
which the parser undoes, so bars are stored as traded and the stored actions adjust them on
read. On, prices are also adjusted for dividends, which cannot be undone exactly from a
download: such bars keep Yahoo's adjustment and are stored with the ``adjusted`` basis."""

PROFILE_FIELDS: Final = (
    "longName",
    "shortName",
    "quoteType",
    "exchange",
    "currency",
    "financialCurrency",
    "sector",
    "industry",
    "industryKey",
)
"""Keys of ``Ticker.info`` the payload keeps: the security's profile."""

RETRY_DELAYS: Final = (5.0, 20.0, 60.0)
"""Seconds to wait before each new try when Yahoo answers that it is rate-limiting (HTTP 429);
after the last, the download fails with a one-line error."""

pause: Callable[[float], None] = time.sleep
"""How the retries wait (tests replace it)."""

_log = logging.getLogger(__name__)

_DETAIL_CHARS: Final = 200


class YahooSource(Source[dict[str, Any]]):
    """Daily bars, corporate actions and analyst data of some tickers from Yahoo Finance.

    Parameters
    ----------
    tickers
        Yahoo symbols (``BABA``, ``0700.HK``); checked and upper-cased.
    since
        First day of the daily history.
    session
        HTTP session handed to ``yfinance.Ticker``. yfinance 1.x accepts a ``requests.Session``
        or a ``curl_cffi`` session; ``None`` lets yfinance build its own ``curl_cffi`` session
        that impersonates a browser, which Yahoo throttles least. Pass a session to route,
        record or refuse the traffic (the tests pass one that cannot connect).
    exchange_of
        Maps a ticker to the exchange whose sessions its dates must be.
    cache
        A folder for the raw sections of each ticker. A ticker fetched earlier the same day (at
        its exchange) is read from there instead of Yahoo, unless a session has closed since
        (its final bar is then due) or the cached history starts after ``since``.
    reuse
        Read current sections from ``cache``; when false, download anew (and keep that).
    pause_seconds
        Seconds to wait between two tickers' downloads, to ask Yahoo less often.

    Notes
    -----
    yfinance keeps one process-wide HTTP session: passing ``session`` replaces it for every
    later yfinance call in the process, including ones made without a session. For the same
    reason a download changes yfinance's process-wide error setting while it runs (see
    :meth:`fetch_raw`), so do not run other yfinance code in parallel threads meanwhile.
    """

    def __init__(
        self,
        tickers: Sequence[str],
        since: dt.date,
        session: object | None = None,
        *,
        exchange_of: ExchangeOf = calendar.exchange_for,
        cache: Path | None = None,
        reuse: bool = True,
        pause_seconds: float = 0.0,
    ) -> None:
        names = tuple(dict.fromkeys(calendar.normalize_ticker(t) for t in tickers))
        if not names:
            raise InputError("no tickers given; name at least one Yahoo symbol", field="ticker")
        self.pause_seconds = pause_seconds
        self.tickers: tuple[str, ...] = names
        self.since = since
        self.session = session
        self.exchange_of = exchange_of
        self.cache = cache
        self.reuse = reuse

    def __repr__(self) -> str:
        return f"YahooSource(tickers={list(self.tickers)!r}, since={self.since.isoformat()!r})"

    def fetch_raw(self) -> dict[str, Any]:
        """Download every ticker and return the JSON payload described in the module docstring.

        Raises
        ------
        ProviderError
            When yfinance is not installed, Yahoo cannot be reached or answers with an error,
            or Yahoo does not know a ticker. The message is one line and says what to do.

        Notes
        -----
        yfinance by default logs failures and returns empty tables, which would be
        indistinguishable from a ticker without data; the download therefore runs with
        ``yfinance.config.debug.hide_exceptions`` off (restored afterwards) and turns each
        failure into a :class:`~stockbrief.errors.ProviderError`. Analyst data that Yahoo does
        not have for a ticker (funds, indices) is recorded as empty, not as an error.
        """
        fetched_at = calendar.now()
        tickers: dict[str, Any] = {}
        missing = []
        for ticker in self.tickers:
            cached = self._cached(ticker, fetched_at)
            if cached is None:
                missing.append(ticker)
            else:
                tickers[ticker] = cached
        version = "cached"
        if missing:
            yf = _import_yfinance()
            version = str(getattr(yf, "__version__", "unknown"))
            with _failures_raised(yf):
                for n, ticker in enumerate(missing):
                    if n and self.pause_seconds > 0:
                        pause(self.pause_seconds)
                    tickers[ticker] = _download(yf, ticker, self.since, self.session)
                    self._keep(ticker, tickers[ticker], fetched_at)
        return {
            "provider": SOURCE_NAME,
            "format": PAYLOAD_FORMAT,
            "yfinance": version,
            "fetched_at": _iso_utc(fetched_at),
            "auto_adjust": AUTO_ADJUST,
            "since": self.since.isoformat(),
            "tickers": tickers,
        }

    def _cached(self, ticker: str, now: dt.datetime) -> dict[str, Any] | None:
        """The ticker's section from the cache, with its own ``fetched_at``, if still current."""
        if self.cache is None or not self.reuse:
            return None
        path = self.cache / f"{ticker}.json"
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            section = entry["section"]
            at = dt.datetime.fromisoformat(entry["fetched_at"])
            since = dt.date.fromisoformat(entry["since"])
            zone = section.get("timezone")
            end = section.get("session_end")
            closed = end is not None and at < dt.datetime.fromisoformat(end) <= now
            day = local_date(at, zone, ticker) == local_date(now, zone, ticker)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, InputError):
            return None  # no entry, or one this version cannot read: download anew
        if closed or not day or since > self.since or at > now:
            return None
        first = self.since.isoformat()
        history = [r for r in section.get("history", []) if str(r.get("Date")) >= first]
        return {**section, "history": history, "fetched_at": _iso_utc(at)}

    def _keep(self, ticker: str, section: dict[str, Any], at: dt.datetime) -> None:
        """Write the ticker's section to the cache; a cache that cannot be written is skipped
        (the download stands)."""
        if self.cache is None:
            return
        entry = {"fetched_at": _iso_utc(at), "since": self.since.isoformat(), "section": section}
        path = self.cache / f"{ticker}.json"
        try:
            self.cache.mkdir(parents=True, exist_ok=True)
            part = path.with_suffix(".part")
            part.write_text(json.dumps(entry, allow_nan=False), encoding="utf-8")
            part.replace(path)
        except OSError as exc:
            _log.warning("cannot write the download cache %s: %s", path, exc.strerror)

    def parse(self, raw: dict[str, Any]) -> Parsed:
        """The payload's bars (see :func:`parse_payload`); ``filtered`` counts bars of
        unfinished sessions."""
        data = parse_payload(raw, exchange_of=self.exchange_of)
        return Parsed(data.bars, data.partial_bars)

    def load_all(self) -> YahooData:
        """Download and parse bars, actions, ratings and consensus in one go."""
        return parse_payload(self.fetch_raw(), exchange_of=self.exchange_of)


# -- fetching: the only I/O ----------------------------------------------------------------------


def _import_yfinance() -> Any:
    """yfinance, or a ProviderError saying how to install it."""
    try:
        import yfinance
    except ImportError as exc:
        if exc.name in (None, "yfinance"):
            raise ProviderError(
                f"the Yahoo Finance provider needs yfinance, which is not installed: {INSTALL_HINT}"
            ) from None
        raise ProviderError(
            f"yfinance is installed but cannot be imported ({_one_line(exc)}); "
            f"reinstall it: pip install --force-reinstall 'stockbrief[yahoo]'"
        ) from None
    # yfinance logs without a handler of its own, so Python's last-resort handler would print
    # its retries to stderr next to the one-line error; records still reach configured handlers.
    logger = logging.getLogger("yfinance")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    return yfinance


@contextmanager
def _failures_raised(yf: Any) -> Iterator[None]:
    """Make yfinance raise instead of logging and returning empty tables, then restore it."""
    config = getattr(yf, "config", None)
    if config is None:  # yf.config arrived in yfinance 1.0; before it, failures were hidden
        raise ProviderError(
            f"yfinance {getattr(yf, '__version__', '?')} is too old for stockbrief; "
            "upgrade it: pip install --upgrade 'stockbrief[yahoo]'"
        )
    debug = config.debug
    before = debug.hide_exceptions
    debug.hide_exceptions = False
    # Its warnings ("continuing without crumb") would print beside the one-line error: every
    # failure that matters is raised, and said once.
    logger = logging.getLogger("yfinance")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        debug.hide_exceptions = before
        logger.setLevel(level)


def _answers(yf: Any, ticker: str, since: dt.date, session: object | None, yfe: Any) -> Any:
    """Everything yfinance returns for one ticker, as it returns it."""
    handle = yf.Ticker(ticker, session=session)
    history = handle.history(
        start=since.isoformat(), interval="1d", auto_adjust=AUTO_ADJUST, actions=True
    )
    info = _unless_absent(lambda: handle.info, yfe) or {}
    industry = info.get("industryKey") if isinstance(info, Mapping) else None
    return (
        history,
        handle.history_metadata,
        _unless_absent(lambda: handle.upgrades_downgrades, yfe),
        _unless_absent(lambda: handle.recommendations, yfe),
        _unless_absent(lambda: handle.analyst_price_targets, yfe),
        info,
        _unless_absent(lambda: handle.news, yfe) or [],
        _unless_absent(lambda: handle.income_stmt, yfe),
        _unless_absent(lambda: handle.quarterly_income_stmt, yfe),
        _unless_absent(lambda: handle.earnings_dates, yfe),
        _unless_absent(lambda: yf.Industry(industry, session=session).top_companies, yfe)
        if isinstance(industry, str) and industry
        else None,
    )


def _download(yf: Any, ticker: str, since: dt.date, session: object | None) -> dict[str, Any]:
    """One ticker's section of the payload, trying again while Yahoo is rate-limiting."""
    yfe = importlib.import_module("yfinance.exceptions")
    for delay in (*RETRY_DELAYS, None):
        try:
            answers = _answers(yf, ticker, since, session, yfe)
            break
        except Exception as exc:
            if delay is not None and isinstance(exc, yfe.YFRateLimitError):
                _log.warning(
                    "Yahoo Finance is rate-limiting requests for %s; trying again in %g s",
                    ticker,
                    delay,
                )
                pause(delay)
                continue
            raise _provider_error(exc, ticker, since, yfe) from exc
    history, meta, upgrades, trend, targets, info, news, annual, quarterly, reported, top = answers
    timezone = meta.get("exchangeTimezoneName")
    currency = meta.get("currency")
    period = meta.get("currentTradingPeriod")

    pandas = importlib.import_module("pandas")
    regular = period.get("regular") if isinstance(period, Mapping) else None
    session_end = regular.get("end") if isinstance(regular, Mapping) else None
    if timezone is None and getattr(history.index, "tz", None) is not None:
        timezone = str(history.index.tz)
    return {
        "timezone": None if timezone is None else str(timezone),
        "currency": None if currency is None else str(currency),
        "session_end": _moment(session_end, pandas.isna),
        "history": _records(history, "Date", pandas.isna, day=True),
        "upgrades_downgrades": _records(upgrades, "GradeDate", pandas.isna, day=False),
        "recommendations": _records(trend, None, pandas.isna, day=False),
        "analyst_price_targets": {
            str(k): _jsonable(v, pandas.isna) for k, v in (targets or {}).items()
        },
        "profile": {k: _jsonable(info[k], pandas.isna) for k in PROFILE_FIELDS if k in info},
        "news": [_plain(item) for item in news if isinstance(item, Mapping)],
        "income_stmt": _statement(annual, pandas.isna),
        "quarterly_income_stmt": _statement(quarterly, pandas.isna),
        "earnings_dates": _records(reported, "Earnings Date", pandas.isna, day=False),
        "industry_top": _records(top, "symbol", pandas.isna, day=False),
    }


def _statement(frame: Any, isna: Any) -> dict[str, dict[str, Any]]:
    """A yfinance statement (line items by period-end columns) as period -> line -> value."""
    if frame is None or len(frame) == 0:
        return {}
    return {
        stamp.date().isoformat(): {
            str(line): _jsonable(value, isna) for line, value in frame[stamp].items()
        }
        for stamp in frame.columns
    }


def _plain(value: Any) -> Any:
    """A JSON value of yfinance's news (already parsed JSON), with anything else as text."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _unless_absent(read: Callable[[], Any], yfe: Any) -> Any:
    """Read analyst data; None when Yahoo has none for the ticker, any other failure raised."""
    try:
        return read()
    except (KeyError, IndexError, TypeError, yfe.YFDataException):
        # yfinance's own signals that the quoteSummary module is missing or empty.
        return None
    except OSError as exc:
        # Yahoo answers 404 "No fundamentals data found" for funds and indices.
        if _http_status(exc) == 404:
            return None
        raise


def _records(frame: Any, index_key: str | None, isna: Any, *, day: bool) -> list[dict[str, Any]]:
    """A pandas frame as JSON records, the index (if named) first as an ISO date or timestamp."""
    if frame is None or len(frame) == 0:
        return []
    out = []
    for stamp, row in zip(frame.index, frame.to_dict(orient="records"), strict=True):
        record: dict[str, Any] = {}
        if index_key is not None:
            # Daily bars are stamped at exchange-local midnight, so the local date is the day.
            record[index_key] = stamp.date().isoformat() if day else _jsonable(stamp, isna)
        record.update({str(k): _jsonable(v, isna) for k, v in row.items()})
        out.append(record)
    return out


def _jsonable(value: Any, isna: Any) -> Any:
    """A scalar from pandas as a JSON value: NaN/NaT/NA -> null, timestamps -> ISO UTC."""
    if value is None or isinstance(value, str | bool):
        return value
    if bool(isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return _iso_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    item = getattr(value, "item", None)
    if callable(item):  # numpy scalars
        value = item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _iso_utc(value: dt.datetime | float) -> str:
    """A timestamp (naive ones are UTC, as yfinance gives them) or epoch seconds, in ISO UTC."""
    if isinstance(value, int | float):
        value = dt.datetime.fromtimestamp(value, dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(value: Any, isna: Any) -> str | None:
    """A timestamp or epoch seconds from yfinance's metadata in ISO UTC; None if not one."""
    if value is None or isinstance(value, bool) or not isinstance(value, dt.datetime | int | float):
        return None
    return None if bool(isna(value)) else _iso_utc(value)


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of a failed request (requests or curl_cffi), if the server answered."""
    code = getattr(getattr(exc, "response", None), "status_code", None)
    # curl reports a failed connection as status 0: no server answered.
    return code if isinstance(code, int) and code >= 100 else None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if not text:
        return type(exc).__name__
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + "…"


def _provider_error(exc: Exception, ticker: str, since: dt.date, yfe: Any) -> ProviderError:
    """One line saying what failed and what to do."""
    detail = _one_line(exc)
    if isinstance(exc, yfe.YFRateLimitError):
        return ProviderError(
            f"Yahoo Finance is rate-limiting requests (HTTP 429) for {ticker}; "
            "wait a few minutes and try again"
        )
    if isinstance(exc, yfe.YFTzMissingError):
        return ProviderError(
            f"Yahoo Finance does not know {ticker} (no exchange time zone; possibly delisted); "
            "check the symbol: listings outside the US carry a suffix such as 0700.HK"
        )
    if isinstance(exc, yfe.YFPricesMissingError):
        reason = getattr(exc, "rationale", detail)
        return ProviderError(
            f"Yahoo Finance has no daily prices for {ticker} since {since.isoformat()}: {reason}; "
            "check the symbol and the start date"
        )
    status = _http_status(exc)
    if status is not None:
        hint = (
            "check the ticker symbol"
            if status in (400, 404)
            else "try again later; upgrading yfinance may help"
        )
        return ProviderError(f"Yahoo Finance answered HTTP {status} for {ticker}: {detail}; {hint}")
    if isinstance(exc, OSError):
        return ProviderError(
            f"cannot reach Yahoo Finance for {ticker}: {detail}; check your network connection"
        )
    if isinstance(exc, yfe.YFException):
        return ProviderError(f"Yahoo Finance failed for {ticker}: {detail}; try again later")
    return ProviderError(
        f"yfinance could not read Yahoo Finance's answer for {ticker}: "
        f"{type(exc).__name__}: {detail}; upgrading yfinance may help"
    )
